"""gensim's side of scripts/bench/word2vec.sh.

train: Word2Vec(corpus_file=..., sg=..., hs=..., cbow_mean=1, ...) with the given settings (skip-gram
       with negative sampling by default; --sg 0 for CBOW, --hs 1 for hierarchical softmax, with
       --negative 0 for it alone); writes word2vec binary.
eval:  evaluates any word2vec file as gensim does (analogies with restrict_vocab, word pairs), so
       seqmodels' and gensim's vectors are judged by the same code.
train-fasttext: FastText(corpus_file=..., sg=1, min_n, max_n, bucket, ...) with the same settings;
       writes fastText's .bin (gensim's save_facebook_model).
eval-fasttext: evaluates any fastText .bin through gensim's load_facebook_vectors: analogies and
       word pairs as `eval` does (vocabulary words only), and for each --oov-pairs file every pair,
       words outside the vocabulary answered from their n-grams (`wv[word]`), the Spearman rank
       correlation over all pairs, with how many pairs had such a word.
"""
import argparse
import json
import sys
import time

from gensim.models import FastText, KeyedVectors, Word2Vec


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


def train_fasttext(a):
    from gensim.models.fasttext import save_facebook_model

    start = time.perf_counter()
    model = FastText(
        corpus_file=a.corpus, sg=a.sg, hs=a.hs, cbow_mean=1, negative=a.negative,
        vector_size=a.dim, window=a.window, min_count=a.min_count, sample=a.sample, alpha=a.alpha,
        min_alpha=0.0001, epochs=a.epochs, workers=a.threads, seed=a.seed,
        min_n=a.minn, max_n=a.maxn, bucket=a.bucket,
    )
    seconds = time.perf_counter() - start
    save_facebook_model(model, a.out)
    words = model.corpus_total_words * a.epochs
    print(json.dumps({"seconds": seconds, "words_per_sec": words / seconds, "vocab": len(model.wv)}))


def oov_pairs(wv, path):
    """Spearman over every pair of `path`, words outside the vocabulary from their n-grams."""
    from scipy.stats import spearmanr

    gold, model, from_ngrams = [], [], 0
    for line in open(path, encoding="utf-8"):
        if not line.strip() or line.startswith("#"):
            continue
        a, b, score = line.rstrip("\n").split("\t")
        from_ngrams += int(a not in wv.key_to_index or b not in wv.key_to_index)
        va, vb = wv[a], wv[b]
        gold.append(float(score))
        norms = float((va @ va) ** 0.5 * (vb @ vb) ** 0.5)
        model.append(float(va @ vb) / norms if norms > 0 else 0.0)
    return {"spearman": float(spearmanr(gold, model)[0]), "pairs": len(gold), "from_ngrams": from_ngrams}


def evaluate_fasttext(a):
    from gensim.models.fasttext import load_facebook_vectors

    wv = load_facebook_vectors(a.vectors)
    out = evaluate_kv(wv, a)
    for path in a.oov_pairs:
        out[path.rsplit("/", 1)[-1] + " (oov from n-grams)"] = oov_pairs(wv, path)
    print(json.dumps(out))


def evaluate(a):
    print(json.dumps(evaluate_kv(KeyedVectors.load_word2vec_format(a.vectors, binary=True), a)))


def evaluate_kv(kv, a):
    out = {}
    score, sections = kv.evaluate_word_analogies(a.analogies, restrict_vocab=a.restrict_vocab)
    total = next(s for s in sections if s["section"] == "Total accuracy")
    seen = len(total["correct"]) + len(total["incorrect"])
    out["analogy"] = {"accuracy": score, "correct": len(total["correct"]), "seen": seen}
    for path in a.pairs:
        (pearson, _), (spearman, _), oov = kv.evaluate_word_pairs(path)
        out[path.rsplit("/", 1)[-1]] = {"pearson": float(pearson), "spearman": float(spearman), "oov": oov}
    return out


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    for cmd in ("train", "train-fasttext"):
        t = sub.add_parser(cmd)
        t.add_argument("corpus")
        t.add_argument("out")
        for name, kind, default in [("dim", int, 100), ("window", int, 5), ("negative", int, 5),
                                    ("min-count", int, 5), ("sample", float, 1e-3), ("epochs", int, 5),
                                    ("threads", int, 2), ("seed", int, 1), ("sg", int, 1),
                                    ("hs", int, 0), ("alpha", float, 0.025), ("minn", int, 3),
                                    ("maxn", int, 6), ("bucket", int, 2000000)]:
            t.add_argument("--" + name, type=kind, default=default)
    for cmd in ("eval", "eval-fasttext"):
        e = sub.add_parser(cmd)
        e.add_argument("vectors")
        e.add_argument("--analogies", required=True)
        e.add_argument("--restrict-vocab", type=int, default=30000)
        e.add_argument("--pairs", nargs="*", default=[])
        e.add_argument("--oov-pairs", nargs="*", default=[])
    a = ap.parse_args()
    commands = {"train": train, "eval": evaluate, "train-fasttext": train_fasttext,
                "eval-fasttext": evaluate_fasttext}
    commands[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
