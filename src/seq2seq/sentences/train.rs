//! Training a sentence translator on a parallel corpus.
//!
//! - Tokenizers (word or BPE) are learnt from the training side only.
//! - Pairs longer than the model reads (`max_src_len` source tokens, `max_tgt_len` target
//!   tokens with `<eos>`) are left out of training and counted.
//! - Each epoch shuffles the pairs, sorts them by length within pools of 32 batches and cuts
//!   batches there (so a batch holds sentences of similar length and little padding), then
//!   shuffles the batches. Padding is masked in the encoder, in attention and in the loss.
//! - Loss: cross-entropy per target token, optionally label-smoothed. The decoder is fed the
//!   reference's previous token with probability `teacher_forcing`, its own best guess
//!   otherwise.
//! - Adam (PyTorch's defaults) with gradient clipping by global norm; the learning rate is
//!   multiplied by `lr_decay` after each epoch whose dev loss does not improve (PyTorch's
//!   `ReduceLROnPlateau` with patience 0), and training stops after `patience` such epochs, at
//!   `epochs`, or when the `time_budget` is spent.
//! - After every epoch: the dev loss (teacher-forced, no smoothing) and the dev BLEU of greedy
//!   translations. Only an epoch that lowers the dev loss is saved, with the optimiser state,
//!   so `resume` continues from the best epoch.

use std::path::{Path, PathBuf};
use std::time::Instant;

use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};
use tch::{Device, Kind, Reduction, Tensor};

use super::codec::Tokenizers;
use super::pairs::Pair;
use super::score::score;
use super::tokenizer::{SentenceTokenizer, TokenizerConfig, BOS_ID, PAD_ID};
use crate::device::seed_everything;
use crate::error::{Error, Result};
use crate::progress::Progress;
use crate::seq2seq::{DecodeOptions, Seq2SeqConfig, Task, Translator, TranslatorConfig};
use crate::train::{
    self, Budget, Clip, Epoch, EpochRecord, HeldOut, LrSchedule, Optimizer, OptimizerKind, Plan,
    Score, Settings, Trained, Trainee,
};

/// How to train a sentence translator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SentenceTrainConfig {
    /// Budget, batch size, Adam, learning rate and its decay on plateau, clipping, patience,
    /// held-out share (without a dev set) and seed.
    #[serde(flatten)]
    pub train: Settings,
    /// Label smoothing of the training loss, in `[0, 1)` [default: 0.1].
    pub label_smoothing: f64,
    /// Probability that the decoder is fed the reference token rather than its own guess.
    pub teacher_forcing: f64,
    /// Dev sentences translated for BLEU after each epoch (0: all of them).
    pub bleu_sentences: usize,
}

impl Default for SentenceTrainConfig {
    fn default() -> Self {
        SentenceTrainConfig {
            train: Settings {
                budget: Budget::epochs(20),
                batch_size: 64,
                optimizer: OptimizerKind::Adam,
                lr: 1e-3,
                lr_schedule: LrSchedule::Plateau(0.5),
                weight_decay: 0.0,
                clip: Clip::Norm(1.0),
                patience: 3,
                held_out: HeldOut::Fraction(0.05),
                seed: train::DEFAULT_SEED,
            },
            label_smoothing: 0.1,
            teacher_forcing: 1.0,
            bleu_sentences: 1000,
        }
    }
}

impl SentenceTrainConfig {
    /// Checks ranges; the message names the setting.
    pub fn validate(&self) -> Result<()> {
        self.train.validate()?;
        if !(0.0..1.0).contains(&self.label_smoothing) {
            return Err(Error::Config(format!(
                "label smoothing {} is not in [0, 1)",
                self.label_smoothing
            )));
        }
        if !(0.0..=1.0).contains(&self.teacher_forcing) {
            return Err(Error::Config(format!(
                "teacher forcing {} is not in [0, 1]",
                self.teacher_forcing
            )));
        }
        Ok(())
    }
}

