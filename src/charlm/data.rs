//! Reading the data, the character vocabulary, encoding, the held-out split and batches.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::vocab::Vocab;

/// The start and end marker of a sequence in line mode (id 0): a line never contains it.
pub const BOUNDARY: &str = "\n";

/// How a file is cut into sequences.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Unit {
    /// Each non-blank line is one sequence, with start and end markers.
    Line,
    /// One continuous text, cut into windows with the state carried across them.
    Text,
}

/// A file read for training or evaluation: its lines (line mode) or its whole text.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// Where it came from.
    pub path: PathBuf,
    /// The unit it was read with.
    pub unit: Unit,
    /// Line mode: the non-blank lines, with their 1-based line numbers. Text mode: one item,
    /// the whole text (lines joined with `\n`, a final `\n` included), numbered 1.
    pub items: Vec<(usize, String)>,
}

impl Dataset {
    /// Reads `path` (UTF-8; `.gz` accepted). Blank lines are not sequences in line mode (they
    /// are kept as newlines in text mode). An empty file, or one of blank lines only, is an error;
    /// so is a line longer than [`max_line_bytes`](crate::text::max_line_bytes), named by its
    /// number and length without being held (in text mode too: a text without line breaks
    /// needs a limit above its size).
    pub fn load(path: &Path, unit: Unit) -> Result<Dataset> {
        let reader = crate::text::open_maybe_gz(path)?;
        let mut items = Vec::new();
        let mut text = String::new();
        for line in crate::text::lines(reader, path) {
            let (number, line) = line?;
            match unit {
                Unit::Line if !line.trim().is_empty() => items.push((number, line)),
                Unit::Line => {}
                Unit::Text => {
                    text.push_str(&line);
                    text.push('\n');
                }
            }
        }
        if unit == Unit::Text && !text.trim().is_empty() {
            items.push((1, text));
        }
        if items.is_empty() {
            return Err(Error::nothing_in(path, "text (empty, or blank lines only)"));
        }
        Ok(Dataset {
            path: path.to_path_buf(),
            unit,
            items,
        })
    }

    /// The same data, lower-cased (Unicode lower case, as Rust's `str::to_lowercase`).
    pub fn lowercased(mut self) -> Dataset {
        for (_, s) in &mut self.items {
            *s = s.to_lowercase();
        }
        self
    }

    /// A dataset from strings (tests, the library): one item per line for [`Unit::Line`]; for
    /// [`Unit::Text`] the items joined by newlines into the one text (empty without items).
    pub fn from_items(unit: Unit, items: Vec<String>) -> Dataset {
        let items = match unit {
            Unit::Line => items,
            Unit::Text => vec![items.join("\n")],
        };
        Dataset {
            path: PathBuf::from("<memory>"),
            unit,
            items: items
                .into_iter()
                .enumerate()
                .map(|(i, s)| (i + 1, s))
                .collect(),
        }
    }

    /// Number of characters (line mode: plus one end marker per line).
    pub fn targets(&self) -> usize {
        self.items
            .iter()
            .map(|(_, s)| {
                s.chars().count()
                    + match self.unit {
                        Unit::Line => 1,
                        Unit::Text => 0,
                    }
            })
            .sum()
    }

    /// The vocabulary of this data: `"\n"` first in line mode, then the characters by count
    /// (descending) and character.
    pub fn vocab(&self) -> Vocab {
        let specials: &[&str] = match self.unit {
            Unit::Line => &[BOUNDARY],
            Unit::Text => &[],
        };
        Vocab::of_chars(self.items.iter().map(|(_, s)| s.as_str()), specials)
    }

    /// The vocabulary of this training part for a model scored on `held_out`: [`Dataset::vocab`],
    /// plus, in text mode, the newline when only `held_out` has one. A loaded text always ends
    /// with a newline, even where the file has none, so a one-line file's only newline falls in
    /// the held-out part.
    pub fn vocab_for(&self, held_out: &Dataset) -> Vocab {
        let vocab = self.vocab();
        let newline_held_out = held_out.items.iter().any(|(_, s)| s.contains('\n'));
        if self.unit == Unit::Text && vocab.id("\n").is_none() && newline_held_out {
            let texts = self.items.iter().map(|(_, s)| s.as_str());
            return Vocab::of_chars(texts.chain(["\n"]), &[]);
        }
        vocab
    }

