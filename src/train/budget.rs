//! How long a run trains: a [`Budget`] of epochs and/or wall time, one meaning for every model.
//!
//! The time budget counts the run's wall time from its first batch, held-out evaluation
//! included; it is checked after every batch, and the epoch it stops is then evaluated and
//! saved like any other. With a time budget and no epoch count, epochs run until the time is
//! spent.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The longest time budget accepted: a year.
pub const MAX_TIME_BUDGET: Duration = Duration::from_secs(365 * 24 * 3600);

/// At most `epochs` epochs and at most `time_budget` of wall time; at least one of the two.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Budget {
    /// Passes over the training data, at most (`None`: until the time budget is spent).
    pub epochs: Option<usize>,
    /// Wall time, at most.
    pub time_budget: Option<Duration>,
}

impl Budget {
    /// `n` epochs, no time limit.
    pub fn epochs(n: usize) -> Budget {
        Budget {
            epochs: Some(n),
            time_budget: None,
        }
    }

    /// Checks that the run ends, and the ranges.
    pub fn validate(&self) -> Result<()> {
        if let Some(n) = self.epochs {
            crate::limits::check_count("epochs", n)?;
        }
        match self.time_budget {
            None if self.epochs.is_none() => Err(Error::Config(
                "neither epochs nor a time budget: the run would never end".into(),
            )),
            Some(t) if t.is_zero() => {
                Err(Error::Config("a time budget of 0 s trains nothing".into()))
            }
            Some(t) if t > MAX_TIME_BUDGET => Err(Error::Config(format!(
                "a time budget of {} s is over a year",
                t.as_secs()
            ))),
            _ => Ok(()),
        }
    }

    /// The last epoch a run that starts at `first_epoch` may reach, when epochs are counted.
    pub fn last_epoch(&self, first_epoch: usize) -> Option<usize> {
        self.epochs
            .map(|n| first_epoch.saturating_add(n.saturating_sub(1)))
    }
}

/// A run's clock: when it started, what it may spend, and how far it is.
#[derive(Debug, Clone)]
pub struct Clock {
    started: Instant,
    budget: Budget,
    planned_batches: Option<usize>,
    done_batches: usize,
}

impl Clock {
    /// Starts the clock of a run.
    pub fn start(budget: Budget) -> Clock {
        Clock {
            started: Instant::now(),
            budget,
            planned_batches: None,
            done_batches: 0,
        }
    }

    /// Wall time since the start.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// Whether the time budget is spent.
    pub fn out_of_time(&self) -> bool {
        self.budget
            .time_budget
            .is_some_and(|b| self.started.elapsed() >= b)
    }

    /// Records that each epoch has `n` batches (the first call counts), so that progress can be
    /// measured in batches when epochs are counted.
    pub fn plan_batches(&mut self, n: usize) {
        if self.planned_batches.is_none() {
            self.planned_batches = self.budget.epochs.map(|e| e.saturating_mul(n));
        }
    }

    /// One more batch done.
    pub fn batch_done(&mut self) {
        self.done_batches += 1;
    }

    /// How far the run is, in [0, 1]: the larger of the share of planned batches done and the
    /// share of the time budget spent.
    pub fn progress(&self) -> f64 {
        let by_batches = self
            .planned_batches
            .map_or(0.0, |p| self.done_batches as f64 / p.max(1) as f64);
        let by_time = self.budget.time_budget.map_or(0.0, |b| {
            self.started.elapsed().as_secs_f64() / b.as_secs_f64()
        });
        by_batches.max(by_time).min(1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_budget_must_end_and_counts_from_the_first_epoch() {
        assert!(Budget {
            epochs: None,
            time_budget: None
        }
        .validate()
        .is_err());
        assert!(Budget::epochs(0).validate().is_err());
        assert_eq!(Budget::epochs(3).last_epoch(5), Some(7));
        let timed = Budget {
            epochs: None,
            time_budget: Some(Duration::from_secs(60)),
        };
        assert!(timed.validate().is_ok());
        assert_eq!(timed.last_epoch(1), None);
    }

    #[test]
    fn huge_epoch_counts_saturate() {
        let mut clock = Clock::start(Budget::epochs(usize::MAX));
        clock.plan_batches(1000);
        clock.batch_done();
        assert!(clock.progress() < 1e-9);
        assert_eq!(Budget::epochs(usize::MAX).last_epoch(7), Some(usize::MAX));
    }

    #[test]
    fn progress_counts_planned_batches() {
        let mut clock = Clock::start(Budget::epochs(2));
        clock.plan_batches(4);
        clock.plan_batches(100); // only the first plan counts
        for _ in 0..2 {
            clock.batch_done();
        }
        assert_eq!(clock.progress(), 0.25);
        assert!(!clock.out_of_time());
    }
}
