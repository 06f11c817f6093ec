#!/usr/bin/env bash
# fastText .bin interoperability, both ways, with Debian's fastText 0.9.2 and gensim 4.4.
#
# 1. Trains a small skip-gram model with the `fasttext` binary (subwords 2-5 characters, 20000
#    buckets, on CORPUS plus a few lines of non-ASCII words), and reads it with seqmodels:
#    `seqmodels embed vector --format json` against fastText's own vectors (the Python binding of
#    the same library, full precision, and `fasttext print-word-vectors`, 5 digits), for words of
#    the vocabulary and words outside it (answered from their n-grams).
# 2. Converts it with seqmodels to a new .bin (`embed convert --out x.bin`: fastText's format,
#    as the vectors have subwords), whole and cut to its first 500 words (--limit 500, a file
#    fastText never wrote), and reads those with fastText and gensim's load_facebook_model.
# Prints the max abs difference of each comparison; they must be under 1e-5 (print-word-vectors
# rounds to 5 significant digits, so its differences are the rounding's, up to 5e-5; gensim is
# compared without </s>, to which it gives n-grams where fastText gives none).
#
# Needs: apt-get install fasttext python3-fasttext; gensim is installed into setup.sh's
# environment when missing.
# usage: scripts/bench/fasttext_interop.sh [CORPUS]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
corpus="${1:-../shared/data/corpora/tiny/lee_background.cor}"
[ -f "$corpus" ] || corpus=README.md
for tool in fasttext /usr/bin/python3; do
    command -v "$tool" >/dev/null || { echo "needs $tool: apt-get install -y fasttext python3-fasttext" >&2; exit 1; }
done
/usr/bin/python3 -c "import fasttext" 2>/dev/null || { echo "needs apt-get install -y python3-fasttext" >&2; exit 1; }
source scripts/bench/common.sh
need gensim "gensim==4.4.0"
helper=scripts/bench/fasttext_interop.py

cp "$corpus" "$work/corpus.txt"
for _ in $(seq 30); do
    echo "la naïve café über straße 日本語 の テキスト déjà vu façade crème brûlée" >> "$work/corpus.txt"
done
fasttext skipgram -input "$work/corpus.txt" -output "$work/ft" -dim 16 -epoch 2 -minCount 3 \
    -bucket 20000 -minn 2 -maxn 5 -thread 1 -seed 1 -verbose 0
echo "fastText model: $(sed -n 1p "$work/ft.vec") (words, dim) from $corpus"

# The first 800 words of the vocabulary (the first 500 and 300 beyond), and words outside it.
sed -n '2,801p' "$work/ft.vec" | cut -d' ' -f1 > "$work/iv.txt"
printf '%s\n' naïvety cafés Straße 日本 unseenwordz Governmentt reconstructionist über-café \
    > "$work/oov.txt"
cat "$work/iv.txt" "$work/oov.txt" > "$work/words.txt"
# gensim gives the end-of-sentence token </s> the n-grams of "<</s>>", which fastText does not:
# its vector differs there, and gensim is compared on the other words.
grep -vx '</s>' "$work/iv.txt" > "$work/iv-gensim.txt"
head -500 "$work/iv.txt" > "$work/iv500.txt"
grep -vx '</s>' "$work/iv500.txt" > "$work/iv500-gensim.txt"
cat "$work/oov.txt" > "$work/oov500.txt"; sed -n '501,800p' "$work/iv.txt" >> "$work/oov500.txt"

seqmodels_vectors() { # MODEL WORDS -> {"word": vector}
    # One word per stdin line, so that a word such as "--" is never taken for an option.
    "$bin" -q embed vector -v "$1" --interactive --format json < "$2" 2>/dev/null |
        py -c 'import json,sys; print(json.dumps({v["word"]: v["vector"] for l in sys.stdin for v in json.loads(l)["vectors"]}, ensure_ascii=False))'
}
reference() { # TOOL MODEL WORDS OUT
    case "$1" in
        gensim) py "$helper" vectors gensim "$2" "$3" > "$4" ;;
        *) /usr/bin/python3 "$helper" vectors "$1" "$2" "$3" 2>/dev/null > "$4" ;;
    esac
}
diff_of() { py "$helper" diff "$@"; }

seqmodels_vectors "$work/ft.bin" "$work/words.txt" > "$work/sm.json"
reference fasttext "$work/ft.bin" "$work/words.txt" "$work/ft.json"
reference print "$work/ft.bin" "$work/words.txt" "$work/print.json"
echo
echo "1. seqmodels reading fastText's .bin (800 words of the vocabulary, 8 outside it):"
echo "   vs fastText (Python binding):      in vocabulary $(diff_of "$work/sm.json" "$work/ft.json" "$work/iv.txt"), outside $(diff_of "$work/sm.json" "$work/ft.json" "$work/oov.txt")"
echo "   vs fasttext print-word-vectors:    in vocabulary $(diff_of "$work/sm.json" "$work/print.json" "$work/iv.txt"), outside $(diff_of "$work/sm.json" "$work/print.json" "$work/oov.txt") (5 printed digits)"

"$bin" -q embed convert -v "$work/ft.bin" --out "$work/sm.bin" 2>/dev/null
"$bin" -q embed convert -v "$work/ft.bin" --limit 500 --out "$work/sm500.bin" 2>/dev/null
if cmp -s "$work/ft.bin" "$work/sm.bin"; then same="byte-identical to fastText's"; else same="NOT byte-identical"; fi
echo
echo "2. fastText and gensim reading the .bin seqmodels wrote ($same):"
for tool in fasttext gensim print; do
    reference "$tool" "$work/sm.bin" "$work/words.txt" "$work/$tool-sm.json"
    iv="$work/iv.txt"; [ "$tool" = gensim ] && iv="$work/iv-gensim.txt"
    echo "   $tool: in vocabulary $(diff_of "$work/$tool-sm.json" "$work/sm.json" "$iv"), outside $(diff_of "$work/$tool-sm.json" "$work/sm.json" "$work/oov.txt")"
done
echo "   (gensim on </s>, which it gives n-grams: $(printf '</s>\n' > "$work/eos.txt"; diff_of "$work/gensim-sm.json" "$work/sm.json" "$work/eos.txt"))"
seqmodels_vectors "$work/sm500.bin" "$work/words.txt" > "$work/sm500.json"
echo "   and the first 500 words only (--limit 500: 300 more words now answered from n-grams):"
for tool in fasttext gensim; do
    reference "$tool" "$work/sm500.bin" "$work/words.txt" "$work/$tool-sm500.json"
    iv="$work/iv500.txt"; [ "$tool" = gensim ] && iv="$work/iv500-gensim.txt"
    echo "   $tool: in vocabulary $(diff_of "$work/$tool-sm500.json" "$work/sm500.json" "$iv"), outside $(diff_of "$work/$tool-sm500.json" "$work/sm500.json" "$work/oov500.txt")"
done
