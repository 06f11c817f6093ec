//! `seqmodels embed train --patience N` (early stopping on analogy accuracy) and
//! `--state DIR` / `--resume DIR` (saving the full training state and continuing it), through
//! the built binary.

use std::path::{Path, PathBuf};

use seqmodels::embeddings::eval::{self, EvalOptions};
use seqmodels::embeddings::formats;

mod common;

/// A corpus with analogy structure: 25 words `wXY` on a 5 × 5 grid, each seen in a sentence
/// with its row word `cxX` and its column word `cyY`; and the analogies `wAB wAD wCB wCD` of the
/// grid. Few sentences, so that the accuracy rises over several epochs before it levels off.
fn write_grid(dir: &Path) -> (PathBuf, PathBuf) {
    let mut rng = common::Lcg(31);
    let mut text = String::new();
    for _ in 0..300 {
        let (x, y) = (rng.below(5), rng.below(5));
        text.push_str(&format!("cx{x} w{x}{y} cy{y}\n"));
    }
    let corpus = dir.join("grid.txt");
    std::fs::write(&corpus, text).unwrap();
    let mut questions = String::from(": grid\n");
    for (a, c) in (0..5).flat_map(|a| (0..5).map(move |c| (a, c))) {
        for (b, d) in (0..5).flat_map(|b| (0..5).map(move |d| (b, d))) {
            if a != c && b != d {
                questions.push_str(&format!("w{a}{b} w{a}{d} w{c}{b} w{c}{d}\n"));
            }
        }
    }
    let analogies = dir.join("grid-analogies.txt");
    std::fs::write(&analogies, questions).unwrap();
    (corpus, analogies)
}

/// `embed train` with one thread, dim 16, every word kept, no subsampling, plus `more`.
fn train(corpus: &Path, out: &Path, more: &[&str]) -> common::Run {
    let mut args = vec![
        "--threads",
        "1",
        "embed",
        "train",
        "--corpus",
        corpus.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(more);
    common::seqmodels(&args)
}

const MODEL: [&str; 8] = [
    "--dim",
    "16",
    "--min-count",
    "1",
    "--sample",
    "0",
    "--seed",
    "5",
];

/// The analogy accuracy (in %) of the vectors in `path`, as `--eval-analogies` scores it.
fn accuracy(path: &Path, analogies: &Path) -> f64 {
    let e = formats::read(path, None, None).unwrap();
    let options = EvalOptions {
        restrict_vocab: 30_000,
        ..EvalOptions::default()
    };
    100.0
        * eval::evaluate_analogies(&e, analogies, &options)
            .unwrap()
            .total
            .accuracy()
}

/// The number after `prefix` in `line`, up to the next character that is not part of it.
fn number_after(line: &str, prefix: &str) -> f64 {
    let rest = &line[line
        .find(prefix)
        .unwrap_or_else(|| panic!("{prefix} in {line}"))
        + prefix.len()..];
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    rest[..end].parse().unwrap()
}

#[test]
fn patience_stops_early_and_writes_the_best_epoch() {
    let dir = tempfile::tempdir().unwrap();
    let (corpus, analogies) = write_grid(dir.path());
    let out = dir.path().join("v.bin");
    let state = dir.path().join("state");
    let mut args = MODEL.to_vec();
    let a = analogies.to_str().unwrap();
    let s = state.to_str().unwrap();
    args.extend([
        "--epochs",
        "40",
        "--patience",
        "3",
        "--eval-analogies",
        a,
        "--state",
        s,
    ]);
    let run = train(&corpus, &out, &args);
    let closing = common::closing_line(&run);
    let stopped = number_after(closing, "stopped after epoch ") as usize;
    let kept = number_after(closing, "kept epoch ") as usize;
    assert!(
        closing.contains(": 3 epochs in a row without a better held-out score (--patience);"),
        "{closing}"
    );
    assert!(stopped < 40 && stopped == kept + 3, "{closing}");
    // The score is real: it rose from near chance to its best.
    let scores: Vec<f64> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("epoch ") && l.contains("analogy accuracy"))
        .map(|l| number_after(l, "analogy accuracy "))
        .collect();
    assert_eq!(scores.len(), stopped, "{}", run.stderr);
    let best = number_after(closing, "(analogy accuracy ");
    assert!(scores[0] < 50.0 && best > scores[0] + 30.0, "{scores:?}");
    assert_eq!(scores[kept - 1], best, "{scores:?}");
    assert!(scores[kept..].iter().all(|&s| s <= best), "{scores:?}");
    // --out holds the best epoch's vectors (scored again here), the state the last epoch's.
    assert!((accuracy(&out, &analogies) - best).abs() < 0.01);
    // The state is the last epoch's, to continue from.
    let meta = std::fs::read_to_string(state.join("meta.json")).unwrap();
    assert!(meta.contains(&format!("\"epochs\": {stopped}")), "{meta}");
}

