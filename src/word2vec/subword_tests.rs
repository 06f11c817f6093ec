//! The subword model: its update against the formula (fastText's, recomputing the input from
//! the rows before every pair, written out in f64), the first step worked by hand, and the
//! trainer end to end: determinism, learning, the word for a word never seen, the model file.

use std::path::{Path, PathBuf};

use super::huffman::HuffmanTree;
use super::kernels::cpu_has_fma;
use super::objective::{Outputs, SigmoidTable};
use super::sampling::{NegativeSampler, Rng, KEEP_ALWAYS};
use super::subword::{cbow_example, skipgram_centre, BucketLists, SubwordInputs};
use super::train::{Shared, SharedRows};
use super::*;
use crate::embeddings::formats::{self, Format};
use crate::embeddings::subwords::Ngrams;
use crate::progress::Silent;

/// σ at the table's grid point at or below `f` (as in `gradient_tests`), for `f` away from the
/// grid points.
fn sigma_table(f: f64) -> f64 {
    let pos = (f + 6.0) * 1000.0 / 12.0;
    let frac = pos - pos.floor();
    assert!(f == 0.0 || (1e-3..1.0 - 1e-3).contains(&frac), "f = {f}");
    let x = (pos.floor() / 1000.0 * 2.0 - 1.0) * 6.0;
    1.0 / (1.0 + (-x).exp())
}

/// Four words whose n-grams (3 characters, 997 buckets) share rows: "ab" and "abc" share
/// `<ab`, "ba" has `<ba` and `ba>`, "cab" has `ab>` with "ab".
const WORDS: [&str; 4] = ["ab", "abc", "ba", "cab"];
const COUNTS: [u64; 4] = [40, 20, 10, 5];
const BUCKET: usize = 997;
const DIM: usize = 13;

/// A model's weights as training holds them, every matrix random in `[-0.5, 0.5)`.
struct Model {
    syn0: Vec<f32>,
    ngrams: Vec<f32>,
    syn1neg: Vec<f32>,
    syn1: Vec<f32>,
    lists: BucketLists,
    tree: HuffmanTree,
    table: SigmoidTable,
    sampler: NegativeSampler,
    keep: Vec<u64>,
}

impl Model {
    fn new(seed: u64) -> Model {
        let mut rng = Rng::new(seed);
        let mut random = |n: usize| -> Vec<f32> { (0..n).map(|_| rng.unit_f32() - 0.5).collect() };
        let words: Vec<String> = WORDS.iter().map(|w| w.to_string()).collect();
        let ngrams = Ngrams::new(3, 3, BUCKET).unwrap();
        Model {
            syn0: random(4 * DIM),
            ngrams: random(BUCKET * DIM),
            syn1neg: random(4 * DIM),
            syn1: random(3 * DIM),
            lists: BucketLists::new(&words, ngrams, 2).unwrap(),
            tree: HuffmanTree::new(&COUNTS),
            table: SigmoidTable::new(),
            sampler: NegativeSampler::new(&COUNTS),
            keep: vec![KEEP_ALWAYS; 4],
        }
    }

    fn shared(&mut self, arch: Arch, hs: bool, negative: usize) -> Shared<'_> {
        Shared {
            syn0: SharedRows::new(&mut self.syn0, DIM),
            out: Outputs {
                syn1neg: SharedRows::new(&mut self.syn1neg, DIM),
                syn1: SharedRows::new(&mut self.syn1, DIM),
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
            ngrams: Some(SubwordInputs {
                rows: SharedRows::new(&mut self.ngrams, DIM),
                lists: &self.lists,
            }),
        }
    }

    /// Word `w`'s input rows in f64: its own row, then its n-gram rows.
    fn rows_of(&self, w: u32) -> Vec<Vec<f64>> {
        let row = |m: &[f32], i: usize| -> Vec<f64> {
            m[i * DIM..(i + 1) * DIM]
                .iter()
                .map(|&x| f64::from(x))
                .collect()
        };
        let mut rows = vec![row(&self.syn0, w as usize)];
        rows.extend(
            self.lists
                .of(w)
                .iter()
                .map(|&b| row(&self.ngrams, b as usize)),
        );
        rows
    }