/// The model and tokenizers of a new sentence translator.
#[derive(Debug, Clone, PartialEq)]
pub struct SentenceSetup {
    /// Network sizes (the vocabulary sizes are set from the tokenizers).
    pub model: Seq2SeqConfig,
    /// Source tokenizer.
    pub src_tokenizer: TokenizerConfig,
    /// Target tokenizer.
    pub tgt_tokenizer: TokenizerConfig,
}

/// The sizes of a new sentence translator, as `seq2seq train --task pairs` takes them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SentenceSizes {
    /// Embedding size of both sides.
    pub embed: usize,
    /// Encoder LSTM units per direction; the decoder has twice this, attention this many.
    pub hidden: usize,
    /// Stacked bidirectional encoder layers.
    pub layers: usize,
    /// Dropout on embeddings, between layers and before the output layer.
    pub dropout: f64,
    /// Tokens the model reads, and writes before `<eos>`.
    pub max_len: usize,
}

impl Default for SentenceSizes {
    /// Embeddings 256, encoder 256 per direction, one layer, dropout 0.2, 50 tokens.
    fn default() -> Self {
        SentenceSizes {
            embed: 256,
            hidden: 256,
            layers: 1,
            dropout: 0.2,
            max_len: 50,
        }
    }
}

impl SentenceSetup {
    /// A model of `sizes` (output layer reading the attention context), with the same
    /// tokenizer settings on both sides.
    pub fn new(sizes: SentenceSizes, tokenizer: TokenizerConfig) -> Self {
        SentenceSetup {
            model: Seq2SeqConfig {
                src_vocab: 0,
                tgt_vocab: 0,
                src_embed: Some(sizes.embed),
                tgt_embed: Some(sizes.embed),
                enc_hidden: sizes.hidden,
                enc_layers: sizes.layers,
                dec_hidden: 2 * sizes.hidden,
                attn_hidden: sizes.hidden,
                output_uses_context: true,
                dropout: sizes.dropout,
                max_src_len: sizes.max_len,
                max_tgt_len: sizes.max_len.saturating_add(1),
            },
            src_tokenizer: tokenizer.clone(),
            tgt_tokenizer: tokenizer,
        }
    }
}

impl Default for SentenceSetup {
    /// [`SentenceSizes::default`] with word tokenizers of 10,000 tokens.
    fn default() -> Self {
        SentenceSetup::new(SentenceSizes::default(), TokenizerConfig::default())
    }
}

/// Figures of one epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SentenceEpoch {
    /// 1-based, counting the epochs of a resumed model.
    pub epoch: usize,
    /// Mean training loss per target token (smoothed when label smoothing is on), in nats.
    pub train_loss: f64,
    /// Mean dev cross-entropy per target token, in nats.
    pub dev_loss: f64,
    /// Corpus BLEU of greedy dev translations.
    pub dev_bleu: f64,
    /// Learning rate of this epoch.
    pub learning_rate: f64,
    /// Wall time of the training part.
    pub train_seconds: f64,
    /// The epoch lowered the dev loss and was saved.
    pub saved: bool,
}

/// What a training run did.
#[derive(Debug, Clone, PartialEq)]
pub struct SentenceReport {
    /// Every epoch run.
    pub epochs: Vec<SentenceEpoch>,
    /// Pairs trained on.
    pub train_pairs: usize,
    /// Training pairs left out for their length.
    pub too_long: usize,
    /// Dev pairs.
    pub dev_pairs: usize,
    /// Source and target vocabulary sizes.
    pub vocab_sizes: (usize, usize),
}

/// An encoded pair: source ids, target ids ending in `<eos>`.
type Encoded = (Vec<usize>, Vec<usize>);

