//! What a task gives the task-free [`Translator`](super::Translator): how text becomes token ids
//! and back, where outputs start and end, which files hold its tokenizers, and which constraint
//! (if any) decoding must respect. Dates read and write characters
//! ([`CharCodec`](super::dates::CharCodec)); sentences read and write subword or word tokens
//! ([`SubwordCodec`](super::sentences::SubwordCodec)).

use super::beam::Constraint;
use super::Vocabs;
use crate::error::Result;

/// A task's text <-> token-id mapping, as the translator uses it.
pub trait Codec: std::fmt::Debug + Send + Sync {
    /// The source and target vocabularies, in id order (written as `vocab.json`).
    fn vocabs(&self) -> Result<Vocabs>;

    /// The source token ids of `text` (already trimmed and non-empty), with the text of each
    /// token where the task keeps it (for copying a source word into the output).
    fn encode_source(&self, text: &str) -> Result<(Vec<usize>, Vec<String>)>;

    /// What a source token is, for messages: "characters", "tokens".
    fn unit(&self) -> &'static str;

    /// Whether a source longer than the model reads may be cut to fit (else it is refused).
    fn may_truncate(&self) -> bool;

    /// The target token ids of a reference `output` (for training and scoring), ending with the
    /// end token when there is one; at most `max_len` of them.
    fn encode_target(&self, output: &str, max_len: usize) -> Result<Vec<usize>>;

    /// The text of output tokens.
    fn decode(&self, tokens: &[usize]) -> Result<String>;

    /// The start token fed to the decoder first.
    fn bos(&self) -> usize;

    /// The end token, when outputs end with one (else they have a fixed length).
    fn eos(&self) -> Option<usize>;

    /// The target's unknown token, when outputs may hold one.
    fn unk(&self) -> Option<usize>;

    /// The labels of `text`'s source tokens (`ids`) in an attention picture.
    fn source_labels(&self, text: &str, ids: &[usize]) -> Vec<String>;

    /// The input characters the model never saw (each read as unknown), in order, without
    /// repeats; empty where unseen words are spelt in known pieces.
    fn unseen_characters(&self, text: &str) -> Vec<char>;

    /// Files saved beside the weights (file name, bytes): the tokenizers.
    fn files(&self) -> Result<Vec<(&'static str, Vec<u8>)>>;

    /// The constraint on outputs when decoding asks for one.
    fn constraint(&self) -> Result<Option<Box<dyn Constraint>>>;

    /// Whether output `tokens` are a refusal rather than a translation, and which kind; never,
    /// for a task whose outputs cannot refuse.
    fn refusal(&self, _tokens: &[usize]) -> Option<Refusal> {
        None
    }
}

/// Why an input that could be read got no translation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Refusal {
    /// The model answered with its refusal token: it finds nothing it can translate (a date
    /// model: no complete date, as in `good morning`, `October 1995` or `next week`).
    Declined,
    /// The model's reading breaks the output constraint, and the constraint's fallback took it
    /// (a date model: a day the calendar lacks, as in `30 feb 2010` or month 13).
    Impossible,
    /// The best answer's confidence is below [`DecodeOptions::min_confidence`](super::DecodeOptions::min_confidence).
    LowConfidence,
}

impl Refusal {
    /// The class name in messages and output fields: `declined`, `impossible` or
    /// `low-confidence`.
    pub fn class(self) -> &'static str {
        match self {
            Refusal::Declined => "declined",
            Refusal::Impossible => "impossible",
            Refusal::LowConfidence => "low-confidence",
        }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Refusal::Declined => "declined: the model finds nothing it can translate",
            Refusal::Impossible => "impossible: what the model reads breaks the output constraint",
            Refusal::LowConfidence => "low-confidence: below the minimum confidence",
        })
    }
}
