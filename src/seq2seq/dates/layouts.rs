//! The `real` set's layouts: templates over a date's fields, with the variants people type
//! (`Sept.`, `Weds`, `Thurs`, `'07`, `twenty-first`), and the decorations around a date (a time
//! of day and a timezone, a label, brackets and punctuation).
//!
//! A template is text with fields in braces: `{Y}` year, `{YY}` two-digit year, `{AY}`
//! apostrophe year (`'07`, `’07`), `{MM}`/`{Mn}` month number padded or not, `{M}` month name,
//! `{DD}`/`{D}` day padded or not, `{D_}` day padded with a space (ctime), `{Do}` ordinal day
//! (`21st`), `{Dw}` ordinal word (`twenty-first`), `{W}` weekday, `{T}` a time `HH:MM:SS` and
//! `{Z}` a numeric zone. Fields render from [`Fields`], which may hold an impossible date (the
//! generator's transcriptions of `30 feb 2010`), so nothing here checks the calendar.

use rand::Rng;

use super::patterns::{ordinal_suffix, MONTH_ABBRS, MONTH_NAMES, WEEKDAY_ABBRS, WEEKDAY_NAMES};

/// What a template renders: a year, a month and a day (not necessarily a real date), and the
/// weekday when the date is real.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Fields {
    pub year: i32,
    pub month: u32,
    pub day: u32,
    /// 0 = Monday .. 6 = Sunday; `None` for an impossible date.
    pub weekday: Option<u32>,
}

/// Templates of dates written with words, beyond the wide set's.
pub(super) const WORDED: &[&str] = &[
    "{M} {D} {Y}",
    "{D} {M} {Y}",
    "{M} {D}, {Y}",
    "{D} {M}, {Y}",
    "{DD} {M} {Y}",
    "{Do} {M} {Y}",
    "{M} {Do}, {Y}",
    "{M} {Do} {Y}",
    "the {Do} of {M}, {Y}",
    "the {Do} of {M} {Y}",
    "{Do} of {M}, {Y}",
    "{DD}-{M}-{Y}",
    "{D}-{M}-{Y}",
    "{DD} {M}. {Y}",
    "{M} {Dw} {Y}",
    "{M} {Dw}, {Y}",
    "the {Dw} of {M} {Y}",
    "the {Dw} of {M}, {Y}",
    "{Dw} {M} {Y}",
    "{Dw} of {M} {Y}",
    "{Y} {M} {D}",
    "{D}. {M} {Y}",
];

/// Worded templates with a two-digit or apostrophe year.
pub(super) const WORDED_SHORT_YEAR: &[&str] = &[
    "{M} {D} {AY}",
    "{D} {M} {AY}",
    "{M} {D}, {AY}",
    "{Do} {M} {AY}",
    "{M} {Do} {AY}",
    "{DD}-{M}-{YY}",
    "{D} {M} {YY}",
    "{M} {D} {YY}",
    "{M} {D}, {YY}",
];

/// Templates with a weekday (only for real dates).
pub(super) const WEEKDAY: &[&str] = &[
    "{W}, {M} {Do}, {Y}",
    "{W} the {Do} of {M} {Y}",
    "{W}, the {Do} of {M}, {Y}",
    "{W} {M} {D} {Y}",
    "{W}, {D} {M} {Y}",
    "{W} {Do} {M} {Y}",
    "{W}, {M} {D} {Y}",
    "{W} {DD} {M} {Y}",
    "{W}, {M} {D}, {Y}",
    "{W} {D} {M} {AY}",
    "{W} the {Dw} of {M} {Y}",
    "{W}, {DD} {M} {Y} {T} {Z}",
    "{W} {M} {D_} {T} {Y}",
    "{W}, {Y}-{MM}-{DD}",
];

/// All-numeric templates that start with the year, or read day-first (`.` and `-`).
pub(super) const NUMERIC: &[&str] = &[
    "{Y}/{MM}/{DD}",
    "{Y}/{Mn}/{D}",
    "{Y}.{MM}.{DD}",
    "{Y}.{Mn}.{D}",
    "{Y}-{Mn}-{D}",
    "{Y}-{MM}-{DD}",
    "{DD}.{MM}.{Y}",
    "{D}.{Mn}.{Y}",
    "{DD}.{MM}.{YY}",
    "{D}.{Mn}.{YY}",
    "{DD}-{MM}-{Y}",
    "{D}-{Mn}-{Y}",
    "{DD}/{M}/{Y}:{T} {Z}",
];

/// Slashed numeric templates, month first; [`SLASHED_DAY_FIRST`] holds their day-first twins.
pub(super) const SLASHED: &[&str] = &[
    "{MM}/{DD}/{Y}",
    "{Mn}/{D}/{Y}",
    "{MM}/{DD}/{YY}",
    "{Mn}/{D}/{YY}",
];

