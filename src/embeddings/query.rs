//! Similarity queries on word vectors, as methods of [`Embeddings`] computed as gensim's
//! `KeyedVectors` computes them: on unit-length vectors, with the query words left out of the
//! answers. A store with subwords answers for words outside its vocabulary from their
//! character n-grams, as gensim's `FastTextKeyedVectors` does.
//!
//! - nearest neighbours by cosine similarity, to several words and away from others
//!   (`most_similar(positive, negative)`), or to a vector;
//! - the similarity of two words, or of two sets of words (`n_similarity`);
//! - analogies `a : b :: c : ?`, by 3CosAdd (Mikolov et al. 2013, "Linguistic Regularities in
//!   Continuous Space Word Representations": the word nearest to `b - a + c`) or by 3CosMul
//!   (Levy & Goldberg 2014, "Linguistic Regularities in Sparse and Explicit Word
//!   Representations", which multiplies the similarities instead of adding them, so that one
//!   large term cannot outweigh the others);
//! - the odd one out of a list (gensim's `doesnt_match`).
//!
//! A vocabulary can have millions of words: each query is one pass over the rows, keeping the
//! best `k` in a heap (O(n log k)). Equal scores rank by row order, the earlier row first.

use std::borrow::Cow;
use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::fmt;
use std::str::FromStr;

use super::Embeddings;
use crate::error::{Error, Result};

/// How an analogy `a : b :: c : ?` scores a candidate `x`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnalogyMethod {
    /// 3CosAdd: `cos(x, b̂ - â + ĉ)`, gensim's `most_similar(positive=[b, c], negative=[a])`.
    CosAdd,
    /// 3CosMul: `s(x,b) s(x,c) / (s(x,a) + 1e-6)` with `s = (1 + cos) / 2`, gensim's
    /// `most_similar_cosmul`.
    CosMul,
}

impl FromStr for AnalogyMethod {
    type Err = String;

    /// Accepts `cosadd` (`3cosadd`, `add`) and `cosmul` (`3cosmul`, `mul`), in any case.
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "cosadd" | "3cosadd" | "add" => Ok(AnalogyMethod::CosAdd),
            "cosmul" | "3cosmul" | "mul" => Ok(AnalogyMethod::CosMul),
            _ => Err(format!(
                "unknown analogy method {s:?}: expected cosadd or cosmul"
            )),
        }
    }
}

impl fmt::Display for AnalogyMethod {
    /// The name [`FromStr`] reads back.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AnalogyMethod::CosAdd => "cosadd",
            AnalogyMethod::CosMul => "cosmul",
        })
    }
}

/// A word of the answer and its score: a cosine similarity, or the 3CosMul score.
#[derive(Debug, Clone, PartialEq)]
pub struct Neighbour {
    /// The word.
    pub word: String,
    /// Its score; higher is nearer.
    pub score: f32,
}

/// The signs of the words of a query: `+1` for those it looks like, `-1` for those it
/// looks unlike, as gensim weighs `positive` and `negative`.
const POSITIVE: f32 = 1.0;
const NEGATIVE: f32 = -1.0;

impl Embeddings {
    /// The `k` words nearest to the mean of the unit vectors of `positive` minus those of
    /// `negative`, by cosine (gensim's `most_similar(positive, negative, topn=k,
    /// restrict_vocab)`): the query is `Σ ±ŵ / n` made unit length, and the query words are left
    /// out of the answers. `restrict` keeps only the first N rows as candidates (the most frequent
    /// words, in files sorted by frequency). Words outside the vocabulary are answered from
    /// their n-grams when the store has subwords; the others are an error naming every one.
    pub fn most_similar(
        &self,
        positive: &[&str],
        negative: &[&str],
        k: usize,
        restrict: Option<usize>,
    ) -> Result<Vec<Neighbour>> {
        if positive.is_empty() && negative.is_empty() {
            return Err(Error::InvalidInput {
                input: String::new(),
                reason: "give at least one word to compare with".into(),
            });
        }
        let words: Vec<&str> = positive.iter().chain(negative).copied().collect();
        let units = self.query_units(&words)?;
        let mut mean = vec![0f32; self.dim()];
        for (i, u) in units.iter().enumerate() {
            let weight = if i < positive.len() {
                POSITIVE
            } else {
                NEGATIVE
            };
            mean.iter_mut()
                .zip(u.iter())
                .for_each(|(m, x)| *m += weight * x);
        }
        let n = words.len() as f32;
        mean.iter_mut().for_each(|m| *m /= n);
        let query = unit(&mean);
        let exclude: Vec<usize> = words.iter().filter_map(|w| self.id(w)).collect();
        Ok(top_k(self, k, &exclude, restrict, |row| dot(row, &query)))
    }

