//! Training a character model through the [training core](crate::train): a seeded split (or a
//! held-out file), batches of lines or text windows, Adam or SGD with clipping, held-out nats per
//! character after every epoch, the best model saved with its optimiser state, and resume.

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};
use tch::{Device, Kind, Reduction, Tensor};

use super::data::{line_batch, text_windows, Batch, Dataset, Unit};
use super::loss::{batch_loss, evaluate_ids};
use super::model::{CharLm, ModelConfig, State, FORMAT_VERSION, KIND};
use crate::checkpoint::Meta;
use crate::error::{Error, Result};
use crate::progress::Progress;
use crate::train::{
    self, Budget, Clip, Epoch, EpochRecord, HeldOut, LrSchedule, Optimizer, OptimizerKind, Plan,
    Score, Settings, Trained, Trainee, OPTIMIZER_FILE,
};

/// How to train; saved in the model's `meta.json` so that `--resume` trains the same way.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainOptions {
    /// The network.
    pub model: ModelConfig,
    /// Text mode: characters per window (truncated backpropagation length).
    pub seq_len: usize,
    /// Held out from a file, read with the same unit, instead of from the data: then all of the
    /// data is for training.
    #[serde(default)]
    pub valid_file: Option<PathBuf>,
    /// Budget, batch size (sequences in line mode, parallel streams in text mode), optimiser,
    /// learning rate, clipping, patience, held-out share (of the sequences in line mode, of the
    /// characters at the end of the text in text mode) and seed.
    #[serde(flatten)]
    pub train: Settings,
}

impl TrainOptions {
    /// Sensible defaults for each unit. Lines: a one-layer LSTM (embedding 64, 512 hidden),
    /// Adam 2e-3 to 2e-4, batch 64. Text: a two-layer LSTM (embedding 64, 512 hidden, dropout 0.2),
    /// windows of 128 characters, batch 32.
    pub fn for_unit(unit: Unit) -> TrainOptions {
        let (layers, dropout, batch_size) = match unit {
            Unit::Line => (1, 0.1, 64),
            Unit::Text => (2, 0.2, 32),
        };
        TrainOptions {
            model: ModelConfig {
                unit,
                cell: super::Cell::Lstm,
                embed: 64,
                hidden: 512,
                layers,
                dropout,
                lowercase: false,
            },
            seq_len: 128,
            valid_file: None,
            train: Settings {
                budget: Budget::epochs(10),
                batch_size,
                optimizer: OptimizerKind::Adam,
                lr: 2e-3,
                lr_schedule: LrSchedule::Linear(2e-4),
                weight_decay: 0.0,
                clip: Clip::Norm(1.0),
                patience: 0,
                held_out: HeldOut::Fraction(0.1),
                seed: train::DEFAULT_SEED,
            },
        }
    }

    /// The Sequence Models course's dinosaur-name model: names lower-cased, a vanilla RNN of 50
    /// hidden units on one-hot characters, SGD at 0.01 one name at a time, gradients clipped
    /// element-wise at 5, about the course's 22,000 updates (14 passes over its 1,536 names).
    pub fn dinosaur() -> TrainOptions {
        TrainOptions {
            model: ModelConfig {
                unit: Unit::Line,
                cell: super::Cell::Rnn,
                embed: 0,
                hidden: 50,
                layers: 1,
                dropout: 0.0,
                lowercase: true,
            },
            seq_len: 128,
            valid_file: None,
            train: Settings {
                budget: Budget::epochs(14),
                batch_size: 1,
                optimizer: OptimizerKind::Sgd,
                lr: 0.01,
                lr_schedule: LrSchedule::Constant,
                weight_decay: 0.0,
                clip: Clip::Value(5.0),
                patience: 0,
                held_out: HeldOut::Fraction(0.05),
                seed: train::DEFAULT_SEED,
            },
        }
    }

    /// Checks ranges.
    pub fn validate(&self) -> Result<()> {
        self.model.validate()?;
        self.train.validate()?;
        crate::limits::check_count("sequence length", self.seq_len)
    }

    /// The training and held-out parts of `data`, prepared as the model reads them
    /// ([`ModelConfig::prepared`]: lower-cased before the split when the model is).
    fn split(&self, data: &Dataset) -> Result<(Dataset, Dataset)> {
        let data = self.model.prepared(data);
        match &self.valid_file {
            Some(path) => {
                let valid = Dataset::load(path, data.unit)?;
                Ok((data.into_owned(), self.model.prepared(&valid).into_owned()))
            }
            None => data.split(self.held_out(&data), self.train.seed),
        }
    }