/// [`SLASHED`] read day-first, in the same order.
pub(super) const SLASHED_DAY_FIRST: &[&str] = &[
    "{DD}/{MM}/{Y}",
    "{D}/{Mn}/{Y}",
    "{DD}/{MM}/{YY}",
    "{D}/{Mn}/{YY}",
];

/// Whether `template` writes the year with two digits (so only 1950-2049 may be drawn for it).
pub(super) fn short_year(template: &str) -> bool {
    template.contains("{YY}") || template.contains("{AY}")
}

/// English ordinal words of the days of a month, "first" .. "thirty-first"; `joiner` goes
/// between tens and units ("twenty-first", "twenty first").
pub(super) fn ordinal_word(day: u32, joiner: &str) -> String {
    const UNITS: [&str; 20] = [
        "",
        "first",
        "second",
        "third",
        "fourth",
        "fifth",
        "sixth",
        "seventh",
        "eighth",
        "ninth",
        "tenth",
        "eleventh",
        "twelfth",
        "thirteenth",
        "fourteenth",
        "fifteenth",
        "sixteenth",
        "seventeenth",
        "eighteenth",
        "nineteenth",
    ];
    match day {
        1..=19 => UNITS[day as usize].to_owned(),
        20 => "twentieth".to_owned(),
        21..=29 => format!("twenty{joiner}{}", UNITS[day as usize - 20]),
        30 => "thirtieth".to_owned(),
        31 => format!("thirty{joiner}first"),
        _ => day.to_string(),
    }
}

/// How names are written in one rendering (drawn once per sample, so a date does not mix
/// `Sept.` with `Monday`).
#[derive(Debug, Clone, Copy)]
pub(super) struct Style {
    /// 0 full name, 1 abbreviation, 2 abbreviation with a dot, 3 long abbreviation (`Sept`,
    /// `Tues`, `Weds`, `Thurs`).
    month: u8,
    weekday: u8,
    /// `’` rather than `'` before a two-digit year.
    curly: bool,
    /// "twenty first" rather than "twenty-first".
    spaced_words: bool,
}

impl Style {
    /// A style drawn for one sample.
    pub(super) fn draw<R: Rng + ?Sized>(rng: &mut R) -> Style {
        let variant = |rng: &mut R| match rng.random_range(0..10) {
            0..=4 => 0,
            5..=7 => 1,
            8 => 2,
            _ => 3,
        };
        Style {
            month: variant(rng),
            weekday: variant(rng),
            curly: rng.random_range(0..4) == 0,
            spaced_words: rng.random_range(0..4) == 0,
        }
    }
}

fn month_name(month: u32, style: u8) -> String {
    let i = (month as usize).wrapping_sub(1);
    let (Some(full), Some(abbr)) = (MONTH_NAMES.get(i), MONTH_ABBRS.get(i)) else {
        return String::new();
    };
    match style {
        0 => (*full).to_owned(),
        1 => (*abbr).to_owned(),
        _ if full.len() <= 4 => (*full).to_owned(),
        2 => format!("{abbr}."),
        _ if month == 9 => "sept.".to_owned(),
        _ => format!("{abbr}."),
    }
}

fn weekday_name(weekday: u32, style: u8) -> String {
    let i = weekday as usize;
    let (Some(full), Some(abbr)) = (WEEKDAY_NAMES.get(i), WEEKDAY_ABBRS.get(i)) else {
        return String::new();
    };
    match (style, weekday) {
        (0, _) => (*full).to_owned(),
        (1, _) => (*abbr).to_owned(),
        (2, _) => format!("{abbr}."),
        (_, 1) => "tues".to_owned(),
        (_, 2) => "weds".to_owned(),
        (_, 3) => "thurs".to_owned(),
        _ => (*abbr).to_owned(),
    }
}

/// A time of day `HH:MM:SS`.
fn clock<R: Rng + ?Sized>(rng: &mut R) -> String {
    format!(
        "{:02}:{:02}:{:02}",
        rng.random_range(0..24),
        rng.random_range(0..60),
        rng.random_range(0..60)
    )
}

/// A numeric timezone `+HHMM`.
fn zone<R: Rng + ?Sized>(rng: &mut R) -> String {
    let sign = if rng.random_bool(0.5) { '+' } else { '-' };
    format!(
        "{sign}{:02}{:02}",
        rng.random_range(0..13),
        [0, 0, 30][rng.random_range(0..3)]
    )
}

