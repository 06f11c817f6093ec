//! `seqmodels embed train --arch skipgram|cbow [--hs]` through the built binary: every model is
//! reproducible with one thread and learns a corpus of known structure; bad combinations of
//! flags are refused before anything is written.

use std::path::{Path, PathBuf};

use seqmodels::embeddings::formats;

mod common;

/// Two topics that never share a sentence: `aN` words and `bN` words.
fn write_corpus(dir: &Path) -> PathBuf {
    let path = dir.join("corpus.txt");
    let mut rng = common::Lcg(777);
    let mut text = String::new();
    for _ in 0..3000 {
        let topic = if rng.below(2) == 0 { 'a' } else { 'b' };
        let words: Vec<String> = (0..8)
            .map(|_| format!("{topic}{}", rng.below(10)))
            .collect();
        text.push_str(&words.join(" "));
        text.push('\n');
    }
    std::fs::write(&path, text).unwrap();
    path
}

/// Trains with one thread, seed 5 and `model`'s flags into `dir/name`; returns the file and
/// the summary line.
fn train(corpus: &Path, dir: &Path, name: &str, model: &[&str]) -> (PathBuf, String) {
    let out = dir.join(name);
    let mut flags = vec!["--seed", "5"];
    flags.extend_from_slice(model);
    let args = common::embed_train_args(corpus, &out, &flags);
    let run = common::seqmodels(&args);
    assert!(run.ok, "{model:?}: {}{}", run.stdout, run.stderr);
    (out, run.stdout)
}

/// The mean cosine between words of one topic minus that between words of different topics.
fn topic_margin(vectors: &Path) -> f32 {
    let e = formats::read(vectors, None, None).unwrap();
    let cos = |a: &str, b: &str| -> f32 {
        let (a, b) = (e.id(a).unwrap(), e.id(b).unwrap());
        e.unit(a).iter().zip(e.unit(b)).map(|(x, y)| x * y).sum()
    };
    let (mut within, mut across) = (0.0, 0.0);
    for i in 0..10 {
        for j in 0..10 {
            if i != j {
                within += cos(&format!("a{i}"), &format!("a{j}")) / 90.0;
            }
            across += cos(&format!("a{i}"), &format!("b{j}")) / 100.0;
        }
    }
    within - across
}

#[test]
fn every_model_is_byte_identical_with_one_thread_and_learns_the_topics() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = write_corpus(dir.path());
    let models: [(&[&str], &str); 5] = [
        (&[], "skip-gram, negative sampling (5), alpha 0.025"),
        (
            &["--arch", "cbow"],
            "CBOW, negative sampling (5), alpha 0.05",
        ),
        (
            &["--hs", "--negative", "0"],
            "skip-gram, hierarchical softmax, alpha 0.025",
        ),
        (
            &["--arch", "cbow", "--hs", "--negative", "0"],
            "CBOW, hierarchical softmax, alpha 0.05",
        ),
        (
            &["--arch", "cbow", "--hs", "--alpha", "0.03"],
            "CBOW, hierarchical softmax + negative sampling (5), alpha 0.03",
        ),
    ];
    let mut files: Vec<Vec<u8>> = Vec::new();
    for (i, (model, name)) in models.iter().enumerate() {
        let (first, summary) = train(&corpus, dir.path(), &format!("{i}a.bin"), model);
        assert!(
            summary.contains(&format!("trained 20 words x 16 dims ({name}) on 24000")),
            "{summary}"
        );
        let (second, _) = train(&corpus, dir.path(), &format!("{i}b.bin"), model);
        let bytes = std::fs::read(&first).unwrap();
        assert_eq!(bytes, std::fs::read(&second).unwrap(), "{model:?}");
        assert!(
            !files.contains(&bytes),
            "{model:?} gave another model's file"
        );
        files.push(bytes);
        let margin = topic_margin(&first);
        assert!(margin > 0.3, "{model:?}: topic margin {margin}");
    }
}

#[test]
fn flags_that_name_no_model_are_refused_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = write_corpus(dir.path());
    let out = dir.path().join("v.bin");
    let base = [
        "embed",
        "train",
        "--corpus",
        corpus.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--min-count",
        "1",
    ];
    let with = |extra: &[&'static str]| -> Vec<&str> {
        let mut args = base.to_vec();
        args.extend_from_slice(extra);
        args
    };
    let err = common::fails(&with(&["--negative", "0"]), "negative is 0");
    assert!(err.contains("hs"), "{err}");
    common::fails(
        &with(&["--arch", "cbow", "--negative", "0"]),
        "negative is 0",
    );
    let run = common::seqmodels(&with(&["--arch", "foo"]));
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(
        run.stderr.contains("invalid value 'foo'") && run.stderr.contains("skipgram, cbow"),
        "{}",
        run.stderr
    );
    // The GPU trainer is skip-gram with negative sampling only: asking for it with another
    // model names the model, whether or not this machine has a GPU.
    for model in [&["--arch", "cbow"][..], &["--hs"][..]] {
        let mut extra = model.to_vec();
        extra.extend_from_slice(&["--device", "cuda"]);
        let err = common::fails(&with(&extra), "skip-gram with negative sampling only");
        assert!(err.contains("train it on the CPU"), "{err}");
    }
    assert!(!out.exists());
}

#[test]
fn the_output_format_follows_the_file_name() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = write_corpus(dir.path());
    let (text, _) = train(&corpus, dir.path(), "vectors.txt", &[]);
    let first = std::fs::read_to_string(&text).unwrap();
    assert!(first.starts_with("20 16\n"), "{}", &first[..40]);
    let (glove, _) = train(&corpus, dir.path(), "vectors.glove", &[]);
    let line = std::fs::read_to_string(&glove).unwrap();
    assert_eq!(line.lines().next().unwrap().split(' ').count(), 17);
    let (bin, _) = train(&corpus, dir.path(), "vectors.bin", &[]);
    let same = |a: &Path, b: &Path| {
        let (a, b) = (
            formats::read(a, None, None).unwrap(),
            formats::read(b, None, None).unwrap(),
        );
        a.words() == b.words()
    };
    assert!(same(&text, &bin) && same(&glove, &bin));
    // A name that says nothing is refused before training, naming the choices.
    let out = dir.path().join("vectors");
    common::fails(
        &[
            "embed",
            "train",
            "--corpus",
            corpus.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
        "cannot tell the vector format from the name",
    );
    assert!(!out.exists());
}
