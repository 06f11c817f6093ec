//! Learning-rate schedules, as plain arithmetic over the run's progress.
//!
//! - **constant**: `lr` throughout;
//! - **linear**: from `lr` down to a floor over the run, `lr - (lr - floor) * progress`, where the
//!   progress is the larger of the share of planned batches done and the share of the time
//!   budget spent (Karpathy's char-rnn and the word2vec C tool decay this way);
//! - **plateau**: `lr` until an epoch fails to improve the held-out score, then multiplied by a
//!   factor after each such epoch (PyTorch's `ReduceLROnPlateau` with patience 0).

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// How the learning rate moves during a run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LrSchedule {
    /// The same rate throughout.
    Constant,
    /// Linearly down to this floor over the run.
    Linear(f64),
    /// Multiplied by this factor in (0, 1] after each epoch without a better held-out score
    /// (without held-out data: without a lower training loss).
    Plateau(f64),
}

impl LrSchedule {
    /// The rate of the next batch when the run is `progress` (in [0, 1]) done and its current
    /// base rate is `base`.
    pub fn at(self, base: f64, progress: f64) -> f64 {
        match self {
            LrSchedule::Linear(floor) => base - (base - floor) * progress,
            LrSchedule::Constant | LrSchedule::Plateau(_) => base,
        }
    }

    /// The base rate after an epoch that did or did not improve the held-out score.
    pub fn after_epoch(self, base: f64, improved: bool) -> f64 {
        match self {
            LrSchedule::Plateau(factor) if !improved => base * factor,
            _ => base,
        }
    }

    /// Checks the schedule against the starting rate `lr`.
    pub fn validate(self, lr: f64) -> Result<()> {
        match self {
            LrSchedule::Constant => Ok(()),
            LrSchedule::Linear(floor) if !(floor.is_finite() && floor >= 0.0) => Err(
                Error::Config(format!("the final learning rate {floor} must be >= 0")),
            ),
            LrSchedule::Linear(floor) if floor > lr => Err(Error::Config(format!(
                "the final learning rate {floor} is above the learning rate {lr}: the decay goes \
                 down"
            ))),
            LrSchedule::Linear(_) => Ok(()),
            LrSchedule::Plateau(f) if !(f > 0.0 && f <= 1.0) => {
                Err(Error::Config(format!("lr decay {f} is not in (0, 1]")))
            }
            LrSchedule::Plateau(_) => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_falls_to_its_floor_and_plateau_decays_only_without_improvement() {
        let s = LrSchedule::Linear(1e-4);
        assert_eq!(s.at(1e-3, 0.0), 1e-3);
        assert!((s.at(1e-3, 0.5) - 5.5e-4).abs() < 1e-12);
        assert!((s.at(1e-3, 1.0) - 1e-4).abs() < 1e-12);
        assert_eq!(s.after_epoch(1e-3, false), 1e-3);
        let p = LrSchedule::Plateau(0.5);
        assert_eq!(p.at(1e-3, 0.9), 1e-3);
        assert_eq!(p.after_epoch(1e-3, true), 1e-3);
        assert_eq!(p.after_epoch(1e-3, false), 5e-4);
        assert_eq!(LrSchedule::Constant.at(2e-3, 1.0), 2e-3);
    }

    #[test]
    fn bad_schedules_are_named() {
        assert!(LrSchedule::Linear(1e-2)
            .validate(1e-3)
            .unwrap_err()
            .to_string()
            .contains("above the learning rate"));
        assert!(LrSchedule::Plateau(0.0).validate(1e-3).is_err());
        assert!(LrSchedule::Plateau(1.0).validate(1e-3).is_ok());
    }
}
