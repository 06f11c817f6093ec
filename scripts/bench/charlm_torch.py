"""The PyTorch peer of seqmodels charlm for scripts/bench/charlm.sh.

A character-level LSTM language model (embedding -> LSTM -> dropout -> linear) trained with
Adam, global-norm gradient clipping and an optional linear learning-rate decay, on the same
data, vocabulary and batching as `seqmodels charlm`, so that training throughput and held-out
loss can be compared. Prints one JSON line to stdout at the end; progress goes to stderr.

  --unit line: each non-empty line is one sequence; index 0 is a boundary token, input
               [0, c1..cn], target [c1..cn, 0], padded batches of B lines reshuffled each epoch.
  --unit text: the file is one character stream cut into B contiguous parts, read in windows of
               --seq-len with the LSTM state carried (detached) between windows.

usage: python charlm_torch.py --train T.txt --valid V.txt --unit line --embed 64 --hidden 256 \\
         --layers 2 --dropout 0.1 --batch 64 --lr 2e-3 --threads 2 --seed 1 --time-budget 60
"""
import argparse
import json
import random
import sys
import time
from collections import Counter

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import pad_sequence


def read_text(path):
    # newline="" keeps the file's characters as they are (no \r\n translation).
    with open(path, encoding="utf-8", newline="") as f:
        return f.read()


def read_lines(path):
    # The trailing newline (\n or \r\n) is stripped; inner spaces are kept; empty lines skipped.
    lines = [line[:-1] if line.endswith("\r") else line for line in read_text(path).split("\n")]
    return [line for line in lines if line]


def make_vocab(chars, first):
    """Characters sorted by count descending, then by codepoint; indices start at `first`."""
    counts = Counter(chars)
    return {ch: i + first for i, ch in enumerate(sorted(counts, key=lambda c: (-counts[c], c)))}


def encode(s, vocab, what):
    for ch in s:
        if ch not in vocab:
            sys.exit(f"charlm_torch: character {ch!r} (U+{ord(ch):04X}) of {what} "
                     f"is not in the training vocabulary")
    return [vocab[ch] for ch in s]


class CharLM(nn.Module):
    def __init__(self, vocab, embed, hidden, layers, dropout):
        super().__init__()
        self.embed = nn.Embedding(vocab, embed)
        self.lstm = nn.LSTM(embed, hidden, num_layers=layers, batch_first=True,
                            dropout=dropout if layers > 1 else 0.0)
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(hidden, vocab)

    def forward(self, x, state=None):
        h, state = self.lstm(self.embed(x), state)
        return self.out(self.drop(h)), state


def line_batches(seqs, batch):
    """(input, target) pairs of up to `batch` lines, padded: inputs with 0, targets with -100."""
    for i in range(0, len(seqs), batch):
        chunk = seqs[i:i + batch]
        x = pad_sequence([torch.tensor([0] + s) for s in chunk], batch_first=True, padding_value=0)
        y = pad_sequence([torch.tensor(s + [0]) for s in chunk], batch_first=True,
                         padding_value=-100)
        yield x, y


