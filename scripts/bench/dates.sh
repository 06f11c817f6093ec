#!/usr/bin/env bash
# Measures the built-in dates model and the training speed of seqmodels against PyTorch.
#
# 1. Quality of the built-in model on 5,000 fresh pairs per format set (seeds never used in
#    training): exact match and valid dates, greedy vs beam 5, constrained vs not, per format.
# 2. Training speed: the course-size model on the same 10,000 course pairs, same
#    hyper-parameters and threads, in seqmodels and in scripts/bench/dates_torch.py (the same
#    model in PyTorch, on the torch 2.13.0 that setup installed); seconds per epoch and ratio.
#
# usage: scripts/bench/dates.sh [EPOCHS=3] [THREADS=2]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
epochs="${1:-3}"
threads="${2:-2}"
source scripts/bench/common.sh

echo "== built-in dates model: 5,000 fresh pairs per format set"
"$bin" dates generate -n 5000 --seed 900001 --formats course --with-format -o "$work/course.tsv"
"$bin" dates generate -n 5000 --seed 900002 --formats wide --with-format -o "$work/wide.tsv"
for set in course wide; do
    echo "-- $set, greedy, calendar-constrained"
    "$bin" seq2seq eval --pairs "$work/$set.tsv" --beam-width 1 --threads "$threads"
    echo "-- $set, beam 5, calendar-constrained"
    "$bin" seq2seq eval --pairs "$work/$set.tsv" --beam-width 5 --threads "$threads" | sed -n 1p
    echo "-- $set, greedy, unconstrained"
    "$bin" seq2seq eval --pairs "$work/$set.tsv" --beam-width 1 --no-constrain --threads "$threads" | sed -n 1p
done

echo
echo "== training speed: course-size model, 10,000 course pairs, $epochs epochs, $threads threads"
"$bin" dates generate -n 10000 --seed 424242 --formats course -o "$work/train.tsv"
"$bin" -q seq2seq train --pairs "$work/train.tsv" --preset course --epochs "$epochs" \
    --batch-size 64 --lr 5e-3 --clip-norm 1.0 --threads "$threads" --device cpu \
    --out "$work/course-model" | tee "$work/rust.txt"
# The peer alone runs without this machine's OpenBLAS overrides (they slow numpy).
py scripts/bench/dates_torch.py "$work/train.tsv" \
    --epochs "$epochs" --batch-size 64 --lr 5e-3 --clip-norm 1.0 --threads "$threads" | tee "$work/torch.txt"
rust=$(sed -n 's/.*(\([0-9.]*\) s\/epoch).*/\1/p' "$work/rust.txt")
torch=$(awk '/pytorch_epoch_seconds/ {s += $2; n++} END {printf "%.3f", s / n}' "$work/torch.txt")
echo "seconds per epoch: seqmodels $rust, PyTorch $torch; PyTorch / seqmodels = $(awk -v a="$torch" -v b="$rust" 'BEGIN {printf "%.2f", a / b}')"
