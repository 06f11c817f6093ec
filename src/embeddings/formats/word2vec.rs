//! The word2vec formats (text and binary) and GloVe's: reading, with detection of which one
//! a file is, and writing. See the parent module for what each format holds.

use std::collections::HashMap;
use std::io::{BufRead, BufWriter, Cursor, ErrorKind, Read, Write};
use std::path::Path;

use super::Format;
use crate::embeddings::Embeddings;
use crate::error::{Error, Result};
use crate::limits::quote;

/// A binary record whose word has no space within this many bytes is not a word2vec record; the
/// bound keeps a corrupt file from being read into memory whole.
const MAX_WORD_BYTES: usize = 1 << 20;
/// How much after a word2vec header is read to tell text from binary.
const PROBE: usize = 1 << 16;
const BUFFER: usize = 1 << 16;

/// Guesses the format from the first bytes of a file (gzipped or not). A first line of two
/// integers is a word2vec header; what follows is text when every line of it reads as a word
/// and `dim` numbers, binary when it reads as words and `dim` floats each (see `sniff`). A first
/// line of a word and numbers is GloVe. `None` when the first line is neither. (A GloVe file of
/// dimension 1 whose first word is an integer reads as word2vec: name its format to read it.)
pub(super) fn detect(head: &[u8]) -> Option<Format> {
    let head = &head[head.iter().position(|b| !b.is_ascii_whitespace())?..];
    let end = head.iter().position(|&b| b == b'\n').unwrap_or(head.len());
    let (first, rest) = head.split_at(end);
    match parse_header(first) {
        Some((_, 0)) => None,
        Some((count, dim)) => Some(sniff(rest, false, count, dim)),
        None => {
            reads_as_text(first, !rest.is_empty(), usize::MAX, 0, false).then_some(Format::Glove)
        }
    }
}

/// `return Err(BadLine)` at the current line of a [`Records`].
macro_rules! bail {
    ($r:expr, $($reason:tt)+) => {
        return Err(Error::BadLine {
            path: $r.path.into(),
            line: $r.line,
            reason: format!($($reason)+),
        })
    };
}

pub(super) fn parse<B: BufRead>(
    mut reader: B,
    path: &Path,
    format: Option<Format>,
    limit: Option<usize>,
) -> Result<Embeddings> {
    let (words, vectors, lines) = (Vec::new(), Vec::new(), Vec::new());
    let mut r = Records {
        path,
        line: 0,
        dim: 0,
        words,
        vectors,
        lines,
    };
    let mut first = Vec::new();
    while next_line(&mut reader, &mut first, &mut r)? && is_blank(&first) {}
    if is_blank(&first) {
        r.line = 1;
        bail!(r, "empty file");
    }
    let header = parse_header(&first);
    let max = limit.unwrap_or(usize::MAX);
    match (format, header) {
        (Some(Format::Glove), _) | (None, None) => {
            let hint = match header {
                Some(_) => " (the first line looks like a word2vec header)",
                None if parse_signed_header(&first) => {
                    " (the first line looks like a word2vec header with a negative count)"
                }
                None => "",
            };
            // The first line is a record: hand it back to the record reader.
            r.line -= 1;
            first.push(b'\n');
            read_text(Cursor::new(first).chain(reader), r, None, max, hint)
        }
        (Some(_), None) => {
            let found = String::from_utf8_lossy(&first);
            let found: String = found.trim_end().chars().take(60).collect();
            bail!(
                r,
                "expected the word2vec header \"<words> <dimensions>\", found {found:?}"
            )
        }
        (_, Some((_, 0))) => bail!(r, "the header gives dimension 0"),
        (_, Some((0, _))) => bail!(r, "the header gives 0 words: the file holds no vectors"),
        (format, Some((count, dim))) => {
            let max = max.min(count);
            r.dim = dim;
            r.reserve(max);
            let mut probe = Vec::new();
            let format = match format {
                Some(format) => format,
                None => {
                    let got = reader.by_ref().take(PROBE as u64).read_to_end(&mut probe);
                    got.map_err(|e| r.io(e))?;
                    sniff(&probe, probe.len() < PROBE, count, dim)
                }
            };
            let reader = Cursor::new(probe).chain(reader);
            match format {
                Format::Word2VecBinary => read_binary(reader, r, count, max),
                _ => read_text(reader, r, Some(count), max, ""),
            }
        }
    }
}

