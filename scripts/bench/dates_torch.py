"""The course-size date model of seqmodels, written in PyTorch, for a training-speed comparison.

Same architecture as `seqmodels seq2seq train --preset course` (one-hot input, forward and
backward LSTM encoders of 32 units with the backward one reading each sequence reversed within
its length, additive attention with a 10-unit scorer masked over padding, an LSTMCell decoder of
64 units fed only the context, a linear output layer), same data file, batch size, optimiser
(Adam), learning rate, gradient clipping, held-out share and thread count. Prints seconds per
epoch of the training part (held-out evaluation excluded), as seqmodels reports it.

usage: python dates_torch.py PAIRS.tsv --epochs 3 --threads 2
"""
import argparse
import random
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Seq2Seq(nn.Module):
    def __init__(self, src_vocab, tgt_vocab, enc_hidden=32, dec_hidden=64, attn_hidden=10):
        super().__init__()
        self.src_vocab = src_vocab
        self.dec_hidden = dec_hidden
        self.fwd = nn.LSTM(src_vocab, enc_hidden, batch_first=True)
        self.bwd = nn.LSTM(src_vocab, enc_hidden, batch_first=True)
        self.attn_state = nn.Linear(dec_hidden, attn_hidden, bias=False)
        self.attn_key = nn.Linear(2 * enc_hidden, attn_hidden)
        self.attn_score = nn.Linear(attn_hidden, 1, bias=False)
        self.cell = nn.LSTMCell(2 * enc_hidden, dec_hidden)
        self.out = nn.Linear(dec_hidden, tgt_vocab)

    def forward(self, src, lengths, steps):
        batch, length = src.shape
        x = F.one_hot(src, self.src_vocab).float()
        positions = torch.arange(length).unsqueeze(0)
        lens = lengths.unsqueeze(1)
        mask = positions < lens
        reverse = torch.where(mask, lens - positions - 1, positions.expand(batch, length))
        forward, _ = self.fwd(x)
        rev = lambda t: t.gather(1, reverse.unsqueeze(-1).expand(-1, -1, t.shape[2]))
        backward, _ = self.bwd(rev(x))
        enc = torch.cat([forward, rev(backward)], 2)
        keys = self.attn_key(enc)
        h = torch.zeros(batch, self.dec_hidden)
        c = torch.zeros(batch, self.dec_hidden)
        logits = []
        for _ in range(steps):
            scores = self.attn_score(torch.tanh(keys + self.attn_state(h).unsqueeze(1))).squeeze(-1)
            alpha = scores.masked_fill(~mask, float("-inf")).softmax(-1)
            context = torch.bmm(alpha.unsqueeze(1), enc).squeeze(1)
            h, c = self.cell(context, (h, c))
            logits.append(self.out(h))
        return torch.stack(logits, 1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("pairs")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--lr", type=float, default=5e-3)
    ap.add_argument("--clip-norm", type=float, default=1.0)
    ap.add_argument("--valid-fraction", type=float, default=0.05)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    random.seed(args.seed)
    with open(args.pairs, encoding="utf-8") as f:
        pairs = [line.rstrip("\n").split("\t")[:2] for line in f if line.strip()]
    pairs = [(h.strip().lower(), iso) for h, iso in pairs]
    random.shuffle(pairs)
    n_valid = round(len(pairs) * args.valid_fraction)
    valid, train = pairs[:n_valid], pairs[n_valid:]
    src_chars = ["<pad>", "<unk>"] + sorted({ch for h, _ in train for ch in h})
    tgt_chars = ["<pad>"] + sorted({ch for _, iso in train for ch in iso})
    src_id = {ch: i for i, ch in enumerate(src_chars)}
    tgt_id = {ch: i for i, ch in enumerate(tgt_chars)}
    model = Seq2Seq(len(src_chars), len(tgt_chars))
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)

    def batch_of(items):
        longest = max(len(h) for h, _ in items)
        src = torch.zeros(len(items), longest, dtype=torch.long)
        for i, (h, _) in enumerate(items):
            src[i, : len(h)] = torch.tensor([src_id.get(ch, 1) for ch in h])
        lengths = torch.tensor([len(h) for h, _ in items])
        tgt = torch.tensor([[tgt_id[ch] for ch in iso] for _, iso in items])
        return src, lengths, tgt

    for epoch in range(1, args.epochs + 1):
        random.shuffle(train)
        start = time.perf_counter()
        model.train()
        total, count = 0.0, 0
        for b in range(0, len(train), args.batch_size):
            src, lengths, tgt = batch_of(train[b : b + args.batch_size])
            logits = model(src, lengths, tgt.shape[1])
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt.reshape(-1), ignore_index=0)
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), args.clip_norm)
            opt.step()
            total += loss.item() * tgt.numel()
            count += tgt.numel()
        seconds = time.perf_counter() - start
        model.eval()
        with torch.no_grad():
            src, lengths, tgt = batch_of(valid)
            pred = model(src, lengths, tgt.shape[1]).argmax(-1)
            acc = (pred == tgt).all(1).float().mean().item()
        print(f"epoch {epoch}: loss {total / count:.4f}, held-out exact match (greedy, unconstrained) {100 * acc:.2f}%, {seconds:.2f} s")
        print(f"pytorch_epoch_seconds {seconds:.3f}")


if __name__ == "__main__":
    main()
