#!/usr/bin/env bash
# Sentence translation benchmarks (`seq2seq train --task pairs`), on ../shared/data/translation/.
#
# tatoeba   English -> French with the PyTorch tutorial's filter (sentences under 10 words that
#           start with "i am", "he is", ...; a seeded 90/10 split, written by
#           scripts/bench/translate_torch.py). seqmodels, with the hand-picked options of the
#           README's table (and the tokenizer of that time: word, lower-cased, 10,000 words,
#           min frequency 1), and the tutorial's model in PyTorch (translate_torch.py) each
#           train for SECONDS of wall time, one after the other, on the same threads; then both
#           translate the test side with beam 1 and beam 5. Prints BLEU (sacreBLEU's, computed
#           by seqmodels and checked against the sacrebleu package) and sentences/s of each.
# multi30k  German -> English, test2016 BLEU, a reduced configuration trained for SECONDS on
#           this machine's CPU (the full run belongs on a GPU); word tokenizer, lower-cased, as
#           in the README's table.
#
# The *-defaults cases train with no size flags at all (no --embed, --hidden, --batch-size,
# --lr, --dropout, --tokenizer or --preset: what a new user types), only --time-budget SECONDS
# and --seed 1, then score greedy and beam-5 translations with `seq2seq eval` (cased,
# detokenised output against the raw references) and with the sacrebleu package on the same
# files, side by side:
# tatoeba-defaults   the tatoeba case's data and split (normalised lower case, 9,830 / 1,092)
# tatoeba-raw        the same pairs and split as fra.txt writes them (cased, accents, apostrophes)
# multi30k-defaults  Multi30K de -> en, val as the dev set, test2016
# small-defaults     the first 3,300 lines of fra.txt (its shortest pairs, raw), shuffled
#                    (seed 1): 3,000 to train on, 300 held out; with no flags and with the
#                    hand-picked --embed 128 --hidden 128 --batch-size 32 --lr 2e-3 --dropout 0.1
# roundtrip          learns the default tokenizers from the 9,830 tatoeba-raw training pairs (one
#                    epoch of training, at most SECONDS, with the test split as dev set, so that
#                    no training pair is held out) and checks them: for the first 1,000 training
#                    sentences of each side, whether Python's tokenizers gives
#                    decode(encode(s)) == NFKC(s); prints the share that does, and the first
#                    failures. The tatoeba-* and small-defaults cases check their models' too
#                    (there 5% of train.tsv is the trainer's dev split, unseen by the tokenizers).
# Every figure printed is measured; nothing is asserted. With KEEP=DIR in the environment, the
# *-defaults and small-defaults cases copy each trained model directory into DIR (DIR/NAME).
#
# usage: scripts/bench/translate.sh [CASE=all] [SECONDS] [THREADS=2]
#   CASE: tatoeba (600 s) | multi30k (900 s) | all (both) | tatoeba-defaults (600 s) |
#         tatoeba-raw (600 s) | multi30k-defaults (900 s) | small-defaults (90 s) | roundtrip (30 s)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
part="${1:-all}"
case "$part" in
    tatoeba | all | tatoeba-defaults | tatoeba-raw) default_seconds=600 ;;
    multi30k | multi30k-defaults) default_seconds=900 ;;
    small-defaults) default_seconds=90 ;;
    roundtrip) default_seconds=30 ;;
    *)
        echo "translate.sh: unknown case '$part' (tatoeba, multi30k, all, tatoeba-defaults, tatoeba-raw, multi30k-defaults, small-defaults, roundtrip)" >&2
        exit 2
        ;;
esac
seconds="${2:-$default_seconds}"
threads="${3:-2}"
data=../shared/data/translation
source scripts/bench/common.sh
need sacrebleu "sacrebleu==2.5.1"
need tokenizers "tokenizers==0.22.1"
bleu_check() { # HYP REF: sacrebleu's figures for the same files
    py -c "import sys,sacrebleu; h=open(sys.argv[1]).read().split('\n')[:-1]; r=open(sys.argv[2]).read().split('\n')[:-1]; print(f'sacrebleu {sacrebleu.__version__}: BLEU {sacrebleu.corpus_bleu(h,[r]).score:.2f}, chrF2 {sacrebleu.corpus_chrf(h,[r]).score:.2f}')" "$1" "$2"
}
held_out="train.tsv includes the 5% the trainer holds out as dev pairs, which its tokenizers never saw"
fra_txt() { [[ -f "$work/fra.txt" ]] || unzip -p "$data/tatoeba_fra_eng/fra-eng.zip" fra.txt > "$work/fra.txt"; }

