//! Tests of the gensim-compatible evaluation.
use super::*;

/// A store from whitespace-separated "word x1 .. x_dim" rows.
fn store(dim: usize, rows: &str) -> Embeddings {
    let tokens: Vec<&str> = rows.split_whitespace().collect();
    let words = tokens.chunks(dim + 1).map(|r| r[0].to_owned()).collect();
    let values = tokens
        .chunks(dim + 1)
        .flat_map(|r| r[1..].iter().map(|x| x.parse().unwrap()));
    Embeddings::new(words, dim, values.collect()).unwrap()
}

fn opts(restrict_vocab: usize, case_insensitive: bool) -> EvalOptions {
    EvalOptions {
        restrict_vocab,
        case_insensitive,
        oov_ngrams: false,
    }
}

const ANALOGY_STORE: &str =
    "a 1 0 0  b 0 1 0  c 0 0 1  d 0 1 1  B -1 1 1  e 0 2 2  far -0.1 1 1  A 0.5 0 0";
// Queries (before normalising): Q1, Q2, Q4: b + c - a = (-1, 1, 1); Q3: d + a - c =
// (1, .707, -.293); Q6: d + c - a = (-1, .707, 1.707), d being (0, .707, .707).
// Cosines with Q1's: B 1, far .855, d .816 = e (a tie: the lower row, d, wins), A -.577.
// With Q3's: A .794, b .562, e .233, far .176, B < 0. With Q6's: B .938, far .844, e .813.
const ANALOGIES: &str =
    ": first\na b c d\nA b c D\n: second\nc d a b\na b c far\n\nb a d zzz\na d c b\n";

#[test]
fn analogies_follow_gensim_rules() {
    let emb = store(3, ANALOGY_STORE);
    let run = |rows, ci| {
        let r = evaluate_analogies_from(&emb, ANALOGIES, Path::new("q"), &opts(rows, ci));
        let r = r.unwrap();
        let all = r.sections.iter().chain([&r.total]);
        let counts: Vec<_> = all.map(|s| (s.correct, s.seen, s.total)).collect();
        (
            counts,
            r.sections[1].name.clone(),
            r.total.name.clone(),
            r.total.accuracy(),
        )
    };
    // Case-insensitive, first 6 rows: "B" stands for b, so Q1's best row (B) is a question
    // word and skipped; d beats its tie e. Q2 folds to Q1. Q3: b. Q4: "far" is cut off.
    // Q5: zzz unknown. Q6: row B is the best and its key is b, the expected answer.
    let (counts, second, total, accuracy) = run(6, true);
    assert_eq!(counts, [(2, 2, 2), (2, 2, 4), (4, 4, 6)]);
    assert_eq!(
        (&*second, &*total, accuracy),
        ("second", "Total accuracy", 1.0)
    );
    // Case-sensitive, all rows: B is a word of its own and wins Q1, Q4 and Q6; "D" is
    // unknown (Q2); A wins Q3.
    assert_eq!(run(300_000, false).0, [(0, 1, 2), (0, 3, 4), (0, 4, 6)]);
    // Case-insensitive, all rows: row 7 "A" has a's key. Q1, Q2: B skipped, far predicted.
    // Q3: A skipped, b. Q4: far. Q6: B, i.e. b.
    assert_eq!(run(300_000, true).0, [(0, 2, 2), (3, 3, 4), (3, 5, 6)]);
    assert_eq!(run(0, true).0, [(0, 0, 2), (0, 0, 4), (0, 0, 6)]);
}

#[test]
fn every_scan_finds_the_exact_best_row() {
    // Pseudo-random vectors; sizes that are multiples of no block, tile or panel size.
    let (n, dim, mut state) = (701, 13, 12345u64);
    let mut next = || {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1);
        (state >> 40) as f32 / (1u64 << 24) as f32 - 0.5
    };
    let words = (0..n).map(|i| format!("w{i}")).collect();
    let emb = Embeddings::new(words, dim, (0..n * dim).map(|_| next()).collect()).unwrap();
    let norms: Vec<f64> = (0..n).map(|r| norm(emb.vector(r))).collect();
    let best = |q: &Question| {
        let e = query(&emb, &norms, q);
        let score = |r: usize| dot(emb.vector(r), &e) / norms[r];
        let rows = (0..650).filter(|r| !q.rows[..3].contains(r));
        rows.max_by(|&x, &y| score(x).total_cmp(&score(y))).unwrap()
    };
    let question = |i: usize| {
        let mut q = Question {
            section: 0,
            rows: [i % 650, i * 7 % 650, i * 13 % 650, 0],
        };
        q.rows[3] = best(&q);
        q
    };
    let qs: Vec<Question> = (0..1500).map(question).collect();
    let exact: Vec<Vec<f64>> = qs.iter().map(|q| query(&emb, &norms, q)).collect();
    type Scan = fn(&[f32], &[Vec<f64>], &mut [TopRows]);
    let scanners: [Scan; 3] = [scan::<false, 4>, scan::<false, 8>, scan_rows];
    for scanner in scanners {
        let mut tops: Vec<TopRows> = qs.iter().map(TopRows::new).collect();
        scanner(&emb.unit_vectors()[..650 * dim], &exact, &mut tops);
        assert!(tops.iter().zip(&qs).all(|(t, q)| t.items[0].1 == q.rows[3]));
    }
    // The whole path: a block boundary, several threads, the restricted vocabulary.
    let vocab = EvalVocab::new(&emb, &opts(650, false));
    assert!(answer_all(&emb, &vocab, &qs).into_iter().all(|ok| ok));
}

