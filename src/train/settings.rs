//! The training options every model shares, with one name each: the budget, batch size,
//! optimiser, learning rate and its schedule, weight decay, clipping, patience, held-out share
//! and seed. A family's options hold these beside its own (network sizes, sequence length).

use serde::{Deserialize, Serialize};

use super::{Budget, Clip, HeldOut, LrSchedule, OptimizerKind};
use crate::error::{Error, Result};
use crate::limits::{check_count, check_positive, MAX_LEARNING_RATE};

/// The most items one batch may hold.
pub const MAX_BATCH: usize = 1 << 24;

/// The seed every command uses when none is given.
pub const DEFAULT_SEED: u64 = 42;

/// The options every model's training shares.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// Epochs and/or wall time.
    #[serde(flatten)]
    pub budget: Budget,
    /// Items (sequences, sentences, pairs) per update.
    pub batch_size: usize,
    /// Adam or SGD.
    pub optimizer: OptimizerKind,
    /// The starting learning rate.
    pub lr: f64,
    /// How the learning rate moves.
    pub lr_schedule: LrSchedule,
    /// L2 weight decay (0: none).
    #[serde(default)]
    pub weight_decay: f64,
    /// Gradient clipping.
    pub clip: Clip,
    /// Stop after this many epochs in a row without a better held-out score; 0 never stops
    /// early.
    pub patience: usize,
    /// How much of the training data to hold out when no held-out set is given.
    pub held_out: HeldOut,
    /// Seeds the held-out draw, the initial weights, the batches and dropout.
    pub seed: u64,
}

impl Settings {
    /// Checks every range; the message names the setting.
    pub fn validate(&self) -> Result<()> {
        self.budget.validate()?;
        check_count("batch size", self.batch_size)?;
        if self.batch_size > MAX_BATCH {
            return Err(Error::Config(format!(
                "batch size {} is above the 2^24 allowed",
                self.batch_size
            )));
        }
        check_positive("learning rate", self.lr, MAX_LEARNING_RATE)?;
        self.lr_schedule.validate(self.lr)?;
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            return Err(Error::Config(format!(
                "weight decay {} must be a number >= 0",
                self.weight_decay
            )));
        }
        self.clip.validate()?;
        self.held_out.validate()
    }
}
