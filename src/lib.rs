//! # seqmodels
//!
//! Sequence models on libtorch, as one library and one binary: word2vec embeddings, sentence
//! classifiers, character-level language models and attention seq2seq translators.
//!
//! The building blocks every model shares live here:
//!
//! - [`device`]: `--device auto|cpu|cuda[:N]` to a [`tch::Device`], and one seed for
//!   libtorch and the Rust-side RNG;
//! - [`checkpoint`]: a model is a directory (`config.json`, `vocab.json`,
//!   `model.safetensors`, `meta.json`), written atomically and checked on load;
//! - [`progress`]: long jobs report through a callback and never print;
//! - [`doctor`]: what libtorch and which devices this process runs on.
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

pub mod checkpoint;
pub mod device;
pub mod doctor;
pub mod error;
pub mod progress;
pub mod seq2seq;
pub mod text;
pub mod vocab;

pub use device::{seed_everything, DeviceSpec};
pub use error::{Error, Result};
pub use progress::{Progress, ProgressEvent, Silent};
