//! CSV and TSV records (RFC 4180 quoting: delimiters, quotes and line breaks inside quoted
//! fields), read field by field with `csv-core` so that memory stays bounded whatever a record
//! holds: only the columns asked for are kept, each up to [`max_line_bytes`] bytes (a longer
//! one is cut, with a [`Cut`]), and a row read whole (a header) is refused past that size. A
//! quote that never closes swallows the rest of the file into one field, which is cut like any
//! other. Blank lines between records are passed over; each record knows the line it starts on.

use std::io::BufRead;
use std::path::{Path, PathBuf};

use csv_core::ReadFieldResult;

use super::lines::{cut_text, max_line_bytes, too_long, Cut};
use crate::error::{Error, Result};

/// Which fields of a record to keep.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Keep<'a> {
    /// Every field (a header row): the whole row must fit in the limit.
    All,
    /// These 0-based columns, each cut at the limit; the others are only counted.
    Columns(&'a [usize]),
}

/// A record: the fields kept, and what the others were.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Record {
    /// The 1-based line it starts on.
    pub line: usize,
    /// How many fields it has.
    pub columns: usize,
    /// The fields kept, by 0-based column, in order.
    pub fields: Vec<(usize, String)>,
    /// The kept fields that were cut at the limit.
    pub cuts: Vec<Cut>,
    /// Whether every byte of every field is whitespace.
    pub blank: bool,
}

impl Record {
    /// The field in `column`, when it was kept and the record has it.
    pub fn get(&self, column: usize) -> Option<&str> {
        self.fields
            .iter()
            .find(|(c, _)| *c == column)
            .map(|(_, f)| f.as_str())
    }
}

/// The records of a CSV or TSV stream; see the module documentation.
pub(crate) struct Records<R> {
    reader: R,
    core: csv_core::Reader,
    path: PathBuf,
    /// The line of the next byte.
    line: usize,
    limit: usize,
}

/// The records of `reader`, named `path` in errors, with fields separated by `delimiter`.
pub(crate) fn records<R: BufRead>(reader: R, path: &Path, delimiter: u8) -> Records<R> {
    Records {
        reader,
        core: csv_core::ReaderBuilder::new().delimiter(delimiter).build(),
        path: path.to_path_buf(),
        line: 1,
        limit: max_line_bytes(),
    }
}

/// Bytes a kept field costs beyond its text, for the bound on a row read whole.
const FIELD_COST: usize = 32;

impl<R: BufRead> Records<R> {
    /// The next record, keeping the fields `keep` names; `None` at the end of the input.
    pub fn next_record(&mut self, keep: Keep<'_>) -> Result<Option<Record>> {
        if !self.skip_line_breaks()? {
            return Ok(None);
        }
        let mut record = Record {
            line: self.line,
            columns: 0,
            fields: Vec::new(),
            cuts: Vec::new(),
            blank: true,
        };
        let (mut field, mut bytes, mut row_bytes) = (Vec::new(), 0u64, 0u64);
        let mut kept_cost = 0usize;
        let mut out = [0u8; 8192];
        loop {
            let column = record.columns;
            let kept = match keep {
                Keep::All => kept_cost <= self.limit,
                Keep::Columns(columns) => columns.contains(&column),
            };
            let room = self.limit.saturating_sub(field.len());
            let input = self
                .reader
                .fill_buf()
                .map_err(|e| Error::io("reading", &self.path, e))?;
            let ended = input.is_empty();
            let (result, nin, nout) = self.core.read_field(input, &mut out);
            self.line += input[..nin].iter().filter(|&&b| b == b'\n').count();
            self.reader.consume(nin);
            let chunk = &out[..nout];
            record.blank &= chunk.iter().all(u8::is_ascii_whitespace);
            if kept {
                field.extend_from_slice(&chunk[..nout.min(room)]);
            }
            bytes += nout as u64;
            match result {
                ReadFieldResult::InputEmpty if ended => return Ok(None),
                ReadFieldResult::InputEmpty | ReadFieldResult::OutputFull => continue,
                ReadFieldResult::End => return Ok((record.columns > 0).then_some(record)),
                ReadFieldResult::Field { record_end } => {
                    if kept {
                        kept_cost += field.len() + FIELD_COST;
                        let text = std::mem::take(&mut field);
                        self.keep(&mut record, column, text, bytes)?;
                    }
                    row_bytes += bytes + u64::from(column > 0);
                    record.columns += 1;
                    bytes = 0;
                    if record_end {
                        break;
                    }
                }
            }
        }
        if matches!(keep, Keep::All) && kept_cost > self.limit {
            return Err(too_long(&self.path, record.line, row_bytes, self.limit));
        }
        Ok(Some(record))
    }

