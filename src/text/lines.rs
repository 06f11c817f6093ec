//! Reading text line by line without ever holding more than a maximum line length, whatever
//! the input: a 200 MB line, or `/dev/zero`, costs at most [`max_line_bytes`] bytes (1 MiB
//! unless the binary's `--max-line-bytes` sets it), never the line itself.
//!
//! A longer line is handled in one of two ways, chosen by the reader:
//!
//! - **refused** by [`lines`]: an [`Error::BadLine`] naming the file, the line and its length
//!   (`in.txt:3: the line is 200,000,000 bytes; the limit is 1 MiB (--max-line-bytes)`), read to
//!   its end without keeping it, so that reading can go on after it. For readers whose lines
//!   must be whole: vector files, sentence pairs, corpora, names.
//! - **cut** by [`cut_lines`]: the line's first bytes up to the limit (at a character
//!   boundary), with a [`Cut`] that says so. For readers of text that a model reads only the
//!   start of anyway (a classifier reads 1,000 words of a sentence), where output line N must
//!   still answer input line N.

use std::fmt;
use std::io::{BufRead, ErrorKind, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::error::{Error, Result};

/// The longest line read unless [`set_max_line_bytes`] says otherwise: 1 MiB, a thousand times
/// a long sentence and far above any line of a vector file (300 values take about 3 KB).
pub const DEFAULT_MAX_LINE_BYTES: usize = 1 << 20;

static MAX_LINE_BYTES: AtomicUsize = AtomicUsize::new(DEFAULT_MAX_LINE_BYTES);

/// Sets the longest line (in bytes, at least 1) that every reader of this process keeps: the
/// binary's global `--max-line-bytes`.
pub fn set_max_line_bytes(bytes: usize) {
    MAX_LINE_BYTES.store(bytes.max(1), Ordering::Relaxed);
}

/// The longest line, in bytes, that a reader keeps ([`DEFAULT_MAX_LINE_BYTES`] unless
/// [`set_max_line_bytes`] changed it).
pub fn max_line_bytes() -> usize {
    MAX_LINE_BYTES.load(Ordering::Relaxed)
}

/// A size as people write it: `1 MiB`, `64 KiB`, `1,000 bytes`.
pub fn byte_size(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 30 && b % (1 << 30) == 0 => format!("{} GiB", grouped(b >> 30)),
        b if b >= 1 << 20 && b % (1 << 20) == 0 => format!("{} MiB", b >> 20),
        b if b >= 1 << 10 && b % (1 << 10) == 0 => format!("{} KiB", b >> 10),
        b => format!("{} bytes", grouped(b)),
    }
}

/// `n` with its thousands grouped: `200,000,000`.
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(d);
    }
    out
}

/// The error for line `line` of `path`, `bytes` long, over the `limit`.
pub(crate) fn too_long(path: &Path, line: usize, bytes: u64, limit: usize) -> Error {
    Error::BadLine {
        path: path.to_path_buf(),
        line,
        reason: format!(
            "the line is {} bytes; the limit is {} (--max-line-bytes)",
            grouped(bytes),
            byte_size(limit as u64)
        ),
    }
}

/// Reads the next line of `reader` into `buf` (cleared first), without its terminator (`\n`,
/// and any `\r` before it), keeping at most `limit` bytes of it: the rest of a longer line is
/// read and dropped. Returns the line's whole length in bytes (more than `buf.len()` when it
/// was cut), or `None` at the end of the input.
pub(crate) fn read_line_into<R: BufRead + ?Sized>(
    reader: &mut R,
    buf: &mut Vec<u8>,
    limit: usize,
) -> std::io::Result<Option<u64>> {
    buf.clear();
    let bound = (limit as u64).saturating_add(1);
    let n = Read::take(&mut *reader, bound).read_until(b'\n', buf)?;
    if n == 0 {
        return Ok(None);
    }
    let mut bytes = n as u64;
    if buf.last() == Some(&b'\n') {
        buf.pop();
        bytes -= 1;
    } else if buf.len() > limit {
        // Over the limit: the rest of the line is counted, not kept.
        let mut last = buf[limit];
        buf.truncate(limit);
        loop {
            let chunk = match reader.fill_buf() {
                Ok(chunk) => chunk,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            let Some(&end) = chunk.last() else {
                break;
            };
            match chunk.iter().position(|&b| b == b'\n') {
                Some(i) => {
                    last = if i > 0 { chunk[i - 1] } else { last };
                    bytes += i as u64;
                    reader.consume(i + 1);
                    break;
                }
                None => {
                    last = end;
                    bytes += chunk.len() as u64;
                    let used = chunk.len();
                    reader.consume(used);
                }
            }
        }
        if last == b'\r' {
            bytes -= 1;
        }
    }
    if bytes <= buf.len() as u64 {
        while buf.last() == Some(&b'\r') {
            buf.pop();
        }
        bytes = buf.len() as u64;
    }
    Ok(Some(bytes))
}

/// A line, or a field of a table, longer than the limit and cut at it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cut {
    /// The file (or `<stdin>`).
    pub path: PathBuf,
    /// 1-based line number (of a table's row: the line it starts on).
    pub line: usize,
    /// The 0-based column of a table's field; `None` for a whole line.
    pub column: Option<usize>,
    /// Its whole length in bytes.
    pub bytes: u64,
    /// The limit it was cut at, in bytes.
    pub limit: usize,
}

