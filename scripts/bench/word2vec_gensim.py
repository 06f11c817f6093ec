"""gensim's side of scripts/bench/word2vec.sh.

train: Word2Vec(corpus_file=..., sg=..., hs=..., cbow_mean=1, ...) with the given settings (skip-gram
       with negative sampling by default; --sg 0 for CBOW, --hs 1 for hierarchical softmax, with
       --negative 0 for it alone); writes word2vec binary.
eval:  evaluates any word2vec file as gensim does (analogies with restrict_vocab, word pairs), so
       seqmodels' and gensim's vectors are judged by the same code.
"""
import argparse
import json
import sys
import time

from gensim.models import KeyedVectors, Word2Vec


def train(a):
    start = time.perf_counter()
    model = Word2Vec(
        corpus_file=a.corpus, sg=a.sg, hs=a.hs, cbow_mean=1, negative=a.negative,
        vector_size=a.dim, window=a.window, min_count=a.min_count, sample=a.sample, alpha=a.alpha,
        min_alpha=0.0001, epochs=a.epochs, workers=a.threads, seed=a.seed,
    )
    seconds = time.perf_counter() - start
    model.wv.save_word2vec_format(a.out, binary=True)
    words = model.corpus_total_words * a.epochs
    print(json.dumps({"seconds": seconds, "words_per_sec": words / seconds, "vocab": len(model.wv)}))


def evaluate(a):
    kv = KeyedVectors.load_word2vec_format(a.vectors, binary=True)
    out = {}
    score, sections = kv.evaluate_word_analogies(a.analogies, restrict_vocab=a.restrict_vocab)
    total = next(s for s in sections if s["section"] == "Total accuracy")
    seen = len(total["correct"]) + len(total["incorrect"])
    out["analogy"] = {"accuracy": score, "correct": len(total["correct"]), "seen": seen}
    for path in a.pairs:
        (pearson, _), (spearman, _), oov = kv.evaluate_word_pairs(path)
        out[path.rsplit("/", 1)[-1]] = {"pearson": float(pearson), "spearman": float(spearman), "oov": oov}
    print(json.dumps(out))


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train")
    t.add_argument("corpus")
    t.add_argument("out")
    for name, kind, default in [("dim", int, 100), ("window", int, 5), ("negative", int, 5),
                                ("min-count", int, 5), ("sample", float, 1e-3), ("epochs", int, 5),
                                ("threads", int, 2), ("seed", int, 1), ("sg", int, 1),
                                ("hs", int, 0), ("alpha", float, 0.025)]:
        t.add_argument("--" + name, type=kind, default=default)
    e = sub.add_parser("eval")
    e.add_argument("vectors")
    e.add_argument("--analogies", required=True)
    e.add_argument("--restrict-vocab", type=int, default=30000)
    e.add_argument("--pairs", nargs="*", default=[])
    a = ap.parse_args()
    {"train": train, "eval": evaluate}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
