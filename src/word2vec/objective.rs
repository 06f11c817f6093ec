//! The update of one training example: an input vector `h` (one context word's input vector
//! for skip-gram, the mean of the context's for CBOW) predicting a centre word through
//! hierarchical softmax, negative sampling, or both, by one step of stochastic gradient ascent.

use super::huffman::HuffmanTree;
use super::kernels::{dot, output_update};
use super::train::SharedRows;

/// Examples scoring beyond `±MAX_EXP` (word2vec.c's and gensim's `MAX_EXP`) are not updated.
const MAX_EXP: f32 = 6.0;
/// Entries of the sigmoid table over `[-MAX_EXP, MAX_EXP]` (word2vec.c's `EXP_TABLE_SIZE`).
const EXP_TABLE_SIZE: usize = 1000;
/// Index scale of the table: `EXP_TABLE_SIZE / (2 * MAX_EXP)`. word2vec.c writes it as
/// `EXP_TABLE_SIZE / MAX_EXP / 2` in integer arithmetic, which gives 83 instead of 83.33 and
/// so reads `σ(0.996 x - 0.024)`; we use the intended scale.
const EXP_SCALE: f32 = EXP_TABLE_SIZE as f32 / (2.0 * MAX_EXP);

/// word2vec.c's sigmoid lookup table, with the two loss terms at the same points.
///
/// Entry `i` is at `x_i = (2 i / EXP_TABLE_SIZE - 1) * MAX_EXP`, and `x` is looked up at
/// `floor((x + MAX_EXP) * EXP_SCALE)`. One more entry than the C table, so that `x == MAX_EXP`
/// (which the C tool's `x > MAX_EXP` test lets through) stays in bounds.
pub(crate) struct SigmoidTable {
    sigmoid: Vec<f32>,
    /// `-log σ(x_i)`: the loss of a positive pair.
    pos_loss: Vec<f32>,
    /// `-log σ(-x_i) = -log(1 - σ(x_i))`: the loss of a negative pair.
    neg_loss: Vec<f32>,
}

/// `log(1 + e^x)` without overflow.
fn softplus(x: f64) -> f64 {
    if x > 0.0 {
        x + (-x).exp().ln_1p()
    } else {
        x.exp().ln_1p()
    }
}

impl SigmoidTable {
    pub(crate) fn new() -> Self {
        let xs: Vec<f64> = (0..=EXP_TABLE_SIZE)
            .map(|i| (i as f64 / EXP_TABLE_SIZE as f64 * 2.0 - 1.0) * f64::from(MAX_EXP))
            .collect();
        SigmoidTable {
            // word2vec.c: expTable[i] = exp(x_i); expTable[i] /= expTable[i] + 1.
            sigmoid: xs
                .iter()
                .map(|&x| (x.exp() / (x.exp() + 1.0)) as f32)
                .collect(),
            pos_loss: xs.iter().map(|&x| softplus(-x) as f32).collect(),
            neg_loss: xs.iter().map(|&x| softplus(x) as f32).collect(),
        }
    }

    /// For a pair with score `f = v_c·u_t`: the gradient factor `g = (label - σ(f)) * alpha`
    /// and the pair's loss, `σ` from the table. Beyond `±MAX_EXP` the pair is skipped (`g = 0`)
    /// as gensim does; word2vec.c would instead push a saturated wrong answer by a full
    /// `alpha`. gensim's rule gave about 0.4 points more analogy accuracy on `english_mix`
    /// (3 seeds each). The loss is the table's inside the range and exact outside it.
    #[inline(always)]
    pub(crate) fn positive(&self, f: f32, alpha: f32) -> (f32, f32) {
        if f.abs() > MAX_EXP {
            (0.0, softplus(-f64::from(f)) as f32)
        } else {
            // NaN (diverged weights) casts to index 0: no panic.
            let i = ((f + MAX_EXP) * EXP_SCALE) as usize;
            let s = self.sigmoid.get(i).copied().unwrap_or(0.5);
            let l = self.pos_loss.get(i).copied().unwrap_or(0.0);
            ((1.0 - s) * alpha, l)
        }
    }

    /// [`SigmoidTable::positive`] for a negative word (label 0).
    #[inline(always)]
    pub(crate) fn negative(&self, f: f32, alpha: f32) -> (f32, f32) {
        if f.abs() > MAX_EXP {
            (0.0, softplus(f64::from(f)) as f32)
        } else {
            let i = ((f + MAX_EXP) * EXP_SCALE) as usize;
            let s = self.sigmoid.get(i).copied().unwrap_or(0.5);
            let l = self.neg_loss.get(i).copied().unwrap_or(0.0);
            (-s * alpha, l)
        }
    }

    /// [`SigmoidTable::positive`] for an inner node of hierarchical softmax, whose label is
    /// `1 - code`: `g = (1 - code - σ(f)) * alpha` (word2vec.c), loss `-log σ((1 - 2 code) f)`.
    /// Written without a branch on `code`, whose bits are random. A node scoring beyond
    /// `±MAX_EXP` gets `g = 0`, and the caller skips its update (word2vec.c's `continue`).
    #[inline(always)]
    pub(crate) fn node(&self, f: f32, code: u8, alpha: f32) -> (f32, f32) {
        let label = f32::from(1 - code.min(1));
        if f.abs() > MAX_EXP {
            let signed = if code == 0 { -f } else { f };
            (0.0, softplus(f64::from(signed)) as f32)
        } else {
            let i = ((f + MAX_EXP) * EXP_SCALE) as usize;
            let s = self.sigmoid.get(i).copied().unwrap_or(0.5);
            let losses = if code == 0 {
                &self.pos_loss
            } else {
                &self.neg_loss
            };
            let l = losses.get(i).copied().unwrap_or(0.0);
            ((label - s) * alpha, l)
        }
    }
}

