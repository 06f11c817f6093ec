//! The rendering patterns behind [`super::formats`]: the course's fourteen babel
//! patterns, the wide set's extras, casing, and how each set draws a pattern.

use rand::Rng;

use super::generate::{Date, FormatSet};

pub(super) const MONTH_NAMES: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// CLDR en_US abbreviated (format-context) month names: "May" stays whole and
/// September is "Sep", which is why the wide set adds a separate "Sept" piece.
pub(super) const MONTH_ABBRS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

pub(super) const WEEKDAY_NAMES: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

pub(super) const WEEKDAY_ABBRS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// One field or literal of a pattern. Names are stored lower-case because the
/// course lower-cases everything; other casings are applied afterwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Piece {
    /// `d`: day without padding.
    Day,
    /// `dd`: two-digit day.
    Day2,
    /// Day with its English ordinal suffix ("1st", "22nd").
    DayOrd,
    /// `M`: month number without padding.
    Month,
    /// `MM`: two-digit month number.
    Month2,
    /// `MMM`: "jan" .. "dec".
    MonAbbr,
    /// `MMM`, but September written "sept" as many people do.
    MonSept,
    /// `MMMM`: full month name.
    MonName,
    /// `EEE`: "mon" .. "sun".
    WdayAbbr,
    /// `EEEE`: full weekday name.
    WdayName,
    /// `y`: the calendar year in full (never the week-based year, see module docs).
    Year,
    /// `yy`: the calendar year's last two digits.
    Year2,
    Lit(&'static str),
}

use Piece::{
    Day, Day2, DayOrd, Lit, MonAbbr, MonName, MonSept, Month, Month2, WdayAbbr, WdayName, Year,
    Year2,
};

const SP: Piece = Lit(" ");
const COMMA: Piece = Lit(", ");

/// One rendering pattern: a stable name (used in per-format accuracy tables)
/// and how to render a [`Date`] with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Format {
    /// Stable name: the course's own pattern string for course formats, a
    /// CLDR-like pattern (`y` for the year, `do` for an ordinal day) for the
    /// wide set's extras.
    pub name: &'static str,
    pieces: &'static [Piece],
    /// Course patterns go through the course's `.lower().replace(',', '')`.
    strip_commas: bool,
}

/// Letter case applied to a rendering. Only the wide set uses anything but
/// [`Casing::Lower`]; digits and punctuation are never changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Casing {
    /// All lower-case, as the course emits: "tuesday 10 july 2007".
    Lower,
    /// Month and weekday names and the first word capitalised: "Tuesday 10 July 2007".
    Capitalised,
    /// Only the first word capitalised: "Tuesday 10 july 2007".
    Sentence,
    /// Every word capitalised: "The 10th Of July 2007".
    Title,
    /// All upper-case: "TUESDAY 10 JULY 2007".
    Upper,
}

impl Casing {
    /// Every casing, in declaration order.
    pub const ALL: [Casing; 5] = [
        Casing::Lower,
        Casing::Capitalised,
        Casing::Sentence,
        Casing::Title,
        Casing::Upper,
    ];
}

impl Format {
    const fn course(name: &'static str, pieces: &'static [Piece]) -> Format {
        Format {
            name,
            pieces,
            strip_commas: true,
        }
    }

    const fn extra(name: &'static str, pieces: &'static [Piece]) -> Format {
        Format {
            name,
            pieces,
            strip_commas: false,
        }
    }

