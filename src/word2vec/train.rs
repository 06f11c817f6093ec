//! The SGNS update of one job of sentences, on weight matrices shared Hogwild-style.

use std::marker::PhantomData;

use super::kernels::{axpy, dot};
use super::sampling::{reduced_window, NegativeSampler, Rng, KEEP_ALWAYS};

/// Words per job handed to a worker: gensim's `job_batch_size` (`MAX_WORDS_IN_BATCH`). Small
/// enough to balance threads, large enough that the channel and the learning-rate update
/// (once per job, i.e. every ~10,000 words per thread, as word2vec.c does) cost nothing.
pub(crate) const JOB_WORDS: usize = 10_000;

/// Pairs scoring beyond `±MAX_EXP` (word2vec.c's and gensim's `MAX_EXP`) are not updated.
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
    fn positive(&self, f: f32, alpha: f32) -> (f32, f32) {
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
    fn negative(&self, f: f32, alpha: f32) -> (f32, f32) {
        if f.abs() > MAX_EXP {
            (0.0, softplus(f64::from(f)) as f32)
        } else {
            let i = ((f + MAX_EXP) * EXP_SCALE) as usize;
            let s = self.sigmoid.get(i).copied().unwrap_or(0.5);
            let l = self.neg_loss.get(i).copied().unwrap_or(0.0);
            (-s * alpha, l)
        }
    }
}

/// A `rows × dim` matrix that all workers read and write at once, without locks.
///
/// Hogwild (Niu et al. 2011), as in word2vec.c and gensim: each SGNS step reads and writes
/// three rows out of tens of thousands, so concurrent steps rarely meet, and when they do the
/// worst outcome is that a few components of one small update are overwritten by another
/// thread's — noise that SGD absorbs. Locking rows would cost more than the updates.
pub(crate) struct SharedRows<'a> {
    ptr: *mut f32,
    rows: usize,
    dim: usize,
    _borrow: PhantomData<&'a mut [f32]>,
}

// SAFETY: the pointer comes from a `&'a mut [f32]` held for `'a`, so nothing outside the
// workers touches the buffer while they run, and it outlives them. The workers race on it on
// purpose (Hogwild): every access is a plain f32 load or store of aligned, initialised memory
// inside the buffer; no thread reallocates, resizes or frees it; values read from it only feed
// the arithmetic of the update (and a bounds-checked table lookup), never an address, so a
// stale or overwritten value only perturbs one gradient step, as in word2vec.c and gensim.
// Rust's memory model formally calls such unsynchronised writes a data race; atomics would
// forbid the vector instructions that make training fast, and this is the accepted trade-off
// of every Hogwild implementation.
unsafe impl Send for SharedRows<'_> {}
// SAFETY: see `Send` above; sharing `&SharedRows` is exactly the Hogwild design.
unsafe impl Sync for SharedRows<'_> {}

impl<'a> SharedRows<'a> {
    pub(crate) fn new(data: &'a mut [f32], dim: usize) -> Self {
        SharedRows {
            rows: data.len() / dim.max(1),
            ptr: data.as_mut_ptr(),
            dim,
            _borrow: PhantomData,
        }
    }

    /// Row `i`, mutable.
    ///
    /// # Safety
    ///
    /// `i < rows`; the caller holds no other reference to this row in this thread. Other
    /// threads may use the row at the same time (see the type's documentation).
    #[inline(always)]
    #[allow(clippy::mut_from_ref)] // Interior mutability through a raw pointer, by design.
    unsafe fn row(&self, i: u32) -> &mut [f32] {
        debug_assert!((i as usize) < self.rows);
        // SAFETY: in bounds by the caller's contract; the buffer lives for 'a.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.add(i as usize * self.dim), self.dim) }
    }
}

/// What the SGNS step needs, shared by all workers.
pub(crate) struct Shared<'a> {
    pub(crate) syn0: SharedRows<'a>,
    pub(crate) syn1neg: SharedRows<'a>,
    pub(crate) window: u32,
    pub(crate) negative: usize,
    pub(crate) keep: &'a [u64],
    pub(crate) sampler: &'a NegativeSampler,
    pub(crate) table: &'a SigmoidTable,
    pub(crate) fma: bool,
}

/// A worker's reusable buffers: no allocation per sentence or pair.
pub(crate) struct Scratch {
    sentence: Vec<u32>,
    negatives: Vec<u32>,
    neu1e: Vec<f32>,
}

impl Scratch {
    pub(crate) fn new(dim: usize) -> Self {
        Scratch {
            sentence: Vec::with_capacity(super::corpus::MAX_SENTENCE_WORDS),
            negatives: Vec::new(),
            neu1e: vec![0.0; dim],
        }
    }
}

