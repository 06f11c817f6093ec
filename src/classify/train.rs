//! Training a classifier: a seeded dev split (or a given dev set), Adam on mini-batches with the
//! gradient norm clipped, dev accuracy after every epoch, early stopping when it has not improved
//! for `patience` epochs, and the best epoch's weights kept (ties go to the lower dev loss).
//! Also evaluation of a trained model and k-fold cross-validation.

use std::time::Instant;

use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};
use tch::nn::{self, OptimizerConfig};
use tch::{Device, Kind, Tensor};

use super::data::{Dataset, Labels};
use super::metrics::{k_folds, mean_sd, Evaluation};
use super::model::{Batch, Classifier, ClassifierConfig, EmbeddingInit, FORMAT_VERSION, KIND};
use super::tokenize::{word_ids, Tokenizer, SPECIALS};
use crate::checkpoint::Meta;
use crate::embeddings::Embeddings;
use crate::error::{Error, Result};
use crate::limits::{MAX_CLIP, MAX_LEARNING_RATE};
use crate::progress::{Progress, ProgressEvent};
use crate::vocab::Vocab;

/// How to train.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainOptions {
    /// Most passes over the training sentences.
    pub epochs: usize,
    /// Sentences per update.
    pub batch_size: usize,
    /// Adam's learning rate.
    pub learning_rate: f64,
    /// Stop after this many epochs without a better dev accuracy; 0 never stops early.
    pub patience: usize,
    /// Share of the training file held out as the dev set when no dev file is given; 0 trains
    /// on everything for `epochs` epochs and keeps the last.
    pub valid_fraction: f64,
    /// Largest L2 norm of the gradient.
    pub clip_norm: f64,
    /// Seeds the split, the initialisation, the batches and dropout.
    pub seed: u64,
    /// With frozen pretrained vectors: the training words that the vectors lack get vectors of
    /// their own, trained (as Kim 2014 does), instead of all reading as `<unk>`. Punctuation,
    /// names and the tokenizer's pieces of "n't" are such words in SST and MR.
    pub learn_new_words: bool,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            epochs: 50,
            batch_size: 32,
            learning_rate: 1e-3,
            patience: 10,
            valid_fraction: 0.1,
            clip_norm: 5.0,
            seed: 1,
            learn_new_words: false,
        }
    }
}

impl TrainOptions {
    /// Checks ranges.
    pub fn validate(&self) -> Result<()> {
        crate::limits::check_count("epochs", self.epochs)?;
        crate::limits::check_count("batch size", self.batch_size)?;
        crate::limits::check_positive("learning rate", self.learning_rate, MAX_LEARNING_RATE)?;
        crate::limits::check_positive("clipping norm", self.clip_norm, MAX_CLIP)?;
        if !(0.0..0.9).contains(&self.valid_fraction) {
            return Err(Error::Config(format!(
                "the dev fraction {} is not in [0, 0.9)",
                self.valid_fraction
            )));
        }
        Ok(())
    }
}

/// Figures of one epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochFigures {
    /// 1-based.
    pub epoch: usize,
    /// Mean cross-entropy on the training batches, nats.
    pub train_loss: f64,
    /// Accuracy on the training batches as they were trained (dropout on).
    pub train_accuracy: f64,
    /// Dev accuracy, when there is a dev set.
    pub valid_accuracy: Option<f64>,
    /// Dev cross-entropy, nats.
    pub valid_loss: Option<f64>,
    /// Wall time of the epoch (training and dev), seconds.
    pub seconds: f64,
    /// Whether this epoch's weights are the ones kept.
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
    /// Training and dev sentences.
    pub train_size: usize,
    /// Dev sentences (0 without a dev set).
    pub valid_size: usize,
    /// Share of the training words found in the pretrained vectors (1 without them).
    pub pretrained_coverage: f64,
    /// Trained values.
    pub trainable_parameters: i64,
    /// Training wall time, seconds.
    pub seconds: f64,
}

impl TrainReport {
    /// The `meta.json` of the trained model: the seed and this report's figures.
    pub fn meta(&self, seed: u64) -> Meta {
        let mut meta = Meta::new(KIND, FORMAT_VERSION, seed)
            .with_figure("epochs_run", self.epochs.len())
            .with_figure("best_epoch", self.best_epoch)
            .with_figure("train_sentences", self.train_size)
            .with_figure("valid_sentences", self.valid_size)
            .with_figure("seconds", self.seconds);
        if let Some(a) = self.best_valid_accuracy {
            meta = meta.with_figure("valid_accuracy", a);
        }
        meta
    }
}