    /// The options a model was trained with, from its `meta.json` (models saved before the
    /// training core named them the same for every family included).
    pub fn saved(dir: &Path) -> Result<TrainOptions> {
        let value = CharLm::meta(dir)?.training.get("train_options").cloned();
        value
            .and_then(|v| {
                serde_json::from_value::<TrainOptions>(v.clone())
                    .ok()
                    .or_else(|| {
                        serde_json::from_value::<Legacy>(v)
                            .ok()
                            .map(Legacy::into_options)
                    })
            })
            .ok_or_else(|| Error::checkpoint(dir, "has no training options in meta.json"))
    }

    fn held_out(&self, data: &Dataset) -> usize {
        let n = match data.unit {
            Unit::Line => data.items.len(),
            Unit::Text => data.items[0].1.chars().count(),
        };
        match self.train.held_out {
            // A share of a text is rounded as it is (0 when tiny): no character is forced out.
            HeldOut::Fraction(f) => (n as f64 * f).round() as usize,
            HeldOut::Count(c) => c,
        }
    }
}

/// The options as models saved before the training core wrote them.
#[derive(Deserialize)]
struct Legacy {
    model: ModelConfig,
    seq_len: usize,
    batch_size: usize,
    optimizer: OptimizerKind,
    lr: f64,
    lr_min: Option<f64>,
    clip: Clip,
    valid_fraction: f64,
    valid_count: Option<usize>,
    #[serde(default)]
    valid_file: Option<PathBuf>,
    seed: u64,
}

impl Legacy {
    fn into_options(self) -> TrainOptions {
        TrainOptions {
            model: self.model,
            seq_len: self.seq_len,
            valid_file: self.valid_file,
            train: Settings {
                budget: Budget::epochs(1),
                batch_size: self.batch_size,
                optimizer: self.optimizer,
                lr: self.lr,
                lr_schedule: self.lr_min.map_or(LrSchedule::Constant, LrSchedule::Linear),
                weight_decay: 0.0,
                clip: self.clip,
                patience: 0,
                held_out: self
                    .valid_count
                    .map_or(HeldOut::Fraction(self.valid_fraction), HeldOut::Count),
                seed: self.seed,
            },
        }
    }
}

/// Figures of one epoch (or of the part of one that a time budget allowed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochFigures {
    /// 1-based, counting the epochs of a resumed model.
    pub epoch: usize,
    /// Whether the epoch ran to its end (false when the time budget stopped it).
    pub complete: bool,
    /// Mean training loss, nats per character.
    pub train_nats: f64,
    /// Held-out loss, nats per character (end markers counted in line mode).
    pub valid_nats: f64,
    /// Wall time of the training part, seconds.
    pub seconds: f64,
    /// Characters trained on per second.
    pub chars_per_sec: f64,
    /// Whether this epoch's model was the best so far, and saved.
    pub saved: bool,
}

impl EpochFigures {
    fn of(record: &EpochRecord) -> EpochFigures {
        let t = &record.trained;
        EpochFigures {
            epoch: record.epoch,
            complete: t.complete,
            train_nats: t.loss,
            valid_nats: record.score.map_or(f64::NAN, |s| s.value),
            seconds: t.seconds,
            chars_per_sec: t.items as f64 / t.seconds.max(1e-9),
            saved: record.kept,
        }
    }
}

/// What a training run did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainReport {
    /// Every epoch of this run.
    pub epochs: Vec<EpochFigures>,
    /// The lowest held-out loss, nats per character (the saved model's).
    pub best_valid_nats: f64,
    /// Optimiser steps taken in total (resumed runs included).
    pub steps: i64,
    /// Trainable values.
    pub parameters: i64,
    /// Training sequences (lines) or characters (text), and held-out ones.
    pub train_items: usize,
    /// Held-out sequences or characters.
    pub valid_items: usize,
}

/// Trains a new model on `data` (split into training and held-out parts) and saves the best
/// epoch's model, with its optimiser state, to `out`.
pub fn train(
    data: &Dataset,
    options: &TrainOptions,
    device: Device,
    out: &Path,
    progress: &dyn Progress,
) -> Result<TrainReport> {
    options.validate()?;
    if data.unit != options.model.unit {
        return Err(Error::Config(format!(
            "the data was read as {:?} but the model is for {:?}",
            data.unit, options.model.unit
        )));
    }
    let (train_set, valid_set) = options.split(data)?;
    crate::device::seed_everything(options.train.seed);
    let model = CharLm::new(
        options.model.clone(),
        train_set.vocab_for(&valid_set),
        device,
    )?;
    let optim = Optimizer::new(&model.vs, options.train.optimizer)
        .with_weight_decay(options.train.weight_decay);
    let plan = Plan::fresh(&options.train, Some(out));
    go(
        model,
        optim,
        options.clone(),
        &data.path,
        plan,
        &train_set,
        &valid_set,
        progress,
    )
}