/// Trains a new translator on `train` (and `dev`, or a held-out share of `train`), saving the
/// best epoch to `out`.
pub fn train(
    train: &[Pair],
    dev: Option<&[Pair]>,
    setup: &SentenceSetup,
    config: &SentenceTrainConfig,
    device: Device,
    out: &Path,
    progress: &dyn Progress,
) -> Result<SentenceReport> {
    config.validate()?;
    seed_everything(config.train.seed);
    let (train, dev) = split(train, dev, config)?;
    // A tokenizer's configuration error says which side it is.
    let side = |name: &'static str| {
        move |e: Error| match e {
            Error::Config(m) => Error::Config(format!("the {name} tokenizer: {m}")),
            other => other,
        }
    };
    let tokenizers = Tokenizers {
        src: SentenceTokenizer::train(&setup.src_tokenizer, train.iter().map(|p| p.src.as_str()))
            .map_err(side("source"))?,
        tgt: SentenceTokenizer::train(&setup.tgt_tokenizer, train.iter().map(|p| p.tgt.as_str()))
            .map_err(side("target"))?,
    };
    let translator_config = TranslatorConfig {
        task: Task::Sentences,
        lowercase: setup.tgt_tokenizer.lowercase,
        model: setup.model.clone(),
    };
    let codec = Box::new(super::SubwordCodec::new(tokenizers)?);
    let translator = Translator::new(translator_config, codec, device, config.train.seed)?;
    let optim = Optimizer::new(translator.var_store(), config.train.optimizer)
        .with_weight_decay(config.train.weight_decay);
    go(
        translator,
        optim,
        config,
        Plan::fresh(&config.train, Some(out)),
        &train,
        &dev,
        progress,
    )
}

/// Continues training the sentence translator in `dir` (weights, optimiser state, learning
/// rate, best dev loss and the training options saved with it) for `config`'s budget; saves the
/// best to `out`. The dev split is drawn with the seed and held-out share saved with the model.
/// A model saved before its options were recorded trains with `config`'s.
pub fn resume(
    dir: &Path,
    train: &[Pair],
    dev: Option<&[Pair]>,
    config: &SentenceTrainConfig,
    device: Device,
    out: &Path,
    progress: &dyn Progress,
) -> Result<SentenceReport> {
    config.validate()?;
    let translator = Translator::load(dir, device)?;
    if translator.config().task != Task::Sentences {
        return Err(Error::checkpoint(dir, "is not a sentence translator"));
    }
    let figure = |name: &str| translator.meta().training.get(name).cloned();
    let done = figure("epoch")
        .and_then(|v| v.as_u64())
        .ok_or_else(|| Error::checkpoint(dir, "has no epoch count in meta.json"))?;
    let lr = figure("learning_rate")
        .and_then(|v| v.as_f64())
        .unwrap_or(config.train.lr);
    let best = figure("dev_loss")
        .and_then(|v| v.as_f64())
        .unwrap_or(f64::INFINITY);
    // The seed and held-out share the model was trained with, so that the dev split (and so
    // the saved dev loss) is the same pairs; `config`'s share for a model saved before the
    // share was recorded.
    let held_out = figure("valid_fraction")
        .and_then(|v| v.as_f64())
        .map_or(config.train.held_out, HeldOut::Fraction);
    // The options the model was trained with, but `config`'s budget; a model saved before
    // they were recorded takes `config`'s, with its own seed and held-out share.
    let saved: Option<SentenceTrainConfig> =
        figure("train_options").and_then(|v| serde_json::from_value(v).ok());
    let config = &match saved {
        Some(saved) => SentenceTrainConfig {
            train: Settings {
                budget: config.train.budget,
                ..saved.train
            },
            ..saved
        },
        None => SentenceTrainConfig {
            train: Settings {
                seed: translator.meta().seed,
                held_out,
                ..config.train.clone()
            },
            ..config.clone()
        },
    };
    config.validate()?;
    let mut optim = Optimizer::new(translator.var_store(), config.train.optimizer)
        .with_weight_decay(config.train.weight_decay);
    optim.restore_from(dir)?;
    let (train, dev) = split(train, dev, config)?;
    // The learning rate the saved run had reached (a plateau decays it).
    let plan = Plan {
        lr,
        ..Plan::fresh(&config.train, Some(out)).resuming(
            dir,
            done as usize,
            Some(Score::lower(best)),
        )
    };
    go(translator, optim, config, plan, &train, &dev, progress)
}

