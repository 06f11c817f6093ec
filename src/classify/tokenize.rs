//! Sentence → words, through the tokenizers crate: Unicode NFKC, lower-casing (as `embed train
//! --lowercase` and the shipped corpora), then BERT's pre-tokeniser, which splits on whitespace
//! and isolates every punctuation character (`"don't!"` → `don ' t !`). The english_mix corpus
//! writes `century's` as `century s`, so splitting at the apostrophe finds its words.
//!
//! Words map to ids through a [`Vocab`] whose first two entries are `<pad>` (0) and `<unk>` (1);
//! a word the vocabulary lacks becomes `<unk>`, never an error. A sentence longer than
//! [`MAX_WORDS`] words is cut there, and training and evaluation name it ([`LongSentence`]):
//! each sentence is tokenised once, and the cut is found on the way.

use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use tokenizers::normalizers::{Lowercase, Sequence, NFKC};
use tokenizers::pre_tokenizers::bert::BertPreTokenizer;
use tokenizers::{
    NormalizedString, Normalizer, OffsetReferential, OffsetType, PreTokenizedString, PreTokenizer,
};

use crate::error::{Error, Result};
use crate::vocab::{Vocab, PAD, UNK};

/// The most words of a sentence a classifier reads; the rest of a longer text is left out, so
/// that memory is bounded by the model, not by the input.
pub const MAX_WORDS: usize = 1_000;

/// The most characters of a text tokenised: far more than [`MAX_WORDS`] words need, and a
/// bound on the tokeniser's memory (it keeps offsets for every character it normalises).
const MAX_CHARS: usize = MAX_WORDS * 64;

/// Id of `<pad>`.
pub const PAD_ID: i64 = 0;
/// Id of `<unk>`.
pub const UNK_ID: i64 = 1;

/// The classifiers' word splitter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tokenizer {
    lowercase: bool,
}

impl Tokenizer {
    /// A tokenizer that lower-cases (`true`, the default of `classify train`) or keeps case.
    pub fn new(lowercase: bool) -> Self {
        Tokenizer { lowercase }
    }

    /// The words of `text`, in order: at most `MAX_WORDS` (1,000).
    pub fn words(&self, text: &str) -> Result<Vec<String>> {
        Ok(self.words_cut(text)?.0)
    }

    /// [`Tokenizer::words`], and whether `text` was longer than a classifier reads.
    pub fn words_cut(&self, text: &str) -> Result<(Vec<String>, bool)> {
        let fail = |e: tokenizers::Error| Error::InvalidInput {
            input: text.to_owned(),
            reason: format!("cannot be tokenised: {e}"),
        };
        let head = match text.char_indices().nth(MAX_CHARS) {
            Some((end, _)) => &text[..end],
            None => text,
        };
        let mut normalized = NormalizedString::from(head);
        if self.lowercase {
            Sequence::new(vec![NFKC.into(), Lowercase.into()])
                .normalize(&mut normalized)
                .map_err(fail)?;
        } else {
            NFKC.normalize(&mut normalized).map_err(fail)?;
        }
        let mut pre = PreTokenizedString::from(normalized);
        BertPreTokenizer.pre_tokenize(&mut pre).map_err(fail)?;
        let splits = pre.get_splits(OffsetReferential::Normalized, OffsetType::Char);
        let cut = splits.len() > MAX_WORDS || head.len() < text.len();
        let words = splits
            .into_iter()
            .take(MAX_WORDS)
            .map(|(word, _, _)| word.to_owned())
            .collect();
        Ok((words, cut))
    }

    /// The ids of `text`'s words in `vocab` (`<unk>` for missing words); at least one id, so an
    /// all-whitespace text is one `<unk>`.
    pub fn ids(&self, text: &str, vocab: &Vocab) -> Result<Vec<i64>> {
        Ok(self.ids_cut(text, vocab)?.0)
    }

    /// [`Tokenizer::ids`], and whether `text` was longer than a classifier reads.
    pub fn ids_cut(&self, text: &str, vocab: &Vocab) -> Result<(Vec<i64>, bool)> {
        let (words, cut) = self.words_cut(text)?;
        Ok((word_ids(&words, vocab), cut))
    }
}

/// A sentence longer than a classifier reads: only its first [`MAX_WORDS`] words were used.
/// Its `Display` is the warning `classify` prints: `data.csv:2: more than 1000 words; the
/// classifier reads the first 1000`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LongSentence {
    /// The file it came from.
    pub path: PathBuf,
    /// Its 1-based line (a table's record: the line it starts on).
    pub line: usize,
}

impl fmt::Display for LongSentence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: more than {MAX_WORDS} words; the classifier reads the first {MAX_WORDS}",
            self.path.display(),
            self.line
        )
    }
}

/// The ids of words already split (see [`Tokenizer::ids`]).
pub(crate) fn word_ids(words: &[String], vocab: &Vocab) -> Vec<i64> {
    let mut ids: Vec<i64> = words
        .iter()
        .map(|w| vocab.id(w).map_or(UNK_ID, |i| i as i64))
        .collect();
    if ids.is_empty() {
        ids.push(UNK_ID);
    }
    ids
}

/// The specials every classifier vocabulary starts with.
pub(crate) const SPECIALS: [&str; 2] = [PAD, UNK];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lowercases_and_splits_punctuation() {
        let t = Tokenizer::new(true);
        assert_eq!(
            t.words("I LOVE you, Mum!  It's the 21st century ❤️")
                .unwrap(),
            [
                "i", "love", "you", ",", "mum", "!", "it", "'", "s", "the", "21st", "century", "❤️"
            ]
        );
        assert_eq!(
            Tokenizer::new(false).words("Hi there").unwrap(),
            ["Hi", "there"]
        );
        // NFKC folds the ligature and the full-width letters.
        assert_eq!(t.words("ﬁne ＡＢ").unwrap(), ["fine", "ab"]);
        assert!(t.words("  \t ").unwrap().is_empty());
    }

    #[test]
    fn unknown_words_become_unk() {
        let vocab =
            Vocab::try_from(["<pad>", "<unk>", "love", "you"].map(String::from).to_vec()).unwrap();
        let t = Tokenizer::new(true);
        assert_eq!(t.ids("I love YOU", &vocab).unwrap(), [UNK_ID, 2, 3]);
        assert_eq!(t.ids("   ", &vocab).unwrap(), [UNK_ID]);
    }

    #[test]
    fn a_long_text_is_cut_at_max_words_and_says_so() {
        let vocab = Vocab::try_from(["<pad>", "<unk>", "love"].map(String::from).to_vec()).unwrap();
        let t = Tokenizer::new(true);
        let (ids, cut) = t.ids_cut(&"love ".repeat(MAX_WORDS), &vocab).unwrap();
        assert_eq!((ids.len(), cut), (MAX_WORDS, false));
        let (ids, cut) = t.ids_cut(&"love ".repeat(MAX_WORDS + 1), &vocab).unwrap();
        assert_eq!((ids.len(), cut), (MAX_WORDS, true));
        assert!(ids.iter().all(|&i| i == 2));
        // Past MAX_CHARS characters the text is cut before splitting, even into few words.
        let (words, cut) = t.words_cut(&"x".repeat(MAX_CHARS + 1)).unwrap();
        assert_eq!((words.len(), cut), (1, true));
        let long = LongSentence {
            path: PathBuf::from("data.csv"),
            line: 2,
        };
        assert_eq!(
            long.to_string(),
            "data.csv:2: more than 1000 words; the classifier reads the first 1000"
        );
    }
}
