//! The epoch loop every model trains through.
//!
//! A model family implements [`Trainee`]: how to train one epoch (its batches, its loss), how to
//! score the held-out data, and how to save itself. [`run`] does the rest, the same way for
//! every family: the epoch and time [`Budget`](super::Budget), the learning-rate
//! [`LrSchedule`], early stopping after `patience` epochs without a better [`Score`], saving only
//! an epoch that beats the best so far (a resumed run starts from the saved model's best),
//! divergence detection, progress events, and one closing line that says why the run stopped and
//! which epoch was kept. Ctrl-C stops the run between two batches, keeping the best epoch saved
//! so far ([`super::interrupt`]).

use std::path::{Path, PathBuf};

use super::budget::{Budget, Clock};
use super::interrupt;
use super::schedule::LrSchedule;
use super::settings::Settings;
use crate::error::{Error, Result};
use crate::progress::{Progress, ProgressEvent};

/// A held-out score and which way is better; ties go to the lower `tie_break`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Score {
    /// The figure: a loss, an accuracy.
    pub value: f64,
    /// Whether a higher value is better (an accuracy) or a lower one (a loss).
    pub higher_is_better: bool,
    /// Decides between equal values: the lower wins (a loss beside an accuracy).
    pub tie_break: Option<f64>,
}

impl Score {
    /// A score where lower is better (a loss).
    pub fn lower(value: f64) -> Score {
        Score {
            value,
            higher_is_better: false,
            tie_break: None,
        }
    }

    /// A score where higher is better (an accuracy).
    pub fn higher(value: f64) -> Score {
        Score {
            value,
            higher_is_better: true,
            tie_break: None,
        }
    }

    /// The same score, with `loss` deciding ties (lower wins).
    pub fn then_lower(self, loss: f64) -> Score {
        Score {
            tie_break: Some(loss),
            ..self
        }
    }

    /// Whether this score is better than `best`. A score that is not a number never is.
    pub fn beats(&self, best: &Score) -> bool {
        if self.value.is_nan() {
            return false;
        }
        if self.value == best.value {
            return matches!((self.tie_break, best.tie_break), (Some(a), Some(b)) if a < b);
        }
        if self.higher_is_better {
            self.value > best.value
        } else {
            self.value < best.value
        }
    }
}

/// What one epoch's training part did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Trained {
    /// Mean training loss.
    pub loss: f64,
    /// Whether the epoch ran to its end (false when the time budget stopped it).
    pub complete: bool,
    /// Items trained on (characters, sentences, tokens), for throughput.
    pub items: usize,
    /// Wall time of the training part, seconds.
    pub seconds: f64,
}

/// One epoch as the loop saw it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EpochRecord {
    /// 1-based, counting the epochs of a resumed model.
    pub epoch: usize,
    /// The training part.
    pub trained: Trained,
    /// The held-out score (`None` without held-out data).
    pub score: Option<Score>,
    /// Whether this epoch beat the best so far and was saved.
    pub kept: bool,
    /// The base learning rate the epoch trained at.
    pub lr: f64,
}

/// Why a run stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// It ran every epoch of its budget.
    Epochs,
    /// The time budget was spent.
    TimeBudget,
    /// `patience` epochs in a row did not beat the best.
    Patience,
}

/// What a run did.
#[derive(Debug, Clone, PartialEq)]
pub struct RunReport {
    /// Every epoch of this run.
    pub epochs: Vec<EpochRecord>,
    /// The epoch kept: the best of this run, or the resumed model's when none beat it.
    pub best_epoch: Option<usize>,
    /// Its score.
    pub best: Option<Score>,
    /// Why the run stopped.
    pub stop: Stop,
    /// The base learning rate after the last epoch (what a resumed run starts from).
    pub lr: f64,
}

/// How to run the epochs.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// Epochs and/or time.
    pub budget: Budget,
    /// Base learning rate at the start.
    pub lr: f64,
    /// How the rate moves.
    pub schedule: LrSchedule,
    /// Stop after this many epochs in a row without a better score; 0 never stops early.
    pub patience: usize,
    /// The number of the first epoch: 1, or the next of a resumed model.
    pub first_epoch: usize,
    /// The resumed model's epoch and score, which an epoch must beat to be saved.
    pub best: Option<(usize, Score)>,
    /// Where the model is saved (`None` for a model kept in memory): checked at the end so that
    /// a run that saved nothing says so.
    pub out: Option<PathBuf>,
    /// The directory of the model a resumed run continues.
    pub resumed_from: Option<PathBuf>,
}

impl Plan {
    /// A fresh run of `budget` at `lr`, constant, with no early stopping.
    pub fn new(budget: Budget, lr: f64) -> Plan {
        Plan {
            budget,
            lr,
            schedule: LrSchedule::Constant,
            patience: 0,
            first_epoch: 1,
            best: None,
            out: None,
            resumed_from: None,
        }
    }

