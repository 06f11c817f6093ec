"""The PyTorch peer of seqmodels' LSTM sentence classifier (`seqmodels classify train`).

Mirrors src/classify: NFKC + lower-case + BERT's pre-tokeniser (whitespace split, every
punctuation character its own token); vocabulary <pad>=0, <unk>=1, then the words of the
pretrained word2vec binary file in file order; embedding (frozen unless --fine-tune) -> dropout
(--embed-dropout, training only) -> packed (bi)LSTM -> last layer's final hidden state(s), or
the maximum or mean of its outputs over the words (--pool) -> dropout -> linear. With
--fine-tune, as seqmodels: the vocabulary is <pad>, <unk>, the training words by count (these
rows are trained; those without a vector start at N(0, s^2), s the vectors' standard
deviation), then the vectors' other words (kept frozen). Adam, batch 32, gradient norm
clipped at 5, dev accuracy after every epoch (best kept; ties go to the lower dev loss),
early stopping with --patience, best weights restored for the test accuracy. Progress goes to
stderr; one JSON line goes to stdout. Loading the vectors is not timed.

usage: python classify_torch.py --train T --dev D --test E --vectors V.bin [--bidirectional]
       [--fine-tune] [--pool last|max|mean] [--embed-dropout P] [--dropout P] [--layers N]
       [--hidden N]
"""
import argparse
import copy
import json
import random
import sys
import time
import unicodedata

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence


def is_punct(c):
    o = ord(c)
    if 33 <= o <= 47 or 58 <= o <= 64 or 91 <= o <= 96 or 123 <= o <= 126:
        return True
    return unicodedata.category(c).startswith("P")


def words(text):
    out = []
    for chunk in unicodedata.normalize("NFKC", text).lower().split():
        cur = ""
        for c in chunk:
            if is_punct(c):
                if cur:
                    out.append(cur)
                out.append(c)
                cur = ""
            else:
                cur += c
        if cur:
            out.append(cur)
    return out


def read_sst(path):
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            parts = line.strip().split(None, 1)
            if len(parts) == 2:
                out.append((parts[0], parts[1].strip()))
    return out


class Classifier(nn.Module):
    def __init__(self, vectors, trained_rows, hidden, layers, dropout, bidirectional, classes,
                 pool, embed_dropout):
        super().__init__()
        self.embed_drop = nn.Dropout(embed_dropout)
        v, d = vectors.shape
        # Rows [0, trained_rows) are trained, the others frozen (all frozen when 0, all
        # trained when trained_rows == v).
        self.n = trained_rows
        self.embed = nn.Parameter(vectors[:trained_rows].clone()) if trained_rows else None
        self.register_buffer("frozen", vectors[trained_rows:].clone())
        self.pool = pool
        self.dirs = 2 if bidirectional else 1
        self.lstm = nn.LSTM(d, hidden, num_layers=layers, dropout=dropout if layers > 1 else 0.0,
                            batch_first=True, bidirectional=bidirectional)
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(hidden * self.dirs, classes)

    def lookup(self, ids):
        if self.embed is None:
            return F.embedding(ids, self.frozen)
        if len(self.frozen) == 0:
            return F.embedding(ids, self.embed, padding_idx=0)
        head = F.embedding(ids.clamp(max=self.n - 1), self.embed, padding_idx=0)
        tail = F.embedding((ids - self.n).clamp(min=0), self.frozen)
        return torch.where((ids < self.n).unsqueeze(-1), head, tail)

    def forward(self, ids, lengths):
        packed = pack_padded_sequence(self.embed_drop(self.lookup(ids)), lengths, batch_first=True,
                                      enforce_sorted=False)
        out, (h, _) = self.lstm(packed)
        if self.pool == "last":
            feats = torch.cat(list(h[-self.dirs:]), dim=-1)  # [B, hidden * dirs]
        elif self.pool == "max":
            feats = pad_packed_sequence(out, batch_first=True,
                                        padding_value=float("-inf"))[0].amax(1)
        else:
            feats = pad_packed_sequence(out, batch_first=True)[0].sum(1) / lengths.unsqueeze(-1)
        return self.out(self.drop(feats))


def batches(data, size):
    for i in range(0, len(data), size):
        rows = data[i:i + size]
        lengths = torch.tensor([len(ids) for ids, _ in rows])
        ids = torch.zeros(len(rows), int(lengths.max()), dtype=torch.long)
        for r, (x, _) in enumerate(rows):
            ids[r, :len(x)] = torch.tensor(x)
        yield ids, lengths, torch.tensor([y for _, y in rows])


