//! `seqmodels classify` through the built binary, on the emoji corpus the project ships
//! (`corpora/emoji`, written by `scripts/make_emoji_corpus.py`).

mod common;

use std::sync::OnceLock;

use common::{fails, seqmodels, seqmodels_with_input};

const TRAIN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/corpora/emoji/train.csv");
const TEST: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/corpora/emoji/test.csv");

/// One model trained on the shipped corpus, shared by the tests below (training is the slow
/// part): its directory, kept for the whole test run.
fn trained() -> &'static str {
    static MODEL: OnceLock<(tempfile::TempDir, String)> = OnceLock::new();
    let (_, m) = MODEL.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let model = dir.path().join("emo");
        let m = model.to_str().unwrap().to_owned();
        let run = seqmodels(&[
            "-q",
            "--threads",
            "1",
            "classify",
            "train",
            "--train",
            TRAIN,
            "--out",
            &m,
            "--label-names",
            "emojify",
            "--epochs",
            "25",
            "--hidden",
            "32",
            "--valid-fraction",
            "0.1",
            "--seed",
            "3",
            "--device",
            "cpu",
        ]);
        assert!(run.ok, "{}", run.stderr);
        assert!(run.stdout.contains("best dev accuracy"), "{}", run.stdout);
        (dir, m)
    });
    m
}

#[test]
fn predict_labels_arguments_and_stdin() {
    let m = trained();
    // Arguments: the label and its probability.
    let run = seqmodels(&[
        "classify",
        "predict",
        "--model",
        m,
        "I love you",
        " ",
        "pizza for dinner",
    ]);
    assert!(run.ok, "{}", run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{}", run.stdout);
    assert!(lines[0].starts_with("❤️ 0."), "{}", run.stdout);
    // An empty text gets an empty line, not a label drawn from nothing, and a count on stderr.
    assert_eq!(lines[1], "", "{}", run.stdout);
    assert!(lines[2].starts_with("🍴 "), "{}", run.stdout);
    assert!(
        run.stderr.contains("1 empty text(s) got no label"),
        "{}",
        run.stderr
    );

    // stdin, top 2, JSON: probabilities sorted and summing to at most 1.
    let run = seqmodels_with_input(
        &[
            "classify", "predict", "--model", m, "--top-k", "2", "--format", "json",
        ],
        b"we won the baseball match\n\nzzz unknown words only\n",
    );
    assert!(run.ok, "{}", run.stderr);
    let rows: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[1]["labels"].as_array().unwrap().len(), 0);
    let rows = [rows[0].clone(), rows[2].clone()];
    assert_eq!(rows[0]["labels"][0]["label"], "⚾");
    assert_eq!(rows[0]["labels"][0]["class"], "1");
    let p = |r: &serde_json::Value, i: usize| r["labels"][i]["probability"].as_f64().unwrap();
    assert!(p(&rows[0], 0) >= p(&rows[0], 1) && p(&rows[0], 0) + p(&rows[0], 1) <= 1.0 + 1e-6);
    assert_eq!(rows[1]["labels"].as_array().unwrap().len(), 2);
}

#[test]
fn predict_names_a_line_that_is_not_utf8() {
    let m = trained();
    // A stdin line that is not UTF-8 gets an empty output line and an error naming it; the
    // lines after it are still labelled, and the run ends in failure.
    let run = seqmodels_with_input(
        &["classify", "predict", "--model", m],
        b"i love you\n\xff\xfe\npizza for dinner\n",
    );
    assert!(!run.ok);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{}", run.stdout);
    assert!(
        lines[0].starts_with("❤️ ") && lines[1].is_empty(),
        "{}",
        run.stdout
    );
    assert!(lines[2].starts_with("🍴 "), "{}", run.stdout);
    assert!(
        run.stderr.contains("<stdin>:2: not valid UTF-8"),
        "{}",
        run.stderr
    );
}

