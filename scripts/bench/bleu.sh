#!/usr/bin/env bash
# `seqmodels seq2seq bleu` (BLEU and chrF) against the sacrebleu package on the same outputs.
#
# Makes two seeded "systems" from the Multi30K test2016 English references (words dropped,
# swapped, inserted, sentences cut or emptied; and one lower-cased, reversed and truncated), then
# scores both with sacrebleu 2.5.1 (installed into the setup venv) and with seqmodels.
#
# usage: scripts/bench/bleu.sh [REFERENCES(.gz)]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
refs="${1:-../shared/data/translation/multi30k/test_2016_flickr.en.gz}"
source scripts/bench/common.sh
need sacrebleu "sacrebleu==2.5.1"
case "$refs" in
    *.gz) gzip -dc "$refs" > "$work/ref.txt" ;;
    *) cp "$refs" "$work/ref.txt" ;;
esac
py - "$work" <<'PY'
import random, sys
import sacrebleu
work = sys.argv[1]
refs = open(f"{work}/ref.txt", encoding="utf-8").read().split("\n")
refs = refs[:-1] if refs and refs[-1] == "" else refs
rng = random.Random(5)
damaged = []
for r in refs:
    w = r.split()
    k = rng.random()
    if k < 0.3 and len(w) > 3:
        del w[rng.randrange(len(w))]
    elif k < 0.5 and len(w) > 2:
        i = rng.randrange(len(w) - 1)
        w[i], w[i + 1] = w[i + 1], w[i]
    elif k < 0.6:
        w = w[: max(1, len(w) // 2)]
    elif k < 0.65:
        w = []
    elif k < 0.8:
        w.insert(rng.randrange(len(w) + 1), rng.choice(["the", "a", "dog", ".", ",", "man", "2-3", "&"]))
    damaged.append(" ".join(w))
reversed_ = [" ".join(x.lower().split()[::-1][:7]) for x in refs]
for name, hyp in (("damaged", damaged), ("reversed", reversed_)):
    open(f"{work}/{name}.txt", "w", encoding="utf-8").write("\n".join(hyp) + "\n")
    print(f"sacrebleu {sacrebleu.__version__} {name:9} {sacrebleu.corpus_bleu(hyp, [refs])}")
    print(f"sacrebleu {sacrebleu.__version__} {name:9} {sacrebleu.corpus_chrf(hyp, [refs])}")
PY
for name in damaged reversed; do
    target/release/seqmodels seq2seq bleu --hyp "$work/$name.txt" --ref "$work/ref.txt" | sed "s/^/seqmodels         $name  /"
done
