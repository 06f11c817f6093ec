"""Writes corpora/emoji/{train,test}.csv: short English sentences labelled with one of five
emoji classes, in Emojify's layout (`sentence,label`, no header; 0 ❤️ love, 1 ⚾ sport,
2 😄 joy, 3 😞 sadness, 4 🍴 food). The sentences come from the templates and words below,
drawn with a fixed seed, so the files are reproducible and ours to license with the project.

usage: python3 scripts/make_emoji_corpus.py [OUT_DIR=corpora/emoji]
"""
import csv
import random
import sys
from pathlib import Path

WHO = ["i", "we", "my sister", "my brother", "mum", "dad", "my friend", "our team", "the kids", "she", "he", "they"]
CLASSES = {
    0: (["{who} love you so much", "i adore {person}", "you mean the world to me",
         "{who} really love {person}", "my heart belongs to {person}", "i miss you {person}",
         "{person} is the love of my life", "give me a hug {person}", "i cherish every moment with {person}",
         "sending you all my love"],
        {"person": ["my darling", "my sweetheart", "my wife", "my husband", "you", "my family", "my baby", "grandma"]}),
    1: (["{who} played {sport} all afternoon", "let us go play {sport}", "{who} won the {sport} match",
         "the {sport} game starts at noon", "{who} scored in the {sport} final", "do you want to watch {sport} tonight",
         "{who} practise {sport} every weekend", "our {sport} coach is strict", "the {sport} season begins soon",
         "i bought a new {sport} ball"],
        {"sport": ["baseball", "football", "tennis", "basketball", "soccer", "golf", "cricket", "hockey"]}),
    2: (["{who} {feel} so happy today", "this is the best day ever", "what a {good} surprise",
         "{who} laughed all night", "that joke was {good}", "i am thrilled about the news",
         "{who} passed the exam", "we are celebrating tonight", "you made me smile", "life is {good}"],
        {"feel": ["feel", "felt", "are", "were"], "good": ["wonderful", "great", "fantastic", "awesome", "funny", "amazing"]}),
    3: (["{who} {feel} so sad today", "this is the worst day", "i lost my {thing}",
         "{who} failed the exam", "nobody came to my party", "i feel lonely and {bad}",
         "{who} cried all night", "my {thing} broke again", "everything went wrong", "i am {bad} and tired"],
        {"feel": ["feel", "felt", "are", "were"], "bad": ["miserable", "upset", "depressed", "hopeless", "heartbroken"],
         "thing": ["wallet", "phone", "keys", "job", "dog"]}),
    4: (["{who} want to eat {food}", "let us have {food} for dinner", "the {food} was delicious",
         "{who} cooked {food} tonight", "i am hungry for {food}", "this restaurant serves great {food}",
         "can we order {food}", "lunch is {food} today", "{who} baked {food} this morning", "breakfast is ready"],
        {"food": ["pizza", "pasta", "sushi", "bread", "soup", "pancakes", "burgers", "salad", "noodles", "cake"]}),
}


def fill(template, slots, rng):
    out = template
    out = out.replace("{who}", rng.choice(WHO))
    for name, words in slots.items():
        out = out.replace("{" + name + "}", rng.choice(words))
    return out


def main():
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "corpora/emoji")
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(2026)
    seen = set()
    rows = []
    for label, (templates, slots) in CLASSES.items():
        made, tries = [], 0
        while len(made) < 50 and tries < 10000:
            tries += 1
            s = fill(rng.choice(templates), slots, rng)
            if s not in seen:
                seen.add(s)
                made.append((s, label))
        rows.append(made)
    train, test = [], []
    for made in rows:
        train += made[:40]
        test += made[40:]
    rng.shuffle(train)
    rng.shuffle(test)
    for name, data in (("train.csv", train), ("test.csv", test)):
        with open(out / name, "w", newline="", encoding="utf-8") as f:
            csv.writer(f, lineterminator="\n").writerows(data)
        print(f"wrote {out / name}: {len(data)} sentences")


if __name__ == "__main__":
    main()
