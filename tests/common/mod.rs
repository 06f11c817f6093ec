//! Running the built `seqmodels` binary from integration tests.

#![allow(dead_code)] // Each test file uses its own part.

use std::io::Write;
use std::process::{Command, Stdio};

/// What one run of the binary did.
pub struct Run {
    pub ok: bool,
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
        stdout: s(&out.stdout),
        stderr: s(&out.stderr),
    }
}

/// Runs `seqmodels ARGS` with an empty standard input.
pub fn seqmodels(args: &[&str]) -> Run {
    seqmodels_with_input(args, b"")
}