# train NAME ARGS...: `seq2seq train --task pairs` into $work/NAME with --time-budget SECONDS and
# --seed 1; its per-epoch lines (stderr, piped so that no progress bar is drawn) are shown.
train() {
    local name="$1"
    shift
    echo "-- $name: seqmodels seq2seq train --task pairs $* --time-budget ${seconds}s --seed 1"
    /usr/bin/time -f "%e s wall" "$bin" --threads "$threads" seq2seq train --task pairs "$@" \
        --out "$work/$name" --time-budget "${seconds}s" --seed 1 2>&1 | sed 's/^/   /'
    if [[ -n "${KEEP:-}" ]]; then
        mkdir -p "$KEEP" && rm -rf "${KEEP:?}/$name" && cp -r "$work/$name" "$KEEP/$name"
        echo "   kept the model in $KEEP/$name"
    fi
}

# score NAME SRC REF REF_PLAIN: `seq2seq eval` of model NAME with beam 1 and 5 (REF may be .gz),
# then the sacrebleu package on the same translations against REF_PLAIN; a row per width goes to
# $work/summary.tsv.
score() {
    local name="$1" src="$2" ref="$3" plain="$4" width out eval sm chrf speed sb
    for width in 1 5; do
        out="$work/$name-beam$width.txt"
        eval="$("$bin" --threads "$threads" seq2seq eval --model "$work/$name" --src "$src" \
            --ref "$ref" --beam-width "$width" --output "$out")"
        echo "$eval" | sed "s/^/   $name, seq2seq eval: /"
        sm="$(echo "$eval" | sed -n '1s/.*: BLEU = \([0-9.]*\) .*/\1/p')"
        chrf="$(echo "$eval" | sed -n '1s/.*chrF2 = \([0-9.]*\);.*/\1/p')"
        speed="$(echo "$eval" | sed -n '1s/.*; \([0-9.]*\) sentences\/s;.*/\1/p')"
        sb="$(py - "$out" "$plain" <<'PY'
import logging, sys
from sacrebleu.metrics import BLEU, CHRF

logging.getLogger("sacrebleu").setLevel(logging.ERROR)  # its "forgot to detokenize?" hint

def lines(path):
    rows = open(path, encoding="utf-8").read().split("\n")
    return rows[:-1] if rows and rows[-1] == "" else rows

hyp, ref = lines(sys.argv[1]), lines(sys.argv[2])
bleu, chrf = BLEU(), CHRF()
print(f"{bleu.corpus_score(hyp, [ref]).score:.2f}\t{chrf.corpus_score(hyp, [ref]).score:.2f}\t{bleu.get_signature()}")
PY
)"
        echo "   $name, sacrebleu package: BLEU = $(cut -f1 <<<"$sb"), chrF2 = $(cut -f2 <<<"$sb"); signature: $(cut -f3 <<<"$sb")"
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$([[ $width == 1 ]] && echo greedy || echo "beam $width")" \
            "$sm" "$(cut -f1 <<<"$sb")" "$chrf" "$(cut -f2 <<<"$sb")" "$speed" >> "$work/summary.tsv"
    done
}

summary() { # TITLE: the rows score() collected, as a table
    echo "== $1"
    { printf 'model\tdecoding\tBLEU (seq2seq eval)\tBLEU (sacrebleu)\tchrF2 (eval)\tchrF2 (sacrebleu)\tsentences/s\n'
      cat "$work/summary.tsv"; } | column -t -s $'\t' | sed 's/^/   /'
    rm -f "$work/summary.tsv"
}

