//! Word embeddings: a store of word vectors, the word2vec and GloVe file formats, similarity
//! queries, evaluation on analogy and word-similarity sets, and debiasing.

pub mod debias;
pub mod eval;
pub mod formats;
pub mod query;

use std::collections::HashMap;

use crate::error::{Error, Result};

/// Word vectors in one row-major block, with their unit-length copies for cosine queries.
#[derive(Debug, Clone)]
pub struct Embeddings {
    words: Vec<String>,
    index: HashMap<String, usize>,
    dim: usize,
    vectors: Vec<f32>,
    /// The unit-length copy, made on the first query: training and conversion never need it,
    /// and it is as large as the vectors.
    unit: std::sync::OnceLock<Vec<f32>>,
}

/// Two stores are equal when they hold the same words and vectors, in the same order.
impl PartialEq for Embeddings {
    fn eq(&self, other: &Self) -> bool {
        self.dim == other.dim && self.words == other.words && self.vectors == other.vectors
    }
}

impl Embeddings {
    /// Builds a store from `words` and their `vectors` (`words.len() * dim` values, row-major).
    /// A repeated word, an empty word or a word with whitespace in it is an error.
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
            if w.is_empty() || w.chars().any(char::is_whitespace) {
                return Err(Error::InvalidInput {
                    input: w.clone(),
                    reason: "a word must be non-empty and without whitespace".into(),
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
        })
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