    /// Renders `date` in lower case (the course's casing). A `Date` built by
    /// struct literal with a month outside 1..=12 gets an empty month name
    /// rather than a panic.
    pub fn render(&self, date: Date) -> String {
        let mut out = String::with_capacity(32);
        for piece in self.pieces {
            match *piece {
                Day => out.push_str(&date.day.to_string()),
                Day2 => out.push_str(&format!("{:02}", date.day)),
                DayOrd => {
                    out.push_str(&date.day.to_string());
                    out.push_str(ordinal_suffix(date.day));
                }
                Month => out.push_str(&date.month.to_string()),
                Month2 => out.push_str(&format!("{:02}", date.month)),
                MonAbbr => out.push_str(month_name(&MONTH_ABBRS, date.month)),
                MonSept if date.month == 9 => out.push_str("sept"),
                MonSept => out.push_str(month_name(&MONTH_ABBRS, date.month)),
                MonName => out.push_str(month_name(&MONTH_NAMES, date.month)),
                WdayAbbr => out.push_str(WEEKDAY_ABBRS[date.weekday() as usize]),
                WdayName => out.push_str(WEEKDAY_NAMES[date.weekday() as usize]),
                Year => out.push_str(&date.year.to_string()),
                Year2 => out.push_str(&format!("{:02}", date.year.rem_euclid(100))),
                Lit(text) => out.push_str(text),
            }
        }
        if self.strip_commas {
            out.retain(|c| c != ',');
        }
        out
    }

    /// Renders `date` and applies `casing`.
    pub fn render_cased(&self, date: Date, casing: Casing) -> String {
        apply_casing(&self.render(date), casing)
    }

    /// Whether the pattern writes the year with two digits (`yy`).
    pub fn has_short_year(&self) -> bool {
        self.pieces.contains(&Year2)
    }

    /// True when the rendering has no letters at all (e.g. "09.05.98"), so
    /// reading it relies purely on the separator conventions.
    pub fn is_numeric(&self) -> bool {
        self.pieces.iter().all(|piece| match piece {
            Day | Day2 | Month | Month2 | Year | Year2 => true,
            Lit(text) => !text.chars().any(|c| c.is_ascii_alphabetic()),
            DayOrd | MonAbbr | MonSept | MonName | WdayAbbr | WdayName => false,
        })
    }
}

