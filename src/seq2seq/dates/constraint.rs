//! Calendar-valid decoding for ISO dates (`YYYY-MM-DD`).
//!
//! A date-translation model learns the output format quickly, but nothing in its weights stops it
//! from writing `1987-02-30` or `2013-13-01` when it is unsure. [`DateConstraint`] masks, at every
//! decoding step, each character after which *no* valid date could be completed. The decoder
//! therefore only ever holds prefixes of real dates, and since every allowed prefix can still be
//! completed, the ten-character output it ends with is always a real calendar date within the
//! configured year range — whatever the model believes. The model still chooses *which* date.
//!
//! Use it with fixed-length decoding: `eos: None` and `max_len: 10` in the beam configuration
//! (the constraint never allows an end token, nor anything after the tenth character).
//!
//! A model that can refuse has a refusal token ([`DateConstraint::with_fallback`]). The
//! constraint allows it at every step of a date, and after it only itself, so a refusal fills
//! the ten steps; as the beam's [`fallback`](Constraint::fallback) it takes the probability of
//! every character the calendar forbids. A model that reads `30 feb 2010` and wants to write
//! `2010-02-30` therefore ends on a refusal, not on a silently corrected `2010-02-03`.

use crate::seq2seq::beam::Constraint;

/// Characters the constraint can emit, in the order of [`DateConstraint`]'s token table.
const ALPHABET: [char; 11] = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '-'];

/// Length of `YYYY-MM-DD`.
const DATE_LEN: usize = 10;

/// Allows only prefixes of a valid date `YYYY-MM-DD`: digits where digits go, `-` at positions 4
/// and 7, month 01-12, day valid for that month and year (leap years: divisible by 4, except
/// centuries not divisible by 400), year within `[min_year, max_year]`.
#[derive(Debug, Clone, PartialEq)]
pub struct DateConstraint {
    /// Token id of each character of [`ALPHABET`] (the first one, if the vocabulary repeats it).
    tokens: [usize; 11],
    /// Character of every output token, to read a token prefix back as text.
    chars: Vec<char>,
    min_year: i32,
    max_year: i32,
    /// The refusal token, when the model has one.
    fallback: Option<usize>,
}

impl DateConstraint {
    /// `vocab[i]` is the character of output token `i` (other tokens, like specials, are never
    /// allowed). Error if some of `'0'`-`'9'` or `'-'` are missing from the vocab, or if the year
    /// range is empty or does not fit in four digits (0..=9999).
    pub fn new(vocab: &[char], min_year: i32, max_year: i32) -> Result<Self, String> {
        if min_year > max_year {
            return Err(format!(
                "empty year range: min_year {min_year} > max_year {max_year}"
            ));
        }
        if min_year < 0 || max_year > 9999 {
            return Err(format!(
                "years {min_year}..={max_year} do not fit the four-digit YYYY field (0..=9999)"
            ));
        }
        let mut tokens = [0; 11];
        let mut missing = Vec::new();
        for (slot, &c) in tokens.iter_mut().zip(&ALPHABET) {
            match vocab.iter().position(|&v| v == c) {
                Some(id) => *slot = id,
                None => missing.push(format!("{c:?}")),
            }
        }
        if !missing.is_empty() {
            return Err(format!(
                "the output vocabulary lacks characters needed for dates: {}",
                missing.join(", ")
            ));
        }
        Ok(DateConstraint {
            tokens,
            chars: vocab.to_vec(),
            min_year,
            max_year,
            fallback: None,
        })
    }

    /// The same constraint with `token` as the refusal: allowed before any character of a date
    /// is complete, and alone after it.
    pub fn with_fallback(self, token: usize) -> Self {
        DateConstraint {
            fallback: Some(token),
            ..self
        }
    }

    /// The allowed next characters after `prefix` (a string of what was produced so far), in the
    /// order `'0'..='9'`, `'-'`; empty once the date is complete or if `prefix` cannot start one.
    pub fn allowed_chars(&self, prefix: &str) -> Vec<char> {
        let mut chars = Vec::new();
        self.each_allowed(prefix.as_bytes(), |i| chars.push(ALPHABET[i]));
        chars
    }