/// Sentences of word ids for one worker.
#[derive(Debug, Default)]
pub(crate) struct Job {
    /// The job's number among its worker's jobs over the whole run; with the worker's index
    /// it seeds the job's random stream.
    pub(crate) index: u64,
    /// In-vocabulary word ids of all sentences, back to back.
    pub(crate) ids: Vec<u32>,
    /// Where each sentence ends in `ids`.
    pub(crate) ends: Vec<usize>,
}

/// Loss sum and pair count of a job.
pub(crate) type Totals = (f64, u64);

/// One skip-gram pair, exactly word2vec.c's loop body for `-cbow 0 -hs 0`: `l1` is the
/// *context* word's input vector (`syn0[last_word]`), which is trained to predict the centre
/// `word` through the output vectors `syn1neg`:
///
/// ```text
/// neu1e = 0
/// for (target, label) in [(word, 1), (neg_1, 0), ..., (neg_k, 0)]   // skip neg == word
///     f = l1 · syn1neg[target]
///     g = (label - σ(f)) * alpha                                     // σ from the table
///     neu1e += g * syn1neg[target]
///     syn1neg[target] += g * l1
/// l1 += neu1e
/// ```
///
/// `negatives` were drawn beforehand (see [`train_job_body`]). Returns the pair's loss
/// `-log σ(f_pos) - Σ log σ(-f_neg)`.
#[inline(always)]
fn sgns_pair<const FMA: bool>(
    sh: &Shared<'_>,
    l1: &mut [f32],
    word: u32,
    negatives: &[u32],
    neu1e: &mut [f32],
    alpha: f32,
) -> f32 {
    neu1e.fill(0.0);
    // SAFETY: `word` is a vocabulary id, below the row count; `l1` is a row of the other
    // matrix, so the two references do not alias.
    let l2 = unsafe { sh.syn1neg.row(word) };
    let (g, mut loss) = sh.table.positive(dot::<FMA>(l1, l2), alpha);
    axpy::<FMA>(g, l2, neu1e);
    axpy::<FMA>(g, l1, l2);
    for &target in negatives {
        if target == word {
            // word2vec.c skips the draw instead of drawing again.
            continue;
        }
        // SAFETY: as above; the sampler returns ids below the vocabulary size.
        let l2 = unsafe { sh.syn1neg.row(target) };
        let (g, l) = sh.table.negative(dot::<FMA>(l1, l2), alpha);
        loss += l;
        axpy::<FMA>(g, l2, neu1e);
        axpy::<FMA>(g, l1, l2);
    }
    axpy::<FMA>(1.0, neu1e, l1);
    loss
}

/// Trains on every sentence of `job`: subsampling, dynamic window, one [`sgns_pair`] per
/// (centre, context) pair.
///
/// The random draws come in word2vec.c's order: keep/drop for each word of the sentence, then
/// per centre the window and the negatives of each of its pairs in turn. We draw all the
/// negatives of a centre at once, right after its window, which is the same sequence of
/// draws, so that the output rows of the next pair can be prefetched while the current pair
/// is computed: those rows are random in a matrix much larger than the L2 cache, and waiting
/// for them is most of the cost of a pair otherwise.
#[inline(always)]
fn train_job_body<const FMA: bool>(
    sh: &Shared<'_>,
    job: &Job,
    scratch: &mut Scratch,
    alpha: f32,
    rng: &mut Rng,
) -> Totals {
    let Scratch {
        sentence,
        negatives,
        neu1e,
    } = scratch;
    let k = sh.negative;
    let mut loss = 0.0f64;
    let mut pairs = 0u64;
    let mut start = 0;
    for &end in &job.ends {
        let raw = job.ids.get(start..end).unwrap_or(&[]);
        start = end;
        // Out-of-vocabulary words were dropped by the reader; frequent ones are dropped here,
        // before windowing, so windows reach past them (as in both reference tools).
        sentence.clear();
        for &w in raw {
            let keep = sh.keep.get(w as usize).copied().unwrap_or(KEEP_ALWAYS);
            if keep == KEEP_ALWAYS || u64::from(rng.next_u32()) < keep {
                sentence.push(w);
            }
        }
        let sentence = &sentence[..];
        for (pos, &word) in sentence.iter().enumerate() {
            let reduced = reduced_window(rng, sh.window);
            let lo = pos.saturating_sub(reduced);
            let hi = (pos + reduced + 1).min(sentence.len());
            let contexts = hi - lo - 1;
            negatives.clear();
            negatives.extend((0..contexts * k).map(|_| sh.sampler.draw(rng)));
            prefetch_rows(&sh.syn1neg, negatives.get(..k).unwrap_or(&[]));
            if let Some(&next) = sentence.get(pos + 1) {
                prefetch_rows(&sh.syn1neg, &[next]);
            }
            if let Some(&entering) = sentence.get(hi) {
                prefetch_rows(&sh.syn0, &[entering]);
            }
            let mut pair = 0;
            for (j, &context) in sentence[lo..hi].iter().enumerate() {
                if lo + j == pos {
                    continue;
                }
                let negs = negatives.get(pair * k..(pair + 1) * k).unwrap_or(&[]);
                prefetch_rows(
                    &sh.syn1neg,
                    negatives.get((pair + 1) * k..(pair + 2) * k).unwrap_or(&[]),
                );
                // SAFETY: `context` is a vocabulary id, below the row count.
                let l1 = unsafe { sh.syn0.row(context) };
                loss += f64::from(sgns_pair::<FMA>(sh, l1, word, negs, neu1e, alpha));
                pair += 1;
            }
            pairs += pair as u64;
        }
    }
    (loss, pairs)
}

