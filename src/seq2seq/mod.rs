//! Sequence-to-sequence translation with attention: the model, beam search, calendar-valid
//! decoding, the date data generator, training, and the translator that ties them together.

pub mod beam;
pub mod bleu;
pub mod chrf;
pub mod constraint;
pub mod dates;
pub mod model;
pub mod pairs;
pub mod plot;
mod sentences;
pub mod tokenizer;
mod train;
mod translator;

pub use model::{Seq2Seq, Seq2SeqConfig};
pub use sentences::{
    resume_sentences, score, train_sentences, Scored, SentenceEpoch, SentenceReport, SentenceSetup,
    SentenceTrainConfig,
};
pub use train::{
    exact_match, resume as resume_dates, train, DateReport, EpochFigures, TrainConfig,
};
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
