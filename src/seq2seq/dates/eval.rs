//! Scoring a date translator: the rows of a date-pairs file, exact match and the share of real
//! dates among the outputs, overall and per format (when the file names each row's format, as
//! `dates generate --with-format` writes).
//!
//! A reference that is not a real date asks for a refusal: an empty one (`good morning<TAB>`),
//! or an impossible date's transcription (`30 feb 2010<TAB>2010-02-30`, as the `real` set
//! writes them). An input that starts with the [`DAY_FIRST`](super::DAY_FIRST) tag is decoded
//! with it.

use std::path::Path;
use std::time::Instant;

use super::generate::Date;
use super::train::split_tags;
use crate::error::{Error, Result};
use crate::seq2seq::{DecodeOptions, Translation, Translator};

/// One row of a date-pairs file: `human<TAB>YYYY-MM-DD[<TAB>format]`, the reference empty for
/// an input to refuse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateRow {
    /// 1-based line in the file.
    pub line: usize,
    /// The date as a person wrote it.
    pub human: String,
    /// The reference, `YYYY-MM-DD`; empty, or an impossible date, for an input to refuse.
    pub iso: String,
    /// The format's name, when the file gives one.
    pub format: Option<String>,
}

impl DateRow {
    /// The rows of a date-pairs file. Every reference must be a real date, empty (refuse), or
    /// shaped `YYYY-MM-DD` (an impossible date, to refuse); with `max_chars`, an input longer than
    /// that (trimmed and lower-cased, as a model reads it, without its tag) is an error; both
    /// errors name the line.
    pub fn read(path: &Path, max_chars: Option<usize>) -> Result<Vec<DateRow>> {
        let lines = crate::text::read_lines(path)?;
        let mut rows = Vec::with_capacity(lines.len());
        for (i, line) in lines.iter().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let bad = |reason: String| Error::BadLine {
                path: path.to_path_buf(),
                line: i + 1,
                reason,
            };
            let cols: Vec<&str> = line.split('\t').collect();
            if cols.len() < 2 {
                return Err(bad(format!(
                    "expected 2 tab-separated columns, found {}",
                    cols.len()
                )));
            }
            let (human, iso) = (cols[0], cols[1].trim());
            if human.trim().is_empty() {
                return Err(bad("empty input".to_owned()));
            }
            if !iso.is_empty() && !shaped(iso) {
                return Err(bad(format!(
                    "{iso:?} is not a date written YYYY-MM-DD (nor empty, for an input to refuse)"
                )));
            }
            let read = split_tags(human).1.trim().to_lowercase().chars().count();
            if let Some(max) = max_chars.filter(|&max| read > max) {
                return Err(bad(format!(
                    "input {human:?}: {read} characters; this model reads at most {max}"
                )));
            }
            rows.push(DateRow {
                line: i + 1,
                human: human.to_owned(),
                iso: iso.to_owned(),
                format: cols.get(2).map(|f| (*f).to_owned()),
            });
        }
        if rows.is_empty() {
            return Err(Error::nothing_in(path, "rows"));
        }
        Ok(rows)
    }
}

/// Whether `text` has the shape `YYYY-MM-DD` (digits and dashes), a real date or not.
fn shaped(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 10
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            _ => c.is_ascii_digit(),
        })
}

/// Whether `answer` is right for `reference`: the same date, or a refusal where the reference is
/// not a real date.
pub fn is_right(answer: &Translation, reference: &str) -> bool {
    match Date::parse_iso(reference) {
        Some(_) => answer.refused.is_none() && answer.text == reference,
        None => answer.refused.is_some(),
    }
}

/// Exact match of one format's rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatScore {
    /// The format's name ("all" for rows without one).
    pub format: String,
    /// Rows translated exactly right.
    pub right: usize,
    /// Rows of this format.
    pub total: usize,
}

