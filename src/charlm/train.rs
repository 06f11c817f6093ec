//! Training: seeded split, batches, Adam or SGD with clipping, an epoch or time budget, held-out
//! nats per character after every epoch, the best model saved with its optimiser state, resume.

use std::path::Path;
use std::time::{Duration, Instant};

use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};
use tch::{Device, Kind, Reduction, Tensor};

use super::adam::{Optim, OPTIMIZER_FILE};
use super::data::{line_batch, text_windows, Batch, Dataset, Unit, IGNORE};
use super::model::{CharLm, ModelConfig, State, FORMAT_VERSION, KIND};
use crate::checkpoint::{self, Meta};
use crate::error::{Error, Result, MAX_CLIP, MAX_LEARNING_RATE};
use crate::progress::{Progress, ProgressEvent};

/// The optimiser.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Optimizer {
    /// Adam (betas 0.9, 0.999), as PyTorch's.
    Adam,
    /// Plain stochastic gradient descent (the course's).
    Sgd,
}

/// Gradient clipping.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Clip {
    /// None.
    Off,
    /// Rescale all gradients to at most this global L2 norm.
    Norm(f64),
    /// Clamp every gradient value into `[-c, c]` (the course's element-wise clipping).
    Value(f64),
}

/// How to train; saved in the model's `meta.json` so that `--resume` trains the same way.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainOptions {
    /// The network.
    pub model: ModelConfig,
    /// Text mode: characters per window (truncated backpropagation length).
    pub seq_len: usize,
    /// Sequences (line mode) or parallel streams (text mode) per batch.
    pub batch_size: usize,
    /// Adam or SGD.
    pub optimizer: Optimizer,
    /// Learning rate.
    pub lr: f64,
    /// When set, the learning rate falls linearly from `lr` to this over the run (the run's
    /// progress is the larger of its epoch and time-budget fractions).
    pub lr_min: Option<f64>,
    /// Gradient clipping.
    pub clip: Clip,
    /// Passes over the training data (at most).
    pub epochs: usize,
    /// Stop after the first batch that ends past this wall time (then evaluate and save).
    pub time_budget: Option<Duration>,
    /// Held out: a share of the sequences (line mode) or the end of the text (text mode)...
    pub valid_fraction: f64,
    /// ...or this many sequences (line mode) / characters (text mode), when set.
    pub valid_count: Option<usize>,
    /// ...or this file, read with the same unit: then all of the data is for training.
    #[serde(default)]
    pub valid_file: Option<std::path::PathBuf>,
    /// Seeds the split, the shuffles, the initial weights and dropout.
    pub seed: u64,
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
            batch_size,
            optimizer: Optimizer::Adam,
            lr: 2e-3,
            lr_min: Some(2e-4),
            clip: Clip::Norm(1.0),
            epochs: 10,
            time_budget: None,
            valid_fraction: 0.1,
            valid_count: None,
            valid_file: None,
            seed: 42,
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
            batch_size: 1,
            optimizer: Optimizer::Sgd,
            lr: 0.01,
            lr_min: None,
            clip: Clip::Value(5.0),
            epochs: 14,
            time_budget: None,
            valid_fraction: 0.05,
            valid_count: None,
            valid_file: None,
            seed: 42,
        }
    }

    /// Checks ranges.
    pub fn validate(&self) -> Result<()> {
        self.model.validate()?;
        Error::check_count("batch size", self.batch_size)?;
        Error::check_count("sequence length", self.seq_len)?;
        Error::check_count("epochs", self.epochs)?;
        Error::check_positive("learning rate", self.lr, MAX_LEARNING_RATE)?;
        if let Some(m) = self.lr_min.filter(|&m| !(m.is_finite() && m >= 0.0)) {
            return Err(Error::Config(format!(
                "the final learning rate {m} must be >= 0"
            )));
        }
        if let Some(min) = self.lr_min.filter(|&m| m > self.lr) {
            return Err(Error::Config(format!(
                "the final learning rate {min} is above the learning rate {}: the decay goes down",
                self.lr
            )));
        }
        match self.clip {
            Clip::Norm(c) | Clip::Value(c) => {
                Error::check_positive("clipping threshold", c, MAX_CLIP)?
            }
            Clip::Off => {}
        }
        Error::check_fraction("valid fraction", self.valid_fraction)?;
        Ok(())
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
            None => data.split(self.held_out(&data), self.seed),
        }
    }

    /// The options a model was trained with, from its `meta.json`.
    pub fn saved(dir: &Path) -> Result<TrainOptions> {
        CharLm::meta(dir)?
            .training
            .get("train_options")
            .cloned()
            .and_then(|v| serde_json::from_value(v).ok())
            .ok_or_else(|| Error::checkpoint(dir, "has no training options in meta.json"))
    }

    fn held_out(&self, data: &Dataset) -> usize {
        self.valid_count.unwrap_or_else(|| {
            let n = match data.unit {
                Unit::Line => data.items.len(),
                Unit::Text => data.items[0].1.chars().count(),
            };
            (n as f64 * self.valid_fraction).round() as usize
        })
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

/// Trains a model on `data` (split into training and held-out parts) and saves the best epoch's
/// model, with its optimiser state, to `out`.
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
    crate::device::seed_everything(options.seed);
    let model = CharLm::new(
        options.model.clone(),
        train_set.vocab_for(&valid_set),
        device,
    )?;
    let optim = Optim::new(&model.vs, options.optimizer == Optimizer::Adam);
    Run {
        model,
        optim,
        options: options.clone(),
        first_epoch: 1,
        best: f64::INFINITY,
        data_path: absolute(&data.path),
        resumed_from: None,
    }
    .go(&train_set, &valid_set, out, progress)
}