    /// Word `w`'s rows in f32 after training, to compare with [`Model::rows_of`] expectations.
    fn assert_rows(&self, w: u32, expected: &[Vec<f64>], what: &str) {
        for (k, (got, want)) in self.rows_of(w).iter().zip(expected).enumerate() {
            for (g, x) in got.iter().zip(want) {
                assert!(
                    (g - x).abs() < 1e-5,
                    "{what}: row {k} of word {w}: {g} != {x}"
                );
            }
        }
    }
}

fn mean(rows: &[Vec<f64>]) -> Vec<f64> {
    let n = rows.len() as f64;
    (0..DIM)
        .map(|k| rows.iter().map(|r| r[k]).sum::<f64>() / n)
        .collect()
}

/// Negative sampling's step over `targets` ((row of `syn1neg`, label)) by the formula, output
/// rows updated in place; returns the input gradient.
fn ns_step(h: &[f64], targets: &[(usize, f64)], syn1neg: &mut [f64], alpha: f64) -> Vec<f64> {
    let mut e = vec![0.0; DIM];
    for &(t, label) in targets {
        let row = &mut syn1neg[t * DIM..(t + 1) * DIM];
        let f: f64 = h.iter().zip(row.iter()).map(|(a, b)| a * b).sum();
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
    }
    e
}

/// The buckets are what fastText hashes, listed per word, and the words share some.
#[test]
fn bucket_lists_are_each_words_ngrams() {
    let m = Model::new(1);
    let ngrams = Ngrams::new(3, 3, BUCKET).unwrap();
    for (w, word) in WORDS.iter().enumerate() {
        let expected: Vec<u32> = ngrams.buckets(word).iter().map(|&b| b as u32).collect();
        assert_eq!(m.lists.of(w as u32), expected, "{word}");
    }
    assert_eq!(m.lists.of(0).len(), 2, "<ab, ab>");
    assert_eq!(m.lists.of(0)[0], m.lists.of(1)[0], "ab and abc share <ab");
    assert!(m.lists.of(9).is_empty());
}

/// Skip-gram, the first step worked by hand: "abc" predicts "ab" at alpha 0.5 with the output
/// rows zero, so `f = 0`, `σ(f) = 1/2`, `g = (1 - 1/2) · 0.5 = 0.25`; the output row of "ab"
/// becomes `0.25 h`, `h` the mean of the 4 rows of "abc" (its own, `<ab`, `abc`, `bc>`);
/// `neu1e = g ·` (the old output row) `= 0`, so no input row moves; the loss is `ln 2`.
fn skipgram_first_step_by_hand<const FMA: bool>() {
    let mut m = Model::new(2);
    m.syn1neg.fill(0.0);
    let before = m.rows_of(1);
    let h = mean(&before);
    let (mut hb, mut e, mut acc) = (vec![0.0; DIM], vec![0.0; DIM], vec![0.0; DIM]);
    // "abc" (word 1) predicts "ab" (word 0); no negatives.
    let sh = m.shared(Arch::SkipGram, false, 0);
    let sub = sh.ngrams.as_ref().unwrap();
    let window = [1u32, 0];
    let loss = skipgram_centre::<FMA, false, true>(
        &sh,
        sub,
        (&window, 0),
        &[],
        [&mut hb[..], &mut e[..], &mut acc[..]],
        0.5,
    );
    assert!((f64::from(loss) - std::f64::consts::LN_2).abs() < 1e-6);
    m.assert_rows(1, &before, "skip-gram step 1: the input does not move");
    for (k, &x) in h.iter().enumerate() {
        let got = f64::from(m.syn1neg[k]);
        assert!(
            (got - 0.25 * x).abs() < 1e-6,
            "syn1neg[0][{k}] {got}, want {}",
            0.25 * x
        );
    }
}

