//! The date generator: a uniform date in [`FIRST`]..=[`LAST`] rendered in a pattern drawn from
//! a [`FormatSet`], and the calendar arithmetic it needs.

use std::fmt;
use std::str::FromStr;

use rand::Rng;

use super::patterns::{self, Casing, Format};

/// A calendar date (proleptic Gregorian).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    /// Calendar year; year 0 is 1 BC.
    pub year: i32,
    /// Month, 1 = January .. 12 = December.
    pub month: u32,
    /// Day of the month, from 1.
    pub day: u32,
}

/// Day numbers of the first and last dates whose year fits an `i32`; used to
/// clamp [`Date::from_days`] so that it cannot overflow.
const MIN_DAYS: i64 = Date {
    year: i32::MIN,
    month: 1,
    day: 1,
}
.to_days();
const MAX_DAYS: i64 = Date {
    year: i32::MAX,
    month: 12,
    day: 31,
}
.to_days();

impl Date {
    /// The date `year-month-day`, or `None` when the month or day is invalid.
    pub const fn new(year: i32, month: u32, day: u32) -> Option<Date> {
        if day >= 1 && day <= days_in_month(year, month) {
            Some(Date { year, month, day })
        } else {
            None
        }
    }

    /// ISO 8601 `YYYY-MM-DD`, e.g. "2007-07-10" (years are zero-padded to four digits).
    pub fn iso(&self) -> String {
        format!("{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }

    /// Parses strict `YYYY-MM-DD` (exactly four, two and two ASCII digits) and
    /// returns `None` for anything else, including impossible dates.
    pub fn parse_iso(s: &str) -> Option<Date> {
        let bytes = s.as_bytes();
        if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
            return None;
        }
        let number = |range: std::ops::Range<usize>| -> Option<u32> {
            let digits = &bytes[range];
            if !digits.iter().all(u8::is_ascii_digit) {
                return None;
            }
            Some(
                digits
                    .iter()
                    .fold(0, |acc, digit| acc * 10 + u32::from(digit - b'0')),
            )
        };
        let year = i32::try_from(number(0..4)?).ok()?;
        Date::new(year, number(5..7)?, number(8..10)?)
    }

    /// Day of the week: 0 = Monday .. 6 = Sunday.
    pub const fn weekday(&self) -> u32 {
        // 1970-01-01, day 0, was a Thursday (3).
        (self.to_days() + 3).rem_euclid(7) as u32
    }

    /// The date `days` days after 1970-01-01 (Howard Hinnant's
    /// `civil_from_days`). Inputs beyond the years an `i32` can hold are clamped.
    pub const fn from_days(days: i64) -> Date {
        let days = if days < MIN_DAYS {
            MIN_DAYS
        } else if days > MAX_DAYS {
            MAX_DAYS
        } else {
            days
        };
        // Shift the epoch to 0000-03-01 so that leap days end each 400-year era.
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + if month <= 2 { 1 } else { 0 };
        Date {
            year: year as i32,
            month: month as u32,
            day: day as u32,
        }
    }

    /// Days since 1970-01-01 (Howard Hinnant's `days_from_civil`); negative before.
    pub const fn to_days(&self) -> i64 {
        let month = self.month as i64;
        let year = self.year as i64 - if month <= 2 { 1 } else { 0 };
        let era = year.div_euclid(400);
        let yoe = year - era * 400;
        let mp = if month > 2 { month - 3 } else { month + 9 };
        let doy = (153 * mp + 2) / 5 + self.day as i64 - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.iso())
    }
}

/// Whether `year` is a Gregorian leap year.
pub const fn is_leap_year(year: i32) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

/// Number of days in `month` of `year`; 0 for a month outside 1..=12.
pub const fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// First date generated: 1950-01-01.
pub const FIRST: Date = Date {
    year: 1950,
    month: 1,
    day: 1,
};

