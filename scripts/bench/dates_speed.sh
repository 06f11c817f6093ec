#!/usr/bin/env bash
# Decoding speed of the built-in dates model against the model built in before #22 (commit
# 99737b6), on the same binary and the same inputs: generated `wide` dates, one thread, greedy
# and beam 5, the two models alternated ROUNDS times. Prints, per run, inputs per second (wall
# time, start-up included) and, when `perf stat` can count this process's instructions,
# instructions per input (start-up excluded: the instructions of a run on one input are taken
# off). Instruction counts hardly move with the load of a shared machine; wall time does, so
# read it on a quiet one. Prints figures and asserts nothing.
#
# With BASELINE_BIN=PATH (a seqmodels binary built at another commit, e.g. 99737b6), the
# 99737b6 model is also run on that binary, in the same rounds.
#
# usage: scripts/bench/dates_speed.sh [ROUNDS=3] [INPUTS=12000]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
rounds="${1:-3}"
n="${2:-12000}"
source scripts/bench/common.sh

"$bin" dates generate -n "$n" --seed 777 --formats wide | cut -f1 > "$work/inputs.txt"
head -n 1 "$work/inputs.txt" > "$work/one.txt"
mkdir -p "$work/before"
for f in config.json vocab.json model.safetensors meta.json; do
    git show "99737b6:models/dates/$f" > "$work/before/$f"
done

counts=no
if perf stat -x, -e instructions:u -o "$work/probe" true 2>/dev/null \
    && grep -q '^[0-9]' "$work/probe"; then
    counts=yes
fi

# instructions BINARY INPUT ARGS...: user-space instructions of one translate run ("" without perf).
instructions() {
    local binary="$1" input="$2"
    shift 2
    if [ "$counts" = no ]; then
        "$binary" --threads 1 translate "$@" < "$input" > /dev/null 2>&1 || true
        echo ""
        return
    fi
    perf stat -x, -e instructions:u -o "$work/stat" -- \
        "$binary" --threads 1 translate "$@" < "$input" > /dev/null 2>&1 || true
    awk -F, '/instructions/ {print $1}' "$work/stat"
}

# run LABEL BINARY ARGS...: one timed run over the inputs, and its figures.
run() {
    local label="$1" binary="$2"
    shift 2
    local start end total one
    start=$(date +%s.%N)
    total=$(instructions "$binary" "$work/inputs.txt" "$@")
    end=$(date +%s.%N)
    one=$(instructions "$binary" "$work/one.txt" "$@")
    awk -v label="$label" -v n="$n" -v s="$start" -v e="$end" -v total="$total" -v one="$one" 'BEGIN {
        per = (total == "" || one == "") ? "n/a" : sprintf("%.0f", (total - one) / (n - 1))
        printf "%-34s %8.0f inputs/s %12s instructions/input\n", label, n / (e - s), per
    }'
}

echo "== $n generated wide dates (seed 777), one thread; binary $bin"
[ "$counts" = yes ] || echo "(perf stat cannot count instructions here: instructions shown as n/a)"
for width in 1 5; do
    echo "-- beam width $width"
    for round in $(seq "$rounds"); do
        run "round $round: built-in model" "$bin" --beam-width "$width"
        run "round $round: 99737b6 model" "$bin" --beam-width "$width" --model "$work/before"
        if [ -n "${BASELINE_BIN:-}" ]; then
            run "round $round: 99737b6 model, baseline bin" "$BASELINE_BIN" \
                --beam-width "$width" --model "$work/before"
        fi
    done
done
