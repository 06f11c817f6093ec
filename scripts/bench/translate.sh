#!/usr/bin/env bash
# Sentence translation benchmarks (`seq2seq train --task pairs`), on ../shared/data/translation/.
#
# tatoeba   English -> French with the PyTorch tutorial's filter (sentences under 10 words that
#           start with "i am", "he is", ...; a seeded 90/10 split, written by
#           scripts/bench/translate_torch.py). seqmodels and the tutorial's model in PyTorch
#           (translate_torch.py) each train for SECONDS of wall time, one after the other, on
#           the same threads; then both translate the test side with beam 1 and beam 5. Prints
#           BLEU (sacreBLEU's, computed by seqmodels and checked against the sacrebleu package)
#           and sentences/s of each.
# multi30k  German -> English, test2016 BLEU, a reduced configuration trained for SECONDS on
#           this machine's CPU (the full run belongs on a GPU).
#
# usage: scripts/bench/translate.sh [PART=tatoeba|multi30k|all] [SECONDS=600] [THREADS=2]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
part="${1:-all}"
seconds="${2:-600}"
threads="${3:-2}"
data=../shared/data/translation
source scripts/bench/common.sh
need sacrebleu "sacrebleu==2.5.1"
bleu_check() { # HYP REF: sacrebleu's figures for the same files
    py -c "import sys,sacrebleu; h=open(sys.argv[1]).read().split('\n')[:-1]; r=open(sys.argv[2]).read().split('\n')[:-1]; print(f'sacrebleu {sacrebleu.__version__}: BLEU {sacrebleu.corpus_bleu(h,[r]).score:.2f}, chrF2 {sacrebleu.corpus_chrf(h,[r]).score:.2f}')" "$1" "$2"
}

if [[ "$part" == tatoeba || "$part" == all ]]; then
    echo "== Tatoeba English -> French, the PyTorch tutorial's filter; $seconds s of training each, $threads threads"
    unzip -p "$data/tatoeba_fra_eng/fra-eng.zip" fra.txt > "$work/fra.txt"
    py scripts/bench/translate_torch.py prepare "$work/fra.txt" "$work"
    /usr/bin/time -f "%e s wall" "$bin" -q --threads "$threads" seq2seq train --task pairs \
        --pairs "$work/train.tsv" --out "$work/sm" --time-budget "${seconds}s" --epochs 1000 \
        --patience 1000 --tokenizer word --max-len 12 --embed 128 --hidden 128 --dropout 0.1 \
        --label-smoothing 0.1 --batch-size 32 --lr 2e-3 --valid-fraction 0.05 --seed 1
    py -c "import tokenizers" 2>/dev/null || py -m pip install --quiet "tokenizers==0.22.1"
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
        --tokenizer word --vocab-size 8000 --min-frequency 2 --max-len 40 --embed 128 --hidden 128 \
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
