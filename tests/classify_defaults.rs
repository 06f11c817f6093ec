//! `seqmodels classify train` as a new user runs it: the defaults chosen by the size of the
//! data, and a fastText model as `--embeddings` (a tiny one, written here with the library's
//! writer) giving the words it lacks vectors from their n-grams.

mod common;

use common::seqmodels;
use seqmodels::embeddings::formats::{self, Format};
use seqmodels::embeddings::subwords::{Ngrams, Subwords, Training};
use seqmodels::embeddings::Embeddings;

const TRAIN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/corpora/emoji/train.csv");
const TEST: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/corpora/emoji/test.csv");

/// Test accuracy of the model in `dir` on the shipped test sentences.
fn accuracy(dir: &str) -> f64 {
    let run = seqmodels(&[
        "classify", "eval", "--model", dir, "--data", TEST, "--format", "json",
    ]);
    assert!(run.ok, "{}", run.stderr);
    let eval: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    eval["accuracy"].as_f64().unwrap()
}

#[test]
fn small_data_trains_the_average_on_every_sentence_and_it_learns() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("emo");
    let m = model.to_str().unwrap();
    // No settings at all: the shipped corpus has 200 sentences.
    let run = seqmodels(&[
        "-q",
        "--threads",
        "1",
        "classify",
        "train",
        "--train",
        TRAIN,
        "--out",
        m,
        "--seed",
        "1",
    ]);
    assert!(run.ok, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "note: 200 training sentences, fewer than 1000: the small-data defaults apply \
             (--model average, 100 epochs at --lr 0.01, no dev set, --valid-fraction 0)"
        ),
        "{}",
        run.stderr
    );
    assert!(
        run.stdout.contains("trained 100 epoch(s)")
            && run.stdout.contains("no dev set; kept the last epoch"),
        "{}",
        run.stdout
    );
    let config = std::fs::read_to_string(model.join("config.json")).unwrap();
    assert!(config.contains("\"architecture\": \"average\""), "{config}");
    let acc = accuracy(m);
    assert!(acc >= 0.8, "the average learnt only {acc}"); // chance is 0.2

    // An LSTM option picks the LSTM; a setting given is used and not named in the note.
    let lstm = dir.path().join("lstm");
    let run = seqmodels(&[
        "-q",
        "classify",
        "train",
        "--train",
        TRAIN,
        "--out",
        lstm.to_str().unwrap(),
        "--hidden",
        "8",
        "--epochs",
        "1",
        "--lr",
        "0.002",
    ]);
    assert!(run.ok, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("(--model lstm, 1 epochs at --lr 0.002, no dev set"),
        "{}",
        run.stderr
    );
    let config = std::fs::read_to_string(lstm.join("config.json")).unwrap();
    assert!(config.contains("\"architecture\": \"lstm\""), "{config}");
    // Every setting the rule chooses, given: no note.
    let run = seqmodels(&[
        "-q",
        "classify",
        "train",
        "--train",
        TRAIN,
        "--out",
        lstm.to_str().unwrap(),
        "--model",
        "lstm",
        "--hidden",
        "8",
        "--epochs",
        "1",
        "--lr",
        "0.002",
        "--valid-fraction",
        "0.1",
    ]);
    assert!(run.ok, "{}", run.stderr);
    assert!(!run.stderr.contains("note:"), "{}", run.stderr);
    assert!(run.stdout.contains("best dev accuracy"), "{}", run.stdout);
    // The rule is in --help.
    let help = seqmodels(&["classify", "train", "--help"]).stdout;
    assert!(
        help.contains("Defaults by data size: with fewer than 1,000 training sentences"),
        "{help}"
    );
}

/// A fastText model of four words of the shipped corpus, dimension 4, 3-grams in 64 buckets,
/// its rows drawn from a fixed pattern.
fn tiny_fasttext() -> Embeddings {
    let words: Vec<String> = ["</s>", "love", "pizza", "baseball"]
        .map(String::from)
        .to_vec();
    let dim = 4;
    let pattern = |rows: usize, salt: usize| -> Vec<f32> {
        (0..rows * dim)
            .map(|i| (((i + salt) * 7919) % 23) as f32 / 23.0 - 0.5)
            .collect()
    };
    let subwords = Subwords {
        ngrams: Ngrams::new(3, 3, 64).unwrap(),
        word_rows: pattern(words.len(), 0),
        bucket_rows: pattern(64, 3),
        counts: vec![10, 5, 4, 3],
        training: Training::default(),
    };
    Embeddings::with_subwords(words, dim, subwords).unwrap()
}

#[test]
fn a_fasttext_model_gives_the_words_it_lacks_vectors_from_their_ngrams() {
    let dir = tempfile::tempdir().unwrap();
    let emb = tiny_fasttext();
    let bin = dir.path().join("tiny.bin");
    formats::write(&emb, &bin, Format::FastText).unwrap();
    // The same words' vectors without the n-gram rows, as word2vec text.
    let plain = dir.path().join("tiny.txt");
    formats::write(
        &emb.clone().without_subwords(),
        &plain,
        Format::Word2VecText,
    )
    .unwrap();
    let train = |vectors: &std::path::Path, out: &str| {
        let out = dir.path().join(out);
        let run = seqmodels(&[
            "-q",
            "classify",
            "train",
            "--train",
            TRAIN,
            "--embeddings",
            vectors.to_str().unwrap(),
            "--epochs",
            "2",
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(run.ok, "{}", run.stderr);
        let vocab = std::fs::read_to_string(out.join("vocab.json")).unwrap();
        (run.stdout, vocab)
    };
    let (stdout, vocab) = train(&bin, "sub");
    // Every word of the corpus has at least one 3-gram (`<a>` for "a"), so with the n-gram
    // rows every training word has a vector: the line names both shares, summing to 100%.
    let shares: Vec<f64> = stdout
        .split('%')
        .filter_map(|s| s.rsplit(' ').next()?.parse().ok())
        .collect();
    assert!(stdout.contains("more from their subwords"), "{stdout}");
    assert_eq!(shares.len(), 2, "{stdout}");
    assert!((shares[0] + shares[1] - 100.0).abs() < 0.11, "{stdout}");
    assert!(vocab.contains("\"dinner\""), "{vocab}");
    let (stdout, vocab) = train(&plain, "plain");
    assert!(!stdout.contains("subwords"), "{stdout}");
    assert!(
        stdout.contains(&format!("{:.1}% of the training words", shares[0])),
        "{stdout}"
    );
    assert!(!vocab.contains("\"dinner\""), "{vocab}");
}
