#!/usr/bin/env bash
# seqmodels' word2vec against gensim's, same corpus, same settings, runs alternated.
#
# Trains MODEL (dim 100, window 5, min-count 5, sample 1e-3, 5 epochs, 2 threads) with gensim
# (corpus_file mode) and with seqmodels, RUNS times each, alternating, and prints wall time,
# words/s and peak RSS of each, and the quality of both vector files as gensim evaluates them
# (Google analogies with restrict_vocab 30000, WordSim-353, SimLex-999, MEN). Also checks that
# `seqmodels embed eval` gives gensim's analogy figures. MODEL is one of
#   skipgram     skip-gram, negative sampling (negative 5): gensim sg=1 hs=0
#   cbow         CBOW, negative sampling (negative 5): gensim sg=0 cbow_mean=1 hs=0
#   skipgram-hs  skip-gram, hierarchical softmax alone: gensim sg=1 hs=1 negative=0
#   cbow-hs      CBOW, hierarchical softmax alone: gensim sg=0 cbow_mean=1 hs=1 negative=0
#   skipgram-subword  fastText's subword skip-gram (n-grams of 3-6 characters, 2,000,000 buckets,
#                negative 5), three tools: gensim FastText(sg=1, min_n=3, max_n=6,
#                bucket=2000000), Debian's `fasttext skipgram -minn 3 -maxn 6 -bucket 2000000`
#                and `seqmodels embed train --subwords`, each writing fastText's .bin, all
#                evaluated by gensim (load_facebook_vectors) on the same sets plus Stanford Rare
#                Words with words outside the vocabulary answered from their n-grams; words/s
#                here is corpus words x epochs / the command's wall time (vocabulary pass and
#                writing the 800 MB model included), the same for the three. Also checks that
#                `fasttext print-word-vectors` and gensim read the .bin seqmodels wrote.
# All tools get the same learning rate: seqmodels' default for the architecture (0.025
# skip-gram, 0.05 CBOW, the C tool's; fastText's own default for skipgram is 0.05), or $ALPHA
# when set.
#
# usage: scripts/bench/word2vec.sh [CORPUS(.gz)] [RUNS=1] [EPOCHS=5] [THREADS=2] [MODEL=skipgram]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
data=../shared/data
corpus="${1:-$data/corpora/english_mix/english_mix.txt.gz}"
runs="${2:-1}"
epochs="${3:-5}"
threads="${4:-2}"
model="${5:-skipgram}"
case "$model" in
    skipgram) flags=(--negative 5); gflags=(--sg 1 --hs 0 --negative 5); alpha=0.025 ;;
    cbow) flags=(--arch cbow --negative 5); gflags=(--sg 0 --hs 0 --negative 5); alpha=0.05 ;;
    skipgram-hs) flags=(--hs --negative 0); gflags=(--sg 1 --hs 1 --negative 0); alpha=0.025 ;;
    cbow-hs) flags=(--arch cbow --hs --negative 0); gflags=(--sg 0 --hs 1 --negative 0); alpha=0.05 ;;
    skipgram-subword) flags=(--negative 5 --subwords); gflags=(--sg 1 --hs 0 --negative 5); alpha=0.025 ;;
    *) echo "unknown MODEL $model: skipgram, cbow, skipgram-hs, cbow-hs or skipgram-subword" >&2; exit 2 ;;
esac
alpha="${ALPHA:-$alpha}"
source scripts/bench/common.sh
need gensim "gensim==4.4.0"
# gensim's corpus_file mode reads plain text only: both tools train on the same plain file.
case "$corpus" in
    *.gz) gzip -dc "$corpus" > "$work/corpus.txt" ;;
    *) cp "$corpus" "$work/corpus.txt" ;;
esac
echo "corpus: $corpus ($(wc -w < "$work/corpus.txt") words); $model, alpha $alpha, $epochs epochs, $threads threads, $runs run(s) each"
settings=(--dim 100 --window 5 --min-count 5 --sample 1e-3 --alpha "$alpha" --epochs "$epochs")
rss() { sed -n 's/.*Maximum resident set size (kbytes): \([0-9]*\).*/\1/p' "$1"; }
# CPU seconds (user + system): steadier than wall time when other work shares the cores.
cpu() { awk -F': ' '/User time|System time/ {t += $2} END {printf "%.0f", t}' "$1"; }
pairs=("$data/embedding_eval/gensim/wordsim353.tsv" "$data/embedding_eval/gensim/simlex999.txt"
       "$data/embedding_eval/faruqui_wordsim/EN-MEN-TR-3k.txt")
