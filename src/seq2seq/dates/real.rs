//! The `real` format set: dates as people really write them, for the built-in model.
//!
//! Each sample is one of:
//! - a date (80%), in any year from 1000 to 2999 ([`draw_year`]: half of them in 1950-2049,
//!   where most dates people write fall, the rest spread over the whole range; two-digit years
//!   only in 1950-2049, the pivot's range), rendered by a course or wide pattern (a quarter) or a
//!   [`layouts`] template: year-first with `/` and `.`, apostrophe years, spelled-out days,
//!   weekdays and ordinals, log and e-mail timestamps; then misspelt names (one in six), the
//!   wide set's casings, a time of day and timezone (one in five), a label, brackets or
//!   punctuation (one in eight), and a dropped or doubled space (one in twenty);
//! - the same read day-first (8%): the input starts with the [`DAY_FIRST`] tag and slashed
//!   numeric dates are day-first (`<day-first> 05/03/2004` is 5 March), unless the first number
//!   cannot be a month; everything else reads as without the tag;
//! - something to refuse (12%, [`negatives`]).
//!
//! Slashed numeric dates are month-first, except that one whose first number is above 12 is
//! day-first (`25/12/2004`), as `dateutil` reads them.
//!
//! Years for which [`is_held_out_year`] holds are never drawn, so a test can check years the
//! model never saw.

use rand::Rng;

use super::codec::DAY_FIRST;
use super::generate::{Date, DatePair, FormatSet};
use super::layouts::{self, Fields, Style};
use super::patterns::{self, apply_casing, draw_casing};
use super::{negatives, noise};

/// Longest input of the `real` set, in characters (without the day-first tag).
pub const MAX_REAL_LEN: usize = 60;

/// First and last years of the `real` set.
pub const REAL_YEARS: (i32, i32) = (1000, 2999);

/// Years the `real` set never draws (26 of them, outside 1950-2049), so that a test can check
/// years a model trained on it never saw.
pub fn is_held_out_year(year: i32) -> bool {
    !(1950..=2049).contains(&year) && year % 73 == 0
}

/// A year for the `real` set: half in 1950-2049, the rest over 1000-2999, never a held-out one.
fn draw_year<R: Rng + ?Sized>(rng: &mut R, short: bool) -> i32 {
    loop {
        let year = if short || rng.random_bool(0.5) {
            rng.random_range(1950..=2049)
        } else {
            rng.random_range(REAL_YEARS.0..=REAL_YEARS.1)
        };
        if !is_held_out_year(year) {
            return year;
        }
    }
}

/// A day of `year` drawn uniformly.
fn draw_date<R: Rng + ?Sized>(rng: &mut R, year: i32) -> Date {
    let first = Date::new(year, 1, 1).map_or(0, |d| d.to_days());
    let last = Date::new(year, 12, 31).map_or(0, |d| d.to_days());
    Date::from_days(rng.random_range(first..=last))
}

fn fields(date: Date) -> Fields {
    Fields {
        year: date.year,
        month: date.month,
        day: date.day,
        weekday: Some(date.weekday()),
    }
}

/// How slashed numeric dates read in a sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reading {
    MonthFirst,
    DayFirst,
}

/// A date rendered by a template or a course/wide pattern, lower case, and the pattern's name.
fn render_date<R: Rng + ?Sized>(rng: &mut R, reading: Reading) -> (String, Date, &'static str) {
    let pick = |rng: &mut R, list: &'static [&'static str]| list[rng.random_range(0..list.len())];
    // Day-first samples are there to teach the tag: half of them are slashed.
    let roll = match reading {
        Reading::DayFirst if rng.random_bool(0.5) => 99,
        _ => rng.random_range(0..100),
    };
    let (template, name) = match roll {
        0..=24 => {
            let format = loop {
                let f = patterns::draw_format(FormatSet::Wide, rng);
                if reading == Reading::MonthFirst || !f.name.contains('/') {
                    break f;
                }
            };
            let year = draw_year(rng, format.has_short_year());
            let date = draw_date(rng, year);
            return (format.render(date), date, format.name);
        }
        25..=47 => (pick(rng, layouts::WORDED), "worded"),
        48..=53 => (pick(rng, layouts::WORDED_SHORT_YEAR), "worded, short year"),
        54..=69 => (pick(rng, layouts::WEEKDAY), "weekday"),
        70..=84 => (pick(rng, layouts::NUMERIC), "numeric"),
        _ => {
            let i = rng.random_range(0..layouts::SLASHED.len());
            (layouts::SLASHED[i], "slashed")
        }
    };
    let year = draw_year(rng, layouts::short_year(template));
    let date = draw_date(rng, year);
    let template = match layouts::SLASHED.iter().position(|&t| t == template) {
        // The other reading only where the first number cannot be a month, one time in three.
        Some(i) if date.day > 12 && (reading == Reading::DayFirst) != rng.random_bool(0.3) => {
            layouts::SLASHED_DAY_FIRST[i]
        }
        Some(i) if reading == Reading::DayFirst && date.day <= 12 => layouts::SLASHED_DAY_FIRST[i],
        _ => template,
    };
    let style = Style::draw(rng);
    (
        layouts::render(template, fields(date), style, rng),
        date,
        name,
    )
}

