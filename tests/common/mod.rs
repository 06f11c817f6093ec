//! What the integration tests share: running the built `seqmodels` binary, the lock on
//! libtorch's global generator, small seeded data.

#![allow(dead_code)] // Each test file uses its own part.

use std::io::Write;
use std::process::{Command, Stdio};

/// What one run of the binary did.
pub struct Run {
    pub ok: bool,
    /// The exit code (`None` when a signal ended it); clap's usage errors exit with 2.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// The binary under test: `SEQMODELS_BIN` when set (a binary built elsewhere, as
/// `scripts/bench/gpu.sh` uses), else the one cargo built with these tests.
fn bin() -> String {
    std::env::var("SEQMODELS_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_seqmodels").to_owned())
}

/// Runs `seqmodels ARGS` with `stdin` as its standard input.
pub fn seqmodels_with_input(args: &[&str], stdin: &[u8]) -> Run {
    let mut child = Command::new(bin())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the seqmodels binary runs");
    child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(stdin)
        .expect("stdin takes the input");
    let out = child.wait_with_output().expect("the seqmodels binary ends");
    let s = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    Run {
        ok: out.status.success(),
        code: out.status.code(),
        stdout: s(&out.stdout),
        stderr: s(&out.stderr),
    }
}

/// Runs `seqmodels ARGS` with an empty standard input.
pub fn seqmodels(args: &[&str]) -> Run {
    seqmodels_with_input(args, b"")
}

/// The arguments of a quiet, one-thread `seqmodels embed train` of `corpus` into `out`, with
/// 16 dimensions, every word kept and 3 epochs, then `flags` (the seed and the model's options).
pub fn embed_train_args<'a>(
    corpus: &'a std::path::Path,
    out: &'a std::path::Path,
    flags: &[&'a str],
) -> Vec<&'a str> {
    let mut args = vec![
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
        "16",
        "--min-count",
        "1",
        "--epochs",
        "3",
    ];
    args.extend_from_slice(flags);
    args
}

/// Runs `seqmodels ARGS`, which must fail with an error that contains `needle`, and without a
/// panic; returns its standard error.
pub fn fails(args: &[&str], needle: &str) -> String {
    let run = seqmodels(args);
    assert!(!run.ok, "{args:?} succeeded");
    assert!(run.stderr.contains(needle), "{args:?}: {}", run.stderr);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    run.stderr
}

/// The line a training run that succeeded ends with on stderr ("stopped after epoch N: why;
/// kept epoch M ..."), printed unless `--quiet` even when stderr is not a terminal.
pub fn closing_line(run: &Run) -> &str {
    assert!(run.ok, "training failed:\n{}{}", run.stdout, run.stderr);
    run.stderr
        .lines()
        .find(|l| l.starts_with("stopped after epoch "))
        .unwrap_or_else(|| panic!("no line starting `stopped after epoch` in\n{}", run.stderr))
}

/// Holds libtorch's global random generator for this test: the library's own lock
/// ([`seqmodels::device::torch_rng_lock`]), which its unit tests take too. Take it around
/// anything that seeds libtorch or draws from it (training, building a model), or another test
/// running in a parallel thread can reseed it or draw from it in between.
pub fn torch_rng() -> seqmodels::device::TorchRngGuard {
    seqmodels::device::torch_rng_lock()
}

/// Sets `training.NAME` in the `meta.json` of the model directory `dir` to `value`.
pub fn set_training_figure(dir: &std::path::Path, name: &str, value: f64) {
    let path = dir.join("meta.json");
    let mut meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    meta["training"][name] = serde_json::json!(value);
    std::fs::write(&path, serde_json::to_string_pretty(&meta).unwrap()).unwrap();
}

/// A small seeded generator (a 64-bit linear congruential one), so the tests need no
/// random-number crate and the binary's own generator stays out of their data.
pub struct Lcg(pub u64);

impl Lcg {
    /// The next number in `0..k`.
    pub fn below(&mut self, k: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % k
    }
}

/// `seq2seq train --task pairs` sizes for a model of the toy pairs: small enough to learn them
/// in seconds.
pub const TOY_MODEL: [&str; 8] = [
    "--embed",
    "16",
    "--hidden",
    "32",
    "--dropout",
    "0",
    "--max-len",
    "8",
];

/// `n` pairs of a toy language pair: 2 to 5 words `sN` (N < 8), and the target is the source
/// reversed, word by word translated ("s3 s1 s4" -> "t4 t1 t3").
pub fn toy_pairs(n: usize, seed: u64) -> Vec<(String, String)> {
    let mut rng = Lcg(seed);
    (0..n)
        .map(|_| {
            let words: Vec<u64> = (0..2 + rng.below(4)).map(|_| rng.below(8)).collect();
            let src: Vec<String> = words.iter().map(|w| format!("s{w}")).collect();
            let tgt: Vec<String> = words.iter().rev().map(|w| format!("t{w}")).collect();
            (src.join(" "), tgt.join(" "))
        })
        .collect()
}
