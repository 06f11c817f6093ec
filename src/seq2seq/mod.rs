//! Sequence-to-sequence translation with attention (Bahdanau et al. 2015), as the Sequence
//! Models course builds it: a bidirectional-LSTM encoder, additive attention and an LSTM decoder
//! ([`model`]), batched beam search in plain Rust ([`beam`]) and the [`Translator`] that ties
//! them to a vocabulary and a checkpoint. Two tasks build on this core:
//!
//! - [`dates`]: human-written dates to ISO, character by character, with the date generator,
//!   the calendar constraint, date training and evaluation, and a trained model built in;
//! - [`sentences`]: sentence translation from a parallel corpus, with word or BPE tokenizers,
//!   pair readers, sentence training and scoring.

mod attention_map;
mod batching;
pub mod beam;
mod codec;
pub mod dates;
pub mod model;
pub mod sentences;
mod stepper;
mod translator;

pub use attention_map::AttentionMap;
pub use codec::{Codec, Refusal};
pub use model::{Seq2Seq, Seq2SeqConfig};
pub use sentences::{Tokenizers, SRC_TOKENIZER_FILE, TGT_TOKENIZER_FILE};
pub use translator::{
    DecodeOptions, Task, Translation, Translator, TranslatorConfig, Vocabs, BUILTIN_DATES,
    FORMAT_VERSION, KIND,
};

/// The codec a saved translator of `config.task` reads and writes with: characters for dates
/// (whose outputs must be 10 long), the tokenizers saved in `dir` for sentences (which must give
/// `vocabs`). The one place that maps a task to its codec.
fn codec_for(
    config: &TranslatorConfig,
    vocabs: &Vocabs,
    dir: Option<&std::path::Path>,
) -> crate::Result<Box<dyn Codec>> {
    match config.task {
        Task::Dates => {
            dates::CharCodec::check_output_length(config.model.max_tgt_len)?;
            Ok(Box::new(dates::CharCodec::new(
                vocabs.clone(),
                config.lowercase,
            )))
        }
        Task::Sentences => {
            let dir = dir.ok_or_else(|| {
                crate::Error::Config("a sentence translator needs its tokenizer files".into())
            })?;
            Ok(Box::new(sentences::SubwordCodec::load(dir, vocabs)?))
        }
    }
}

/// The sizes of the built-in dates model: learnt embeddings, a wider encoder and decoder than
/// the course, the decoder fed its previous output, and the output layer reading the context.
/// Inputs up to 64 characters (the `wide` formats reach 30, the `real` set 60 and a tag).
pub fn dates_preset() -> Seq2SeqConfig {
    Seq2SeqConfig {
        src_vocab: 0,
        tgt_vocab: 0,
        src_embed: Some(32),
        tgt_embed: Some(16),
        enc_hidden: 64,
        enc_layers: 1,
        dec_hidden: 128,
        attn_hidden: 32,
        output_uses_context: true,
        dropout: 0.0,
        max_src_len: 64,
        max_tgt_len: 10,
    }
}
