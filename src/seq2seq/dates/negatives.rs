//! What a date translator must refuse, for the `real` set: inputs that hold no date, incomplete
//! dates (a month and year, a year alone, a weekday alone, a day and month without a year, a
//! relative date such as `next week`), and impossible dates (`29 feb 2023`, `2010-06-31`, month
//! 13).
//!
//! The first kinds are paired with the empty target: the model learns to answer with its refusal
//! token. An impossible date is paired with its *transcription* (`30 feb 2010` → `2010-02-30`),
//! which is not a date: the model learns to copy what it reads, and the calendar constraint
//! turns the impossible day into a refusal at decoding time. The model copies; the calendar
//! judges.

use rand::Rng;

use super::generate::{days_in_month, is_leap_year};
use super::layouts::{self, Fields, Style};

/// Everyday words, for inputs that hold no date at all.
const WORDS: &[&str] = &[
    "the",
    "a",
    "and",
    "to",
    "of",
    "in",
    "is",
    "it",
    "you",
    "that",
    "was",
    "for",
    "on",
    "are",
    "with",
    "as",
    "i",
    "his",
    "they",
    "be",
    "at",
    "one",
    "have",
    "this",
    "from",
    "or",
    "had",
    "by",
    "hot",
    "word",
    "but",
    "what",
    "some",
    "we",
    "can",
    "out",
    "other",
    "were",
    "all",
    "there",
    "when",
    "up",
    "use",
    "your",
    "how",
    "said",
    "an",
    "each",
    "she",
    "which",
    "do",
    "their",
    "time",
    "if",
    "will",
    "way",
    "about",
    "many",
    "then",
    "them",
    "write",
    "would",
    "like",
    "so",
    "these",
    "her",
    "long",
    "make",
    "thing",
    "see",
    "him",
    "two",
    "has",
    "look",
    "more",
    "day",
    "could",
    "go",
    "come",
    "did",
    "number",
    "sound",
    "no",
    "most",
    "people",
    "my",
    "over",
    "know",
    "water",
    "than",
    "call",
    "first",
    "who",
    "may",
    "down",
    "side",
    "been",
    "now",
    "find",
    "hello",
    "thanks",
    "please",
    "meeting",
    "invoice",
    "total",
    "order",
    "shipped",
    "price",
    "name",
    "address",
    "city",
    "email",
    "phone",
    "page",
    "chapter",
    "room",
    "version",
    "error",
    "warning",
    "ok",
    "yes",
    "maybe",
    "later",
    "soon",
    "never",
    "always",
    "today's",
    "report",
    "sale",
    "free",
    "new",
    "old",
    "big",
    "small",
    "red",
    "blue",
    "green",
    "march",
    "august",
    "sun",
    "sat",
    "wed",
    "mon",
    "june",
    "april",
    "sunday",
    "friday",
    "good",
    "night",
    "morning",
    "evening",
    "weekend",
    "week",
    "month",
    "year",
    "date",
    "time",
    "birthday",
    "holiday",
    "season",
    "spring",
    "summer",
    "autumn",
    "fall",
    "winter",
    "christmas",
    "easter",
];

/// Relative and vague dates: the input names a day only relative to today, or none.
const RELATIVE: &[&str] = &[
    "today",
    "tomorrow",
    "yesterday",
    "tonight",
    "now",
    "right now",
    "soon",
    "later",
    "asap",
    "next week",
    "last week",
    "this week",
    "next month",
    "last month",
    "this month",
    "next year",
    "last year",
    "this year",
    "the day after tomorrow",
    "the day before yesterday",
    "this morning",
    "this afternoon",
    "this evening",
    "in a week",
    "in two weeks",
    "a week ago",
    "a month ago",
    "a year ago",
    "end of the week",
    "end of month",
    "end of the year",
    "beginning of next month",
    "the other day",
    "some day",
    "any day now",
    "in a fortnight",
    "a fortnight ago",
    "over the weekend",
    "next weekend",
    "last weekend",
    "every day",
    "every monday",
    "weekly",
    "daily",
    "monthly",
    "annually",
];