    /// Calls `allow(i)` for each index `i` into [`ALPHABET`] whose character may follow `prefix`
    /// (bytes of what was produced so far). Trying each of the eleven characters keeps this
    /// trivially right: a character is allowed exactly when the extended prefix can still become
    /// a valid date. No allocation: it runs for every hypothesis at every decoding step.
    fn each_allowed(&self, prefix: &[u8], mut allow: impl FnMut(usize)) {
        let n = prefix.len();
        if n >= DATE_LEN {
            return;
        }
        let mut candidate = [0u8; DATE_LEN];
        candidate[..n].copy_from_slice(prefix);
        for (i, &c) in ALPHABET.iter().enumerate() {
            // ALPHABET is ASCII, so each character is one byte.
            candidate[n] = c as u8;
            if self.completable(&candidate[..=n]) {
                allow(i);
            }
        }
    }

    /// Whether some date in range, written `YYYY-MM-DD`, starts with `p`. Decided field by field:
    /// a field still being written only needs one value that matches its digits so far, and
    /// every later field can always be filled (every month has at least 28 days).
    fn completable(&self, p: &[u8]) -> bool {
        if p.len() > DATE_LEN {
            return false;
        }
        let shaped = p.iter().enumerate().all(|(i, b)| match i {
            4 | 7 => *b == b'-',
            _ => b.is_ascii_digit(),
        });
        if !shaped {
            return false;
        }
        let field = |from: usize, to: usize| &p[from.min(p.len())..to.min(p.len())];

        let year_digits = field(0, 4);
        if year_digits.len() < 4 {
            // The years starting with these k digits form the interval
            // [v * 10^(4-k), (v + 1) * 10^(4-k) - 1]; it must meet the allowed range.
            let scale = 10i32.pow(4 - year_digits.len() as u32);
            let lo = number(year_digits) * scale;
            let hi = lo + scale - 1;
            return lo <= self.max_year && hi >= self.min_year;
        }
        let year = number(year_digits);
        if year < self.min_year || year > self.max_year {
            return false;
        }

        let month_digits = field(5, 7);
        if month_digits.len() < 2 {
            return (1..=12).any(|m| two_digits(m).starts_with(month_digits));
        }
        let month = number(month_digits);
        if !(1..=12).contains(&month) {
            return false;
        }

        let day_digits = field(8, 10);
        (1..=days_in_month(year, month)).any(|d| two_digits(d).starts_with(day_digits))
    }
}

impl Constraint for DateConstraint {
    fn allowed(&self, prefix: &[usize], allowed: &mut [bool]) {
        if let Some(refusal) = self.fallback {
            if prefix.len() >= DATE_LEN {
                return;
            }
            if let Some(slot) = allowed.get_mut(refusal) {
                *slot = true;
            }
            if prefix.contains(&refusal) {
                return;
            }
        }
        if prefix.len() >= DATE_LEN {
            return;
        }
        let mut text = [0u8; DATE_LEN];
        for (byte, &t) in text.iter_mut().zip(prefix) {
            match self.chars.get(t) {
                Some(&c) if c.is_ascii() => *byte = c as u8,
                // A token outside the vocabulary, or a character no date holds, cannot be part
                // of a date: nothing may follow.
                _ => return,
            }
        }
        self.each_allowed(&text[..prefix.len()], |i| {
            if let Some(slot) = allowed.get_mut(self.tokens[i]) {
                *slot = true;
            }
        });
    }

    fn fallback(&self) -> Option<usize> {
        self.fallback
    }
}

/// The value of a run of ASCII digits (at most four here, so no overflow).
fn number(digits: &[u8]) -> i32 {
    digits.iter().fold(0, |n, d| n * 10 + i32::from(d - b'0'))
}

/// `n` (1..=31) as two ASCII digits, e.g. 7 -> "07".
fn two_digits(n: i32) -> [u8; 2] {
    // Both digits are 0..=9 for n in 0..=99, so the casts cannot truncate.
    [b'0' + (n / 10) as u8, b'0' + (n % 10) as u8]
}

