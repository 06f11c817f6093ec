//! The subword input of fastText (Bojanowski, Grave, Joulin & Mikolov, *Enriching Word Vectors
//! with Subword Information*, TACL 2017), as `fasttext skipgram|cbow` and gensim's `FastText`
//! train it.
//!
//! A word `w` has its own input row and the rows of its character n-grams `G_w` (the n-grams
//! of `<w>`, `minn..=maxn` characters, hashed into `bucket` rows by fastText's FNV-1a: see
//! [`crate::embeddings::subwords`]). Its input vector is their mean,
//!
//! ```text
//! v_w = (r_w + Σ_{g ∈ G_w} z_g) / (1 + |G_w|)
//! ```
//!
//! and every update of `v_w` by the objective's input gradient `neu1e` adds `neu1e` whole to
//! `r_w` and to each `z_g` (fastText's `Model::update`: `wi_->addVectorToRow(grad, row, 1.0)`
//! for every input row, the gradient not divided among them, as CBOW's context words share
//! theirs). A word never seen in training still has a vector: the mean of its n-gram rows.
//!
//! - **Skip-gram** (fastText's order, and gensim's): the *centre* word's `v_w` predicts each
//!   word of its window in turn. fastText recomputes `v_w` from the rows before each pair; since
//!   adding `neu1e` to each of the `1 + |G_w|` rows adds exactly `neu1e` to their mean, we keep
//!   `h = v_w` in a buffer, add each pair's `neu1e` to it, and add the window's summed gradient
//!   to the rows once after the window: the same arithmetic up to rounding (with one thread),
//!   at two row operations per n-gram per centre instead of per pair.
//! - **CBOW**: the mean of *all* the rows of the context words, every context word's own row
//!   and n-gram rows pooled (fastText's `bow`, gensim's `cbow_mean=1` count), predicts the
//!   centre; `neu1e` is added to each of those rows.
//!
//! Each vocabulary word's bucket list is computed once before training ([`BucketLists`], on a
//! rayon pool of the run's thread count, which the CPU trainer already keeps libtorch off).

use rayon::prelude::*;

use super::kernels::axpy;
use super::objective;
use super::sampling::Rng;
use super::train::{
    draw_negatives, prefetch_rows, window_around, Scratch, Shared, SharedRows, Totals,
};
use crate::embeddings::subwords::Ngrams;
use crate::error::{Error, Result};

/// Each vocabulary word's n-gram buckets, back to back: word `w`'s are
/// `buckets[offsets[w]..offsets[w + 1]]`, in fastText's order (an n-gram that occurs twice in a
/// word is listed twice, as fastText lists it).
#[derive(Debug, Default)]
pub(crate) struct BucketLists {
    offsets: Vec<usize>,
    buckets: Vec<u32>,
}

impl BucketLists {
    /// The bucket lists of `words` under `ngrams`, hashed on a pool of `threads` rayon threads.
    pub(crate) fn new(words: &[String], ngrams: Ngrams, threads: usize) -> Result<Self> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads.max(1))
            .build()
            .map_err(|e| Error::Config(format!("cannot start {threads} threads: {e}")))?;
        // `bucket` is below 2^31 (`Ngrams::validate`), so every bucket fits a u32.
        let lists: Vec<Vec<u32>> = pool.install(|| {
            words
                .par_iter()
                .map(|w| ngrams.buckets(w).into_iter().map(|b| b as u32).collect())
                .collect()
        });
        let mut offsets = Vec::with_capacity(words.len() + 1);
        offsets.push(0);
        let mut buckets = Vec::with_capacity(lists.iter().map(Vec::len).sum());
        for list in lists {
            buckets.extend(list);
            offsets.push(buckets.len());
        }
        Ok(BucketLists { offsets, buckets })
    }

    /// The buckets of word `w` (none for an id outside the vocabulary).
    #[inline(always)]
    pub(crate) fn of(&self, w: u32) -> &[u32] {
        let w = w as usize;
        match (self.offsets.get(w), self.offsets.get(w + 1)) {
            (Some(&a), Some(&b)) => self.buckets.get(a..b).unwrap_or(&[]),
            _ => &[],
        }
    }
}

