//! Parallel corpora: a TSV of pairs (`source<TAB>target`, extra columns ignored, as in the
//! Tatoeba/manythings files) or two aligned files, line `i` of one translating line `i` of the
//! other. Plain or gzip. Every error names the file and line. A line longer than
//! [`max_line_bytes`](crate::text::max_line_bytes) is refused by its number and length, never
//! held: cutting one side of a pair would pair a sentence with part of its translation.

use std::path::Path;

use crate::error::{Error, Result};
use crate::text::{lines, open_maybe_gz, read_lines_from};

/// A sentence pair and the line it came from (1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pair {
    /// Source sentence.
    pub src: String,
    /// Target sentence.
    pub tgt: String,
    /// Line number in the file(s).
    pub line: usize,
}

/// Every line of a plain or gzip text file, without terminators; invalid UTF-8 is an error
/// naming the line.
pub fn read_text_lines(path: &Path) -> Result<Vec<String>> {
    read_lines_from(open_maybe_gz(path)?, path)
}

/// Reads two files that must hold the same number of lines (plain or gzip); different
/// counts are an error naming both files, and so is a file with no text at all.
pub fn read_parallel_lines(a: &Path, b: &Path) -> Result<(Vec<String>, Vec<String>)> {
    let (x, y) = (read_text_lines(a)?, read_text_lines(b)?);
    for (path, lines) in [(a, &x), (b, &y)] {
        if lines.iter().all(|l| l.trim().is_empty()) {
            return Err(Error::nothing_in(path, "text"));
        }
    }
    if x.len() != y.len() {
        return Err(Error::Config(format!(
            "{} has {} lines but {} has {}: the files must be aligned line by line",
            a.display(),
            x.len(),
            b.display(),
            y.len()
        )));
    }
    Ok((x, y))
}

/// Reads `source<TAB>target[<TAB>...]` lines. Blank lines are skipped; a line with fewer than
/// two columns, or with an empty side, is an error naming it. An empty file is an error.
pub fn read_tsv(path: &Path) -> Result<Vec<Pair>> {
    let mut pairs = Vec::new();
    for line in lines(open_maybe_gz(path)?, path) {
        let (number, text) = line?;
        if text.trim().is_empty() {
            continue;
        }
        let mut cols = text.split('\t');
        let (src, tgt) = (cols.next().unwrap_or(""), cols.next());
        let bad = |reason: &str| Error::BadLine {
            path: path.to_path_buf(),
            line: number,
            reason: reason.to_owned(),
        };
        let Some(tgt) = tgt else {
            return Err(bad("expected source<TAB>target, found one column"));
        };
        if src.trim().is_empty() || tgt.trim().is_empty() {
            return Err(bad("empty source or target"));
        }
        pairs.push(Pair {
            src: src.trim().to_owned(),
            tgt: tgt.trim().to_owned(),
            line: number,
        });
    }
    if pairs.is_empty() {
        return Err(Error::nothing_in(path, "sentence pairs"));
    }
    Ok(pairs)
}

/// Reads two aligned files. Different line counts are an error naming both; a line pair where
/// one side is empty and the other is not is an error naming the line; lines empty on both sides
/// are skipped.
pub fn read_aligned(src: &Path, tgt: &Path) -> Result<Vec<Pair>> {
    let (s, t) = read_parallel_lines(src, tgt)?;
    let mut pairs = Vec::with_capacity(s.len());
    for (i, (a, b)) in s.into_iter().zip(t).enumerate() {
        match (a.trim().is_empty(), b.trim().is_empty()) {
            (true, true) => continue,
            (false, false) => pairs.push(Pair {
                src: a.trim().to_owned(),
                tgt: b.trim().to_owned(),
                line: i + 1,
            }),
            (empty_src, _) => {
                return Err(Error::BadLine {
                    path: if empty_src { src } else { tgt }.to_path_buf(),
                    line: i + 1,
                    reason: "empty line where the other file has a sentence".to_owned(),
                })
            }
        }
    }
    if pairs.is_empty() {
        return Err(Error::nothing_in(
            src,
            "sentence pairs (nor has its target file)",
        ));
    }
    Ok(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn tsv_with_extra_columns_and_blank_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            dir.path(),
            "p.tsv",
            "Go.\tVa !\tCC-BY 2.0 (France)\n\nI am cold.\tJ'ai froid.\n",
        );
        let pairs = read_tsv(&path).unwrap();
        assert_eq!(pairs.len(), 2);
        assert_eq!(pairs[1].src, "I am cold.");
        assert_eq!(pairs[1].tgt, "J'ai froid.");
        assert_eq!(pairs[1].line, 3);
    }

    #[test]
    fn bad_tsv_lines_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let one = write(dir.path(), "one.tsv", "a\tb\nno tab here\n");
        let err = read_tsv(&one).unwrap_err().to_string();
        assert!(err.contains("one.tsv") && err.contains('2'), "{err}");
        let empty = write(dir.path(), "e.tsv", "a\t \n");
        assert!(read_tsv(&empty).unwrap_err().to_string().contains("empty"));
        let nothing = write(dir.path(), "n.tsv", "\n\n");
        assert!(read_tsv(&nothing).is_err());
    }

    #[test]
    fn aligned_files_must_match() {
        let dir = tempfile::tempdir().unwrap();
        let src = write(dir.path(), "a.de", "ein mann\n\nzwei hunde\n");
        let tgt = write(dir.path(), "a.en", "a man\n\ntwo dogs\n");
        let pairs = read_aligned(&src, &tgt).unwrap();
        assert_eq!(pairs.len(), 2);
        assert_eq!(pairs[1].tgt, "two dogs");
        assert_eq!(pairs[1].line, 3);
        let short = write(dir.path(), "b.en", "a man\n");
        let err = read_aligned(&src, &short).unwrap_err().to_string();
        assert!(err.contains("3 lines") && err.contains("1"), "{err}");
        let holes = write(dir.path(), "c.en", "a man\nextra\ntwo dogs\n");
        let err = read_aligned(&src, &holes).unwrap_err().to_string();
        assert!(err.contains("a.de") && err.contains('2'), "{err}");
        // Line-parallel files (hypotheses and references) must hold some text.
        let blank = write(dir.path(), "blank.txt", "\n \n");
        let two = write(dir.path(), "two.txt", "x\ny\n");
        let err = read_parallel_lines(&blank, &two).unwrap_err().to_string();
        assert!(err.contains("blank.txt: has no text"), "{err}");
        assert!(read_parallel_lines(&two, &two).is_ok());
    }
}
