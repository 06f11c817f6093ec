//! The line limit through the binary: `--max-line-bytes`, a long stdin line cut with a warning
//! by `classify predict` (output still in step), a long CSV field cut with a warning by
//! `classify train`, and long lines refused by line in a vector file and a corpus.

use super::common::{fails, seqmodels, seqmodels_with_input};
use super::models::classifier_dir;

#[test]
fn predict_cuts_a_long_stdin_line_with_a_warning_and_stays_in_step() {
    let model = classifier_dir();
    let mut input = b"i love you\n".to_vec();
    input.extend("word ".repeat(2000).as_bytes());
    input.extend_from_slice(b"\n\xff\npizza for dinner\n");
    let run = seqmodels_with_input(
        &[
            "classify",
            "predict",
            "--model",
            model.to_str().unwrap(),
            "--max-line-bytes",
            "4K",
        ],
        &input,
    );
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 4, "{}", run.stdout);
    assert!(!lines[0].is_empty() && !lines[1].is_empty() && !lines[3].is_empty());
    assert!(lines[2].is_empty(), "{}", run.stdout);
    assert!(
        run.stderr.contains(
            "warning: <stdin>:2: the line is 10,000 bytes; cut to its first 4 KiB (--max-line-bytes)"
        ),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("<stdin>:3: not valid UTF-8"),
        "{}",
        run.stderr
    );
}

#[test]
fn train_cuts_a_long_text_field_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let train = concat!(env!("CARGO_MANIFEST_DIR"), "/corpora/emoji/train.csv");
    let mut csv = std::fs::read_to_string(train).unwrap();
    if !csv.ends_with('\n') {
        csv.push('\n');
    }
    let line = csv.lines().count() + 1;
    csv.push_str(&format!("\"{}\",0\n", "love ".repeat(2000)));
    let path = dir.path().join("long.csv");
    std::fs::write(&path, csv).unwrap();
    let out = dir.path().join("m");
    let run = seqmodels(&[
        "-q",
        "--max-line-bytes",
        "4K",
        "classify",
        "train",
        "--train",
        path.to_str().unwrap(),
        "--model",
        "average",
        "--epochs",
        "1",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(run.ok, "{}", run.stderr);
    let warning = format!(
        "warning: {}:{line}: column 0 is 10,000 bytes; cut to its first 4 KiB (--max-line-bytes)",
        path.display()
    );
    assert!(run.stderr.contains(&warning), "{}", run.stderr);
}

#[test]
fn long_lines_of_vector_files_and_corpora_are_refused_by_line() {
    let dir = tempfile::tempdir().unwrap();
    let vectors = dir.path().join("v.txt");
    std::fs::write(&vectors, format!("{} 1 2\nb 3 4\n", "a".repeat(100_000))).unwrap();
    let v = vectors.to_str().unwrap();
    let message =
        format!("{v}:1: the line is 100,004 bytes; the limit is 64 KiB (--max-line-bytes)");
    let err = fails(
        &["embed", "similar", "-v", v, "b", "--max-line-bytes", "64K"],
        &message,
    );
    assert!(err.len() < 400, "{err}");
    // The default limit, 1 MiB, reads it.
    let run = seqmodels(&["embed", "similar", "-v", v, "b"]);
    assert!(run.ok, "{}", run.stderr);

    let names = dir.path().join("names.txt");
    std::fs::write(&names, format!("anna\n{}\nbob\n", "x".repeat(5000))).unwrap();
    let out = dir.path().join("m");
    let message = format!(
        "{}:2: the line is 5,000 bytes; the limit is 1 KiB",
        names.display()
    );
    fails(
        &[
            "--max-line-bytes",
            "1K",
            "charlm",
            "train",
            "--data",
            names.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
        &message,
    );
}

#[test]
fn the_line_limit_is_a_size() {
    fails(
        &["--max-line-bytes", "8", "dates", "generate", "-n", "1"],
        "below the 16",
    );
    fails(
        &["--max-line-bytes", "1T", "dates", "generate", "-n", "1"],
        "expected a size",
    );
    let run = seqmodels(&["dates", "generate", "-n", "1", "--max-line-bytes", "2M"]);
    assert!(run.ok, "{}", run.stderr);
}