#[test]
fn eval_prints_the_metrics_and_draws_the_confusion_matrix() {
    let m = trained();
    let dir = tempfile::tempdir().unwrap();
    // Evaluation on the held-out sentences, with a confusion matrix picture.
    let png = dir.path().join("confusion.png");
    let run = seqmodels(&[
        "classify",
        "eval",
        "--model",
        m,
        "--data",
        TEST,
        "--confusion",
        png.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert!(run.ok, "{}", run.stderr);
    let eval: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert!(eval["accuracy"].as_f64().unwrap() >= 0.9, "{}", run.stdout);
    assert_eq!(eval["confusion"].as_array().unwrap().len(), 5);
    assert!(std::fs::read(&png).unwrap().starts_with(b"\x89PNG"));
    // A picture that cannot be written (a directory is in the way) is a warning: the
    // figures are printed first and the command succeeds.
    let blocked = dir.path().join("blocked.png");
    std::fs::create_dir(&blocked).unwrap();
    let run = seqmodels(&[
        "classify",
        "eval",
        "--model",
        m,
        "--data",
        TEST,
        "--confusion",
        blocked.to_str().unwrap(),
    ]);
    assert!(run.ok, "{}", run.stderr);
    assert!(run.stdout.contains("macro F1"), "{}", run.stdout);
    assert!(
        run.stderr.contains("warning: no confusion matrix picture"),
        "{}",
        run.stderr
    );
    let run = seqmodels(&["classify", "eval", "--model", m, "--data", TEST]);
    assert!(
        run.stdout.contains("macro F1") && run.stdout.contains("😞"),
        "{}",
        run.stdout
    );
}

#[test]
fn bad_input_is_a_clear_error() {
    let m = trained();
    let dir = tempfile::tempdir().unwrap();
    let other = dir.path().join("other");
    let o = other.to_str().unwrap();
    // Bad input: each a clear error naming the file, line or label.
    let bad = dir.path().join("bad.csv");
    let eval_bad = |contents: &str| {
        std::fs::write(&bad, contents).unwrap();
        seqmodels(&[
            "classify",
            "eval",
            "--model",
            m,
            "--data",
            bad.to_str().unwrap(),
        ])
    };
    // A sentence longer than a classifier reads is used in part, with a warning naming it.
    let long = format!("i love you,0\n{},0\n", "love ".repeat(1500));
    let run = eval_bad(&long);
    assert!(run.ok, "{}", run.stderr);
    assert!(
        run.stderr.contains("bad.csv:2: more than 1000 words"),
        "{}",
        run.stderr
    );
    // Training names it too, once.
    std::fs::write(&bad, format!("i love you,0\n{},1\n", "love ".repeat(1500))).unwrap();
    let long = dir.path().join("long");
    let run = seqmodels(&[
        "-q",
        "classify",
        "train",
        "--train",
        bad.to_str().unwrap(),
        "--out",
        long.to_str().unwrap(),
        "--model",
        "average",
        "--epochs",
        "1",
    ]);
    assert!(run.ok, "{}", run.stderr);
    let warning = "bad.csv:2: more than 1000 words; the classifier reads the first 1000";
    assert_eq!(run.stderr.matches(warning).count(), 1, "{}", run.stderr);
    let run = eval_bad("i love you,0\nthis label is new,7\n");
    assert!(!run.ok);
    assert!(
        run.stderr.contains("bad.csv") && run.stderr.contains("\"7\""),
        "{}",
        run.stderr
    );
    // One column for both the text and the label would make every sentence its own label.
    fails(
        &[
            "classify",
            "train",
            "--train",
            TRAIN,
            "--out",
            o,
            "--text-column",
            "0",
            "--label-column",
            "0",
        ],
        "both read from column 0",
    );
    // A learning rate that libtorch's 32-bit Adam step would overflow is refused up front.
    fails(
        &[
            "classify", "train", "--train", TRAIN, "--out", o, "--lr", "1e38",
        ],
        "learning rate 1e38 is not in (0, 1e6]",
    );
    let run = eval_bad("only text\n");
    assert!(!run.ok);
    assert!(
        run.stderr.contains("bad.csv:1") && run.stderr.contains("missing"),
        "{}",
        run.stderr
    );
    let not_a_model = dir.path().to_str().unwrap();
    fails(
        &["classify", "predict", "--model", not_a_model, "hi"],
        "meta.json",
    );
    let missing = dir.path().join("nope.csv");
    let missing = missing.to_str().unwrap();
    fails(
        &["classify", "train", "--train", missing, "--out", o],
        "nope.csv",
    );
}

#[test]
fn pretrained_vectors_fit_or_are_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    // Pretrained vectors: used when their size fits, an error naming the file when it does not.
    let vectors = dir.path().join("v.txt");
    std::fs::write(
        &vectors,
        "3 4\nlove 0.5 0.1 0 0\nbaseball 0 0.6 0.1 0\npizza 0 0 0.2 0.7\n",
    )
    .unwrap();
    let v = vectors.to_str().unwrap();
    let small = dir.path().join("small");
    let args = [
        "-q",
        "classify",
        "train",
        "--train",
        TRAIN,
        "--embeddings",
        v,
        "--model",
        "average",
        "--epochs",
        "2",
        "--out",
        small.to_str().unwrap(),
    ];
    let run = seqmodels(&args);
    assert!(run.ok, "{}", run.stderr);
    assert!(
        run.stdout.contains("have pretrained vectors"),
        "{}",
        run.stdout
    );
    let stderr = fails(&[&args[..], &["--embed-dim", "8"]].concat(), "v.txt");
    assert!(stderr.contains("4 dimensions"), "{stderr}");
    // The failed run left the model it would have replaced as it was.
    assert!(
        seqmodels(&[
            "classify",
            "predict",
            "--model",
            small.to_str().unwrap(),
            "hi"
        ])
        .ok
    );
    // A bidirectional LSTM with max pooling and dropout on the word vectors, learning vectors
    // for the words the file lacks.
    let pooled = dir.path().join("pooled");
    let run = seqmodels(&[
        "-q",
        "classify",
        "train",
        "--train",
        TRAIN,
        "--embeddings",
        v,
        "--learn-new-words",
        "--bidirectional",
        "--pool",
        "max",
        "--embed-dropout",
        "0.3",
        "--epochs",
        "2",
        "--out",
        pooled.to_str().unwrap(),
    ]);
    assert!(run.ok, "{}", run.stderr);
    assert!(
        run.stdout.contains("learnt vectors of their own"),
        "{}",
        run.stdout
    );
    let config = std::fs::read_to_string(pooled.join("config.json")).unwrap();
    assert!(config.contains("\"pooling\": \"max\""), "{config}");
    assert!(config.contains("\"embed_dropout\": 0.3"), "{config}");
    let p = pooled.to_str().unwrap();
    assert!(seqmodels(&["classify", "predict", "--model", p, "I love pizza"]).ok);
    // Learning new words while fine-tuning them all says nothing: refused.
    fails(
        &[&args[..], &["--learn-new-words", "--fine-tune"]].concat(),
        "--fine-tune",
    );
}

#[test]
fn cross_validation_on_the_emoji_corpus() {
    let run = seqmodels(&[
        "-q",
        "--threads",
        "1",
        "classify",
        "train",
        "--train",
        TRAIN,
        "--cv",
        "3",
        "--model",
        "average",
        "--epochs",
        "40",
        "--lr",
        "0.01",
        "--seed",
        "2",
        "--device",
        "cpu",
    ]);
    assert!(run.ok, "{}", run.stderr);
    let folds = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("fold "))
        .count();
    assert_eq!(folds, 3, "{}", run.stdout);
    assert!(
        run.stdout
            .contains("3-fold cross-validation on 200 sentences"),
        "{}",
        run.stdout
    );
}