fn month_name(names: &[&'static str; 12], month: u32) -> &'static str {
    names
        .get((month as usize).wrapping_sub(1))
        .copied()
        .unwrap_or("")
}

/// English ordinal suffix of a day of the month: 1st 2nd 3rd 4th 11th 12th 13th 21st.
pub fn ordinal_suffix(day: u32) -> &'static str {
    match (day % 10, day % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    }
}

fn is_calendar_name(word: &str) -> bool {
    word == "sept"
        || [
            &MONTH_NAMES[..],
            &MONTH_ABBRS,
            &WEEKDAY_NAMES,
            &WEEKDAY_ABBRS,
        ]
        .iter()
        .any(|names| names.contains(&word))
}

/// Applies `casing` word by word, where a word is a run of ASCII letters and
/// digits; "10th" therefore starts with a digit and is never capitalised.
pub(super) fn apply_casing(text: &str, casing: Casing) -> String {
    match casing {
        Casing::Lower => return text.to_ascii_lowercase(),
        Casing::Upper => return text.to_ascii_uppercase(),
        Casing::Capitalised | Casing::Sentence | Casing::Title => {}
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut first = true;
    while !rest.is_empty() {
        let start = rest
            .find(|c: char| c.is_ascii_alphanumeric())
            .unwrap_or(rest.len());
        out.push_str(&rest[..start]);
        rest = &rest[start..];
        let end = rest
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(rest.len());
        let word = rest[..end].to_ascii_lowercase();
        let capitalise = match casing {
            Casing::Title => true,
            Casing::Sentence => first,
            _ => first || is_calendar_name(&word),
        };
        let mut chars = word.chars();
        if let (true, Some(head)) = (capitalise, chars.next()) {
            out.push(head.to_ascii_uppercase());
            out.push_str(chars.as_str());
        } else {
            out.push_str(&word);
        }
        first = false;
        rest = &rest[end..];
    }
    out
}

const SHORT: Format = Format::course("short", &[Month, Lit("/"), Day, Lit("/"), Year2]);
const MEDIUM: Format = Format::course("medium", &[MonAbbr, SP, Day, COMMA, Year]);
const LONG: Format = Format::course("long", &[MonName, SP, Day, COMMA, Year]);
const FULL: Format = Format::course("full", &[WdayName, COMMA, MonName, SP, Day, COMMA, Year]);
const D_MMM_Y: Format = Format::course("d MMM YYY", &[Day, SP, MonAbbr, SP, Year]);
const D_MMMM_Y: Format = Format::course("d MMMM YYY", &[Day, SP, MonName, SP, Year]);
const DD_MMM_Y: Format = Format::course("dd MMM YYY", &[Day2, SP, MonAbbr, SP, Year]);
const D_MMM_C_Y: Format = Format::course("d MMM, YYY", &[Day, SP, MonAbbr, COMMA, Year]);
const D_MMMM_C_Y: Format = Format::course("d MMMM, YYY", &[Day, SP, MonName, COMMA, Year]);
const DD_C_MMM_Y: Format = Format::course("dd, MMM YYY", &[Day2, COMMA, MonAbbr, SP, Year]);
const D_MM_YY: Format = Format::course("d MM YY", &[Day, SP, Month2, SP, Year2]);
const MMMM_D_Y: Format = Format::course("MMMM d YYY", &[MonName, SP, Day, SP, Year]);
const MMMM_D_C_Y: Format = Format::course("MMMM d, YYY", &[MonName, SP, Day, COMMA, Year]);
const DD_MM_YY_DOT: Format = Format::course("dd.MM.YY", &[Day2, Lit("."), Month2, Lit("."), Year2]);

/// How many of [`WIDE`]'s formats are the course's; they come first.
const COURSE_FORMATS: usize = 14;

/// The course's formats: the first [`COURSE_FORMATS`] of [`WIDE`].
fn course_formats() -> &'static [Format] {
    &WIDE[..COURSE_FORMATS]
}

/// The course's 24-entry `FORMATS` list as indices into [`course_formats`]; drawing
/// uniformly from it reproduces its weights ('full' 10/24, 'd MMMM YYY' 2/24).
const COURSE_DRAWS: [usize; 24] = [
    0, 1, 2, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 4, 5, 6, 7, 8, 9, 10, 5, 11, 12, 13,
];

/// Number of wide-only formats, which follow the course formats in [`WIDE`].
const EXTRAS: usize = 25;

// Numeric extras obey one reading per separator: '/' is month-first (en_US),
// '.' and '-' are day-first, and only ISO starts with a four-digit year.
static WIDE: [Format; COURSE_FORMATS + EXTRAS] = [
    SHORT,
    MEDIUM,
    LONG,
    FULL,
    D_MMM_Y,
    D_MMMM_Y,
    DD_MMM_Y,
    D_MMM_C_Y,
    D_MMMM_C_Y,
    DD_C_MMM_Y,
    D_MM_YY,
    MMMM_D_Y,
    MMMM_D_C_Y,
    DD_MM_YY_DOT,
    Format::extra("do of MMMM y", &[DayOrd, Lit(" of "), MonName, SP, Year]),
    Format::extra(
        "the do of MMMM y",
        &[Lit("the "), DayOrd, Lit(" of "), MonName, SP, Year],
    ),
    Format::extra("MMMM do y", &[MonName, SP, DayOrd, SP, Year]),
    Format::extra("MMMM do, y", &[MonName, SP, DayOrd, COMMA, Year]),
    Format::extra("do MMMM y", &[DayOrd, SP, MonName, SP, Year]),
    Format::extra("do MMM y", &[DayOrd, SP, MonAbbr, SP, Year]),
    Format::extra("EEE d MMM y", &[WdayAbbr, SP, Day, SP, MonAbbr, SP, Year]),
    Format::extra(
        "EEE, MMM d, y",
        &[WdayAbbr, COMMA, MonAbbr, SP, Day, COMMA, Year],
    ),
    Format::extra("EEEE d MMMM y", &[WdayName, SP, Day, SP, MonName, SP, Year]),
    Format::extra(
        "EEEE, MMMM d, y",
        &[WdayName, COMMA, MonName, SP, Day, COMMA, Year],
    ),
    Format::extra("MMMM d, y", &[MonName, SP, Day, COMMA, Year]),
    Format::extra("MMM d, y", &[MonAbbr, SP, Day, COMMA, Year]),
    Format::extra("dd-MMM-y", &[Day2, Lit("-"), MonAbbr, Lit("-"), Year]),
    Format::extra("dd-MMM-yy", &[Day2, Lit("-"), MonAbbr, Lit("-"), Year2]),
    Format::extra("d MMM yy", &[Day, SP, MonAbbr, SP, Year2]),
    Format::extra("Sept d y", &[MonSept, SP, Day, SP, Year]),
    Format::extra("d Sept y", &[Day, SP, MonSept, SP, Year]),
    Format::extra("y-MM-dd", &[Year, Lit("-"), Month2, Lit("-"), Day2]),
    Format::extra("MM/dd/y", &[Month2, Lit("/"), Day2, Lit("/"), Year]),
    Format::extra("M/d/y", &[Month, Lit("/"), Day, Lit("/"), Year]),
    Format::extra("MM/dd/yy", &[Month2, Lit("/"), Day2, Lit("/"), Year2]),
    Format::extra("dd.MM.y", &[Day2, Lit("."), Month2, Lit("."), Year]),
    Format::extra("d.M.y", &[Day, Lit("."), Month, Lit("."), Year]),
    Format::extra("d.M.yy", &[Day, Lit("."), Month, Lit("."), Year2]),
    Format::extra("dd-MM-y", &[Day2, Lit("-"), Month2, Lit("-"), Year]),
];

/// The formats of `set` in a fixed order. The wide set starts with the course
/// set's formats, in the same order, followed by its extras; the `real` set draws from the wide
/// set's patterns and its own templates, so it lists the wide set's.
pub fn formats(set: FormatSet) -> &'static [Format] {
    match set {
        FormatSet::Course => course_formats(),
        FormatSet::Wide | FormatSet::Real => &WIDE,
    }
}

