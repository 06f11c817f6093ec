//! The update of one example against its formula, written out again in f64 here: skip-gram and
//! CBOW, with hierarchical softmax, negative sampling and both. The first steps of the tiny
//! cases are worked out by hand.

use super::huffman::HuffmanTree;
use super::kernels::cpu_has_fma;
use super::objective::{Outputs, SigmoidTable};
use super::sampling::{NegativeSampler, Rng, KEEP_ALWAYS};
use super::train::{cbow_example, skipgram_pair, Shared, SharedRows};
use super::Arch;

/// σ(f) as the table gives it: the exact σ at the table's grid point at or below `f`,
/// `x_i = (2 i / 1000 - 1) * 6` with `i = floor((f + 6) * 1000 / 12)` (see `objective`).
/// Refuses an `f` so close to a grid point that f32 rounding could pick the other one.
fn sigma_table(f: f64) -> f64 {
    let pos = (f + 6.0) * 1000.0 / 12.0;
    let frac = pos - pos.floor();
    assert!(
        f == 0.0 || (1e-3..1.0 - 1e-3).contains(&frac),
        "f = {f} is too close to a grid point; pick other test values"
    );
    let x = (pos.floor() / 1000.0 * 2.0 - 1.0) * 6.0;
    1.0 / (1.0 + (-x).exp())
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// One example by the formula: the hierarchical-softmax steps over `path` ((node, code) rows
/// of `syn1`), then the negative-sampling steps over `targets` ((row, label) of `syn1neg`),
/// each output row updated in place; returns the gradient of the input, `neu1e`.
fn reference(
    h: &[f64],
    path: &[(usize, u8)],
    syn1: &mut [Vec<f64>],
    targets: &[(usize, f64)],
    syn1neg: &mut [Vec<f64>],
    alpha: f64,
) -> Vec<f64> {
    let mut e = vec![0.0; h.len()];
    let mut step = |row: &mut Vec<f64>, label: f64| {
        let f = dot(h, row);
        let g = if f.abs() > 6.0 {
            0.0
        } else {
            (label - sigma_table(f)) * alpha
        };
        for (e, r) in e.iter_mut().zip(row.iter()) {
            *e += g * r;
        }
        for (r, x) in row.iter_mut().zip(h) {
            *r += g * x;
        }
    };
    for &(node, code) in path {
        step(&mut syn1[node], 1.0 - f64::from(code));
    }
    for &(target, label) in targets {
        step(&mut syn1neg[target], label);
    }
    e
}

/// A model's weights as training holds them.
struct Model {
    dim: usize,
    syn0: Vec<f32>,
    syn1neg: Vec<f32>,
    syn1: Vec<f32>,
    tree: HuffmanTree,
    table: SigmoidTable,
    sampler: NegativeSampler,
    keep: Vec<u64>,
}

impl Model {
    /// Words with these counts; `syn0` given, the output matrices zero.
    fn new(counts: &[u64], dim: usize, syn0: Vec<f32>) -> Self {
        let v = counts.len();
        assert_eq!(syn0.len(), v * dim);
        Model {
            dim,
            syn0,
            syn1neg: vec![0.0; v * dim],
            syn1: vec![0.0; (v - 1) * dim],
            tree: HuffmanTree::new(counts),
            table: SigmoidTable::new(),
            sampler: NegativeSampler::new(counts),
            keep: vec![KEEP_ALWAYS; v],
        }
    }

    /// Every matrix random in `[-0.5, 0.5)`.
    fn random(counts: &[u64], dim: usize, seed: u64) -> Self {
        let mut rng = Rng::new(seed);
        let mut random = |n: usize| -> Vec<f32> { (0..n).map(|_| rng.unit_f32() - 0.5).collect() };
        let v = counts.len();
        let mut m = Model::new(counts, dim, random(v * dim));
        m.syn1neg = random(v * dim);
        m.syn1 = random((v - 1) * dim);
        m
    }

    fn shared(&mut self, arch: Arch, hs: bool, negative: usize) -> Shared<'_> {
        Shared {
            syn0: SharedRows::new(&mut self.syn0, self.dim),
            out: Outputs {
                syn1neg: SharedRows::new(&mut self.syn1neg, self.dim),
                syn1: SharedRows::new(&mut self.syn1, self.dim),
                tree: &self.tree,
                table: &self.table,
            },
            arch,
            hs,
            window: 5,
            negative,
            keep: &self.keep,
            sampler: &self.sampler,
            fma: false,
            ngrams: None,
        }
    }

    fn rows(m: &[f32], dim: usize) -> Vec<Vec<f64>> {
        m.chunks(dim)
            .map(|r| r.iter().map(|&x| f64::from(x)).collect())
            .collect()
    }

    /// The three matrices in f64, one row per entry.
    fn snapshot(&self) -> [Vec<Vec<f64>>; 3] {
        [
            Self::rows(&self.syn0, self.dim),
            Self::rows(&self.syn1, self.dim),
            Self::rows(&self.syn1neg, self.dim),
        ]
    }

    /// Word `w`'s path as (node, code).
    fn path(&self, w: u32) -> Vec<(usize, u8)> {
        let (codes, points) = self.tree.path(w);
        points
            .iter()
            .map(|&p| p as usize)
            .zip(codes.iter().copied())
            .collect()
    }

    /// Every matrix within `tol` of the expected rows.
    fn assert_close(&self, expected: &[Vec<Vec<f64>>; 3], tol: f64, what: &str) {
        for (name, (got, want)) in ["syn0", "syn1", "syn1neg"]
            .iter()
            .zip(self.snapshot().iter().zip(expected))
        {
            for (r, (g, w)) in got.iter().zip(want).enumerate() {
                for (k, (g, w)) in g.iter().zip(w).enumerate() {
                    assert!((g - w).abs() < tol, "{what}: {name}[{r}][{k}] {g} != {w}");
                }
            }
        }
    }
}