    /// Adds the field in `column` (`bytes` long, of which `text` is kept) to `record`.
    fn keep(&self, record: &mut Record, column: usize, text: Vec<u8>, bytes: u64) -> Result<()> {
        let over = bytes > text.len() as u64;
        let text = match over {
            true => cut_text(text).map_err(|_| ()),
            false => String::from_utf8(text).map_err(|_| ()),
        };
        let text = text.map_err(|()| Error::BadLine {
            path: self.path.clone(),
            line: record.line,
            reason: format!("not valid UTF-8 (column {})", column + 1),
        })?;
        if over {
            record.cuts.push(Cut {
                path: self.path.clone(),
                line: record.line,
                column: Some(column),
                bytes,
                limit: self.limit,
            });
        }
        record.fields.push((column, text));
        Ok(())
    }

    /// Passes over the line breaks before a record (blank lines), counting them; `false` at
    /// the end of the input.
    fn skip_line_breaks(&mut self) -> Result<bool> {
        loop {
            let input = self
                .reader
                .fill_buf()
                .map_err(|e| Error::io("reading", &self.path, e))?;
            if input.is_empty() {
                return Ok(false);
            }
            let n = input
                .iter()
                .position(|&b| b != b'\n' && b != b'\r')
                .unwrap_or(input.len());
            let more = n == input.len();
            self.line += input[..n].iter().filter(|&&b| b == b'\n').count();
            self.reader.consume(n);
            if !more {
                return Ok(true);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(input: &[u8], keep: Keep<'_>, limit: usize) -> Result<Vec<Record>> {
        let mut r = records(
            std::io::BufReader::with_capacity(3, input),
            "t.csv".as_ref(),
            b',',
        );
        r.limit = limit;
        let mut out = Vec::new();
        while let Some(record) = r.next_record(keep)? {
            out.push(record);
        }
        Ok(out)
    }

    #[test]
    fn quoted_fields_blank_lines_and_line_numbers() {
        let input = b"a,\"b,\"\"c\"\"\nd\",e\r\n\r\n\n  ,\nx,y,z\n\"open";
        let got = all(input, Keep::Columns(&[0, 1]), 100).unwrap();
        let rows: Vec<_> = got
            .iter()
            .map(|r| (r.line, r.columns, r.fields.clone(), r.blank))
            .collect();
        let f = |c: usize, s: &str| (c, s.to_owned());
        assert_eq!(
            rows,
            [
                (1, 3, vec![f(0, "a"), f(1, "b,\"c\"\nd")], false),
                (5, 2, vec![f(0, "  "), f(1, "")], true),
                (6, 3, vec![f(0, "x"), f(1, "y")], false),
                (7, 1, vec![f(0, "open")], false),
            ]
        );
    }

    #[test]
    fn long_fields_are_cut_and_long_rows_read_whole_refused() {
        let long = format!("{},label,{}\nok,1\n", "é".repeat(50), "z".repeat(10_000));
        let got = all(long.as_bytes(), Keep::Columns(&[0, 1]), 9).unwrap();
        assert_eq!(got[0].get(0), Some("éééé"));
        assert_eq!(got[0].get(1), Some("label"));
        assert_eq!(got[0].cuts.len(), 1);
        assert_eq!(
            got[0].cuts[0].to_string(),
            "t.csv:1: column 0 is 100 bytes; cut to its first 9 bytes (--max-line-bytes)"
        );
        assert_eq!((got[1].line, got[1].get(0)), (2, Some("ok")));
        let err = all(long.as_bytes(), Keep::All, 1000).unwrap_err();
        assert_eq!(
            err.to_string(),
            "t.csv:1: the line is 10,107 bytes; the limit is 1,000 bytes (--max-line-bytes)"
        );
        let err = all(b"ok,1\nb\xffd,0\n", Keep::Columns(&[0]), 100).unwrap_err();
        assert_eq!(err.to_string(), "t.csv:2: not valid UTF-8 (column 1)");
    }
}
