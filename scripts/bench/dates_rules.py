"""Scores date readers on the hand-made files of scripts/bench/dates/ and prints one table.

The rule parsers run here: dateutil (``parser.parse``, default options) and dateparser
(``dateparser.parse``, English, every part of the date required). Each answers an ISO date or
refuses; an input is right when the answer equals the expected date, or, for an expected empty
answer, when it refuses. dateutil fills a missing part from its ``default`` date, so an input is
parsed twice with two defaults that differ in every part: when the answers differ, a part was
missing and the input counts as refused. The built-in model's answers are read from
``--outputs DIR`` (``FILE.out``: one answer per line, empty for a refusal, as ``seqmodels seq2seq
eval --output`` writes them).

With ``--speed FILE`` it also times both parsers on the inputs of FILE (one per line) and prints
inputs per second on one core.

usage: dates_rules.py --files DIR --outputs DIR [--speed FILE] [--day-first]
"""

import argparse
import datetime
import os
import time
import warnings

import dateparser
from dateutil import parser as dateutil_parser

warnings.filterwarnings("ignore")

FILES = ["real-world", "misspelt", "centuries", "not-dates"]
DEFAULTS = (datetime.datetime(2001, 1, 1), datetime.datetime(2002, 2, 2))


def by_dateutil(text, day_first=False):
    try:
        a, b = (dateutil_parser.parse(text, default=d, dayfirst=day_first) for d in DEFAULTS)
    except (ValueError, OverflowError, TypeError):
        return ""
    return a.date().isoformat() if a.date() == b.date() else ""


def make_dateparser(day_first=False):
    settings = {"REQUIRE_PARTS": ["day", "month", "year"], "DATE_ORDER": "DMY" if day_first else "MDY"}

    def parse(text):
        try:
            d = dateparser.parse(text, languages=["en"], settings=settings)
        except (ValueError, OverflowError, TypeError):
            return ""
        return d.date().isoformat() if d else ""

    return parse


def held_out(iso):
    """Years the generator of the `real` set never draws (seq2seq::dates::is_held_out_year)."""
    year = int(iso[:4])
    return not 1950 <= year <= 2049 and year % 73 == 0


def score(rows, answers):
    right = sum(a == e for (_, e), a in zip(rows, answers))
    dates = [a for (_, e), a in zip(rows, answers) if e]
    refused = [a for (_, e), a in zip(rows, answers) if not e]
    return {
        "right": right,
        "total": len(rows),
        # Dates refused, and refusals among the inputs to refuse.
        "dates_refused": sum(a == "" for a in dates),
        "dates": len(dates),
        "refused": sum(a == "" for a in refused),
        "to_refuse": len(refused),
    }


def read_rows(path):
    rows = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.strip():
                text, expected = line.split("\t")[:2]
                rows.append((text, expected.strip()))
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", required=True)
    ap.add_argument("--outputs", required=True)
    ap.add_argument("--names", default=",".join(FILES))
    ap.add_argument("--speed")
    ap.add_argument("--day-first", action="store_true")
    args = ap.parse_args()
    tools = [
        ("seqmodels (built-in)", None),
        ("dateutil", lambda t: by_dateutil(t, args.day_first)),
        ("dateparser", make_dateparser(args.day_first)),
    ]
    table = {}
    for name in args.names.split(","):
        rows = read_rows(os.path.join(args.files, name + ".tsv"))
        for tool, parse in tools:
            if parse is None:
                with open(os.path.join(args.outputs, name + ".out"), encoding="utf-8") as f:
                    answers = [line.rstrip("\n").strip() for line in f][: len(rows)]
            else:
                answers = [parse(text) for text, _ in rows]
            table[(name, tool)] = score(rows, answers)
            if name == "centuries":
                sub = [(r, a) for r, a in zip(rows, answers) if r[1] and held_out(r[1])]
                table[("centuries: unseen years", tool)] = score([r for r, _ in sub], [a for _, a in sub])
    names = [n for n in args.names.split(",")] + (
        ["centuries: unseen years"] if "centuries" in args.names else []
    )
    print("| file | " + " | ".join(t for t, _ in tools) + " |")
    print("|---|" + "---|" * len(tools))
    for name in names:
        cells = []
        for tool, _ in tools:
            s = table[(name, tool)]
            cell = f"{100 * s['right'] / s['total']:.1f}% ({s['right']}/{s['total']})"
            if s["dates"] and s["to_refuse"] == 0:
                cell += f", {s['dates_refused']} refused"
            cells.append(cell)
        print(f"| {name} | " + " | ".join(cells) + " |")
    if "not-dates" in args.names:
        cells = []
        for tool, _ in tools:
            s = table[("not-dates", tool)]
            cells.append(f"{100 * s['refused'] / s['to_refuse']:.1f}%")
        print("| not-dates: share refused | " + " | ".join(cells) + " |")
    if args.speed:
        with open(args.speed, encoding="utf-8") as f:
            inputs = [line.rstrip("\n") for line in f if line.strip()]
        for tool, parse in tools[1:]:
            start = time.perf_counter()
            for text in inputs:
                parse(text)
            seconds = time.perf_counter() - start
            print(f"speed: {tool} {len(inputs) / seconds:.0f} inputs/s ({len(inputs)} inputs, one core)")


if __name__ == "__main__":
    main()