/// Counts 3, 2, 1: the tree (see `huffman`) puts word 0 at code "1" under the root (inner node
/// 1), and words 1 and 2 at "01" and "00" under inner node 0.
const THREE: [u64; 3] = [3, 2, 1];

fn hs_skipgram_by_hand<const FMA: bool>() {
    let mut m = Model::new(&THREE, 2, vec![0.25, 0.75, 9.0, 9.0, 0.5, -1.0]);
    assert_eq!(m.path(1), [(1, 0), (0, 1)]);
    let mut neu1e = [0.0f32; 2];
    // Step 1: context word 2, l1 = (0.5, -1), predicts word 1, alpha 0.5. The node vectors
    // are zero, so f = 0 and σ(f) = 1/2 at both nodes:
    //   root (inner 1), code 0: g = (1 - 0 - 1/2) * 0.5 = 0.25;  syn1[1] = 0.25 l1 = (0.125, -0.25)
    //   inner 0,        code 1: g = (1 - 1 - 1/2) * 0.5 = -0.25; syn1[0] = (-0.125, 0.25)
    // neu1e = g * (old node vectors) = 0, so l1 does not move; loss = 2 ln 2.
    let loss = skipgram_pair::<FMA, true, false>(
        &m.shared(Arch::SkipGram, true, 0),
        2,
        1,
        &[],
        &mut neu1e,
        0.5,
    );
    assert_eq!(m.syn1, [-0.125, 0.25, 0.125, -0.25]);
    assert_eq!(m.syn0, [0.25, 0.75, 9.0, 9.0, 0.5, -1.0]);
    assert!(
        (f64::from(loss) - 2.0 * std::f64::consts::LN_2).abs() < 1e-6,
        "{loss}"
    );
    // Step 2, the same example: now f = l1 · syn1[1] = 0.0625 + 0.25 = 0.3125 at the root and
    // -0.3125 at inner 0; the formula in f64 from here.
    let [mut syn0, mut syn1, mut syn1neg] = m.snapshot();
    let h = syn0[2].clone();
    let e = reference(&h, &m.path(1), &mut syn1, &[], &mut syn1neg, 0.5);
    for (x, e) in syn0[2].iter_mut().zip(&e) {
        *x += e;
    }
    skipgram_pair::<FMA, true, false>(
        &m.shared(Arch::SkipGram, true, 0),
        2,
        1,
        &[],
        &mut neu1e,
        0.5,
    );
    m.assert_close(&[syn0, syn1, syn1neg], 1e-6, "skip-gram, HS, step 2");
    assert_ne!(m.syn0[4..], [0.5, -1.0], "step 2 moves the input");
}

#[test]
fn hierarchical_softmax_skipgram_steps_match_the_hand_computed_values() {
    hs_skipgram_by_hand::<false>();
    if cpu_has_fma() {
        hs_skipgram_by_hand::<true>();
    }
}