/// The vocabulary of a new classifier and how many of its first rows are trained:
///
/// - pretrained vectors, frozen: `<pad>`, `<unk>`, then every word of the vectors (in their
///   order, so that test sentences can use words training never saw); no row is trained;
/// - pretrained vectors, frozen, with [`TrainedWords::New`]: `<pad>`, `<unk>`, the training
///   words that the vectors lack, by count (these rows are trained), then the vectors' words;
/// - pretrained vectors, fine-tuned: `<pad>`, `<unk>`, the training words by count (these rows
///   are trained), then the other words of the vectors (kept as they are);
/// - no vectors: `<pad>`, `<unk>`, the training words by count, all trained.
///
/// `sentences` are the training sentences split into words ([`Tokenizer::words`]).
pub fn vocabulary(
    sentences: &[Vec<String>],
    pretrained: Option<&Embeddings>,
    trained: TrainedWords,
) -> Result<(Vocab, usize)> {
    let mut tokens: Vec<String> = SPECIALS.iter().map(|s| (*s).to_owned()).collect();
    let seen = || Vocab::build(sentences.iter().flatten(), &SPECIALS, 1);
    match (trained, pretrained) {
        (TrainedWords::All, _) | (_, None) => {
            tokens.extend(seen().tokens().iter().skip(SPECIALS.len()).cloned());
        }
        (TrainedWords::New, Some(e)) => {
            let seen = seen();
            let new = seen.tokens().iter().skip(SPECIALS.len());
            tokens.extend(new.filter(|w| e.id(w).is_none()).cloned());
        }
        (TrainedWords::None, Some(_)) => {}
    }
    let trained_rows = if trained == TrainedWords::None && pretrained.is_some() {
        0
    } else {
        tokens.len()
    };
    if let Some(e) = pretrained {
        let have: std::collections::HashSet<&str> = tokens.iter().map(String::as_str).collect();
        let rest: Vec<String> = e
            .words()
            .iter()
            .filter(|w| !have.contains(w.as_str()))
            .cloned()
            .collect();
        tokens.extend(rest);
    }
    Ok((
        Vocab::try_from(tokens).map_err(Error::Config)?,
        trained_rows,
    ))
}

/// Which training words get trained vectors, for [`vocabulary`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrainedWords {
    /// None: the pretrained vectors are frozen and the other words read as `<unk>`.
    None,
    /// Those without a pretrained vector.
    New,
    /// All of them (fine-tuning, or no pretrained vectors).
    All,
}

/// Encoded sentences with their classes.
struct Encoded {
    ids: Vec<Vec<i64>>,
    classes: Vec<i64>,
}

impl Encoded {
    fn new(model: &Classifier, data: &Dataset, labels: &Labels) -> Result<Encoded> {
        let ids = data
            .examples
            .iter()
            .map(|e| model.encode(&e.text))
            .collect::<Result<Vec<_>>>()?;
        Encoded::of_ids(ids, data, labels)
    }

    /// Sentences already encoded, with the classes of `data`'s examples.
    fn of_ids(ids: Vec<Vec<i64>>, data: &Dataset, labels: &Labels) -> Result<Encoded> {
        let classes = data.classes(labels)?;
        Ok(Encoded {
            ids,
            classes: classes.into_iter().map(|c| c as i64).collect(),
        })
    }

    fn len(&self) -> usize {
        self.ids.len()
    }

    /// The batch of rows `rows` and its targets.
    fn batch(&self, rows: &[usize], device: Device) -> (Batch, Tensor) {
        let sentences: Vec<&[i64]> = rows.iter().map(|&i| self.ids[i].as_slice()).collect();
        let targets: Vec<i64> = rows.iter().map(|&i| self.classes[i]).collect();
        (
            Batch::new(&sentences, device),
            Tensor::from_slice(&targets).to_device(device),
        )
    }
}

/// How many rows of `logits` put their maximum on the target class.
fn hits(logits: &Tensor, targets: &Tensor) -> i64 {
    tch::no_grad(|| i64::try_from(logits.argmax(-1, false).eq_tensor(targets).sum(Kind::Int64)))
        .unwrap_or(0)
}

