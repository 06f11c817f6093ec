//! Labelled sentences from the files people have: CSV or TSV with a text and a label column,
//! a pair of one-sentence-per-line files (MR's `rt-polarity.pos` / `.neg`), or `label sentence`
//! lines (the SST files of Kim 2014). Every problem names the file and the line.
//!
//! Memory is bounded whatever a file holds: a text longer than
//! [`max_line_bytes`](crate::text::max_line_bytes) (`--max-line-bytes`, 1 MiB by default) is
//! cut there rather than refused, since a classifier reads only its first 1,000 words
//! ([`MAX_WORDS`](super::tokenize::MAX_WORDS)); [`Dataset::read`] returns each [`Cut`], for a
//! warning naming the line. Of a CSV or TSV row only the text and label columns are kept.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::error::{Error, Result};
use crate::text::{Cut, Keep, Record};

/// One labelled sentence and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Example {
    /// The sentence.
    pub text: String,
    /// Its label, as written in the file.
    pub label: String,
    /// 1-based line (CSV: record) number in its file.
    pub line: usize,
}

/// A column given by 0-based position or by header name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Column {
    /// 0-based position.
    Index(usize),
    /// A name from the header row.
    Name(String),
}

impl FromStr for Column {
    type Err = Error;

    /// Digits are a 0-based position; anything else is a header name.
    fn from_str(s: &str) -> Result<Column> {
        let s = s.trim();
        if s.is_empty() {
            return Err(Error::Config("a column needs a position or a name".into()));
        }
        Ok(match s.parse::<usize>() {
            Ok(i) => Column::Index(i),
            Err(_) => Column::Name(s.to_owned()),
        })
    }
}

/// How to read a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableOptions {
    /// The text column.
    pub text: Column,
    /// The label column.
    pub label: Column,
    /// Whether the first row names the columns (required for columns given by name).
    pub header: bool,
    /// Field separator; `None` picks a tab for `.tsv`/`.tab` files and a comma otherwise.
    pub delimiter: Option<u8>,
}

impl Default for TableOptions {
    fn default() -> Self {
        TableOptions {
            text: Column::Index(0),
            label: Column::Index(1),
            header: false,
            delimiter: None,
        }
    }
}

/// Reads a CSV or TSV file (RFC 4180 quoting: commas, tabs and newlines inside quoted fields;
/// rows may have extra, unused columns, as Emojify's do). A text or label longer than
/// [`max_line_bytes`](crate::text::max_line_bytes) is cut there; [`Dataset::read`] says where.
pub fn read_table(path: &Path, options: &TableOptions) -> Result<Vec<Example>> {
    read_table_cutting(path, options, &mut Vec::new())
}

fn read_table_cutting(
    path: &Path,
    options: &TableOptions,
    cuts: &mut Vec<Cut>,
) -> Result<Vec<Example>> {
    let delimiter = options.delimiter.unwrap_or_else(|| {
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        if ext.eq_ignore_ascii_case("tsv") || ext.eq_ignore_ascii_case("tab") {
            b'\t'
        } else {
            b','
        }
    });
    let mut records = crate::text::records(crate::text::open_maybe_gz(path)?, path, delimiter);
    let headers = match options.header {
        true => records.next_record(Keep::All)?,
        false => None,
    };
    let text_at = resolve(
        &options.text,
        "text",
        headers.as_ref(),
        options.header,
        path,
    )?;
    let label_at = resolve(
        &options.label,
        "label",
        headers.as_ref(),
        options.header,
        path,
    )?;
    if text_at == label_at {
        return Err(Error::Config(format!(
            "{}: the text and the label are both read from column {text_at} (from 0); give \
             --text-column and --label-column different columns",
            path.display()
        )));
    }
    let mut out = Vec::new();
    let columns = [text_at, label_at];
    while let Some(record) = records.next_record(Keep::Columns(&columns))? {
        if record.blank {
            continue;
        }
        let line = record.line;
        let bad = |reason: String| Error::BadLine {
            path: path.to_path_buf(),
            line,
            reason,
        };
        let field = |at: usize, role: &str| {
            record.get(at).map(str::trim).ok_or_else(|| {
                bad(format!(
                    "has {} column(s); the {role} column ({at}) is missing",
                    record.columns
                ))
            })
        };
        let text = field(text_at, "text")?;
        let label = field(label_at, "label")?;
        if text.is_empty() {
            return Err(bad("the text is empty".into()));
        }
        if label.is_empty() {
            return Err(bad("the label is empty".into()));
        }
        out.push(Example {
            text: text.to_owned(),
            label: label.to_owned(),
            line,
        });
        cuts.extend(record.cuts);
    }
    non_empty(out, path)
}

