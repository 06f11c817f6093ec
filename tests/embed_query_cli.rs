//! `seqmodels embed` queries, `vector` and `convert` through the built binary, on a tiny
//! fastText model made here with the library (subword rows included) and on plain vectors.

use std::path::{Path, PathBuf};

use seqmodels::embeddings::formats::{self, Format};
use seqmodels::embeddings::subwords::{Ngrams, Subwords, Training};
use seqmodels::embeddings::Embeddings;

mod common;

const WORDS: [&str; 8] = [
    "the", "king", "queen", "man", "woman", "Paris", "naïve", "kings",
];
const DIM: usize = 4;

/// Seeded rows: 8 words and 50 buckets of dimension 4, n-grams of 3 to 4 characters.
fn model() -> Embeddings {
    let mut rng = common::Lcg(7);
    let mut rows = |n: usize| -> Vec<f32> {
        (0..n * DIM)
            .map(|_| rng.below(2001) as f32 / 1000.0 - 1.0)
            .collect()
    };
    let subwords = Subwords {
        ngrams: Ngrams::new(3, 4, 50).unwrap(),
        word_rows: rows(WORDS.len()),
        bucket_rows: rows(50),
        counts: (0..WORDS.len() as u64).map(|i| 100 - i).collect(),
        training: Training::default(),
    };
    let words = WORDS.map(String::from).to_vec();
    Embeddings::with_subwords(words, DIM, subwords).unwrap()
}

struct Files {
    _dir: tempfile::TempDir,
    dir: PathBuf,
    fasttext: String,
    plain: String,
}

fn files() -> Files {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    let fasttext = path.join("m.bin");
    formats::write(&model(), &fasttext, Format::FastText).unwrap();
    let plain = path.join("plain.vec");
    formats::write(&model(), &plain, Format::Word2VecText).unwrap();
    let s = |p: PathBuf| p.to_str().unwrap().to_owned();
    Files {
        _dir: dir,
        dir: path,
        fasttext: s(fasttext),
        plain: s(plain),
    }
}

fn ok(args: &[&str]) -> common::Run {
    let run = common::seqmodels(args);
    assert!(run.ok, "{args:?}: {}", run.stderr);
    run
}

/// `run`'s stderr contains `needle`.
fn says(run: &common::Run, needle: &str) {
    assert!(run.stderr.contains(needle), "{}", run.stderr);
}

fn floats(fields: &[&str]) -> Vec<f32> {
    fields.iter().map(|x| x.parse().unwrap()).collect()
}

#[test]
fn vector_prints_fasttext_lines_and_answers_oov_words_from_ngrams() {
    let f = files();
    let emb = model();
    let run = ok(&["embed", "vector", "-v", &f.fasttext, "king", "kingdom"]);
    let lines: Vec<Vec<&str>> = run.stdout.lines().map(|l| l.split(' ').collect()).collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0][0], "king");
    assert_eq!(
        floats(&lines[0][1..]),
        emb.vector(1),
        "every bit of the value"
    );
    assert_eq!(lines[1][0], "kingdom");
    assert_eq!(floats(&lines[1][1..]), emb.ngram_vector("kingdom").unwrap());
    says(&run, "kingdom: not in the vocabulary");
    says(&run, "(from n-grams)");
    assert!(!run.stderr.contains("king:"), "{}", run.stderr);
    // Plain vectors have no n-grams: an unknown word is an error naming it, nothing printed.
    let run = common::seqmodels(&["embed", "vector", "-v", &f.plain, "king", "kingz", "Queen"]);
    assert!(!run.ok && run.stdout.is_empty());
    says(
        &run,
        "unknown words: kingz (did you mean king?), Queen (did you mean queen?)",
    );
    let json = ok(&[
        "embed",
        "vector",
        "-v",
        &f.fasttext,
        "queen",
        "quee",
        "--format",
        "json",
    ]);
    let value: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(value["vectors"][0]["word"], "queen");
    assert_eq!(value["vectors"][0]["vector"].as_array().unwrap().len(), DIM);
    assert_eq!(value["from_ngrams"], serde_json::json!(["quee"]));
}

