#!/usr/bin/env bash
# Sets everything up, builds the release binary and runs the main job: translating
# human-written dates with the built-in attention model.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
step() { printf '\n==> %s\n' "$*" >&2; }

step "setup (libtorch from the torch==2.13.0 wheel)"
./scripts/setup.sh
step "cargo build --release"
cargo build --release
bin=target/release/seqmodels

step "seqmodels doctor"
"$bin" doctor

step "seqmodels translate: the course's examples, beam width 5, calendar-constrained"
examples=("3 May 1979" "5 April 09" "21th of August 2016" "Tue 10 Jul 2007" "Saturday May 9 2018"
          "March 3 2001" "March 3rd 2001" "1 March 2001" "4th of july 2001")
"$bin" translate --format tsv "${examples[@]}" | awk -F'\t' '{printf "%-22s %s\n", $1, $3}'

step "three best hypotheses with their length-normalised scores"
"$bin" translate --n-best 3 --beam-width 5 "the 4th of july 1976"

step "where the model looked (rows: output characters, columns: input characters)"
"$bin" translate --attention - "Tuesday 10 July 2007"

step "a file of dates, streamed through stdin"
dates_file="$(mktemp)"
trap 'rm -f "$dates_file"' EXIT
"$bin" dates generate -n 5 --seed 7 --formats wide | cut -f 1 > "$dates_file"
"$bin" translate --format tsv < "$dates_file" | cut -f 1,3