/// Last date generated: 2049-12-31. Together with [`FIRST`] this spans exactly
/// the century that [`pivot_two_digit_year`] reads unambiguously.
pub const LAST: Date = Date {
    year: 2049,
    month: 12,
    day: 31,
};

/// Two-digit year pivot: 50-99 -> 19xx, 00-49 -> 20xx. Larger inputs are
/// taken modulo 100.
pub const fn pivot_two_digit_year(yy: u32) -> i32 {
    let yy = (yy % 100) as i32;
    if yy >= 50 {
        1900 + yy
    } else {
        2000 + yy
    }
}

/// Which formats human strings are drawn from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FormatSet {
    /// The course's formats and weights, lower-case without commas.
    Course,
    /// The course set plus ordinals, weekdays, ISO, numeric variants and casings.
    Wide,
    /// Dates as people really write them, any year 1000-2999, typos, times, and inputs to
    /// refuse (see the module docs).
    Real,
}

impl FromStr for FormatSet {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "course" => Ok(FormatSet::Course),
            "wide" => Ok(FormatSet::Wide),
            "real" => Ok(FormatSet::Real),
            other => Err(format!(
                "unknown date format set {other:?} (expected \"course\", \"wide\" or \"real\")"
            )),
        }
    }
}

impl fmt::Display for FormatSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FormatSet::Course => "course",
            FormatSet::Wide => "wide",
            FormatSet::Real => "real",
        })
    }
}

/// A human-written date, its ISO translation and the format that produced it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatePair {
    /// The human-written date, e.g. "tuesday july 10 2007"; in the `real` set it may start with
    /// the [`DAY_FIRST`](super::DAY_FIRST) tag.
    pub human: String,
    /// The same date as `YYYY-MM-DD`; in the `real` set, empty for an input to refuse, or an
    /// impossible date's transcription (`2010-02-30`).
    pub iso: String,
    /// [`Format::name`] of the format used.
    pub format: &'static str,
}

/// Longest human string any format of the course and wide sets can produce, in characters
/// (all are ASCII); the `real` set's is [`MAX_REAL_LEN`](super::MAX_REAL_LEN).
pub const MAX_HUMAN_LEN: usize = 30;

const FIRST_DAYS: i64 = FIRST.to_days();
const LAST_DAYS: i64 = LAST.to_days();

/// A uniformly random date in [`FIRST`]..=[`LAST`].
pub fn random_date<R: Rng + ?Sized>(rng: &mut R) -> Date {
    Date::from_days(rng.random_range(FIRST_DAYS..=LAST_DAYS))
}

/// A format drawn as `set` draws it (see the module docs for the weights).
pub fn sample_format<R: Rng + ?Sized>(set: FormatSet, rng: &mut R) -> &'static Format {
    patterns::draw_format(set, rng)
}

/// One pair: a random date, a format drawn as the set draws it, and (wide
/// set only) a random casing, rendered.
pub fn sample_pair<R: Rng + ?Sized>(set: FormatSet, rng: &mut R) -> DatePair {
    if set == FormatSet::Real {
        return super::real::sample_pair(rng);
    }
    let date = random_date(rng);
    let format = sample_format(set, rng);
    let casing = match set {
        FormatSet::Course => Casing::Lower,
        FormatSet::Wide | FormatSet::Real => patterns::draw_casing(rng),
    };
    DatePair {
        human: format.render_cased(date, casing),
        iso: date.iso(),
        format: format.name,
    }
}

/// `n` pairs drawn with [`sample_pair`].
pub fn generate<R: Rng + ?Sized>(n: usize, set: FormatSet, rng: &mut R) -> Vec<DatePair> {
    (0..n).map(|_| sample_pair(set, rng)).collect()
}

#[cfg(test)]
mod tests {
    use super::super::patterns::formats;
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn date(year: i32, month: u32, day: u32) -> Date {
        Date::new(year, month, day).expect("test dates are valid")
    }