    /// The `k` words nearest to the vector `v` by cosine, nearest first (gensim's
    /// `similar_by_vector`); `restrict` as in [`Embeddings::most_similar`]. A `v` of the wrong
    /// length or with a value that is not finite is an error; a zero `v` scores every word 0.
    pub fn similar_by_vector(
        &self,
        v: &[f32],
        k: usize,
        restrict: Option<usize>,
    ) -> Result<Vec<Neighbour>> {
        if v.len() != self.dim() || v.iter().any(|x| !x.is_finite()) {
            return Err(Error::InvalidInput {
                input: format!("a query vector of {} values", v.len()),
                reason: format!(
                    "expected {} finite values, the dimension of the vectors",
                    self.dim()
                ),
            });
        }
        let query = unit(v);
        Ok(top_k(self, k, &[], restrict, |row| dot(row, &query)))
    }

    /// The cosine similarity of two words.
    pub fn similarity(&self, a: &str, b: &str) -> Result<f32> {
        let units = self.query_units(&[a, b])?;
        Ok(dot(&units[0], &units[1]))
    }

    /// The cosine similarity of the means of two sets of words (gensim's `n_similarity`): each
    /// set's vectors are averaged as they are, not made unit length first. An empty set is an
    /// error.
    pub fn n_similarity(&self, first: &[&str], second: &[&str]) -> Result<f32> {
        if first.is_empty() || second.is_empty() {
            return Err(Error::InvalidInput {
                input: format!("{} | {}", first.join(" "), second.join(" ")),
                reason: "both sets need at least one word".into(),
            });
        }
        let all: Vec<&str> = first.iter().chain(second).copied().collect();
        self.check_known(&all)?;
        let mean = |words: &[&str]| -> Result<Vec<f32>> {
            let mut sum = vec![0f32; self.dim()];
            for w in words {
                let v = self.get_vector(w)?;
                sum.iter_mut().zip(v.iter()).for_each(|(s, x)| *s += x);
            }
            let n = words.len() as f32;
            Ok(unit(&sum.iter().map(|s| s / n).collect::<Vec<_>>()))
        };
        Ok(dot(&mean(first)?, &mean(second)?))
    }

    /// The `k` best answers to `a : b :: c : ?` (man : king :: woman : queen), `a`, `b` and
    /// `c` left out, by `method`; `restrict` as in [`Embeddings::most_similar`]. Unknown words
    /// are an error naming every one of them.
    ///
    /// 3CosAdd ranks by `cos(x, q)` with `q = (b̂ + ĉ - â) / 3` made unit length, `ŵ` the unit
    /// vector of `w`: gensim's `most_similar(positive=[b, c], negative=[a])`. 3CosMul ranks by
    /// `s(x,b) s(x,c) / (s(x,a) + 1e-6)` with `s(x,w) = (1 + cos(x,w)) / 2`, the cosine shifted
    /// to [0, 1] so that the product and quotient keep their order (Levy & Goldberg 2014, eq. 4
    /// and footnote 7; gensim's `most_similar_cosmul`).
    pub fn analogy(
        &self,
        [a, b, c]: [&str; 3],
        k: usize,
        method: AnalogyMethod,
        restrict: Option<usize>,
    ) -> Result<Vec<Neighbour>> {
        self.check_known(&[a, b, c])?;
        match method {
            AnalogyMethod::CosAdd => self.most_similar(&[b, c], &[a], k, restrict),
            AnalogyMethod::CosMul => {
                let units = self.query_units(&[a, b, c])?;
                let (ua, ub, uc) = (&units[0], &units[1], &units[2]);
                let exclude: Vec<usize> = [a, b, c].iter().filter_map(|w| self.id(w)).collect();
                let shifted = |row: &[f32], w: &[f32]| (1.0 + dot(row, w)) / 2.0;
                Ok(top_k(self, k, &exclude, restrict, |row| {
                    shifted(row, ub) * shifted(row, uc) / (shifted(row, ua) + 1e-6)
                }))
            }
        }
    }

