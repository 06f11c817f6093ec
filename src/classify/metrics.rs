//! How well a classifier did: confusion matrix, accuracy, per-class precision, recall and F1,
//! macro F1, a plain-text report, and the folds and summary statistics of cross-validation.
//!
//! With `C[t][p]` the number of examples of true class `t` predicted as class `p`:
//!
//! - accuracy = `Σ_c C[c][c] / Σ_t Σ_p C[t][p]`;
//! - precision of `c` = `C[c][c] / Σ_t C[t][c]` (of the examples predicted `c`, how many are);
//! - recall of `c` = `C[c][c] / Σ_p C[c][p]` (of the examples that are `c`, how many were found);
//! - F1 of `c` = `2·P·R / (P + R)`, the harmonic mean of precision and recall;
//! - support of `c` = `Σ_p C[c][p]`, the number of examples that are `c`;
//! - macro F1 = the unweighted mean of the F1 of *every* class, so a rare class counts as much
//!   as a frequent one.
//!
//! A ratio whose denominator is zero is 0, as with scikit-learn's `zero_division=0`: the
//! precision of a class never predicted, the recall of a class with no examples, and the F1 of
//! a class whose precision and recall are both 0. Such a class still counts in macro F1.

use rand::{seq::SliceRandom, SeedableRng};
use serde::Serialize;
use unicode_width::UnicodeWidthStr;

use crate::error::{Error, Result};

/// Precision, recall and F1 of one class, and how many examples it has.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassMetrics {
    /// Of the examples predicted as this class, the share that are (0 if none was predicted).
    pub precision: f64,
    /// Of the examples of this class, the share predicted as it (0 if there are none).
    pub recall: f64,
    /// Harmonic mean of precision and recall (0 if both are 0).
    pub f1: f64,
    /// Number of examples whose true class this is.
    pub support: usize,
}

/// A classifier's predictions scored against the true classes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evaluation {
    /// The class labels, indexed by class id.
    pub labels: Vec<String>,
    /// `confusion[t][p]`: how many examples of true class `t` were predicted as class `p`
    /// (rows are true classes, columns predicted ones).
    pub confusion: Vec<Vec<usize>>,
    /// Share of the examples predicted correctly.
    pub accuracy: f64,
    /// Precision, recall, F1 and support of every class, indexed by class id.
    pub per_class: Vec<ClassMetrics>,
    /// Unweighted mean of the F1 of all classes.
    pub macro_f1: f64,
    /// The sentences scored that were longer than the classifier reads (filled by
    /// [`evaluate`](super::evaluate); not part of the JSON figures).
    #[serde(skip)]
    pub long_sentences: Vec<super::LongSentence>,
}

/// `num / den`, or 0 when `den` is 0.
fn ratio(num: f64, den: f64) -> f64 {
    if den == 0.0 {
        0.0
    } else {
        num / den
    }
}

impl Evaluation {
    /// Scores `predicted` against `gold` (class ids into `labels`, one per example).
    ///
    /// Fails when the two differ in length, are empty, or hold an id that is not below
    /// `labels.len()`.
    pub fn new(labels: Vec<String>, gold: &[usize], predicted: &[usize]) -> Result<Evaluation> {
        if gold.len() != predicted.len() {
            return Err(Error::Config(format!(
                "{} true classes but {} predictions",
                gold.len(),
                predicted.len()
            )));
        }
        if gold.is_empty() {
            return Err(Error::Config("no examples to evaluate".into()));
        }
        let n = labels.len();
        if let Some(&bad) = gold.iter().chain(predicted).find(|&&c| c >= n) {
            return Err(Error::Config(format!(
                "class id {bad} out of range: there are {n} classes"
            )));
        }
        let mut confusion = vec![vec![0usize; n]; n];
        for (&t, &p) in gold.iter().zip(predicted) {
            confusion[t][p] += 1;
        }
        let correct: usize = (0..n).map(|c| confusion[c][c]).sum();
        let accuracy = correct as f64 / gold.len() as f64;
        let per_class: Vec<ClassMetrics> = (0..n)
            .map(|c| {
                let hits = confusion[c][c] as f64;
                let support: usize = confusion[c].iter().sum();
                let predicted_as: usize = confusion.iter().map(|row| row[c]).sum();
                let precision = ratio(hits, predicted_as as f64);
                let recall = ratio(hits, support as f64);
                let f1 = ratio(2.0 * precision * recall, precision + recall);
                ClassMetrics {
                    precision,
                    recall,
                    f1,
                    support,
                }
            })
            .collect();
        let macro_f1 = ratio(per_class.iter().map(|m| m.f1).sum(), n as f64);
        Ok(Evaluation {
            labels,
            confusion,
            accuracy,
            per_class,
            macro_f1,
            long_sentences: Vec::new(),
        })
    }