/// The training and dev pairs: `dev` when given, else a held-out share of `train` drawn with
/// the seed alone (so a resumed run holds out the same pairs).
fn split<'a>(
    train: &'a [Pair],
    dev: Option<&'a [Pair]>,
    config: &SentenceTrainConfig,
) -> Result<(Vec<&'a Pair>, Vec<&'a Pair>)> {
    if let Some(dev) = dev {
        return Ok((train.iter().collect(), dev.iter().collect()));
    }
    let n_dev = config.train.held_out.size(train.len());
    if n_dev == 0 {
        return Err(Error::Config(if train.len() < 2 {
            "need at least two pairs: one to train on, one to hold out".into()
        } else {
            "valid fraction 0: a sentence translator needs dev pairs, which choose the epoch \
             saved and the learning-rate decay; give a fraction above 0 or a dev file"
                .into()
        }));
    }
    let (train_idx, dev_idx) = train::split_indices(train.len(), n_dev, config.train.seed)?;
    let pick = |idx: Vec<usize>| idx.into_iter().map(|i| &train[i]).collect();
    Ok((pick(train_idx), pick(dev_idx)))
}

/// Encodes the pairs and runs the epochs.
fn go(
    translator: Translator,
    optim: Optimizer,
    config: &SentenceTrainConfig,
    plan: Plan,
    train: &[&Pair],
    dev: &[&Pair],
    progress: &dyn Progress,
) -> Result<SentenceReport> {
    let (train_set, too_long) = encode(&translator, train);
    if train_set.is_empty() {
        return Err(Error::Config(format!(
            "all {} training pairs are longer than the model reads (--max-len)",
            train.len()
        )));
    }
    let (dev_set, _) = encode(&translator, dev);
    if dev_set.is_empty() {
        return Err(Error::Config(format!(
            "all {} dev pairs are longer than the model reads (--max-len), so no epoch could \
             be scored",
            dev.len()
        )));
    }
    // Every run of these models saves to a directory.
    let out = plan.out.clone().unwrap_or_default();
    let mut run = Run {
        translator,
        optim,
        config,
        out,
        train_set,
        dev_set,
        dev,
        bleu: Vec::new(),
    };
    let report = train::run(&mut run, &plan, progress)?;
    let epochs = report
        .epochs
        .iter()
        .zip(&run.bleu)
        .map(|(r, &dev_bleu)| SentenceEpoch {
            epoch: r.epoch,
            train_loss: r.trained.loss,
            dev_loss: r.score.map_or(f64::NAN, |s| s.value),
            dev_bleu,
            learning_rate: r.lr,
            train_seconds: r.trained.seconds,
            saved: r.kept,
        })
        .collect();
    Ok(SentenceReport {
        epochs,
        train_pairs: run.train_set.len(),
        too_long,
        dev_pairs: dev.len(),
        vocab_sizes: (
            run.translator.vocabs().src.len(),
            run.translator.vocabs().tgt.len(),
        ),
    })
}

/// The pairs that fit the model, encoded, and how many did not fit.
fn encode(translator: &Translator, pairs: &[&Pair]) -> (Vec<Encoded>, usize) {
    let mut kept = Vec::with_capacity(pairs.len());
    for p in pairs {
        if let (Ok(s), Ok(t)) = (
            translator.encode_source(&p.src),
            translator.encode_target(&p.tgt),
        ) {
            kept.push((s, t));
        }
    }
    let dropped = pairs.len() - kept.len();
    (kept, dropped)
}

struct Run<'a> {
    translator: Translator,
    optim: Optimizer,
    config: &'a SentenceTrainConfig,
    out: PathBuf,
    train_set: Vec<Encoded>,
    dev_set: Vec<Encoded>,
    dev: &'a [&'a Pair],
    /// Each epoch's dev BLEU.
    bleu: Vec<f64>,
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