#[test]
fn patience_needs_analogies() {
    let dir = tempfile::tempdir().unwrap();
    let (corpus, _) = write_grid(dir.path());
    let out = dir.path().join("v.bin");
    let mut args = vec![
        "embed",
        "train",
        "--corpus",
        corpus.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--patience",
        "2",
    ];
    args.extend(MODEL);
    common::fails(&args, "--patience needs --eval-analogies");
    assert!(!out.exists());
}

#[test]
fn resume_continues_the_saved_state_reproducibly() {
    let dir = tempfile::tempdir().unwrap();
    let (corpus, _) = write_grid(dir.path());
    let path = |name: &str| dir.path().join(name);
    let state = path("state");
    let s = state.to_str().unwrap();
    let mut args = MODEL.to_vec();
    args.extend(["--epochs", "2", "--state", s]);
    let first = train(&corpus, &path("v2.bin"), &args);
    assert!(common::closing_line(&first).starts_with("stopped after epoch 2: the epochs were run"));
    for file in [
        "config.json",
        "vocab.json",
        "model.safetensors",
        "meta.json",
    ] {
        assert!(state.join(file).is_file(), "{file}");
    }
    // Two resumes of the same state into other directories: the same bytes, epochs 3 and 4.
    let resume = |out: &str, into: &str| {
        let into = path(into);
        let run = train(
            &corpus,
            &path(out),
            &[
                "--resume",
                s,
                "--epochs",
                "2",
                "--state",
                into.to_str().unwrap(),
            ],
        );
        let closing = common::closing_line(&run).to_owned();
        assert!(
            closing.starts_with("stopped after epoch 4: the epochs were run"),
            "{closing}"
        );
        assert!(run.stderr.contains("epoch 3/4"), "{}", run.stderr);
        std::fs::read(into.join("model.safetensors")).unwrap()
    };
    let (a, b) = (resume("r1.bin", "r1"), resume("r2.bin", "r2"));
    assert_eq!(a, b);
    let read = |name: &str| std::fs::read(path(name)).unwrap();
    assert_eq!(read("r1.bin"), read("r2.bin"));
    assert_ne!(
        read("r1.bin"),
        read("v2.bin"),
        "the resumed run did not train"
    );
    assert_ne!(a, std::fs::read(state.join("model.safetensors")).unwrap());
    let meta = std::fs::read_to_string(path("r1").join("meta.json")).unwrap();
    assert!(meta.contains("\"epochs\": 4"), "{meta}");
    // Without --state the resumed directory itself is updated.
    let again = train(&corpus, &path("r3.bin"), &["--resume", s, "--epochs", "1"]);
    assert!(common::closing_line(&again).starts_with("stopped after epoch 3:"));
    let meta = std::fs::read_to_string(state.join("meta.json")).unwrap();
    assert!(meta.contains("\"epochs\": 3"), "{meta}");
}

#[test]
fn resume_refuses_model_options_and_wrong_directories() {
    let dir = tempfile::tempdir().unwrap();
    let (corpus, _) = write_grid(dir.path());
    let state = dir.path().join("state");
    let s = state.to_str().unwrap();
    let mut args = MODEL.to_vec();
    args.extend(["--epochs", "1", "--state", s]);
    assert!(train(&corpus, &dir.path().join("v.bin"), &args).ok);
    let out = dir.path().join("r.bin");
    let (c, o) = (corpus.to_str().unwrap(), out.to_str().unwrap());
    let base = ["embed", "train", "--corpus", c, "--out", o];
    for (flag, value) in [
        ("--dim", "8"),
        ("--window", "2"),
        ("--seed", "1"),
        ("--arch", "cbow"),
    ] {
        let mut args = base.to_vec();
        args.extend(["--resume", s, flag, value]);
        let err = common::fails(&args, "'--resume <DIR>' cannot be used with");
        assert!(err.contains(flag), "{err}");
    }
    let mut args = base.to_vec();
    args.extend(["--resume", s, "--hs"]);
    common::fails(&args, "cannot be used with");
    // A directory that is not there, not a model, of another kind, or missing its weights.
    let missing = dir.path().join("missing");
    let mut args = base.to_vec();
    args.extend(["--resume", missing.to_str().unwrap()]);
    common::fails(&args, missing.to_str().unwrap());
    let mut args = base.to_vec();
    args.extend(["--resume", dir.path().to_str().unwrap()]);
    common::fails(&args, "meta.json is missing");
    let other = dir.path().join("other");
    std::fs::create_dir(&other).unwrap();
    let meta = std::fs::read_to_string(state.join("meta.json")).unwrap();
    std::fs::write(other.join("meta.json"), meta.replace("word2vec", "charlm")).unwrap();
    let mut args = base.to_vec();
    args.extend(["--resume", other.to_str().unwrap()]);
    let err = common::fails(&args, "charlm");
    assert!(err.contains("other"), "{err}");
    std::fs::remove_file(state.join("model.safetensors")).unwrap();
    let mut args = base.to_vec();
    args.extend(["--resume", s]);
    common::fails(&args, "model.safetensors");
    assert!(!out.exists());
}