/// Continues training the model in `dir` (weights and optimiser state) on the same data and
/// split, for `budget` more; saves the best model to `out`.
pub fn resume(
    dir: &Path,
    data: &Dataset,
    budget: Budget,
    device: Device,
    out: &Path,
    progress: &dyn Progress,
) -> Result<TrainReport> {
    let meta = CharLm::meta(dir)?;
    let saved = TrainOptions::saved(dir)?;
    let done = meta
        .training
        .get("epoch")
        .and_then(serde_json::Value::as_u64)
        .ok_or_else(|| Error::checkpoint(dir, "has no epoch count in meta.json"))?;
    let best = meta
        .training
        .get("valid_nats_per_char")
        .and_then(serde_json::Value::as_f64)
        .unwrap_or(f64::INFINITY);
    let model = CharLm::load(dir, device)?;
    let mut optim = Optimizer::new(&model.vs, saved.train.optimizer)
        .with_weight_decay(saved.train.weight_decay);
    optim.restore_from(dir)?;
    if data.unit != saved.model.unit {
        return Err(Error::Config(format!(
            "the model was trained on {:?} data; read the data the same way",
            saved.model.unit
        )));
    }
    let (train_set, valid_set) = saved.split(data)?;
    // The same data must give the same vocabulary; anything else is another data set.
    if train_set.vocab_for(&valid_set) != model.vocab {
        return Err(Error::Config(format!(
            "{} is not the data this model was trained on (its characters differ)",
            data.path.display()
        )));
    }
    let options = TrainOptions {
        train: Settings {
            budget,
            ..saved.train
        },
        ..saved
    };
    options.validate()?;
    let plan = Plan::fresh(&options.train, Some(out)).resuming(
        dir,
        done as usize,
        Some(Score::lower(best)),
    );
    go(
        model, optim, options, &data.path, plan, &train_set, &valid_set, progress,
    )
}

#[allow(clippy::too_many_arguments)]
fn go(
    model: CharLm,
    optim: Optimizer,
    options: TrainOptions,
    data_path: &Path,
    plan: Plan,
    train_set: &Dataset,
    valid_set: &Dataset,
    progress: &dyn Progress,
) -> Result<TrainReport> {
    let o = &options;
    let train_ids = train_set.encode(&model.vocab)?;
    let valid_ids = valid_set.encode(&model.vocab).map_err(|e| match e {
        Error::BadLine { path, line, reason } => Error::Config(format!(
            "the held-out part has a character the training part lacks ({}:{line}: {reason}); {}",
            path.display(),
            match (&o.valid_file, o.train.held_out, o.model.unit) {
                (Some(_), _, _) => "give a held-out file with only the training data's characters",
                (None, _, Unit::Line) => "hold out other lines (--seed) or give it more data",
                (None, HeldOut::Count(_), Unit::Text) =>
                    "hold out fewer characters (--valid-count) or give it more data",
                (None, HeldOut::Fraction(_), Unit::Text) =>
                    "hold out another share (--valid-fraction) or give it more data",
            }
        )),
        other => other,
    })?;
    let n_batches = match o.model.unit {
        Unit::Line => train_ids.len().div_ceil(o.train.batch_size),
        Unit::Text => text_windows(&train_ids[0], o.train.batch_size, o.seq_len).len(),
    };
    if n_batches == 0 {
        return Err(Error::Config(format!(
            "the training text is too short for {} streams",
            o.train.batch_size
        )));
    }
    // Every run of these models saves to a directory.
    let out = plan.out.clone().unwrap_or_default();
    let mut run = Run {
        parameters: model.parameters(),
        model,
        optim,
        options: options.clone(),
        data_path: absolute(data_path),
        out,
        train_ids,
        valid_ids,
    };
    let report = train::run(&mut run, &plan, progress)?;
    Ok(TrainReport {
        epochs: report.epochs.iter().map(EpochFigures::of).collect(),
        best_valid_nats: report.best.map_or(f64::INFINITY, |s| s.value),
        steps: run.optim.steps(),
        parameters: run.parameters,
        train_items: train_set.targets(),
        valid_items: valid_set.targets(),
    })
}