/// Skip-gram over a window of four: fastText's way, the input recomputed from the rows before
/// each pair and each pair's gradient added to every row at once, against ours (one sum after
/// the window, the input kept up to date in a buffer). Word 3 ("cab") is the centre; its
/// window holds word 0 twice; negatives include the centre's own word.
fn skipgram_window_against_fasttext<const FMA: bool, const HS: bool>() {
    let mut m = Model::new(3);
    let alpha = 0.1;
    let window = [0u32, 2, 3, 0];
    let negatives = [1u32, 3, 2, 2, 1, 0];
    let mut rows = m.rows_of(3);
    let mut syn1neg: Vec<f64> = m.syn1neg.iter().map(|&x| f64::from(x)).collect();
    let mut syn1: Vec<f64> = m.syn1.iter().map(|&x| f64::from(x)).collect();
    for (pair, &target) in [0u32, 2, 0].iter().enumerate() {
        let h = mean(&rows);
        let mut e = vec![0.0; DIM];
        if HS {
            let (codes, points) = m.tree.path(target);
            for (&code, &node) in codes.iter().zip(points) {
                let node = node as usize;
                let part = ns_step(&h, &[(node, 1.0 - f64::from(code))], &mut syn1, alpha);
                e.iter_mut().zip(part).for_each(|(e, p)| *e += p);
            }
        }
        let mut targets = vec![(target as usize, 1.0)];
        targets.extend(
            negatives[pair * 2..pair * 2 + 2]
                .iter()
                .filter(|&&n| n != target)
                .map(|&n| (n as usize, 0.0)),
        );
        let part = ns_step(&h, &targets, &mut syn1neg, alpha);
        e.iter_mut().zip(part).for_each(|(e, p)| *e += p);
        for row in rows.iter_mut() {
            row.iter_mut().zip(&e).for_each(|(r, e)| *r += e);
        }
    }
    let (mut h, mut e, mut acc) = (vec![0.0; DIM], vec![0.0; DIM], vec![0.0; DIM]);
    let sh = m.shared(Arch::SkipGram, HS, 2);
    let sub = sh.ngrams.as_ref().unwrap();
    skipgram_centre::<FMA, HS, true>(
        &sh,
        sub,
        (&window, 2),
        &negatives,
        [&mut h[..], &mut e[..], &mut acc[..]],
        alpha as f32,
    );
    m.assert_rows(3, &rows, &format!("skip-gram window, HS {HS}"));
    for (k, (g, w)) in m.syn1neg.iter().zip(&syn1neg).enumerate() {
        assert!(
            (f64::from(*g) - w).abs() < 1e-5,
            "syn1neg value {k}: {g} != {w}"
        );
    }
    for (k, (g, w)) in m.syn1.iter().zip(&syn1).enumerate() {
        assert!(
            (f64::from(*g) - w).abs() < 1e-5,
            "syn1 value {k}: {g} != {w}"
        );
    }
}

/// CBOW: the mean of every row of the context words, pooled, predicts the centre; the gradient
/// goes whole to each of those rows (a row two context words share gets it twice).
fn cbow_against_the_formula<const FMA: bool>() {
    let mut m = Model::new(4);
    let alpha = 0.1;
    // "ab" and "abc" share the row of <ab: it appears in the pool twice.
    let (window, centre, negatives) = ([0u32, 2, 1], 1, [3u32, 2]);
    let mut pool = m.rows_of(0);
    pool.extend(m.rows_of(1));
    let h = mean(&pool);
    let mut syn1neg: Vec<f64> = m.syn1neg.iter().map(|&x| f64::from(x)).collect();
    let e = ns_step(&h, &[(2, 1.0), (3, 0.0)], &mut syn1neg, alpha);
    let shared = m.lists.of(0)[0];
    let add = |w: u32, times: &dyn Fn(usize) -> f64| -> Vec<Vec<f64>> {
        let mut rows = m.rows_of(w);
        for (k, row) in rows.iter_mut().enumerate() {
            row.iter_mut().zip(&e).for_each(|(r, e)| *r += times(k) * e);
        }
        rows
    };
    let is_shared = |w: u32, k: usize| k > 0 && m.lists.of(w)[k - 1] == shared;
    let expect0 = add(0, &|k| if is_shared(0, k) { 2.0 } else { 1.0 });
    let expect1 = add(1, &|k| if is_shared(1, k) { 2.0 } else { 1.0 });
    let (mut neu1, mut neu1e) = (vec![0.0; DIM], vec![0.0; DIM]);
    let sh = m.shared(Arch::Cbow, false, 2);
    let sub = sh.ngrams.as_ref().unwrap();
    cbow_example::<FMA, false, true>(
        &sh,
        sub,
        (&window, centre),
        &negatives,
        &mut neu1,
        &mut neu1e,
        alpha as f32,
    );
    m.assert_rows(0, &expect0, "CBOW, word 0");
    m.assert_rows(1, &expect1, "CBOW, word 1");
}