/// Typos, casing, a time, a label or brackets, and spacing, each with its own chance.
fn dress<R: Rng + ?Sized>(rng: &mut R, text: String) -> String {
    let mut text = text;
    if rng.random_range(0..6) == 0 {
        text = noise::misspell_names(&text, rng);
    }
    text = apply_casing(&text, draw_casing(rng));
    if rng.random_range(0..5) == 0 {
        let iso = text.len() >= 10 && text.as_bytes()[..4].iter().all(u8::is_ascii_digit);
        let mut time = layouts::time_suffix(rng, iso);
        if rng.random_bool(0.5) {
            time = time.to_ascii_uppercase();
        }
        text.push_str(&time);
    }
    if rng.random_range(0..8) == 0 {
        text = layouts::decorate(&text, rng);
        if rng.random_bool(0.5) {
            text = apply_casing(&text, patterns::Casing::Sentence);
        }
    }
    if rng.random_range(0..20) == 0 {
        text = noise::respace(&text, rng);
    }
    text
}

/// One pair of the `real` set. The target is the ISO date, empty for an input to refuse, or an
/// impossible date's transcription (see [`negatives`]).
pub(super) fn sample_pair<R: Rng + ?Sized>(rng: &mut R) -> DatePair {
    loop {
        let roll = rng.random_range(0..100);
        let (human, iso, format) = if roll < 12 {
            let year = draw_year(rng, false);
            let (text, target, kind) = negatives::sample(rng, year);
            (dress(rng, text), target, kind)
        } else {
            let reading = if roll < 20 {
                Reading::DayFirst
            } else {
                Reading::MonthFirst
            };
            let (text, date, name) = render_date(rng, reading);
            (dress(rng, text), date.iso(), name)
        };
        if human.trim().is_empty() || human.chars().count() > MAX_REAL_LEN {
            continue;
        }
        let human = if (12..20).contains(&roll) {
            format!("{DAY_FIRST} {human}")
        } else {
            human
        };
        return DatePair { human, iso, format };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn the_real_set_mixes_dates_tags_and_refusals() {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let pairs: Vec<DatePair> = (0..20_000).map(|_| sample_pair(&mut rng)).collect();
        let share = |f: &dyn Fn(&DatePair) -> bool| {
            pairs.iter().filter(|p| f(p)).count() as f64 / pairs.len() as f64
        };
        let refused = share(&|p| p.iso.is_empty());
        let impossible = share(&|p| !p.iso.is_empty() && Date::parse_iso(&p.iso).is_none());
        let tagged = share(&|p| p.human.starts_with(DAY_FIRST));
        assert!((0.06..0.1).contains(&refused), "{refused}");
        assert!((0.02..0.05).contains(&impossible), "{impossible}");
        assert!((0.07..0.09).contains(&tagged), "{tagged}");
        let mut years = std::collections::BTreeSet::new();
        for p in &pairs {
            let text = p.human.strip_prefix(DAY_FIRST).unwrap_or(&p.human);
            assert!(text.chars().count() <= MAX_REAL_LEN + 1, "{p:?}");
            if let Some(d) = Date::parse_iso(&p.iso) {
                assert!(!is_held_out_year(d.year), "{p:?}");
                assert!((1000..=2999).contains(&d.year), "{p:?}");
                years.insert(d.year / 100);
            }
        }
        assert_eq!(years.len(), 20, "every century of 1000-2999: {years:?}");
        let old = share(&|p| Date::parse_iso(&p.iso).is_some_and(|d| d.year < 1950));
        assert!((0.15..0.4).contains(&old), "{old}");
    }

    #[test]
    fn slashes_read_month_first_unless_tagged_or_impossible() {
        let mut rng = ChaCha8Rng::seed_from_u64(12);
        let mut seen = [0usize; 3];
        for _ in 0..30_000 {
            let p = sample_pair(&mut rng);
            let text = p.human.strip_prefix(DAY_FIRST).map(str::trim);
            let body = text.unwrap_or(&p.human);
            let parts: Vec<&str> = body.split('/').collect();
            let numeric = parts.len() == 3
                && parts[0].len() <= 2
                && parts
                    .iter()
                    .all(|x| x.chars().all(|c| c.is_ascii_digit()) && !x.is_empty());
            let Some(d) = Date::parse_iso(&p.iso).filter(|_| numeric) else {
                continue;
            };
            let (a, b): (u32, u32) = (parts[0].parse().unwrap(), parts[1].parse().unwrap());
            if text.is_some() && d.day <= 12 {
                assert_eq!((a, b), (d.day, d.month), "{p:?}");
                seen[0] += 1;
            } else if (a, b) == (d.day, d.month) && a != b {
                assert!(a > 12, "{p:?}");
                seen[1] += 1;
            } else {
                assert_eq!((a, b), (d.month, d.day), "{p:?}");
                seen[2] += 1;
            }
        }
        assert!(seen.iter().all(|&n| n > 30), "{seen:?}");
    }

    #[test]
    fn held_out_years_lie_outside_the_course_century() {
        let held: Vec<i32> = (1000..=2999).filter(|&y| is_held_out_year(y)).collect();
        assert_eq!(held.len(), 26);
        assert!(held.iter().all(|y| !(1950..=2049).contains(y)));
        assert_eq!(&held[..3], &[1022, 1095, 1168]);
    }
}
