//! Dates read and write characters: the source is the input's characters (lower-cased when the
//! model was trained so), the target the 10 characters of `YYYY-MM-DD`, with no end token, and
//! decoding can be held to real dates by the [`DateConstraint`].

use super::constraint::DateConstraint;
use crate::error::{Error, Result};
use crate::seq2seq::beam::Constraint;
use crate::seq2seq::codec::Codec;
use crate::seq2seq::Vocabs;
use crate::vocab::{BOS, UNK};

/// Characters of an ISO date.
pub const DATE_LEN: usize = 10;

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
        let constraint = DateConstraint::new(&chars, 1, 9999).map_err(Error::Config)?;
        Ok(Some(Box::new(constraint)))
    }
}