fn fields<R: Rng + ?Sized>(rng: &mut R, year: i32, month: u32, day: u32) -> Fields {
    Fields {
        year,
        month,
        day,
        weekday: Some(rng.random_range(0..7)),
    }
}

/// Words of `WORDS`, `n` of them.
fn phrase<R: Rng + ?Sized>(rng: &mut R, n: usize) -> String {
    (0..n)
        .map(|_| WORDS[rng.random_range(0..WORDS.len())])
        .collect::<Vec<_>>()
        .join(" ")
}

/// Something that is not a date at all: words, numbers, times, prices, codes.
fn no_date<R: Rng + ?Sized>(rng: &mut R) -> (String, &'static str) {
    let n = |rng: &mut R, hi: u32| rng.random_range(0..hi);
    let text = match rng.random_range(0..12) {
        0..=3 => {
            let words = rng.random_range(1..6);
            phrase(rng, words)
        }
        4 => layouts::time_suffix(rng, false)
            .trim_start_matches([' ', ',', '@', '-', 'a', 't'])
            .to_owned(),
        5 => format!("{}", n(rng, 1_000_000)),
        6 => format!("${}.{:02}", n(rng, 1000), n(rng, 100)),
        7 => format!(
            "+{} {} {} {}",
            n(rng, 99),
            n(rng, 999),
            n(rng, 9999),
            n(rng, 9999)
        ),
        8 => format!("{} {}", phrase(rng, 1), n(rng, 500)),
        9 => format!("{}.{}", n(rng, 100), n(rng, 100)),
        10 => format!("{} #{}", phrase(rng, 1), n(rng, 100_000)),
        _ => format!("{} {}", phrase(rng, 2), n(rng, 100)),
    };
    (text, "no date")
}

/// A date with a part missing: month and year, year alone, weekday alone, day and month.
fn incomplete<R: Rng + ?Sized>(rng: &mut R, year: i32) -> (String, &'static str) {
    let month = rng.random_range(1..=12);
    let day = rng.random_range(1..=28);
    let f = fields(rng, year, month, day);
    let style = Style::draw(rng);
    let (template, kind) = match rng.random_range(0..16) {
        0 => ("{M} {Y}", "month and year"),
        1 => ("{M}, {Y}", "month and year"),
        2 => ("{M} of {Y}", "month and year"),
        3 => (
            [
                "{MM}/{Y}",
                "{Y}-{MM}",
                "{MM}.{Y}",
                "{Mn}/{YY}",
                "{M} {AY}",
                "{Y}/{MM}",
            ][rng.random_range(0..6)],
            "month and year",
        ),
        4 => (
            [
                "{Y}",
                "the year {Y}",
                "in {Y}",
                "{Y}s",
                "year {Y}",
                "fy{Y}",
                "{AY}",
            ][rng.random_range(0..7)],
            "year",
        ),
        5 => (
            [
                "{W}",
                "{W}",
                "next {W}",
                "last {W}",
                "this {W}",
                "on {W}",
                "{W} night",
            ][rng.random_range(0..7)],
            "weekday",
        ),
        6 => ("{M} {D}", "day and month"),
        7 => ("{D} {M}", "day and month"),
        8 => (
            [
                "the {Do} of {M}",
                "{M} {Do}",
                "{Do} {M}",
                "{W} {M} {D}",
                "{W}, {D} {M}",
                "{W} the {Do}",
                "the {Do}",
                "{M} {Dw}",
            ][rng.random_range(0..8)],
            "day and month",
        ),
        9 => (
            ["{MM}/{DD}", "{DD}.{MM}.", "{Mn}/{D}", "{DD}/{MM}"][rng.random_range(0..4)],
            "day and month",
        ),
        10 => (
            [
                "q{Mn} {Y}",
                "spring {Y}",
                "summer of {Y}",
                "autumn {Y}",
                "winter {AY}",
                "the {YY}s",
                "week {D} of {Y}",
                "h1 {Y}",
            ][rng.random_range(0..8)],
            "month and year",
        ),
        11 => ("{M}", "month"),
        _ => {
            return (
                RELATIVE[rng.random_range(0..RELATIVE.len())].to_owned(),
                "relative",
            )
        }
    };
    (layouts::render(template, f, style, rng), kind)
}