#[test]
fn subword_updates_match_the_formula() {
    skipgram_first_step_by_hand::<false>();
    skipgram_window_against_fasttext::<false, false>();
    skipgram_window_against_fasttext::<false, true>();
    cbow_against_the_formula::<false>();
    if cpu_has_fma() {
        skipgram_first_step_by_hand::<true>();
        skipgram_window_against_fasttext::<true, false>();
        skipgram_window_against_fasttext::<true, true>();
        cbow_against_the_formula::<true>();
    }
}

/// Lines of two topics whose words share a stem within a topic: `zork` + ending, `plim` +
/// ending, with the same endings in both, so that only the stems tell the topics apart.
fn stems_corpus(dir: &Path, lines: usize) -> PathBuf {
    const ENDINGS: [&str; 8] = ["al", "be", "ci", "do", "eu", "fa", "gi", "ho"];
    let mut rng = Rng::new(11);
    let mut text = String::new();
    for _ in 0..lines {
        let stem = if rng.below(2) == 0 { "zork" } else { "plim" };
        let words: Vec<String> = (0..10)
            .map(|_| format!("{stem}{}", ENDINGS[rng.below(8) as usize]))
            .collect();
        text.push_str(&words.join(" "));
        text.push('\n');
    }
    let path = dir.join("stems.txt");
    std::fs::write(&path, text).unwrap();
    path
}

fn subword_config(arch: Arch) -> Word2VecConfig {
    Word2VecConfig {
        arch,
        dim: 24,
        window: 3,
        negative: 4,
        min_count: 1,
        epochs: 3,
        threads: 1,
        alpha: 0.05,
        minn: 3,
        maxn: 5,
        bucket: 5_000,
        ..Word2VecConfig::default()
    }
}

fn cos(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (norm(a) * norm(b))
}

#[test]
fn a_word_never_seen_is_nearest_to_the_words_that_share_its_stem() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = stems_corpus(dir.path(), 3_000);
    for arch in [Arch::SkipGram, Arch::Cbow] {
        let config = subword_config(arch);
        let (e, report) = train(&corpus, &config, &Silent).unwrap();
        let losses: Vec<f64> = report.epochs.iter().map(|s| s.mean_loss).collect();
        assert!(losses[2] < losses[0], "{arch:?}: {losses:?}");
        assert!(e.subwords().is_some());
        for (unseen, stem, other) in [("zorkxu", "zork", "plim"), ("plimxu", "plim", "zork")] {
            assert!(e.id(unseen).is_none());
            let v = e.get_vector(unseen).unwrap();
            let (mut same, mut diff) = (0.0, 0.0);
            for ending in ["al", "be", "ci", "do", "eu", "fa", "gi", "ho"] {
                same += cos(&v, &e.get_vector(&format!("{stem}{ending}")).unwrap()) / 8.0;
                diff += cos(&v, &e.get_vector(&format!("{other}{ending}")).unwrap()) / 8.0;
            }
            assert!(
                same > diff + 0.3,
                "{arch:?}, {unseen}: cosine {same} with {stem}*, {diff} with {other}*"
            );
        }
    }
}