    /// Splits off a held-out part. Line mode: `valid` lines chosen by a seeded shuffle. Text
    /// mode: the last `valid` characters of the text (as nanoGPT), numbered from the line they
    /// start on. Returns (train, valid).
    pub fn split(&self, valid_count: usize, seed: u64) -> Result<(Dataset, Dataset)> {
        let part = |items: Vec<(usize, String)>| Dataset {
            path: self.path.clone(),
            unit: self.unit,
            items,
        };
        match self.unit {
            Unit::Line => {
                if valid_count >= self.items.len() {
                    return Err(Error::Config(format!(
                        "cannot hold out {valid_count} of {} sequences",
                        self.items.len()
                    )));
                }
                let (train, valid) =
                    crate::train::split_sorted(self.items.len(), valid_count, seed)?;
                let pick = |idx: Vec<usize>| idx.iter().map(|&i| self.items[i].clone()).collect();
                Ok((part(pick(train)), part(pick(valid))))
            }
            Unit::Text => {
                let chars: Vec<char> = self.items[0].1.chars().collect();
                if valid_count == 1 {
                    return Err(Error::Config(
                        "a held-out text of 1 character has nothing to predict: hold out at \
                         least 2 (one to read, one to predict), or none"
                            .into(),
                    ));
                }
                if valid_count >= chars.len() {
                    return Err(Error::Config(format!(
                        "cannot hold out {valid_count} of {} characters",
                        chars.len()
                    )));
                }
                let cut = chars.len() - valid_count;
                // The held-out part is numbered from the line it starts on, so errors name it.
                let first_line = 1 + chars[..cut].iter().filter(|&&c| c == '\n').count();
                let text = |line, c: &[char]| vec![(line, c.iter().collect::<String>())];
                Ok((
                    part(text(1, &chars[..cut])),
                    part(text(first_line, &chars[cut..])),
                ))
            }
        }
    }

    /// The ids of every item; a character outside `vocab` is an error naming it, the file and
    /// the line.
    pub fn encode(&self, vocab: &Vocab) -> Result<Vec<Vec<i64>>> {
        let mut buf = [0u8; 4];
        self.items
            .iter()
            .map(|(line, s)| {
                let mut line = *line;
                s.chars()
                    .map(|c| {
                        let id = vocab.id(c.encode_utf8(&mut buf)).map(|i| i as i64);
                        let found = id.ok_or_else(|| Error::BadLine {
                            path: self.path.clone(),
                            line,
                            reason: format!(
                                "character {c:?} is not in the model's vocabulary of {} characters",
                                vocab.len()
                            ),
                        });
                        if c == '\n' && self.unit == Unit::Text {
                            line += 1;
                        }
                        found
                    })
                    .collect()
            })
            .collect()
    }
}

/// A batch: inputs and targets `[batch, steps]`, targets padded with [`IGNORE`].
pub(crate) struct Batch {
    pub inputs: Vec<i64>,
    pub targets: Vec<i64>,
    pub rows: usize,
    pub steps: usize,
    /// Targets counted (not padding).
    pub counted: usize,
}

/// The target value that the loss ignores (padding).
pub(crate) const IGNORE: i64 = -100;

/// Line mode: `[0, c1..cn]` -> `[c1..cn, 0]` for each sequence of `seqs`, padded to the longest.
pub(crate) fn line_batch(seqs: &[&[i64]]) -> Batch {
    let steps = seqs.iter().map(|s| s.len() + 1).max().unwrap_or(1);
    let mut inputs = vec![0i64; seqs.len() * steps];
    let mut targets = vec![IGNORE; seqs.len() * steps];
    let mut counted = 0;
    for (r, s) in seqs.iter().enumerate() {
        let row = r * steps;
        inputs[row + 1..row + 1 + s.len()].copy_from_slice(s);
        targets[row..row + s.len()].copy_from_slice(s);
        targets[row + s.len()] = 0;
        counted += s.len() + 1;
    }
    Batch {
        inputs,
        targets,
        rows: seqs.len(),
        steps,
        counted,
    }
}

/// Text mode: the stream cut into `rows` contiguous parts, each stepped through in windows of
/// `seq_len`. Returns the windows in order; row r of window w continues row r of window w - 1.
pub(crate) fn text_windows(stream: &[i64], rows: usize, seq_len: usize) -> Vec<Batch> {
    let rows = rows.max(1);
    let part = (stream.len().saturating_sub(1)) / rows;
    if part == 0 {
        return Vec::new();
    }
    let mut windows = Vec::new();
    let mut start = 0;
    while start < part {
        let steps = seq_len.min(part - start);
        let mut inputs = Vec::with_capacity(rows * steps);
        let mut targets = Vec::with_capacity(rows * steps);
        for r in 0..rows {
            let at = r * part + start;
            inputs.extend_from_slice(&stream[at..at + steps]);
            targets.extend_from_slice(&stream[at + 1..at + 1 + steps]);
        }
        windows.push(Batch {
            inputs,
            targets,
            rows,
            steps,
            counted: rows * steps,
        });
        start += steps;
    }
    windows
}
