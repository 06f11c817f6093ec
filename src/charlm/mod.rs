//! Character-level language models: the Sequence Models course's "Dinosaur Island" and
//! makemore/char-rnn, as a library.
//!
//! Two kinds of data ([`Unit`]):
//! - **lines**: each non-blank line is one sequence (a name, a word). The vocabulary's id 0 is
//!   `"\n"`, used as the start marker before a line and as the end marker after it; the end
//!   marker is predicted and counted in the loss, as makemore does.
//! - **text**: one continuous text (newlines included) cut into windows of `seq_len` characters;
//!   the recurrent state is carried from one window to the next (truncated backpropagation
//!   through time), as char-rnn does.
//!
//! The vocabulary is over Unicode characters, ordered by count (descending) then character, so
//! the same data always gives the same ids. The model is an embedding (or a one-hot input), a
//! stacked RNN, GRU or LSTM with PyTorch's parameter names and initialisation, and a linear head.
//! Losses are in nats per character.
//!
//! ```no_run
//! use seqmodels::charlm::{self, CharLm, SampleOptions, TrainOptions};
//! # fn main() -> seqmodels::Result<()> {
//! let data = charlm::Dataset::load("names.txt".as_ref(), charlm::Unit::Line)?;
//! let mut options = TrainOptions::for_unit(charlm::Unit::Line);
//! options.train.budget = seqmodels::train::Budget::epochs(5);
//! let report = charlm::train(&data, &options, tch::Device::Cpu, "names-model".as_ref(),
//!                            &seqmodels::progress::Silent)?;
//! println!("held-out {:.3} nats/char", report.best_valid_nats);
//! let model = CharLm::load("names-model".as_ref(), tch::Device::Cpu)?;
//! for name in model.sample(&SampleOptions { count: 5, ..Default::default() })? {
//!     println!("{name}");
//! }
//! # Ok(())
//! # }
//! ```

mod data;
mod loss;
mod model;
mod sample;
mod train;

#[cfg(test)]
mod tests;

pub use data::{Dataset, Unit, BOUNDARY};
pub use model::{Cell, CharLm, ModelConfig, KIND};
pub use sample::{SampleOptions, SampleStats};
pub use train::{resume, train, EpochFigures, TrainOptions, TrainReport};
