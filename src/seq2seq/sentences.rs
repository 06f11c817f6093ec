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

use std::path::Path;
use std::time::{Duration, Instant};

use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};
use tch::{Device, Kind, Reduction, Tensor};

use super::bleu::{corpus_bleu, Bleu};
use super::chrf::{corpus_chrf, Chrf};
use super::model::Seq2SeqConfig;
use super::pairs::Pair;
use super::tokenizer::{SentenceTokenizer, TokenizerConfig, BOS_ID, PAD_ID};
use super::translator::{DecodeOptions, Task, Tokenizers, Translator, TranslatorConfig};
use crate::charlm::adam::{Optim, OPTIMIZER_FILE};
use crate::charlm::Clip;
use crate::checkpoint;
use crate::device::seed_everything;
use crate::error::{Error, Result, MAX_CLIP, MAX_LEARNING_RATE};
use crate::progress::{Progress, ProgressEvent};

/// How to train a sentence translator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SentenceTrainConfig {
    /// At most this many passes over the training pairs.
    pub epochs: usize,
    /// Stop (after the current batch, then evaluate) once training has run this long.
    pub time_budget: Option<Duration>,
    /// Pairs per batch.
    pub batch_size: usize,
    /// Adam's initial learning rate.
    pub learning_rate: f64,
    /// Factor applied to the learning rate after an epoch without a better dev loss.
    pub lr_decay: f64,
    /// Global gradient-norm clip; 0 turns it off.
    pub clip_norm: f64,
    /// Label smoothing of the training loss, in `[0, 1)`.
    pub label_smoothing: f64,
    /// Probability that the decoder is fed the reference token rather than its own guess.
    pub teacher_forcing: f64,
    /// Stop after this many epochs in a row without a better dev loss.
    pub patience: usize,
    /// Without a dev set, this share of the pairs is held out.
    pub valid_fraction: f64,
    /// Dev sentences translated for BLEU after each epoch (0: all of them).
    pub bleu_sentences: usize,
    /// Seeds the split, the batches and the initial weights.
    pub seed: u64,
}

impl Default for SentenceTrainConfig {
    fn default() -> Self {
        SentenceTrainConfig {
            epochs: 20,
            time_budget: None,
            batch_size: 64,
            learning_rate: 1e-3,
            lr_decay: 0.5,
            clip_norm: 1.0,
            label_smoothing: 0.0,
            teacher_forcing: 1.0,
            patience: 3,
            valid_fraction: 0.05,
            bleu_sentences: 1000,
            seed: 42,
        }
    }
}