/// Mean loss and accuracy of `model` on `data`, without dropout or gradients.
fn score(model: &Classifier, data: &Encoded, batch_size: usize) -> Result<(f64, f64)> {
    let rows: Vec<usize> = (0..data.len()).collect();
    let (mut loss, mut correct) = (0.0, 0i64);
    tch::no_grad(|| -> Result<()> {
        for chunk in rows.chunks(batch_size.max(64)) {
            let (batch, targets) = data.batch(chunk, model.device());
            let logits = model.forward_t(&batch, false)?;
            loss += f64::try_from(logits.cross_entropy_for_logits(&targets) * chunk.len() as f64)
                .unwrap_or(f64::NAN);
            correct += hits(&logits, &targets);
        }
        Ok(())
    })?;
    let n = data.len().max(1) as f64;
    Ok((loss / n, correct as f64 / n))
}

/// Splits `data` into training and dev parts: a seeded shuffle, `fraction` of it (at least one
/// sentence, leaving at least one) for dev.
pub fn split(data: &Dataset, fraction: f64, seed: u64) -> Result<(Dataset, Dataset)> {
    let n = data.examples.len();
    let take = ((n as f64 * fraction).round() as usize).max(1);
    if n < 2 || take >= n {
        return Err(Error::BadFile {
            path: data.path.clone(),
            reason: format!("has {n} sentence(s): too few to hold out a dev set"),
        });
    }
    let mut rows: Vec<usize> = (0..n).collect();
    rows.shuffle(&mut crate::device::rng_from_seed(seed));
    let (dev, train) = rows.split_at(take);
    let (mut dev, mut train) = (dev.to_vec(), train.to_vec());
    dev.sort_unstable();
    train.sort_unstable();
    Ok((data.subset(&train), data.subset(&dev)))
}

