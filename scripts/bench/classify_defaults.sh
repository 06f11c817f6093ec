#!/usr/bin/env bash
# `seqmodels classify train` as a new user runs it (issue #21): the no-flags defaults against
# the recipes a user would otherwise have to find, on Emojify (132 training sentences, the 56
# of tesss.csv to test) over 100-dimensional vectors from `embed train` on english_mix, over
# SEEDS classifier seeds; the same with a fastText subword model as --embeddings (and its words
# alone, to show what the n-grams add); and SST-2's no-flags runs, to show that larger data keeps
# its defaults. Prints the figures; asserts nothing.
#
# usage: scripts/bench/classify_defaults.sh [VECTORS] [SEEDS=3] [SUBWORDS.bin] [PARTS="emojify subwords sst"]
#   VECTORS: word2vec vectors; by default trained once as issue #21 did (`embed train`, dim 100,
#     5 epochs, --seed 1, 2 threads; 2-4 min) and kept in $SEQMODELS_HOME/bench/.
#   SUBWORDS.bin: a fastText model; by default, when Debian's `fasttext` is installed, trained
#     once (`fasttext skipgram -dim 100 -epoch 5 -minn 3 -maxn 6 -thread 2`, a few minutes).
#   BEFORE=/path/to/seqmodels (environment): also run the no-flags cases with that binary (the
#     defaults before a change), on the same vectors and seeds.
#   SST_SEEDS (environment, default 1): seeds of the SST-2 runs (an LSTM run takes minutes).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
data=../shared/data
vectors="${1:-}"
seeds="${2:-3}"
subwords="${3:-}"
parts="${4:-emojify subwords sst}"
threads="${THREADS:-2}"
source scripts/bench/common.sh

corpus() {
    [ -f "$work/corpus.txt" ] || gzip -dc "$data/corpora/english_mix/english_mix.txt.gz" > "$work/corpus.txt"
    echo "$work/corpus.txt"
}
mkdir -p "$home/bench"
if [ -z "$vectors" ]; then
    vectors="$home/bench/english_mix-100d-5ep-seed1.bin"
    if [ ! -f "$vectors" ]; then
        echo "training 100-dimensional vectors on english_mix (once) ..." >&2
        "$bin" -q --threads "$threads" embed train --corpus "$(corpus)" --out "$vectors.tmp" \
            --format bin --dim 100 --epochs 5 --seed 1
        mv "$vectors.tmp" "$vectors"
    fi
fi
if [ -z "$subwords" ] && command -v fasttext > /dev/null && [[ " $parts " == *" subwords "* ]]; then
    subwords="$home/bench/english_mix-fasttext100.bin"
    if [ ! -f "$subwords" ]; then
        echo "training a fastText subword model on english_mix (once) ..." >&2
        fasttext skipgram -input "$(corpus)" -output "$work/ft" -dim 100 -epoch 5 -minn 3 \
            -maxn 6 -thread "$threads" > /dev/null
        mv "$work/ft.bin" "$subwords"
    fi
fi
words=""
if [ -n "$subwords" ]; then
    # The model's own words alone (word2vec text): what the n-grams add is the difference.
    words="$home/bench/$(basename "$subwords" .bin)-words.txt"
    [ -f "$words" ] || "$bin" -q embed convert --vectors "$subwords" --out "$words"
fi
echo "vectors: $vectors; subwords: ${subwords:-none}; $seeds seed(s); $threads threads"

