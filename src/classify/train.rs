//! Training a classifier through the [training core](crate::train): a seeded dev split (or a
//! given dev set), Adam on mini-batches with the gradient norm clipped, dev accuracy after every
//! epoch, early stopping when it has not improved for `patience` epochs, and the best epoch's
//! weights kept (ties go to the lower dev loss), in memory and, given a directory, on disk with
//! the optimiser state, so that a run can be resumed.

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};
use tch::Device;

use super::data::{Dataset, Labels};
use super::epochs::Run;
use super::inputs::{coverage, vocabulary, Encoded, TrainedWords};
use super::model::{Classifier, ClassifierConfig, EmbeddingInit, FORMAT_VERSION, KIND};
use super::tokenize::{word_ids, LongSentence, Tokenizer};
use crate::checkpoint::Meta;
use crate::embeddings::Embeddings;
use crate::error::{Error, Result};
use crate::progress::Progress;
use crate::train::{
    self, Budget, Clip, HeldOut, LrSchedule, Optimizer, OptimizerKind, Plan, Score, Settings,
};

/// How to train; saved in the model's `meta.json` so that a resumed run trains the same way.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainOptions {
    /// Budget (at most 50 epochs by default), batch size, Adam, learning rate, clipping,
    /// patience (10), dev share (when no dev set is given; 0 trains on everything and keeps the
    /// last epoch) and seed.
    #[serde(flatten)]
    pub train: Settings,
    /// With frozen pretrained vectors: the training words that the vectors lack get vectors of
    /// their own, trained (as Kim 2014 does), instead of all reading as `<unk>`. Punctuation,
    /// names and the tokenizer's pieces of "n't" are such words in SST and MR.
    pub learn_new_words: bool,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            train: Settings {
                budget: Budget::epochs(50),
                batch_size: 32,
                optimizer: OptimizerKind::Adam,
                lr: 1e-3,
                lr_schedule: LrSchedule::Constant,
                weight_decay: 0.0,
                clip: Clip::Norm(5.0),
                patience: 10,
                held_out: HeldOut::Fraction(0.1),
                seed: train::DEFAULT_SEED,
            },
            learn_new_words: false,
        }
    }
}

impl TrainOptions {
    /// Checks ranges.
    pub fn validate(&self) -> Result<()> {
        self.train.validate()?;
        if let HeldOut::Fraction(f) = self.train.held_out {
            if !(0.0..0.9).contains(&f) {
                return Err(Error::Config(format!(
                    "the dev fraction {f} is not in [0, 0.9)"
                )));
            }
        }
        Ok(())
    }

    /// The options a model was trained with, from its `meta.json`.
    pub fn saved(dir: &Path) -> Result<TrainOptions> {
        crate::checkpoint::read_meta(dir)?
            .training
            .get("train_options")
            .cloned()
            .and_then(|v| serde_json::from_value(v).ok())
            .ok_or_else(|| {
                Error::checkpoint(
                    dir,
                    "has no training options in meta.json (saved before classifiers could resume)",
                )
            })
    }
}

/// Figures of one epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochFigures {
    /// 1-based, counting the epochs of a resumed model.
    pub epoch: usize,
    /// Mean cross-entropy on the training batches, nats.
    pub train_loss: f64,
    /// Accuracy on the training batches as they were trained (dropout on).
    pub train_accuracy: f64,
    /// Dev accuracy, when there is a dev set.
    pub valid_accuracy: Option<f64>,
    /// Dev cross-entropy, nats.
    pub valid_loss: Option<f64>,
    /// Wall time of the epoch's training part, seconds.
    pub seconds: f64,
    /// Whether this epoch's weights are the best so far (and saved).
    pub best: bool,
}

