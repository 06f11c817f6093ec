//! `seqmodels embed train --subwords` through the built binary: fastText's subword model written
//! as fastText's `.bin`, byte-identical with one thread, answering a word it never saw from its
//! n-grams; bad subword settings, and fastText files it cannot read, refused with nothing
//! written.

use std::path::{Path, PathBuf};

use seqmodels::embeddings::formats;

mod common;

/// Two topics told apart by their stems only: `zork`+ending and `plim`+ending, same endings.
fn write_corpus(dir: &Path) -> PathBuf {
    const ENDINGS: [&str; 6] = ["al", "be", "ci", "do", "eu", "fa"];
    let path = dir.join("corpus.txt");
    let mut rng = common::Lcg(99);
    let mut text = String::new();
    for _ in 0..2500 {
        let stem = if rng.below(2) == 0 { "zork" } else { "plim" };
        let words: Vec<String> = (0..8)
            .map(|_| format!("{stem}{}", ENDINGS[rng.below(6) as usize]))
            .collect();
        text.push_str(&words.join(" "));
        text.push('\n');
    }
    std::fs::write(&path, text).unwrap();
    path
}

/// `embed train` with one thread, seed 3 and `extra`, into `out`.
fn train_args<'a>(corpus: &'a Path, out: &'a Path, extra: &[&'a str]) -> Vec<&'a str> {
    let mut flags = vec!["--seed", "3"];
    flags.extend_from_slice(extra);
    common::embed_train_args(corpus, out, &flags)
}

#[test]
fn subword_training_writes_a_fasttext_model_byte_identical_run_to_run() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = write_corpus(dir.path());
    let subwords = ["--subwords", "--bucket", "20000", "--alpha", "0.05"];
    let mut files = Vec::new();
    for name in ["a.bin", "b.bin"] {
        let out = dir.path().join(name);
        let run = common::seqmodels(&train_args(&corpus, &out, &subwords));
        assert!(run.ok, "{}{}", run.stdout, run.stderr);
        assert!(
            run.stdout.contains(
                "(skip-gram with subwords (3-6 characters, 20000 buckets), negative sampling (5)"
            ),
            "{}",
            run.stdout
        );
        files.push(std::fs::read(&out).unwrap());
    }
    assert_eq!(files[0], files[1]);
    assert!(formats::fasttext::has_magic(&files[0]));
    let model = dir.path().join("a.bin");
    let emb = formats::read(&model, None, None).unwrap();
    let s = emb.subwords().expect("the model has its n-gram rows");
    assert_eq!(
        (s.ngrams.minn, s.ngrams.maxn, s.ngrams.bucket),
        (3, 6, 20_000)
    );
    assert_eq!(emb.len(), 12);
    // A word never seen is answered from its n-grams, and is nearest to its stem's words.
    let run = common::seqmodels(&[
        "embed",
        "similar",
        "-v",
        model.to_str().unwrap(),
        "zorkxy",
        "-k",
        "6",
    ]);
    assert!(run.ok, "{}", run.stderr);
    assert!(
        run.stderr.contains("zorkxy: not in the vocabulary"),
        "{}",
        run.stderr
    );
    let neighbours: Vec<&str> = run
        .stdout
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|w| w.starts_with("zork") || w.starts_with("plim"))
        .collect();
    assert_eq!(neighbours.len(), 6, "{}", run.stdout);
    let zork = neighbours.iter().filter(|w| w.starts_with("zork")).count();
    assert!(zork >= 5, "{neighbours:?}");
    // CBOW with --format fasttext and its own n-gram sizes.
    let out = dir.path().join("cbow.model");
    let extra = [
        "--subwords",
        "--arch",
        "cbow",
        "--minn",
        "2",
        "--maxn",
        "4",
        "--bucket",
        "5000",
        "--format",
        "fasttext",
    ];
    let run = common::seqmodels(&train_args(&corpus, &out, &extra));
    assert!(run.ok, "{}", run.stderr);
    let s = formats::read(&out, None, None).unwrap();
    let n = s.subwords().unwrap().ngrams;
    assert_eq!((n.minn, n.maxn, n.bucket), (2, 4, 5000));
}

#[test]
fn bad_subword_settings_are_refused_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = write_corpus(dir.path());
    let bin = dir.path().join("v.bin");
    let txt = dir.path().join("v.txt");
    let cases: [(&Path, &[&str], &str); 8] = [
        (
            &bin,
            &["--subwords", "--minn", "5", "--maxn", "3"],
            "minn 5 is above maxn 3",
        ),
        (
            &bin,
            &["--subwords", "--bucket", "0"],
            "a bucket count of 0",
        ),
        (&bin, &["--subwords", "--minn", "0"], "at least 1 character"),
        (&bin, &["--subwords", "--maxn", "0"], "leave out --subwords"),
        (
            &bin,
            &["--minn", "2"],
            "--minn sets the n-grams of the subword model, which is off",
        ),
        (&bin, &["--bucket", "10"], "add --subwords"),
        (&txt, &["--subwords"], "only fastText's model file holds"),
        (
            &bin,
            &["--subwords", "--format", "text"],
            "give --out NAME.bin or --format fasttext",
        ),
    ];
    for (out, extra, says) in cases {
        common::fails(&train_args(&corpus, out, extra), says);
        assert!(!out.exists(), "{extra:?} wrote {}", out.display());
    }
    let extra = [
        "--subwords",
        "--patience",
        "2",
        "--eval-analogies",
        corpus.to_str().unwrap(),
    ];
    common::fails(&train_args(&corpus, &bin, &extra), "without --patience");
    let extra = ["--subwords", "--device", "cuda"];
    common::fails(
        &train_args(&corpus, &bin, &extra),
        "with negative sampling only",
    );
    assert!(!bin.exists());
}

/// fastText files seqmodels cannot read, made from a model it trained: another version, a
/// supervised model, a file cut short. Each is refused naming the file and what it is, and
/// `embed convert` writes nothing.
#[test]
fn other_versions_supervised_and_truncated_models_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = write_corpus(dir.path());
    let model = dir.path().join("model.bin");
    let extra = ["--subwords", "--bucket", "500"];
    let run = common::seqmodels(&train_args(&corpus, &model, &extra));
    assert!(run.ok, "{}", run.stderr);
    let bytes = std::fs::read(&model).unwrap();
    let with = |at: usize, value: i32| {
        let mut b = bytes.clone();
        b[at..at + 4].copy_from_slice(&value.to_le_bytes());
        b
    };
    // The version follows the magic number; the args' model type is the 8th i32 after them.
    let cases = [
        ("v11.bin", with(4, 11), "is a fastText model of version 11"),
        (
            "sup.bin",
            with(8 + 7 * 4, 3),
            "is a supervised fastText model",
        ),
        (
            "cut.bin",
            bytes[..bytes.len() - 100].to_vec(),
            "is truncated",
        ),
        ("head.bin", bytes[..30].to_vec(), "is truncated"),
    ];
    for (name, data, says) in cases {
        let bad = dir.path().join(name);
        std::fs::write(&bad, data).unwrap();
        let out = dir.path().join("out.txt");
        let err = common::fails(
            &[
                "embed",
                "convert",
                "-v",
                bad.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
            ],
            says,
        );
        assert!(err.contains(name), "{err}");
        assert!(!out.exists(), "{name}");
    }
}
