"""A PyTorch twin of Emojify's V1 (the mean of a sentence's word vectors, then softmax), for
trying training recipes that `seqmodels classify train --model average` does not offer.

Words as seqmodels splits them (classify_torch.words); words without a vector are left out of
the mean, a sentence with none is the zero vector. Two recipes:
  adam    seqmodels' --model average: Adam, batch 32, dropout on the mean (--dropout), bias;
  course  the course's V1: W ~ N(0, 1/d), b = 0, SGD on one sentence at a time, no dropout.
Prints the test accuracy for each seed and, with --cv K, the K-fold cross-validated accuracy
within the training file (seed 1), which is what a recipe should be chosen on.

usage: python emojify_v1_torch.py VECTORS.bin [--recipe adam|course] [--epochs 400] [--lr 0.01]
       [--weight-decay 0] [--dropout 0.5] [--seeds 3] [--cv 6]
"""
import argparse
import csv
import json
import os
import statistics
import sys

import torch
import torch.nn.functional as F
from gensim.models import KeyedVectors

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from classify_torch import words  # noqa: E402

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../shared/data/emojify")


def read(path):
    with open(path, encoding="utf-8", newline="") as f:
        return [(words(r[0]), int(r[1])) for r in csv.reader(f) if r]


def features(kv, data):
    x = torch.zeros(len(data), kv.vector_size)
    for i, (ws, _) in enumerate(data):
        known = [torch.from_numpy(kv[w].copy()) for w in ws if w in kv.key_to_index]
        if known:
            x[i] = torch.stack(known).mean(0)
    return x, torch.tensor([y for _, y in data])


def accuracy(train, test, seed, a):
    """Trains on the (features, labels) pair `train` and returns the accuracy on `test`."""
    torch.manual_seed(seed)
    (x, y), (tx, ty) = train, test
    d = x.shape[1]
    order = torch.Generator().manual_seed(seed)
    if a.recipe == "course":
        w = (torch.randn(5, d) / d**0.5).requires_grad_()
        b = torch.zeros(5, requires_grad=True)
        opt = torch.optim.SGD([w, b], lr=a.lr, weight_decay=a.weight_decay)
        size, drop = 1, 0.0
    else:
        lin = torch.nn.Linear(d, 5)
        w, b = lin.weight, lin.bias
        opt = torch.optim.Adam([w, b], lr=a.lr, weight_decay=a.weight_decay)
        size, drop = 32, a.dropout
    for _ in range(a.epochs):
        for idx in torch.randperm(len(y), generator=order).split(size):
            opt.zero_grad()
            F.cross_entropy(F.dropout(x[idx], drop) @ w.T + b, y[idx]).backward()
            opt.step()
    with torch.no_grad():
        return 100.0 * ((tx @ w.T + b).argmax(1) == ty).float().mean().item()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("vectors")
    p.add_argument("--recipe", choices=["adam", "course"], default="adam")
    p.add_argument("--epochs", type=int, default=400)
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--weight-decay", type=float, default=0.0)
    p.add_argument("--dropout", type=float, default=0.5)
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--cv", type=int, default=0)
    p.add_argument("--data", default=DATA)
    a = p.parse_args()
    torch.set_num_threads(1)
    kv = KeyedVectors.load_word2vec_format(a.vectors, binary=True)
    train = features(kv, read(os.path.join(a.data, "train_emoji.csv")))
    test = features(kv, read(os.path.join(a.data, "tesss.csv")))
    tests = [accuracy(train, test, s, a) for s in range(1, a.seeds + 1)]
    out = {"recipe": a.recipe, "test": [round(t, 2) for t in tests]}
    out["test_mean"] = round(statistics.mean(tests), 2)
    if a.cv:
        x, y = train
        perm = torch.randperm(len(y), generator=torch.Generator().manual_seed(1)).tolist()
        cv = []
        for k in range(a.cv):
            held = set(perm[k :: a.cv])
            rest = torch.tensor([i for i in perm if i not in held])
            fold = torch.tensor(perm[k :: a.cv])
            cv.append(accuracy((x[rest], y[rest]), (x[fold], y[fold]), 1, a))
        out["cv_mean"] = round(statistics.mean(cv), 2)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