/// Renders `template` for `fields` in lower case, with `style`'s names.
pub(super) fn render<R: Rng + ?Sized>(
    template: &str,
    fields: Fields,
    style: Style,
    rng: &mut R,
) -> String {
    let mut out = String::with_capacity(48);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let close = rest[open..].find('}').map_or(rest.len(), |c| open + c);
        let field = &rest[open + 1..close.min(rest.len())];
        rest = rest.get(close + 1..).unwrap_or("");
        let Fields {
            year,
            month,
            day,
            weekday,
        } = fields;
        let yy = year.rem_euclid(100);
        match field {
            "Y" => out.push_str(&year.to_string()),
            "YY" => out.push_str(&format!("{yy:02}")),
            "AY" => out.push_str(&format!("{}{yy:02}", if style.curly { '’' } else { '\'' })),
            "MM" => out.push_str(&format!("{month:02}")),
            "Mn" => out.push_str(&month.to_string()),
            "M" => out.push_str(&month_name(month, style.month)),
            "DD" => out.push_str(&format!("{day:02}")),
            "D" => out.push_str(&day.to_string()),
            "D_" => out.push_str(&format!("{day:>2}")),
            "Do" => out.push_str(&format!("{day}{}", ordinal_suffix(day))),
            "Dw" => {
                let joiner = if style.spaced_words { " " } else { "-" };
                out.push_str(&ordinal_word(day, joiner));
            }
            "W" => {
                out.push_str(&weekday.map_or(String::new(), |w| weekday_name(w, style.weekday)));
            }
            "T" => out.push_str(&clock(rng)),
            "Z" => out.push_str(&zone(rng)),
            other => out.push_str(other),
        }
    }
    out.push_str(rest);
    out
}

/// A time of day, maybe with a timezone, as people put it after a date: " 10:30", " at 9pm",
/// ", 4:47 PM EST"; after an ISO date also "T10:30:00Z" and friends.
pub(super) fn time_suffix<R: Rng + ?Sized>(rng: &mut R, iso: bool) -> String {
    let (h24, m) = (rng.random_range(0..24u32), rng.random_range(0..60u32));
    let h12 = if h24 % 12 == 0 { 12 } else { h24 % 12 };
    let pm = if h24 >= 12 { "pm" } else { "am" };
    let s = rng.random_range(0..60u32);
    if iso && rng.random_bool(0.5) {
        let zone = match rng.random_range(0..5) {
            0 => String::new(),
            1 | 2 => "z".to_owned(),
            3 => format!("+{:02}:00", rng.random_range(0..13)),
            _ => format!("-{:02}:00", rng.random_range(0..13)),
        };
        let frac = match rng.random_range(0..4) {
            0 => format!(".{:03}", rng.random_range(0..1000)),
            1 => format!(".{:06}", rng.random_range(0..1_000_000)),
            _ => String::new(),
        };
        return format!("t{h24:02}:{m:02}:{s:02}{frac}{zone}");
    }
    let time = match rng.random_range(0..12) {
        0 => format!("{h24:02}:{m:02}"),
        1 => format!("{h24:02}:{m:02}:{s:02}"),
        2 => format!("{h24:02}:{m:02}:{s:02},{:03}", rng.random_range(0..1000)),
        3 => format!("{h24:02}:{m:02}:{s:02}.{:03}", rng.random_range(0..1000)),
        4 => format!("{h12}:{m:02}{pm}"),
        5 => format!("{h12}:{m:02} {pm}"),
        6 => format!("{h12}{pm}"),
        7 => format!("{h12} {pm}"),
        8 => format!("{h12}:{m:02} {}.m.", &pm[..1]),
        9 => ["noon", "midnight"][rng.random_range(0..2)].to_owned(),
        10 => format!("{h24}h{m:02}"),
        _ => format!("{h12}:{m:02}:{s:02} {pm}"),
    };
    const ZONES: [&str; 14] = [
        "utc", "gmt", "est", "edt", "pst", "pdt", "cet", "cest", "bst", "et", "pt", "ist", "jst",
        "aest",
    ];
    let zone = match rng.random_range(0..8) {
        0..=3 => String::new(),
        4 | 5 => format!(" {}", ZONES[rng.random_range(0..ZONES.len())]),
        6 => format!(" {}", zone(rng)),
        _ => format!(" {}:00", &zone(rng)[..3]),
    };
    let lead = [" ", " ", " ", " at ", ", ", " @ ", " - "][rng.random_range(0..7)];
    format!("{lead}{time}{zone}")
}

/// Labels that forms, posts and documents put before a date.
const LABELS: &[&str] = &[
    "date:",
    "date",
    "dated",
    "on",
    "posted",
    "posted on",
    "published",
    "published on",
    "updated",
    "updated:",
    "last updated:",
    "due",
    "due:",
    "due date:",
    "dob:",
    "d.o.b.",
    "date of birth:",
    "born",
    "born on",
    "issued",
    "issued on",
    "received",
    "sent",
    "sent:",
    "created",
    "created:",
    "modified:",
    "expires",
    "expiry date:",
    "exp.",
    "deadline:",
    "start date:",
    "end date:",
    "delivered",
    "delivered on",
    "shipped",
    "ordered",
    "signed",
    "signed on",
    "effective",
    "as of",
    "valid until",
    "until",
    "from",
    "released",
    "filed",
    "appointment:",
    "when:",
];

