//! Word embeddings: a store of word vectors, with fastText's subword rows when it has them;
//! the word2vec, GloVe and fastText file formats; similarity queries as gensim's
//! `KeyedVectors` has them; evaluation on analogy and word-similarity sets; and debiasing.

pub mod debias;
pub mod eval;
pub mod formats;
pub mod query;
pub mod subwords;
mod suggest;

use std::borrow::Cow;
use std::collections::HashMap;

use crate::error::{Error, Result};
use subwords::Subwords;

/// Word vectors in one row-major block, with their unit-length copies for cosine queries.
///
/// A store read from a fastText model (or trained with subwords) also holds the rows its
/// vectors are made of ([`Subwords`]): then a word outside the vocabulary still has a vector,
/// the mean of its character n-gram rows, and every query answers for it.
#[derive(Debug, Clone)]
pub struct Embeddings {
    words: Vec<String>,
    index: HashMap<String, usize>,
    dim: usize,
    vectors: Vec<f32>,
    /// The unit-length copy, made on the first query: training and conversion never need it,
    /// and it is as large as the vectors.
    unit: std::sync::OnceLock<Vec<f32>>,
    subwords: Option<Box<Subwords>>,
}

/// Two stores are equal when they hold the same words and vectors, in the same order, and the
/// same subword rows, if any.
impl PartialEq for Embeddings {
    fn eq(&self, other: &Self) -> bool {
        self.dim == other.dim
            && self.words == other.words
            && self.vectors == other.vectors
            && self.subwords == other.subwords
    }
}

impl Embeddings {
    /// Builds a store from `words` and their `vectors` (`words.len() * dim` values, row-major).
    /// A repeated word, an empty word or a word with ASCII whitespace in it is an error (the
    /// file formats separate words by ASCII whitespace; other spaces, such as U+00A0, occur in
    /// fastText's vocabularies and are kept).
    pub fn new(words: Vec<String>, dim: usize, vectors: Vec<f32>) -> Result<Self> {
        if dim == 0 {
            return Err(Error::Config(
                "vectors must have at least one dimension".into(),
            ));
        }
        if vectors.len() != words.len() * dim {
            return Err(Error::Config(format!(
                "{} values for {} words of dimension {dim}",
                vectors.len(),
                words.len()
            )));
        }
        let mut index = HashMap::with_capacity(words.len());
        for (i, w) in words.iter().enumerate() {
            if w.is_empty() || w.bytes().any(|b| b.is_ascii_whitespace() || b == 0) {
                return Err(Error::InvalidInput {
                    input: w.clone(),
                    reason: "a word must be non-empty and without ASCII whitespace".into(),
                });
            }
            if index.insert(w.clone(), i).is_some() {
                return Err(Error::InvalidInput {
                    input: w.clone(),
                    reason: "word appears twice".into(),
                });
            }
        }
        Ok(Embeddings {
            words,
            index,
            dim,
            vectors,
            unit: std::sync::OnceLock::new(),
            subwords: None,
        })
    }

    /// Builds a store of subword vectors: each word's vector is the mean of its own row and
    /// its n-gram rows ([`Subwords::compose`]), as fastText's `getWordVector` computes it.
    /// `subwords` must hold a row and a count for each of `words`.
    pub fn with_subwords(words: Vec<String>, dim: usize, subwords: Subwords) -> Result<Self> {
        subwords.check(words.len(), dim)?;
        let mut vectors = Vec::with_capacity(words.len() * dim);
        for (id, word) in words.iter().enumerate() {
            // A word always has its own row.
            vectors.extend(subwords.compose(Some(id), word, dim).unwrap_or_default());
        }
        let mut emb = Embeddings::new(words, dim, vectors)?;
        emb.subwords = Some(Box::new(subwords));
        Ok(emb)
    }

    /// The subword rows, for a store that has them.
    pub fn subwords(&self) -> Option<&Subwords> {
        self.subwords.as_deref()
    }

    /// The store without its subword rows: plain word vectors.
    pub fn without_subwords(mut self) -> Self {
        self.subwords = None;
        self
    }

    /// Number of words.
    pub fn len(&self) -> usize {
        self.words.len()
    }

    /// Whether there are no words.
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// Vector dimension.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// The words, in stored order (for files written by word2vec or seqmodels: most frequent
    /// first).
    pub fn words(&self) -> &[String] {
        &self.words
    }

    /// The row of `word`.
    pub fn id(&self, word: &str) -> Option<usize> {
        self.index.get(word).copied()
    }

    /// The word of row `id`.
    ///
    /// # Panics
    /// If `id >= self.len()`; [`Embeddings::id`] gives the ids of words.
    pub fn word(&self, id: usize) -> &str {
        &self.words[id]
    }

