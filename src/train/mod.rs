//! The training core every model trains through: charlm, classify, and the date and sentence
//! translators of seq2seq.
//!
//! - [`Optimizer`]: Adam or SGD with optional weight decay, [`Clip`] (off, by global norm, by
//!   value), and a state saved with the model ([`OPTIMIZER_FILE`]) so that a resumed run
//!   continues the same run;
//! - [`LrSchedule`]: constant, linear to a floor, or decay on plateau;
//! - [`Budget`]: epochs and/or wall time, one meaning everywhere;
//! - [`HeldOut`] and [`split_indices`]: the seeded held-out draw;
//! - [`run`] over a [`Trainee`]: the epoch loop, early stopping on a [`Score`] that knows which
//!   way is better, best-only saving, divergence detection, progress events and a closing line
//!   that says why the run stopped and which epoch was kept; Ctrl-C stops it between two
//!   batches and keeps the best epoch saved so far.
//!
//! Only this module builds optimisers; a model family supplies its batches, its loss and its
//! checkpoint.

mod budget;
mod interrupt;
mod optim;
mod run;
mod schedule;
mod settings;
mod split;

pub use budget::{Budget, Clock, MAX_TIME_BUDGET};
pub use optim::{Clip, Optimizer, OptimizerKind, OPTIMIZER_FILE};
pub use run::{run, Epoch, EpochRecord, Plan, RunReport, Score, Stop, Trained, Trainee};
pub use schedule::LrSchedule;
pub use settings::{Settings, DEFAULT_SEED, MAX_BATCH};
pub use split::{epoch_order, seed_epoch, split_indices, split_sorted, HeldOut};