/// `seqmodels --threads 1 classify train --train TRAIN ARGS` on the CPU, with a small LSTM
/// unless `--resume` is among `args`; not `--quiet`, so that the closing line reaches stderr.
fn small_training(args: &[&str]) -> common::Run {
    let mut all = vec![
        "--threads",
        "1",
        "classify",
        "train",
        "--train",
        TRAIN,
        "--device",
        "cpu",
    ];
    if !args.contains(&"--resume") {
        all.extend(["--embed-dim", "16", "--hidden", "16", "--layers", "1"]);
        all.extend(["--valid-fraction", "0.1"]);
    }
    all.extend_from_slice(args);
    seqmodels(&all)
}

#[test]
fn resume_continues_the_epochs_and_keeps_the_saved_settings() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("emo");
    let m = model.to_str().unwrap();
    let run = small_training(&["--out", m, "--epochs", "2", "--seed", "3"]);
    let closing = common::closing_line(&run);
    assert!(
        closing.starts_with("stopped after epoch 2: the epochs were run; kept epoch "),
        "{closing}"
    );
    assert!(model.join("optimizer.safetensors").is_file());

    // The numbering goes on from the saved epoch, into the same directory.
    let run = small_training(&["--resume", m, "--epochs", "2"]);
    let closing = common::closing_line(&run);
    assert!(
        closing.starts_with("stopped after epoch 4: the epochs were run; "),
        "{closing}"
    );
    assert!(run.stderr.contains("epoch 3/4"), "{}", run.stderr);
    assert!(!run.stderr.contains("epoch 1/"), "{}", run.stderr);

    // The seed, patience and schedule are the saved run's: giving one is refused, not ignored.
    for (option, value) in [
        ("--seed", "5"),
        ("--patience", "2"),
        ("--lr-schedule", "linear:1e-4"),
    ] {
        let stderr = fails(
            &[
                "classify", "train", "--train", TRAIN, "--resume", m, option, value,
            ],
            "--resume continues the saved run",
        );
        assert!(stderr.contains(option), "{stderr}");
    }
    // So are the model's sizes and training settings: clap refuses them beside --resume.
    for (option, value) in [("--hidden", "64"), ("--lr", "0.01"), ("--batch-size", "8")] {
        let run = common::seqmodels(&[
            "classify", "train", "--train", TRAIN, "--resume", m, option, value,
        ]);
        assert!(!run.ok, "{option} was taken on --resume");
        assert!(
            run.stderr.contains("cannot be used with") && run.stderr.contains(option),
            "{}",
            run.stderr
        );
    }
    // The dev set is the saved run's too: a split model refuses a dev file.
    let stderr = fails(
        &[
            "classify", "train", "--train", TRAIN, "--resume", m, "--valid", TRAIN,
        ],
        "held-out share of its training data",
    );
    assert!(stderr.contains("leave out --valid"), "{stderr}");
    // A schedule that does not exist is refused before anything runs.
    let stderr = fails(
        &[
            "classify",
            "train",
            "--train",
            TRAIN,
            "--out",
            m,
            "--lr-schedule",
            "cosine",
        ],
        "unknown schedule \"cosine\"",
    );
    assert!(
        stderr.contains("constant, linear:FLOOR or plateau:FACTOR"),
        "{stderr}"
    );
}

#[test]
fn a_time_budget_without_epochs_ends_the_run_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("emo");
    // No --epochs: only the time budget ends it (no patience either).
    let run = small_training(&[
        "--out",
        model.to_str().unwrap(),
        "--time-budget",
        "1s",
        "--patience",
        "0",
    ]);
    let closing = common::closing_line(&run);
    assert!(
        closing.contains(": the time budget of 1 s was spent; kept epoch "),
        "{closing}"
    );
    assert!(model.join("model.safetensors").is_file());
}