/// What a training run did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainReport {
    /// Every epoch run.
    pub epochs: Vec<EpochFigures>,
    /// The epoch whose weights were kept.
    pub best_epoch: usize,
    /// Its dev accuracy, when there was a dev set.
    pub best_valid_accuracy: Option<f64>,
    /// Training sentences.
    pub train_size: usize,
    /// Dev sentences (0 without a dev set).
    pub valid_size: usize,
    /// Share of the training words found in the pretrained vectors (1 without them).
    pub pretrained_coverage: f64,
    /// Share of the training words that the pretrained vectors lack but compose from their
    /// character n-grams (vectors with subwords only; 0 otherwise).
    #[serde(default)]
    pub subword_coverage: f64,
    /// The training and dev sentences longer than a classifier reads (only their first
    /// [`MAX_WORDS`](super::MAX_WORDS) words were used), training file first, by line.
    #[serde(default)]
    pub long_sentences: Vec<LongSentence>,
    /// Trained values.
    pub trainable_parameters: i64,
    /// Training wall time, seconds.
    pub seconds: f64,
}

/// The sentences a classifier learns from: the training set, a dev set (without one, a seeded
/// share of the training set is held out, as the options say), and pretrained word vectors.
#[derive(Debug, Clone, Copy)]
pub struct TrainData<'a> {
    /// Labelled training sentences.
    pub train: &'a Dataset,
    /// Labelled dev sentences, which choose the epoch kept.
    pub valid: Option<&'a Dataset>,
    /// Pretrained word vectors for the embedding layer.
    pub pretrained: Option<&'a Embeddings>,
}

impl<'a> TrainData<'a> {
    /// Training sentences alone.
    pub fn new(train: &'a Dataset) -> Self {
        TrainData {
            train,
            valid: None,
            pretrained: None,
        }
    }
}

/// Splits `data` into training and dev parts: the core's seeded draw
/// ([`crate::train::split_sorted`]), `fraction` of it (at least one sentence, leaving at least
/// one) for dev.
pub fn split(data: &Dataset, fraction: f64, seed: u64) -> Result<(Dataset, Dataset)> {
    let n = data.examples.len();
    let take = HeldOut::Fraction(fraction).size(n);
    if n < 2 || take == 0 {
        return Err(Error::BadFile {
            path: data.path.clone(),
            reason: format!("has {n} sentence(s): too few to hold out a dev set"),
        });
    }
    let (train, dev) = crate::train::split_sorted(n, take, seed)?;
    Ok((data.subset(&train), data.subset(&dev)))
}

/// The training and dev parts: the given dev set, a seeded share of the training set, or none.
fn parts(data: &TrainData<'_>, options: &TrainOptions) -> Result<(Dataset, Option<Dataset>)> {
    Ok(match (data.valid, options.train.held_out) {
        (Some(v), _) => (data.train.clone(), Some(v.clone())),
        (None, HeldOut::Fraction(f)) if f > 0.0 => {
            let (t, v) = split(data.train, f, options.train.seed)?;
            (t, Some(v))
        }
        (None, HeldOut::Count(c)) if c > 0 => {
            let n = data.train.examples.len();
            let (t, v) = crate::train::split_sorted(n, c, options.train.seed)?;
            (data.train.subset(&t), Some(data.train.subset(&v)))
        }
        (None, _) => (data.train.clone(), None),
    })
}