fn hs_cbow_by_hand<const FMA: bool>() {
    let mut m = Model::new(&THREE, 2, vec![1.5, 0.0, 9.0, 9.0, 0.5, -1.0]);
    let (mut neu1, mut neu1e) = ([0.0f32; 2], [0.0f32; 2]);
    let window = [0u32, 1, 2];
    // Step 1: words 0 and 2 predict word 1: h = ((1.5, 0) + (0.5, -1)) / 2 = (1, -0.5). As in
    // skip-gram f = 0 at both nodes, g = ±0.25: syn1[1] = 0.25 h = (0.25, -0.125),
    // syn1[0] = -0.25 h = (-0.25, 0.125); neu1e = 0, so no input moves.
    let loss = cbow_example::<FMA, true, false>(
        &m.shared(Arch::Cbow, true, 0),
        &window,
        1,
        &[],
        &mut neu1,
        &mut neu1e,
        0.5,
    );
    assert_eq!(neu1, [1.0, -0.5]);
    assert_eq!(m.syn1, [-0.25, 0.125, 0.25, -0.125]);
    assert_eq!(m.syn0, [1.5, 0.0, 9.0, 9.0, 0.5, -1.0]);
    assert!(
        (f64::from(loss) - 2.0 * std::f64::consts::LN_2).abs() < 1e-6,
        "{loss}"
    );
    // Step 2: f = h · syn1[1] = 0.25 + 0.0625 = 0.3125 at the root, -0.3125 at inner 0; the
    // gradient is added whole to both context words, and the centre's own vector stays.
    let [mut syn0, mut syn1, mut syn1neg] = m.snapshot();
    let h: Vec<f64> = (0..2).map(|k| (syn0[0][k] + syn0[2][k]) / 2.0).collect();
    let e = reference(&h, &m.path(1), &mut syn1, &[], &mut syn1neg, 0.5);
    for w in [0, 2] {
        for (x, e) in syn0[w].iter_mut().zip(&e) {
            *x += e;
        }
    }
    cbow_example::<FMA, true, false>(
        &m.shared(Arch::Cbow, true, 0),
        &window,
        1,
        &[],
        &mut neu1,
        &mut neu1e,
        0.5,
    );
    m.assert_close(&[syn0, syn1, syn1neg], 1e-6, "CBOW, HS, step 2");
    assert_eq!(m.syn0[2..4], [9.0, 9.0]);
}

#[test]
fn hierarchical_softmax_cbow_steps_match_the_hand_computed_values() {
    hs_cbow_by_hand::<false>();
    if cpu_has_fma() {
        hs_cbow_by_hand::<true>();
    }
}

const SIX: [u64; 6] = [40, 20, 10, 5, 3, 2];

/// CBOW with both objectives over random weights, dimension 13 (the kernels' tails count):
/// a window in which word 2 occurs twice, and a negative equal to the centre (skipped).
fn both_objectives_cbow<const FMA: bool>() {
    let mut m = Model::random(&SIX, 13, 7);
    let [mut syn0, mut syn1, mut syn1neg] = m.snapshot();
    let (window, centre, negatives) = ([2u32, 5, 0, 2], 1, [0u32, 5, 3]);
    let h: Vec<f64> = (0..13)
        .map(|k| (2.0 * syn0[2][k] + syn0[0][k]) / 3.0)
        .collect();
    let targets = [(5, 1.0), (0, 0.0), (3, 0.0)];
    let e = reference(&h, &m.path(5), &mut syn1, &targets, &mut syn1neg, 0.1);
    for w in [2, 0, 2] {
        for (x, e) in syn0[w].iter_mut().zip(&e) {
            *x += e;
        }
    }
    let (mut neu1, mut neu1e) = (vec![0.0; 13], vec![0.0; 13]);
    cbow_example::<FMA, true, true>(
        &m.shared(Arch::Cbow, true, 3),
        &window,
        centre,
        &negatives,
        &mut neu1,
        &mut neu1e,
        0.1,
    );
    m.assert_close(&[syn0, syn1, syn1neg], 1e-5, "CBOW, HS + NS");
}

/// Skip-gram: word 4 predicts word 1, with a negative equal to the centre (skipped) and one
/// drawn twice (its second step sees the first's update). Without `HS` this is exactly
/// word2vec.c's `-cbow 0 -hs 0` step, the model seqmodels trained first.
fn skipgram_step<const FMA: bool, const HS: bool, const NS: bool>() {
    let mut m = Model::random(&SIX, 13, 8);
    let [mut syn0, mut syn1, mut syn1neg] = m.snapshot();
    let negatives = [1u32, 2, 2];
    let targets: &[(usize, f64)] = if NS {
        &[(1, 1.0), (2, 0.0), (2, 0.0)]
    } else {
        &[]
    };
    let path = if HS { m.path(1) } else { Vec::new() };
    let h = syn0[4].clone();
    let e = reference(&h, &path, &mut syn1, targets, &mut syn1neg, 0.1);
    for (x, e) in syn0[4].iter_mut().zip(&e) {
        *x += e;
    }
    let mut neu1e = vec![0.0; 13];
    let sh = m.shared(Arch::SkipGram, HS, if NS { 3 } else { 0 });
    skipgram_pair::<FMA, HS, NS>(&sh, 4, 1, &negatives, &mut neu1e, 0.1);
    m.assert_close(
        &[syn0, syn1, syn1neg],
        1e-5,
        &format!("skip-gram, HS {HS}, NS {NS}"),
    );
}

#[test]
fn both_objectives_and_negative_sampling_match_the_formula() {
    both_objectives_cbow::<false>();
    skipgram_step::<false, true, true>();
    skipgram_step::<false, false, true>();
    if cpu_has_fma() {
        both_objectives_cbow::<true>();
        skipgram_step::<true, true, true>();
        skipgram_step::<true, false, true>();
    }
}