#[test]
fn queries_take_several_words_and_say_which_came_from_ngrams() {
    let f = files();
    let emb = model();
    let run = ok(&[
        "embed",
        "similar",
        "-v",
        &f.fasttext,
        "king",
        "woman",
        "--negative",
        "man",
        "-k",
        "3",
    ]);
    let expected = emb
        .most_similar(&["king", "woman"], &["man"], 3, None)
        .unwrap();
    let found: Vec<&str> = run
        .stdout
        .lines()
        .map(|l| l.split('\t').next().unwrap())
        .collect();
    let words: Vec<&str> = expected.iter().map(|n| n.word.as_str()).collect();
    assert_eq!(found, words);
    let json = ok(&[
        "embed",
        "similar",
        "-v",
        &f.fasttext,
        "kingdom",
        "-k",
        "2",
        "--format",
        "json",
    ]);
    let value: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(value["positive"], serde_json::json!(["kingdom"]));
    assert_eq!(value["neighbours"].as_array().unwrap().len(), 2);
    assert_eq!(value["from_ngrams"], serde_json::json!(["kingdom"]));
    let run = ok(&[
        "embed",
        "n-similarity",
        "-v",
        &f.fasttext,
        "king",
        "queen",
        "--",
        "man",
        "womanly",
    ]);
    let n = emb
        .n_similarity(&["king", "queen"], &["man", "womanly"])
        .unwrap();
    assert_eq!(run.stdout.trim(), format!("{n:.6}"));
    assert!(run.stderr.contains("womanly: not in the vocabulary"));
    common::fails(
        &["embed", "n-similarity", "-v", &f.plain, "king", "queen"],
        "give a word or more on each side of --",
    );
    let run = common::seqmodels_with_input(
        &["embed", "n-similarity", "-v", &f.plain, "-i"],
        b"king queen\n",
    );
    says(&run, "<stdin>:1: separate the two sets with --");
    common::fails(
        &["embed", "similarity", "-v", &f.plain, "King", "queen"],
        "unknown word: King (did you mean king?)",
    );
    common::fails(
        &["embed", "analogy", "-v", &f.plain, "man", "kng", "woman"],
        "unknown word: kng (did you mean king?)",
    );
    let run = ok(&[
        "embed",
        "odd-one-out",
        "-v",
        &f.fasttext,
        "king",
        "queen",
        "Paris",
        "--format",
        "json",
    ]);
    let value: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let odd = emb.doesnt_match(&["king", "queen", "Paris"]).unwrap();
    assert_eq!(value["odd_one_out"], odd);
}

#[test]
fn interactive_json_gives_one_object_per_line() {
    let f = files();
    let run = common::seqmodels_with_input(
        &[
            "embed",
            "similarity",
            "-v",
            &f.plain,
            "--interactive",
            "--format",
            "json",
        ],
        b"king queen\n\nking zzzzzz\nman woman\n",
    );
    assert!(run.ok, "{}", run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 4, "{}", run.stdout);
    let first: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
    assert_eq!(first["words"], serde_json::json!(["king", "queen"]));
    assert!(first["similarity"].is_number());
    assert_eq!(lines[1], "");
    let failed: serde_json::Value = serde_json::from_str(lines[2]).unwrap();
    assert_eq!(failed["error"], "<stdin>:3: unknown word: zzzzzz");
    let last: serde_json::Value = serde_json::from_str(lines[3]).unwrap();
    assert!(last["similarity"].is_number());
}

#[test]
fn convert_takes_the_format_from_the_name() {
    let f = files();
    let out = |name: &str| f.dir.join(name).to_str().unwrap().to_owned();
    let convert = |input: &str, name: &str, more: &[&str]| {
        let out = out(name);
        let args = [&["embed", "convert", "-v", input, "--out", &out][..], more].concat();
        common::seqmodels(&args)
    };
    for (input, name, more, format) in [
        (&f.fasttext, "a.bin", &[][..], "as fasttext"),
        (
            &f.fasttext,
            "a.vec",
            &[],
            "as word2vec-text (without the 50 n-gram rows",
        ),
        (
            &f.fasttext,
            "w.bin",
            &["--format", "bin"],
            "as word2vec-bin",
        ),
        (&f.plain, "g.glove.txt", &[], "as glove"),
    ] {
        let run = convert(input, name, more);
        assert!(run.ok, "{}", run.stderr);
        says(&run, format);
    }
    let read = |name: &str| std::fs::read(out(name)).unwrap();
    assert_eq!(read("a.bin"), std::fs::read(&f.fasttext).unwrap());
    assert_eq!(formats::detect(&read("a.vec")), Some(Format::Word2VecText));
    assert_eq!(
        formats::detect(&read("w.bin")),
        Some(Format::Word2VecBinary)
    );
    assert_eq!(formats::detect(&read("g.glove.txt")), Some(Format::Glove));
    let back = formats::read(Path::new(&out("a.vec")), None, None).unwrap();
    assert_eq!(back.vectors(), model().vectors());
    let run = convert(&f.plain, "vectors", &[]);
    says(&run, "cannot tell the vector format from the name");
    let run = convert(&f.plain, "p.bin", &["--format", "fasttext"]);
    assert!(!run.ok);
    says(&run, "these vectors have no n-gram rows");
    assert!(!Path::new(&out("p.bin")).exists(), "nothing written");
}

#[test]
fn files_that_are_not_vectors_are_named_for_what_they_are() {
    let f = files();
    let weights = f.dir.join("model.safetensors");
    let mut bytes = 30u64.to_le_bytes().to_vec();
    bytes.extend(br#"{"w":{"dtype":"F32","shape":[]}}"#);
    bytes.extend([0xff; 40]);
    std::fs::write(&weights, bytes).unwrap();
    let w = weights.to_str().unwrap();
    common::fails(
        &["embed", "similar", "-v", w, "king"],
        "is a safetensors file (model weights), not a vector file",
    );
    let d = f.dir.to_str().unwrap();
    common::fails(&["embed", "similar", "-v", d, "king"], "is a directory");
    let whole = std::fs::read(&f.fasttext).unwrap();
    let cut = f.dir.join("cut.bin");
    std::fs::write(&cut, &whole[..whole.len() / 2]).unwrap();
    let err = common::fails(
        &["embed", "vector", "-v", cut.to_str().unwrap(), "king"],
        "is truncated: the file ends in",
    );
    assert!(err.contains("cut.bin"), "{err}");
}