# roundtrip NAME TSV [NOTE]: Python's tokenizers loads the model's two tokenizer files; for the
# first 1,000 pairs of TSV, the share of sentences that decode(encode(s)) gives back as NFKC(s),
# with the first failures and the characters of theirs the vocabulary lacks.
roundtrip() {
    echo "-- round trip, model $1: src_tokenizer.json / tgt_tokenizer.json in Python's tokenizers, the first 1,000 pairs of $(basename "$2")${3:+ ($3)}"
    py - "$work/$1" "$2" <<'PY'
import sys, unicodedata
import tokenizers
from tokenizers import Tokenizer

model, tsv = sys.argv[1], sys.argv[2]
rows = [line.rstrip("\n").split("\t") for line in open(tsv, encoding="utf-8")][:1000]
for side, column in (("src", 0), ("tgt", 1)):
    tok = Tokenizer.from_file(f"{model}/{side}_tokenizer.json")
    sentences = [r[column] for r in rows]
    failed = []
    for s in sentences:
        back = tok.decode(tok.encode(s, add_special_tokens=False).ids, skip_special_tokens=False)
        if back != unicodedata.normalize("NFKC", s):
            failed.append((s, back))
    ok = len(sentences) - len(failed)
    print(f"   {side}_tokenizer.json ({tok.get_vocab_size()} tokens, tokenizers {tokenizers.__version__}): "
          f"{ok} of {len(sentences)} round-trip ({100 * ok / len(sentences):.1f}%)")
    for s, back in failed[:3]:
        unseen = sorted({c for c in unicodedata.normalize("NFKC", s) if c != " " and tok.token_to_id(c) is None})
        lacks = ", ".join(f"{c!r} U+{ord(c):04X}" for c in unseen)
        print(f"      {s!r} -> {back!r}" + (f" (not in the vocabulary: {lacks})" if lacks else ""))
PY
}

tatoeba_defaults() { # NORMALISED|RAW
    local raw=()
    [[ "$1" == raw ]] && raw=(--raw)
    echo "== Tatoeba English -> French, the tutorial's filter and split, $1 text; no size flags, $seconds s, $threads threads"
    fra_txt
    py scripts/bench/translate_torch.py prepare "${raw[@]}" "$work/fra.txt" "$work"
    train "tatoeba-$1" --pairs "$work/train.tsv"
    score "tatoeba-$1" "$work/test.en" "$work/test.fr" "$work/test.fr"
    roundtrip "tatoeba-$1" "$work/train.tsv" "$held_out"
    summary "tatoeba-$1: $seconds s, $threads threads, no size flags, test split ($(wc -l < "$work/test.fr") sentences)"
}

if [[ "$part" == tatoeba || "$part" == all ]]; then
    echo "== Tatoeba English -> French, the PyTorch tutorial's filter; $seconds s of training each, $threads threads"
    fra_txt
    py scripts/bench/translate_torch.py prepare "$work/fra.txt" "$work"
    /usr/bin/time -f "%e s wall" "$bin" -q --threads "$threads" seq2seq train --task pairs \
        --pairs "$work/train.tsv" --out "$work/sm" --time-budget "${seconds}s" --epochs 1000 \
        --patience 1000 --tokenizer word --vocab-size 10000 --min-frequency 1 --lowercase \
        --max-len 12 --embed 128 --hidden 128 --dropout 0.1 \
        --label-smoothing 0.1 --batch-size 32 --lr 2e-3 --valid-fraction 0.05 --seed 1
    py -c "import sys; from tokenizers import Tokenizer; t=Tokenizer.from_file(sys.argv[1]+'/src_tokenizer.json'); u=Tokenizer.from_file(sys.argv[1]+'/tgt_tokenizer.json'); e=t.encode('I am very happy today.'); print('Python tokenizers', __import__('tokenizers').__version__, 'loads both files:', t.get_vocab_size(), '/', u.get_vocab_size(), 'tokens;', e.tokens)" "$work/sm"
    OMP_NUM_THREADS="$threads" py scripts/bench/translate_torch.py train "$work" --seconds "$seconds" \
        --beam 5 --seed 1 > "$work/torch.json"
    for width in 1 5; do
        echo "-- beam $width"
        "$bin" --threads "$threads" seq2seq eval --model "$work/sm" --src "$work/test.en" \
            --ref "$work/test.fr" --beam-width "$width" --output "$work/sm-beam$width.fr"
        echo "   seqmodels outputs, $(bleu_check "$work/sm-beam$width.fr" "$work/test.fr")"
        py -c "import json,sys; d=json.load(open(sys.argv[1]))['beam$width']; print(f\"PyTorch tutorial model: {d['sentences_per_sec']:.1f} sentences/s\")" "$work/torch.json"
        echo "   PyTorch outputs:   $("$bin" seq2seq bleu --hyp "$work/torch-beam$width.fr" --ref "$work/test.fr" | paste -sd ' ')"
        echo "   PyTorch outputs, $(bleu_check "$work/torch-beam$width.fr" "$work/test.fr")"
    done
    py -c "import json,sys; d=json.load(open(sys.argv[1])); print(f\"PyTorch training: {d['epochs']} epochs in {d['train_seconds']:.0f} s, last loss {d['last_loss']:.3f}, {d['train_pairs']} pairs\")" "$work/torch.json"