/// The n-gram side of the input, shared by all workers.
pub(crate) struct SubwordInputs<'a> {
    /// The `bucket × dim` n-gram rows.
    pub(crate) rows: SharedRows<'a>,
    /// Each vocabulary word's buckets.
    pub(crate) lists: &'a BucketLists,
}

/// Every word's vector as the model reads it, `v_w` of the module documentation, row-major:
/// its own row of `syn0` and its n-gram rows of `ngram_rows`, summed in that order and scaled
/// by the reciprocal of their count, as fastText's `getWordVector` does.
pub(crate) fn compose_all(
    syn0: &[f32],
    ngram_rows: &[f32],
    lists: &BucketLists,
    dim: usize,
) -> Vec<f32> {
    let mut out = syn0.to_vec();
    for (w, v) in out.chunks_mut(dim).enumerate() {
        let buckets = lists.of(w as u32);
        for &b in buckets {
            let row = &ngram_rows[b as usize * dim..(b as usize + 1) * dim];
            v.iter_mut().zip(row).for_each(|(s, x)| *s += x);
        }
        let scale = (1.0 / (1 + buckets.len()) as f64) as f32;
        v.iter_mut().for_each(|s| *s *= scale);
    }
    out
}

/// `h = v_word`: the mean of `word`'s own row and its n-gram rows.
#[inline(always)]
fn compose<const FMA: bool>(sh: &Shared<'_>, sub: &SubwordInputs<'_>, word: u32, h: &mut [f32]) {
    // SAFETY: a vocabulary id; the row is only read here.
    h.copy_from_slice(unsafe { sh.syn0.row(word) });
    let buckets = sub.lists.of(word);
    for &b in buckets {
        // SAFETY: buckets are below the row count of the n-gram matrix; read only.
        axpy::<FMA>(1.0, unsafe { sub.rows.row(b) }, h);
    }
    let scale = 1.0 / (1 + buckets.len()) as f32;
    h.iter_mut().for_each(|x| *x *= scale);
}

/// Adds `g` to `word`'s own row and to each of its n-gram rows.
#[inline(always)]
fn spread<const FMA: bool>(sh: &Shared<'_>, sub: &SubwordInputs<'_>, word: u32, g: &[f32]) {
    // SAFETY: a vocabulary id and its buckets, in bounds; no other reference to these rows is
    // alive in this thread (`g` is a buffer).
    unsafe {
        axpy::<FMA>(1.0, g, sh.syn0.row(word));
        for &b in sub.lists.of(word) {
            axpy::<FMA>(1.0, g, sub.rows.row(b));
        }
    }
}

/// Asks the CPU to start loading `word`'s own row and n-gram rows; no effect on results.
#[inline(always)]
pub(crate) fn prefetch_word(sh: &Shared<'_>, sub: &SubwordInputs<'_>, word: u32) {
    prefetch_rows(&sh.syn0, &[word]);
    prefetch_rows(&sub.rows, sub.lists.of(word));
}

/// The skip-gram examples of one subsampled sentence with subwords: every centre's `v_w`
/// predicts each word of its window ([`skipgram_centre`]). The draws come in the order of the
/// plain model: the window of each centre, then all its negatives ([`draw_negatives`]).
#[inline(always)]
pub(crate) fn skipgram_sentence<const FMA: bool, const HS: bool, const NS: bool>(
    sh: &Shared<'_>,
    sub: &SubwordInputs<'_>,
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
        acc,
    } = scratch;
    let sentence = &sentence[..];
    for pos in 0..sentence.len() {
        let (lo, hi) = window_around(rng, sh.window, pos, sentence.len());
        let contexts = hi - lo - 1;
        // The first target is the window's first word, or the next one if that is the centre.
        let first = sentence.get(if lo == pos { lo + 1 } else { lo }).copied();
        draw_negatives::<HS, NS>(sh, rng, negatives, contexts, first.filter(|_| contexts > 0));
        if let Some(&next) = sentence.get(pos + 1) {
            prefetch_word(sh, sub, next);
        }
        let window = sentence.get(lo..hi).unwrap_or(&[]);
        let bufs = [&mut neu1[..], &mut neu1e[..], &mut acc[..]];
        let l = skipgram_centre::<FMA, HS, NS>(sh, sub, (window, pos - lo), negatives, bufs, alpha);
        *loss += f64::from(l);
        *examples += contexts as u64;
    }
}