#[test]
fn subword_runs_are_bit_identical_with_one_thread_and_round_trip_through_the_model_file() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = stems_corpus(dir.path(), 400);
    let models = [
        subword_config(Arch::SkipGram),
        subword_config(Arch::Cbow),
        Word2VecConfig {
            hs: true,
            negative: 0,
            ..subword_config(Arch::SkipGram)
        },
        Word2VecConfig {
            hs: true,
            ..subword_config(Arch::Cbow)
        },
    ];
    let plain = Word2VecConfig {
        maxn: 0,
        ..subword_config(Arch::SkipGram)
    };
    let (plain, _) = train(&corpus, &plain, &Silent).unwrap();
    for config in models {
        let what = config.model_name();
        let (a, _) = train(&corpus, &config, &Silent).unwrap();
        let (b, _) = train(&corpus, &config, &Silent).unwrap();
        assert!(a == b, "{what}: two runs differ");
        assert_ne!(a.vectors(), plain.vectors(), "{what}");
        let path = dir.path().join("model.bin");
        formats::write(&a, &path, Format::FastText).unwrap();
        let back = formats::read(&path, None, None).unwrap();
        if config.negative > 0 {
            assert!(back == a, "{what}: the model file does not read back equal");
        } else {
            // Hierarchical softmax keeps no output layer, which the file writes as zeros.
            assert_eq!(back.vectors(), a.vectors(), "{what}");
            assert_eq!(
                back.subwords().unwrap().bucket_rows,
                a.subwords().unwrap().bucket_rows
            );
        }
        let s = back.subwords().unwrap();
        assert_eq!(
            (s.ngrams.minn, s.ngrams.maxn, s.ngrams.bucket),
            (3, 5, 5_000)
        );
        assert_eq!(s.training.window, 3);
        assert_eq!(s.training.epochs, 3);
        let first = std::fs::read(&path).unwrap();
        formats::write(&b, &path, Format::FastText).unwrap();
        assert_eq!(
            std::fs::read(&path).unwrap(),
            first,
            "{what}: the files differ"
        );
    }
}

#[test]
fn bad_subword_settings_are_refused_and_the_gpu_trainer_declines_subwords() {
    for (minn, maxn, bucket, says) in [
        (5, 3, 100, "minn 5 is above maxn 3"),
        (3, 6, 0, "a bucket count of 0"),
        (0, 6, 100, "at least 1 character"),
        (3, 6, 1 << 31, "at most 2147483647"),
    ] {
        let config = Word2VecConfig {
            minn,
            maxn,
            bucket,
            ..Word2VecConfig::default()
        };
        let err = config.validate().unwrap_err().to_string();
        assert!(err.contains(says), "{err}");
    }
    let config = subword_config(Arch::SkipGram);
    assert!(config.validate().is_ok());
    let err = config.check_batched().unwrap_err().to_string();
    assert!(
        err.contains("with subwords (3-5 characters, 5000 buckets)"),
        "{err}"
    );
    assert_eq!(
        Word2VecConfig::default().with_subwords().ngrams(),
        Some(Ngrams::default())
    );
    assert_eq!(Word2VecConfig::default().ngrams(), None);
}

#[test]
fn a_subword_state_is_saved_and_continued() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = stems_corpus(dir.path(), 300);
    let config = Word2VecConfig {
        epochs: 1,
        ..subword_config(Arch::SkipGram)
    };
    let (state, _) = train_state(&corpus, &config, None, &Silent, None).unwrap();
    let saved = dir.path().join("state");
    state.save(&saved).unwrap();
    let loaded = State::load(&saved).unwrap();
    assert_eq!(loaded.ngrams, state.ngrams);
    let (more, report) = train_state(&corpus, &config, Some(loaded), &Silent, None).unwrap();
    assert_eq!(report.epochs[0].epoch, 2);
    assert_ne!(more.ngrams, state.ngrams);
    let other = Word2VecConfig {
        bucket: 4_000,
        ..config
    };
    let err = train_state(&corpus, &other, Some(more), &Silent, None).unwrap_err();
    assert!(err.to_string().contains("bucket differs"), "{err}");
}
