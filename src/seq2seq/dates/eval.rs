//! Scoring a date translator: the rows of a date-pairs file, exact match and the share of real
//! dates among the outputs, overall and per format (when the file names each row's format, as
//! `dates generate --with-format` writes).

use std::path::Path;
use std::time::Instant;

use super::generate::Date;
use crate::error::Result;
use crate::seq2seq::{DecodeOptions, Translation, Translator};

/// One row of a date-pairs file: `human<TAB>YYYY-MM-DD[<TAB>format]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateRow {
    /// 1-based line in the file.
    pub line: usize,
    /// The date as a person wrote it.
    pub human: String,
    /// The reference, `YYYY-MM-DD`.
    pub iso: String,
    /// The format's name, when the file gives one.
    pub format: Option<String>,
}

impl DateRow {
    /// The rows of a date-pairs file. Every reference must be a real date; with `max_chars`,
    /// an input longer than that (trimmed and lower-cased, as a model reads it) is an error; both
    /// errors name the line.
    pub fn read(path: &Path, max_chars: Option<usize>) -> Result<Vec<DateRow>> {
        let rows = crate::text::read_tsv_numbered(path, 2, |row| {
            if Date::parse_iso(&row[1]).is_none() {
                return Err(format!("{:?} is not a date written YYYY-MM-DD", row[1]));
            }
            let read = row[0].trim().to_lowercase().chars().count();
            match max_chars {
                Some(max) if read > max => Err(format!(
                    "input {:?}: {read} characters; this model reads at most {max}",
                    row[0]
                )),
                _ => Ok(()),
            }
        })?;
        Ok(rows
            .into_iter()
            .map(|(line, mut row)| DateRow {
                line,
                format: row.get(2).cloned(),
                iso: std::mem::take(&mut row[1]),
                human: std::mem::take(&mut row[0]),
            })
            .collect())
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

/// Translates every row's input and scores the best translation against its reference.
pub fn evaluate(
    translator: &Translator,
    rows: &[DateRow],
    options: &DecodeOptions,
) -> Result<Evaluation> {
    let inputs: Vec<&str> = rows.iter().map(|r| r.human.as_str()).collect();
    let start = Instant::now();
    let outputs = translator.translate(&inputs, options)?;
    let seconds = start.elapsed().as_secs_f64();
    let mut per_format: std::collections::BTreeMap<&str, (usize, usize)> = Default::default();
    let (mut right, mut valid_dates, mut rejected) = (0usize, 0usize, 0usize);
    for (row, out) in rows.iter().zip(&outputs) {
        let best = out
            .as_ref()
            .ok()
            .and_then(|h| h.first())
            .map(|h| h.text.as_str());
        let ok = best == Some(row.iso.as_str());
        rejected += usize::from(out.is_err());
        right += usize::from(ok);
        valid_dates += usize::from(best.and_then(Date::parse_iso).is_some());
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

/// Share of `sources` whose best translation equals the reference exactly.
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
            matches!(out, Ok(hyps) if hyps.first().is_some_and(|h| h.text == **reference))
        })
        .count();
    Ok(right as f64 / sources.len().max(1) as f64)
}
