"""The PyTorch peer of `seqmodels seq2seq train --task pairs`: the model of the PyTorch
tutorial "NLP From Scratch: Translation with a Sequence to Sequence Network and Attention"
(a GRU encoder, a GRU decoder with Bahdanau attention fed its previous output, hidden 128,
dropout 0.1, Adam lr 1e-3, batch 32, NLL loss), as a user would take it from there.

  prepare: reads fra.txt (English<TAB>French), applies the tutorial's normalisation and filter
           (ASCII lower-case, "." "!" "?" split off, both sides under 10 words, English
           starting with "i am", "he is", ...), and writes a seeded 90/10 split as
           train.tsv / test.tsv (English<TAB>French) plus test.en / test.fr. With --raw the
           same pairs, in the same split, are written as fra.txt has them (cased, accents,
           apostrophes and French spacing kept): the filter reads the normalised text, the
           files get the raw one.
  head:    the first --train + --test lines of fra.txt (its shortest pairs), raw, shuffled
           with --seed and split into --train training and --test test pairs, in the same
           files as prepare.
  train:   trains for --seconds of wall time on train.tsv, then translates test.en with
           greedy decoding and with beam search (--beam), times both, and prints one JSON line
           with the outputs' paths, the training figures and sentences/s.

usage: python translate_torch.py prepare FRA_TXT OUTDIR [--seed 1] [--raw]
       python translate_torch.py head FRA_TXT OUTDIR [--train 3000] [--test 300] [--seed 1]
       python translate_torch.py train OUTDIR --seconds S [--beam 5] [--seed 1]
"""
import argparse
import json
import random
import re
import sys
import time
import unicodedata

import torch
import torch.nn as nn
import torch.nn.functional as F

MAX_LENGTH = 10
ENG_PREFIXES = (
    "i am ", "i m ", "he is", "he s ", "she is", "she s ", "you are", "you re ",
    "we are", "we re ", "they are", "they re ",
)
SOS, EOS = 0, 1


def unicode_to_ascii(s):
    return "".join(c for c in unicodedata.normalize("NFD", s) if unicodedata.category(c) != "Mn")


def normalize(s):
    s = unicode_to_ascii(s.lower().strip())
    s = re.sub(r"([.!?])", r" \1", s)
    s = re.sub(r"[^a-zA-Z.!?]+", r" ", s)
    return s.strip()


def read_pairs(path):
    """(English, French) of each line of fra.txt, as written there."""
    with open(path, encoding="utf-8") as f:
        rows = (line.rstrip("\n").split("\t") for line in f)
        return [(cols[0], cols[1]) for cols in rows if len(cols) >= 2]


def prepare(args):
    pairs = []
    for raw_en, raw_fr in read_pairs(args.fra):
        en, fr = normalize(raw_en), normalize(raw_fr)
        if (len(en.split(" ")) < MAX_LENGTH and len(fr.split(" ")) < MAX_LENGTH
                and en.startswith(ENG_PREFIXES)):
            pairs.append((raw_en, raw_fr) if args.raw else (en, fr))
    random.Random(args.seed).shuffle(pairs)
    n_test = len(pairs) // 10
    write_split(args.outdir, pairs[n_test:], pairs[:n_test])


def head(args):
    pairs = read_pairs(args.fra)[: args.train + args.test]
    if len(pairs) < args.train + args.test:
        sys.exit(f"{args.fra} has only {len(pairs)} pairs, not {args.train} + {args.test}")
    random.Random(args.seed).shuffle(pairs)
    write_split(args.outdir, pairs[args.test :], pairs[: args.test])


def write_split(out, train, test):
    for name, rows in (("train.tsv", train), ("test.tsv", test)):
        with open(f"{out}/{name}", "w", encoding="utf-8") as f:
            f.writelines(f"{en}\t{fr}\n" for en, fr in rows)
    with open(f"{out}/test.en", "w", encoding="utf-8") as f:
        f.writelines(f"{en}\n" for en, _ in test)
    with open(f"{out}/test.fr", "w", encoding="utf-8") as f:
        f.writelines(f"{fr}\n" for _, fr in test)
    print(json.dumps({"pairs": len(train) + len(test), "train": len(train), "test": len(test)}))


