#!/usr/bin/env bash
# Sets everything up and runs the checks CI runs: formatting, lints and the test suite.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
step() { printf '\n==> %s\n' "$*" >&2; }

step "setup (libtorch from the torch==2.13.0 wheel)"
./scripts/setup.sh
step "cargo fmt --check"
cargo fmt --all -- --check
step "cargo clippy --all-targets -- -D warnings"
cargo clippy --all-targets --quiet -- -D warnings
step "the library alone (--no-default-features: no clap, indicatif or plotters)"
cargo clippy --lib --no-default-features --quiet -- -D warnings
step "cargo doc --no-deps (warnings are errors: broken or private doc links)"
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --quiet
step "cargo test"
cargo test
