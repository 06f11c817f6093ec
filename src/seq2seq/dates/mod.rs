//! Human-written dates paired with ISO dates, for training a date-translation
//! seq2seq model.
//!
//! This reproduces the data of the "Neural machine translation with attention"
//! exercise of the Coursera / deeplearning.ai *Sequence Models* course (week 3),
//! whose `nmt_utils.py` draws a date with faker, renders it with babel's
//! `format_date(dt, format=..., locale='en_US')`, then applies `.lower()` and
//! `.replace(',', '')`. Dates are drawn uniformly from [`FIRST`]..=[`LAST`].
//!
//! Three format sets are available ([`FormatSet`]):
//!
//! * **course** — the course's 24-entry sampling list (`short`, `medium`,
//!   `long`, `full` ten times, then ten explicit patterns with `d MMMM YYY`
//!   twice), rendered as babel does for en_US, lower-cased and without commas.
//!   One deliberate deviation: CLDR's `YYY`/`YY` is the *week-based* year, so
//!   babel writes e.g. 2018-12-31 as "31 december 2019"; here the calendar
//!   year is always used so that every pair is a correct translation.
//! * **wide** — the course set plus what people actually type: ordinals and
//!   "of" ("the 4th of july 2001", "march 3rd 2001"), abbreviated weekdays
//!   ("tue 10 jul 2007"), ISO ("2007-07-10"), slashed month-first numerics
//!   ("07/10/2007"), dotted and dashed day-first dates ("10.07.2007",
//!   "10-jul-2007", "10-07-2007"), two-digit years, commas where people put
//!   them ("tuesday, july 10, 2007"), "Sept", and per-sample casing
//!   ([`Casing`]): lower, Capitalised, Sentence, Title and UPPER. One sample in
//!   three is a course draw; the rest spread evenly over the extras.
//!
//! * **real** — dates as people really write them, for the built-in model (module `real`):
//!   any year from 1000 to 2999 (26 of them held out, [`is_held_out_year`]), the wide set's
//!   patterns and more layouts (year-first with `/` and `.`, apostrophe years, spelled-out days,
//!   `Sept.`/`Weds`/`Thurs`, log and e-mail timestamps), a time of day and timezone after the
//!   date, labels, brackets and punctuation, misspelt names and spacing, slashed dates read
//!   day-first behind the [`DAY_FIRST`] tag, and inputs to refuse, whose target is empty (no
//!   date, incomplete or relative dates) or an impossible date's transcription (which the
//!   calendar constraint refuses at decoding time).
//!
//! Numeric renderings follow one reading per separator: `/` is month-first
//! (en_US), `.`, `-` and the course's spaced `d MM YY` are day-first, and only
//! ISO starts with a four-digit year. Two-digit years pivot at 50
//! ([`pivot_two_digit_year`]), which is unambiguous over the generated range.
//!
//! Everything is deterministic for a given RNG; no human string of the course and wide sets
//! exceeds [`MAX_HUMAN_LEN`] characters, and all of them are ASCII; the real set's stay within
//! [`MAX_REAL_LEN`] (and the tag).
//!
//! The module holds everything about dates: the generator ([`generate`]), the patterns
//! (`patterns`), the calendar constraint that keeps beam search on real dates
//! ([`DateConstraint`]), date training ([`train`], [`resume`]) and evaluation
//! ([`evaluate`]).

mod codec;
mod constraint;
mod eval;
mod generate;
mod layouts;
mod negatives;
mod noise;
mod patterns;
mod real;
mod train;

pub use codec::{CharCodec, DATE_LEN, DAY_FIRST, REFUSAL};
pub use constraint::DateConstraint;
pub use eval::{evaluate, exact_match, is_right, DateRow, Evaluation, FormatScore};
pub use generate::{
    days_in_month, generate, is_leap_year, pivot_two_digit_year, random_date, sample_format,
    sample_pair, Date, DatePair, FormatSet, FIRST, LAST, MAX_HUMAN_LEN,
};
pub use patterns::{formats, ordinal_suffix, Casing, Format};
pub use real::{is_held_out_year, MAX_REAL_LEN, REAL_YEARS};
pub use train::{resume, train, DateReport, EpochFigures, TrainConfig};