class Lang:
    def __init__(self):
        self.index = {}
        self.words = ["SOS", "EOS"]

    def add(self, sentence):
        for w in sentence.split(" "):
            if w not in self.index:
                self.index[w] = len(self.words)
                self.words.append(w)


class EncoderRNN(nn.Module):
    def __init__(self, input_size, hidden_size, dropout_p=0.1):
        super().__init__()
        self.embedding = nn.Embedding(input_size, hidden_size)
        self.gru = nn.GRU(hidden_size, hidden_size, batch_first=True)
        self.dropout = nn.Dropout(dropout_p)

    def forward(self, x):
        return self.gru(self.dropout(self.embedding(x)))


class BahdanauAttention(nn.Module):
    def __init__(self, hidden_size):
        super().__init__()
        self.Wa = nn.Linear(hidden_size, hidden_size)
        self.Ua = nn.Linear(hidden_size, hidden_size)
        self.Va = nn.Linear(hidden_size, 1)

    def forward(self, query, keys):
        scores = self.Va(torch.tanh(self.Wa(query) + self.Ua(keys))).squeeze(2).unsqueeze(1)
        weights = F.softmax(scores, dim=-1)
        return torch.bmm(weights, keys), weights


class AttnDecoderRNN(nn.Module):
    def __init__(self, hidden_size, output_size, dropout_p=0.1):
        super().__init__()
        self.embedding = nn.Embedding(output_size, hidden_size)
        self.attention = BahdanauAttention(hidden_size)
        self.gru = nn.GRU(2 * hidden_size, hidden_size, batch_first=True)
        self.out = nn.Linear(hidden_size, output_size)
        self.dropout = nn.Dropout(dropout_p)

    def step(self, inp, hidden, enc):
        embedded = self.dropout(self.embedding(inp))
        query = hidden.permute(1, 0, 2)
        context, _ = self.attention(query, enc)
        output, hidden = self.gru(torch.cat((embedded, context), dim=2), hidden)
        return self.out(output), hidden

    def forward(self, enc, hidden, target):
        inp = torch.full((enc.size(0), 1), SOS, dtype=torch.long)
        outs = []
        for i in range(MAX_LENGTH):
            out, hidden = self.step(inp, hidden, enc)
            outs.append(out)
            inp = target[:, i].unsqueeze(1)  # teacher forcing, as the tutorial
        return F.log_softmax(torch.cat(outs, dim=1), dim=-1)


def ids(lang, sentence):
    return [lang.index[w] for w in sentence.split(" ") if w in lang.index]