    /// A plain-text report for a terminal: accuracy, a per-class table, macro F1 and the
    /// confusion matrix (rows true, columns predicted).
    ///
    /// `names` are the classes' display names (emoji are fine: columns are padded by `char`
    /// count); when there are not exactly as many as labels, the labels are used instead.
    pub fn table(&self, names: &[String]) -> String {
        let names = if names.len() == self.labels.len() {
            names
        } else {
            &self.labels
        };
        let total: usize = self.confusion.iter().flatten().sum();
        let correct: usize = (0..self.labels.len()).map(|c| self.confusion[c][c]).sum();
        let mut out = format!(
            "accuracy {:.2}% ({correct}/{total})\n\n",
            100.0 * self.accuracy
        );

        let name_w = names
            .iter()
            .map(|n| n.width())
            .chain([5])
            .max()
            .unwrap_or(5);
        out.push_str(&format!(
            "{} {:>9} {:>9} {:>9} {:>9}\n",
            pad_right("class", name_w),
            "precision",
            "recall",
            "F1",
            "support"
        ));
        for (name, m) in names.iter().zip(&self.per_class) {
            out.push_str(&format!(
                "{} {:>9.4} {:>9.4} {:>9.4} {:>9}\n",
                pad_right(name, name_w),
                m.precision,
                m.recall,
                m.f1,
                m.support
            ));
        }
        out.push_str(&format!("\nmacro F1 {:.4}\n\n", self.macro_f1));

        out.push_str("confusion matrix (rows: true, columns: predicted)\n");
        let corner = "true\\pred";
        let head_w = name_w.max(corner.width());
        let cell_w = names
            .iter()
            .map(|n| n.width())
            .chain(self.confusion.iter().flatten().map(|c| c.to_string().len()))
            .max()
            .unwrap_or(1);
        out.push_str(&pad_right(corner, head_w));
        for name in names {
            out.push(' ');
            out.push_str(&pad_left(name, cell_w));
        }
        out.push('\n');
        for (name, row) in names.iter().zip(&self.confusion) {
            out.push_str(&pad_right(name, head_w));
            for count in row {
                out.push(' ');
                out.push_str(&pad_left(&count.to_string(), cell_w));
            }
            out.push('\n');
        }
        out
    }
}

/// `s` followed by spaces up to `width` chars.
fn pad_right(s: &str, width: usize) -> String {
    let pad = width.saturating_sub(s.width());
    format!("{s}{}", " ".repeat(pad))
}

/// Spaces up to `width` chars, then `s`.
fn pad_left(s: &str, width: usize) -> String {
    let pad = width.saturating_sub(s.width());
    format!("{}{s}", " ".repeat(pad))
}

/// Splits the example indices `0..n` into `k` folds for cross-validation.
///
/// The indices are shuffled with a ChaCha8 generator seeded with `seed` (the same seed always
/// gives the same folds) and dealt out in turn, so fold sizes differ by at most one; each fold
/// is sorted. Fails when `k < 2` or `k > n`.
pub fn k_folds(n: usize, k: usize, seed: u64) -> Result<Vec<Vec<usize>>> {
    if k < 2 || k > n {
        return Err(Error::Config(format!(
            "cannot split {n} examples into {k} folds: need 2 <= k <= {n}"
        )));
    }
    let mut order: Vec<usize> = (0..n).collect();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    order.shuffle(&mut rng);
    let mut folds = vec![Vec::with_capacity(n / k + 1); k];
    for (i, idx) in order.into_iter().enumerate() {
        folds[i % k].push(idx);
    }
    for fold in &mut folds {
        fold.sort_unstable();
    }
    Ok(folds)
}

