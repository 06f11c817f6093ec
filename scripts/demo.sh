#!/usr/bin/env bash
# Sets everything up, builds the release binary and runs the main job.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
step() { printf '\n==> %s\n' "$*" >&2; }

step "setup (libtorch from the torch==2.13.0 wheel)"
./scripts/setup.sh
step "cargo build --release"
cargo build --release
bin=target/release/seqmodels

step "seqmodels doctor: versions, devices and a numerical check on each"
"$bin" doctor