def train(args):
    torch.manual_seed(args.seed)
    random.seed(args.seed)
    pairs = [line.rstrip("\n").split("\t") for line in open(f"{args.outdir}/train.tsv", encoding="utf-8")]
    src_lang, tgt_lang = Lang(), Lang()
    for en, fr in pairs:
        src_lang.add(en)
        tgt_lang.add(fr)
    n = len(pairs)
    src = torch.zeros((n, MAX_LENGTH), dtype=torch.long)
    tgt = torch.zeros((n, MAX_LENGTH), dtype=torch.long)
    for i, (en, fr) in enumerate(pairs):
        a, b = ids(src_lang, en) + [EOS], ids(tgt_lang, fr) + [EOS]
        src[i, : len(a)] = torch.tensor(a)
        tgt[i, : len(b)] = torch.tensor(b)
    hidden = 128
    encoder = EncoderRNN(len(src_lang.words), hidden)
    decoder = AttnDecoderRNN(hidden, len(tgt_lang.words))
    params = list(encoder.parameters()) + list(decoder.parameters())
    opt = torch.optim.Adam(params, lr=1e-3)
    # The tutorial pads with 0 (= SOS) and does not mask: its NLLLoss counts padding too.
    criterion = nn.NLLLoss()
    start = time.perf_counter()
    epochs, losses = 0, []
    while time.perf_counter() - start < args.seconds:
        perm = torch.randperm(n)
        total, batches = 0.0, 0
        for b in range(0, n, 32):
            idx = perm[b : b + 32]
            opt.zero_grad()
            enc, h = encoder(src[idx])
            out = decoder(enc, h, tgt[idx])
            loss = criterion(out.view(-1, out.size(-1)), tgt[idx].view(-1))
            loss.backward()
            opt.step()
            total += loss.item()
            batches += 1
            if time.perf_counter() - start >= args.seconds:
                break
        epochs += 1  # the last one may be partial
        losses.append(total / max(1, batches))
        print(f"epoch {epochs}: loss {losses[-1]:.4f} ({time.perf_counter() - start:.0f} s)", file=sys.stderr)
    train_seconds = time.perf_counter() - start
    encoder.eval()
    decoder.eval()
    sources = [line.rstrip("\n") for line in open(f"{args.outdir}/test.en", encoding="utf-8")]
    result = {"epochs": epochs, "train_seconds": train_seconds, "last_loss": losses[-1] if losses else None,
              "train_pairs": n, "threads": torch.get_num_threads()}
    for width in (1, args.beam):
        t0 = time.perf_counter()
        with torch.no_grad():
            outs = [translate(encoder, decoder, src_lang, tgt_lang, s, width) for s in sources]
        seconds = time.perf_counter() - t0
        path = f"{args.outdir}/torch-beam{width}.fr"
        with open(path, "w", encoding="utf-8") as f:
            f.writelines(o + "\n" for o in outs)
        result[f"beam{width}"] = {"path": path, "sentences_per_sec": len(sources) / seconds}
    print(json.dumps(result))


def translate(encoder, decoder, src_lang, tgt_lang, sentence, width):
    """One sentence at a time, as the tutorial's evaluate(); width 1 is its greedy decoder,
    a wider beam ranks finished hypotheses by log-prob / length^0.7 (seqmodels' default)."""
    x = torch.tensor([ids(src_lang, sentence) + [EOS]])
    enc, hidden = encoder(x)
    beams = [(0.0, [SOS], hidden)]
    finished = []
    for _ in range(MAX_LENGTH):
        cands = []
        for score, toks, h in beams:
            out, h2 = decoder.step(torch.tensor([[toks[-1]]]), h, enc)
            lp = F.log_softmax(out[0, -1], dim=-1)
            top = torch.topk(lp, width)
            for v, i in zip(top.values.tolist(), top.indices.tolist()):
                cands.append((score + v, toks + [i], h2))
        cands.sort(key=lambda c: -c[0])
        beams = []
        for c in cands[:width]:
            if c[1][-1] == EOS:
                finished.append((c[0] / (len(c[1]) - 1) ** 0.7, c[1][1:-1]))
            else:
                beams.append(c)
        if len(finished) >= width or not beams:
            break
    if not finished:
        finished = [(s / (len(t) - 1) ** 0.7, t[1:]) for s, t, _ in beams]
    best = max(finished, key=lambda f: f[0])[1]
    return " ".join(tgt_lang.words[i] for i in best)


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("prepare")
    a.add_argument("fra")
    a.add_argument("outdir")
    a.add_argument("--seed", type=int, default=1)
    a.add_argument("--raw", action="store_true")
    h = sub.add_parser("head")
    h.add_argument("fra")
    h.add_argument("outdir")
    h.add_argument("--train", type=int, default=3000)
    h.add_argument("--test", type=int, default=300)
    h.add_argument("--seed", type=int, default=1)
    b = sub.add_parser("train")
    b.add_argument("outdir")
    b.add_argument("--seconds", type=float, required=True)
    b.add_argument("--beam", type=int, default=5)
    b.add_argument("--seed", type=int, default=1)
    args = p.parse_args()
    {"prepare": prepare, "head": head, "train": train}[args.cmd](args)


if __name__ == "__main__":
    main()