/// Text or binary, for the bytes after a word2vec header (`complete` when they are all of the
/// file). Text when every record in the bytes reads as a word and `dim` finite numbers. A few
/// text records can also read as binary ones, so when the bytes read as binary they are still
/// text if every line is a word and numbers: a text file with one broken line goes to the text
/// reader, which names the line. When neither reading holds, UTF-8 is text.
fn sniff(bytes: &[u8], complete: bool, count: usize, dim: usize) -> Format {
    let text = if reads_as_text(bytes, complete, count, dim, true) {
        true
    } else if reads_as_binary(bytes, complete, count, dim) {
        reads_as_text(bytes, complete, count, dim, false)
    } else {
        utf8_prefix(bytes, complete).is_some()
    };
    if text {
        Format::Word2VecText
    } else {
        Format::Word2VecBinary
    }
}

/// Whether at most `count` lines are each a word and numbers: `exact`ly `dim` finite ones, or
/// at least one. Unless `complete`, the last line may be cut short.
fn reads_as_text(bytes: &[u8], complete: bool, count: usize, dim: usize, exact: bool) -> bool {
    let Some(text) = utf8_prefix(bytes, complete) else {
        return false;
    };
    let (whole, partial) = match text.rfind('\n') {
        _ if complete => (text, ""),
        Some(i) => text.split_at(i + 1),
        None => ("", text),
    };
    let lines = whole.lines().map(|l| (l, true));
    let lines = lines.chain(std::iter::once((partial, false)));
    let lines = lines.filter(|(l, _)| !l.trim().is_empty());
    lines.enumerate().all(|(i, (line, full))| {
        let mut tokens: Vec<&str> = line.split_ascii_whitespace().collect();
        if !full {
            tokens.pop();
        }
        let values = tokens.get(1..).unwrap_or_default();
        let fits = match exact {
            true => values.len() == dim || !full && values.len() < dim,
            false => !values.is_empty() || !full,
        };
        let number = |t: &&str| t.parse::<f32>().is_ok_and(|v| !exact || v.is_finite());
        i < count && fits && values.iter().all(number)
    })
}

/// Whether at most `count` records are each a word, a space and `dim` finite floats. Unless
/// `complete`, the last record may be cut short.
fn reads_as_binary(bytes: &[u8], complete: bool, count: usize, dim: usize) -> bool {
    let mut rest = bytes;
    let mut records = 0;
    while let Some(start) = rest.iter().position(|b| !b.is_ascii_whitespace()) {
        rest = &rest[start..];
        let Some(space) = rest.iter().position(|&b| b == b' ') else {
            return !complete;
        };
        let (word, values) = (&rest[..space], &rest[space + 1..]);
        let bad_word =
            std::str::from_utf8(word).is_err() || word.iter().any(u8::is_ascii_whitespace);
        let Some(row) = dim.checked_mul(4).filter(|&n| n <= values.len()) else {
            return !complete && !bad_word && records < count;
        };
        let finite = values[..row].chunks_exact(4).all(|b| f32_at(b).is_finite());
        if records == count || bad_word || !finite {
            return false;
        }
        rest = &values[row..];
        records += 1;
    }
    true
}

/// What has been read so far and where: errors name `path` and `line`.
struct Records<'a> {
    path: &'a Path,
    line: usize,
    /// 0 until the first line of a GloVe file.
    dim: usize,
    words: Vec<String>,
    vectors: Vec<f32>,
    lines: Vec<usize>,
}

impl Records<'_> {
    /// Reserves room for `words`, but not for more than 65,536 words and a million values
    /// (4 MiB), whatever a corrupt header claims: past that, room grows with what the file
    /// holds.
    fn reserve(&mut self, words: usize) {
        let words = words.min(1 << 16);
        self.words.reserve(words);
        self.lines.reserve(words);
        self.vectors
            .reserve(words.saturating_mul(self.dim).min(1 << 20));
    }

    fn io(&self, e: std::io::Error) -> Error {
        Error::io("reading", self.path, e)
    }

    fn value(&mut self, value: f32, index: usize, word: &str) -> Result<()> {
        if !value.is_finite() {
            let (index, word) = (index + 1, quote(word));
            bail!(
                self,
                "value {index} of {word} is {value}: only finite numbers are allowed"
            );
        }
        self.vectors.push(value);
        Ok(())
    }

    fn word(&mut self, word: &str) -> Result<()> {
        // The store would refuse it too, without the line. (Other spaces, such as U+00A0, are
        // part of words in fastText's vocabularies, and in gensim's reading of them.)
        if word.bytes().any(|b| b.is_ascii_whitespace()) {
            bail!(self, "the word {} contains whitespace", quote(word));
        }
        if word.bytes().any(|b| b == 0) {
            bail!(self, "the word {} contains a NUL byte", quote(word));
        }
        self.words.push(word.to_owned());
        self.lines.push(self.line);
        Ok(())
    }

    fn finish(mut self) -> Result<Embeddings> {
        let mut seen = HashMap::with_capacity(self.words.len());
        for (word, &line) in self.words.iter().zip(&self.lines) {
            if let Some(first) = seen.insert(word.as_str(), line) {
                self.line = line;
                bail!(
                    self,
                    "the word {} appears twice (first on line {first})",
                    quote(word)
                );
            }
        }
        drop(seen);
        let path = self.path;
        Embeddings::new(self.words, self.dim, self.vectors).map_err(|e| Error::BadFile {
            path: path.into(),
            reason: e.to_string(),
        })
    }
}

