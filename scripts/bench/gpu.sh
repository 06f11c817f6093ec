#!/usr/bin/env bash
# Checks and figures for a machine with a CUDA GPU, in one run:
#   1. `seqmodels doctor` on every device, and the GPU tests (tests/gpu.rs, ignored elsewhere);
#   2. word2vec (dim 100, window 5, negative 5, min-count 5, sample 1e-3, 5 epochs) trained with
#      the batched libtorch trainer on the GPU and with the Hogwild trainer on all CPU cores,
#      wall time, words/s and the analogy and WordSim-353 figures of both files;
#   3. the date translator (`dates` preset, 80,000 wide pairs) trained for EPOCHS epochs on the GPU
#      and on the CPU, seconds per epoch and held-out exact match, then decoding speed.
#
# usage: scripts/bench/gpu.sh [CORPUS(.gz)] [ANALOGIES] [WORDSIM] [EPOCHS=2]
# env:   SEQMODELS_BIN        the binary (default: target/release/seqmodels, built here)
#        SEQMODELS_GPU_TESTS  a built tests/gpu binary (default: cargo test --release --test gpu)
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
data=../shared/data
corpus="${1:-$data/corpora/english_mix/english_mix.txt.gz}"
analogies="${2:-$data/embedding_eval/gensim/questions-words.txt}"
wordsim="${3:-$data/embedding_eval/gensim/wordsim353.tsv}"
epochs="${4:-2}"
bin="${SEQMODELS_BIN:-target/release/seqmodels}"
if [ -z "${SEQMODELS_BIN:-}" ]; then
    ./scripts/setup.sh && cargo build --release --quiet || exit 1
fi
cores=$(nproc)
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
step() { printf '\n==> %s\n' "$*"; }
# Runs a command under `timeout LIMIT` and prints its wall time.
timed() {
    local limit=$1 start rc
    shift
    start=$(date +%s.%N)
    timeout "$limit" "$@"
    rc=$?
    awk -v a="$start" -v b="$(date +%s.%N)" -v rc="$rc" 'BEGIN { printf "    (%.1f s wall, rc %d)\n", b - a, rc }'
}

step "machine"
nvidia-smi -L 2>&1
echo "$cores CPU cores"

step "seqmodels doctor (every device)"
"$bin" doctor

step "GPU tests"
if [ -n "${SEQMODELS_GPU_TESTS:-}" ]; then
    SEQMODELS_BIN="$bin" timeout 400 "$SEQMODELS_GPU_TESTS" --ignored --test-threads 1
else
    timeout 400 cargo test --release --test gpu -- --ignored --test-threads 1
fi

step "word2vec on $corpus: GPU (batched libtorch) and CPU ($cores Hogwild threads)"
settings=(--dim 100 --window 5 --negative 5 --min-count 5 --sample 1e-3 --epochs 5 --seed 1)
for device in cuda cpu; do
    timed 240 "$bin" --threads "$cores" embed train --corpus "$corpus" \
        --out "$work/w2v-$device.bin" "${settings[@]}" --device "$device"
    [ -f "$work/w2v-$device.bin" ] &&
        "$bin" embed eval --vectors "$work/w2v-$device.bin" --analogies "$analogies" \
            --pairs "$wordsim" 2>&1 | grep -E -i "total|spearman|wordsim"
done

step "date translator, dates preset, 80,000 wide pairs, $epochs epoch(s): GPU and CPU ($cores threads)"
"$bin" dates generate -n 80000 --seed 2026 --formats wide > "$work/train.tsv"
"$bin" dates generate -n 5000 --seed 900002 --formats wide > "$work/test.tsv"
for device in cuda cpu; do
    timed 240 "$bin" --threads "$cores" seq2seq train --pairs "$work/train.tsv" --preset dates \
        --epochs "$epochs" --seed 2026 --device "$device" --out "$work/dates-$device"
done

step "decoding speed, built-in model, 5,000 wide pairs"
for device in cuda cpu; do
    for beam in 1 5; do
        echo "$device, beam $beam:"
        "$bin" -q --threads "$cores" seq2seq eval --pairs "$work/test.tsv" --beam-width "$beam" \
            --batch-size 1024 --device "$device"
    done
done