/// Trains a classifier on `data`, choosing the epoch on the dev set. `config.labels` is filled
/// from the training data; `config.embed_dim` must be the dimension of the pretrained vectors
/// (an error names both otherwise). With `out`, each best epoch is saved there (weights,
/// optimiser state, options) as training goes, so the run can be resumed; the model returned is
/// the best epoch's either way.
pub fn train(
    mut config: ClassifierConfig,
    data: &TrainData<'_>,
    options: &TrainOptions,
    device: Device,
    out: Option<&Path>,
    progress: &dyn Progress,
) -> Result<(Classifier, TrainReport)> {
    options.validate()?;
    let whole = data.train;
    let (train, valid) = parts(data, options)?;
    let labels = training_labels(whole, &train, options)?;
    config.labels = labels.names().to_vec();
    let pretrained = data.pretrained;
    if pretrained.is_none() {
        config.train_embeddings = true;
    }
    config.validate()?;
    // The training sentences are split once, for the vocabulary, the coverage, the ids and
    // the sentences cut at MAX_WORDS.
    let tokenizer = Tokenizer::new(config.lowercase);
    let mut long = Vec::new();
    let sentences = train
        .examples
        .iter()
        .map(|e| {
            let (words, cut) = tokenizer.words_cut(&e.text)?;
            if cut {
                long.push(LongSentence {
                    path: train.path.clone(),
                    line: e.line,
                });
            }
            Ok(words)
        })
        .collect::<Result<Vec<_>>>()?;
    let trained = if config.train_embeddings {
        TrainedWords::All
    } else if options.learn_new_words {
        TrainedWords::New
    } else {
        TrainedWords::None
    };
    let (vocab, trained_rows) = vocabulary(&sentences, pretrained, trained)?;
    if pretrained.is_some() && trained != TrainedWords::None {
        // The trained rows are the specials and the trained words; the rest stay frozen.
        config.train_embeddings = true;
        config.trained_rows = Some(trained_rows);
    }
    crate::device::seed_everything(options.train.seed);
    let init = pretrained.map_or(EmbeddingInit::Random, EmbeddingInit::Pretrained);
    let model = Classifier::new(config, vocab, init, device)?;
    let ids = sentences
        .iter()
        .map(|w| word_ids(w, model.vocab()))
        .collect();
    let train_set = Encoded::of_ids(ids, &train, &labels)?;
    let coverage = pretrained.map_or((1.0, 0.0), |e| coverage(&sentences, e));
    let optim = Optimizer::new(model.var_store(), options.train.optimizer)
        .with_weight_decay(options.train.weight_decay);
    let setup = Setup {
        options: options.clone(),
        plan: Plan::fresh(&options.train, out),
        coverage,
        long,
        train_file: whole.path.clone(),
        valid_file: data.valid.map(|v| v.path.clone()),
    };
    go(
        model,
        optim,
        setup,
        train_set,
        valid.as_ref(),
        &labels,
        progress,
    )
}

/// The classes of the training part `train` of `whole`; an error that blames the dev split
/// when the file has two classes or more but the split left training only one.
fn training_labels(whole: &Dataset, train: &Dataset, options: &TrainOptions) -> Result<Labels> {
    match Labels::of(&train.examples, &train.path) {
        // The file has two classes or more, but the dev split took all of one.
        Err(_) if train.examples.len() < whole.examples.len() => {
            Labels::of(&whole.examples, &whole.path)?;
            Err(Error::BadFile {
                path: whole.path.clone(),
                reason: format!(
                    "the {} sentences left for training after the dev split (--valid-fraction \
                     {:?}) hold only one class; give more sentences, or --valid FILE",
                    train.examples.len(),
                    options.train.held_out
                ),
            })
        }
        labels => labels,
    }
}

/// Continues training the classifier in `dir` (weights, optimiser state, options, seed and dev
/// split) on the same data for `budget` more; saves the best epoch to `out`.
pub fn resume(
    dir: &Path,
    data: &TrainData<'_>,
    budget: Budget,
    device: Device,
    out: &Path,
    progress: &dyn Progress,
) -> Result<(Classifier, TrainReport)> {
    let meta = crate::checkpoint::read_meta(dir)?;
    crate::checkpoint::check_meta(dir, &meta, KIND, FORMAT_VERSION)?;
    let saved = TrainOptions::saved(dir)?;
    check_dev_source(dir, &meta, saved.train.held_out, data)?;
    let figure = |name: &str| meta.training.get(name).and_then(serde_json::Value::as_f64);
    let done = meta
        .training
        .get("best_epoch")
        .and_then(serde_json::Value::as_u64)
        .ok_or_else(|| Error::checkpoint(dir, "has no epoch count in meta.json"))?;
    let model = Classifier::load(dir, device)?;
    let options = TrainOptions {
        train: Settings {
            budget,
            ..saved.train
        },
        ..saved
    };
    options.validate()?;
    let (train, valid) = parts(data, &options)?;
    let labels = Labels::from_names(model.config().labels.clone());
    let (train_set, long) = Encoded::new(&model, &train, &labels)?;
    let mut optim = Optimizer::new(model.var_store(), options.train.optimizer)
        .with_weight_decay(options.train.weight_decay);
    optim.restore_from(dir)?;
    let best = match (figure("valid_accuracy"), figure("valid_loss")) {
        (Some(a), Some(l)) => Some(Score::higher(a).then_lower(l)),
        _ => None,
    };
    let setup = Setup {
        plan: Plan::fresh(&options.train, Some(out)).resuming(dir, done as usize, best),
        options,
        coverage: (
            figure("pretrained_coverage").unwrap_or(1.0),
            figure("subword_coverage").unwrap_or(0.0),
        ),
        long,
        train_file: data.train.path.clone(),
        valid_file: data.valid.map(|v| v.path.clone()),
    };
    go(
        model,
        optim,
        setup,
        train_set,
        valid.as_ref(),
        &labels,
        progress,
    )
}