/// Word2vec text (`count` from the header) or GloVe (`count` `None`) records, up to `max`.
fn read_text<B: BufRead>(
    mut reader: B,
    mut r: Records,
    count: Option<usize>,
    max: usize,
    hint: &str,
) -> Result<Embeddings> {
    let mut buf = Vec::new();
    while r.words.len() < max && next_line(&mut reader, &mut buf, &mut r)? {
        let text = match std::str::from_utf8(&buf) {
            Ok(text) => text,
            Err(e) => bail!(r, "not valid UTF-8 (byte {})", e.valid_up_to()),
        };
        let mut tokens = text.split_ascii_whitespace();
        let Some(word) = tokens.next() else {
            continue;
        };
        let start = r.vectors.len();
        for (j, token) in tokens.enumerate() {
            match token.parse::<f32>() {
                Ok(value) => r.value(value, j, word)?,
                Err(_) => bail!(
                    r,
                    "value {} of {} is {}, not a number",
                    j + 1,
                    quote(word),
                    quote(token)
                ),
            }
        }
        let found = r.vectors.len() - start;
        if r.dim == 0 {
            r.dim = found;
        }
        if found == 0 || found != r.dim {
            let (dim, word) = (r.dim.max(1), quote(word));
            bail!(r, "expected {dim} values after {word}, found {found}{hint}");
        }
        r.word(word)?;
    }
    if let Some(count) = count {
        if r.words.len() < max {
            bail!(
                r,
                "header says {count} words, file ends after {}",
                r.words.len()
            );
        }
        while max == count && next_line(&mut reader, &mut buf, &mut r)? {
            if !is_blank(&buf) {
                bail!(r, "header says {count} words, but the file goes on");
            }
        }
    }
    r.finish()
}

/// Word2vec binary records, up to `max`. Whitespace before a word is skipped: the C tool
/// writes a newline after each vector, gensim none.
fn read_binary<B: BufRead>(
    mut reader: B,
    mut r: Records,
    count: usize,
    max: usize,
) -> Result<Embeddings> {
    let mut buf = Vec::new();
    // Values arrive in chunks so that a corrupt dimension allocates only what the file holds.
    let mut chunk = [0u8; 4096];
    while r.words.len() < max {
        r.line += 1;
        let k = r.words.len() + 1;
        buf.clear();
        let n = reader
            .by_ref()
            .take(MAX_WORD_BYTES as u64)
            .read_until(b' ', &mut buf);
        let n = n.map_err(|e| r.io(e))?;
        match (
            buf.last() == Some(&b' '),
            buf.iter().position(|b| !b.is_ascii_whitespace()),
        ) {
            (true, None) => bail!(r, "word {k} is empty"),
            (false, _) if n >= MAX_WORD_BYTES => {
                bail!(
                    r,
                    "no space after word {k} in {n} bytes: is this a word2vec binary file?"
                )
            }
            (false, None) => bail!(r, "header says {count} words, file ends after {}", k - 1),
            (false, Some(_)) => bail!(r, "header says {count} words, file ends inside word {k}"),
            (true, Some(start)) => drop(buf.drain(..start)),
        };
        buf.pop();
        let Ok(word) = std::str::from_utf8(&buf) else {
            bail!(
                r,
                "word {k} is not valid UTF-8: {}",
                quote(&String::from_utf8_lossy(&buf))
            )
        };
        let mut j = 0;
        while j < r.dim {
            let take = (r.dim - j).min(chunk.len() / 4) * 4;
            match reader.read_exact(&mut chunk[..take]) {
                Err(e) if e.kind() == ErrorKind::UnexpectedEof => {
                    let at = format!("in the vector of {} (word {k})", quote(word));
                    bail!(r, "header says {count} words, file ends {at}")
                }
                Err(e) => return Err(r.io(e)),
                Ok(()) => {}
            }
            let start = r.vectors.len();
            r.vectors.extend(chunk[..take].chunks_exact(4).map(f32_at));
            if let Some(i) = r.vectors[start..].iter().position(|v| !v.is_finite()) {
                let value = r.vectors[start + i];
                r.value(value, j + i, word)?;
            }
            j += take / 4;
        }
        r.word(word)?;
    }
    if max == count && !rest_is_blank(&mut reader).map_err(|e| r.io(e))? {
        r.line += 1;
        bail!(
            r,
            "header says {count} words, but the file goes on after them"
        );
    }
    r.finish()
}

