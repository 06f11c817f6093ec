//! Token <-> id maps with a deterministic order.
//!
//! Special tokens come first, in the order given; the rest are sorted by count (descending),
//! then by the token itself, so the same data always gives the same ids whatever order it was
//! read in (makemore sorts its character vocabulary the same way; the tokenizers crate's
//! word-level trainer breaks ties alike).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

/// Padding, id 0 in every vocabulary that has it.
pub const PAD: &str = "<pad>";
/// Unknown token: what an unseen token maps to.
pub const UNK: &str = "<unk>";
/// Start of a target sequence.
pub const BOS: &str = "<bos>";
/// End of a target sequence.
pub const EOS: &str = "<eos>";

/// An ordered, duplicate-free list of tokens and its inverse.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<String>", into = "Vec<String>")]
pub struct Vocab {
    tokens: Vec<String>,
    index: HashMap<String, usize>,
}

impl TryFrom<Vec<String>> for Vocab {
    type Error = String;

    fn try_from(tokens: Vec<String>) -> Result<Self, String> {
        let mut index = HashMap::with_capacity(tokens.len());
        for (i, t) in tokens.iter().enumerate() {
            if index.insert(t.clone(), i).is_some() {
                return Err(format!("token {t:?} appears twice in the vocabulary"));
            }
        }
        Ok(Vocab { tokens, index })
    }
}

impl From<Vocab> for Vec<String> {
    fn from(v: Vocab) -> Self {
        v.tokens
    }
}

impl Vocab {
    /// Builds a vocabulary: `specials` first, then every token seen at least `min_count` times,
    /// by count descending and then by token.
    ///
    /// # Panics
    /// If `specials` holds a token twice.
    pub fn build<I, S>(tokens: I, specials: &[&str], min_count: usize) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut counts: HashMap<String, usize> = HashMap::new();
        for t in tokens {
            let t = t.as_ref();
            if !specials.contains(&t) {
                *counts.entry(t.to_owned()).or_default() += 1;
            }
        }
        let mut counted: Vec<(String, usize)> = counts
            .into_iter()
            .filter(|(_, c)| *c >= min_count.max(1))
            .collect();
        counted.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let tokens = specials
            .iter()
            .map(|s| (*s).to_owned())
            .chain(counted.into_iter().map(|(t, _)| t))
            .collect::<Vec<_>>();
        Vocab::try_from(tokens).expect("specials are distinct and counted tokens exclude them")
    }

    /// Builds a vocabulary over the characters (Unicode scalar values, not bytes) of `texts`.
    ///
    /// # Panics
    /// If `specials` holds a token twice.
    pub fn of_chars<'a>(texts: impl IntoIterator<Item = &'a str>, specials: &[&str]) -> Self {
        let chars = texts.into_iter().flat_map(|t| t.chars()).map(String::from);
        Vocab::build(chars, specials, 1)
    }

    /// Number of tokens.
    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    /// Whether there are no tokens.
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    /// The id of `token`.
    pub fn id(&self, token: &str) -> Option<usize> {
        self.index.get(token).copied()
    }

    /// The token of `id`.
    pub fn token(&self, id: usize) -> Option<&str> {
        self.tokens.get(id).map(String::as_str)
    }

    /// All tokens, by id.
    pub fn tokens(&self) -> &[String] {
        &self.tokens
    }

    /// The ids of the characters of `text`; a character not in the vocabulary maps to `unk`.
    pub fn encode_chars(&self, text: &str, unk: usize) -> Vec<usize> {
        let mut buf = [0u8; 4];
        text.chars()
            .map(|c| self.id(c.encode_utf8(&mut buf)).unwrap_or(unk))
            .collect()
    }

    /// The concatenation of the tokens of `ids`, skipping ids outside the vocabulary.
    pub fn decode_concat(&self, ids: &[usize]) -> String {
        ids.iter().filter_map(|&i| self.token(i)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_is_specials_then_count_then_token() {
        let v = Vocab::of_chars(["banana", "ab"], &[PAD, UNK]);
        assert_eq!(v.tokens(), &["<pad>", "<unk>", "a", "b", "n"]);
        let again = Vocab::of_chars(["ab", "banana"], &[PAD, UNK]);
        assert_eq!(v, again);
    }

    #[test]
    fn characters_not_bytes() {
        let v = Vocab::of_chars(["né", "ñ"], &[PAD]);
        assert_eq!(v.len(), 4);
        assert_eq!(v.encode_chars("éx", 99), vec![v.id("é").unwrap(), 99]);
        assert_eq!(v.decode_concat(&v.encode_chars("ñé", 0)), "ñé");
    }

    #[test]
    fn min_count_and_specials_in_data() {
        let v = Vocab::build(["x", "y", "y", "<pad>"], &[PAD], 2);
        assert_eq!(v.tokens(), &["<pad>", "y"]);
    }

    #[test]
    fn json_round_trip_and_duplicates_rejected() {
        let v = Vocab::of_chars(["abc"], &[PAD]);
        let json = serde_json::to_string(&v).unwrap();
        assert_eq!(json, r#"["<pad>","a","b","c"]"#);
        assert_eq!(serde_json::from_str::<Vocab>(&json).unwrap(), v);
        let err = serde_json::from_str::<Vocab>(r#"["a","a"]"#).unwrap_err();
        assert!(err.to_string().contains("appears twice"));
    }
}
