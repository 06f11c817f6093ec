//! One classifier run as the [training core](crate::train) drives it: the epoch over shuffled
//! mini-batches, the dev score (accuracy, ties to the lower dev loss), and the best epoch's
//! weights and optimiser state, kept in memory and written once at the end.

use std::path::PathBuf;
use std::time::Instant;

use tch::Tensor;

use super::inputs::{hits, score, Encoded};
use super::model::{Classifier, FORMAT_VERSION, KIND};
use super::train::{EpochFigures, TrainOptions};
use crate::checkpoint::Meta;
use crate::error::{Error, Result};
use crate::train::{self, Epoch, EpochRecord, Optimizer, Score, Trained, Trainee};

pub(super) struct Run {
    pub(super) model: Classifier,
    pub(super) optim: Optimizer,
    pub(super) options: TrainOptions,
    pub(super) out: Option<PathBuf>,
    pub(super) train_set: Encoded,
    pub(super) valid_set: Option<Encoded>,
    /// The shares of the training words with pretrained vectors of their own, and from
    /// subwords.
    pub(super) coverage: (f64, f64),
    pub(super) train_file: PathBuf,
    pub(super) valid_file: Option<PathBuf>,
    pub(super) figures: Vec<EpochFigures>,
    /// The best epoch so far, kept in memory.
    pub(super) best: Option<Best>,
}

/// The best epoch: a copy of its weights and optimiser state, and its `meta.json`.
pub(super) struct Best {
    pub(super) weights: Vec<(String, Tensor)>,
    pub(super) optimizer: Vec<(String, Tensor)>,
    pub(super) meta: Meta,
}

impl Run {
    /// Puts the best epoch's weights back into the model and, with an output directory, saves
    /// it there with its optimiser state.
    pub(super) fn write_best(&self) -> Result<()> {
        let Some(best) = &self.best else {
            return Ok(());
        };
        restore(&self.model, &best.weights)?;
        let Some(out) = &self.out else {
            return Ok(());
        };
        let optimizer = best
            .optimizer
            .iter()
            .map(|(name, t)| (name.clone(), t.shallow_clone()))
            .collect();
        self.model
            .save_with(out, &best.meta, &[(train::OPTIMIZER_FILE, optimizer)])
    }
}

impl Trainee for Run {
    fn train_epoch(&mut self, epoch: &mut Epoch<'_>) -> Result<Trained> {
        let settings = &self.options.train;
        let device = self.model.device();
        let batches = self.train_set.len().div_ceil(settings.batch_size);
        epoch.begin(batches);
        let start = Instant::now();
        let mut rng = train::seed_epoch(settings.seed, epoch.number);
        let order = train::epoch_order(self.train_set.len(), &mut rng);
        let (mut loss_sum, mut correct, mut seen) = (0.0f64, 0i64, 0usize);
        let mut complete = true;
        for (b, rows) in order.chunks(settings.batch_size).enumerate() {
            let (batch, targets) = self.train_set.batch(rows, device);
            let logits = self.model.forward_t(&batch, true)?;
            let loss = logits.cross_entropy_for_logits(&targets);
            self.optim.backward_step(&loss, settings.clip, epoch.lr())?;
            let batch_loss = f64::try_from(&loss).unwrap_or(f64::NAN);
            loss_sum += batch_loss * rows.len() as f64;
            correct += hits(&logits, &targets);
            seen += rows.len();
            let status = || {
                format!(
                    "loss {:.3} acc {:.1}%",
                    loss_sum / seen as f64,
                    100.0 * correct as f64 / seen as f64
                )
            };
            if epoch.batch_done(b, status) {
                complete = b + 1 == batches;
                break;
            }
        }
        self.figures.push(EpochFigures {
            epoch: epoch.number,
            train_loss: loss_sum / seen.max(1) as f64,
            train_accuracy: correct as f64 / seen.max(1) as f64,
            valid_accuracy: None,
            valid_loss: None,
            seconds: start.elapsed().as_secs_f64(),
            best: false,
        });
        Ok(Trained {
            loss: loss_sum / seen.max(1) as f64,
            complete,
            items: seen,
            seconds: start.elapsed().as_secs_f64(),
        })
    }

    fn score(&mut self) -> Result<Option<Score>> {
        let Some(valid) = &self.valid_set else {
            return Ok(None);
        };
        let (loss, accuracy) = score(&self.model, valid, self.options.train.batch_size)?;
        if let Some(f) = self.figures.last_mut() {
            f.valid_loss = Some(loss);
            f.valid_accuracy = Some(accuracy);
        }
        Ok(Some(Score::higher(accuracy).then_lower(loss)))
    }

    /// Keeps the epoch in memory (weights, optimiser state, figures); it is written to `out`
    /// once, when the run ends ([`Run::write_best`]): small models train an epoch in less time
    /// than a checkpoint takes to write and sync.
    fn save(&mut self, record: &EpochRecord) -> Result<()> {
        if let Some(f) = self.figures.last_mut() {
            f.best = true;
        }
        let options = serde_json::to_value(&self.options).expect("options serialise");
        let mut meta = Meta::new(KIND, FORMAT_VERSION, self.options.train.seed)
            .with_figure("best_epoch", record.epoch)
            .with_figure("train_sentences", self.train_set.len())
            .with_figure(
                "valid_sentences",
                self.valid_set.as_ref().map_or(0, Encoded::len),
            )
            .with_figure("train_file", self.train_file.display().to_string())
            .with_figure("pretrained_coverage", self.coverage.0)
            .with_figure("optimizer_steps", self.optim.steps())
            .with_figure("train_options", options);
        if self.coverage.1 > 0.0 {
            meta = meta.with_figure("subword_coverage", self.coverage.1);
        }
        if let Some(file) = &self.valid_file {
            meta = meta.with_figure("valid_file", file.display().to_string());
        }
        if let Some(s) = record.score {
            meta = meta
                .with_figure("valid_accuracy", s.value)
                .with_figure("valid_loss", s.tie_break.unwrap_or(f64::NAN));
        }
        let optimizer = self
            .optim
            .state()
            .into_iter()
            .map(|(name, t)| (name, t.copy()))
            .collect();
        self.best = Some(Best {
            weights: snapshot(&self.model),
            optimizer,
            meta,
        });
        Ok(())
    }

    fn describe(&self, record: &EpochRecord) -> String {
        let f = self.figures.last();
        let (loss, acc) = f.map_or((f64::NAN, f64::NAN), |f| (f.train_loss, f.train_accuracy));
        match record.score {
            Some(s) => format!(
                "train loss {loss:.3} acc {:.1}%, dev acc {:.1}%{}",
                100.0 * acc,
                100.0 * s.value,
                if record.kept { " (best)" } else { "" }
            ),
            None => format!("train loss {loss:.3} acc {:.1}%", 100.0 * acc),
        }
    }

    fn describe_score(&self, score: &Score) -> String {
        format!("dev accuracy {:.2}%", 100.0 * score.value)
    }

    fn score_name(&self) -> &'static str {
        "dev accuracy"
    }
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
