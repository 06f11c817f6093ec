//! `seqmodels embed` through the built binary, on a small corpus with known structure.

use std::io::Write;
use std::path::{Path, PathBuf};

use seqmodels::embeddings::formats;

mod common;

/// Success, stdout and stderr of `seqmodels ARGS`.
fn seqmodels(args: &[&str]) -> (bool, String, String) {
    let run = common::seqmodels(args);
    (run.ok, run.stdout, run.stderr)
}

/// Two topics that never share a sentence: `aN` words and `bN` words, plus `the` everywhere.
fn write_corpus(path: &Path) {
    let mut rng = common::Lcg(12345);
    let mut text = String::new();
    for _ in 0..6000 {
        let topic = if rng.below(2) == 0 { 'a' } else { 'b' };
        for i in 0..8 {
            if i > 0 {
                text.push(' ');
            }
            if i == 4 {
                text.push_str("the");
            } else {
                text.push_str(&format!("{topic}{}", rng.below(10)));
            }
        }
        text.push('\n');
    }
    std::fs::write(path, text).unwrap();
}

fn train(dir: &Path, name: &str, seed: &str) -> PathBuf {
    let corpus = dir.join("corpus.txt");
    if !corpus.exists() {
        write_corpus(&corpus);
    }
    let out = dir.join(name);
    let args = common::embed_train_args(&corpus, &out, &["--sample", "0", "--seed", seed]);
    let (ok, stdout, stderr) = seqmodels(&args);
    assert!(ok, "{stdout}{stderr}");
    assert!(stdout.contains("trained 21 words x 16 dims"), "{stdout}");
    out
}

#[test]
fn words_of_a_topic_are_each_others_neighbours_and_training_is_deterministic() {
    let dir = tempfile::tempdir().unwrap();
    let vectors = train(dir.path(), "v.bin", "3");
    let v = vectors.to_str().unwrap();
    let (ok, stdout, stderr) = seqmodels(&["embed", "similar", "a3", "-k", "5", "--vectors", v]);
    assert!(ok, "{stderr}");
    let neighbours: Vec<&str> = stdout
        .lines()
        .map(|l| l.split('\t').next().unwrap())
        .collect();
    assert_eq!(neighbours.len(), 5);
    assert!(
        neighbours.iter().all(|w| w.starts_with('a') && *w != "a3"),
        "{stdout}"
    );

    let (_, within, _) = seqmodels(&["embed", "similarity", "b1", "b2", "--vectors", v]);
    let (_, across, _) = seqmodels(&["embed", "similarity", "b1", "a2", "--vectors", v]);
    let (within, across): (f64, f64) = (
        within.trim().parse().unwrap(),
        across.trim().parse().unwrap(),
    );
    assert!(within > across + 0.3, "within {within}, across {across}");

    let (ok, stdout, _) = seqmodels(&[
        "embed",
        "odd-one-out",
        "a1",
        "a2",
        "a5",
        "b7",
        "--vectors",
        v,
    ]);
    assert!(ok);
    assert_eq!(stdout.trim(), "b7");

    // --interactive: output stays in step with input. One-line answers take a line each, a
    // blank or failed query an empty line (its error on stderr with the line number).
    let run = common::seqmodels_with_input(
        &["embed", "similarity", "-i", "--vectors", v],
        b"b1 b2\n\nb1 zebra\nb1 \xff\nb1 a2\n",
    );
    assert!(run.ok, "{}", run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 5, "{}", run.stdout);
    assert_eq!(lines[0].parse::<f64>().unwrap(), within);
    assert_eq!((lines[1], lines[2], lines[3]), ("", "", ""));
    assert_eq!(lines[4].parse::<f64>().unwrap(), across);
    assert!(
        run.stderr.contains("<stdin>:3: unknown word: zebra"),
        "{}",
        run.stderr
    );
    // A line that is not UTF-8 is a failed query, not the end of the session.
    assert!(
        run.stderr.contains("<stdin>:4: not valid UTF-8"),
        "{}",
        run.stderr
    );
    // A list answer ends with an empty line.
    let run = common::seqmodels_with_input(
        &["embed", "similar", "-i", "-k", "2", "--vectors", v],
        b"a3\nb3\n",
    );
    assert!(run.ok, "{}", run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 6, "{}", run.stdout);
    assert_eq!((lines[2], lines[5]), ("", ""));
    // Even a list of one.
    let run = common::seqmodels_with_input(
        &["embed", "similar", "-i", "-k", "1", "--vectors", v],
        b"a3\nb3\n",
    );
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 4, "{}", run.stdout);
    assert_eq!((lines[1], lines[3]), ("", ""));

    // One thread and one seed: the same file, byte for byte.
    let again = train(dir.path(), "v2.bin", "3");
    assert_eq!(
        std::fs::read(&vectors).unwrap(),
        std::fs::read(&again).unwrap()
    );
    let other = train(dir.path(), "v3.bin", "4");
    assert_ne!(
        std::fs::read(&vectors).unwrap(),
        std::fs::read(&other).unwrap()
    );
}