def stream_windows(data, seq_len):
    """Windows over a (parts, length) tensor: input data[:, t:t+n], target data[:, t+1:t+1+n]."""
    for t in range(0, data.shape[1] - 1, seq_len):
        n = min(seq_len, data.shape[1] - 1 - t)
        yield data[:, t:t + n], data[:, t + 1:t + 1 + n]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--train", required=True)
    ap.add_argument("--valid", required=True)
    ap.add_argument("--unit", choices=["line", "text"], required=True)
    ap.add_argument("--seq-len", type=int, default=128)
    ap.add_argument("--embed", type=int, required=True)
    ap.add_argument("--hidden", type=int, required=True)
    ap.add_argument("--layers", type=int, required=True)
    ap.add_argument("--dropout", type=float, required=True)
    ap.add_argument("--batch", type=int, required=True)
    ap.add_argument("--lr", type=float, required=True)
    ap.add_argument("--lr-min", type=float, default=None)
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--seed", type=int, required=True)
    budget = ap.add_mutually_exclusive_group(required=True)
    budget.add_argument("--epochs", type=int)
    budget.add_argument("--time-budget", type=float)
    ap.add_argument("--clip-norm", type=float, default=1.0)
    args = ap.parse_args()
    if (args.epochs is not None and args.epochs < 1) or (args.time_budget is not None
                                                         and args.time_budget <= 0):
        ap.error("--epochs must be at least 1 and --time-budget positive")

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    if args.unit == "line":
        train_lines = read_lines(args.train)
        vocab = make_vocab("".join(train_lines), first=1)  # 0 is the boundary token
        train = [encode(s, vocab, args.train) for s in train_lines]
        valid = [encode(s, vocab, args.valid) for s in read_lines(args.valid)]
        if not train or not valid:
            sys.exit("charlm_torch: no non-empty lines in the training or validation file")
        n_vocab = len(vocab) + 1
        batches_per_epoch = (len(train) + args.batch - 1) // args.batch
    else:
        train_text = read_text(args.train)
        vocab = make_vocab(train_text, first=0)
        ids = torch.tensor(encode(train_text, vocab, args.train))
        part = len(ids) // args.batch
        if part < 2:
            sys.exit("charlm_torch: training text too short for this batch size")
        train = ids[:part * args.batch].view(args.batch, part)
        # Validation reads VALID as a single stream (batch 1), state carried across windows,
        # so every character after the first is a counted target.
        valid = torch.tensor(encode(read_text(args.valid), vocab, args.valid)).view(1, -1)
        if valid.shape[1] < 2:
            sys.exit("charlm_torch: validation text too short")
        n_vocab = len(vocab)
        batches_per_epoch = (part - 1 + args.seq_len - 1) // args.seq_len

    model = CharLM(n_vocab, args.embed, args.hidden, args.layers, args.dropout)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr, betas=(0.9, 0.999), eps=1e-8)
    params = sum(p.numel() for p in model.parameters())

    def evaluate():
        model.eval()
        total, count, state = 0.0, 0, None
        with torch.no_grad():
            if args.unit == "line":
                batches = line_batches(valid, args.batch)
            else:
                batches = stream_windows(valid, args.seq_len)
            for x, y in batches:
                logits, state = model(x, state if args.unit == "text" else None)
                total += F.cross_entropy(logits.reshape(-1, n_vocab), y.reshape(-1),
                                         ignore_index=-100, reduction="sum").item()
                count += int((y != -100).sum())
        model.train()
        return total / count

    def progress(batches_done, seconds):
        p = 0.0
        if args.epochs:
            p = batches_done / (args.epochs * batches_per_epoch)
        if args.time_budget:
            p = max(p, seconds / args.time_budget)
        return min(p, 1.0)

    train_seconds, chars, batches_done, epoch = 0.0, 0, 0, 0
    validations = []
    out_of_time = False
    while not out_of_time and (args.epochs is None or epoch < args.epochs):
        start = time.perf_counter()
        if args.unit == "line":
            order = list(range(len(train)))
            random.Random(args.seed + epoch).shuffle(order)
            batches = line_batches([train[i] for i in order], args.batch)
        else:
            batches = stream_windows(train, args.seq_len)
        state = None
        for x, y in batches:
            if args.lr_min is not None:
                p = progress(batches_done, train_seconds + time.perf_counter() - start)
                for group in opt.param_groups:
                    group["lr"] = args.lr + (args.lr_min - args.lr) * p
            if args.unit == "text":
                logits, state = model(x, state)
                state = tuple(s.detach() for s in state)  # carried to the next window
            else:
                logits, _ = model(x)
            loss = F.cross_entropy(logits.reshape(-1, n_vocab), y.reshape(-1), ignore_index=-100)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if args.clip_norm > 0:
                nn.utils.clip_grad_norm_(model.parameters(), args.clip_norm)
            opt.step()
            chars += int((y != -100).sum())
            batches_done += 1
            if args.time_budget and train_seconds + time.perf_counter() - start > args.time_budget:
                out_of_time = True
                break
        train_seconds += time.perf_counter() - start
        epoch += 1
        validations.append(evaluate())  # after each epoch, or the partial one a budget cut short
        print(f"epoch {batches_done / batches_per_epoch:.3f}  train {train_seconds:.1f}s  "
              f"valid {validations[-1]:.4f} nats/char", file=sys.stderr)

    print(json.dumps({
        "train_seconds": train_seconds,
        "chars": chars,
        "chars_per_sec": chars / train_seconds,
        "epochs": batches_done / batches_per_epoch,
        "valid_nats_per_char": validations[-1],
        "best_valid_nats_per_char": min(validations),
        "params": params,
    }))


if __name__ == "__main__":
    main()