    /// A fresh run as `settings` say (budget, learning rate and schedule, patience), saving
    /// to `out`.
    pub fn fresh(settings: &Settings, out: Option<&Path>) -> Plan {
        Plan {
            schedule: settings.lr_schedule,
            patience: settings.patience,
            out: out.map(Path::to_path_buf),
            ..Plan::new(settings.budget, settings.lr)
        }
    }

    /// The same run continuing the model in `dir`, whose last saved epoch is `done` with the
    /// held-out score `best` (which an epoch must beat to be saved).
    pub fn resuming(self, dir: &Path, done: usize, best: Option<Score>) -> Plan {
        Plan {
            first_epoch: done.saturating_add(1),
            best: best.map(|s| (done, s)),
            resumed_from: Some(dir.to_path_buf()),
            ..self
        }
    }
}

/// A model being trained, as the loop drives it.
pub trait Trainee {
    /// Trains one epoch: [`Epoch::begin`] with the number of batches, then for each batch the
    /// update at [`Epoch::lr`] and [`Epoch::batch_done`], which says when the time is up.
    fn train_epoch(&mut self, epoch: &mut Epoch<'_>) -> Result<Trained>;
    /// Scores the held-out data with the model as it is; `None` without held-out data.
    fn score(&mut self) -> Result<Option<Score>>;
    /// Saves the model as the best so far (the epoch's record says which and how good).
    fn save(&mut self, record: &EpochRecord) -> Result<()>;
    /// The epoch's figures for its summary line, e.g. "train 1.2345, held-out 1.3012 nats/char".
    fn describe(&self, record: &EpochRecord) -> String;
    /// A score as the summary line writes it, e.g. "held-out loss 1.3012".
    fn describe_score(&self, score: &Score) -> String;
    /// What the score is, for messages: "held-out loss", "dev accuracy".
    fn score_name(&self) -> &'static str {
        "held-out score"
    }
}

/// One epoch in progress: its number, learning rate and clock.
pub struct Epoch<'a> {
    /// 1-based, counting the epochs of a resumed model.
    pub number: usize,
    label: String,
    clock: &'a mut Clock,
    base_lr: f64,
    schedule: LrSchedule,
    progress: &'a dyn Progress,
    batches: usize,
}

impl Epoch<'_> {
    /// "epoch 3/10", or "epoch 3" when epochs are not counted.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// Starts the epoch's `batches` batches (and its progress bar).
    pub fn begin(&mut self, batches: usize) {
        self.batches = batches;
        self.clock.plan_batches(batches);
        self.progress.event(&ProgressEvent::Begin {
            label: &self.label,
            total: Some(batches as u64),
            unit: "batches",
        });
    }

    /// The learning rate of the next batch.
    pub fn lr(&self) -> f64 {
        self.schedule.at(self.base_lr, self.clock.progress())
    }

    /// Batch `index` (0-based) is done; `status` gives the figures beside the bar (asked every
    /// ten batches and at the last). Returns true when the time budget is spent or Ctrl-C was
    /// pressed, and the epoch must stop here.
    pub fn batch_done(&mut self, index: usize, status: impl FnOnce() -> String) -> bool {
        self.clock.batch_done();
        self.progress.event(&ProgressEvent::Advance {
            done: index as u64 + 1,
        });
        if index % 10 == 9 || index + 1 == self.batches {
            self.progress
                .event(&ProgressEvent::Status { message: &status() });
        }
        self.clock.out_of_time() || interrupt::requested()
    }
}

