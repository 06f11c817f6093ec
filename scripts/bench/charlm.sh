#!/usr/bin/env bash
# seqmodels charlm on real data, next to published anchors and a PyTorch script of the same model.
#
#   1. makemore's names.txt, 1,000 names held out (seed 42): an LSTM trained for NAMES_BUDGET,
#      held-out nats/char after every epoch with the training time so far. makemore's anchors on
#      this data: bigram 2.48, MLP 2.10, WaveNet-style 1.99, transformer about 1.92.
#   2. Throughput: the same LSTM, batch and threads, THROUGHPUT seconds of training each for
#      seqmodels and scripts/bench/charlm_torch.py (PyTorch), in this run: characters per second.
#   3. tiny-shakespeare, 90/10 split as nanoGPT, a two-layer LSTM for SHAKESPEARE_BUDGET
#      (nanoGPT's CPU configuration reaches 1.88); 0 skips it.
#   4. dinos.txt with the course's `dinosaur` preset, and ten samples.
#
# usage: scripts/bench/charlm.sh [NAMES_BUDGET=10m] [SHAKESPEARE_BUDGET=0] [THROUGHPUT=60] [THREADS=2]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
data=../shared/data/charlm
names_budget="${1:-10m}"
shakespeare_budget="${2:-0}"
throughput="${3:-60}"
threads="${4:-2}"
source scripts/bench/common.sh

py - "$data/makemore_names/names.txt" "$work" <<'PY'
import random, sys
lines = [l.strip() for l in open(sys.argv[1], encoding="utf-8") if l.strip()]
random.Random(42).shuffle(lines)
open(f"{sys.argv[2]}/names-valid.txt", "w").write("\n".join(lines[:1000]) + "\n")
open(f"{sys.argv[2]}/names-train.txt", "w").write("\n".join(lines[1000:]) + "\n")
text = open(sys.argv[1].replace("makemore_names/names.txt", "tinyshakespeare/input.txt"), encoding="utf-8").read()
cut = int(0.9 * len(text))
open(f"{sys.argv[2]}/shakespeare-train.txt", "w").write(text[:cut])
open(f"{sys.argv[2]}/shakespeare-valid.txt", "w").write(text[cut:])
PY
echo "names: $(wc -l < "$work/names-train.txt") training and $(wc -l < "$work/names-valid.txt") held-out names; $threads threads"

# The names model: one-layer LSTM, embedding 64, 512 hidden, dropout 0.1, batch 64,
# Adam 2e-3 falling linearly to 2e-4 over the budget, gradients clipped at norm 1.
names_model=(--unit line --cell lstm --embed 64 --hidden 512 --layers 1 --dropout 0.1 --batch-size 64)

echo
echo "== 1. names, LSTM, $names_budget of training"
"$bin" --threads "$threads" charlm train --data "$work/names-train.txt" --valid "$work/names-valid.txt" \
    --out "$work/names" "${names_model[@]}" --lr 2e-3 --lr-min 2e-4 --time-budget "$names_budget" \
    --device cpu 2>&1 | grep -E "^(epoch|trained)"
"$bin" charlm eval --model "$work/names" --data "$work/names-valid.txt" --device cpu
"$bin" charlm sample --model "$work/names" -n 10 --seed 1 --stats --data "$work/names-train.txt" --device cpu

echo
echo "== 2. throughput, the same LSTM, ${throughput} s of training each, constant lr 2e-3"
"$bin" --threads "$threads" charlm train --data "$work/names-train.txt" --valid "$work/names-valid.txt" \
    --out "$work/names-speed" "${names_model[@]}" --lr 2e-3 --time-budget "${throughput}s" --device cpu \
    > "$work/ours.txt" 2>&1
py scripts/bench/charlm_torch.py --train "$work/names-train.txt" --valid "$work/names-valid.txt" \
    --unit line --embed 64 --hidden 512 --layers 1 --dropout 0.1 --batch 64 --lr 2e-3 \
    --threads "$threads" --seed 42 --time-budget "$throughput" > "$work/torch.json"
ours=$(sed -n 's/.* s (\([0-9]*\) chars\/s).*/\1/p' "$work/ours.txt")
theirs=$(py -c "import json; print(round(json.load(open('$work/torch.json'))['chars_per_sec']))")
echo "seqmodels ${ours} chars/s; PyTorch ${theirs} chars/s; seqmodels / PyTorch = $(awk -v a="$ours" -v b="$theirs" 'BEGIN {printf "%.2f", a / b}')"
echo "PyTorch: $(cat "$work/torch.json")"

if [ "$shakespeare_budget" != "0" ]; then
    echo
    echo "== 3. tiny-shakespeare, two-layer LSTM, $shakespeare_budget of training"
    "$bin" --threads "$threads" charlm train --data "$work/shakespeare-train.txt" \
        --valid "$work/shakespeare-valid.txt" --out "$work/shakespeare" --unit text --cell lstm \
        --embed 64 --hidden 512 --layers 2 --dropout 0.2 --seq-len 128 --batch-size 32 \
        --lr 2e-3 --lr-min 2e-4 --time-budget "$shakespeare_budget" --device cpu 2>&1 | grep -E "^(epoch|trained)"
    "$bin" charlm sample --model "$work/shakespeare" -n 1 --prefix "ROMEO:" --max-len 300 --temperature 0.8 --device cpu
fi

echo
echo "== 4. dinos.txt, the course's dinosaur preset (vanilla RNN, 50 hidden, SGD, clip value 5)"
"$bin" --threads 1 charlm train --data "$data/dinos/dinos.txt" --out "$work/dino" --preset dinosaur \
    --device cpu 2>&1 | grep -E "^trained"
"$bin" charlm sample --model "$work/dino" -n 10 --seed 7 --stats --data "$data/dinos/dinos.txt" --device cpu