impl SentenceTrainConfig {
    /// Checks ranges; the message names the setting.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(Error::Config(m));
        Error::check_count("epochs", self.epochs)?;
        Error::check_count("batch size", self.batch_size)?;
        if self.batch_size > 1 << 24 {
            return bad(format!(
                "batch size {} is above the 2^24 allowed",
                self.batch_size
            ));
        }
        Error::check_positive("learning rate", self.learning_rate, MAX_LEARNING_RATE)?;
        if !(self.lr_decay > 0.0 && self.lr_decay <= 1.0) {
            return bad(format!("lr decay {} is not in (0, 1]", self.lr_decay));
        }
        if self.clip_norm != 0.0 {
            Error::check_positive("clip norm (0: no clipping)", self.clip_norm, MAX_CLIP)?;
        }
        for (name, v, top) in [
            ("label smoothing", self.label_smoothing, 1.0),
            ("valid fraction", self.valid_fraction, 1.0),
        ] {
            if !(0.0..top).contains(&v) {
                return bad(format!("{name} {v} is not in [0, {top})"));
            }
        }
        if !(0.0..=1.0).contains(&self.teacher_forcing) {
            return bad(format!(
                "teacher forcing {} is not in [0, 1]",
                self.teacher_forcing
            ));
        }
        if self.patience == 0 {
            return bad("patience must be at least 1".into());
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
pub fn train_sentences(
    train: &[Pair],
    dev: Option<&[Pair]>,
    setup: &SentenceSetup,
    config: &SentenceTrainConfig,
    device: Device,
    out: &Path,
    progress: &dyn Progress,
) -> Result<SentenceReport> {
    config.validate()?;
    let rng = seed_everything(config.seed);
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
    let translator = Translator::new_sentences(translator_config, tokenizers, device, config.seed)?;
    let optim = Optim::new(translator.var_store(), true);
    Run {
        translator,
        optim,
        config,
        rng,
        first_epoch: 1,
        learning_rate: config.learning_rate,
        best: f64::INFINITY,
        bad_epochs: 0,
        resumed_from: None,
    }
    .go(&train, &dev, out, progress)
}

/// Continues training the sentence translator in `dir` (weights, optimiser state, learning
/// rate and best dev loss) for up to `config.epochs` more epochs; saves the best to `out`. The
/// dev split is drawn with the seed and held-out share saved with the model, not `config`'s
/// (`config.valid_fraction` serves for a model saved before its share was recorded).
pub fn resume_sentences(
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
    let learning_rate = figure("learning_rate")
        .and_then(|v| v.as_f64())
        .unwrap_or(config.learning_rate);
    let best = figure("dev_loss")
        .and_then(|v| v.as_f64())
        .unwrap_or(f64::INFINITY);
    // The seed and held-out share the model was trained with, so that the dev split (and so
    // the saved dev loss) is the same pairs; `config`'s share for a model saved before the
    // share was recorded.
    let config = &SentenceTrainConfig {
        seed: translator.meta().seed,
        valid_fraction: figure("valid_fraction")
            .and_then(|v| v.as_f64())
            .unwrap_or(config.valid_fraction),
        ..config.clone()
    };
    let mut optim = Optim::new(translator.var_store(), true);
    optim.restore(checkpoint::load_tensors(dir, OPTIMIZER_FILE)?, dir)?;
    // A different seed per resumed epoch range, so the batches are not those of epoch 1 again.
    let rng = seed_everything(config.seed.wrapping_add(done));
    let (train, dev) = split(train, dev, config)?;
    Run {
        translator,
        optim,
        config,
        rng,
        first_epoch: done as usize + 1,
        learning_rate,
        best,
        bad_epochs: 0,
        resumed_from: Some(dir.to_path_buf()),
    }
    .go(&train, &dev, out, progress)
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
    if config.valid_fraction == 0.0 {
        return Err(Error::Config(
            "valid fraction 0: a sentence translator needs dev pairs, which choose the epoch \
             saved and the learning-rate decay; give a fraction above 0 or a dev file"
                .into(),
        ));
    }
    let mut order: Vec<&Pair> = train.iter().collect();
    order.shuffle(&mut crate::device::rng_from_seed(config.seed));
    let n_dev = ((train.len() as f64 * config.valid_fraction).round() as usize)
        .max(1)
        .min(train.len().saturating_sub(1));
    if n_dev == 0 {
        return Err(Error::Config(
            "need at least two pairs: one to train on, one to hold out".into(),
        ));
    }
    let train_part = order.split_off(n_dev);
    Ok((train_part, order))
}

struct Run<'a> {
    translator: Translator,
    optim: Optim,
    config: &'a SentenceTrainConfig,
    rng: crate::device::Rng,
    first_epoch: usize,
    learning_rate: f64,
    best: f64,
    bad_epochs: usize,
    /// The model directory a resumed run started from.
    resumed_from: Option<std::path::PathBuf>,
}

impl Run<'_> {
    fn go(
        mut self,
        train: &[&Pair],
        dev: &[&Pair],
        out: &Path,
        progress: &dyn Progress,
    ) -> Result<SentenceReport> {
        let (train_set, too_long) = self.encode(train);
        if train_set.is_empty() {
            return Err(Error::Config(format!(
                "all {} training pairs are longer than the model reads (--max-len)",
                train.len()
            )));
        }
        let (dev_set, _) = self.encode(dev);
        if dev_set.is_empty() {
            return Err(Error::Config(format!(
                "all {} dev pairs are longer than the model reads (--max-len), so no epoch could \
                 be scored",
                dev.len()
            )));
        }
        let started = Instant::now();
        let mut epochs = Vec::new();
        // Saturating: with a time budget, `epochs` may be "as many as fit" (near usize::MAX).
        let last = self.first_epoch.saturating_add(self.config.epochs - 1);
        for epoch in self.first_epoch..=last {
            let label = format!("epoch {epoch}/{last}");
            let start = Instant::now();
            let (train_loss, out_of_time) =
                self.train_epoch(&train_set, &label, started, progress)?;
            let train_seconds = start.elapsed().as_secs_f64();
            let dev_loss = tch::no_grad(|| self.dev_loss(&dev_set))?;
            let dev_bleu = self.dev_bleu(dev)?;
            let saved = dev_loss < self.best;
            let learning_rate = self.learning_rate;
            if saved {
                self.best = dev_loss;
                self.bad_epochs = 0;
                self.save(out, epoch, dev_loss, dev_bleu, train_set.len())?;
            } else {
                self.bad_epochs += 1;
                self.learning_rate *= self.config.lr_decay;
            }
            let figures = SentenceEpoch {
                epoch,
                train_loss,
                dev_loss,
                dev_bleu,
                learning_rate,
                train_seconds,
                saved,
            };
            progress.event(&ProgressEvent::End {
                summary: &format!(
                    "{label}: loss {train_loss:.4}, dev loss {dev_loss:.4}, dev BLEU {dev_bleu:.2}, lr {learning_rate:.2e} ({train_seconds:.1} s){}",
                    if saved { ", saved" } else { "" }
                ),
            });
            epochs.push(figures);
            if out_of_time || self.bad_epochs >= self.config.patience {
                break;
            }
        }
        checkpoint::check_run_left_a_model(
            epochs.iter().any(|e| e.saved),
            self.resumed_from.as_deref(),
            out,
            "dev loss",
            self.best,
        )?;
        Ok(SentenceReport {
            epochs,
            train_pairs: train_set.len(),
            too_long,
            dev_pairs: dev.len(),
            vocab_sizes: (
                self.translator.vocabs().src.len(),
                self.translator.vocabs().tgt.len(),
            ),
        })
    }

