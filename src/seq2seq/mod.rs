//! Sequence-to-sequence translation with attention (Bahdanau et al. 2015), as the Sequence
//! Models course builds it: a bidirectional-LSTM encoder, additive attention and an LSTM decoder
//! ([`model`]), batched beam search in plain Rust ([`beam`]) and the [`Translator`] that ties
//! them to a vocabulary and a checkpoint. Two tasks build on this core:
//!
//! - [`dates`]: human-written dates to ISO, character by character, with the date generator,
//!   the calendar constraint, date training and evaluation, and a trained model built in;
//! - [`sentences`]: sentence translation from a parallel corpus, with word or BPE tokenizers,
//!   pair readers, sentence training and scoring.

pub mod beam;
pub mod dates;
pub mod model;
pub mod sentences;
mod translator;

pub use model::{Seq2Seq, Seq2SeqConfig};
pub use translator::{
    AttentionMap, DecodeOptions, Task, Tokenizers, Translation, Translator, TranslatorConfig,
    Vocabs, BUILTIN_DATES, FORMAT_VERSION, KIND, SRC_TOKENIZER_FILE, TGT_TOKENIZER_FILE,
};

/// The sizes of the built-in dates model: learnt embeddings, a wider encoder and decoder than
/// the course, the decoder fed its previous output, and the output layer reading the context.
/// Inputs up to 40 characters (the `wide` formats reach 30).
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
        max_src_len: 40,
        max_tgt_len: 10,
    }
}