impl fmt::Display for Cut {
    /// `data.csv:2: column 0 is 10,000,000 bytes; cut to its first 1 MiB (--max-line-bytes)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.column {
            Some(c) => format!("column {c}"),
            None => "the line".to_owned(),
        };
        write!(
            f,
            "{}:{}: {what} is {} bytes; cut to its first {} (--max-line-bytes)",
            self.path.display(),
            self.line,
            grouped(self.bytes),
            byte_size(self.limit as u64)
        )
    }
}

/// The text of `bytes` kept from a longer line or field: a character that the cut split is
/// left out. Invalid UTF-8 before it is still an error: `Err(valid_up_to)`.
pub(crate) fn cut_text(mut bytes: Vec<u8>) -> std::result::Result<String, usize> {
    if let Err(e) = std::str::from_utf8(&bytes) {
        if e.error_len().is_some() {
            return Err(e.valid_up_to());
        }
        bytes.truncate(e.valid_up_to());
    }
    String::from_utf8(bytes).map_err(|e| e.utf8_error().valid_up_to())
}

/// One line read by [`CutLines`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// 1-based line number.
    pub number: usize,
    /// The line, without its terminator; only its start when it was cut.
    pub text: String,
    /// `Some` when the line was longer than the limit and `text` is its start.
    pub cut: Option<Cut>,
}

/// The lines of a reader, one at a time and without terminators (`\n` or `\r\n`), each with
/// its 1-based number. A line longer than [`max_line_bytes`] is refused: an [`Error::BadLine`]
/// naming its number and length, read to its end without being kept. A line that is not UTF-8
/// is an [`Error::BadLine`] naming its number. Reading can go on after either; a read failure
/// is an [`Error::Io`]. [`Lines::cutting`] cuts long lines instead.
pub struct Lines<R> {
    reader: R,
    path: PathBuf,
    number: usize,
    buf: Vec<u8>,
    limit: usize,
}

/// The lines of `reader`, named `path` in errors, up to [`max_line_bytes`] each; see [`Lines`].
pub fn lines<R: BufRead>(reader: R, path: &Path) -> Lines<R> {
    Lines {
        reader,
        path: path.to_path_buf(),
        number: 0,
        buf: Vec::new(),
        limit: max_line_bytes(),
    }
}

/// The lines of `reader`, named `path` in errors, each cut at [`max_line_bytes`]; see
/// [`CutLines`].
pub fn cut_lines<R: BufRead>(reader: R, path: &Path) -> CutLines<R> {
    lines(reader, path).cutting()
}

impl<R: BufRead> Lines<R> {
    /// The same lines with another limit, in bytes (at least 1).
    pub fn with_limit(mut self, bytes: usize) -> Self {
        self.limit = bytes.max(1);
        self
    }

    /// The same lines, each longer one cut at the limit instead of refused.
    pub fn cutting(self) -> CutLines<R> {
        CutLines(self)
    }

    fn read(&mut self, cut: bool) -> Option<Result<Line>> {
        let bytes = match read_line_into(&mut self.reader, &mut self.buf, self.limit) {
            Ok(None) => return None,
            Ok(Some(bytes)) => bytes,
            Err(e) => return Some(Err(Error::io("reading", &self.path, e))),
        };
        self.number += 1;
        let over = bytes > self.buf.len() as u64;
        if over && !cut {
            return Some(Err(too_long(&self.path, self.number, bytes, self.limit)));
        }
        let bad = |valid: usize| Error::BadLine {
            path: self.path.clone(),
            line: self.number,
            reason: format!("not valid UTF-8 (byte {valid})"),
        };
        let buf = std::mem::take(&mut self.buf);
        let text = match over {
            true => cut_text(buf).map_err(bad),
            false => String::from_utf8(buf).map_err(|e| bad(e.utf8_error().valid_up_to())),
        };
        Some(text.map(|text| Line {
            number: self.number,
            text,
            cut: over.then(|| Cut {
                path: self.path.clone(),
                line: self.number,
                column: None,
                bytes,
                limit: self.limit,
            }),
        }))
    }
}

