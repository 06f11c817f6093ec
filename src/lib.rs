//! # seqmodels
//!
//! Sequence models on libtorch, as one library and one binary: word2vec embeddings, sentence
//! classifiers, character-level language models and attention seq2seq translators.
//!
//! What works today: [`seq2seq`], the attention translator of the Sequence Models course
//! (bidirectional-LSTM encoder, additive attention, LSTM decoder, batched beam search,
//! calendar-valid decoding), with a trained dates model built in; [`word2vec`] and
//! [`embeddings`] (skip-gram training, word2vec/GloVe files, queries, evaluation, debiasing);
//! [`classify`] (averaging and LSTM sentence classifiers); [`charlm`] (character-level language
//! models). With the `serve` feature (on by default), `serve` puts them behind an HTTP API
//! with dynamic batching.
//!
//! ```
//! use seqmodels::seq2seq::{DecodeOptions, Translator};
//!
//! let model = Translator::builtin_dates(tch::Device::Cpu)?;
//! let out = model.translate(&["Tuesday 10 July 2007"], &DecodeOptions::default())?;
//! assert_eq!(out[0].as_ref().unwrap()[0].text, "2007-07-10");
//! # Ok::<(), seqmodels::Error>(())
//! ```
//!
//! The building blocks every model shares:
//!
//! - [`device`]: `--device auto|cpu|cuda[:N]` to a [`tch::Device`], and one seed for
//!   libtorch and the Rust-side RNG;
//! - [`checkpoint`]: a model is a directory (`config.json`, `vocab.json`,
//!   `model.safetensors`, `meta.json`), written atomically and checked on load;
//! - [`progress`]: long jobs report through a callback and never print;
//! - [`doctor`]: what libtorch and which devices this process runs on;
//! - [`vocab`] and [`text`]: deterministic vocabularies, and readers that name the file and
//!   line of a bad input.
//!
//! ```
//! use seqmodels::{DeviceSpec, Result};
//!
//! fn main() -> Result<()> {
//!     let device = "cpu".parse::<DeviceSpec>()?.resolve()?;
//!     let mut rng = seqmodels::seed_everything(42);
//!     let x = tch::Tensor::ones([2, 3], (tch::Kind::Float, device));
//!     assert_eq!(x.sum(tch::Kind::Float).double_value(&[]), 6.0);
//!     let _ = rand::Rng::random::<u32>(&mut rng);
//!     Ok(())
//! }
//! ```

pub mod charlm;
pub mod checkpoint;
pub mod classify;
pub mod device;
pub mod doctor;
pub mod embeddings;
pub mod error;
pub mod limits;
pub mod metrics;
pub mod plot;
pub mod progress;
pub mod seq2seq;
#[cfg(feature = "serve")]
pub mod serve;
pub mod text;
pub mod train;
pub mod vocab;
pub mod word2vec;

pub use device::{seed_everything, DeviceSpec};
pub use error::{Error, Result};
pub use progress::{Progress, ProgressEvent, Silent};