#[test]
fn formats_convert_and_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let bin = train(dir.path(), "v.bin", "3");
    let text = dir.path().join("v.txt");
    let glove = dir.path().join("v.glove");
    for (out, format) in [(&text, "text"), (&glove, "glove")] {
        let (ok, _, stderr) = seqmodels(&[
            "embed",
            "convert",
            "--vectors",
            bin.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--format",
            format,
        ]);
        assert!(ok, "{stderr}");
    }
    let a = formats::read(&bin, None, None).unwrap();
    let b = formats::read(&text, None, None).unwrap();
    let c = formats::read(&glove, None, None).unwrap();
    assert_eq!(a, b);
    assert_eq!(a, c);
    assert!(std::fs::read_to_string(&text)
        .unwrap()
        .starts_with("21 16\n"));
    let limited = formats::read(&text, None, Some(5)).unwrap();
    assert_eq!(limited.len(), 5);
}

#[test]
fn eval_bias_and_debias() {
    let dir = tempfile::tempdir().unwrap();
    let vectors = train(dir.path(), "v.bin", "3");
    let v = vectors.to_str().unwrap();
    let analogies = dir.path().join("questions.txt");
    std::fs::write(&analogies, ": topics\na1 a2 b1 b2\na3 a4 b3 zzz\n").unwrap();
    let pairs = dir.path().join("pairs.tsv");
    std::fs::write(
        &pairs,
        "a1\ta2\t9\nb1\tb2\t8\na1\tb1\t1\nb3\ta4\t2\nqq\ta1\t5\n",
    )
    .unwrap();
    let (ok, stdout, stderr) = seqmodels(&[
        "embed",
        "eval",
        "--vectors",
        v,
        "--analogies",
        analogies.to_str().unwrap(),
        "--pairs",
        pairs.to_str().unwrap(),
        "--json",
    ]);
    assert!(ok, "{stderr}");
    let report: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(report["analogies"]["total"]["seen"], 1);
    assert_eq!(report["analogies"]["total"]["total"], 2);
    let pair = &report["pairs"][0]["report"];
    assert!(
        (pair["oov_percent"].as_f64().unwrap() - 20.0).abs() < 1e-9,
        "{pair}"
    );
    assert!(pair["spearman"].as_f64().unwrap() > 0.5, "{pair}");

    let (ok, stdout, stderr) = seqmodels(&[
        "embed",
        "bias",
        "--vectors",
        v,
        "--pair",
        "a1:b1",
        "a2",
        "b2",
    ]);
    assert!(ok, "{stderr}");
    let signs: Vec<f64> = stdout
        .lines()
        .map(|l| l.split('\t').nth(1).unwrap().parse().unwrap())
        .collect();
    assert!(signs[0] > 0.0 && signs[1] < 0.0, "{stdout}");

    let neutral = dir.path().join("neutral.txt");
    std::fs::write(&neutral, "the\n").unwrap();
    let equalize = dir.path().join("equalize.txt");
    std::fs::write(&equalize, "a9 b9\n").unwrap();
    let out = dir.path().join("debiased.bin");
    let (ok, _, stderr) = seqmodels(&[
        "embed",
        "debias",
        "--vectors",
        v,
        "--pair",
        "a1:b1",
        "--neutralize",
        neutral.to_str().unwrap(),
        "--equalize",
        equalize.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(ok, "{stderr}");
    let (_, stdout, _) = seqmodels(&[
        "embed",
        "bias",
        "--vectors",
        out.to_str().unwrap(),
        "--pair",
        "a1:b1",
        "the",
        "a9",
        "b9",
    ]);
    let values: Vec<f64> = stdout
        .lines()
        .map(|l| l.split('\t').nth(1).unwrap().parse().unwrap())
        .collect();
    assert!(
        values[0].abs() < 1e-4,
        "neutralized word still projects: {stdout}"
    );
    assert!(
        (values[1] + values[2]).abs() < 1e-4,
        "equalized pair not opposite: {stdout}"
    );

    // An unknown word is named with its file and line; an empty file is an error.
    std::fs::write(&neutral, "the\nzzunknown\n").unwrap();
    let debias = |file: &std::path::Path, flag: &str| {
        [
            "embed",
            "debias",
            "--vectors",
            v,
            "--pair",
            "a1:b1",
            flag,
            file.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]
        .map(String::from)
    };
    let args = debias(&neutral, "--neutralize");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    common::fails(&args, "neutral.txt:2: unknown word \"zzunknown\"");
    std::fs::write(&equalize, "# nothing\n\n").unwrap();
    let args = debias(&equalize, "--equalize");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    common::fails(&args, "equalize.txt: has no word pairs");
    // A word given twice is named with both lines.
    std::fs::write(&equalize, "a9 b9\nb9 a8\n").unwrap();
    common::fails(
        &args,
        "equalize.txt:2: \"b9\" is given twice (also on line 1)",
    );
    std::fs::write(&equalize, "a7 a7\n").unwrap();
    common::fails(
        &args,
        "equalize.txt:1: \"a7\" is given twice (also on line 1)",
    );
}

#[test]
fn bad_input_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let vectors = train(dir.path(), "v.bin", "3");
    let v = vectors.to_str().unwrap();
    let (ok, _, stderr) = seqmodels(&[
        "embed",
        "analogy",
        "a1",
        "nope",
        "b1",
        "nada",
        "--vectors",
        v,
    ]);
    assert!(!ok);
    assert!(
        stderr.contains("error: unexpected argument") || stderr.contains("nope"),
        "{stderr}"
    );
    common::fails(
        &["embed", "analogy", "a1", "nope", "nada", "--vectors", v],
        "unknown words: nope, nada",
    );
    // Words on the command line and --interactive: refused, not silently ignored.
    common::fails(
        &["embed", "similar", "-i", "a1", "--vectors", v],
        "--interactive reads the words from stdin; drop `a1`",
    );

    let missing = dir.path().join("missing.txt");
    fn train_on(corpus: &Path) -> [&str; 4] {
        ["embed", "train", "--corpus", corpus.to_str().unwrap()]
    }
    common::fails(
        &[&train_on(&missing)[..], &["--out", "x.bin"]].concat(),
        "missing.txt",
    );

    let empty = dir.path().join("empty.txt");
    std::fs::File::create(&empty).unwrap();
    common::fails(
        &[&train_on(&empty)[..], &["--out", "x.bin"]].concat(),
        "empty.txt",
    );

    let bad = dir.path().join("bad.txt");
    let mut f = std::fs::File::create(&bad).unwrap();
    f.write_all(b"good line here\nbad \xff line\n").unwrap();
    let bad_args = [&train_on(&bad)[..], &["--min-count", "1"]].concat();
    common::fails(&[&bad_args[..], &["--out", "x.bin"]].concat(), "bad.txt:2");
    let lossy_out = dir.path().join("lossy.bin");
    let lossy = ["--lossy", "--out", lossy_out.to_str().unwrap()];
    let (ok, _, stderr) = seqmodels(&[&bad_args[..], &lossy[..]].concat());
    assert!(ok, "{stderr}");
    assert!(formats::read(&lossy_out, None, None)
        .unwrap()
        .id("\u{fffd}")
        .is_some());
    std::fs::remove_file(&lossy_out).unwrap();

    // A vectors file whose header says 0 words holds nothing to query or train on.
    let none = dir.path().join("none.txt");
    std::fs::write(&none, "0 4\n").unwrap();
    let none = none.to_str().unwrap();
    common::fails(
        &["embed", "similar", "a", "--vectors", none],
        "none.txt:1: the header gives 0 words",
    );
    // An analogy over a vocabulary of its own three words has no answer: an error, not an
    // empty line.
    let three = dir.path().join("three.txt");
    std::fs::write(&three, "a 1 0\nb 0 1\nc 1 1\n").unwrap();
    common::fails(
        &[
            "embed",
            "analogy",
            "a",
            "b",
            "c",
            "--vectors",
            three.to_str().unwrap(),
        ],
        "no answer",
    );
    // A learning rate so large that training diverges is refused before any work.
    common::fails(
        &[&train_on(&bad)[..], &["--alpha", "1e39", "--out", "x.bin"]].concat(),
        "alpha 1e39 is not in (0, 1e6]",
    );

    let truncated = dir.path().join("t.txt");
    std::fs::write(&truncated, "3 2\na 1 2\nb 1\n").unwrap();
    let t = truncated.to_str().unwrap();
    common::fails(&["embed", "similar", "a", "--vectors", t], "t.txt:3");
    assert!(!dir.path().join("x.bin").exists());
}

/// `--time-budget` ends a run of many epochs early and still writes the vectors.
#[test]
fn a_time_budget_stops_training_and_writes_the_vectors() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("corpus.txt");
    std::fs::write(&corpus, "a1 a2 a3 the a4\nb1 b2 the b3 b4\n".repeat(100)).unwrap();
    let out = dir.path().join("v.bin");
    let (ok, stdout, stderr) = seqmodels(&[
        "-q",
        "--threads",
        "1",
        "embed",
        "train",
        "--corpus",
        corpus.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--dim",
        "8",
        "--min-count",
        "1",
        "--epochs",
        "1000000",
        "--time-budget",
        "1s",
    ]);
    assert!(ok, "{stdout}{stderr}");
    assert!(
        stdout.contains("stopped by the time budget of 1 s"),
        "{stdout}"
    );
    let vectors = formats::read(&out, None, None).unwrap();
    assert_eq!(vectors.len(), 9);
    common::fails(
        &[
            "embed",
            "train",
            "--corpus",
            corpus.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--time-budget",
            "0s",
        ],
        "--time-budget",
    );
}