/// Mean and sample standard deviation (divided by `n - 1`) of `xs`.
///
/// The deviation of a single value is 0; both are NaN for no values.
pub fn mean_sd(xs: &[f64]) -> (f64, f64) {
    let n = xs.len();
    if n == 0 {
        return (f64::NAN, f64::NAN);
    }
    let mean = xs.iter().sum::<f64>() / n as f64;
    if n == 1 {
        return (mean, 0.0);
    }
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    (mean, var.sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(n: usize) -> Vec<String> {
        (0..n).map(|i| i.to_string()).collect()
    }

    fn close(a: f64, b: f64) {
        assert!((a - b).abs() < 1e-12, "{a} != {b}");
    }

    /// True 0,0,0,0,1,1,2,2,2,2; confusion [[3,1,0],[0,2,0],[2,0,2]].
    fn example() -> Evaluation {
        let gold = [0, 0, 0, 0, 1, 1, 2, 2, 2, 2];
        let pred = [0, 0, 0, 1, 1, 1, 2, 2, 0, 0];
        Evaluation::new(labels(3), &gold, &pred).unwrap()
    }

    #[test]
    fn three_classes_by_hand() {
        let e = example();
        assert_eq!(
            e.confusion,
            vec![vec![3, 1, 0], vec![0, 2, 0], vec![2, 0, 2]]
        );
        close(e.accuracy, 0.7);
        // Class 0: P = 3/5, R = 3/4; class 1: P = 2/3, R = 1; class 2: P = 1, R = 1/2.
        let want = [
            (0.6, 0.75, 2.0 / 3.0, 4),
            (2.0 / 3.0, 1.0, 0.8, 2),
            (1.0, 0.5, 2.0 / 3.0, 4),
        ];
        for (m, (p, r, f1, support)) in e.per_class.iter().zip(want) {
            close(m.precision, p);
            close(m.recall, r);
            close(m.f1, f1);
            assert_eq!(m.support, support);
        }
        // (2/3 + 4/5 + 2/3) / 3 = 32/45.
        close(e.macro_f1, 32.0 / 45.0);
    }

    #[test]
    fn never_predicted_and_unsupported_classes_score_zero() {
        let e = Evaluation::new(labels(3), &[0, 1, 2], &[0, 1, 1]).unwrap();
        assert_eq!(e.per_class[2].precision, 0.0);
        assert_eq!(e.per_class[2].recall, 0.0);
        assert_eq!(e.per_class[2].f1, 0.0);
        close(e.macro_f1, (1.0 + 2.0 / 3.0 + 0.0) / 3.0);

        let e = Evaluation::new(labels(3), &[0, 1, 0], &[0, 1, 2]).unwrap();
        let zero = ClassMetrics {
            precision: 0.0,
            recall: 0.0,
            f1: 0.0,
            support: 0,
        };
        assert_eq!(e.per_class[2], zero);
    }

    #[test]
    fn bad_inputs_are_errors() {
        let cases: [(&[usize], &[usize]); 4] = [
            (&[0, 1], &[0]),
            (&[], &[]),
            (&[0, 2], &[0, 1]),
            (&[0, 1], &[5, 1]),
        ];
        for (gold, pred) in cases {
            let got = Evaluation::new(labels(2), gold, pred);
            assert!(matches!(got, Err(Error::Config(_))), "{gold:?} {pred:?}");
        }
    }

    #[test]
    fn folds_partition_the_indices() {
        for (n, k) in [(10, 2), (10, 3), (17, 5), (5, 5)] {
            let folds = k_folds(n, k, 7).unwrap();
            assert_eq!(folds.len(), k);
            let mut all: Vec<usize> = folds.iter().flatten().copied().collect();
            all.sort_unstable();
            assert_eq!(all, (0..n).collect::<Vec<_>>());
            let sizes: Vec<usize> = folds.iter().map(Vec::len).collect();
            let (lo, hi) = (sizes.iter().min().unwrap(), sizes.iter().max().unwrap());
            assert!(hi - lo <= 1, "{sizes:?}");
            for fold in &folds {
                assert!(fold.windows(2).all(|w| w[0] < w[1]));
            }
        }
    }

    #[test]
    fn folds_follow_the_seed() {
        assert_eq!(k_folds(50, 5, 1).unwrap(), k_folds(50, 5, 1).unwrap());
        assert_ne!(k_folds(50, 5, 1).unwrap(), k_folds(50, 5, 2).unwrap());
    }

    #[test]
    fn fold_count_is_bounded() {
        assert!(k_folds(10, 1, 0).is_err());
        assert!(k_folds(10, 0, 0).is_err());
        assert!(k_folds(3, 4, 0).is_err());
        assert!(k_folds(3, 3, 0).is_ok());
    }

    #[test]
    fn table_shows_names_and_numbers() {
        let e = example();
        let names: Vec<String> = ["❤️", "⚾", "😄"].iter().map(|s| s.to_string()).collect();
        let text = e.table(&names);
        for needle in [
            "❤️", "⚾", "😄", "70.00%", "(7/10)", "0.6000", "0.7500", "0.6667",
        ] {
            assert!(text.contains(needle), "{needle} missing from\n{text}");
        }
        assert!(text.contains(&format!("{:.4}", 32.0 / 45.0)));
        assert!(text.contains("confusion matrix"));
        // Per-class rows are padded by chars, so all three are equally long.
        let widths: Vec<usize> = text.lines().skip(3).take(3).map(|l| l.width()).collect();
        assert!(widths.windows(2).all(|w| w[0] == w[1]), "{widths:?}");
        // The confusion rows, e.g. "😄 2 0 2".
        assert!(text.lines().any(|l| l.starts_with("😄")
            && l.split_whitespace().skip(1).collect::<Vec<_>>() == ["2", "0", "2"]));
        // Too few names: falls back to the labels.
        let text = e.table(&names[..1]);
        assert!(!text.contains("😄"));
        assert!(text.lines().any(|l| l.starts_with("2 ")));
    }

    #[test]
    fn mean_and_sample_sd() {
        let (m, s) = mean_sd(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]);
        close(m, 5.0);
        close(s, (32.0f64 / 7.0).sqrt());
        assert_eq!(mean_sd(&[3.5]), (3.5, 0.0));
        let (m, s) = mean_sd(&[]);
        assert!(m.is_nan() && s.is_nan());
    }
}
