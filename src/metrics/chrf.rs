//! Corpus chrF as sacreBLEU computes it by default (Popović 2015; sacreBLEU's `CHRF()`):
//! character n-grams of orders 1 to 6 with whitespace removed, no word n-grams, β = 2, one
//! reference per sentence.
//!
//! For each order n, over the whole corpus: `hyp_n` and `ref_n` count the character n-grams of
//! the hypotheses and references, `match_n` the clipped matches (each hypothesis n-gram counts
//! at most as often as it occurs in its reference). The orders where both counts are positive
//! give the mean precision `P = mean(match_n / hyp_n)` and recall `R = mean(match_n / ref_n)`,
//! and `chrF = 100 * (1 + β²) P R / (β² P + R)` (0 when `P + R = 0`).

use std::collections::HashMap;
use std::fmt;

use crate::error::Result;

/// Largest character n-gram order.
const CHAR_ORDER: usize = 6;
/// Recall weighs β² = 4 times as much as precision.
const BETA: f64 = 2.0;

/// chrF with the counts behind it.
#[derive(Debug, Clone, PartialEq)]
pub struct Chrf {
    /// chrF, 0-100.
    pub score: f64,
    /// `[hyp_n, ref_n, match_n]` for n = 1..=6.
    pub stats: [[usize; 3]; CHAR_ORDER],
}

impl fmt::Display for Chrf {
    /// sacreBLEU's line: `chrF2 = 58.12`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "chrF2 = {:.2}", self.score)
    }
}

/// Corpus chrF of `hypotheses` against one reference each.
pub fn corpus_chrf(hypotheses: &[&str], references: &[&str]) -> Result<Chrf> {
    let mut stats = [[0usize; 3]; CHAR_ORDER];
    for (h, r) in super::bleu::paired(hypotheses, references)? {
        for (n, s) in sentence_stats(h, r).iter().enumerate() {
            for k in 0..3 {
                stats[n][k] += s[k];
            }
        }
    }
    Ok(Chrf {
        score: f_score(&stats),
        stats,
    })
}

/// `[hyp_n, ref_n, match_n]` of one sentence pair.
fn sentence_stats(hypothesis: &str, reference: &str) -> [[usize; 3]; CHAR_ORDER] {
    let mut out = [[0usize; 3]; CHAR_ORDER];
    let (h, r) = (owned_ngrams(hypothesis), owned_ngrams(reference));
    for n in 0..CHAR_ORDER {
        out[n][0] = h[n].values().sum();
        out[n][1] = r[n].values().sum();
        out[n][2] = h[n]
            .iter()
            .map(|(gram, &c)| c.min(r[n].get(gram).copied().unwrap_or(0)))
            .sum();
    }
    out
}

/// The character n-gram counts of `text` without its whitespace, for n = 1..=6.
fn owned_ngrams(text: &str) -> Vec<HashMap<String, usize>> {
    let chars: Vec<char> = text.split_whitespace().flat_map(str::chars).collect();
    (1..=CHAR_ORDER)
        .map(|n| {
            let mut counts: HashMap<String, usize> = HashMap::new();
            for w in chars.windows(n) {
                *counts.entry(w.iter().collect()).or_insert(0) += 1;
            }
            counts
        })
        .collect()
}

/// sacreBLEU's `_compute_f_score` without epsilon smoothing.
fn f_score(stats: &[[usize; 3]; CHAR_ORDER]) -> f64 {
    let (mut precision, mut recall, mut orders) = (0.0, 0.0, 0usize);
    for &[hyp, reference, matched] in stats {
        if hyp > 0 && reference > 0 {
            precision += matched as f64 / hyp as f64;
            recall += matched as f64 / reference as f64;
            orders += 1;
        }
    }
    if orders == 0 {
        return 0.0;
    }
    let (p, r) = (precision / orders as f64, recall / orders as f64);
    let factor = BETA * BETA;
    if p + r > 0.0 {
        100.0 * (1.0 + factor) * p * r / (factor * p + r)
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_by_hand() {
        // Whitespace is removed: "ab c" is the characters a, b, c.
        let s = sentence_stats("ab c", "abd");
        // 1-grams: hyp a b c, ref a b d: 2 match. 2-grams: hyp ab bc, ref ab bd: 1 match.
        // 3-grams: hyp abc, ref abd: none. 4-grams and longer: none on either side.
        assert_eq!(s[0], [3, 3, 2]);
        assert_eq!(s[1], [2, 2, 1]);
        assert_eq!(s[2], [1, 1, 0]);
        assert_eq!(s[3], [0, 0, 0]);
        // Orders 1-3 count: P = R = (2/3 + 1/2 + 0) / 3 = 7/18, and F_beta of P = R is P.
        let c = corpus_chrf(&["ab c"], &["abd"]).unwrap();
        assert!((c.score - 100.0 * 7.0 / 18.0).abs() < 1e-9, "{c}");
        // Clipping: "aaa" against "a" matches one 1-gram.
        assert_eq!(sentence_stats("aaa", "a")[0], [3, 1, 1]);
        // Characters, not bytes.
        assert_eq!(sentence_stats("été", "ét")[1], [2, 1, 1]);
    }

    #[test]
    fn corpus_statistics_are_summed_before_scoring() {
        let c = corpus_chrf(&["abc", ""], &["abc", "xyz"]).unwrap();
        assert_eq!(c.stats[0], [3, 6, 3]);
        // P = 1 on orders 1-3; R = 3/6, 2/4, 1/2: chrF2 = 100 * 5 * 1 * 0.5 / (4 * 1 + 0.5).
        assert!((c.score - 100.0 * 2.5 / 4.5).abs() < 1e-9, "{c}");
        assert_eq!(c.to_string(), "chrF2 = 55.56");
        assert_eq!(corpus_chrf(&["a"], &["b"]).unwrap().score, 0.0);
        assert_eq!(corpus_chrf(&[""], &[""]).unwrap().score, 0.0);
        assert!(corpus_chrf(&["a"], &[]).is_err());
    }
}