/// Trains a classifier on `train`, choosing the epoch on `valid` (or on a seeded split of
/// `train` when `valid` is `None` and `options.valid_fraction > 0`). `config.labels` is filled
/// from the training data; `config.embed_dim` must be the dimension of the `pretrained` vectors (an
/// error names both otherwise).
pub fn train(
    mut config: ClassifierConfig,
    train: &Dataset,
    valid: Option<&Dataset>,
    pretrained: Option<&Embeddings>,
    options: &TrainOptions,
    device: Device,
    progress: &dyn Progress,
) -> Result<(Classifier, TrainReport)> {
    options.validate()?;
    let whole = train;
    let (train, valid) = match valid {
        Some(v) => (train.clone(), Some(v.clone())),
        None if options.valid_fraction > 0.0 => {
            let (t, v) = split(train, options.valid_fraction, options.seed)?;
            (t, Some(v))
        }
        None => (train.clone(), None),
    };
    let labels = match Labels::of(&train.examples, &train.path) {
        // The file has two classes or more, but the dev split took all of one.
        Err(_) if train.examples.len() < whole.examples.len() => {
            Labels::of(&whole.examples, &whole.path)?;
            return Err(Error::BadFile {
                path: whole.path.clone(),
                reason: format!(
                    "the {} sentences left for training after the dev split (--valid-fraction \
                     {}) hold only one class; give more sentences, or --valid FILE",
                    train.examples.len(),
                    options.valid_fraction
                ),
            });
        }
        labels => labels?,
    };
    config.labels = labels.names().to_vec();
    if pretrained.is_none() {
        config.train_embeddings = true;
    }
    config.validate()?;
    // The training sentences are split once, for the vocabulary, the coverage and the ids.
    let tokenizer = Tokenizer::new(config.lowercase);
    let sentences = train
        .examples
        .iter()
        .map(|e| tokenizer.words(&e.text))
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
    let mut rng = crate::device::seed_everything(options.seed);
    let init = pretrained.map_or(EmbeddingInit::Random, EmbeddingInit::Pretrained);
    let model = Classifier::new(config, vocab, init, device)?;
    let ids = sentences
        .iter()
        .map(|w| word_ids(w, model.vocab()))
        .collect();
    let train_set = Encoded::of_ids(ids, &train, &labels)?;
    let valid_set = valid
        .as_ref()
        .map(|v| Encoded::new(&model, v, &labels))
        .transpose()?;
    let coverage = match pretrained {
        Some(e) => {
            let words = sentences.iter().flatten();
            let known = words.clone().filter(|w| e.id(w).is_some()).count();
            known as f64 / words.count().max(1) as f64
        }
        None => 1.0,
    };

    let mut opt = nn::Adam::default()
        .build(model.var_store(), options.learning_rate)
        .map_err(|e| Error::torch("building the optimiser", e))?;
    let start = Instant::now();
    let mut epochs: Vec<EpochFigures> = Vec::new();
    let mut best: Option<Best> = None;
    let batches = train_set.len().div_ceil(options.batch_size);
    let mut order: Vec<usize> = (0..train_set.len()).collect();
    for epoch in 1..=options.epochs {
        let epoch_start = Instant::now();
        let label = format!("epoch {epoch}/{}", options.epochs);
        progress.event(&ProgressEvent::Begin {
            label: &label,
            total: Some(batches as u64),
            unit: "batches",
        });
        order.shuffle(&mut rng);
        let (mut loss_sum, mut correct, mut seen) = (0.0f64, 0i64, 0usize);
        for (b, rows) in order.chunks(options.batch_size).enumerate() {
            let (batch, targets) = train_set.batch(rows, device);
            let logits = model.forward_t(&batch, true)?;
            let loss = logits.cross_entropy_for_logits(&targets);
            opt.backward_step_clip_norm(&loss, options.clip_norm);
            let batch_loss = f64::try_from(&loss).unwrap_or(f64::NAN);
            if !batch_loss.is_finite() {
                return Err(Error::Config(format!(
                    "training diverged at epoch {epoch} (loss {batch_loss}); lower --lr"
                )));
            }
            loss_sum += batch_loss * rows.len() as f64;
            correct += hits(&logits, &targets);
            seen += rows.len();
            progress.event(&ProgressEvent::Advance { done: b as u64 + 1 });
            let status = format!(
                "loss {:.3} acc {:.1}%",
                loss_sum / seen as f64,
                100.0 * correct as f64 / seen as f64
            );
            progress.event(&ProgressEvent::Status { message: &status });
        }
        let (valid_loss, valid_accuracy) = match &valid_set {
            Some(v) => {
                let (l, a) = score(&model, v, options.batch_size)?;
                (Some(l), Some(a))
            }
            None => (None, None),
        };
        // Better: a higher dev accuracy, or the same with a lower dev loss; without a dev set
        // every epoch is "better", so the last is kept.
        let improved = match (&best, valid_accuracy, valid_loss) {
            (None, _, _) | (_, None, _) => true,
            (Some(b), Some(a), Some(l)) => a > b.accuracy || (a == b.accuracy && l < b.loss),
            _ => false,
        };
        if improved {
            best = Some(Best {
                epoch,
                accuracy: valid_accuracy.unwrap_or(0.0),
                loss: valid_loss.unwrap_or(0.0),
                weights: snapshot(&model),
            });
        }
        let figures = EpochFigures {
            epoch,
            train_loss: loss_sum / seen.max(1) as f64,
            train_accuracy: correct as f64 / seen.max(1) as f64,
            valid_accuracy,
            valid_loss,
            seconds: epoch_start.elapsed().as_secs_f64(),
            best: improved,
        };
        let summary = match valid_accuracy {
            Some(a) => format!(
                "epoch {epoch}: train loss {:.3} acc {:.1}%, dev acc {:.1}%{}",
                figures.train_loss,
                100.0 * figures.train_accuracy,
                100.0 * a,
                if improved { " (best)" } else { "" }
            ),
            None => format!(
                "epoch {epoch}: train loss {:.3} acc {:.1}%",
                figures.train_loss,
                100.0 * figures.train_accuracy
            ),
        };
        progress.event(&ProgressEvent::End { summary: &summary });
        epochs.push(figures);
        let best_epoch = best.as_ref().map_or(epoch, |b| b.epoch);
        if options.patience > 0 && valid_set.is_some() && epoch - best_epoch >= options.patience {
            break;
        }
    }
    let Some(Best {
        epoch: best_epoch,
        weights,
        ..
    }) = best
    else {
        return Err(Error::Config("no epoch was trained".into()));
    };
    restore(&model, &weights)?;
    let report = TrainReport {
        best_valid_accuracy: epochs.get(best_epoch - 1).and_then(|e| e.valid_accuracy),
        epochs,
        best_epoch,
        train_size: train_set.len(),
        valid_size: valid_set.as_ref().map_or(0, Encoded::len),
        pretrained_coverage: coverage,
        trainable_parameters: model.trainable_parameters(),
        seconds: start.elapsed().as_secs_f64(),
    };
    Ok((model, report))
}

/// The best epoch so far: its dev figures and a copy of its weights.
struct Best {
    epoch: usize,
    accuracy: f64,
    loss: f64,
    weights: Vec<(String, Tensor)>,
}