/// The 0-based position of `column`, the `role` column ("text", "label"), in a table whose
/// first row is `headers` (read when `header`).
fn resolve(
    column: &Column,
    role: &str,
    headers: Option<&Record>,
    header: bool,
    path: &Path,
) -> Result<usize> {
    let name = match column {
        Column::Index(i) => return Ok(*i),
        Column::Name(name) => name,
    };
    if !header {
        return Err(Error::Config(format!(
            "{}: the {role} column is given by name ({name:?}) but the file is read without a header",
            path.display()
        )));
    }
    let names: Vec<&str> = headers
        .map(|h| h.fields.iter().map(|(_, f)| f.as_str()).collect())
        .unwrap_or_default();
    names.iter().position(|h| h.trim() == name).ok_or_else(|| {
        let quoted: Vec<String> = names.iter().map(|h| crate::limits::quote(h)).collect();
        Error::Config(format!(
            "{}: no {role} column named {name:?}; the columns are {}",
            path.display(),
            shown(&quoted, 20)
        ))
    })
}

/// Reads MR's layout: one sentence per line in a positive and a negative file; the labels are
/// `pos` and `neg`. A line longer than [`max_line_bytes`](crate::text::max_line_bytes) is cut
/// there; [`Dataset::read`] says where.
pub fn read_pos_neg(pos: &Path, neg: &Path) -> Result<Vec<Example>> {
    read_pos_neg_cutting(pos, neg, &mut Vec::new())
}

fn read_pos_neg_cutting(pos: &Path, neg: &Path, cuts: &mut Vec<Cut>) -> Result<Vec<Example>> {
    let mut out = Vec::new();
    for (path, label) in [(pos, "pos"), (neg, "neg")] {
        let before = out.len();
        for line in crate::text::cut_lines(crate::text::open_maybe_gz(path)?, path) {
            let line = line?;
            let text = line.text.trim();
            if !text.is_empty() {
                out.push(Example {
                    text: text.to_owned(),
                    label: label.to_owned(),
                    line: line.number,
                });
                cuts.extend(line.cut);
            }
        }
        if out.len() == before {
            return Err(empty(path));
        }
    }
    Ok(out)
}

/// Reads `label sentence` lines (SST as Kim 2014 distributes it: `1 a gorgeous film .`). A
/// line longer than [`max_line_bytes`](crate::text::max_line_bytes) is cut there;
/// [`Dataset::read`] says where.
pub fn read_labelled_lines(path: &Path) -> Result<Vec<Example>> {
    read_labelled_lines_cutting(path, &mut Vec::new())
}

fn read_labelled_lines_cutting(path: &Path, cuts: &mut Vec<Cut>) -> Result<Vec<Example>> {
    let mut out = Vec::new();
    for line in crate::text::cut_lines(crate::text::open_maybe_gz(path)?, path) {
        let line = line?;
        if line.text.trim().is_empty() {
            continue;
        }
        let (label, text) = line
            .text
            .trim()
            .split_once(char::is_whitespace)
            .map(|(l, t)| (l, t.trim()))
            .filter(|(_, t)| !t.is_empty())
            .ok_or_else(|| Error::BadLine {
                path: path.to_path_buf(),
                line: line.number,
                reason: "expected `label sentence`".into(),
            })?;
        out.push(Example {
            text: text.to_owned(),
            label: label.to_owned(),
            line: line.number,
        });
        cuts.extend(line.cut);
    }
    non_empty(out, path)
}

fn empty(path: &Path) -> Error {
    Error::nothing_in(path, "labelled sentences")
}

fn non_empty(out: Vec<Example>, path: &Path) -> Result<Vec<Example>> {
    if out.is_empty() {
        Err(empty(path))
    } else {
        Ok(out)
    }
}

/// The classes of a training set, in a fixed order: numerically when every label is an integer
/// (Emojify's 0-4, SST's 0-4), else as strings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Labels {
    names: Vec<String>,
}

impl Labels {
    /// The distinct labels of `examples`; fewer than two is an error naming the file.
    pub fn of(examples: &[Example], path: &Path) -> Result<Labels> {
        let mut names: Vec<String> = examples.iter().map(|e| e.label.clone()).collect();
        names.sort();
        names.dedup();
        if names.iter().all(|n| n.parse::<i64>().is_ok()) {
            names.sort_by_key(|n| n.parse::<i64>().unwrap_or(0));
        }
        if names.len() < 2 {
            return Err(Error::BadFile {
                path: path.to_path_buf(),
                reason: format!(
                    "has {} class(es) ({}); a classifier needs at least two",
                    names.len(),
                    names.join(", ")
                ),
            });
        }
        Ok(Labels { names })
    }