struct Run {
    model: CharLm,
    optim: Optimizer,
    options: TrainOptions,
    parameters: i64,
    /// The training file, recorded in `meta.json` for `sample --stats`.
    data_path: PathBuf,
    out: PathBuf,
    train_ids: Vec<Vec<i64>>,
    valid_ids: Vec<Vec<i64>>,
}

impl Trainee for Run {
    fn train_epoch(&mut self, epoch: &mut Epoch<'_>) -> Result<Trained> {
        let o = &self.options;
        let mut rng = train::seed_epoch(o.train.seed, epoch.number);
        let batches = self.batches(&mut rng);
        epoch.begin(batches.len());
        let start = Instant::now();
        let mut loss_sum = Tensor::zeros([], (Kind::Double, self.model.device()));
        let (mut counted, mut complete) = (0usize, true);
        let mut state: Option<State> = None;
        for (i, batch) in batches.iter().enumerate() {
            let lr = epoch.lr();
            let (loss, next) = self.step(batch, state.as_ref(), lr)?;
            loss_sum += loss.to_kind(Kind::Double) * batch.counted as f64;
            counted += batch.counted;
            state = next;
            let status = || {
                let mean = loss_sum.double_value(&[]) / counted as f64;
                format!("loss {mean:.4} lr {lr:.1e}")
            };
            if epoch.batch_done(i, status) {
                complete = i + 1 == batches.len();
                break;
            }
        }
        Ok(Trained {
            loss: loss_sum.double_value(&[]) / counted.max(1) as f64,
            complete,
            items: counted,
            seconds: start.elapsed().as_secs_f64(),
        })
    }

    fn score(&mut self) -> Result<Option<Score>> {
        let batch_size = self.options.train.batch_size;
        let (sum, count) = evaluate_ids(&self.model, &self.valid_ids, batch_size)?;
        // Without held-out data there is no score, and every epoch is saved.
        Ok((count > 0).then(|| Score::lower(sum / count as f64)))
    }

    fn save(&mut self, record: &EpochRecord) -> Result<()> {
        let options = serde_json::to_value(&self.options).expect("options serialise");
        let valid_nats = record.score.map_or(f64::NAN, |s| s.value);
        let meta = Meta::new(KIND, FORMAT_VERSION, self.options.train.seed)
            .with_figure("epoch", record.epoch as u64)
            .with_figure("steps", self.optim.steps())
            .with_figure("valid_nats_per_char", valid_nats)
            .with_figure("train_options", options)
            .with_figure("train_data", self.data_path.display().to_string());
        self.model
            .save_with(&self.out, &meta, &[(OPTIMIZER_FILE, self.optim.state())])
    }

    fn describe(&self, record: &EpochRecord) -> String {
        let t = &record.trained;
        let held_out = match record.score {
            None => "no held-out data".to_owned(),
            Some(s) => format!("held-out {:.4} nats/char", s.value),
        };
        format!(
            "train {:.4}, {held_out}, {:.0} chars/s, {:.1} s",
            t.loss,
            t.items as f64 / t.seconds.max(1e-9),
            t.seconds
        )
    }

    fn describe_score(&self, score: &Score) -> String {
        format!("held-out {:.4} nats/char", score.value)
    }

    fn score_name(&self) -> &'static str {
        "held-out loss"
    }
}

impl Run {
    /// The epoch's batches: shuffled sequences (line mode, by the epoch's generator) or windows.
    fn batches(&self, rng: &mut crate::device::Rng) -> Vec<Batch> {
        let o = &self.options;
        let ids = &self.train_ids;
        match o.model.unit {
            Unit::Line => train::epoch_order(ids.len(), rng)
                .chunks(o.train.batch_size)
                .map(|chunk| {
                    let seqs: Vec<&[i64]> = chunk.iter().map(|&i| ids[i].as_slice()).collect();
                    line_batch(&seqs)
                })
                .collect(),
            Unit::Text => text_windows(&ids[0], o.train.batch_size, o.seq_len),
        }
    }

    /// One update; returns the batch's mean loss (on the device) and, in text mode, the state
    /// to carry into the next window.
    fn step(
        &mut self,
        batch: &Batch,
        state: Option<&State>,
        lr: f64,
    ) -> Result<(Tensor, Option<State>)> {
        let (loss, next) = batch_loss(&self.model, batch, state, true, Reduction::Mean)
            .map_err(|e| Error::torch("training step", e))?;
        self.optim
            .backward_step(&loss, self.options.train.clip, lr)?;
        let carried = match self.options.model.unit {
            Unit::Text => Some(next.iter().map(Tensor::detach).collect()),
            Unit::Line => None,
        };
        Ok((loss.detach(), carried))
    }
}

fn absolute(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}