/// A copy of every weight.
fn snapshot(model: &Classifier) -> Vec<(String, Tensor)> {
    let mut vars: Vec<(String, Tensor)> = model
        .var_store()
        .variables()
        .into_iter()
        .filter(|(name, _)| {
            name != "embed.frozen" && (name != "embed.weight" || model.config().train_embeddings)
        })
        .map(|(name, t)| (name, t.detach().copy()))
        .collect();
    vars.sort_by(|a, b| a.0.cmp(&b.0));
    vars
}

/// Puts a [`snapshot`] back.
fn restore(model: &Classifier, weights: &[(String, Tensor)]) -> Result<()> {
    let vars = model.var_store().variables();
    tch::no_grad(|| {
        for (name, saved) in weights {
            if let Some(var) = vars.get(name) {
                var.shallow_clone()
                    .f_copy_(saved)
                    .map_err(|e| Error::torch("restoring the best weights", e))?;
            }
        }
        Ok(())
    })
}

/// The predicted class ids of `data`'s sentences.
pub fn predict(model: &Classifier, texts: &[&str], batch_size: usize) -> Result<Vec<usize>> {
    Ok(model
        .probabilities(texts, batch_size)?
        .iter()
        .map(|p| argmax(p))
        .collect())
}

/// Index of the largest value (the first, on ties).
pub(crate) fn argmax(p: &[f32]) -> usize {
    p.iter()
        .enumerate()
        .fold((0, f32::NEG_INFINITY), |(bi, bv), (i, &v)| {
            if v > bv {
                (i, v)
            } else {
                (bi, bv)
            }
        })
        .0
}

/// Accuracy, per-class precision/recall/F1 and the confusion matrix of `model` on `data`; a
/// label the model does not know is an error naming its file and line.
pub fn evaluate(model: &Classifier, data: &Dataset) -> Result<Evaluation> {
    let labels = Labels::from_names(model.config().labels.clone());
    let gold = data.classes(&labels)?;
    let texts: Vec<&str> = data.examples.iter().map(|e| e.text.as_str()).collect();
    let predicted = predict(model, &texts, 256)?;
    Evaluation::new(model.config().labels.clone(), &gold, &predicted)
}

/// What k-fold cross-validation measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CrossValidation {
    /// Test accuracy of each fold's model on its fold.
    pub accuracies: Vec<f64>,
    /// Their mean.
    pub mean: f64,
    /// Their sample standard deviation.
    pub sd: f64,
    /// The epoch chosen in each fold.
    pub best_epochs: Vec<usize>,
}

/// k-fold cross-validation (for data without a test split, like MR): the sentences are shuffled
/// with the seed and dealt into `k` folds; each fold is scored by a model trained on the others
/// (which hold out `options.valid_fraction` of themselves as a dev set).
pub fn cross_validate(
    config: &ClassifierConfig,
    data: &Dataset,
    k: usize,
    pretrained: Option<&Embeddings>,
    options: &TrainOptions,
    device: Device,
    progress: &dyn Progress,
) -> Result<CrossValidation> {
    let folds = k_folds(data.examples.len(), k, options.seed)?;
    let mut accuracies = Vec::with_capacity(k);
    let mut best_epochs = Vec::with_capacity(k);
    for (f, test_rows) in folds.iter().enumerate() {
        let mut train_rows: Vec<usize> = folds
            .iter()
            .enumerate()
            .filter(|&(g, _)| g != f)
            .flat_map(|(_, rows)| rows.iter().copied())
            .collect();
        train_rows.sort_unstable();
        // A fold's training part can lack a rare label: say so, not just which line has it.
        let in_fold = |e: Error| match e {
            Error::BadLine { path, line, reason } => Error::BadLine {
                path,
                line,
                reason: format!(
                    "{reason}; in fold {}/{k} (the other folds, less the dev share, train)",
                    f + 1
                ),
            },
            other => other,
        };
        let (model, report) = train(
            config.clone(),
            &data.subset(&train_rows),
            None,
            pretrained,
            options,
            device,
            progress,
        )
        .map_err(in_fold)?;
        let eval = evaluate(&model, &data.subset(test_rows)).map_err(in_fold)?;
        let summary = format!(
            "fold {}/{k}: test accuracy {:.2}% (epoch {})",
            f + 1,
            100.0 * eval.accuracy,
            report.best_epoch
        );
        progress.event(&ProgressEvent::End { summary: &summary });
        accuracies.push(eval.accuracy);
        best_epochs.push(report.best_epoch);
    }
    let (mean, sd) = mean_sd(&accuracies);
    Ok(CrossValidation {
        accuracies,
        mean,
        sd,
        best_epochs,
    })
}