    const MONTHS: [&str; 12] = [
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
    const WEEKDAYS: [&str; 7] = [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ];

    /// Position (from 0) of `word` as a full name or three-letter prefix.
    fn name_index(names: &[&str], word: &str) -> Option<usize> {
        names
            .iter()
            .position(|name| *name == word || (word.len() == 3 && name.starts_with(word)))
    }

    /// Reads a human date from the string alone, applying the ambiguity rule:
    /// '/' is month-first, a leading four-digit number is ISO, anything else
    /// numeric is day-first. Ordinal suffixes and weekdays must be right.
    fn parse_human(text: &str) -> Option<Date> {
        let lower = text.to_ascii_lowercase();
        let (mut month, mut weekday, mut ordinal_day) = (None, None, None);
        let mut numbers = Vec::new();
        for token in lower.split(|c: char| !c.is_ascii_alphanumeric()) {
            let split = token
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(token.len());
            let (digits, letters) = token.split_at(split);
            if token.is_empty() || token == "the" || token == "of" {
            } else if digits.is_empty() {
                let m = name_index(&MONTHS, token).or((token == "sept").then_some(8));
                if let Some(m) = m {
                    month.replace(m as u32 + 1).is_none().then_some(())?;
                } else {
                    let w = name_index(&WEEKDAYS, token)? as u32;
                    weekday.replace(w).is_none().then_some(())?;
                }
            } else if letters.is_empty() {
                numbers.push(digits);
            } else {
                let day: u32 = digits.parse().ok()?;
                let suffix = match day {
                    1 | 21 | 31 => "st",
                    2 | 22 => "nd",
                    3 | 23 => "rd",
                    _ => "th",
                };
                (letters == suffix && ordinal_day.replace(day).is_none()).then_some(())?;
            }
        }
        let year = |s: &str| match s.len() {
            4 => s.parse().ok(),
            2 => s.parse().ok().map(pivot_two_digit_year),
            _ => None,
        };
        let num = |s: &str| s.parse::<u32>().ok();
        let (y, m, d) = match (month, ordinal_day, numbers.as_slice()) {
            (Some(m), Some(d), [y]) => (year(y)?, m, d),
            (Some(m), None, [d, y]) => (year(y)?, m, num(d)?),
            (None, None, [a, b, c]) if lower.contains('/') => (year(c)?, num(a)?, num(b)?),
            (None, None, [a, b, c]) if a.len() == 4 => (year(a)?, num(b)?, num(c)?),
            (None, None, [a, b, c]) => (year(c)?, num(b)?, num(a)?),
            _ => return None,
        };
        let parsed = Date::new(y, m, d)?;
        (weekday.unwrap_or(parsed.weekday()) == parsed.weekday()).then_some(parsed)
    }

    #[test]
    fn leap_years_and_month_lengths() {
        assert!(!is_leap_year(1900));
        assert!(is_leap_year(2000));
        assert!(is_leap_year(2024));
        assert!(!is_leap_year(2023));
        assert_eq!(days_in_month(2023, 2), 28);
        assert_eq!(days_in_month(2024, 2), 29);
        assert_eq!(days_in_month(1900, 2), 28);
        assert_eq!(days_in_month(2000, 2), 29);
        assert_eq!(days_in_month(2023, 1), 31);
        assert_eq!(days_in_month(2023, 4), 30);
        assert_eq!(days_in_month(2023, 12), 31);
        assert_eq!(days_in_month(2023, 0), 0);
        assert_eq!(days_in_month(2023, 13), 0);
    }

    #[test]
    fn new_rejects_invalid_dates() {
        assert!(Date::new(2023, 2, 29).is_none());
        assert!(Date::new(2024, 2, 29).is_some());
        assert!(Date::new(2023, 4, 31).is_none());
        assert!(Date::new(2023, 0, 1).is_none());
        assert!(Date::new(2023, 13, 1).is_none());
        assert!(Date::new(2023, 1, 0).is_none());
    }

    #[test]
    fn day_numbers_round_trip_and_step_by_one() {
        assert_eq!(date(1970, 1, 1).to_days(), 0);
        assert_eq!(date(2000, 3, 1).to_days(), 11_017);
        assert_eq!(date(1969, 12, 31).to_days(), -1);
        assert_eq!(LAST.to_days() - FIRST.to_days() + 1, 36_525);
        let mut previous = Date::from_days(FIRST.to_days() - 1);
        assert_eq!(previous, date(1949, 12, 31));
        for days in FIRST.to_days()..=LAST.to_days() + 1 {
            let d = Date::from_days(days);
            assert_eq!(d.to_days(), days);
            assert_eq!(Date::new(d.year, d.month, d.day), Some(d));
            assert!(d > previous);
            previous = d;
        }
        assert_eq!(previous, date(2050, 1, 1));
        // Far outside the range: clamped, not overflowing.
        assert_eq!(Date::from_days(i64::MAX).year, i32::MAX);
        assert_eq!(Date::from_days(i64::MIN).year, i32::MIN);
    }

    #[test]
    fn weekdays_of_known_dates() {
        assert_eq!(date(2007, 7, 10).weekday(), 1);
        assert_eq!(date(1970, 1, 1).weekday(), 3);
        assert_eq!(date(2000, 2, 29).weekday(), 1);
        assert_eq!(date(1950, 1, 1).weekday(), 6);
        assert_eq!(date(1969, 12, 29).weekday(), 0);
    }

    #[test]
    fn iso_round_trip_and_strictness() {
        assert_eq!(date(2007, 7, 10).iso(), "2007-07-10");
        assert_eq!(date(2007, 7, 10).to_string(), "2007-07-10");
        assert_eq!(Date::parse_iso("2000-02-29"), Some(date(2000, 2, 29)));
        for bad in [
            "2023-02-29",
            "2007-7-10",
            "2007-07-1",
            "07-07-2007",
            "2007/07/10",
            "2007-07-10 ",
            "+007-07-10",
            "2007-13-01",
            "2007-00-10",
            "",
            "２００７-07-10",
        ] {
            assert_eq!(Date::parse_iso(bad), None, "{bad:?}");
        }
        for days in (FIRST.to_days()..=LAST.to_days()).step_by(97) {
            let d = Date::from_days(days);
            assert_eq!(Date::parse_iso(&d.iso()), Some(d));
        }
    }

    #[test]
    fn two_digit_year_pivot() {
        assert_eq!(pivot_two_digit_year(49), 2049);
        assert_eq!(pivot_two_digit_year(50), 1950);
        assert_eq!(pivot_two_digit_year(0), 2000);
        assert_eq!(pivot_two_digit_year(99), 1999);
        assert_eq!(pivot_two_digit_year(170), 1970);
    }

    #[test]
    fn format_set_parses_and_displays() {
        for set in [FormatSet::Course, FormatSet::Wide] {
            assert_eq!(set.to_string().parse::<FormatSet>(), Ok(set));
        }
        assert_eq!("course".parse(), Ok(FormatSet::Course));
        assert_eq!(FormatSet::Wide.to_string(), "wide");
        let err = "faker".parse::<FormatSet>().unwrap_err();
        assert!(err.contains("faker") && err.contains("course"), "{err}");
    }

    #[test]
    fn every_rendering_reads_back_to_its_date() {
        // Checks the ambiguity rule for numeric formats and the words of the others.
        for days in FIRST.to_days()..=LAST.to_days() {
            let d = Date::from_days(days);
            for format in formats(FormatSet::Wide) {
                let text = format.render(d);
                assert_eq!(parse_human(&text), Some(d), "{} {text:?}", format.name);
            }
        }
        assert_eq!(parse_human("tuesday july 11 2007"), None);
        assert_eq!(parse_human("july 2nd 2007"), Some(date(2007, 7, 2)));
        assert_eq!(parse_human("july 2th 2007"), None);
        assert_eq!(parse_human("13/07/2007"), None);
    }

    #[test]
    fn generation_is_deterministic_per_seed() {
        for set in [FormatSet::Course, FormatSet::Wide] {
            let a = generate(300, set, &mut ChaCha8Rng::seed_from_u64(7));
            let b = generate(300, set, &mut ChaCha8Rng::seed_from_u64(7));
            let c = generate(300, set, &mut ChaCha8Rng::seed_from_u64(8));
            assert_eq!(a.len(), 300);
            assert_eq!(a, b);
            assert_ne!(a, c);
        }
    }

    fn check_pairs(set: FormatSet, pairs: &[DatePair]) {
        let names: Vec<_> = formats(set).iter().map(|f| f.name).collect();
        for pair in pairs {
            let d = Date::parse_iso(&pair.iso).expect("iso parses");
            assert!((FIRST..=LAST).contains(&d), "{pair:?}");
            assert!(pair.human.chars().count() <= MAX_HUMAN_LEN, "{pair:?}");
            assert_eq!(parse_human(&pair.human), Some(d), "{pair:?}");
            assert!(names.contains(&pair.format), "{pair:?}");
        }
    }

    #[test]
    fn course_samples_match_the_course() {
        let pairs = generate(24_000, FormatSet::Course, &mut ChaCha8Rng::seed_from_u64(1));
        check_pairs(FormatSet::Course, &pairs);
        for pair in &pairs {
            assert!(!pair.human.contains(','), "{pair:?}");
            assert!(
                !pair.human.chars().any(|c| c.is_ascii_uppercase()),
                "{pair:?}"
            );
        }
        let share = |name| pairs.iter().filter(|p| p.format == name).count() as f64 / 24_000.0;
        assert!(
            (share("full") - 10.0 / 24.0).abs() < 0.02,
            "{}",
            share("full")
        );
        assert!((share("d MMMM YYY") - 2.0 / 24.0).abs() < 0.01);
        assert!((share("short") - 1.0 / 24.0).abs() < 0.01);
        let years: Vec<_> = pairs.iter().map(|p| &p.iso[..4]).collect();
        assert!(years.contains(&"1950") && years.contains(&"2049"));
    }

    #[test]
    fn wide_samples_mix_course_extras_and_casings() {
        let n = 24_000;
        let pairs = generate(n, FormatSet::Wide, &mut ChaCha8Rng::seed_from_u64(2));
        check_pairs(FormatSet::Wide, &pairs);
        let course: Vec<_> = formats(FormatSet::Course).iter().map(|f| f.name).collect();
        let from_course = pairs.iter().filter(|p| course.contains(&p.format)).count();
        assert!((from_course as f64 / n as f64 - 1.0 / 3.0).abs() < 0.02);
        let extras = &formats(FormatSet::Wide)[course.len()..];
        let expected = (n - from_course) as f64 / extras.len() as f64;
        for extra in extras {
            let count = pairs.iter().filter(|p| p.format == extra.name).count() as f64;
            assert!(
                (count / expected - 1.0).abs() < 0.2,
                "{} {count}",
                extra.name
            );
        }
        let any = |pred: &dyn Fn(&str) -> bool| pairs.iter().any(|p| pred(&p.human));
        assert!(any(&|h| h.chars().any(|c| c.is_ascii_uppercase())));
        assert!(any(&|h| h.chars().any(|c| c.is_ascii_alphabetic())
            && !h.chars().any(|c| c.is_ascii_lowercase())));
        assert!(any(&|h| h.starts_with("The ")));
        assert!(any(&|h| h.contains("th of ")));
        assert!(any(&|h| h.contains("1st")
            || h.contains("21st")
            || h.contains("31st")));
        assert!(any(&|h| h.contains(", ")));
        assert!(any(&|h| h.to_ascii_lowercase().contains("sept ")));
        assert!(any(&|h| Date::parse_iso(h).is_some()));
    }
}
