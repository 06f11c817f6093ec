//! Runs the built `seqmodels` binary.

mod common;

use common::seqmodels;

#[test]
fn help_lists_the_commands() {
    let out = seqmodels(&["--help"]);
    assert!(out.ok);
    let help = out.stdout;
    for group in [
        "doctor",
        "embed",
        "classify",
        "charlm",
        "seq2seq",
        "translate",
        "dates",
    ] {
        assert!(help.contains(group), "{group} missing from\n{help}");
    }
    assert!(help.contains("--threads"), "{help}");
}

#[test]
fn version_is_the_crate_version() {
    let out = seqmodels(&["--version"]);
    assert!(out.ok);
    assert_eq!(
        out.stdout.trim(),
        format!("seqmodels {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn doctor_reports_libtorch_and_checks_the_cpu() {
    let out = seqmodels(&["doctor", "--device", "cpu", "--threads", "1"]);
    let stdout = out.stdout;
    assert!(out.ok, "{stdout}{}", out.stderr);
    assert!(stdout.contains("libtorch  2.13.0"), "{stdout}");
    assert!(stdout.contains("threads   1"), "{stdout}");
    assert!(stdout.contains("check cpu     ok"), "{stdout}");
}

#[test]
fn doctor_on_a_missing_gpu_is_a_one_line_error() {
    let out = seqmodels(&["doctor", "--device", "cuda:63"]);
    assert!(!out.ok);
    let stderr = out.stderr;
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("error: device cuda:63 is not available"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn a_bad_device_string_is_rejected() {
    let out = seqmodels(&["doctor", "--device", "gpu:x"]);
    assert_eq!(out.code, Some(2));
    assert!(out.stderr.contains("expected auto, cpu, cuda or cuda:N"));
}

#[test]
fn counts_beyond_their_limit_are_refused_before_anything_runs() {
    for (args, says) in [
        (
            &["--threads", "2147483648", "doctor", "--device", "cpu"][..],
            "2147483648 is more than the 1024 allowed",
        ),
        (
            &["dates", "generate", "-n", "18446744073709551615"][..],
            "is more than the 10000000 allowed",
        ),
    ] {
        let out = seqmodels(args);
        assert_eq!(out.code, Some(2), "{args:?}");
        let err = out.stderr;
        assert!(err.contains(says) && !err.contains("panicked"), "{err}");
    }
}

#[test]
fn bleu_scores_files_and_refuses_a_line_mismatch() {
    let dir = tempfile::tempdir().unwrap();
    let hyp = dir.path().join("hyp.txt");
    let reference = dir.path().join("ref.txt");
    std::fs::write(&hyp, "the cat sat on the mat .\n\na dog runs\n").unwrap();
    std::fs::write(
        &reference,
        "the cat sat on the mat.\nsome words\na dog runs\n",
    )
    .unwrap();
    let (h, r) = (hyp.to_str().unwrap(), reference.to_str().unwrap());
    let out = seqmodels(&["seq2seq", "bleu", "--hyp", h, "--ref", r]);
    assert!(out.ok, "{}", out.stderr);
    // 10 hypothesis tokens against 12 reference tokens ("mat." is split by 13a).
    let line = out.stdout;
    assert!(
        line.starts_with("BLEU = ") && line.contains("hyp_len = 10 ref_len = 12"),
        "{line}"
    );
    std::fs::write(&hyp, "one line\n").unwrap();
    let out = seqmodels(&["seq2seq", "bleu", "--hyp", h, "--ref", r]);
    assert!(!out.ok);
    assert!(out.stderr.contains("hyp.txt has 1 lines"), "{}", out.stderr);
}