/// Continues training the model in `dir` (weights and optimiser state) on the same data and
/// split, for `epochs` more epochs or `time_budget`; saves the best model to `out`.
pub fn resume(
    dir: &Path,
    data: &Dataset,
    epochs: usize,
    time_budget: Option<Duration>,
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
    let mut optim = Optim::new(&model.vs, saved.optimizer == Optimizer::Adam);
    optim.restore(checkpoint::load_tensors(dir, OPTIMIZER_FILE)?, dir)?;
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
        epochs: (done as usize).saturating_add(epochs),
        time_budget,
        ..saved
    };
    Run {
        model,
        optim,
        options,
        first_epoch: done as usize + 1,
        best,
        data_path: absolute(&data.path),
        resumed_from: Some(dir.to_path_buf()),
    }
    .go(&train_set, &valid_set, out, progress)
}

struct Run {
    model: CharLm,
    optim: Optim,
    options: TrainOptions,
    first_epoch: usize,
    best: f64,
    /// The training file, recorded in `meta.json` for `sample --stats`.
    data_path: std::path::PathBuf,
    /// The model directory a resumed run started from.
    resumed_from: Option<std::path::PathBuf>,
}

impl Run {
    fn go(
        mut self,
        train_set: &Dataset,
        valid_set: &Dataset,
        out: &Path,
        progress: &dyn Progress,
    ) -> Result<TrainReport> {
        let o = self.options.clone();
        let train_ids = train_set.encode(&self.model.vocab)?;
        let valid_ids = valid_set.encode(&self.model.vocab).map_err(|e| match e {
            Error::BadLine { path, line, reason } => Error::Config(format!(
                "the held-out part has a character the training part lacks ({}:{line}: {reason}); {}",
                path.display(),
                match (&o.valid_file, o.valid_count, o.model.unit) {
                    (Some(_), _, _) => "give a held-out file with only the training data's characters",
                    (None, _, Unit::Line) => "hold out other lines (--seed) or give it more data",
                    (None, Some(_), Unit::Text) => "hold out fewer characters (--valid-count) or give it more data",
                    (None, None, Unit::Text) => "hold out another share (--valid-fraction) or give it more data",
                }
            )),
            other => other,
        })?;
        let n_batches = match o.model.unit {
            Unit::Line => train_ids.len().div_ceil(o.batch_size),
            Unit::Text => text_windows(&train_ids[0], o.batch_size, o.seq_len).len(),
        };
        if n_batches == 0 {
            return Err(Error::Config(format!(
                "the training text is too short for {} streams",
                o.batch_size
            )));
        }
        // Saturating: with a time budget, `epochs` may be "as many as fit" (near usize::MAX).
        let planned = (o.epochs.saturating_add(1) - self.first_epoch).saturating_mul(n_batches);
        let mut trained = Duration::ZERO;
        let mut report = TrainReport {
            epochs: Vec::new(),
            best_valid_nats: self.best,
            steps: 0,
            parameters: self.model.parameters(),
            train_items: train_set.targets(),
            valid_items: valid_set.targets(),
        };
        let mut done_batches = 0usize;
        for epoch in self.first_epoch..=o.epochs {
            tch::manual_seed((o.seed ^ 0x5eed_0000) as i64 + epoch as i64);
            let batches = self.batches(&train_ids, epoch);
            let label = if o.time_budget.is_some() && o.epochs >= usize::MAX / 8 {
                format!("epoch {epoch}")
            } else {
                format!("epoch {epoch}/{}", o.epochs)
            };
            progress.event(&ProgressEvent::Begin {
                label: &label,
                total: Some(batches.len() as u64),
                unit: "batches",
            });
            let epoch_start = Instant::now();
            let device = self.model.device();
            let mut loss_sum = Tensor::zeros([], (Kind::Double, device));
            let (mut counted, mut complete) = (0usize, true);
            let mut state: Option<State> = None;
            for (i, batch) in batches.iter().enumerate() {
                let progress_now = {
                    let by_batches = done_batches as f64 / planned.max(1) as f64;
                    let by_time = o.time_budget.map_or(0.0, |b| {
                        (trained + epoch_start.elapsed()).as_secs_f64() / b.as_secs_f64()
                    });
                    by_batches.max(by_time).min(1.0)
                };
                let lr = match o.lr_min {
                    Some(min) => o.lr - (o.lr - min) * progress_now,
                    None => o.lr,
                };
                let (loss, next) = self.step(batch, state.as_ref(), lr)?;
                loss_sum += loss.to_kind(Kind::Double) * batch.counted as f64;
                counted += batch.counted;
                state = next;
                done_batches += 1;
                if i % 25 == 24 || i + 1 == batches.len() {
                    progress.event(&ProgressEvent::Advance { done: i as u64 + 1 });
                    let message = format!(
                        "loss {:.4} lr {lr:.1e}",
                        loss_sum.double_value(&[]) / counted as f64
                    );
                    progress.event(&ProgressEvent::Status { message: &message });
                }
                if o.time_budget
                    .is_some_and(|b| trained + epoch_start.elapsed() >= b)
                {
                    complete = i + 1 == batches.len();
                    break;
                }
            }
            let seconds = epoch_start.elapsed().as_secs_f64();
            trained += epoch_start.elapsed();
            let train_nats = loss_sum.double_value(&[]) / counted.max(1) as f64;
            let (valid_sum, valid_count) = evaluate_ids(&self.model, &valid_ids, o.batch_size)?;
            // Without held-out data there is no score (NaN) and every epoch is saved, so the
            // last one is kept.
            let valid_nats = if valid_count == 0 {
                f64::NAN
            } else {
                valid_sum / valid_count as f64
            };
            let saved = valid_count == 0 || valid_nats < self.best;
            if saved {
                if valid_count > 0 {
                    self.best = valid_nats;
                }
                self.save(out, epoch, valid_nats)?;
            }
            let figures = EpochFigures {
                epoch,
                complete,
                train_nats,
                valid_nats,
                seconds,
                chars_per_sec: counted as f64 / seconds.max(1e-9),
                saved,
            };
            let held_out = if valid_count == 0 {
                "no held-out data".to_owned()
            } else {
                format!("held-out {valid_nats:.4} nats/char")
            };
            let summary = format!(
                "{label}{}: train {train_nats:.4}, {held_out}, \
                 {:.0} chars/s, {seconds:.1} s ({:.2} min of training in this run){}",
                if complete {
                    ""
                } else {
                    " (stopped by the time budget)"
                },
                figures.chars_per_sec,
                trained.as_secs_f64() / 60.0,
                if saved { ", saved" } else { "" }
            );
            progress.event(&ProgressEvent::End { summary: &summary });
            report.epochs.push(figures);
            if !complete || o.time_budget.is_some_and(|b| trained >= b) {
                break;
            }
        }
        report.best_valid_nats = self.best;
        report.steps = self.optim.steps();
        checkpoint::check_run_left_a_model(
            report.epochs.iter().any(|e| e.saved),
            self.resumed_from.as_deref(),
            out,
            "held-out loss",
            self.best,
        )?;
        Ok(report)
    }

