//! The inputs of the model and the job loop: subsampling, the dynamic window, and for each
//! centre word the skip-gram pairs or the CBOW mean that feed [`objective::update`], on weight
//! matrices shared Hogwild-style.
//!
//! [`train_job`] picks one compiled loop per model (architecture × objectives × input, words
//! or words with subwords, × CPU features), so each model's inner loop carries no test of the
//! settings. The subword input's examples are in `subword`.

use std::marker::PhantomData;

use super::kernels::axpy;
use super::objective::{self, Outputs};
use super::sampling::{reduced_window, NegativeSampler, Rng, KEEP_ALWAYS};
use super::subword::{self, SubwordInputs};
use super::Arch;

/// Words per job handed to a worker: gensim's `job_batch_size` (`MAX_WORDS_IN_BATCH`). Small
/// enough to balance threads, large enough that the channel and the learning-rate update
/// (once per job, i.e. every ~10,000 words per thread, as word2vec.c does) cost nothing.
pub(crate) const JOB_WORDS: usize = 10_000;

/// A `rows × dim` matrix that all workers read and write at once, without locks.
///
/// Hogwild (Niu et al. 2011), as in word2vec.c and gensim: each step reads and writes a few
/// rows out of tens of thousands, so concurrent steps rarely meet, and when they do the
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
    pub(crate) unsafe fn row(&self, i: u32) -> &mut [f32] {
        debug_assert!((i as usize) < self.rows);
        // SAFETY: in bounds by the caller's contract; the buffer lives for 'a.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.add(i as usize * self.dim), self.dim) }
    }
}

/// What the training step needs, shared by all workers.
pub(crate) struct Shared<'a> {
    pub(crate) syn0: SharedRows<'a>,
    pub(crate) out: Outputs<'a>,
    pub(crate) arch: Arch,
    pub(crate) hs: bool,
    pub(crate) window: u32,
    pub(crate) negative: usize,
    pub(crate) keep: &'a [u64],
    pub(crate) sampler: &'a NegativeSampler,
    pub(crate) fma: bool,
    /// The n-gram rows and bucket lists of the subword model; `None` for plain word vectors.
    pub(crate) ngrams: Option<SubwordInputs<'a>>,
}

/// A worker's reusable buffers: no allocation per sentence or example.
pub(crate) struct Scratch {
    pub(crate) sentence: Vec<u32>,
    pub(crate) negatives: Vec<u32>,
    /// The CBOW input (the mean of the context's input vectors), or subword skip-gram's `h`.
    pub(crate) neu1: Vec<f32>,
    /// The gradient with respect to the input.
    pub(crate) neu1e: Vec<f32>,
    /// Subword skip-gram's gradient summed over a centre's window.
    pub(crate) acc: Vec<f32>,
}

