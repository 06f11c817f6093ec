//! Dates read and write characters: the source is the input's characters (lower-cased when the
//! model was trained so), the target the 10 characters of `YYYY-MM-DD`, with no end token, and
//! decoding can be held to real dates by the [`DateConstraint`].
//!
//! Two special tokens give a model more to say (models trained before them simply lack them):
//! - [`REFUSAL`] in the output vocabulary: the answer "no date here". The empty target encodes
//!   as the refusal followed by padding (which the loss ignores); at decoding the constraint
//!   fills the rest of the output with it, and it takes the probability of every character the
//!   calendar forbids, so an impossible date is refused rather than corrected.
//! - [`DAY_FIRST`] in the source vocabulary: a tag put before the input that asks for slashed
//!   numeric dates to be read day-first (`05/03/2004` is 5 March). A training source that starts
//!   with the tag and a space is read so.

use super::constraint::DateConstraint;
use crate::error::{Error, Result};
use crate::seq2seq::beam::Constraint;
use crate::seq2seq::codec::Codec;
use crate::seq2seq::{Refusal, Vocabs};
use crate::vocab::{BOS, PAD, UNK};

/// Characters of an ISO date.
pub const DATE_LEN: usize = 10;

/// The output token of a refusal: the input holds no complete, real date.
pub const REFUSAL: &str = "<refuse>";

/// The source tag that asks for slashed numeric dates to be read day-first.
pub const DAY_FIRST: &str = "<day-first>";

/// The character codec of date translators.
#[derive(Debug, Clone)]
pub struct CharCodec {
    vocabs: Vocabs,
    lowercase: bool,
}

impl CharCodec {
    /// A codec over character vocabularies; `lowercase` when inputs are lower-cased first.
    pub fn new(vocabs: Vocabs, lowercase: bool) -> Self {
        CharCodec { vocabs, lowercase }
    }

    /// Checks that a model of `max_tgt_len` output steps writes a date.
    pub fn check_output_length(max_tgt_len: usize) -> Result<()> {
        if max_tgt_len != DATE_LEN {
            return Err(Error::Config(format!(
                "a date model writes YYYY-MM-DD, 10 characters, but max_tgt_len is {max_tgt_len}"
            )));
        }
        Ok(())
    }

    /// `text` as the model reads it: lower-cased if it was trained lower-cased.
    fn read(&self, text: &str) -> String {
        if self.lowercase {
            text.to_lowercase()
        } else {
            text.to_owned()
        }
    }
}

impl Codec for CharCodec {
    fn vocabs(&self) -> Result<Vocabs> {
        Ok(self.vocabs.clone())
    }

    fn encode_source(&self, text: &str) -> Result<(Vec<usize>, Vec<String>)> {
        let unk = self.vocabs.src.id(UNK).unwrap_or(0);
        Ok((
            self.vocabs.src.encode_chars(&self.read(text), unk),
            Vec::new(),
        ))
    }

    fn unit(&self) -> &'static str {
        "characters"
    }

    fn may_truncate(&self) -> bool {
        false
    }

    fn encode_target(&self, output: &str, max_len: usize) -> Result<Vec<usize>> {
        if output.is_empty() {
            let refusal = self
                .vocabs
                .tgt
                .id(REFUSAL)
                .ok_or_else(|| Error::InvalidInput {
                    input: output.to_owned(),
                    reason:
                        "an empty target asks for a refusal, but this model has no refusal token"
                            .to_owned(),
                })?;
            let pad = self.vocabs.tgt.id(PAD).unwrap_or(0);
            let mut ids = vec![pad; max_len.max(1)];
            ids[0] = refusal;
            return Ok(ids);
        }
        let ids = self.vocabs.tgt.encode_chars(output, usize::MAX);
        if ids.len() != max_len || ids.contains(&usize::MAX) {
            return Err(Error::InvalidInput {
                input: output.to_owned(),
                reason: format!(
                    "a target must be {max_len} characters from {:?}",
                    self.vocabs.tgt.tokens()
                ),
            });
        }
        Ok(ids)
    }

    fn decode(&self, tokens: &[usize]) -> Result<String> {
        Ok(self.vocabs.tgt.decode_concat(tokens))
    }

    fn bos(&self) -> usize {
        self.vocabs.tgt.id(BOS).unwrap_or(0)
    }

    fn eos(&self) -> Option<usize> {
        None
    }

    fn unk(&self) -> Option<usize> {
        None
    }

    fn source_labels(&self, text: &str, _ids: &[usize]) -> Vec<String> {
        self.read(text).chars().map(String::from).collect()
    }

    fn unseen_characters(&self, text: &str) -> Vec<char> {
        let mut unseen = Vec::new();
        let mut buf = [0u8; 4];
        for c in self.read(text).chars() {
            if self.vocabs.src.id(c.encode_utf8(&mut buf)).is_none() && !unseen.contains(&c) {
                unseen.push(c);
            }
        }
        unseen
    }

    fn files(&self) -> Result<Vec<(&'static str, Vec<u8>)>> {
        Ok(Vec::new())
    }

    fn constraint(&self) -> Result<Option<Box<dyn Constraint>>> {
        let chars: Vec<char> = self
            .vocabs
            .tgt
            .tokens()
            .iter()
            .map(|t| {
                let mut cs = t.chars();
                match (cs.next(), cs.next()) {
                    (Some(c), None) => c,
                    _ => '\u{0}',
                }
            })
            .collect();
        let mut constraint = DateConstraint::new(&chars, 1, 9999).map_err(Error::Config)?;
        if let Some(refusal) = self.vocabs.tgt.id(REFUSAL) {
            constraint = constraint.with_fallback(refusal);
        }
        Ok(Some(Box::new(constraint)))
    }

    fn refusal(&self, tokens: &[usize]) -> Option<Refusal> {
        let refusal = self.vocabs.tgt.id(REFUSAL)?;
        match tokens.iter().position(|&t| t == refusal)? {
            0 => Some(Refusal::Declined),
            _ => Some(Refusal::Impossible),
        }
    }
}