analogies="$data/embedding_eval/gensim/questions-words.txt"
if [ "$model" = skipgram-subword ]; then
    source scripts/bench/word2vec_subword.sh
    exit 0
fi
# Run N seeds both tools with --seed N; each run's two files are evaluated by gensim's code.
for run in $(seq "$runs"); do
    # `py` is a shell function, which /usr/bin/time cannot run: the same command spelt out.
    /usr/bin/time -v -o "$work/gensim.time" \
        env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$python" scripts/bench/word2vec_gensim.py train \
        "$work/corpus.txt" "$work/gensim-$run.bin" "${settings[@]}" "${gflags[@]}" --threads "$threads" --seed "$run" \
        > "$work/gensim.json"
    /usr/bin/time -v -o "$work/seqmodels.time" \
        "$bin" -q --threads "$threads" embed train --corpus "$work/corpus.txt" --out "$work/seqmodels-$run.bin" \
        "${settings[@]}" "${flags[@]}" --seed "$run" > "$work/seqmodels.txt"
    g=$(py -c "import json;d=json.load(open('$work/gensim.json'));print(f\"{d['seconds']:.1f} {d['words_per_sec']:.0f}\")")
    s=$(sed -n 's/.* in \([0-9.]*\) s (\([0-9]*\) words\/s).*/\1 \2/p' "$work/seqmodels.txt")
    read -r gs gw <<< "$g"
    read -r ss sw <<< "$s"
    echo "run $run (seed $run): gensim ${gs} s (${gw} words/s, $(cpu "$work/gensim.time") CPU s, peak RSS $(( $(rss "$work/gensim.time") / 1024 )) MiB);" \
        "seqmodels ${ss} s (${sw} words/s, $(cpu "$work/seqmodels.time") CPU s, peak RSS $(( $(rss "$work/seqmodels.time") / 1024 )) MiB);" \
        "gensim / seqmodels time = $(awk -v a="$gs" -v b="$ss" 'BEGIN {printf "%.2f", a / b}')"
done

echo
echo "quality, as gensim evaluates each run's files (analogies restrict_vocab 30000):"
for run in $(seq "$runs"); do
    for tool in gensim seqmodels; do
        py scripts/bench/word2vec_gensim.py eval "$work/$tool-$run.bin" --analogies "$analogies" \
            --pairs "${pairs[@]}" > "$work/$tool-$run.json"
        echo "run $run $tool: $(cat "$work/$tool-$run.json")"
    done
done
py - "$work" "$runs" <<'PY'
import json, statistics, sys
work, runs = sys.argv[1], int(sys.argv[2])
def figures(tool, run):
    d = json.load(open(f"{work}/{tool}-{run}.json"))
    f = {"analogies %": 100 * d["analogy"]["accuracy"]}
    for name, key in [("wordsim353.tsv", "WordSim-353"), ("simlex999.txt", "SimLex-999"), ("EN-MEN-TR-3k.txt", "MEN")]:
        f[key + " rho"] = d[name]["spearman"]
    return f
rows = {t: [figures(t, r) for r in range(1, runs + 1)] for t in ("gensim", "seqmodels")}
print(f"\nmean (min-max) over {runs} seed(s):")
for key in rows["gensim"][0]:
    cells = []
    for t in ("gensim", "seqmodels"):
        v = [r[key] for r in rows[t]]
        cells.append(f"{t} {statistics.mean(v):.3f} ({min(v):.3f}-{max(v):.3f})")
    gap = statistics.mean(r[key] for r in rows["seqmodels"]) - statistics.mean(r[key] for r in rows["gensim"])
    print(f"  {key:16} " + "; ".join(cells) + f"; seqmodels - gensim {gap:+.3f}")
PY
echo
echo "the last seqmodels file through seqmodels embed eval:"
"$bin" embed eval --vectors "$work/seqmodels-$runs.bin" --analogies "$analogies" --restrict-vocab 30000 --pairs "${pairs[@]}" \
    | grep -E "^(total|Total|word pairs|wordsim|simlex|EN-MEN)" || true