    /// The word of `words` least like the others (gensim's `doesnt_match`): the one with the
    /// least cosine to the mean of their unit vectors. Fewer than three words have no odd one
    /// out, and are an error; so is any unknown word, every one named (gensim skips them). Equal
    /// scores go to the word given first.
    pub fn doesnt_match<'w>(&self, words: &[&'w str]) -> Result<&'w str> {
        if words.len() < 3 {
            return Err(Error::InvalidInput {
                input: words.join(" "),
                reason: "the odd one out needs at least 3 words".into(),
            });
        }
        let units = self.query_units(words)?;
        let mut mean = vec![0f32; self.dim()];
        for u in &units {
            mean.iter_mut().zip(u.iter()).for_each(|(m, x)| *m += x);
        }
        let mean = unit(&mean);
        let mut odd = 0;
        let mut least = f32::INFINITY;
        for (i, u) in units.iter().enumerate() {
            let score = dot(u, &mean);
            if score < least {
                (odd, least) = (i, score);
            }
        }
        Ok(words[odd])
    }

    /// The unit vectors of `words` (from n-grams for words outside the vocabulary), or an error
    /// naming every word that has none.
    fn query_units(&self, words: &[&str]) -> Result<Vec<Cow<'_, [f32]>>> {
        self.check_known(words)?;
        words
            .iter()
            .map(|w| match self.id(w) {
                Some(id) => Ok(Cow::Borrowed(self.unit(id))),
                None => Ok(Cow::Owned(unit(&self.get_vector(w)?))),
            })
            .collect()
    }

    /// An error naming every word of `words` that has no vector.
    fn check_known(&self, words: &[&str]) -> Result<()> {
        let missing: Vec<String> = words
            .iter()
            .filter(|w| !self.has_vector(w))
            .map(|w| (*w).to_owned())
            .collect();
        match missing.is_empty() {
            true => Ok(()),
            false => Err(Error::UnknownWords { words: missing }),
        }
    }
}

/// The cosine similarity of two words; [`Embeddings::similarity`], kept for the callers of
/// this function.
pub fn similarity(emb: &Embeddings, a: &str, b: &str) -> Result<f32> {
    emb.similarity(a, b)
}

/// A candidate row, ordered so that the greater is the better answer: higher score, then
/// earlier row.
#[derive(Debug, Clone, Copy)]
struct Ranked {
    score: f32,
    row: usize,
}

impl Ord for Ranked {
    fn cmp(&self, other: &Self) -> Ordering {
        self.score
            .total_cmp(&other.score)
            .then_with(|| other.row.cmp(&self.row))
    }
}

impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Ranked {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Ranked {}

/// The `k` best rows by `score` of their unit vectors, best first.
fn top_k(
    emb: &Embeddings,
    k: usize,
    exclude: &[usize],
    restrict: Option<usize>,
    score: impl Fn(&[f32]) -> f32,
) -> Vec<Neighbour> {
    let rows = restrict.map_or(emb.len(), |n| n.min(emb.len()));
    let mut exclude = exclude.to_vec();
    exclude.sort_unstable();
    // A min-heap of the best so far: its top is the one the next better candidate replaces.
    let mut best: BinaryHeap<Reverse<Ranked>> = BinaryHeap::with_capacity(k.min(rows) + 1);
    if k > 0 {
        for row in 0..rows {
            if exclude.binary_search(&row).is_ok() {
                continue;
            }
            let s = score(emb.unit(row));
            // NaN (from NaN in the store) ranks last rather than first, where total_cmp puts it.
            let candidate = Ranked {
                score: if s.is_nan() { f32::NEG_INFINITY } else { s },
                row,
            };
            if best.len() < k {
                best.push(Reverse(candidate));
            } else if best.peek().is_some_and(|Reverse(worst)| candidate > *worst) {
                best.pop();
                best.push(Reverse(candidate));
            }
        }
    }
    // Ascending order of Reverse is descending order of Ranked: best first.
    best.into_sorted_vec()
        .into_iter()
        .map(|Reverse(r)| Neighbour {
            word: emb.word(r.row).to_owned(),
            score: r.score,
        })
        .collect()
}

/// The dot product with eight running sums, which the compiler turns into SIMD (one running
/// sum is a dependency chain it must keep in order).
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut sums = [0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (xa, xb) in ca.zip(cb) {
        for ((s, x), y) in sums.iter_mut().zip(xa).zip(xb) {
            *s += x * y;
        }
    }
    sums.iter().sum::<f32>() + tail
}

/// `v / ||v||`, with the norm in f64 as the store computes its unit rows; zero stays zero.
fn unit(v: &[f32]) -> Vec<f32> {
    let norm = v.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>().sqrt();
    if norm == 0.0 {
        return v.to_vec();
    }
    v.iter().map(|&x| (f64::from(x) / norm) as f32).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The expected numbers below are gensim 4.4's on the same store:
    /// ```python
    /// kv = KeyedVectors(3); kv.add_vectors(["a", "b", "c", "x1", "x2", "y"], np.array(
    ///     [[1,0,0],[2,2,0],[0,0,3],[-1,0,1],[-1,1,0],[0,-1,0.5]], dtype=np.float32))
    /// kv.most_similar(positive=["b","c"], negative=["a"], topn=3)
    /// # [('x1', 0.7259811758995056), ('x2', 0.5615166425704956), ('y', -0.14710141718387604)]
    /// kv.most_similar_cosmul(positive=["b","c"], negative=["a"], topn=3)
    /// # [('x2', 1.7070950269699097), ('x1', 1.457096815109253), ('y', 0.26595714688301086)]
    /// kv.most_similar("b", topn=3)    # [('a', 0.7071067690849304), ('c', 0.0), ('x2', 0.0)]
    /// kv.doesnt_match(["a", "b", "x2", "c"])  # 'x2'
    /// kv.most_similar(positive=["a", "x2"], topn=3)
    /// # [('b', 0.9238795042037964), ('c', 0.0), ('x1', -0.27059808373451233)]
    /// kv.most_similar(positive=[], negative=["y"], topn=3)
    /// # [('b', 0.6324555277824402), ('x2', 0.6324555277824402), ('a', 0.0)]
    /// kv.most_similar(positive=["c"], negative=["a", "y"], topn=3)
    /// # [('x2', 0.9231617450714111), ('x1', 0.7566788792610168), ('b', -0.05144604668021202)]
    /// kv.n_similarity(["a", "b"], ["c", "x1"])   # -0.20180184
    /// kv.n_similarity(["a"], ["b", "x2", "y"])   # 0.4364358
    /// ```
    fn store() -> Embeddings {
        let words = ["a", "b", "c", "x1", "x2", "y"].map(String::from).to_vec();
        #[rustfmt::skip]
        let vectors = vec![
            1.0, 0.0, 0.0,  2.0, 2.0, 0.0,  0.0, 0.0, 3.0,
            -1.0, 0.0, 1.0,  -1.0, 1.0, 0.0,  0.0, -1.0, 0.5,
        ];
        Embeddings::new(words, 3, vectors).unwrap()
    }

    fn answers(found: &[Neighbour]) -> Vec<(&str, f32)> {
        found.iter().map(|n| (n.word.as_str(), n.score)).collect()
    }

    fn assert_close(found: &[Neighbour], expected: &[(&str, f32)]) {
        assert_eq!(found.len(), expected.len(), "{:?}", answers(found));
        for (n, (word, score)) in found.iter().zip(expected) {
            assert_eq!(n.word, *word, "{:?}", answers(found));
            assert!((n.score - score).abs() < 1e-6, "{:?}", answers(found));
        }
    }

    #[test]
    fn analogies_match_gensim_and_the_two_methods_differ() {
        let emb = store();
        let add = emb
            .analogy(["a", "b", "c"], 3, AnalogyMethod::CosAdd, None)
            .unwrap();
        assert_close(
            &add,
            &[
                ("x1", 0.725_981_2),
                ("x2", 0.561_516_6),
                ("y", -0.147_101_4),
            ],
        );
        let mul = emb
            .analogy(["a", "b", "c"], 3, AnalogyMethod::CosMul, None)
            .unwrap();
        assert_close(
            &mul,
            &[("x2", 1.707_095), ("x1", 1.457_096_8), ("y", 0.265_957_1)],
        );
        let first4 = emb
            .analogy(["a", "b", "c"], 3, AnalogyMethod::CosAdd, Some(4))
            .unwrap();
        assert_close(&first4, &[("x1", 0.725_981_2)]);
        assert!(emb
            .analogy(["a", "b", "c"], 0, AnalogyMethod::CosMul, None)
            .unwrap()
            .is_empty());
        for method in [AnalogyMethod::CosAdd, AnalogyMethod::CosMul] {
            assert_eq!(method.to_string().parse::<AnalogyMethod>(), Ok(method));
            let all = emb.analogy(["x1", "b", "c"], 10, method, None).unwrap();
            assert_eq!(all.len(), 3, "the query words are left out");
            assert!(all
                .iter()
                .all(|n| !["x1", "b", "c"].contains(&n.word.as_str())));
        }
        assert!("3CosMul".parse::<AnalogyMethod>().is_ok());
        assert!("sum".parse::<AnalogyMethod>().is_err());
    }

    #[test]
    fn neighbours_rank_by_cosine_with_ties_in_row_order() {
        let emb = store();
        let near = emb.most_similar(&["b"], &[], 3, None).unwrap();
        assert_close(
            &near,
            &[
                ("a", std::f32::consts::FRAC_1_SQRT_2),
                ("c", 0.0),
                ("x2", 0.0),
            ],
        );
        assert_eq!(emb.most_similar(&["b"], &[], 100, None).unwrap().len(), 5);
        let by_vector = emb.similar_by_vector(&[0.0, 0.0, 5.0], 2, None).unwrap();
        assert_close(
            &by_vector,
            &[("c", 1.0), ("x1", std::f32::consts::FRAC_1_SQRT_2)],
        );
        let restricted = emb.similar_by_vector(&[0.0, 0.0, 5.0], 9, Some(2)).unwrap();
        assert_close(&restricted, &[("a", 0.0), ("b", 0.0)]);
        let zero = emb.similar_by_vector(&[0.0; 3], 2, None).unwrap();
        assert_close(&zero, &[("a", 0.0), ("b", 0.0)]);
        assert!(
            (emb.similarity("a", "x1").unwrap() + std::f32::consts::FRAC_1_SQRT_2).abs() < 1e-6
        );
        let err = emb.similar_by_vector(&[1.0, 2.0], 2, None).unwrap_err();
        assert!(
            err.to_string().contains("expected 3 finite values"),
            "{err}"
        );
        assert!(emb
            .similar_by_vector(&[f32::NAN, 0.0, 0.0], 2, None)
            .is_err());
    }

    #[test]
    fn several_positive_and_negative_words_match_gensim() {
        let emb = store();
        let two = emb.most_similar(&["a", "x2"], &[], 3, None).unwrap();
        assert_close(
            &two,
            &[("b", 0.923_879_5), ("c", 0.0), ("x1", -0.270_598_1)],
        );
        let away = emb.most_similar(&[], &["y"], 3, None).unwrap();
        assert_close(
            &away,
            &[("b", 0.632_455_5), ("x2", 0.632_455_5), ("a", 0.0)],
        );
        let mixed = emb.most_similar(&["c"], &["a", "y"], 3, None).unwrap();
        assert_close(
            &mixed,
            &[
                ("x2", 0.923_161_7),
                ("x1", 0.756_678_9),
                ("b", -0.051_446_05),
            ],
        );
        let err = emb.most_similar(&[], &[], 3, None).unwrap_err();
        assert!(err.to_string().contains("at least one word"), "{err}");
        let n = emb.n_similarity(&["a", "b"], &["c", "x1"]).unwrap();
        assert!((n + 0.201_801_84).abs() < 1e-6, "{n}");
        let n = emb.n_similarity(&["a"], &["b", "x2", "y"]).unwrap();
        assert!((n - 0.436_435_8).abs() < 1e-6, "{n}");
        assert!(emb.n_similarity(&["a"], &[]).is_err());
        let err = emb.n_similarity(&["a", "q"], &["r"]).unwrap_err();
        assert_eq!(err.to_string(), "unknown words: q, r");
    }

    #[test]
    fn odd_one_out_matches_gensim_and_needs_three_words() {
        let emb = store();
        assert_eq!(emb.doesnt_match(&["a", "b", "x2", "c"]).unwrap(), "x2");
        assert_eq!(emb.doesnt_match(&["x2", "b", "a"]).unwrap(), "x2");
        let err = emb.doesnt_match(&["a", "b"]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "input \"a b\": the odd one out needs at least 3 words"
        );
    }

    #[test]
    fn unknown_words_are_all_named() {
        let emb = store();
        assert_eq!(
            emb.most_similar(&["zz"], &[], 3, None)
                .unwrap_err()
                .to_string(),
            "unknown word: zz"
        );
        let err = emb
            .analogy(["p", "b", "q"], 3, AnalogyMethod::CosAdd, None)
            .unwrap_err();
        assert_eq!(err.to_string(), "unknown words: p, q");
        let err = emb.doesnt_match(&["a", "u", "b", "v"]).unwrap_err();
        assert_eq!(err.to_string(), "unknown words: u, v");
        assert_eq!(
            emb.similarity("a", "w").unwrap_err().to_string(),
            "unknown word: w"
        );
    }

    #[test]
    fn top_k_agrees_with_a_full_sort() {
        // Many equal and near-equal scores: the heap must keep exactly the sorted prefix.
        let n = 500;
        let words = (0..n).map(|i| format!("w{i}")).collect();
        let vectors = (0..n)
            .flat_map(|i| [((i * 37) % 11) as f32, 1.0 + ((i * 13) % 5) as f32])
            .collect();
        let emb = Embeddings::new(words, 2, vectors).unwrap();
        let query = [1.0, 0.3];
        let mut all: Vec<(f32, usize)> = (0..n)
            .map(|i| (dot(emb.unit(i), &unit(&query)), i))
            .collect();
        all.sort_by(|x, y| y.0.total_cmp(&x.0).then(x.1.cmp(&y.1)));
        for k in [1, 7, 50, 499, 600] {
            let got = emb.similar_by_vector(&query, k, None).unwrap();
            let want: Vec<String> = all.iter().take(k).map(|&(_, i)| format!("w{i}")).collect();
            assert_eq!(
                got.iter().map(|n| n.word.clone()).collect::<Vec<_>>(),
                want,
                "k={k}"
            );
        }
    }
}