/// One centre of subword skip-gram: `h = v_w` of the word at `centre` of `window` predicts
/// each other word of the window ([`objective::update`], with `k` of `negatives` per pair, in
/// order), `h += neu1e` after each pair, and the window's summed gradient goes to `w`'s rows at
/// the end (see the module documentation). `bufs` are `h`, `neu1e` and the sum, each `dim`
/// long. Returns the loss summed over the pairs.
#[inline(always)]
pub(crate) fn skipgram_centre<const FMA: bool, const HS: bool, const NS: bool>(
    sh: &Shared<'_>,
    sub: &SubwordInputs<'_>,
    (window, centre): (&[u32], usize),
    negatives: &[u32],
    [h, neu1e, acc]: [&mut [f32]; 3],
    alpha: f32,
) -> f32 {
    let Some(&word) = window.get(centre) else {
        return 0.0;
    };
    if window.len() < 2 {
        return 0.0;
    }
    let k = if NS { sh.negative } else { 0 };
    compose::<FMA>(sh, sub, word, h);
    acc.fill(0.0);
    let mut loss = 0.0;
    let mut pair = 0;
    for (j, &target) in window.iter().enumerate() {
        if j == centre {
            continue;
        }
        let negs = negatives.get(pair * k..(pair + 1) * k).unwrap_or(&[]);
        if NS {
            prefetch_rows(
                &sh.out.syn1neg,
                negatives.get((pair + 1) * k..(pair + 2) * k).unwrap_or(&[]),
            );
            if let Some(&next) = window.get(j + 1 + usize::from(j + 1 == centre)) {
                prefetch_rows(&sh.out.syn1neg, &[next]);
            }
        }
        loss += objective::update::<FMA, HS, NS>(&sh.out, h, target, negs, neu1e, alpha);
        axpy::<FMA>(1.0, neu1e, h);
        axpy::<FMA>(1.0, neu1e, acc);
        pair += 1;
    }
    spread::<FMA>(sh, sub, word, acc);
    loss
}

/// One CBOW example with subwords: the mean of every row of the context words of `window`
/// (each word's own row and its n-gram rows, pooled) predicts the word at `centre`, and
/// `neu1e` is added to each of those rows. A word that occurs twice in the window counts twice.
/// Returns the example's loss.
#[inline(always)]
pub(crate) fn cbow_example<const FMA: bool, const HS: bool, const NS: bool>(
    sh: &Shared<'_>,
    sub: &SubwordInputs<'_>,
    (window, centre): (&[u32], usize),
    negatives: &[u32],
    neu1: &mut [f32],
    neu1e: &mut [f32],
    alpha: f32,
) -> f32 {
    let Some(&word) = window.get(centre) else {
        return 0.0;
    };
    neu1.fill(0.0);
    let mut rows = 0usize;
    for (j, &context) in window.iter().enumerate() {
        if j != centre {
            // SAFETY: a vocabulary id and its buckets; the rows are only read here.
            unsafe {
                axpy::<FMA>(1.0, sh.syn0.row(context), neu1);
                for &b in sub.lists.of(context) {
                    axpy::<FMA>(1.0, sub.rows.row(b), neu1);
                }
            }
            rows += 1 + sub.lists.of(context).len();
        }
    }
    if rows == 0 {
        return 0.0;
    }
    let inv = 1.0 / rows as f32;
    neu1.iter_mut().for_each(|x| *x *= inv);
    let loss = objective::update::<FMA, HS, NS>(&sh.out, neu1, word, negatives, neu1e, alpha);
    for (j, &context) in window.iter().enumerate() {
        if j != centre {
            spread::<FMA>(sh, sub, context, neu1e);
        }
    }
    loss
}