    /// The epoch's batches: shuffled sequences (line mode, seeded by the epoch) or windows.
    fn batches(&self, ids: &[Vec<i64>], epoch: usize) -> Vec<Batch> {
        let o = &self.options;
        match o.model.unit {
            Unit::Line => {
                let mut order: Vec<usize> = (0..ids.len()).collect();
                let mut rng = crate::device::rng_from_seed(o.seed.wrapping_add(epoch as u64));
                order.shuffle(&mut rng);
                order
                    .chunks(o.batch_size)
                    .map(|chunk| {
                        let seqs: Vec<&[i64]> = chunk.iter().map(|&i| ids[i].as_slice()).collect();
                        line_batch(&seqs)
                    })
                    .collect()
            }
            Unit::Text => text_windows(&ids[0], o.batch_size, o.seq_len),
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
        let err = |e| Error::torch("training step", e);
        let (loss, next) =
            batch_loss(&self.model, batch, state, true, Reduction::Mean).map_err(err)?;
        self.optim.zero_grad();
        loss.f_backward().map_err(err)?;
        self.optim.clip(self.options.clip)?;
        self.optim.step(lr)?;
        let carried = match self.options.model.unit {
            Unit::Text => Some(next.iter().map(Tensor::detach).collect()),
            Unit::Line => None,
        };
        Ok((loss.detach(), carried))
    }

    fn save(&self, out: &Path, epoch: usize, valid_nats: f64) -> Result<()> {
        let options = serde_json::to_value(&self.options).expect("options serialise");
        let meta = Meta::new(KIND, FORMAT_VERSION, self.options.seed)
            .with_figure("epoch", epoch as u64)
            .with_figure("steps", self.optim.steps())
            .with_figure("valid_nats_per_char", valid_nats)
            .with_figure("train_options", options)
            .with_figure("train_data", self.data_path.display().to_string());
        self.model
            .save_with(out, &meta, &[(OPTIMIZER_FILE, self.optim.state())])
    }
}

fn absolute(path: &Path) -> std::path::PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// The cross-entropy of one batch (padding ignored), reduced by `reduction`, and the state after
/// it: the one computation of training and evaluation.
fn batch_loss(
    model: &CharLm,
    batch: &Batch,
    state: Option<&State>,
    train: bool,
    reduction: Reduction,
) -> std::result::Result<(Tensor, State), tch::TchError> {
    let shape = [batch.rows as i64, batch.steps as i64];
    let device = model.device();
    let inputs = Tensor::from_slice(&batch.inputs)
        .f_view(shape)?
        .f_to_device(device)?;
    let targets = Tensor::from_slice(&batch.targets)
        .f_view(shape)?
        .f_to_device(device)?;
    let (logits, next) = model.forward(&inputs, state, train)?;
    let loss = logits
        .f_view([-1, model.vocab.len() as i64])?
        .f_cross_entropy_loss::<Tensor>(&targets.f_view([-1])?, None, reduction, IGNORE, 0.0)?;
    Ok((loss, next))
}

/// Summed loss (nats) and counted targets over encoded items, without dropout or gradients.
pub(crate) fn evaluate_ids(
    model: &CharLm,
    ids: &[Vec<i64>],
    batch_size: usize,
) -> Result<(f64, usize)> {
    let err = |e| Error::torch("evaluating", e);
    let batches: Vec<Batch> = match model.config.unit {
        Unit::Line => {
            // Sorted by length so that batches carry little padding.
            let mut order: Vec<usize> = (0..ids.len()).collect();
            order.sort_by_key(|&i| ids[i].len());
            order
                .chunks(batch_size.max(256))
                .map(|c| line_batch(&c.iter().map(|&i| ids[i].as_slice()).collect::<Vec<_>>()))
                .collect()
        }
        Unit::Text => {
            let stream = &ids[0];
            let rows = (stream.len() / 4096).clamp(1, 16);
            text_windows(stream, rows, 256)
        }
    };
    tch::no_grad(|| {
        let mut total = Tensor::zeros([], (Kind::Double, model.device()));
        let mut counted = 0;
        let mut state: Option<State> = None;
        for batch in &batches {
            let (loss, next) =
                batch_loss(model, batch, state.as_ref(), false, Reduction::Sum).map_err(err)?;
            total += loss.to_kind(Kind::Double);
            counted += batch.counted;
            if model.config.unit == Unit::Text {
                state = Some(next);
            }
        }
        Ok((total.double_value(&[]), counted))
    })
}
