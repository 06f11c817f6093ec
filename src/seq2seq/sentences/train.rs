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

use serde::{Deserialize, Serialize};
use tch::Device;

use super::codec::Tokenizers;
use super::epochs::Run;
use super::pairs::Pair;
use super::tokenizer::{SentenceTokenizer, TokenizerConfig};
use crate::device::seed_everything;
use crate::error::{Error, Result};
use crate::progress::Progress;
use crate::seq2seq::{Seq2SeqConfig, Task, Translator, TranslatorConfig};
use crate::train::{
    self, Budget, Clip, HeldOut, LrSchedule, Optimizer, OptimizerKind, Plan, Score, Settings,
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

/// Sizes, batch and learning rate chosen by the amount of training data: what trains well in
/// minutes to an hour on a CPU for small and mid-sized corpora, and a full-size model for large
/// ones. [`SentencePreset::for_pairs`] is the default's rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SentencePreset {
    /// Under 20,000 pairs (Tatoeba-sized): embeddings and encoder 128, dropout 0.1, batch 32,
    /// Adam 2e-3.
    Small,
    /// 20,000 to 200,000 pairs (Multi30K-sized): embeddings and encoder 128, dropout 0.2,
    /// batch 64, Adam 2e-3.
    Base,
    /// 200,000 pairs and more: embeddings 256, encoder 512 per direction, dropout 0.3,
    /// batch 64, Adam 1e-3 (a GPU's model).
    Large,
}

impl SentencePreset {
    /// The preset for `pairs` training pairs.
    pub fn for_pairs(pairs: usize) -> SentencePreset {
        match pairs {
            0..20_000 => SentencePreset::Small,
            20_000..200_000 => SentencePreset::Base,
            _ => SentencePreset::Large,
        }
    }

    /// The network sizes.
    pub fn sizes(self) -> SentenceSizes {
        let (embed, hidden, dropout) = match self {
            SentencePreset::Small => (128, 128, 0.1),
            SentencePreset::Base => (128, 128, 0.2),
            SentencePreset::Large => (256, 512, 0.3),
        };
        SentenceSizes {
            embed,
            hidden,
            dropout,
            ..SentenceSizes::default()
        }
    }

    /// The training options: [`SentenceTrainConfig::default`] with this preset's batch size
    /// and learning rate.
    pub fn config(self) -> SentenceTrainConfig {
        let mut config = SentenceTrainConfig::default();
        let (batch_size, lr) = match self {
            SentencePreset::Small => (32, 2e-3),
            SentencePreset::Base => (64, 2e-3),
            SentencePreset::Large => (64, 1e-3),
        };
        config.train.batch_size = batch_size;
        config.train.lr = lr;
        config
    }

    /// The preset's name, as `--preset` takes it.
    pub fn name(self) -> &'static str {
        match self {
            SentencePreset::Small => "small",
            SentencePreset::Base => "base",
            SentencePreset::Large => "large",
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
pub(super) type Encoded = (Vec<usize>, Vec<usize>);

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
