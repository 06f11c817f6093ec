//! How far a run is: the linear learning-rate schedule, and the wall-time budget that can end
//! the run early (the training core's [`Clock`]).

use crate::train::{Budget, Clock};

use super::Word2VecConfig;

/// The learning rate falls linearly with the words processed over the whole run:
/// `alpha_t = alpha - (alpha - min_alpha) * done / (epochs * total_words)` (gensim's schedule;
/// word2vec.c's `alpha * (1 - done / (iter * train_words + 1))`, floored at `alpha * 1e-4`, is
/// the same line with `min_alpha` close to 0). Workers evaluate it at the start of each job,
/// i.e. every ~10,000 words per thread, as the C tool does.
///
/// With a time budget the run's progress is the larger of the share of words done and the
/// share of the budget spent, as in [`Clock::progress`], so the rate reaches `min_alpha` when
/// the budget ends even if the epochs are not done. Without one, only the words count.
#[derive(Debug, Clone)]
pub(crate) struct Schedule {
    alpha: f64,
    min_alpha: f64,
    total: f64,
    /// The run's clock, started with the schedule, when it has a time budget.
    clock: Option<Clock>,
}

impl Schedule {
    /// The schedule of a run over `words_per_epoch` words per epoch; its time budget, if any,
    /// starts now.
    pub(crate) fn new(config: &Word2VecConfig, words_per_epoch: u64) -> Self {
        Schedule {
            alpha: config.alpha,
            min_alpha: config.min_alpha,
            total: (words_per_epoch as f64 * config.epochs as f64).max(1.0),
            clock: config.time_budget.map(|t| {
                let budget = Budget {
                    epochs: None,
                    time_budget: Some(t),
                };
                Clock::start(budget)
            }),
        }
    }

    /// The rate after `done` words of the run (and the time spent so far).
    pub(crate) fn at(&self, done: u64) -> f64 {
        let mut progress = (done as f64 / self.total).min(1.0);
        if let Some(clock) = &self.clock {
            progress = progress.max(clock.progress());
        }
        self.alpha - (self.alpha - self.min_alpha) * progress
    }

    /// Whether the time budget is spent (never, without one).
    pub(crate) fn out_of_time(&self) -> bool {
        self.clock.as_ref().is_some_and(Clock::out_of_time)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn schedule_is_linear_from_alpha_to_min_alpha() {
        let config = Word2VecConfig {
            alpha: 0.025,
            min_alpha: 0.0001,
            epochs: 2,
            ..Word2VecConfig::default()
        };
        let s = Schedule::new(&config, 1000);
        assert_eq!(s.at(0), 0.025);
        assert!((s.at(1000) - (0.025 + 0.0001) / 2.0).abs() < 1e-12);
        assert!((s.at(2000) - 0.0001).abs() < 1e-12);
        assert!((s.at(5000) - 0.0001).abs() < 1e-12);
        assert!(!s.out_of_time());
    }

    #[test]
    fn a_spent_time_budget_takes_the_rate_to_its_floor() {
        let config = |budget| Word2VecConfig {
            alpha: 0.025,
            min_alpha: 0.0001,
            epochs: 1000,
            time_budget: Some(budget),
            ..Word2VecConfig::default()
        };
        // An hour barely begun: the words decide, and no time is up.
        let long = Schedule::new(&config(Duration::from_secs(3600)), 1000);
        assert!((long.at(0) - 0.025).abs() < 1e-6, "{}", long.at(0));
        assert!(!long.out_of_time());
        // A budget already spent although almost no words are done: the floor.
        let short = Schedule::new(&config(Duration::from_nanos(1)), 1000);
        std::thread::sleep(Duration::from_millis(1));
        assert!(short.out_of_time());
        assert!((short.at(10) - 0.0001).abs() < 1e-12);
    }
}