/// An impossible date and its transcription: a day past the month's end, 29 February out of a
/// leap year, month 0 or 13-19, day 0 or 32-39.
fn impossible<R: Rng + ?Sized>(rng: &mut R, year: i32) -> (Fields, &'static [&'static str]) {
    const WORDED: &[&str] = &[
        "{D} {M} {Y}",
        "{M} {D}, {Y}",
        "{M} {D} {Y}",
        "{Do} {M} {Y}",
        "the {Do} of {M} {Y}",
        "{DD}-{M}-{Y}",
        "{M} {Do}, {Y}",
        "{D} {M}, {Y}",
    ];
    const NUMBERS: &[&str] = &[
        "{Y}-{MM}-{DD}",
        "{Y}/{MM}/{DD}",
        "{DD}.{MM}.{Y}",
        "{Y}.{MM}.{DD}",
        "{DD}-{MM}-{Y}",
    ];
    let f = |year, month, day| Fields {
        year,
        month,
        day,
        weekday: None,
    };
    match rng.random_range(0..10) {
        0..=4 => {
            let month = [2, 4, 6, 9, 11][rng.random_range(0..5)];
            let first = days_in_month(year, month) + 1;
            let day = rng.random_range(first..=31);
            let both = if rng.random_bool(0.5) {
                WORDED
            } else {
                NUMBERS
            };
            (f(year, month, day), both)
        }
        5 | 6 => {
            let mut y = year;
            while is_leap_year(y) {
                y += 1;
            }
            (
                f(y, 2, 29),
                if rng.random_bool(0.5) {
                    WORDED
                } else {
                    NUMBERS
                },
            )
        }
        7 | 8 => {
            let month = if rng.random_bool(0.2) {
                0
            } else {
                rng.random_range(13..=19)
            };
            (f(year, month, rng.random_range(1..=28)), NUMBERS)
        }
        _ => {
            let day = if rng.random_bool(0.3) {
                0
            } else {
                rng.random_range(32..=39)
            };
            (f(year, rng.random_range(1..=12), day), NUMBERS)
        }
    }
}

/// One input to refuse and its target: empty (refuse), or for an impossible date its
/// transcription `YYYY-MM-DD`; and the kind of input. `year` is drawn by the caller.
pub(super) fn sample<R: Rng + ?Sized>(rng: &mut R, year: i32) -> (String, String, &'static str) {
    match rng.random_range(0..10) {
        0..=2 => {
            let (text, kind) = no_date(rng);
            (text, String::new(), kind)
        }
        3..=6 => {
            let (text, kind) = incomplete(rng, year);
            (text, String::new(), kind)
        }
        _ => {
            let (fields, templates) = impossible(rng, year);
            let template = templates[rng.random_range(0..templates.len())];
            let style = Style::draw(rng);
            let text = layouts::render(template, fields, style, rng);
            let iso = format!("{:04}-{:02}-{:02}", fields.year, fields.month, fields.day);
            (text, iso, "impossible date")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::generate::Date;
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn refusals_are_empty_and_impossible_dates_are_transcribed() {
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let mut kinds = std::collections::BTreeSet::new();
        for _ in 0..3000 {
            let year = rng.random_range(1000..=2999);
            let (text, target, kind) = sample(&mut rng, year);
            assert!(!text.trim().is_empty(), "{kind}");
            kinds.insert(kind);
            if kind == "impossible date" {
                let b = target.as_bytes();
                assert!(b.len() == 10 && b[4] == b'-' && b[7] == b'-', "{target}");
                assert!(Date::parse_iso(&target).is_none(), "{text} -> {target}");
            } else {
                assert!(target.is_empty(), "{text} -> {target}");
            }
        }
        let want = [
            "day and month",
            "impossible date",
            "month",
            "month and year",
            "no date",
            "relative",
            "weekday",
            "year",
        ];
        assert_eq!(kinds.into_iter().collect::<Vec<_>>(), want);
    }
}