/// Draws a format the way `set` draws it: the course draws uniformly from its
/// 24-entry list; the wide set draws a course draw one time in three and
/// otherwise one of its extras uniformly.
pub(super) fn draw_format<R: Rng + ?Sized>(set: FormatSet, rng: &mut R) -> &'static Format {
    match set {
        FormatSet::Course => {
            &course_formats()[COURSE_DRAWS[rng.random_range(0..COURSE_DRAWS.len())]]
        }
        FormatSet::Wide | FormatSet::Real if rng.random_range(0..3) == 0 => {
            draw_format(FormatSet::Course, rng)
        }
        FormatSet::Wide | FormatSet::Real => &WIDE[COURSE_FORMATS + rng.random_range(0..EXTRAS)],
    }
}

/// Casing for a wide sample: mostly lower (the course's style) or
/// capitalised names, with a tail of sentence, title and upper case.
pub(super) fn draw_casing<R: Rng + ?Sized>(rng: &mut R) -> Casing {
    match rng.random_range(0..10) {
        0..=3 => Casing::Lower,
        4..=6 => Casing::Capitalised,
        7 => Casing::Sentence,
        8 => Casing::Title,
        _ => Casing::Upper,
    }
}

#[cfg(test)]
mod tests {
    use super::super::{FIRST, LAST, MAX_HUMAN_LEN};
    use super::*;

    fn date(year: i32, month: u32, day: u32) -> Date {
        Date::new(year, month, day).expect("test dates are valid")
    }