/// A resumed run scores the same dev set as the saved one: the file it was given (`valid_file`
/// in `meta.json`), the same seeded share of the training data (`held_out`), or none.
fn check_dev_source(
    dir: &Path,
    meta: &Meta,
    held_out: HeldOut,
    data: &TrainData<'_>,
) -> Result<()> {
    let saved = meta
        .training
        .get("valid_file")
        .and_then(serde_json::Value::as_str);
    match (saved, data.valid) {
        (Some(file), None) => Err(Error::Config(format!(
            "{} chose its epochs on the dev file {file}: give it again (--valid)",
            dir.display()
        ))),
        (None, Some(v)) if held_out.size(data.train.examples.len()) == 0 => {
            Err(Error::Config(format!(
                "{} was trained without a dev set (--valid-fraction 0): leave out --valid {}",
                dir.display(),
                v.path.display()
            )))
        }
        (None, Some(v)) => Err(Error::Config(format!(
            "{} chose its epochs on a held-out share of its training data, not on a dev file: \
             leave out --valid {}",
            dir.display(),
            v.path.display()
        ))),
        _ => Ok(()),
    }
}

/// What a run needs besides the model and the data.
struct Setup {
    options: TrainOptions,
    plan: Plan,
    /// The shares of the training words with pretrained vectors of their own, and from
    /// subwords.
    coverage: (f64, f64),
    /// The training sentences cut at `MAX_WORDS`.
    long: Vec<LongSentence>,
    train_file: PathBuf,
    /// The dev file, when the epochs are chosen on one.
    valid_file: Option<PathBuf>,
}

fn go(
    model: Classifier,
    optim: Optimizer,
    setup: Setup,
    train_set: Encoded,
    valid: Option<&Dataset>,
    labels: &Labels,
    progress: &dyn Progress,
) -> Result<(Classifier, TrainReport)> {
    let mut long = setup.long;
    let valid_set = match valid {
        Some(v) => {
            let (set, cut) = Encoded::new(&model, v, labels)?;
            long.extend(cut);
            Some(set)
        }
        None => None,
    };
    // A held-out share comes from the training file: its lines go among the others.
    long.sort_by_key(|l| (l.path != setup.train_file, l.line));
    let start = Instant::now();
    let mut run = Run {
        model,
        optim,
        options: setup.options,
        out: setup.plan.out.clone(),
        train_set,
        valid_set,
        coverage: setup.coverage,
        train_file: setup.train_file,
        valid_file: setup.valid_file,
        figures: Vec::new(),
        best: None,
    };
    let result = train::run(&mut run, &setup.plan, progress);
    // Written even when the run failed (diverged): the best epoch before the failure is kept.
    run.write_best()?;
    let report = result?;
    let best_epoch = report.best_epoch.unwrap_or(0);
    match (&run.best, &setup.plan.resumed_from) {
        (Some(_), _) => {}
        // A resumed run that beat nothing: the resumed model is still the best.
        (None, Some(dir)) => run.model = Classifier::load(dir, run.model.device())?,
        (None, None) => return Err(Error::Config("no epoch was trained".into())),
    }
    let report = TrainReport {
        best_valid_accuracy: run
            .figures
            .iter()
            .find(|f| f.epoch == best_epoch)
            .and_then(|f| f.valid_accuracy)
            .or(report.best.map(|s| s.value)),
        epochs: run.figures,
        best_epoch,
        train_size: run.train_set.len(),
        valid_size: run.valid_set.as_ref().map_or(0, Encoded::len),
        pretrained_coverage: run.coverage.0,
        subword_coverage: run.coverage.1,
        long_sentences: long,
        trainable_parameters: run.model.trainable_parameters(),
        seconds: start.elapsed().as_secs_f64(),
    };
    Ok((run.model, report))
}