    /// The stored vector of row `id`.
    ///
    /// # Panics
    /// If `id >= self.len()`.
    pub fn vector(&self, id: usize) -> &[f32] {
        &self.vectors[id * self.dim..(id + 1) * self.dim]
    }

    /// The unit-length vector of row `id` (all zeros for a zero vector).
    ///
    /// # Panics
    /// If `id >= self.len()`.
    pub fn unit(&self, id: usize) -> &[f32] {
        &self.unit_vectors()[id * self.dim..(id + 1) * self.dim]
    }

    /// All stored vectors, row-major.
    pub fn vectors(&self) -> &[f32] {
        &self.vectors
    }

    /// All unit vectors, row-major (computed on the first call).
    pub fn unit_vectors(&self) -> &[f32] {
        self.unit.get_or_init(|| {
            let mut unit = self.vectors.clone();
            for row in unit.chunks_mut(self.dim) {
                let norm = row
                    .iter()
                    .map(|&x| f64::from(x) * f64::from(x))
                    .sum::<f64>()
                    .sqrt();
                if norm > 0.0 {
                    row.iter_mut()
                        .for_each(|x| *x = (f64::from(*x) / norm) as f32);
                }
            }
            unit
        })
    }

    /// The vector of `word` (gensim's `get_vector`): its row, or for a word outside the
    /// vocabulary, the mean of its character n-gram rows when the store has subwords. A word
    /// with neither is [`Error::UnknownWords`].
    pub fn get_vector(&self, word: &str) -> Result<Cow<'_, [f32]>> {
        match self.id(word) {
            Some(id) => Ok(Cow::Borrowed(self.vector(id))),
            None => self
                .ngram_vector(word)
                .map(Cow::Owned)
                .ok_or_else(|| Error::UnknownWords {
                    words: vec![word.to_owned()],
                }),
        }
    }

    /// The vectors of `words` as [`Embeddings::get_vector`] gives them, or an error naming
    /// every word that has none.
    pub fn get_vectors(&self, words: &[&str]) -> Result<Vec<Cow<'_, [f32]>>> {
        let missing: Vec<String> = words
            .iter()
            .filter(|w| !self.has_vector(w))
            .map(|w| (*w).to_owned())
            .collect();
        if !missing.is_empty() {
            return Err(Error::UnknownWords { words: missing });
        }
        words.iter().map(|w| self.get_vector(w)).collect()
    }

    /// The mean of `word`'s character n-gram rows, whether or not the word has a row of its
    /// own (fastText's vector for a word it has never seen); `None` without subwords or
    /// n-grams.
    pub fn ngram_vector(&self, word: &str) -> Option<Vec<f32>> {
        self.subwords()?.compose(None, word, self.dim)
    }

    /// Whether [`Embeddings::get_vector`] has a vector for `word`.
    pub fn has_vector(&self, word: &str) -> bool {
        self.id(word).is_some()
            || self
                .subwords()
                .is_some_and(|s| s.ngrams.enabled() && !s.ngrams.buckets(word).is_empty())
    }

    /// The rows of `words`, or an error naming every word that is missing.
    pub fn ids(&self, words: &[&str]) -> Result<Vec<usize>> {
        let missing: Vec<String> = words
            .iter()
            .filter(|w| self.id(w).is_none())
            .map(|w| (*w).to_owned())
            .collect();
        if !missing.is_empty() {
            return Err(Error::UnknownWords { words: missing });
        }
        Ok(words.iter().filter_map(|w| self.id(w)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_rows_and_lookups() {
        let e = Embeddings::new(vec!["a".into(), "b".into()], 2, vec![3.0, 4.0, 0.0, 0.0]).unwrap();
        assert_eq!(e.unit(0), &[0.6, 0.8]);
        assert_eq!(e.unit(1), &[0.0, 0.0]);
        assert_eq!(e.vector(0), &[3.0, 4.0]);
        assert_eq!(e.ids(&["b", "a"]).unwrap(), vec![1, 0]);
        let err = e.ids(&["a", "zz", "yy"]).unwrap_err();
        assert_eq!(err.to_string(), "unknown words: zz, yy");
    }

    #[test]
    fn malformed_stores_are_errors() {
        assert!(Embeddings::new(vec!["a".into(), "a".into()], 1, vec![1.0, 2.0]).is_err());
        assert!(Embeddings::new(vec!["a b".into()], 1, vec![1.0]).is_err());
        assert!(Embeddings::new(vec!["a".into()], 2, vec![1.0]).is_err());
    }
}