    /// Labels in a given order (a trained model's).
    pub fn from_names(names: Vec<String>) -> Labels {
        Labels { names }
    }

    /// The labels, by class id.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The class id of `label`.
    pub fn id(&self, label: &str) -> Option<usize> {
        self.names.iter().position(|n| n == label)
    }

    /// The class ids of `examples`; a label the training set did not have is an error naming it
    /// and its line.
    pub fn ids(&self, examples: &[Example], path: &Path) -> Result<Vec<usize>> {
        examples
            .iter()
            .map(|e| {
                self.id(&e.label).ok_or_else(|| Error::BadLine {
                    path: PathBuf::from(path),
                    line: e.line,
                    reason: format!(
                        "label {:?} is not one of the {} training labels ({})",
                        e.label,
                        self.names.len(),
                        shown(&self.names, 20)
                    ),
                })
            })
            .collect()
    }
}

/// The first `most` of `names`, comma-separated, then how many more there are.
fn shown(names: &[String], most: usize) -> String {
    let mut text = names[..names.len().min(most)].join(", ");
    if names.len() > most {
        text.push_str(&format!(", ... and {} more", names.len() - most));
    }
    text
}

/// Where labelled sentences are read from: the layouts of [`read_table`],
/// [`read_labelled_lines`] and [`read_pos_neg`].
#[derive(Debug, Clone, Copy)]
pub enum Source<'a> {
    /// A CSV or TSV file.
    Table(&'a Path, &'a TableOptions),
    /// `label sentence` lines.
    LabelledLines(&'a Path),
    /// A file of positive and a file of negative sentences.
    PosNeg(&'a Path, &'a Path),
}

/// Labelled sentences and the file they came from (named in errors).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dataset {
    /// Where the sentences were read from.
    pub path: PathBuf,
    /// The sentences.
    pub examples: Vec<Example>,
}

impl Dataset {
    /// The class ids of the examples under `labels`; an unseen label is an error naming its
    /// file and line.
    pub fn classes(&self, labels: &Labels) -> Result<Vec<usize>> {
        labels.ids(&self.examples, &self.path)
    }

    /// Reads the labelled sentences of `source`, and where a text was cut at
    /// [`max_line_bytes`](crate::text::max_line_bytes) (for a warning naming the line).
    pub fn read(source: &Source<'_>) -> Result<(Dataset, Vec<Cut>)> {
        let mut cuts = Vec::new();
        let (path, examples) = match *source {
            Source::Table(path, options) => (path, read_table_cutting(path, options, &mut cuts)?),
            Source::LabelledLines(path) => (path, read_labelled_lines_cutting(path, &mut cuts)?),
            Source::PosNeg(pos, neg) => (pos, read_pos_neg_cutting(pos, neg, &mut cuts)?),
        };
        let dataset = Dataset {
            path: path.to_path_buf(),
            examples,
        };
        Ok((dataset, cuts))
    }

    /// A CSV or TSV file (see [`read_table`]).
    pub fn table(path: &Path, options: &TableOptions) -> Result<Dataset> {
        Ok(Dataset::read(&Source::Table(path, options))?.0)
    }

    /// `label sentence` lines (see [`read_labelled_lines`]).
    pub fn labelled_lines(path: &Path) -> Result<Dataset> {
        Ok(Dataset::read(&Source::LabelledLines(path))?.0)
    }

    /// A positive and a negative file (see [`read_pos_neg`]); named after the positive one.
    pub fn pos_neg(pos: &Path, neg: &Path) -> Result<Dataset> {
        Ok(Dataset::read(&Source::PosNeg(pos, neg))?.0)
    }