/// Trains `trainee` to `plan`'s end, saving each epoch that beats the best so far.
pub fn run(trainee: &mut dyn Trainee, plan: &Plan, progress: &dyn Progress) -> Result<RunReport> {
    plan.budget.validate()?;
    let _watch = interrupt::Watch::start();
    let mut clock = Clock::start(plan.budget);
    let last = plan.budget.last_epoch(plan.first_epoch);
    let mut lr = plan.lr;
    let mut best = plan.best;
    let mut epochs = Vec::new();
    let mut epoch = plan.first_epoch;
    // Without held-out data, a plateau schedule watches the training loss instead.
    let mut best_loss = f64::INFINITY;
    let stop = loop {
        let label = match last {
            Some(last) => format!("epoch {epoch}/{last}"),
            None => format!("epoch {epoch}"),
        };
        let mut ep = Epoch {
            number: epoch,
            label,
            clock: &mut clock,
            base_lr: lr,
            schedule: plan.schedule,
            progress,
            batches: 0,
        };
        let saved = best.filter(|b| Some(b.0) != plan.best.map(|p| p.0));
        if interrupt::requested() {
            let when = format!("before epoch {epoch}");
            return Err(interrupt::interrupted(&when, saved.map(|b| b.0), plan));
        }
        let trained = trainee.train_epoch(&mut ep)?;
        if interrupt::requested() {
            let when = format!("during epoch {epoch}");
            return Err(interrupt::interrupted(&when, saved.map(|b| b.0), plan));
        }
        let label = ep.label;
        if !trained.loss.is_finite() {
            return Err(diverged(epoch, trained.loss, best.map(|b| b.0), plan));
        }
        let score = trainee.score()?;
        let kept = match (&score, &best) {
            (None, _) => true,
            (Some(s), None) => !s.value.is_nan(),
            (Some(s), Some((_, b))) => s.beats(b),
        };
        let record = EpochRecord {
            epoch,
            trained,
            score,
            kept,
            lr,
        };
        if kept {
            trainee.save(&record)?;
            best = score
                .map(|s| (epoch, s))
                .or(Some((epoch, Score::lower(f64::NAN))));
        }
        let improved = match score {
            Some(_) => kept,
            None => trained.loss < best_loss,
        };
        best_loss = best_loss.min(trained.loss);
        lr = plan.schedule.after_epoch(lr, improved);
        let summary = epoch_line(&label, trainee, &record);
        progress.event(&ProgressEvent::End { summary: &summary });
        epochs.push(record);
        let since_best = best.map_or(0, |(b, _)| epoch.saturating_sub(b));
        if !trained.complete || clock.out_of_time() {
            break Stop::TimeBudget;
        }
        if plan.patience > 0 && score.is_some() && since_best >= plan.patience {
            break Stop::Patience;
        }
        if last.is_some_and(|last| epoch >= last) {
            break Stop::Epochs;
        }
        epoch += 1;
    };
    let report = RunReport {
        best_epoch: best.map(|b| b.0),
        best: best.map(|b| b.1).filter(|s| !s.value.is_nan()),
        epochs,
        stop,
        lr,
    };
    progress.event(&ProgressEvent::End {
        summary: &closing_line(trainee, &report, plan),
    });
    if let Some(out) = &plan.out {
        let kept_any = report.epochs.iter().any(|e| e.kept);
        let best_value = plan.best.map_or(f64::INFINITY, |b| b.1.value);
        crate::checkpoint::check_run_left_a_model(
            kept_any,
            plan.resumed_from.as_deref(),
            out,
            trainee.score_name(),
            best_value,
        )?;
    }
    Ok(report)
}

/// The line that ends an epoch: "epoch 3/10: <the trainee's figures>, saved".
fn epoch_line(label: &str, trainee: &dyn Trainee, record: &EpochRecord) -> String {
    format!(
        "{label}{}: {}{}",
        if record.trained.complete {
            ""
        } else {
            " (stopped by the time budget)"
        },
        trainee.describe(record),
        if record.kept { ", saved" } else { "" }
    )
}

/// "stopped after epoch 7: patience 3 ran out; kept epoch 4 (held-out loss 1.2345)".
fn closing_line(trainee: &dyn Trainee, report: &RunReport, plan: &Plan) -> String {
    let last = report.epochs.last().map_or(plan.first_epoch, |e| e.epoch);
    let why = match report.stop {
        Stop::Epochs => "the epochs were run".to_owned(),
        Stop::TimeBudget => format!(
            "the time budget of {} was spent",
            plan.budget
                .time_budget
                .map_or_else(String::new, |t| format!("{:.0} s", t.as_secs_f64()))
        ),
        Stop::Patience => format!(
            "{} in a row without a better held-out score (--patience)",
            epochs(plan.patience)
        ),
    };
    let kept = match (report.best_epoch, report.best) {
        (Some(e), Some(s)) if report.epochs.iter().any(|r| r.epoch == e) => {
            format!("kept epoch {e} ({})", trainee.describe_score(&s))
        }
        (Some(e), Some(s)) => format!(
            "no epoch beat the resumed model: kept its epoch {e} ({})",
            trainee.describe_score(&s)
        ),
        (Some(e), None) => format!("kept epoch {e}, the last (no held-out data)"),
        (None, _) => "no epoch had a finite held-out score: nothing kept".to_owned(),
    };
    format!("stopped after epoch {last}: {why}; {kept}")
}

/// "1 epoch", "3 epochs".
pub(crate) fn epochs(n: usize) -> String {
    if n == 1 {
        "1 epoch".to_owned()
    } else {
        format!("{n} epochs")
    }
}