impl Scratch {
    pub(crate) fn new(dim: usize) -> Self {
        Scratch {
            sentence: Vec::with_capacity(super::corpus::MAX_SENTENCE_WORDS),
            negatives: Vec::new(),
            neu1: vec![0.0; dim],
            neu1e: vec![0.0; dim],
            acc: vec![0.0; dim],
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

/// Loss sum and example count of a job.
pub(crate) type Totals = (f64, u64);

/// Trains on every sentence of `job`: subsampling, then the model's examples.
///
/// Out-of-vocabulary words were dropped by the reader; frequent ones are dropped here, before
/// windowing, so windows reach past them (as in both reference tools). The random draws come
/// in word2vec.c's order: keep/drop for each word of the sentence, then per centre the window
/// and the negatives of its examples.
#[inline(always)]
fn train_job_body<
    const FMA: bool,
    const CBOW: bool,
    const SUB: bool,
    const HS: bool,
    const NS: bool,
>(
    sh: &Shared<'_>,
    job: &Job,
    scratch: &mut Scratch,
    alpha: f32,
    rng: &mut Rng,
) -> Totals {
    let mut totals = (0.0, 0);
    let sub = if SUB { sh.ngrams.as_ref() } else { None };
    if SUB && sub.is_none() {
        return totals;
    }
    let mut start = 0;
    for &end in &job.ends {
        let raw = job.ids.get(start..end).unwrap_or(&[]);
        start = end;
        scratch.sentence.clear();
        for &w in raw {
            let keep = sh.keep.get(w as usize).copied().unwrap_or(KEEP_ALWAYS);
            if keep == KEEP_ALWAYS || u64::from(rng.next_u32()) < keep {
                scratch.sentence.push(w);
            }
        }
        match (CBOW, sub) {
            (true, sub) => cbow_sentence::<FMA, HS, NS>(sh, sub, scratch, alpha, rng, &mut totals),
            (false, Some(sub)) => {
                subword::skipgram_sentence::<FMA, HS, NS>(sh, sub, scratch, alpha, rng, &mut totals)
            }
            (false, None) => skipgram_sentence::<FMA, HS, NS>(sh, scratch, alpha, rng, &mut totals),
        }
    }
    totals
}

/// The window `lo..hi` of the word at `pos` in a sentence of `len` words: a reduced window
/// drawn from `rng` ([`reduced_window`]), cut at the sentence's ends. It holds `pos`.
#[inline(always)]
pub(crate) fn window_around(rng: &mut Rng, window: u32, pos: usize, len: usize) -> (usize, usize) {
    let reduced = reduced_window(rng, window);
    (pos.saturating_sub(reduced), (pos + reduced + 1).min(len))
}

/// The skip-gram examples of one subsampled sentence, word2vec.c's `-cbow 0` loop: for every
/// centre, every context word's input vector `l1` in turn is `h` ([`objective::update`]), and
/// `l1 += neu1e` after each.
///
/// We draw all the negatives of a centre at once, right after its window
/// ([`draw_negatives`]), so that the output rows of the next pair can be prefetched while the
/// current pair is computed.
#[inline(always)]
fn skipgram_sentence<const FMA: bool, const HS: bool, const NS: bool>(
    sh: &Shared<'_>,
    scratch: &mut Scratch,
    alpha: f32,
    rng: &mut Rng,
    (loss, examples): &mut Totals,
) {
    let Scratch {
        sentence,
        negatives,
        neu1e,
        ..
    } = scratch;
    let k = if NS { sh.negative } else { 0 };
    let sentence = &sentence[..];
    for (pos, &word) in sentence.iter().enumerate() {
        let (lo, hi) = window_around(rng, sh.window, pos, sentence.len());
        let contexts = hi - lo - 1;
        let next = sentence.get(pos + 1).copied();
        draw_negatives::<HS, NS>(sh, rng, negatives, contexts, next);
        if let Some(&entering) = sentence.get(hi) {
            prefetch_rows(&sh.syn0, &[entering]);
        }
        let mut pair = 0;
        for (j, &context) in sentence[lo..hi].iter().enumerate() {
            if lo + j == pos {
                continue;
            }
            let negs = negatives.get(pair * k..(pair + 1) * k).unwrap_or(&[]);
            if NS {
                prefetch_rows(
                    &sh.out.syn1neg,
                    negatives.get((pair + 1) * k..(pair + 2) * k).unwrap_or(&[]),
                );
            }
            let l = skipgram_pair::<FMA, HS, NS>(sh, context, word, negs, neu1e, alpha);
            *loss += f64::from(l);
            pair += 1;
        }
        *examples += pair as u64;
    }
}

/// One skip-gram example: the input vector `l1` of `context` is `h` ([`objective::update`]),
/// then `l1 += neu1e`. Returns the example's loss.
#[inline(always)]
pub(crate) fn skipgram_pair<const FMA: bool, const HS: bool, const NS: bool>(
    sh: &Shared<'_>,
    context: u32,
    word: u32,
    negatives: &[u32],
    neu1e: &mut [f32],
    alpha: f32,
) -> f32 {
    // SAFETY: `context` is a vocabulary id, below the row count; `l1` is a row of the input
    // matrix, which `update` does not touch.
    let l1 = unsafe { sh.syn0.row(context) };
    let loss = objective::update::<FMA, HS, NS>(&sh.out, l1, word, negatives, neu1e, alpha);
    axpy::<FMA>(1.0, neu1e, l1);
    loss
}

/// The CBOW examples of one subsampled sentence, word2vec.c's `-cbow 1` loop: one
/// [`cbow_example`] per centre with at least one context word, or with subwords (`sub`) one
/// [`subword::cbow_example`].
#[inline(always)]
fn cbow_sentence<const FMA: bool, const HS: bool, const NS: bool>(
    sh: &Shared<'_>,
    sub: Option<&SubwordInputs<'_>>,
    scratch: &mut Scratch,
    alpha: f32,
    rng: &mut Rng,
    (loss, examples): &mut Totals,
) {
    let Scratch {
        sentence,
        negatives,
        neu1,
        neu1e,
        ..
    } = scratch;
    let sentence = &sentence[..];
    for (pos, &word) in sentence.iter().enumerate() {
        let (lo, hi) = window_around(rng, sh.window, pos, sentence.len());
        let contexts = hi - lo - 1;
        if contexts == 0 {
            // A sentence of one word: nothing to predict it from (word2vec.c's `if (cw)`).
            continue;
        }
        draw_negatives::<HS, NS>(sh, rng, negatives, 1, Some(word));
        let window = sentence.get(lo..hi).unwrap_or(&[]);
        let l = match (sentence.get(hi), sub) {
            (entering, Some(sub)) => {
                if let Some(&entering) = entering {
                    subword::prefetch_word(sh, sub, entering);
                }
                let example = (window, pos - lo);
                subword::cbow_example::<FMA, HS, NS>(
                    sh, sub, example, negatives, neu1, neu1e, alpha,
                )
            }
            (entering, None) => {
                if let Some(&entering) = entering {
                    prefetch_rows(&sh.syn0, &[entering]);
                }
                cbow_example::<FMA, HS, NS>(sh, window, pos - lo, negatives, neu1, neu1e, alpha)
            }
        };
        *loss += f64::from(l);
        *examples += 1;
    }
}

/// One CBOW example (gensim's `cbow_mean=1`): the word at `centre` of `window` is predicted
/// from the mean `h` of the input vectors of the others ([`objective::update`]), and the
/// gradient `neu1e` is added whole to each of them, not divided among them (gensim's
/// `cbow_mean=0` sums the inputs instead and divides the gradient). A word that occurs twice
/// in the window counts twice. Returns the example's loss.
#[inline(always)]
pub(crate) fn cbow_example<const FMA: bool, const HS: bool, const NS: bool>(
    sh: &Shared<'_>,
    window: &[u32],
    centre: usize,
    negatives: &[u32],
    neu1: &mut [f32],
    neu1e: &mut [f32],
    alpha: f32,
) -> f32 {
    let Some(&word) = window.get(centre) else {
        return 0.0;
    };
    neu1.fill(0.0);
    for (j, &context) in window.iter().enumerate() {
        if j != centre {
            // SAFETY: a vocabulary id; the row is only read here.
            axpy::<FMA>(1.0, unsafe { sh.syn0.row(context) }, neu1);
        }
    }
    let inv = 1.0 / (window.len() - 1).max(1) as f32;
    for x in neu1.iter_mut() {
        *x *= inv;
    }
    let loss = objective::update::<FMA, HS, NS>(&sh.out, neu1, word, negatives, neu1e, alpha);
    for (j, &context) in window.iter().enumerate() {
        if j != centre {
            // SAFETY: a vocabulary id; no other reference to the row is alive.
            axpy::<FMA>(1.0, neu1e, unsafe { sh.syn0.row(context) });
        }
    }
    loss
}

/// Draws the negatives of a centre's `examples` examples, `negative` each, in one go (with
/// negative sampling), and asks the CPU to start loading the output rows that come next: the
/// first example's negatives and, for `target`, its output row or its path's node rows.
/// Those rows are random in a matrix much larger than the L2 cache, and waiting for them is
/// most of the cost of an example otherwise. Drawing a centre's negatives at once gives the
/// same sequence of draws as drawing them example by example.
#[inline(always)]
pub(crate) fn draw_negatives<const HS: bool, const NS: bool>(
    sh: &Shared<'_>,
    rng: &mut Rng,
    negatives: &mut Vec<u32>,
    examples: usize,
    target: Option<u32>,
) {
    if NS {
        negatives.clear();
        negatives.extend((0..examples * sh.negative).map(|_| sh.sampler.draw(rng)));
        prefetch_rows(&sh.out.syn1neg, negatives.get(..sh.negative).unwrap_or(&[]));
    }
    if let Some(target) = target {
        if NS {
            prefetch_rows(&sh.out.syn1neg, &[target]);
        }
        if HS {
            prefetch_rows(&sh.out.syn1, sh.out.tree.path(target).1);
        }
    }
}

/// Asks the CPU to start loading these rows into the cache; no effect on results.
#[inline(always)]
pub(crate) fn prefetch_rows(rows: &SharedRows<'_>, ids: &[u32]) {
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
unsafe fn train_job_fma<const CBOW: bool, const SUB: bool, const HS: bool, const NS: bool>(
    sh: &Shared<'_>,
    job: &Job,
    scratch: &mut Scratch,
    alpha: f32,
    rng: &mut Rng,
) -> Totals {
    train_job_body::<true, CBOW, SUB, HS, NS>(sh, job, scratch, alpha, rng)
}

/// Trains on one job of one model with the best code this CPU runs.
#[inline(always)]
fn train_job_as<const CBOW: bool, const SUB: bool, const HS: bool, const NS: bool>(
    sh: &Shared<'_>,
    job: &Job,
    scratch: &mut Scratch,
    alpha: f32,
    rng: &mut Rng,
) -> Totals {
    #[cfg(target_arch = "x86_64")]
    if sh.fma {
        // SAFETY: `sh.fma` is only set after detecting AVX2 and FMA (see `cpu_has_fma`).
        return unsafe { train_job_fma::<CBOW, SUB, HS, NS>(sh, job, scratch, alpha, rng) };
    }
    train_job_body::<false, CBOW, SUB, HS, NS>(sh, job, scratch, alpha, rng)
}

/// A compiled job loop.
type JobFn = fn(&Shared<'_>, &Job, &mut Scratch, f32, &mut Rng) -> Totals;

/// The job loops of one input (plain words, or subwords when `SUB`) for each architecture and
/// objective: negative sampling alone, hierarchical softmax alone (`hs` with `negative` 0), or
/// both.
fn job_fn<const SUB: bool>(arch: Arch, hs: bool, ns: bool) -> JobFn {
    match (arch, hs, ns) {
        (Arch::SkipGram, false, _) => train_job_as::<false, SUB, false, true>,
        (Arch::SkipGram, true, false) => train_job_as::<false, SUB, true, false>,
        (Arch::SkipGram, true, true) => train_job_as::<false, SUB, true, true>,
        (Arch::Cbow, false, _) => train_job_as::<true, SUB, false, true>,
        (Arch::Cbow, true, false) => train_job_as::<true, SUB, true, false>,
        (Arch::Cbow, true, true) => train_job_as::<true, SUB, true, true>,
    }
}

/// Trains on one job with the loop of the model in `sh`: its architecture, objectives and
/// input (words, or words with subwords).
pub(crate) fn train_job(
    sh: &Shared<'_>,
    job: &Job,
    scratch: &mut Scratch,
    alpha: f32,
    rng: &mut Rng,
) -> Totals {
    let f = match sh.ngrams {
        Some(_) => job_fn::<true>(sh.arch, sh.hs, sh.negative > 0),
        None => job_fn::<false>(sh.arch, sh.hs, sh.negative > 0),
    };
    f(sh, job, scratch, alpha, rng)
}

#[cfg(test)]
mod tests {
    use super::super::huffman::HuffmanTree;
    use super::super::kernels::cpu_has_fma;
    use super::super::objective::SigmoidTable;
    use super::*;

    const VOCAB: usize = 30;
    const DIM: usize = 20;

    /// The input, negative-sampling and tree matrices before the job.
    fn initial_weights() -> [Vec<f32>; 3] {
        let mut rng = Rng::new(4);
        let mut random = |n: usize| -> Vec<f32> { (0..n).map(|_| rng.unit_f32() - 0.5).collect() };
        [
            random(VOCAB * DIM),
            random(VOCAB * DIM),
            random((VOCAB - 1) * DIM),
        ]
    }

    /// Trains one job of one model on fresh copies of the same weights, with the portable or
    /// the FMA code: the input and both output matrices after it, and the job's totals.
    fn run_job(arch: Arch, hs: bool, negative: usize, fma: bool) -> ([Vec<f32>; 3], Totals) {
        let (vocab, dim) = (VOCAB, DIM);
        let [mut syn0, mut syn1neg, mut syn1] = initial_weights();
        let mut rng = Rng::new(5);
        let counts: Vec<u64> = (0..vocab as u64).map(|i| 1000 / (i + 1)).collect();
        let total = counts.iter().sum();
        let keep = super::super::sampling::keep_thresholds(&counts, total, 1e-2);
        let sampler = NegativeSampler::new(&counts);
        let tree = HuffmanTree::new(&counts);
        let table = SigmoidTable::new();
        let ids: Vec<u32> = (0..400).map(|_| rng.below(vocab as u32)).collect();
        let job = Job {
            index: 0,
            // A sentence of one word in the middle: no context, no CBOW example.
            ends: vec![150, 151, 400],
            ids,
        };
        let totals = {
            let sh = Shared {
                syn0: SharedRows::new(&mut syn0, dim),
                out: Outputs {
                    syn1neg: SharedRows::new(&mut syn1neg, dim),
                    syn1: SharedRows::new(&mut syn1, dim),
                    tree: &tree,
                    table: &table,
                },
                arch,
                hs,
                window: 4,
                negative,
                keep: &keep,
                sampler: &sampler,
                fma,
                ngrams: None,
            };
            let mut scratch = Scratch::new(dim);
            train_job(&sh, &job, &mut scratch, 0.05, &mut Rng::for_job(1, 0, 0))
        };
        ([syn0, syn1neg, syn1], totals)
    }

    #[test]
    fn every_model_is_deterministic_and_its_fma_path_agrees() {
        let models = [
            (Arch::SkipGram, false, 3),
            (Arch::SkipGram, true, 0),
            (Arch::SkipGram, true, 3),
            (Arch::Cbow, false, 3),
            (Arch::Cbow, true, 0),
            (Arch::Cbow, true, 3),
        ];
        let untouched = initial_weights();
        let mut skipgram_pairs = 0;
        for (arch, hs, negative) in models {
            let what = format!("{arch:?} hs {hs} negative {negative}");
            let (a, (loss, examples)) = run_job(arch, hs, negative, false);
            assert!(loss > 0.0 && loss.is_finite(), "{what}: {loss}");
            match arch {
                Arch::SkipGram => {
                    assert!(examples > 500, "{what}: {examples}");
                    skipgram_pairs = examples;
                }
                // One example per kept centre with a context: below the 400 words, and well
                // below the skip-gram pairs of the same draws.
                Arch::Cbow => assert!(
                    (100..400).contains(&examples) && examples * 3 < skipgram_pairs,
                    "{what}: {examples}"
                ),
            }
            // Each objective trains its own output matrix and leaves the other alone.
            assert_ne!(a[0], untouched[0], "{what}: syn0");
            assert_eq!(a[1] != untouched[1], negative > 0, "{what}: syn1neg");
            assert_eq!(a[2] != untouched[2], hs, "{what}: syn1");
            // The portable path is deterministic on its own.
            assert_eq!(run_job(arch, hs, negative, false).0, a, "{what}");
            if !cpu_has_fma() {
                continue;
            }
            let (b, (loss_b, examples_b)) = run_job(arch, hs, negative, true);
            // Same draws, so the same examples; fused rounding moves the weights only slightly.
            assert_eq!(examples, examples_b, "{what}");
            assert!(
                (loss - loss_b).abs() < 1e-3 * loss,
                "{what}: {loss} {loss_b}"
            );
            for (x, y) in a.iter().flatten().zip(b.iter().flatten()) {
                assert!((x - y).abs() < 1e-3, "{what}: {x} {y}");
            }
            assert_ne!(a, b, "{what}: the FMA path did not run");
        }
    }
}