/// What [`evaluate`] measured.
#[derive(Debug)]
pub struct Evaluation {
    /// Each row's translations (best first), or why it was rejected.
    pub outputs: Vec<Result<Vec<Translation>>>,
    /// Rows whose best translation equals the reference.
    pub right: usize,
    /// Rows whose best translation is a real date.
    pub valid_dates: usize,
    /// Rows the translator rejected.
    pub rejected: usize,
    /// Rows whose best answer is a refusal.
    pub refused: usize,
    /// Rows whose reference asks for a refusal.
    pub to_refuse: usize,
    /// Per format, in name order.
    pub per_format: Vec<FormatScore>,
    /// Wall time of the translation alone, seconds.
    pub seconds: f64,
}

impl Evaluation {
    /// Exact match over all rows, in [0, 1].
    pub fn exact_match(&self) -> f64 {
        self.right as f64 / self.outputs.len().max(1) as f64
    }

    /// Share of rows whose best translation is a real date, in [0, 1].
    pub fn valid_share(&self) -> f64 {
        self.valid_dates as f64 / self.outputs.len().max(1) as f64
    }
}

/// Translates every row's input (those that start with the day-first tag with it) and scores
/// the best translation against its reference.
pub fn evaluate(
    translator: &Translator,
    rows: &[DateRow],
    options: &DecodeOptions,
) -> Result<Evaluation> {
    let start = Instant::now();
    let mut outputs: Vec<Option<Result<Vec<Translation>>>> = rows.iter().map(|_| None).collect();
    for tagged in [false, true] {
        let mut options = options.clone();
        let (mut which, mut inputs) = (Vec::new(), Vec::new());
        for (i, row) in rows.iter().enumerate() {
            let (tags, text) = split_tags(&row.human);
            if tags.is_empty() != tagged {
                which.push(i);
                inputs.push(text);
                if tagged {
                    options.tags = tags;
                }
            }
        }
        if inputs.is_empty() {
            continue;
        }
        for (i, out) in which
            .into_iter()
            .zip(translator.translate(&inputs, &options)?)
        {
            outputs[i] = Some(out);
        }
    }
    let outputs: Vec<Result<Vec<Translation>>> = outputs.into_iter().flatten().collect();
    let seconds = start.elapsed().as_secs_f64();
    let mut per_format: std::collections::BTreeMap<&str, (usize, usize)> = Default::default();
    let (mut right, mut valid_dates, mut rejected) = (0usize, 0usize, 0usize);
    let (mut refused, mut to_refuse) = (0usize, 0usize);
    for (row, out) in rows.iter().zip(&outputs) {
        let best = out.as_ref().ok().and_then(|h| h.first());
        let ok = best.is_some_and(|h| is_right(h, &row.iso));
        rejected += usize::from(out.is_err());
        refused += usize::from(best.is_some_and(|h| h.refused.is_some()));
        to_refuse += usize::from(Date::parse_iso(&row.iso).is_none());
        right += usize::from(ok);
        valid_dates += usize::from(best.and_then(|h| Date::parse_iso(&h.text)).is_some());
        let entry = per_format
            .entry(row.format.as_deref().unwrap_or("all"))
            .or_default();
        entry.0 += usize::from(ok);
        entry.1 += 1;
    }
    Ok(Evaluation {
        outputs,
        right,
        valid_dates,
        rejected,
        refused,
        to_refuse,
        per_format: per_format
            .into_iter()
            .map(|(format, (right, total))| FormatScore {
                format: format.to_owned(),
                right,
                total,
            })
            .collect(),
        seconds,
    })
}

/// Share of `sources` whose best translation is right ([`is_right`]).
pub fn exact_match(
    translator: &Translator,
    sources: &[&str],
    references: &[&str],
    options: &DecodeOptions,
) -> Result<f64> {
    let outputs = translator.translate(sources, options)?;
    let right = outputs
        .iter()
        .zip(references)
        .filter(|(out, reference)| {
            matches!(out, Ok(hyps) if hyps.first().is_some_and(|h| is_right(h, reference)))
        })
        .count();
    Ok(right as f64 / sources.len().max(1) as f64)
}