/// The output side of the model, shared by all workers: the matrices the objectives train and
/// what they read.
pub(crate) struct Outputs<'a> {
    /// Negative sampling's output vectors, one per word (no rows when `negative` is 0).
    pub(crate) syn1neg: SharedRows<'a>,
    /// Hierarchical softmax's inner-node vectors, one per inner node of `tree` (no rows without
    /// hierarchical softmax).
    pub(crate) syn1: SharedRows<'a>,
    pub(crate) tree: &'a HuffmanTree,
    pub(crate) table: &'a SigmoidTable,
}

/// One example, exactly word2vec.c's loop body: the input `h` predicts the centre `word`.
/// Hierarchical softmax (when `HS`) walks the word's path in the Huffman tree, then negative
/// sampling (when `NS`) scores the word against its `negatives`:
///
/// ```text
/// neu1e = 0
/// for (node, code) on the path of word                              // HS
///     f = h · syn1[node]
///     g = (1 - code - σ(f)) * alpha                                 // σ from the table
///     neu1e += g * syn1[node]
///     syn1[node] += g * h
/// for (target, label) in [(word, 1), (neg_1, 0), ..., (neg_k, 0)]   // NS; skip neg == word
///     f = h · syn1neg[target]
///     g = (label - σ(f)) * alpha
///     neu1e += g * syn1neg[target]
///     syn1neg[target] += g * h
/// ```
///
/// The caller then adds `neu1e` to the input vector (skip-gram) or to every context word's
/// input vector (CBOW). `negatives` were drawn beforehand (see `train`). Returns the example's
/// loss, `-Σ_j log σ((1 - 2 c_j) f_j)` over the path plus `-log σ(f_pos) - Σ log σ(-f_neg)`.
///
/// `h` must not be a row of `syn1` or `syn1neg` (it is a row of the input matrix or a buffer).
#[inline(always)]
pub(crate) fn update<const FMA: bool, const HS: bool, const NS: bool>(
    out: &Outputs<'_>,
    h: &[f32],
    word: u32,
    negatives: &[u32],
    neu1e: &mut [f32],
    alpha: f32,
) -> f32 {
    neu1e.fill(0.0);
    let mut loss = 0.0;
    if HS {
        let (codes, points) = out.tree.path(word);
        for (&code, &node) in codes.iter().zip(points) {
            // SAFETY: the tree's inner nodes are the rows of `syn1`; `h` is not one of them.
            let l2 = unsafe { out.syn1.row(node) };
            let (g, l) = out.table.node(dot::<FMA>(h, l2), code, alpha);
            loss += l;
            if g == 0.0 {
                continue;
            }
            output_update::<FMA>(g, h, l2, neu1e);
        }
    }
    if NS {
        // SAFETY: `word` is a vocabulary id, below the row count; `h` is not a row of this
        // matrix, so the two references do not alias.
        let l2 = unsafe { out.syn1neg.row(word) };
        let (g, l) = out.table.positive(dot::<FMA>(h, l2), alpha);
        loss += l;
        output_update::<FMA>(g, h, l2, neu1e);
        for &target in negatives {
            if target == word {
                // word2vec.c skips the draw instead of drawing again.
                continue;
            }
            // SAFETY: as above; the sampler returns ids below the vocabulary size.
            let l2 = unsafe { out.syn1neg.row(target) };
            let (g, l) = out.table.negative(dot::<FMA>(h, l2), alpha);
            loss += l;
            output_update::<FMA>(g, h, l2, neu1e);
        }
    }
    loss
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sigmoid_table_is_close_and_skips_saturated_pairs_like_gensim() {
        let t = SigmoidTable::new();
        for i in -600..=600 {
            let x = i as f32 / 100.0;
            let exact = 1.0 / (1.0 + (-x).exp());
            let (g, l) = t.positive(x, 1.0);
            assert!(((1.0 - g) - exact).abs() < 0.004, "{x}");
            assert!((l - (-exact.ln())).abs() < 0.02, "{x}");
            let (g, l) = t.negative(x, 1.0);
            assert!((-g - exact).abs() < 0.004, "{x}");
            assert!((l - (-(1.0 - exact).ln())).abs() < 0.02, "{x}");
        }
        assert_eq!(t.positive(7.0, 0.5).0, 0.0);
        assert_eq!(t.positive(-7.0, 0.5).0, 0.0);
        assert_eq!(t.negative(7.0, 0.5).0, 0.0);
        assert_eq!(t.negative(-7.0, 0.5).0, 0.0);
        assert!((t.negative(7.0, 1.0).1 - 7.000_911).abs() < 1e-4);
        assert!(t.positive(6.0, 1.0).0.is_finite());
        assert!(t.positive(f32::NAN, 1.0).0.is_finite());
    }

    #[test]
    fn a_tree_node_with_code_0_is_a_positive_and_with_code_1_a_negative() {
        let t = SigmoidTable::new();
        for i in -700..=700 {
            let x = i as f32 / 100.0;
            assert_eq!(t.node(x, 0, 0.3), t.positive(x, 0.3), "{x}");
            assert_eq!(t.node(x, 1, 0.3), t.negative(x, 0.3), "{x}");
        }
        assert_eq!(t.node(0.0, 0, 1.0).0, 0.5);
        assert_eq!(t.node(0.0, 1, 1.0).0, -0.5);
    }
}
