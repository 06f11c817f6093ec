# The skipgram-subword case of scripts/bench/word2vec.sh, sourced by it (its settings, corpus in
# $work/corpus.txt, helpers rss/cpu, $bin, py): gensim FastText, Debian's fasttext and seqmodels
# --subwords, RUNS seeds each, alternated, every model written as fastText's .bin and evaluated
# by the same gensim code; Stanford Rare Words with words outside the vocabulary answered from
# their n-grams. FASTTEXT_RUNS (default RUNS) trains fasttext, the slowest of the three, for the
# first seeds only.
command -v fasttext >/dev/null || { echo "needs fasttext: apt-get install -y fasttext" >&2; exit 1; }
rw="$data/embedding_eval/faruqui_wordsim/EN-RW-STANFORD.txt"
words=$(wc -w < "$work/corpus.txt")
wall() { # seconds of wall time in a /usr/bin/time -v file
    sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$1" |
        awk -F: '{s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; printf "%.1f", s}'
}
line() { # TOOL TIMEFILE [EXTRA]: "TOOL 123.4 s wall (456789 words/s), 240 CPU s, peak RSS 1234 MiB"
    local w; w=$(wall "$2")
    echo "$1 $w s wall ($(awk -v n="$words" -v e="$epochs" -v s="$w" 'BEGIN {printf "%.0f", n * e / s}') words/s), $(cpu "$2") CPU s, peak RSS $(( $(rss "$2") / 1024 )) MiB${3:+; $3}"
}
echo "subword models: n-grams of 3-6 characters, 2000000 buckets"
ft_runs="${FASTTEXT_RUNS:-$runs}"
for run in $(seq "$runs"); do
    /usr/bin/time -v -o "$work/gensim.time" \
        env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$python" scripts/bench/word2vec_gensim.py train-fasttext \
        "$work/corpus.txt" "$work/gensim-$run.bin" "${settings[@]}" "${gflags[@]}" --minn 3 --maxn 6 \
        --bucket 2000000 --threads "$threads" --seed "$run" > "$work/gensim.json"
    [ "$run" -le "$ft_runs" ] && /usr/bin/time -v -o "$work/fasttext.time" \
        fasttext skipgram -input "$work/corpus.txt" -output "$work/fasttext-$run" -dim 100 -ws 5 \
        -epoch "$epochs" -minCount 5 -neg 5 -t 1e-3 -lr "$alpha" -minn 3 -maxn 6 -bucket 2000000 \
        -thread "$threads" -seed "$run" -verbose 2 > /dev/null 2> "$work/fasttext.log"
    /usr/bin/time -v -o "$work/seqmodels.time" \
        "$bin" -q --threads "$threads" embed train --corpus "$work/corpus.txt" --out "$work/seqmodels-$run.bin" \
        "${settings[@]}" "${flags[@]}" --seed "$run" > "$work/seqmodels.txt"
    g=$(py -c "import json;d=json.load(open('$work/gensim.json'));print(f\"training {d['seconds']:.1f} s, {d['words_per_sec']:.0f} words/s by its count\")")
    [ "$run" -le "$ft_runs" ] && f=$(tr '\r' '\n' < "$work/fasttext.log" | grep 'words/sec/thread' | tail -1 |
        sed -n 's/.*words\/sec\/thread: *\([0-9]*\).*/\1/p' | awk -v t="$threads" '{printf "training %.0f words/s by its count", $1 * t}')
    s=$(sed -n 's/.* in \([0-9.]*\) s (\([0-9]*\) words\/s).*/training \1 s, \2 words\/s by its count/p' "$work/seqmodels.txt")
    echo "run $run (seed $run):"
    echo "  $(line gensim "$work/gensim.time" "$g")"
    [ "$run" -le "$ft_runs" ] && echo "  $(line fasttext "$work/fasttext.time" "$f")"
    echo "  $(line seqmodels "$work/seqmodels.time" "$s")"
done