/// Gregorian leap year: divisible by 4, except centuries not divisible by 400.
fn is_leap(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i32, month: i32) -> i32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seq2seq::beam::{beam_search, greedy, BeamConfig, StepModel};

    fn c(min: i32, max: i32) -> DateConstraint {
        DateConstraint::new(&ALPHABET, min, max).unwrap()
    }

    fn chars(s: &str) -> Vec<char> {
        s.chars().collect()
    }

    /// Independent of the implementation: a month-length table and an explicit leap rule.
    fn month_days(y: i32) -> [i32; 12] {
        let leap = if y % 400 == 0 {
            true
        } else if y % 100 == 0 {
            false
        } else {
            y % 4 == 0
        };
        [
            31,
            if leap { 29 } else { 28 },
            31,
            30,
            31,
            30,
            31,
            31,
            30,
            31,
            30,
            31,
        ]
    }

    fn is_valid_date(s: &str, min: i32, max: i32) -> bool {
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return false;
        }
        let num = |r: std::ops::Range<usize>| -> Option<i32> {
            let part = s.get(r)?;
            part.bytes()
                .all(|x| x.is_ascii_digit())
                .then(|| part.parse().ok())?
        };
        let (Some(y), Some(m), Some(d)) = (num(0..4), num(5..7), num(8..10)) else {
            return false;
        };
        (min..=max).contains(&y)
            && (1..=12).contains(&m)
            && d >= 1
            && d <= month_days(y)[m as usize - 1]
    }

    fn all_dates(min: i32, max: i32) -> Vec<String> {
        let mut out = Vec::new();
        for y in min..=max {
            for (m, &n) in month_days(y).iter().enumerate() {
                for d in 1..=n {
                    out.push(format!("{y:04}-{:02}-{d:02}", m + 1));
                }
            }
        }
        out
    }

    #[test]
    fn new_checks_vocab_and_range() {
        assert!(DateConstraint::new(&chars("0123456789"), 1950, 2049)
            .unwrap_err()
            .contains("'-'"));
        let err = DateConstraint::new(&chars("012345679-"), 1950, 2049).unwrap_err();
        assert!(err.contains("'8'"), "{err}");
        assert!(DateConstraint::new(&ALPHABET, 2050, 1950).is_err());
        assert!(DateConstraint::new(&ALPHABET, -1, 1950).is_err());
        assert!(DateConstraint::new(&ALPHABET, 1950, 10000).is_err());
        assert!(DateConstraint::new(&ALPHABET, 0, 9999).is_ok());
    }

    #[test]
    fn field_by_field_examples() {
        let d = c(1950, 2049);
        let cases = [
            ("", "12"),
            ("1", "9"),
            ("2", "0"),
            ("19", "56789"),
            ("20", "01234"),
            ("195", "0123456789"),
            ("1987", "-"),
            ("1987-", "01"),
            ("1987-0", "123456789"),
            ("1987-1", "012"),
            ("1987-12", "-"),
            ("1987-02-", "012"),
            ("1987-02-2", "012345678"),
            ("1988-02-2", "0123456789"),
            ("1987-04-3", "0"),
            ("1987-01-3", "01"),
            ("1987-01-0", "123456789"),
            ("1987-01-31", ""),
            ("1987-13", ""),
            ("1987-00", ""),
            ("2050", ""),
            ("1949-", ""),
            ("19a", ""),
            ("1987/", ""),
            ("1987-01-01x", ""),
        ];
        for (prefix, want) in cases {
            assert_eq!(d.allowed_chars(prefix), chars(want), "after {prefix:?}");
        }
        let tight = c(1999, 2000);
        assert_eq!(tight.allowed_chars(""), chars("12"));
        assert_eq!(tight.allowed_chars("19"), chars("9"));
        assert_eq!(tight.allowed_chars("200"), chars("0"));
    }

    #[test]
    fn leap_years() {
        assert!(c(1950, 2049).allowed_chars("2000-02-2").contains(&'9'));
        assert!(!c(2090, 2110).allowed_chars("2100-02-2").contains(&'9'));
        let d = c(1890, 1910);
        assert!(!d.allowed_chars("1900-02-2").contains(&'9'));
        assert!(d.allowed_chars("1904-02-2").contains(&'9'));
        assert!(!d.allowed_chars("1903-02-2").contains(&'9'));
    }

    #[test]
    fn every_date_in_range_stays_allowed() {
        let d = c(1950, 2049);
        let dates = all_dates(1950, 2049);
        assert_eq!(dates.len(), 36525);
        for date in &dates {
            for (i, ch) in date.char_indices() {
                assert!(d.allowed_chars(&date[..i]).contains(&ch), "{date} at {i}");
            }
            assert!(d.allowed_chars(date).is_empty());
        }
    }

    #[test]
    fn the_automaton_accepts_exactly_the_dates_in_range() {
        // Depth-first over everything the constraint allows: no dead ends, and the complete
        // strings are exactly the valid dates.
        for (min, max) in [(1950, 2049), (1890, 1910), (1999, 2001)] {
            let d = c(min, max);
            let mut accepted = Vec::new();
            let mut stack = vec![String::new()];
            while let Some(p) = stack.pop() {
                let next = d.allowed_chars(&p);
                if p.len() == DATE_LEN {
                    assert!(next.is_empty());
                    accepted.push(p);
                    continue;
                }
                assert!(!next.is_empty(), "dead end at {p:?}");
                stack.extend(next.into_iter().map(|ch| format!("{p}{ch}")));
            }
            accepted.sort();
            assert_eq!(accepted, all_dates(min, max));
        }
    }

    #[test]
    fn random_walks_end_on_valid_dates() {
        let mut state: u64 = 0x5eed;
        let mut lcg = move || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 33) as usize
        };
        for (min, max) in [(1950, 2049), (0, 9999), (1890, 1910)] {
            let d = c(min, max);
            for _ in 0..3000 {
                let mut s = String::new();
                while s.len() < DATE_LEN {
                    let next = d.allowed_chars(&s);
                    assert!(!next.is_empty(), "dead end at {s:?}");
                    s.push(next[lcg() % next.len()]);
                }
                assert!(is_valid_date(&s, min, max), "{s}");
            }
        }
    }

    /// Vocabulary of a date model: specials first, then characters in a scrambled order.
    fn scrambled_vocab() -> Vec<char> {
        chars("\u{0}\u{1}9-8765x43210")
    }

    #[test]
    fn token_masks_follow_the_vocabulary() {
        let vocab = scrambled_vocab();
        let d = DateConstraint::new(&vocab, 1950, 2049).unwrap();
        let id = |ch: char| vocab.iter().position(|&v| v == ch).unwrap();
        let mask = |prefix: &[usize]| {
            let mut m = vec![false; vocab.len()];
            d.allowed(prefix, &mut m);
            m
        };
        let mut want = vec![false; vocab.len()];
        want[id('1')] = true;
        want[id('2')] = true;
        assert_eq!(mask(&[]), want);
        let prefix: Vec<usize> = "1987".chars().map(id).collect();
        let mut want = vec![false; vocab.len()];
        want[id('-')] = true;
        assert_eq!(mask(&prefix), want);
        assert!(
            !mask(&[0]).contains(&true),
            "a special token ends everything"
        );
        assert!(
            !mask(&[99]).contains(&true),
            "an unknown token ends everything"
        );
        // A caller's mask shorter than the vocabulary is not a reason to panic.
        d.allowed(&[], &mut [false; 2]);
    }

    #[test]
    fn the_refusal_token_is_allowed_until_the_date_is_complete_then_alone() {
        let vocab = scrambled_vocab();
        let refusal = vocab.iter().position(|&v| v == 'x').unwrap();
        let d = DateConstraint::new(&vocab, 1950, 2049)
            .unwrap()
            .with_fallback(refusal);
        let id = |ch: char| vocab.iter().position(|&v| v == ch).unwrap();
        let mask = |prefix: &[usize]| {
            let mut m = vec![false; vocab.len()];
            d.allowed(prefix, &mut m);
            (0..vocab.len()).filter(|&t| m[t]).collect::<Vec<_>>()
        };
        let mut want = vec![id('2'), id('1'), refusal];
        want.sort();
        assert_eq!(mask(&[]), want);
        let prefix: Vec<usize> = "2023-02-2".chars().map(id).collect();
        assert!(mask(&prefix).contains(&refusal));
        assert!(!mask(&prefix).contains(&id('9')), "not in 2023");
        assert_eq!(mask(&[id('2'), refusal]), vec![refusal]);
        assert_eq!(mask(&[refusal; 9]), vec![refusal]);
        assert!(mask(&[refusal; 10]).is_empty());
        let date: Vec<usize> = "2023-02-28".chars().map(id).collect();
        assert!(mask(&date).is_empty());
        assert_eq!(d.fallback(), Some(refusal));
        assert_eq!(
            DateConstraint::new(&vocab, 1950, 2049).unwrap().fallback(),
            None
        );
    }

    /// A model that likes nonsense: log-probs from a hash of the prefix, with '9' favoured.
    struct Nonsense {
        vocab: usize,
        nine: usize,
    }

    impl StepModel for Nonsense {
        type State = Vec<Vec<usize>>;
        type Error = String;
        fn step(
            &mut self,
            state: &Self::State,
            last: &[usize],
            source: &[usize],
            step: usize,
        ) -> Result<(Self::State, Vec<f32>), String> {
            let mut next = Vec::new();
            let mut out = Vec::new();
            for ((row, &t), &s) in state.iter().zip(last).zip(source) {
                let mut row = row.clone();
                if step > 0 {
                    row.push(t);
                }
                let mut h = (s as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15);
                for &x in &row {
                    h = (h ^ x as u64)
                        .wrapping_mul(0xbf58_476d_1ce4_e5b9)
                        .rotate_left(29);
                }
                out.extend((0..self.vocab).map(|v| {
                    let noise = ((h >> (v % 50)) & 0xff) as f32 / 64.0;
                    -noise - if v == self.nine { 0.0 } else { 2.0 }
                }));
                next.push(row);
            }
            Ok((next, out))
        }
        fn select(&mut self, state: &Self::State, rows: &[usize]) -> Result<Self::State, String> {
            rows.iter()
                .map(|&r| state.get(r).cloned().ok_or(format!("no row {r}")))
                .collect()
        }
    }

    #[test]
    fn constrained_beam_search_yields_real_dates() {
        let vocab = scrambled_vocab();
        let d = DateConstraint::new(&vocab, 1950, 2049).unwrap();
        let cfg = BeamConfig {
            width: 4,
            n_best: 4,
            max_len: DATE_LEN,
            bos: 0,
            eos: None,
            ..BeamConfig::default()
        };
        let mut model = Nonsense {
            vocab: vocab.len(),
            nine: 2,
        };
        let n = 6;
        let text = |tokens: &[usize]| tokens.iter().map(|&t| vocab[t]).collect::<String>();
        let hyps = beam_search(&mut model, vec![Vec::new(); n], n, &cfg, Some(&d)).unwrap();
        assert!(hyps.iter().all(|h| h.len() == 4));
        for h in hyps.iter().flatten() {
            assert!(is_valid_date(&text(&h.tokens), 1950, 2049), "{h:?}");
        }
        let one = BeamConfig {
            width: 1,
            n_best: 1,
            ..cfg
        };
        // Left to itself the model writes something that is not a date.
        let free = greedy(&mut model, vec![Vec::new(); n], n, &one, None).unwrap();
        assert!(free
            .iter()
            .all(|h| !is_valid_date(&text(&h.tokens), 1950, 2049)));
        for h in greedy(&mut model, vec![Vec::new(); n], n, &one, Some(&d)).unwrap() {
            assert!(is_valid_date(&text(&h.tokens), 1950, 2049), "{h:?}");
        }
    }
}