def evaluate(model, data, size):
    model.eval()
    loss, correct = 0.0, 0
    with torch.no_grad():
        for ids, lengths, y in batches(data, size):
            logits = model(ids, lengths)
            loss += F.cross_entropy(logits, y, reduction="sum").item()
            correct += (logits.argmax(-1) == y).sum().item()
    return loss / len(data), correct / len(data)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    for name in ("--train", "--dev", "--test", "--vectors"):
        p.add_argument(name, required=True)
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--dropout", type=float, default=0.5)
    p.add_argument("--bidirectional", action="store_true")
    p.add_argument("--fine-tune", action="store_true")
    p.add_argument("--embed-dropout", type=float, default=0.0)
    p.add_argument("--pool", choices=("last", "max", "mean"), default="last")
    p.add_argument("--epochs", type=int, default=50)
    p.add_argument("--patience", type=int, default=10)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)

    from gensim.models import KeyedVectors
    kv = KeyedVectors.load_word2vec_format(a.vectors, binary=True)
    splits = {s: read_sst(getattr(a, s)) for s in ("train", "dev", "test")}
    labels = sorted({l for rows in splits.values() for l, _ in rows}, key=float)
    label_id = {l: i for i, l in enumerate(labels)}
    tokens = {s: [words(t) for _, t in rows] for s, rows in splits.items()}
    pretrained = torch.from_numpy(kv.vectors).float()
    words_in_order = ["<pad>", "<unk>"]
    if a.fine_tune:
        counts = {}
        for sentence in tokens["train"]:
            for w in sentence:
                counts[w] = counts.get(w, 0) + 1
        words_in_order += sorted((w for w in counts if w not in ("<pad>", "<unk>")),
                                 key=lambda w: (-counts[w], w))
    trained_rows = len(words_in_order) if a.fine_tune else 0
    have = set(words_in_order)
    words_in_order += [w for w in kv.index_to_key if w not in have]
    vocab = {w: i for i, w in enumerate(words_in_order)}
    vectors = torch.zeros(len(words_in_order), kv.vector_size)
    if a.fine_tune:
        vectors[:trained_rows] = torch.randn(trained_rows, kv.vector_size) * pretrained.std(
            unbiased=False).item()
    pairs = [(i, kv.key_to_index[w]) for i, w in enumerate(words_in_order) if w in kv.key_to_index]
    if pairs:
        rows_to = torch.tensor([i for i, _ in pairs], dtype=torch.long)
        rows_from = torch.tensor([j for _, j in pairs], dtype=torch.long)
        vectors[rows_to] = pretrained[rows_from]
    vectors[:2] = 0.0
    enc = {s: [([vocab.get(w, 1) for w in ws] or [1], label_id[l])
               for ws, (l, _) in zip(tokens[s], rows)]
           for s, rows in splits.items()}
    train, dev, test = enc["train"], enc["dev"], enc["test"]
    found = (sum(w in kv.key_to_index for ws in tokens["train"] for w in ws)
             / max(1, sum(len(ws) for ws in tokens["train"])))
    print(f"vocab {len(vectors)}, dim {kv.vector_size}, labels {labels}, train/dev/test "
          f"{len(train)}/{len(dev)}/{len(test)}, train token coverage {100 * found:.1f}%",
          file=sys.stderr)

    model = Classifier(vectors, trained_rows, a.hidden, a.layers, a.dropout, a.bidirectional,
                       len(labels), a.pool, a.embed_dropout)
    params = [q for q in model.parameters() if q.requires_grad]
    opt = torch.optim.Adam(params, lr=a.lr)
    rng = random.Random(a.seed)
    best = None  # (epoch, dev acc, dev loss, state_dict copy)
    epoch = 0
    start = time.perf_counter()
    for epoch in range(1, a.epochs + 1):
        t0 = time.perf_counter()
        model.train()
        order = train[:]
        rng.shuffle(order)
        loss_sum, correct = 0.0, 0
        for ids, lengths, y in batches(order, a.batch_size):
            logits = model(ids, lengths)
            loss = F.cross_entropy(logits, y)
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(params, 5.0)
            opt.step()
            loss_sum += loss.item() * len(y)
            correct += (logits.argmax(-1) == y).sum().item()
        dev_loss, dev_acc = evaluate(model, dev, a.batch_size)
        improved = best is None or dev_acc > best[1] or (dev_acc == best[1] and dev_loss < best[2])
        if improved:
            best = (epoch, dev_acc, dev_loss, copy.deepcopy(model.state_dict()))
        print(f"epoch {epoch}: train loss {loss_sum / len(train):.3f} acc "
              f"{100 * correct / len(train):.1f}%, dev acc {100 * dev_acc:.1f}%"
              f"{' (best)' if improved else ''} ({time.perf_counter() - t0:.1f} s)",
              file=sys.stderr, flush=True)
        if a.patience > 0 and epoch - best[0] >= a.patience:
            break
    seconds = time.perf_counter() - start
    model.load_state_dict(best[3])
    _, test_acc = evaluate(model, test, a.batch_size)
    print(json.dumps({"seconds": round(seconds, 3), "epochs": epoch, "best_epoch": best[0],
                      "dev_accuracy": best[1], "test_accuracy": test_acc,
                      "seconds_per_epoch": round(seconds / epoch, 3),
                      "train_sentences": len(train)}))


if __name__ == "__main__":
    main()
