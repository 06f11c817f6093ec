//! One sentence-translator run as the [training core](crate::train) drives it: each epoch's
//! length-bucketed batches (seeded by seed + epoch), the teacher-forced (or mixed) loss with
//! label smoothing, the dev loss that chooses the epoch, the dev BLEU it reports, and the save
//! of the kept epoch with its optimiser state and training options.

use std::path::PathBuf;
use std::time::Instant;

use rand::seq::SliceRandom;
use tch::{Kind, Reduction, Tensor};

use super::pairs::Pair;
use super::score::score;
use super::tokenizer::{BOS_ID, PAD_ID};
use super::train::{Encoded, SentenceTrainConfig};
use crate::error::Result;
use crate::seq2seq::{DecodeOptions, Translator};
use crate::train::{self, Epoch, EpochRecord, HeldOut, Optimizer, Score, Trained, Trainee};

pub(super) struct Run<'a> {
    pub(super) translator: Translator,
    pub(super) optim: Optimizer,
    pub(super) config: &'a SentenceTrainConfig,
    pub(super) out: PathBuf,
    pub(super) train_set: Vec<Encoded>,
    pub(super) dev_set: Vec<Encoded>,
    pub(super) dev: &'a [&'a Pair],
    /// Each epoch's dev BLEU.
    pub(super) bleu: Vec<f64>,
}

impl Trainee for Run<'_> {
    fn train_epoch(&mut self, epoch: &mut Epoch<'_>) -> Result<Trained> {
        // Each epoch is seeded by seed + epoch (batches and dropout), so a resumed run trains
        // the epochs an uninterrupted one would.
        let mut rng = train::seed_epoch(self.config.train.seed, epoch.number);
        let batches = self.batches(&mut rng);
        epoch.begin(batches.len());
        let start = Instant::now();
        let (mut loss_sum, mut tokens) = (0f64, 0f64);
        let mut complete = true;
        for (b, batch) in batches.iter().enumerate() {
            let (logits, gold) = self.forward(&self.train_set, batch, true);
            let loss = logits.cross_entropy_loss::<Tensor>(
                &gold,
                None,
                Reduction::Mean,
                PAD_ID as i64,
                self.config.label_smoothing,
            );
            self.optim
                .backward_step(&loss, self.config.train.clip, epoch.lr())?;
            let n: usize = batch.iter().map(|&i| self.train_set[i].1.len()).sum();
            loss_sum += loss.double_value(&[]) * n as f64;
            tokens += n as f64;
            if epoch.batch_done(b, || format!("loss {:.4}", loss_sum / tokens)) {
                complete = b + 1 == batches.len();
                break;
            }
        }
        Ok(Trained {
            loss: loss_sum / tokens.max(1.0),
            complete,
            items: tokens as usize,
            seconds: start.elapsed().as_secs_f64(),
        })
    }

    fn score(&mut self) -> Result<Option<Score>> {
        let dev_loss = tch::no_grad(|| self.dev_loss(&self.dev_set))?;
        let dev_bleu = self.dev_bleu(self.dev)?;
        self.bleu.push(dev_bleu);
        Ok(Some(Score::lower(dev_loss)))
    }

    fn save(&mut self, record: &EpochRecord) -> Result<()> {
        let dev_loss = record.score.map_or(f64::NAN, |s| s.value);
        let dev_bleu = self.bleu.last().copied().unwrap_or(f64::NAN);
        let device = self.translator.var_store().device();
        let valid_fraction = match self.config.train.held_out {
            HeldOut::Fraction(f) => f,
            HeldOut::Count(_) => 0.0,
        };
        let meta = self
            .translator
            .meta()
            .clone()
            .with_figure("epoch", record.epoch)
            .with_figure("dev_loss", dev_loss)
            .with_figure(
                "dev_bleu",
                if dev_bleu.is_finite() { dev_bleu } else { 0.0 },
            )
            .with_figure("learning_rate", record.lr)
            .with_figure("valid_fraction", valid_fraction)
            .with_figure("train_pairs", self.train_set.len())
            .with_figure("optimizer_steps", self.optim.steps())
            .with_figure(
                "train_options",
                serde_json::to_value(self.config).expect("options serialise"),
            )
            .with_figure("device", crate::device::device_name(device));
        self.translator.set_meta(meta);
        self.translator
            .save_with(&self.out, &[(train::OPTIMIZER_FILE, self.optim.state())])
    }

    fn describe(&self, record: &EpochRecord) -> String {
        let dev_loss = record.score.map_or(f64::NAN, |s| s.value);
        let dev_bleu = self.bleu.last().copied().unwrap_or(f64::NAN);
        format!(
            "loss {:.4}, dev loss {dev_loss:.4}, dev BLEU {dev_bleu:.2}, lr {:.2e} ({:.1} s)",
            record.trained.loss, record.lr, record.trained.seconds
        )
    }

    fn describe_score(&self, score: &Score) -> String {
        format!("dev loss {:.4}", score.value)
    }

    fn score_name(&self) -> &'static str {
        "dev loss"
    }
}