#[test]
fn malformed_files_are_errors() {
    let (emb, o) = (store(3, ANALOGY_STORE), EvalOptions::default());
    let line = |r: Result<AnalogyReport>| match r {
        Err(Error::BadLine { line, .. }) => line,
        other => panic!("{other:?}"),
    };
    let q = |t: &str| evaluate_analogies_from(&emb, t, Path::new("q"), &o);
    assert_eq!(line(q("a b c d\n")), 1);
    assert_eq!(line(q(": s\na b c d\na b c\n")), 3);
    assert_eq!(line(q(": s\n\na b c d e\n")), 3);
    let e = evaluate_analogies(&emb, Path::new("/nonexistent/qw.txt"), &o).unwrap_err();
    assert!(matches!(e, Error::Io { .. }) && e.to_string().contains("qw.txt"));
    let p = |t: &str| match evaluate_pairs_from(&emb, t, Path::new("p"), &o) {
        Err(Error::BadLine { line, .. }) => line,
        Err(Error::BadFile { .. }) => 0,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        [p("a\tb\tx\n"), p("#\na\tb\n"), p("a\tzebra\t1\n")],
        [1, 2, 0]
    );
    // A score must be a finite number; a file without questions is an error, not 0/0.
    assert_eq!([p("a\tb\t1\na\tc\tnan\n"), p("a\tb\tinf\n")], [2, 1]);
    for text in ["", "\n\n", ": empty section\n"] {
        let e = q(text).unwrap_err().to_string();
        assert!(e.contains("has no analogy questions"), "{text:?}: {e}");
    }
}

#[test]
fn word_pairs_follow_gensim_rules() {
    // "Cat" (a later row) must not replace "cat" when case is folded. Cosines: CAT-dog
    // .707, cat-car 0, car-BUS 1, dog-car .707; zebra is unknown.
    let emb = store(2, "cat 1 0  dog 1 1  car 0 1  Cat -1 0  bus 0 2");
    let text = "# x\nCAT\tdog\t8.0\ncat\tcar\t1.0\r\ncar\tBUS\t9\ndog\tcar\t 5\n\ncat\tzebra\t3\n";
    let r = evaluate_pairs_from(&emb, text, Path::new("p"), &EvalOptions::default()).unwrap();
    // scipy.stats.pearsonr([8, 1, 9, 5], [1/np.sqrt(2), 0, 1, 1/np.sqrt(2)])[0] and
    // scipy.stats.spearmanr(...)[0] on the same lists (the latter is 3/sqrt(10)).
    assert!((r.pearson - 0.939833075261769).abs() < 1e-12);
    assert!((r.spearman - 0.9486832980505139).abs() < 1e-12);
    assert_eq!((r.pairs, r.used, r.oov_percent), (5, 4, 20.0));
    let cs = evaluate_pairs_from(&emb, text, Path::new("p"), &opts(300_000, false)).unwrap();
    assert_eq!((cs.pairs, cs.used, cs.oov_percent), (5, 2, 60.0));
}

#[test]
fn spearman_averages_tied_ranks() {
    // scipy.stats.spearmanr([1, 2, 2, 3, 5, 5, 5, 8], [.3, .1, .1, .9, .5, .7, .7, .2])[0]
    // and scipy.stats.pearsonr(...)[0] on the same lists (scipy 1.17.1).
    let x = [1.0, 2.0, 2.0, 3.0, 5.0, 5.0, 5.0, 8.0];
    let y = [0.3, 0.1, 0.1, 0.9, 0.5, 0.7, 0.7, 0.2];
    assert!((spearman(&x, &y) - 0.3354619694425378).abs() < 1e-12);
    assert!((pearson(&x, &y) - 0.19021508154954075).abs() < 1e-12);
    assert!(pearson(&[1.0, 1.0], &[1.0, 2.0]).is_nan());
    assert!(spearman(&[1.0], &[1.0]).is_nan());
}

#[test]
fn word_pairs_can_answer_oov_words_from_ngrams() {
    use crate::embeddings::subwords::{Ngrams, Subwords, Training};
    let ngrams = Ngrams::new(3, 3, 5).unwrap();
    let subwords = Subwords {
        ngrams,
        word_rows: vec![1.0, 0.0, 0.0, 1.0, 1.0, 1.0],
        bucket_rows: (0..10).map(|i| ((i * 7) % 5) as f32 - 2.0).collect(),
        counts: vec![3, 2, 1],
        training: Training::default(),
    };
    let words = ["cat", "dog", "far"].map(String::from).to_vec();
    let emb = Embeddings::with_subwords(words, 2, subwords).unwrap();
    let text = "cat\tdog\t1\ncats\tdog\t2\ncat\tfar\t3\nxx\tcat\t4\n";
    let plain = opts(2, false);
    let r = evaluate_pairs_from(&emb, text, Path::new("p"), &plain).unwrap();
    assert_eq!((r.pairs, r.used, r.from_ngrams), (4, 1, 0));
    let ngram = EvalOptions {
        oov_ngrams: true,
        ..plain
    };
    let r = evaluate_pairs_from(&emb, text, Path::new("p"), &ngram).unwrap();
    // "cats" from n-grams, "far" (past restrict_vocab) from its row and n-grams, "xx" too.
    assert_eq!(
        (r.pairs, r.used, r.from_ngrams, r.oov_percent),
        (4, 4, 3, 0.0)
    );
}