/// Asks the CPU to start loading these rows into the cache; no effect on results.
#[inline(always)]
fn prefetch_rows(rows: &SharedRows<'_>, ids: &[u32]) {
    #[cfg(target_arch = "x86_64")]
    for &id in ids {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        let bytes = rows.dim * 4;
        // SAFETY: ids are vocabulary ids, so the row lies inside the buffer; a prefetch
        // reads nothing into the program and cannot fault.
        unsafe {
            let row = rows.ptr.add(id as usize * rows.dim).cast::<i8>();
            let mut offset = 0;
            while offset < bytes {
                _mm_prefetch::<_MM_HINT_T0>(row.add(offset));
                offset += 64;
            }
            // The row need not start on a cache line: its last line too.
            _mm_prefetch::<_MM_HINT_T0>(row.add(bytes - 1));
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (rows, ids);
}

/// [`train_job_body`] compiled for AVX2 and FMA.
///
/// # Safety
///
/// The CPU must have AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn train_job_fma(
    sh: &Shared<'_>,
    job: &Job,
    scratch: &mut Scratch,
    alpha: f32,
    rng: &mut Rng,
) -> Totals {
    train_job_body::<true>(sh, job, scratch, alpha, rng)
}

/// Trains on one job with the best code this CPU runs.
pub(crate) fn train_job(
    sh: &Shared<'_>,
    job: &Job,
    scratch: &mut Scratch,
    alpha: f32,
    rng: &mut Rng,
) -> Totals {
    #[cfg(target_arch = "x86_64")]
    if sh.fma {
        // SAFETY: `sh.fma` is only set after detecting AVX2 and FMA (see `cpu_has_fma`).
        return unsafe { train_job_fma(sh, job, scratch, alpha, rng) };
    }
    train_job_body::<false>(sh, job, scratch, alpha, rng)
}

#[cfg(test)]
mod tests {
    use super::super::kernels::cpu_has_fma;
    use super::*;

    /// The C tool's update, written out naively in f64 with an exact sigmoid.
    fn reference_pair(l1: &mut [f64], outs: &mut [Vec<f64>], targets: &[(usize, f64)], a: f64) {
        let mut neu1e = vec![0.0; l1.len()];
        for &(t, label) in targets {
            let f: f64 = l1.iter().zip(&outs[t]).map(|(x, y)| x * y).sum();
            let g = (label - 1.0 / (1.0 + (-f).exp())) * a;
            for k in 0..l1.len() {
                neu1e[k] += g * outs[t][k];
            }
            for k in 0..l1.len() {
                outs[t][k] += g * l1[k];
            }
        }
        for k in 0..l1.len() {
            l1[k] += neu1e[k];
        }
    }

    fn check_pair<const FMA: bool>() {
        let dim = 13; // Not a multiple of the lanes: the tails count too.
        let vocab = 4usize;
        let mut rng = Rng::new(9);
        let mut syn0: Vec<f32> = (0..vocab * dim).map(|_| rng.unit_f32() - 0.5).collect();
        let mut syn1: Vec<f32> = (0..vocab * dim).map(|_| rng.unit_f32() - 0.5).collect();
        let mut ref_l1: Vec<f64> = syn0[dim..2 * dim].iter().map(|&x| f64::from(x)).collect();
        let mut ref_out: Vec<Vec<f64>> = syn1
            .chunks(dim)
            .map(|r| r.iter().map(|&x| f64::from(x)).collect())
            .collect();
        let sampler = NegativeSampler::new(&[10, 10, 10, 10]);
        let table = SigmoidTable::new();
        // One negative equals the centre word: the C tool skips it, and so must we.
        let negs = [0usize, 2, 3];
        let word = 2usize;
        let targets = [(word, 1.0), (0, 0.0), (3, 0.0)];
        reference_pair(&mut ref_l1, &mut ref_out, &targets, 0.1);
        let keep = [KEEP_ALWAYS; 4];
        let before = syn0.clone();
        let loss = {
            let sh = Shared {
                syn0: SharedRows::new(&mut syn0, dim),
                syn1neg: SharedRows::new(&mut syn1, dim),
                window: 1,
                negative: 3,
                keep: &keep,
                sampler: &sampler,
                table: &table,
                fma: false,
            };
            let mut neu1e = vec![0.0; dim];
            let negs: Vec<u32> = negs.iter().map(|&n| n as u32).collect();
            // SAFETY: row 1 exists, and no other reference to it is alive.
            let l1 = unsafe { sh.syn0.row(1) };
            sgns_pair::<FMA>(&sh, l1, word as u32, &negs, &mut neu1e, 0.1)
        };
        assert!(loss > 0.0);
        // The table's sigmoid is within 0.005 of the exact one; at alpha 0.1 and components
        // below 0.5 that bounds each update's error by about 0.005 * 0.1 * 0.5 * dim terms.
        for (k, &x) in syn0[dim..2 * dim].iter().enumerate() {
            assert!((f64::from(x) - ref_l1[k]).abs() < 2e-3, "syn0[{k}]");
        }
        for (t, row) in syn1.chunks(dim).enumerate() {
            for (k, &x) in row.iter().enumerate() {
                assert!(
                    (f64::from(x) - ref_out[t][k]).abs() < 2e-3,
                    "syn1neg[{t}][{k}]"
                );
            }
        }
        // The centre's own input row and the other input rows are not touched.
        assert_eq!(syn0[..dim], before[..dim]);
        assert_eq!(syn0[2 * dim..], before[2 * dim..]);
    }

    #[test]
    fn pair_update_matches_the_c_tool() {
        check_pair::<false>();
        if cpu_has_fma() {
            check_pair::<true>();
        }
    }

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

    /// Trains one job on fresh copies of the same weights, with the portable or the FMA code.
    fn run_job(fma: bool) -> (Vec<f32>, Vec<f32>, Totals) {
        let (vocab, dim) = (30usize, 20usize);
        let mut rng = Rng::new(4);
        let mut syn0: Vec<f32> = (0..vocab * dim).map(|_| rng.unit_f32() - 0.5).collect();
        let mut syn1: Vec<f32> = (0..vocab * dim).map(|_| rng.unit_f32() - 0.5).collect();
        let counts: Vec<u64> = (0..vocab as u64).map(|i| 1000 / (i + 1)).collect();
        let total = counts.iter().sum();
        let keep = super::super::sampling::keep_thresholds(&counts, total, 1e-2);
        let sampler = NegativeSampler::new(&counts);
        let table = SigmoidTable::new();
        let ids: Vec<u32> = (0..400).map(|_| rng.below(vocab as u32)).collect();
        let job = Job {
            index: 0,
            ends: vec![150, 151, 400],
            ids,
        };
        let totals = {
            let sh = Shared {
                syn0: SharedRows::new(&mut syn0, dim),
                syn1neg: SharedRows::new(&mut syn1, dim),
                window: 4,
                negative: 3,
                keep: &keep,
                sampler: &sampler,
                table: &table,
                fma,
            };
            let mut scratch = Scratch::new(dim);
            train_job(&sh, &job, &mut scratch, 0.05, &mut Rng::for_job(1, 0, 0))
        };
        (syn0, syn1, totals)
    }

    #[test]
    fn portable_and_fma_paths_agree() {
        let (a0, a1, (loss, pairs)) = run_job(false);
        assert!(pairs > 500 && loss > 0.0, "{pairs} {loss}");
        // The portable path is deterministic on its own.
        assert_eq!(run_job(false).0, a0);
        if !cpu_has_fma() {
            return;
        }
        let (b0, b1, (loss_b, pairs_b)) = run_job(true);
        // Same draws, so the same pairs; fused rounding moves the weights only slightly.
        assert_eq!(pairs, pairs_b);
        assert!((loss - loss_b).abs() < 1e-3 * loss, "{loss} {loss_b}");
        for (x, y) in a0.iter().chain(&a1).zip(b0.iter().chain(&b1)) {
            assert!((x - y).abs() < 1e-3, "{x} {y}");
        }
        assert_ne!(a0, b0, "the FMA path did not run");
    }
}