impl<R: BufRead> Iterator for Lines<R> {
    type Item = Result<(usize, String)>;

    fn next(&mut self) -> Option<Self::Item> {
        self.read(false)
            .map(|line| line.map(|line| (line.number, line.text)))
    }
}

/// The lines of a reader as [`Lines`] reads them, except that a line longer than the limit is
/// cut there (at a character boundary) and comes with a [`Cut`] that says so.
pub struct CutLines<R>(Lines<R>);

impl<R: BufRead> Iterator for CutLines<R> {
    type Item = Result<Line>;

    fn next(&mut self) -> Option<Self::Item> {
        self.0.read(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(input: &[u8], limit: usize) -> Vec<(Vec<u8>, u64)> {
        let mut reader = std::io::BufReader::with_capacity(4, input);
        let mut buf = Vec::new();
        let mut out = Vec::new();
        while let Some(bytes) = read_line_into(&mut reader, &mut buf, limit).unwrap() {
            out.push((buf.clone(), bytes));
        }
        out
    }

    #[test]
    fn lines_longer_than_the_limit_keep_only_its_bytes() {
        let got = read_all(b"abc\r\nabcdefgh\nabcde\r\n\nxy", 5);
        let want: Vec<(Vec<u8>, u64)> = vec![
            (b"abc".to_vec(), 3),
            (b"abcde".to_vec(), 8),
            (b"abcde".to_vec(), 5), // exactly the limit, before its \r\n
            (b"".to_vec(), 0),
            (b"xy".to_vec(), 2),
        ];
        assert_eq!(got, want);
        assert_eq!(read_all(b"abcdefgh\r\n", 5), [(b"abcde".to_vec(), 8)]);
        assert_eq!(read_all(b"abcdef\r", 5), [(b"abcde".to_vec(), 6)]);
        assert_eq!(read_all(b"", 5), []);
    }

    #[test]
    fn a_long_line_is_refused_by_number_and_reading_goes_on() {
        let input = format!("short\n{}\nafter\n", "x".repeat(200_000));
        let got: Vec<_> = lines(input.as_bytes(), Path::new("in.txt"))
            .with_limit(1 << 10)
            .collect();
        assert_eq!(got[0].as_ref().unwrap(), &(1, "short".to_owned()));
        assert_eq!(
            got[1].as_ref().unwrap_err().to_string(),
            "in.txt:2: the line is 200,000 bytes; the limit is 1 KiB (--max-line-bytes)"
        );
        assert_eq!(got[2].as_ref().unwrap(), &(3, "after".to_owned()));
    }

    #[test]
    fn a_cut_line_ends_at_a_character_and_says_so() {
        // "é" is two bytes: a cut after 5 bytes would split the third.
        let input = "ééééé\nok\n".as_bytes();
        let got: Vec<Line> = lines(input, Path::new("<stdin>"))
            .with_limit(5)
            .cutting()
            .map(|l| l.unwrap())
            .collect();
        assert_eq!(got[0].text, "éé");
        let cut = got[0].cut.as_ref().unwrap();
        assert_eq!(cut.bytes, 10);
        assert_eq!(
            cut.to_string(),
            "<stdin>:1: the line is 10 bytes; cut to its first 5 bytes (--max-line-bytes)"
        );
        assert_eq!((got[1].number, got[1].text.as_str()), (2, "ok"));
        assert!(got[1].cut.is_none());
        // Invalid UTF-8 before the cut is still an error naming the line.
        let err = lines(&b"a\xffbcdefgh\n"[..], Path::new("x"))
            .with_limit(4)
            .cutting()
            .next()
            .unwrap()
            .unwrap_err();
        assert_eq!(err.to_string(), "x:1: not valid UTF-8 (byte 1)");
    }

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(byte_size(1 << 20), "1 MiB");
        assert_eq!(byte_size(64 << 10), "64 KiB");
        assert_eq!(byte_size(3 << 30), "3 GiB");
        assert_eq!(byte_size(1000), "1,000 bytes");
        assert_eq!(grouped(200_000_000), "200,000,000");
        assert_eq!(grouped(7), "7");
    }
}