    /// The pairs that fit the model, encoded, and how many did not fit.
    fn encode(&self, pairs: &[&Pair]) -> (Vec<Encoded>, usize) {
        let mut kept = Vec::with_capacity(pairs.len());
        for p in pairs {
            if let (Ok(s), Ok(t)) = (
                self.translator.encode_source(&p.src),
                self.translator.encode_target(&p.tgt),
            ) {
                kept.push((s, t));
            }
        }
        let dropped = pairs.len() - kept.len();
        (kept, dropped)
    }

    /// Batches of similar lengths, in random order.
    fn batches(&mut self, set: &[Encoded]) -> Vec<Vec<usize>> {
        let size = self.config.batch_size;
        let mut order: Vec<usize> = (0..set.len()).collect();
        order.shuffle(&mut self.rng);
        for pool in order.chunks_mut(size * 32) {
            pool.sort_by_key(|&i| (set[i].0.len(), set[i].1.len()));
        }
        let mut batches: Vec<Vec<usize>> = order.chunks(size).map(<[usize]>::to_vec).collect();
        batches.shuffle(&mut self.rng);
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

    /// One pass over the training set; the mean loss, and whether the time budget ran out.
    fn train_epoch(
        &mut self,
        set: &[Encoded],
        label: &str,
        started: Instant,
        progress: &dyn Progress,
    ) -> Result<(f64, bool)> {
        let batches = self.batches(set);
        progress.event(&ProgressEvent::Begin {
            label,
            total: Some(batches.len() as u64),
            unit: "batches",
        });
        let clip = if self.config.clip_norm > 0.0 {
            Clip::Norm(self.config.clip_norm)
        } else {
            Clip::Off
        };
        let (mut loss_sum, mut tokens) = (0f64, 0f64);
        let mut out_of_time = false;
        for (b, batch) in batches.iter().enumerate() {
            let (logits, gold) = self.forward(set, batch, true);
            let loss = logits.cross_entropy_loss::<Tensor>(
                &gold,
                None,
                Reduction::Mean,
                PAD_ID as i64,
                self.config.label_smoothing,
            );
            self.optim.zero_grad();
            loss.backward();
            self.optim.clip(clip)?;
            self.optim.step(self.learning_rate)?;
            let n: usize = batch.iter().map(|&i| set[i].1.len()).sum();
            loss_sum += loss.double_value(&[]) * n as f64;
            tokens += n as f64;
            progress.event(&ProgressEvent::Advance { done: b as u64 + 1 });
            if b % 10 == 0 {
                progress.event(&ProgressEvent::Status {
                    message: &format!("loss {:.4}", loss_sum / tokens),
                });
            }
            if self
                .config
                .time_budget
                .is_some_and(|budget| started.elapsed() >= budget)
            {
                out_of_time = true;
                break;
            }
        }
        Ok((loss_sum / tokens.max(1.0), out_of_time))
    }

    /// Mean teacher-forced cross-entropy per dev target token.
    fn dev_loss(&self, set: &[Encoded]) -> Result<f64> {
        let (mut sum, mut tokens) = (0f64, 0f64);
        let order: Vec<usize> = (0..set.len()).collect();
        for batch in order.chunks(self.config.batch_size.max(64)) {
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

    fn save(
        &mut self,
        out: &Path,
        epoch: usize,
        dev_loss: f64,
        dev_bleu: f64,
        train_pairs: usize,
    ) -> Result<()> {
        let device = self.translator.var_store().device();
        let meta = self
            .translator
            .meta()
            .clone()
            .with_figure("epoch", epoch)
            .with_figure("dev_loss", dev_loss)
            .with_figure(
                "dev_bleu",
                if dev_bleu.is_finite() { dev_bleu } else { 0.0 },
            )
            .with_figure("learning_rate", self.learning_rate)
            .with_figure("valid_fraction", self.config.valid_fraction)
            .with_figure("train_pairs", train_pairs)
            .with_figure("optimizer_steps", self.optim.steps())
            .with_figure("device", crate::device::device_name(device));
        self.translator.set_meta(meta);
        self.translator
            .save_with(out, &[(OPTIMIZER_FILE, self.optim.state())])
    }
}

/// The best translation of each source, next to its reference, ready for [`Scored::bleu`]
/// and [`Scored::chrf`].
#[derive(Debug, Clone, PartialEq)]
pub struct Scored {
    /// The best translation of each source; empty where the source was rejected.
    pub hypotheses: Vec<String>,
    /// The references as the translator writes (lower-cased when its tokenizer lower-cases,
    /// so that the scores compare like with like).
    pub references: Vec<String>,
    /// Sources that could not be translated (empty, or too long under `strict`).
    pub rejected: usize,
    /// Sources cut to the model's length.
    pub truncated: usize,
    /// Wall time of the translation alone.
    pub seconds: f64,
}

impl Scored {
    /// Corpus BLEU of the hypotheses.
    pub fn bleu(&self) -> Result<Bleu> {
        let (h, r) = self.pairs();
        corpus_bleu(&h, &r)
    }

    /// Corpus chrF of the hypotheses.
    pub fn chrf(&self) -> Result<Chrf> {
        let (h, r) = self.pairs();
        corpus_chrf(&h, &r)
    }

    fn pairs(&self) -> (Vec<&str>, Vec<&str>) {
        fn as_str(v: &[String]) -> Vec<&str> {
            v.iter().map(String::as_str).collect()
        }
        (as_str(&self.hypotheses), as_str(&self.references))
    }
}

/// Translates `sources` (line for line with `references`) for scoring.
pub fn score(
    translator: &Translator,
    sources: &[&str],
    references: &[&str],
    options: &DecodeOptions,
) -> Result<Scored> {
    if sources.len() != references.len() {
        return Err(Error::Config(format!(
            "{} sources but {} references",
            sources.len(),
            references.len()
        )));
    }
    let start = Instant::now();
    let outputs = translator.translate(sources, options)?;
    let seconds = start.elapsed().as_secs_f64();
    let (mut rejected, mut truncated) = (0, 0);
    let hypotheses = outputs
        .into_iter()
        .map(|o| match o {
            Ok(h) => {
                truncated += usize::from(h.first().is_some_and(|h| h.truncated));
                h.into_iter().next().map(|h| h.text).unwrap_or_default()
            }
            Err(_) => {
                rejected += 1;
                String::new()
            }
        })
        .collect();
    let lowercase = translator.config().lowercase;
    let references = references
        .iter()
        .map(|r| {
            if lowercase {
                r.trim().to_lowercase()
            } else {
                r.trim().to_owned()
            }
        })
        .collect();
    Ok(Scored {
        hypotheses,
        references,
        rejected,
        truncated,
        seconds,
    })
}

#[cfg(test)]
#[path = "sentence_tests.rs"]
mod tests;
