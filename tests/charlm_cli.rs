//! `seqmodels charlm` through the built binary, on a tiny names list written by the test.

mod common;

/// Success, stdout and stderr of `seqmodels ARGS`.
fn seqmodels(args: &[&str]) -> (bool, String, String) {
    let run = common::seqmodels(args);
    (run.ok, run.stdout, run.stderr)
}

#[test]
fn train_sample_eval_resume_and_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let names: Vec<String> = ["mar", "lin", "tor", "vel"]
        .iter()
        .flat_map(|s| {
            ["a", "o", "ina", "us"]
                .iter()
                .map(move |e| format!("{s}{e}"))
        })
        .collect();
    let data = dir.path().join("names.txt");
    std::fs::write(&data, names.join("\n") + "\n").unwrap();
    let (d, model) = (data.to_str().unwrap(), dir.path().join("m"));
    let m = model.to_str().unwrap();
    let small = [
        "--hidden",
        "32",
        "--embed",
        "8",
        "--batch-size",
        "4",
        "--lr",
        "0.01",
        "--valid-count",
        "2",
        "--seed",
        "3",
    ];
    let mut args = vec![
        "-q",
        "--threads",
        "1",
        "charlm",
        "train",
        "--data",
        d,
        "--out",
        m,
    ];
    args.extend(small);
    args.extend(["--epochs", "20"]);
    let (ok, stdout, stderr) = seqmodels(&args);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("best held-out"), "{stdout}");

    let (ok, a, stderr) = seqmodels(&["charlm", "sample", "-m", m, "-n", "8", "--seed", "5"]);
    assert!(ok, "{stderr}");
    assert_eq!(a.lines().count(), 8);
    let (_, b, _) = seqmodels(&["charlm", "sample", "-m", m, "-n", "8", "--seed", "5"]);
    assert_eq!(a, b, "same seed, same samples");
    // --format json: the same samples, one JSON string per line.
    let (ok, json, stderr) = seqmodels(&[
        "charlm", "sample", "-m", m, "-n", "8", "--seed", "5", "--format", "json",
    ]);
    assert!(ok, "{stderr}");
    let parsed: Vec<String> = json
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(parsed, a.lines().collect::<Vec<_>>());
    let (ok, _, stats) = seqmodels(&[
        "charlm", "sample", "-m", m, "-n", "20", "--stats", "--data", d, "--prefix", "ma",
    ]);
    assert!(
        ok && stats.contains("unique") && stats.contains("not in"),
        "{stats}"
    );
    // Without --data, novelty is measured against the file the model was trained on.
    let (ok, _, stats) = seqmodels(&["charlm", "sample", "-m", m, "-n", "5", "--stats"]);
    assert!(ok && stats.contains("names.txt"), "{stats}");

    let (ok, stdout, stderr) = seqmodels(&["charlm", "eval", "-m", m, "--data", d]);
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("nats/char") && stdout.contains("perplexity"),
        "{stdout}"
    );

    let resume = |epochs: &str| {
        seqmodels(&[
            "-q",
            "--threads",
            "1",
            "charlm",
            "train",
            "--resume",
            m,
            "--data",
            d,
            "--epochs",
            epochs,
        ])
    };
    let (ok, stdout, stderr) = resume("2");
    assert!(ok, "{stderr}");
    assert!(stdout.contains("trained 2 epoch(s)"), "{stdout}");
    // A resumed run that beats no held-out figure (a saved best of 0 here) leaves the model.
    common::set_training_figure(&model, "valid_nats_per_char", 0.0);
    let weights = std::fs::read(model.join("model.safetensors")).unwrap();
    let (ok, stdout, stderr) = resume("1");
    assert!(ok, "{stderr}");
    assert!(stdout.contains(&format!("so {m} is unchanged")), "{stdout}");
    assert_eq!(
        std::fs::read(model.join("model.safetensors")).unwrap(),
        weights
    );
    // The sizes are the saved model's: another size on --resume is refused, not ignored.
    common::fails(
        &[
            "charlm", "train", "--resume", m, "--data", d, "--hidden", "16",
        ],
        "'--resume <DIR>' cannot be used with",
    );

    // Bad input: each a one-line error naming the problem, never a panic.
    common::fails(
        &["charlm", "sample", "-m", m, "--temperature", "0"],
        "temperature",
    );
    common::fails(&["charlm", "sample", "-m", m, "--top-k", "0"], "top-k");
    common::fails(&["charlm", "sample", "-m", m, "--prefix", "mQ"], "'Q'");
    let other = dir.path().join("other.txt");
    std::fs::write(&other, "mara\nxeno\n").unwrap();
    common::fails(
        &["charlm", "eval", "-m", m, "--data", other.to_str().unwrap()],
        "other.txt:2",
    );
    let empty = dir.path().join("empty.txt");
    std::fs::write(&empty, "\n\n").unwrap();
    let e = empty.to_str().unwrap();
    let out2 = dir.path().join("m2");
    common::fails(
        &[
            "charlm",
            "train",
            "--data",
            e,
            "--out",
            out2.to_str().unwrap(),
        ],
        "has no text",
    );
    common::fails(&["charlm", "sample", "-m", e], "empty.txt");
    common::fails(
        &[
            "charlm",
            "train",
            "--data",
            d,
            "--out",
            m,
            "--time-budget",
            "soon",
        ],
        "duration",
    );
}

#[test]
fn text_samples_that_span_lines_stay_apart_in_json() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("verse.txt");
    std::fs::write(&data, "to be or not\nto be\n".repeat(30)).unwrap();
    let model = dir.path().join("t");
    let (d, m) = (data.to_str().unwrap(), model.to_str().unwrap());
    let (ok, _, stderr) = seqmodels(&[
        "-q",
        "--threads",
        "1",
        "charlm",
        "train",
        "--unit",
        "text",
        "--data",
        d,
        "--out",
        m,
        "--hidden",
        "16",
        "--embed",
        "8",
        "--seq-len",
        "16",
        "--batch-size",
        "4",
        "--epochs",
        "1",
        "--seed",
        "3",
    ]);
    assert!(ok, "{stderr}");
    let (ok, json, stderr) = seqmodels(&[
        "charlm",
        "sample",
        "-m",
        m,
        "-n",
        "3",
        "--max-len",
        "40",
        "--format",
        "json",
    ]);
    assert!(ok, "{stderr}");
    let samples: Vec<String> = json
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(samples.len(), 3, "{json}");
    assert!(samples.iter().all(|s| s.chars().count() <= 40), "{json}");
}

#[test]
fn training_ends_with_a_line_that_says_why_it_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("names.txt");
    std::fs::write(&data, "mara\nlinus\ntorva\nvelo\nmarco\nlina\n".repeat(4)).unwrap();
    let model = dir.path().join("m");
    // Not --quiet: stderr is a pipe here, so the progress events print their summaries alone.
    let run = common::seqmodels(&[
        "--threads",
        "1",
        "charlm",
        "train",
        "--data",
        data.to_str().unwrap(),
        "--out",
        model.to_str().unwrap(),
        "--hidden",
        "16",
        "--embed",
        "8",
        "--batch-size",
        "4",
        "--valid-count",
        "2",
        "--epochs",
        "2",
        "--patience",
        "0",
        "--device",
        "cpu",
    ]);
    let closing = common::closing_line(&run);
    assert!(
        closing.starts_with("stopped after epoch 2: the epochs were run; kept epoch "),
        "{closing}"
    );
}