impl Run<'_> {
    /// Batches of similar lengths, in random order.
    fn batches(&self, rng: &mut crate::device::Rng) -> Vec<Vec<usize>> {
        let set = &self.train_set;
        let size = self.config.train.batch_size;
        let mut order: Vec<usize> = (0..set.len()).collect();
        order.shuffle(rng);
        for pool in order.chunks_mut(size * 32) {
            pool.sort_by_key(|&i| (set[i].0.len(), set[i].1.len()));
        }
        let mut batches: Vec<Vec<usize>> = order.chunks(size).map(<[usize]>::to_vec).collect();
        batches.shuffle(rng);
        batches
    }

    /// Logits `[rows * steps, vocab]` and gold ids `[rows * steps]` (padding 0) of a batch.
    fn forward(&self, set: &[Encoded], batch: &[usize], train: bool) -> (Tensor, Tensor) {
        let t = &self.translator;
        let device = t.var_store().device();
        let sources: Vec<&[usize]> = batch.iter().map(|&i| set[i].0.as_slice()).collect();
        let (src, lengths) = t.batch_sources(&sources);
        let steps = batch.iter().map(|&i| set[i].1.len()).max().unwrap_or(1);
        let rows = batch.len();
        let mut prev = vec![PAD_ID as i64; rows * steps];
        let mut gold = vec![PAD_ID as i64; rows * steps];
        for (r, &i) in batch.iter().enumerate() {
            let tgt = &set[i].1;
            prev[r * steps] = BOS_ID as i64;
            for (k, &id) in tgt.iter().enumerate() {
                gold[r * steps + k] = id as i64;
                if k + 1 < steps {
                    prev[r * steps + k + 1] = id as i64;
                }
            }
        }
        let prev = Tensor::from_slice(&prev)
            .view([rows as i64, steps as i64])
            .to_device(device);
        let gold = Tensor::from_slice(&gold).to_device(device);
        let model = t.model();
        let enc = model.encode(&src, &lengths, train);
        let logits = if train && self.config.teacher_forcing < 1.0 {
            model.forward_mixed(&enc, &prev, self.config.teacher_forcing, train)
        } else {
            model.forward_teacher(&enc, &prev, train).0
        };
        let vocab = logits.size()[2];
        (logits.view([-1, vocab]), gold)
    }

    /// Mean teacher-forced cross-entropy per dev target token.
    fn dev_loss(&self, set: &[Encoded]) -> Result<f64> {
        let (mut sum, mut tokens) = (0f64, 0f64);
        let order: Vec<usize> = (0..set.len()).collect();
        for batch in order.chunks(self.config.train.batch_size.max(64)) {
            let (logits, gold) = self.forward(set, batch, false);
            let loss = logits.cross_entropy_loss::<Tensor>(
                &gold,
                None,
                Reduction::Sum,
                PAD_ID as i64,
                0.0,
            );
            sum += loss.to_kind(Kind::Double).double_value(&[]);
            tokens += batch.iter().map(|&i| set[i].1.len()).sum::<usize>() as f64;
        }
        Ok(if tokens > 0.0 { sum / tokens } else { f64::NAN })
    }

    /// BLEU of greedy translations of the first dev sentences.
    fn dev_bleu(&self, dev: &[&Pair]) -> Result<f64> {
        let n = match self.config.bleu_sentences {
            0 => dev.len(),
            n => n.min(dev.len()),
        };
        if n == 0 {
            return Ok(f64::NAN);
        }
        let sources: Vec<&str> = dev[..n].iter().map(|p| p.src.as_str()).collect();
        let references: Vec<&str> = dev[..n].iter().map(|p| p.tgt.as_str()).collect();
        let options = DecodeOptions {
            batch_size: 128,
            ..DecodeOptions::default()
        };
        Ok(score(&self.translator, &sources, &references, &options)?
            .bleu()?
            .score)
    }
}