echo
echo "quality, as gensim evaluates each run's .bin (analogies restrict_vocab 30000; word pairs of"
echo "the vocabulary; EN-RW-STANFORD every pair, words outside the vocabulary from their n-grams):"
for run in $(seq "$runs"); do
    for tool in gensim fasttext seqmodels; do
        [ -f "$work/$tool-$run.bin" ] || continue
        py scripts/bench/word2vec_gensim.py eval-fasttext "$work/$tool-$run.bin" --analogies "$analogies" \
            --pairs "${pairs[@]}" "$rw" --oov-pairs "$rw" > "$work/$tool-$run.json"
        echo "run $run $tool: $(cat "$work/$tool-$run.json")"
    done
done
py - "$work" "$runs" <<'PY'
import json, os, statistics, sys
work, runs = sys.argv[1], int(sys.argv[2])
tools = ("gensim", "fasttext", "seqmodels")
seeds = {t: [r for r in range(1, runs + 1) if os.path.exists(f"{work}/{t}-{r}.json")] for t in tools}
def figures(tool, run):
    d = json.load(open(f"{work}/{tool}-{run}.json"))
    f = {"analogies %": 100 * d["analogy"]["accuracy"]}
    for name, key in [("wordsim353.tsv", "WordSim-353"), ("simlex999.txt", "SimLex-999"),
                      ("EN-MEN-TR-3k.txt", "MEN"), ("EN-RW-STANFORD.txt", "RW in-vocab")]:
        f[key + " rho"] = d[name]["spearman"]
    f["RW all rho"] = d["EN-RW-STANFORD.txt (oov from n-grams)"]["spearman"]
    return f
rows = {t: [figures(t, r) for r in seeds[t]] for t in tools}
print(f"\nmean (min-max) over the seeds run: " + ", ".join(f"{t} {len(seeds[t])}" for t in tools))
for key in rows["gensim"][0]:
    cells = []
    for t in tools:
        v = [r[key] for r in rows[t]]
        cells.append(f"{t} {statistics.mean(v):.3f} ({min(v):.3f}-{max(v):.3f})")
    print(f"  {key:16} " + "; ".join(cells))
d = json.load(open(f"{work}/seqmodels-1.json"))
rw = d["EN-RW-STANFORD.txt (oov from n-grams)"]
print(f"  (Rare Words: {rw['pairs']} pairs, {rw['from_ngrams']} with a word outside seqmodels' vocabulary;"
      f" in-vocab: {d['EN-RW-STANFORD.txt']['oov']:.1f}% of pairs skipped)")
PY

echo
echo "the last seqmodels model through seqmodels embed eval --oov-ngrams:"
"$bin" embed eval --vectors "$work/seqmodels-$runs.bin" --analogies "$analogies" --restrict-vocab 30000 \
    --pairs "${pairs[@]}" "$rw" --oov-ngrams | grep -E "^(Total|word pairs|wordsim|simlex|EN-)" || true

# fastText and gensim read the .bin seqmodels wrote: the same vectors, in and outside the vocabulary.
"$bin" embed convert -v "$work/seqmodels-$runs.bin" --out "$work/sm.vec" 2>/dev/null
sed -n '2,301p' "$work/sm.vec" | cut -d' ' -f1 > "$work/iv.txt"
printf '%s\n' unbelievableness squirtingly undatable circumventions gcidex > "$work/oov.txt"
cat "$work/iv.txt" "$work/oov.txt" > "$work/words.txt"
"$bin" -q embed vector -v "$work/seqmodels-$runs.bin" --interactive --format json < "$work/words.txt" 2>/dev/null |
    py -c 'import json,sys; print(json.dumps({v["word"]: v["vector"] for l in sys.stdin for v in json.loads(l)["vectors"]}))' \
    > "$work/sm.json"
echo
echo "the .bin seqmodels trained, read by other tools (max abs difference from seqmodels' vectors, 300 words of the vocabulary / 5 outside):"
for tool in print gensim; do
    py scripts/bench/fasttext_interop.py vectors "$tool" "$work/seqmodels-$runs.bin" "$work/words.txt" > "$work/$tool.json"
    echo "  $tool: $(py scripts/bench/fasttext_interop.py diff "$work/$tool.json" "$work/sm.json" "$work/iv.txt") / $(py scripts/bench/fasttext_interop.py diff "$work/$tool.json" "$work/sm.json" "$work/oov.txt")"
done
echo "  (print is fasttext print-word-vectors, 5 significant digits: differences up to ~5e-5 are its rounding)"