fi

if [[ "$part" == multi30k || "$part" == all ]]; then
    echo "== Multi30K German -> English, test2016; $seconds s of training, $threads threads (reduced CPU configuration)"
    m="$data/multi30k"
    /usr/bin/time -f "%e s wall" "$bin" -q --threads "$threads" seq2seq train --task pairs \
        --src "$m/train.de.gz" --tgt "$m/train.en.gz" --dev-src "$m/val.de.gz" --dev-tgt "$m/val.en.gz" \
        --out "$work/m30k" --time-budget "${seconds}s" --epochs 1000 --patience 3 \
        --tokenizer word --vocab-size 8000 --min-frequency 2 --lowercase --max-len 40 --embed 128 --hidden 128 \
        --dropout 0.2 --label-smoothing 0.1 --batch-size 64 --lr 2e-3 --bleu-sentences 300 --seed 1
    gzip -dc "$m/test_2016_flickr.en.gz" > "$work/test.en"
    for width in 1 5; do
        echo "-- beam $width"
        "$bin" --threads "$threads" seq2seq eval --model "$work/m30k" --src "$m/test_2016_flickr.de.gz" \
            --ref "$m/test_2016_flickr.en.gz" --beam-width "$width" --replace-unk \
            --output "$work/m30k-beam$width.en"
        tr 'A-Z' 'a-z' < "$work/test.en" > "$work/test.lc.en"
        echo "   $(bleu_check "$work/m30k-beam$width.en" "$work/test.lc.en") (lower-cased references)"
    done
fi

case "$part" in
    tatoeba-defaults) tatoeba_defaults normalised ;;
    tatoeba-raw) tatoeba_defaults raw ;;
    multi30k-defaults)
        echo "== Multi30K German -> English, val as the dev set, test2016; no size flags, $seconds s, $threads threads"
        m="$data/multi30k"
        train multi30k --src "$m/train.de.gz" --tgt "$m/train.en.gz" --dev-src "$m/val.de.gz" --dev-tgt "$m/val.en.gz"
        gzip -dc "$m/test_2016_flickr.en.gz" > "$work/test2016.en"
        score multi30k "$m/test_2016_flickr.de.gz" "$m/test_2016_flickr.en.gz" "$work/test2016.en"
        summary "multi30k: $seconds s, $threads threads, no size flags, test2016 (1,000 sentences)"
        ;;
    small-defaults)
        echo "== Tatoeba English -> French, fra.txt's first 3,300 pairs, raw: 3,000 to train on, 300 held out; $seconds s each, $threads threads"
        fra_txt
        py scripts/bench/translate_torch.py head "$work/fra.txt" "$work" --train 3000 --test 300
        train no-flags --pairs "$work/train.tsv"
        train hand-picked --pairs "$work/train.tsv" --embed 128 --hidden 128 --batch-size 32 --lr 2e-3 --dropout 0.1
        for name in no-flags hand-picked; do
            score "$name" "$work/test.en" "$work/test.fr" "$work/test.fr"
        done
        roundtrip no-flags "$work/train.tsv" "$held_out"
        summary "3,000 short pairs, $seconds s each, $threads threads: no flags against the hand-picked options, 300 held-out pairs"
        ;;
    roundtrip)
        echo "== round trip of the default tokenizers, learnt from all 9,830 tatoeba-raw training pairs (the test split as dev set; one epoch, at most $seconds s)"
        fra_txt
        py scripts/bench/translate_torch.py prepare --raw "$work/fra.txt" "$work"
        train tokenizers --pairs "$work/train.tsv" --dev-src "$work/test.en" --dev-tgt "$work/test.fr" --epochs 1
        roundtrip tokenizers "$work/train.tsv"
        ;;
esac