# mean (min-max, sd; n seeds: each) of the numbers given
stats() {
    python3 -c 'import statistics as s, sys
v = [float(x) for x in sys.argv[1:]]
sd = s.stdev(v) if len(v) > 1 else 0.0
each = " / ".join(sys.argv[1:])
print(f"{s.mean(v):.2f}% ({min(v):.2f}-{max(v):.2f}, sd {sd:.2f}; seeds: {each})")' "$@"
}
accuracy() {
    python3 -c 'import json, sys; print("%.2f" % (100 * json.load(sys.stdin)["accuracy"]))'
}
# row LABEL BINARY VECTORS TRAIN TEST [FLAGS...]: trains over the seeds, tests each model once
row() {
    local label="$1" binary="$2" vec="$3" train="$4" test="$5" accs=() seed out
    shift 5
    for seed in $(seq "$seeds"); do
        out="$work/m-$seed"
        rm -rf "$out"
        "$binary" -q --threads "$threads" classify train --train "$train" --embeddings "$vec" \
            --device cpu --seed "$seed" --out "$out" "$@" > "$work/train.txt" 2> "$work/train.err"
        accs+=("$("$binary" classify eval --model "$out" --data "$test" --format json | accuracy)")
    done
    printf '| %s | `%s` | %s |\n' "$label" "${*:-(no flags)}" "$(stats "${accs[@]}")"
    sed -n 's/.*; \([0-9.]*% of the training words[^;]*\);.*/  coverage: \1/p' "$work/train.txt" | head -1 >&2
}

E="$data/emojify"
if [[ " $parts " == *" emojify "* ]]; then
    echo
    echo "## Emojify: 132 training sentences, test accuracy on the 56 of tesss.csv, seeds 1-$seeds"
    echo
    echo "| case | flags | test accuracy: mean (min-max, sd; each seed) |"
    echo "|---|---|---|"
    if [ -n "${BEFORE:-}" ]; then
        row "before: no flags" "$BEFORE" "$vectors" "$E/train_emoji.csv" "$E/tesss.csv"
        row "before: average, its defaults" "$BEFORE" "$vectors" "$E/train_emoji.csv" "$E/tesss.csv" --model average
    fi
    row "no flags" "$bin" "$vectors" "$E/train_emoji.csv" "$E/tesss.csv"
    row "average, its defaults" "$bin" "$vectors" "$E/train_emoji.csv" "$E/tesss.csv" --model average
    row "lstm, its defaults" "$bin" "$vectors" "$E/train_emoji.csv" "$E/tesss.csv" --model lstm
    row "V1 recipe" "$bin" "$vectors" "$E/train_emoji.csv" "$E/tesss.csv" --model average --epochs 400 --lr 0.01 --valid-fraction 0
    row "V2 recipe" "$bin" "$vectors" "$E/train_emoji.csv" "$E/tesss.csv" --model lstm --epochs 50 --valid-fraction 0
fi

if [[ " $parts " == *" subwords "* ]] && [ -n "$subwords" ]; then
    echo
    echo "## Emojify over the fastText model: its words alone, then with their n-grams"
    echo
    echo "| case | flags | test accuracy |"
    echo "|---|---|---|"
    row "fastText words only, no flags" "$bin" "$words" "$E/train_emoji.csv" "$E/tesss.csv"
    row "fastText .bin (subwords), no flags" "$bin" "$subwords" "$E/train_emoji.csv" "$E/tesss.csv"
fi

if [[ " $parts " == *" sst "* ]]; then
    S="$data/sentiment/sst"
    sst_seeds="${SST_SEEDS:-1}"
    echo
    echo "## SST-2: 6,920 training sentences (the defaults of before: LSTM, dev file), seeds 1-$sst_seeds"
    echo
    echo "| case | flags | test accuracy |"
    echo "|---|---|---|"
    seeds_all="$seeds"
    seeds="$sst_seeds"
    sst() {
        local label="$1" binary="$2" vec="$3"
        shift 3
        row "$label" "$binary" "$vec" "$S/stsa.binary.train" "$S/stsa.binary.test" --valid "$S/stsa.binary.dev" "$@"
    }
    if [ -n "${BEFORE:-}" ]; then
        sst "before: average, its defaults" "$BEFORE" "$vectors" --model average
        sst "before: no flags" "$BEFORE" "$vectors"
    fi
    sst "average, its defaults" "$bin" "$vectors" --model average
    sst "no flags" "$bin" "$vectors"
    if [ -n "$subwords" ]; then
        sst "fastText words only, average" "$bin" "$words" --model average
        sst "fastText .bin (subwords), average" "$bin" "$subwords" --model average
    fi
    seeds="$seeds_all"
fi