    fn named(set: FormatSet, name: &str) -> &'static Format {
        formats(set)
            .iter()
            .find(|format| format.name == name)
            .unwrap_or_else(|| panic!("no format named {name:?} in {set}"))
    }

    fn course(name: &str, d: Date) -> String {
        named(FormatSet::Course, name).render(d)
    }

    #[test]
    fn course_patterns_render_the_course_examples() {
        let may9 = date(1998, 5, 9);
        assert_eq!(course("short", date(1970, 9, 10)), "9/10/70");
        assert_eq!(course("medium", may9), "may 9 1998");
        assert_eq!(course("long", may9), "may 9 1998");
        assert_eq!(course("full", date(1990, 4, 28)), "saturday april 28 1990");
        assert_eq!(course("d MMM YYY", may9), "9 may 1998");
        assert_eq!(course("d MMMM YYY", may9), "9 may 1998");
        assert_eq!(course("dd MMM YYY", may9), "09 may 1998");
        assert_eq!(course("d MMM, YYY", may9), "9 may 1998");
        assert_eq!(course("d MMMM, YYY", may9), "9 may 1998");
        assert_eq!(course("dd, MMM YYY", may9), "09 may 1998");
        assert_eq!(course("d MM YY", may9), "9 05 98");
        assert_eq!(course("MMMM d YYY", may9), "may 9 1998");
        assert_eq!(course("MMMM d, YYY", may9), "may 9 1998");
        assert_eq!(course("dd.MM.YY", may9), "09.05.98");
        let sep = date(2007, 9, 10);
        assert_eq!(course("medium", sep), "sep 10 2007");
        assert_eq!(course("long", sep), "september 10 2007");
        assert_eq!(course("full", sep), "monday september 10 2007");
        assert_eq!(course("dd MMM YYY", date(2001, 1, 3)), "03 jan 2001");
    }

    #[test]
    fn late_december_uses_the_calendar_year() {
        // All three are in ISO week 1 of the following year.
        let dec31 = date(2018, 12, 31);
        assert_eq!(course("d MMMM YYY", dec31), "31 december 2018");
        assert_eq!(course("d MM YY", dec31), "31 12 18");
        assert_eq!(course("dd.MM.YY", dec31), "31.12.18");
        assert_eq!(
            course("full", date(2024, 12, 30)),
            "monday december 30 2024"
        );
        assert_eq!(course("short", date(2049, 12, 29)), "12/29/49");
    }

    #[test]
    fn course_draw_list_is_the_courses_list() {
        let mut expected = vec!["short", "medium", "long"];
        expected.extend(["full"; 10]);
        expected.extend([
            "d MMM YYY",
            "d MMMM YYY",
            "dd MMM YYY",
            "d MMM, YYY",
            "d MMMM, YYY",
            "dd, MMM YYY",
            "d MM YY",
            "d MMMM YYY",
            "MMMM d YYY",
            "MMMM d, YYY",
            "dd.MM.YY",
        ]);
        let drawn: Vec<_> = COURSE_DRAWS
            .iter()
            .map(|&i| course_formats()[i].name)
            .collect();
        assert_eq!(drawn, expected);
        for (i, format) in course_formats().iter().enumerate() {
            assert!(COURSE_DRAWS.contains(&i), "{} never drawn", format.name);
        }
    }

    #[test]
    fn names_are_distinct_and_the_sets_have_their_sizes() {
        for set in [FormatSet::Course, FormatSet::Wide] {
            let list = formats(set);
            for (i, a) in list.iter().enumerate() {
                assert!(list[i + 1..].iter().all(|b| b.name != a.name), "{}", a.name);
                assert!(list[i + 1..].iter().all(|b| b != a), "{}", a.name);
            }
        }
        assert_eq!(formats(FormatSet::Course).len(), 14);
        assert_eq!(formats(FormatSet::Wide).len(), 14 + EXTRAS);
    }

    #[test]
    fn wide_extras_render_as_people_write() {
        let jul10 = date(2007, 7, 10);
        let cases = [
            ("do of MMMM y", "10th of july 2007"),
            ("the do of MMMM y", "the 10th of july 2007"),
            ("MMMM do y", "july 10th 2007"),
            ("MMMM do, y", "july 10th, 2007"),
            ("do MMMM y", "10th july 2007"),
            ("do MMM y", "10th jul 2007"),
            ("EEE d MMM y", "tue 10 jul 2007"),
            ("EEE, MMM d, y", "tue, jul 10, 2007"),
            ("EEEE d MMMM y", "tuesday 10 july 2007"),
            ("EEEE, MMMM d, y", "tuesday, july 10, 2007"),
            ("MMMM d, y", "july 10, 2007"),
            ("MMM d, y", "jul 10, 2007"),
            ("dd-MMM-y", "10-jul-2007"),
            ("dd-MMM-yy", "10-jul-07"),
            ("d MMM yy", "10 jul 07"),
            ("Sept d y", "jul 10 2007"),
            ("d Sept y", "10 jul 2007"),
            ("y-MM-dd", "2007-07-10"),
            ("MM/dd/y", "07/10/2007"),
            ("M/d/y", "7/10/2007"),
            ("MM/dd/yy", "07/10/07"),
            ("dd.MM.y", "10.07.2007"),
            ("d.M.y", "10.7.2007"),
            ("d.M.yy", "10.7.07"),
            ("dd-MM-y", "10-07-2007"),
        ];
        assert_eq!(cases.len(), EXTRAS);
        for (name, expected) in cases {
            assert_eq!(
                named(FormatSet::Wide, name).render(jul10),
                expected,
                "{name}"
            );
        }
        let wide = |name, d| named(FormatSet::Wide, name).render(d);
        assert_eq!(wide("Sept d y", date(2007, 9, 3)), "sept 3 2007");
        assert_eq!(wide("d Sept y", date(2007, 9, 3)), "3 sept 2007");
        assert_eq!(
            wide("the do of MMMM y", date(2001, 7, 4)),
            "the 4th of july 2001"
        );
        assert_eq!(wide("MMMM do y", date(2001, 3, 3)), "march 3rd 2001");
        assert_eq!(
            wide("do of MMMM y", date(2016, 8, 21)),
            "21st of august 2016"
        );
        assert_eq!(wide("y-MM-dd", date(1950, 1, 1)), "1950-01-01");
    }

    #[test]
    fn ordinal_suffixes() {
        let days = [1, 2, 3, 4, 10, 11, 12, 13, 20, 21, 22, 23, 24, 30, 31];
        let suffixes = "st nd rd th th th th th th st nd rd th th st";
        for (day, suffix) in days.into_iter().zip(suffixes.split(' ')) {
            assert_eq!(ordinal_suffix(day), suffix, "{day}");
        }
    }

    #[test]
    fn casings() {
        let jul10 = date(2007, 7, 10);
        let full = named(FormatSet::Wide, "EEEE d MMMM y");
        let the = named(FormatSet::Wide, "the do of MMMM y");
        let cased = |f: &Format, c| f.render_cased(jul10, c);
        assert_eq!(cased(full, Casing::Lower), "tuesday 10 july 2007");
        assert_eq!(cased(full, Casing::Capitalised), "Tuesday 10 July 2007");
        assert_eq!(cased(full, Casing::Sentence), "Tuesday 10 july 2007");
        assert_eq!(cased(full, Casing::Upper), "TUESDAY 10 JULY 2007");
        assert_eq!(cased(the, Casing::Capitalised), "The 10th of July 2007");
        assert_eq!(cased(the, Casing::Title), "The 10th Of July 2007");
        assert_eq!(cased(the, Casing::Upper), "THE 10TH OF JULY 2007");
        let comma = named(FormatSet::Wide, "EEE, MMM d, y");
        assert_eq!(cased(comma, Casing::Capitalised), "Tue, Jul 10, 2007");
        let iso = named(FormatSet::Wide, "y-MM-dd");
        for casing in Casing::ALL {
            assert_eq!(cased(iso, casing), "2007-07-10");
            for format in formats(FormatSet::Wide) {
                let text = format.render_cased(jul10, casing);
                assert_eq!(text.to_ascii_lowercase(), format.render(jul10));
            }
        }
    }

    #[test]
    fn numeric_flag_matches_rendering() {
        let d = date(2007, 7, 10);
        for format in formats(FormatSet::Wide) {
            let has_letters = format.render(d).chars().any(|c| c.is_ascii_alphabetic());
            assert_eq!(format.is_numeric(), !has_letters, "{}", format.name);
        }
        let numeric = formats(FormatSet::Wide).iter().filter(|f| f.is_numeric());
        assert_eq!(numeric.count(), 11);
    }

    #[test]
    fn every_rendering_fits_max_len_and_is_ascii() {
        let mut longest = (0, String::new());
        for days in FIRST.to_days()..=LAST.to_days() {
            let d = Date::from_days(days);
            for format in formats(FormatSet::Wide) {
                let text = format.render_cased(d, Casing::Upper);
                assert!(text.is_ascii(), "{text}");
                if text.len() > longest.0 {
                    longest = (text.len(), text);
                }
            }
        }
        assert!(longest.0 <= MAX_HUMAN_LEN, "{longest:?}");
        // "WEDNESDAY, SEPTEMBER 13, 1950": the limit is tight by one character.
        assert_eq!(longest.0, 29, "{longest:?}");
    }
}