    pub(crate) fn subset(&self, rows: &[usize]) -> Dataset {
        Dataset {
            path: self.path.clone(),
            examples: rows.iter().map(|&i| self.examples[i].clone()).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &[u8]) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn csv_quotes_commas_emoji_and_extra_columns() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            dir.path(),
            "emo.csv",
            "never talk to me again,3,,\n\"I love you, mum ❤️\",0\n\"she said \"\"hi\"\"\",2,x\n\n"
                .as_bytes(),
        );
        let ex = read_table(&path, &TableOptions::default()).unwrap();
        let texts: Vec<&str> = ex.iter().map(|e| e.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "never talk to me again",
                "I love you, mum ❤️",
                "she said \"hi\""
            ]
        );
        assert_eq!(ex[1].label, "0");
        assert_eq!(ex[2].line, 3);
    }

    #[test]
    fn tsv_with_named_columns() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            dir.path(),
            "d.tsv",
            b"id\tlabel\tsentence\n7\tpos\ta fine film\n8\tneg\tdull\n",
        );
        let options = TableOptions {
            text: "sentence".parse().unwrap(),
            label: "label".parse().unwrap(),
            header: true,
            delimiter: None,
        };
        let ex = read_table(&path, &options).unwrap();
        assert_eq!(
            (ex[0].text.as_str(), ex[0].label.as_str()),
            ("a fine film", "pos")
        );
        assert_eq!(ex[1].line, 3);
        let missing = TableOptions {
            text: "review".parse().unwrap(),
            ..options.clone()
        };
        let err = read_table(&path, &missing).unwrap_err().to_string();
        assert!(
            err.contains("\"review\"") && err.contains("\"sentence\""),
            "{err}"
        );
        let no_header = TableOptions {
            header: false,
            ..options
        };
        assert!(read_table(&path, &no_header).is_err());
    }

    #[test]
    fn table_errors_name_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let short = write(dir.path(), "short.csv", b"good,1\nno label here\n");
        let err = read_table(&short, &TableOptions::default())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("short.csv:2") && err.contains("missing"),
            "{err}"
        );
        let blank = write(dir.path(), "blank.csv", b"good,1\n\"  \",0\n");
        let err = read_table(&blank, &TableOptions::default())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("blank.csv:2") && err.contains("text is empty"),
            "{err}"
        );
        let bad = write(dir.path(), "bad.csv", b"good,1\nb\xffd,0\n");
        let err = read_table(&bad, &TableOptions::default())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("bad.csv:2: not valid UTF-8 (column 1)"),
            "{err}"
        );
        let empty = write(dir.path(), "empty.csv", b"");
        let err = read_table(&empty, &TableOptions::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("no labelled sentences"), "{err}");
    }

    #[test]
    fn mr_pairs_and_sst_lines() {
        let dir = tempfile::tempdir().unwrap();
        let pos = write(dir.path(), "r.pos", b"a gem .\n\nwarm and funny .\n");
        let neg = write(dir.path(), "r.neg", b"a mess .\n");
        let ex = read_pos_neg(&pos, &neg).unwrap();
        let labels: Vec<&str> = ex.iter().map(|e| e.label.as_str()).collect();
        assert_eq!(labels, ["pos", "pos", "neg"]);
        assert_eq!(ex[1].line, 3);
        let empty = write(dir.path(), "e.neg", b"\n");
        assert!(read_pos_neg(&pos, &empty).is_err());

        let sst = write(
            dir.path(),
            "sst",
            b"1 a gorgeous film .\n0 one long string of cliches .\n",
        );
        let ex = read_labelled_lines(&sst).unwrap();
        assert_eq!(
            (ex[0].label.as_str(), ex[0].text.as_str()),
            ("1", "a gorgeous film .")
        );
        let bad = write(dir.path(), "bad", b"1 fine\nlonely\n");
        let err = read_labelled_lines(&bad).unwrap_err().to_string();
        assert!(err.contains("bad:2"), "{err}");
    }

    #[test]
    fn labels_order_unseen_labels_and_one_class() {
        let ex = |labels: &[&str]| -> Vec<Example> {
            labels
                .iter()
                .enumerate()
                .map(|(i, l)| Example {
                    text: "x".into(),
                    label: (*l).into(),
                    line: i + 1,
                })
                .collect()
        };
        let p = Path::new("train.csv");
        let labels = Labels::of(&ex(&["10", "2", "0", "2"]), p).unwrap();
        assert_eq!(labels.names(), ["0", "2", "10"]);
        let labels = Labels::of(&ex(&["pos", "neg"]), p).unwrap();
        assert_eq!(labels.names(), ["neg", "pos"]);
        let err = labels
            .ids(&ex(&["pos", "meh"]), Path::new("test.csv"))
            .unwrap_err();
        assert!(
            err.to_string().contains("test.csv:2") && err.to_string().contains("\"meh\""),
            "{err}"
        );
        let err = Labels::of(&ex(&["pos", "pos"]), p).unwrap_err().to_string();
        assert!(err.contains("1 class(es)"), "{err}");
    }
}