/// A label before the date, brackets or quotes around it, or punctuation after it.
pub(super) fn decorate<R: Rng + ?Sized>(text: &str, rng: &mut R) -> String {
    match rng.random_range(0..3) {
        0 => {
            let label = LABELS[rng.random_range(0..LABELS.len())];
            format!("{label} {text}")
        }
        1 => {
            const WRAPS: [(&str, &str); 9] = [
                ("(", ")"),
                ("[", "]"),
                ("\"", "\""),
                ("'", "'"),
                ("<", ">"),
                ("{", "}"),
                ("“", "”"),
                ("-- ", " --"),
                ("(", "),"),
            ];
            let (open, close) = WRAPS[rng.random_range(0..WRAPS.len())];
            format!("{open}{text}{close}")
        }
        _ => {
            const MARKS: [(&str, &str); 10] = [
                ("", "."),
                ("", ","),
                ("", ":"),
                ("", ";"),
                ("", " -"),
                ("", " —"),
                ("* ", ""),
                ("- ", ""),
                ("... ", ""),
                ("", "!"),
            ];
            let (before, after) = MARKS[rng.random_range(0..MARKS.len())];
            format!("{before}{text}{after}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn plain() -> Style {
        Style {
            month: 0,
            weekday: 0,
            curly: false,
            spaced_words: false,
        }
    }

    fn fields(year: i32, month: u32, day: u32, weekday: Option<u32>) -> Fields {
        Fields {
            year,
            month,
            day,
            weekday,
        }
    }

    #[test]
    fn templates_render_their_fields() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let jul10 = fields(2007, 7, 10, Some(1));
        let r = |t: &str, f: Fields, s: Style, rng: &mut ChaCha8Rng| render(t, f, s, rng);
        assert_eq!(r("{Y}/{MM}/{DD}", jul10, plain(), &mut rng), "2007/07/10");
        assert_eq!(r("{Y}.{Mn}.{D}", jul10, plain(), &mut rng), "2007.7.10");
        assert_eq!(r("{M} {D} {AY}", jul10, plain(), &mut rng), "july 10 '07");
        let curly = Style {
            curly: true,
            ..plain()
        };
        assert_eq!(r("{D} {M} {AY}", jul10, curly, &mut rng), "10 july ’07");
        assert_eq!(
            r(
                "the {Dw} of {M} {Y}",
                fields(2004, 6, 21, None),
                plain(),
                &mut rng
            ),
            "the twenty-first of june 2004"
        );
        let abbr = Style {
            month: 3,
            weekday: 3,
            ..plain()
        };
        assert_eq!(
            r(
                "{W}, {M} {D}, {Y}",
                fields(1996, 9, 18, Some(2)),
                abbr,
                &mut rng
            ),
            "weds, sept. 18, 1996"
        );
        assert_eq!(r("{W} {D} {M}", jul10, abbr, &mut rng), "tues 10 july");
        let ctime = r(
            "{W} {M} {D_} {T} {Y}",
            fields(2024, 3, 5, Some(1)),
            plain(),
            &mut rng,
        );
        assert!(
            ctime.starts_with("tuesday march  5 ") && ctime.ends_with(" 2024"),
            "{ctime}"
        );
        // An impossible date renders as written.
        assert_eq!(
            r(
                "{Y}-{MM}-{DD}",
                fields(2010, 2, 30, None),
                plain(),
                &mut rng
            ),
            "2010-02-30"
        );
    }

    #[test]
    fn ordinal_words_up_to_thirty_first() {
        assert_eq!(ordinal_word(1, "-"), "first");
        assert_eq!(ordinal_word(12, "-"), "twelfth");
        assert_eq!(ordinal_word(20, "-"), "twentieth");
        assert_eq!(ordinal_word(22, " "), "twenty second");
        assert_eq!(ordinal_word(30, "-"), "thirtieth");
        assert_eq!(ordinal_word(31, "-"), "thirty-first");
    }

    #[test]
    fn decorations_keep_the_date() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        for _ in 0..200 {
            let iso = rng.random_bool(0.5);
            let time = time_suffix(&mut rng, iso);
            assert!(
                !time.is_empty() && !time.contains(char::is_uppercase),
                "{time}"
            );
            let decorated = decorate("9 june 2011", &mut rng);
            assert!(decorated.contains("9 june 2011"), "{decorated}");
        }
    }
}