fn diverged(epoch: usize, loss: f64, best: Option<usize>, plan: &Plan) -> Error {
    let saved = match (best, &plan.out) {
        (Some(b), Some(out)) => {
            format!("; epoch {b}, the best before it, is in {}", out.display())
        }
        _ => String::new(),
    };
    Error::Config(format!(
        "training diverged at epoch {epoch} (training loss {loss}): lower the learning rate \
         (--lr){saved}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_compare_in_their_direction_with_ties_to_the_lower_loss() {
        assert!(Score::lower(1.0).beats(&Score::lower(2.0)));
        assert!(!Score::lower(2.0).beats(&Score::lower(1.0)));
        assert!(Score::higher(0.9).beats(&Score::higher(0.8)));
        assert!(!Score::higher(0.8).beats(&Score::higher(0.8)));
        assert!(Score::higher(0.8)
            .then_lower(0.1)
            .beats(&Score::higher(0.8).then_lower(0.2)));
        assert!(!Score::lower(f64::NAN).beats(&Score::lower(f64::INFINITY)));
        assert!(Score::lower(5.0).beats(&Score::lower(f64::INFINITY)));
    }

    /// A trainee whose held-out scores are given in advance.
    struct Scripted {
        scores: Vec<f64>,
        epoch: usize,
        saved: Vec<usize>,
        loss: f64,
    }

    impl Trainee for Scripted {
        fn train_epoch(&mut self, epoch: &mut Epoch<'_>) -> Result<Trained> {
            epoch.begin(2);
            epoch.batch_done(0, String::new);
            epoch.batch_done(1, String::new);
            self.epoch = epoch.number;
            Ok(Trained {
                loss: self.loss,
                complete: true,
                items: 2,
                seconds: 0.0,
            })
        }
        fn score(&mut self) -> Result<Option<Score>> {
            Ok(self.scores.get(self.epoch - 1).map(|&s| Score::lower(s)))
        }
        fn save(&mut self, record: &EpochRecord) -> Result<()> {
            self.saved.push(record.epoch);
            Ok(())
        }
        fn describe(&self, _: &EpochRecord) -> String {
            String::new()
        }
        fn describe_score(&self, s: &Score) -> String {
            format!("loss {}", s.value)
        }
    }

    fn scripted(scores: &[f64]) -> Scripted {
        Scripted {
            scores: scores.to_vec(),
            epoch: 0,
            saved: Vec::new(),
            loss: 1.0,
        }
    }

    #[test]
    fn saves_only_improvements_and_stops_on_patience() {
        let mut t = scripted(&[3.0, 2.0, 2.5, 2.4, 2.2, 1.0]);
        let plan = Plan {
            patience: 3,
            schedule: LrSchedule::Plateau(0.5),
            ..Plan::new(Budget::epochs(10), 1.0)
        };
        let lines = std::sync::Mutex::new(Vec::new());
        let progress = |e: &ProgressEvent<'_>| {
            if let ProgressEvent::End { summary } = e {
                lines.lock().unwrap().push(summary.to_string());
            }
        };
        let report = run(&mut t, &plan, &progress).unwrap();
        assert_eq!(t.saved, vec![1, 2]);
        assert_eq!(report.stop, Stop::Patience);
        assert_eq!(report.best_epoch, Some(2));
        assert_eq!(report.epochs.len(), 5);
        assert_eq!(report.lr, 0.125);
        let last = lines.lock().unwrap().last().unwrap().clone();
        assert!(last.starts_with("stopped after epoch 5"), "{last}");
        assert!(last.contains("kept epoch 2 (loss 2)"), "{last}");
    }

    #[test]
    fn without_held_out_data_every_epoch_is_kept_and_the_budget_ends_the_run() {
        let mut t = scripted(&[]);
        let report = run(&mut t, &Plan::new(Budget::epochs(3), 1.0), &crate::Silent).unwrap();
        assert_eq!(t.saved, vec![1, 2, 3]);
        assert_eq!(report.stop, Stop::Epochs);
        // A plateau schedule then watches the training loss: constant here, so it decays
        // after epochs 2 and 3.
        let plan = Plan {
            schedule: LrSchedule::Plateau(0.5),
            ..Plan::new(Budget::epochs(3), 1.0)
        };
        let report = run(&mut scripted(&[]), &plan, &crate::Silent).unwrap();
        assert_eq!(report.lr, 0.25);
    }

    #[test]
    fn a_resumed_run_must_beat_the_saved_score_and_divergence_is_an_error() {
        let mut t = scripted(&[9.0, 9.0, 9.0, 9.0, 3.0, 3.0]);
        let plan = Plan {
            first_epoch: 5,
            best: Some((4, Score::lower(2.0))),
            ..Plan::new(Budget::epochs(2), 1.0)
        };
        let report = run(&mut t, &plan, &crate::Silent).unwrap();
        assert!(t.saved.is_empty());
        assert_eq!(report.best_epoch, Some(4));
        let mut nan = scripted(&[1.0]);
        nan.loss = f64::NAN;
        let err = run(&mut nan, &Plan::new(Budget::epochs(1), 1.0), &crate::Silent)
            .unwrap_err()
            .to_string();
        assert!(err.contains("diverged at epoch 1"), "{err}");
    }
}
