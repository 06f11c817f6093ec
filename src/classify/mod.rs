//! Sentence classifiers: the course's Emojify (five emoji classes) and sentiment (SST, MR), on
//! any labelled CSV/TSV, MR's positive/negative files or SST's `label sentence` lines.
//!
//! Two models over one embedding layer (pretrained word vectors, frozen or fine-tuned, or
//! trained from scratch): the averaging baseline (Emojify V1) and a stacked, optionally
//! bidirectional LSTM (Emojify V2) whose padding is exact (packed sequences). Training is seeded,
//! chooses the epoch on a dev set with early stopping, and keeps the best weights; evaluation
//! gives accuracy, per-class precision/recall/F1, macro F1 and the confusion matrix; k-fold
//! cross-validation serves data without a test split.
//!
//! ```no_run
//! use seqmodels::classify::{self, ClassifierConfig, Dataset, TableOptions, TrainData, TrainOptions};
//! # fn main() -> seqmodels::Result<()> {
//! let data = Dataset::table("corpora/emoji/train.csv".as_ref(), &TableOptions::default())?;
//! let (model, report) = classify::train(ClassifierConfig::default(), &TrainData::new(&data),
//!     &TrainOptions::default(), tch::Device::Cpu, Some("emo".as_ref()), &seqmodels::Silent)?;
//! println!("dev accuracy {:?}", report.best_valid_accuracy);
//! let probs = model.probabilities(&["I love you"], 1)?;
//! # Ok(()) }
//! ```

mod data;
mod defaults;
mod epochs;
mod eval;
mod init;
mod inputs;
pub mod metrics;
mod model;
#[cfg(feature = "plot")]
mod plot;
#[cfg(test)]
mod tests;
mod tokenize;
mod train;

pub use data::{
    read_labelled_lines, read_pos_neg, read_table, Column, Dataset, Example, Labels, Source,
    TableOptions,
};
pub use defaults::{Defaults, SMALL_DATA};
pub use eval::{cross_validate, evaluate, predict, top_k, CrossValidation};
pub use inputs::{vocabulary, TrainedWords};
pub use model::{Architecture, Batch, Classifier, ClassifierConfig, EmbeddingInit, Pooling, KIND};
#[cfg(feature = "plot")]
pub use plot::{confusion_png, MAX_DRAWN_CLASSES};
pub use tokenize::{LongSentence, Tokenizer, MAX_WORDS, PAD_ID, UNK_ID};
pub use train::{resume, split, train, EpochFigures, TrainData, TrainOptions, TrainReport};
