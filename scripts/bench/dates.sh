#!/usr/bin/env bash
# Measures the built-in dates model and the training speed of seqmodels against PyTorch.
#
# 0. Dates as people write them: the built-in model, dateutil and dateparser (installed into the
#    setup venv) on the hand-made files of scripts/bench/dates/ (kept out of every training
#    run), one table of exact match per file per tool and the share of non-dates refused; then
#    the speed of all of them, and of the model built in before #22 (commit 99737b6), on the
#    same inputs (those of at most 40 characters, which the older model reads, 20 times over).
# 1. Quality of the built-in model on 5,000 fresh pairs per format set (seeds never used in
#    training): exact match and valid dates, greedy vs beam 5, constrained vs not, per format.
# 2. Training speed: the course-size model on the same 10,000 course pairs, same
#    hyper-parameters and threads, in seqmodels and in scripts/bench/dates_torch.py (the same
#    model in PyTorch, on the torch 2.13.0 that setup installed); seconds per epoch and ratio.
#
# usage: scripts/bench/dates.sh [EPOCHS=3] [THREADS=2]   (EPOCHS=0 leaves out part 2)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
epochs="${1:-3}"
threads="${2:-2}"
source scripts/bench/common.sh

echo "== hand-made files (scripts/bench/dates/): exact match; an empty expected answer must be refused"
need dateutil python-dateutil==2.9.0.post0
need dateparser dateparser==1.5.0
files=scripts/bench/dates
for f in real-world misspelt centuries not-dates; do
    "$bin" seq2seq eval --pairs "$files/$f.tsv" --beam-width 1 --threads "$threads" \
        --output "$work/$f.out" 2>/dev/null | sed "s/^/$f: /"
done
cut -f 1 "$files"/{real-world,misspelt,centuries,not-dates}.tsv | awk 'length($0) <= 40' > "$work/short.txt"
for _ in $(seq 20); do cat "$work/short.txt"; done > "$work/speed.txt"
py scripts/bench/dates_rules.py --files "$files" --outputs "$work" --speed "$work/speed.txt"
echo "-- day-first.tsv: seqmodels --day-first, dateutil dayfirst=True, dateparser DATE_ORDER DMY"
"$bin" seq2seq eval --pairs "$files/day-first.tsv" --day-first --beam-width 1 --threads "$threads" \
    --output "$work/day-first.out" 2>/dev/null | sed "s/^/day-first: /"
py scripts/bench/dates_rules.py --files "$files" --outputs "$work" --names day-first --day-first
mkdir -p "$work/before"
for f in config.json vocab.json model.safetensors meta.json; do
    git show "99737b6:models/dates/$f" > "$work/before/$f"
done
for model in built-in before; do
    args=(); [ "$model" = before ] && args=(--model "$work/before")
    start=$(date +%s.%N)
    "$bin" --threads "$threads" translate "${args[@]}" --beam-width 1 < "$work/speed.txt" > /dev/null 2>&1 || true
    end=$(date +%s.%N)
    echo "speed: seqmodels $model model $(awk -v n="$(wc -l < "$work/speed.txt")" -v s="$start" -v e="$end" \
        'BEGIN {printf "%.0f", n / (e - s)}') inputs/s ($(wc -l < "$work/speed.txt") inputs, greedy, $threads threads, start-up included)"
done

echo
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

[ "$epochs" -gt 0 ] || exit 0
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