/// Writes word2vec text or binary, or GloVe; the values are known to be finite.
pub(super) fn write_records<W: Write>(
    emb: &Embeddings,
    writer: W,
    format: Format,
    path: &Path,
) -> Result<()> {
    let io = |e| Error::io("writing", path, e);
    let mut out = BufWriter::with_capacity(BUFFER, writer);
    if format != Format::Glove {
        writeln!(out, "{} {}", emb.len(), emb.dim()).map_err(io)?;
    }
    let mut line = Vec::new();
    for id in 0..emb.len() {
        line.clear();
        line.extend_from_slice(emb.word(id).as_bytes());
        if format == Format::Word2VecBinary {
            line.push(b' ');
            emb.vector(id)
                .iter()
                .for_each(|v| line.extend_from_slice(&v.to_le_bytes()));
        } else {
            for v in emb.vector(id) {
                // Writing to a Vec cannot fail.
                let _ = write!(line, " {v}");
            }
        }
        line.push(b'\n');
        out.write_all(&line).map_err(io)?;
    }
    out.flush().map_err(io)
}

/// Reads the next line into `buf`, without its terminator, and counts it; `false` at the end
/// of the file (whose line number is then one past the last). A line longer than
/// [`max_line_bytes`](crate::text::max_line_bytes) is an error naming it and its length, and is
/// never held: a 100 MB token costs the limit, not 100 MB.
fn next_line<B: BufRead>(reader: &mut B, buf: &mut Vec<u8>, r: &mut Records) -> Result<bool> {
    let limit = crate::text::max_line_bytes();
    let bytes = crate::text::read_line_into(reader, buf, limit).map_err(|e| r.io(e))?;
    r.line += 1;
    match bytes {
        Some(bytes) if bytes > buf.len() as u64 => {
            Err(crate::text::too_long(r.path, r.line, bytes, limit))
        }
        found => Ok(found.is_some()),
    }
}

fn rest_is_blank<B: BufRead>(reader: &mut B) -> std::io::Result<bool> {
    loop {
        let buf = reader.fill_buf()?;
        if buf.is_empty() || !is_blank(buf) {
            return Ok(buf.is_empty());
        }
        let n = buf.len();
        reader.consume(n);
    }
}

/// The text of `bytes`; unless `complete`, a character cut off at the end is left out.
fn utf8_prefix(bytes: &[u8], complete: bool) -> Option<&str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Some(text),
        Err(e) if !complete && e.error_len().is_none() => {
            std::str::from_utf8(&bytes[..e.valid_up_to()]).ok()
        }
        Err(_) => None,
    }
}

/// `<words> <dimensions>`, as the word2vec header has it.
fn parse_header(line: &[u8]) -> Option<(usize, usize)> {
    let mut tokens = std::str::from_utf8(line).ok()?.split_ascii_whitespace();
    let count = tokens.next()?.parse().ok()?;
    let dim = tokens.next()?.parse().ok()?;
    tokens.next().is_none().then_some((count, dim))
}

/// Whether `line` is two integers, read after [`parse_header`] has refused it (so one of them is
/// negative): a broken header, not a record.
fn parse_signed_header(line: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(line) else {
        return false;
    };
    let tokens: Vec<&str> = text.split_ascii_whitespace().collect();
    matches!(tokens[..], [a, b] if a.parse::<i64>().is_ok() && b.parse::<i64>().is_ok())
}

fn is_blank(bytes: &[u8]) -> bool {
    bytes.iter().all(u8::is_ascii_whitespace)
}

fn f32_at(bytes: &[u8]) -> f32 {
    f32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
}
