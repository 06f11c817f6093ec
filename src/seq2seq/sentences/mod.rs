//! Sentence translation from a parallel corpus: tokenizers (word or BPE) learnt from the
//! training side and the codec that reads and writes with them ([`SubwordCodec`]), pair readers
//! (TSV or two aligned files, `.gz` accepted), sentence training through the core ([`train`],
//! [`resume`]) and scoring against references ([`score`]).

mod codec;
mod detok;
mod epochs;
pub mod pairs;
mod score;
pub mod tokenizer;
mod train;

#[cfg(test)]
mod tests;

pub use codec::{SubwordCodec, Tokenizers, SRC_TOKENIZER_FILE, TGT_TOKENIZER_FILE};
pub use pairs::Pair;
pub use score::{score, Scored};
pub use train::{
    resume, train, SentenceEpoch, SentencePreset, SentenceReport, SentenceSetup, SentenceSizes,
    SentenceTrainConfig,
};
