"""The fastText and gensim sides of scripts/bench/fasttext_interop.sh.

vectors TOOL MODEL WORDS: prints {"word": [v1, ...]} for each line of WORDS, as TOOL reads the
    fastText model MODEL: `fasttext` (Debian's python3-fasttext, the 0.9.2 library, full float32
    precision), `print` (the `fasttext print-word-vectors` binary, 5 significant digits) or
    `gensim` (gensim.models.fasttext.load_facebook_model).
diff A.json B.json [WORDS]: prints the max abs difference between the vectors of two such files
    (over WORDS, a file of one word per line, if given; else over every word of A).
"""
import json
import subprocess
import sys


def vectors(tool, model, words_file):
    words = [w for w in open(words_file, encoding="utf-8").read().split("\n") if w]
    if tool == "fasttext":
        import fasttext

        m = fasttext.load_model(model)
        return {w: [float(x) for x in m.get_word_vector(w)] for w in words}
    if tool == "gensim":
        from gensim.models.fasttext import load_facebook_model

        wv = load_facebook_model(model).wv
        return {w: [float(x) for x in wv[w]] for w in words}
    if tool == "print":
        out = subprocess.run(
            ["fasttext", "print-word-vectors", model],
            input="\n".join(words) + "\n", capture_output=True, text=True, check=True,
        ).stdout
        rows = [line.split() for line in out.splitlines()]
        return {r[0]: [float(x) for x in r[1:]] for r in rows}
    raise SystemExit(f"unknown tool {tool}")


def diff(a, b, words_file=None):
    a, b = json.load(open(a, encoding="utf-8")), json.load(open(b, encoding="utf-8"))
    words = list(a) if words_file is None else [
        w for w in open(words_file, encoding="utf-8").read().split("\n") if w
    ]
    worst = 0.0
    for w in words:
        if w not in a or w not in b or len(a[w]) != len(b[w]):
            raise SystemExit(f"{w!r}: missing or of another length")
        worst = max(worst, max(abs(x - y) for x, y in zip(a[w], b[w])))
    return worst


if __name__ == "__main__":
    if sys.argv[1] == "vectors":
        json.dump(vectors(*sys.argv[2:5]), sys.stdout, ensure_ascii=False)
    elif sys.argv[1] == "diff":
        print(f"{diff(*sys.argv[2:]):.3g}")
    else:
        raise SystemExit(__doc__)
