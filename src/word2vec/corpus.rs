//! Streaming a corpus file (plain or gzip) as sentences of whitespace-separated tokens.
//!
//! The corpus is never held in memory: each pass (the vocabulary count, then every epoch)
//! re-opens the file and reads it line by line.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::ops::Range;
use std::path::Path;

use crate::error::{Error, Result};

/// Longest sentence handed to the trainer, in tokens; longer lines are cut into pieces of this
/// length. gensim's `MAX_WORDS_IN_BATCH` is 10,000 (word2vec.c's `MAX_SENTENCE_LENGTH` is
/// 1,000); we follow gensim so that a text8-style corpus of one huge line trains the same way
/// as there. The cut is made on raw tokens, before out-of-vocabulary tokens are dropped, as
/// gensim's `LineSentence` does.
pub(crate) const MAX_SENTENCE_WORDS: usize = 10_000;

/// Receives the tokens of a corpus pass, sentence by sentence.
pub(crate) trait SentenceSink {
    /// One token of the current sentence.
    fn token(&mut self, token: &str);
    /// The current sentence (at least one token) is complete. Returning `false` stops the pass
    /// early (the consumers are gone).
    fn end_sentence(&mut self) -> bool;
}

/// What one pass saw.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct PassStats {
    /// Lines read.
    pub(crate) lines: u64,
    /// Tokens read, in and out of vocabulary.
    pub(crate) tokens: u64,
}

/// Opens `path`, decompressing it when it starts with the gzip magic bytes.
fn open(path: &Path) -> Result<Box<dyn BufRead>> {
    crate::text::open_maybe_gz(path)
}

/// Reads the corpus once, feeding every token of every line to `sink`.
///
/// A line is a sentence (or paragraph); tokens are separated by Unicode whitespace
/// (`split_whitespace`), optionally lowercased; lines longer than [`MAX_SENTENCE_WORDS`] tokens
/// are cut. Empty lines are skipped. A line that is not UTF-8 is an [`Error::BadLine`] with its
/// 1-based number, or, when `lossy`, read with U+FFFD in place of the invalid bytes.
pub(crate) fn stream(
    path: &Path,
    lowercase: bool,
    lossy: bool,
    sink: &mut dyn SentenceSink,
) -> Result<PassStats> {
    let mut reader = open(path)?;
    let limit = crate::text::max_line_bytes();
    feed(&mut reader, path, (lowercase, lossy, limit), sink, Ok)
}

/// How far from a part's nominal start [`split`] looks for a line break before it settles for
/// a space: lines are rarely longer, and text8-style corpora of one huge line have none.
const LINE_SEARCH: usize = 1 << 16;

/// Cuts a plain-text corpus into `parts` byte ranges of about equal size, one for each worker,
/// as gensim's `corpus_file` mode does; `None` when the file is gzip, which cannot be entered
/// in the middle.
///
/// Each cut is moved forward from `size * i / parts` to just after the next line break, or, if
/// there is none within 64 KiB, just after the next ASCII whitespace byte (so a one-line corpus
/// is split too; the line it cuts becomes two sentences). A cut therefore never falls inside a
/// token nor inside a UTF-8 sequence, and every token is read by exactly one part. Parts may be
/// empty when the corpus is smaller than the number of workers.
pub(crate) fn split(path: &Path, parts: usize) -> Result<Option<Vec<Range<u64>>>> {
    let mut file = File::open(path).map_err(|e| Error::io("opening", path, e))?;
    let size = file
        .metadata()
        .map_err(|e| Error::io("reading", path, e))?
        .len();
    let mut head = [0u8; 2];
    let got = read_at_most(&mut file, &mut head).map_err(|e| Error::io("reading", path, e))?;
    if head[..got] == [0x1f, 0x8b] {
        return Ok(None);
    }
    let parts = parts.max(1);
    let mut cuts = vec![0u64];
    let mut window = vec![0u8; LINE_SEARCH];
    for i in 1..parts {
        let nominal = (u128::from(size) * i as u128 / parts as u128) as u64;
        let from = nominal.max(*cuts.last().unwrap_or(&0));
        file.seek(SeekFrom::Start(from))
            .map_err(|e| Error::io("reading", path, e))?;
        let cut = find_cut(&mut file, from, size, &mut window)
            .map_err(|e| Error::io("reading", path, e))?;
        cuts.push(cut);
    }
    cuts.push(size);
    Ok(Some(cuts.windows(2).map(|w| w[0]..w[1]).collect()))
}

/// The first cut at or after `from` (the file is positioned there): just after a line break
/// within [`LINE_SEARCH`] bytes, else just after the first ASCII whitespace byte; `size` when
/// there is neither before the end.
fn find_cut(file: &mut File, from: u64, size: u64, window: &mut [u8]) -> std::io::Result<u64> {
    if from == 0 || from >= size {
        return Ok(from.min(size));
    }
    // The byte before `from` decides whether `from` itself is a boundary.
    file.seek(SeekFrom::Start(from - 1))?;
    let mut pos = from - 1;
    let mut first_space = None;
    let mut searched = 0usize;
    loop {
        let n = read_at_most(file, window)?;
        if n == 0 {
            return Ok(first_space.unwrap_or(size));
        }
        for (k, &b) in window[..n].iter().enumerate() {
            let at = pos + k as u64 + 1;
            if b == b'\n' {
                return Ok(at);
            }
            if first_space.is_none() && b.is_ascii_whitespace() {
                first_space = Some(at);
            }
            if searched + k >= LINE_SEARCH {
                if let Some(cut) = first_space {
                    return Ok(cut);
                }
            }
        }
        pos += n as u64;
        searched += n;
    }
}

/// Fills as much of `buf` as the reader has; the count read.
fn read_at_most(reader: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match reader.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// Reads the bytes `part` of a plain-text corpus (a range from [`split`]) as [`stream`] reads
/// the whole file. A line that is not UTF-8 is named by its number in the whole file.
pub(crate) fn stream_part(
    path: &Path,
    part: Range<u64>,
    lowercase: bool,
    lossy: bool,
    sink: &mut dyn SentenceSink,
) -> Result<PassStats> {
    let mut file = File::open(path).map_err(|e| Error::io("opening", path, e))?;
    file.seek(SeekFrom::Start(part.start))
        .map_err(|e| Error::io("reading", path, e))?;
    let mut reader = BufReader::with_capacity(1 << 18, file.take(part.end - part.start));
    // The error path alone counts the line breaks before the part.
    let start = part.start;
    let limit = crate::text::max_line_bytes();
    feed(&mut reader, path, (lowercase, lossy, limit), sink, |line| {
        Ok(line + lines_before(path, start)?)
    })
}

/// The number of line breaks in the first `end` bytes of `path`.
fn lines_before(path: &Path, end: u64) -> Result<u64> {
    let file = File::open(path).map_err(|e| Error::io("opening", path, e))?;
    let mut reader = BufReader::with_capacity(1 << 18, file.take(end));
    let mut count = 0u64;
    loop {
        let buf = reader
            .fill_buf()
            .map_err(|e| Error::io("reading", path, e))?;
        if buf.is_empty() {
            return Ok(count);
        }
        count += buf.iter().filter(|&&b| b == b'\n').count() as u64;
        let n = buf.len();
        reader.consume(n);
    }
}

/// The loop of [`stream`] and [`stream_part`]: `line_number(k, ..)` turns the `k`-th line of
/// this reader (1-based) into its number in the file, for the error message; a part that
/// begins inside a line counts that line as its first.
///
/// A line is read in pieces of at most `limit` bytes
/// ([`max_line_bytes`](crate::text::max_line_bytes)), each ending after a whitespace byte (the
/// token cut there is carried into the next piece), so that a text8-style corpus of one 100 MB
/// line is read in bounded memory; a single token longer than the limit is an error naming its
/// line.
fn feed(
    reader: &mut dyn BufRead,
    path: &Path,
    (lowercase, lossy, limit): (bool, bool, usize),
    sink: &mut dyn SentenceSink,
    line_number: impl Fn(u64) -> Result<u64>,
) -> Result<PassStats> {
    let mut stats = PassStats::default();
    let mut buf = Vec::with_capacity(1 << 12);
    // Within a line: the bytes of it before `buf`, and the tokens of the sentence so far.
    let (mut in_line, mut offset, mut in_sentence) = (false, 0usize, 0usize);
    loop {
        let room = limit.saturating_sub(buf.len()).max(1) as u64;
        let n = Read::take(&mut *reader, room)
            .read_until(b'\n', &mut buf)
            // A truncated or corrupt gzip stream surfaces here as an I/O error.
            .map_err(|e| Error::io("reading", path, e))?;
        if n == 0 && buf.is_empty() {
            if in_line && in_sentence > 0 {
                sink.end_sentence();
            }
            return Ok(stats);
        }
        if !in_line {
            (in_line, offset) = (true, 0);
            stats.lines += 1;
        }
        // A piece ends its line at a line break, or at the end of the input (a read short of
        // the room asked for).
        let ended = buf.last() == Some(&b'\n') || (n as u64) < room;
        let piece = match ended {
            true => buf.len(),
            false => match buf.iter().rposition(u8::is_ascii_whitespace) {
                Some(i) => i + 1,
                None => {
                    return Err(Error::BadLine {
                        path: path.to_path_buf(),
                        line: line_number(stats.lines)? as usize,
                        reason: format!(
                            "a token is longer than the limit of {} (--max-line-bytes)",
                            crate::text::byte_size(limit as u64)
                        ),
                    })
                }
            },
        };
        let repaired;
        let text = match std::str::from_utf8(&buf[..piece]) {
            Ok(text) => text,
            Err(_) if lossy => {
                repaired = String::from_utf8_lossy(&buf[..piece]).into_owned();
                repaired.as_str()
            }
            Err(e) => {
                return Err(Error::BadLine {
                    path: path.to_path_buf(),
                    line: line_number(stats.lines)? as usize,
                    reason: format!(
                        "not valid UTF-8 (byte {}); --lossy reads it anyway",
                        offset + e.valid_up_to()
                    ),
                })
            }
        };
        let lowered;
        let text = if lowercase && text.chars().any(char::is_uppercase) {
            lowered = text.to_lowercase();
            lowered.as_str()
        } else {
            text
        };
        for token in text.split_whitespace() {
            sink.token(token);
            stats.tokens += 1;
            in_sentence += 1;
            if in_sentence == MAX_SENTENCE_WORDS {
                in_sentence = 0;
                if !sink.end_sentence() {
                    return Ok(stats);
                }
            }
        }
        if ended {
            in_line = false;
            buf.clear();
            if std::mem::take(&mut in_sentence) > 0 && !sink.end_sentence() {
                return Ok(stats);
            }
        } else {
            offset += piece;
            buf.drain(..piece);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// Records sentences as vectors of tokens.
    #[derive(Default)]
    struct Collect {
        current: Vec<String>,
        sentences: Vec<Vec<String>>,
    }

    impl SentenceSink for Collect {
        fn token(&mut self, token: &str) {
            self.current.push(token.to_owned());
        }
        fn end_sentence(&mut self) -> bool {
            self.sentences.push(std::mem::take(&mut self.current));
            true
        }
    }

    fn write(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    #[test]
    fn lines_tokens_and_lowercasing() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            dir.path(),
            "c.txt",
            "The cat\tSAT \n\n  on\u{a0}Ünder mat\r\n".as_bytes(),
        );
        let mut sink = Collect::default();
        let stats = stream(&path, false, false, &mut sink).unwrap();
        assert_eq!(
            stats,
            PassStats {
                lines: 3,
                tokens: 6
            }
        );
        assert_eq!(
            sink.sentences,
            vec![vec!["The", "cat", "SAT"], vec!["on", "Ünder", "mat"]]
        );
        let mut sink = Collect::default();
        stream(&path, true, false, &mut sink).unwrap();
        assert_eq!(sink.sentences[1], vec!["on", "ünder", "mat"]);
        assert_eq!(sink.sentences[0], vec!["the", "cat", "sat"]);
    }

    #[test]
    fn a_line_over_the_limit_is_read_in_pieces_between_tokens() {
        let text = "alpha beta\tgamma  delta\u{a0}epsilon ζήτα\nshort line\nlast";
        let read = |limit: usize| {
            let mut sink = Collect::default();
            let mut reader = text.as_bytes();
            let got = feed(
                &mut reader,
                "c".as_ref(),
                (false, false, limit),
                &mut sink,
                Ok,
            );
            got.map(|stats| (stats, sink.sentences))
        };
        let whole = read(1 << 20).unwrap();
        assert_eq!(whole.1.len(), 3);
        assert_eq!((whole.0.lines, whole.0.tokens), (3, 9));
        // Pieces end at ASCII whitespace: "delta\u{a0}epsilon" (14 bytes) must fit.
        for limit in 15..40 {
            assert_eq!(read(limit).unwrap(), whole, "limit {limit}");
        }
        let err = read(6).unwrap_err().to_string();
        assert_eq!(
            err,
            "c:1: a token is longer than the limit of 6 bytes (--max-line-bytes)"
        );
        let mut reader = &b"ok fine\nab \xff cd\n"[..];
        let err = feed(
            &mut reader,
            "c".as_ref(),
            (false, false, 6),
            &mut Collect::default(),
            Ok,
        );
        assert_eq!(
            err.unwrap_err().to_string(),
            "c:2: not valid UTF-8 (byte 3); --lossy reads it anyway"
        );
    }

    #[test]
    fn long_lines_are_cut_into_chunks() {
        let dir = tempfile::tempdir().unwrap();
        let line: Vec<String> = (0..25_000).map(|i| format!("w{}", i % 7)).collect();
        let text = format!("{}\nshort line\n", line.join(" "));
        let path = write(dir.path(), "long.txt", text.as_bytes());
        let mut sink = Collect::default();
        stream(&path, false, false, &mut sink).unwrap();
        let lens: Vec<usize> = sink.sentences.iter().map(Vec::len).collect();
        assert_eq!(lens, vec![10_000, 10_000, 5_000, 2]);
        assert_eq!(sink.sentences[1][0], format!("w{}", 10_000 % 7));
    }

    #[test]
    fn gzip_by_extension_or_by_magic_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let text = "a b c\nd e\n";
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(text.as_bytes()).unwrap();
        let gz = enc.finish().unwrap();
        for name in ["c.txt.gz", "c.bin"] {
            let path = write(dir.path(), name, &gz);
            let mut sink = Collect::default();
            let stats = stream(&path, false, false, &mut sink).unwrap();
            assert_eq!(stats.tokens, 5, "{name}");
            assert_eq!(sink.sentences[1], vec!["d", "e"]);
        }
        // A truncated stream is an error, not a silently shorter corpus.
        let path = write(dir.path(), "cut.gz", &gz[..gz.len() - 6]);
        assert!(stream(&path, false, false, &mut Collect::default()).is_err());
    }

    #[test]
    fn invalid_utf8_names_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            dir.path(),
            "bad.txt",
            b"ok line\nfine\nbad \xff\xfe here\nok\n",
        );
        let err = stream(&path, false, false, &mut Collect::default()).unwrap_err();
        match err {
            Error::BadLine {
                line, ref reason, ..
            } => {
                assert_eq!(line, 3);
                assert!(reason.contains("UTF-8"), "{reason}");
            }
            other => panic!("unexpected error {other:?}"),
        }
    }

    /// The tokens of every part, in order, with the sentences each part saw.
    fn read_parts(path: &Path, parts: usize) -> (Vec<Range<u64>>, Vec<Vec<String>>) {
        let ranges = split(path, parts).unwrap().expect("plain text");
        let mut sentences = Vec::new();
        for part in &ranges {
            let mut sink = Collect::default();
            stream_part(path, part.clone(), false, false, &mut sink).unwrap();
            sentences.extend(sink.sentences);
        }
        (ranges, sentences)
    }

    #[test]
    fn parts_cover_every_line_once_and_cut_at_line_breaks() {
        let dir = tempfile::tempdir().unwrap();
        let text: String = (0..200)
            .map(|i| format!("line{i} w{} é{}\n", i % 7, i % 3))
            .collect();
        let path = write(dir.path(), "c.txt", text.as_bytes());
        let mut whole = Collect::default();
        stream(&path, false, false, &mut whole).unwrap();
        for parts in [1, 2, 3, 7, 64, 500] {
            let (ranges, sentences) = read_parts(&path, parts);
            assert_eq!(ranges.len(), parts);
            assert_eq!(ranges[0].start, 0);
            assert_eq!(ranges[parts - 1].end, text.len() as u64);
            for pair in ranges.windows(2) {
                assert_eq!(pair[0].end, pair[1].start);
                let cut = pair[1].start as usize;
                assert!(
                    cut == text.len() || text.as_bytes()[cut - 1] == b'\n',
                    "{cut}"
                );
            }
            assert_eq!(sentences, whole.sentences, "{parts} parts");
        }
        // Two parts of about equal size.
        let (ranges, _) = read_parts(&path, 2);
        let half = text.len() as u64 / 2;
        assert!(ranges[0].end >= half && ranges[0].end < half + 30);
    }

    #[test]
    fn a_one_line_corpus_is_cut_between_tokens() {
        let dir = tempfile::tempdir().unwrap();
        let words: Vec<String> = (0..30_000).map(|i| format!("t{i}")).collect();
        let path = write(dir.path(), "one.txt", words.join(" ").as_bytes());
        let (ranges, sentences) = read_parts(&path, 3);
        assert!(ranges.iter().all(|r| r.end > r.start), "{ranges:?}");
        let tokens: Vec<String> = sentences.concat();
        assert_eq!(tokens, words);
    }

    #[test]
    fn gzip_is_not_split() {
        let dir = tempfile::tempdir().unwrap();
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(b"a b\n").unwrap();
        let path = write(dir.path(), "c.gz", &enc.finish().unwrap());
        assert_eq!(split(&path, 2).unwrap(), None);
    }

    #[test]
    fn invalid_utf8_in_a_later_part_names_its_line_in_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut bytes: Vec<u8> = (0..100)
            .flat_map(|i| format!("good line {i}\n").into_bytes())
            .collect();
        bytes.extend_from_slice(b"bad \xff line\n");
        bytes.extend_from_slice(b"last\n");
        let path = write(dir.path(), "bad.txt", &bytes);
        let ranges = split(&path, 2).unwrap().unwrap();
        let err = stream_part(
            &path,
            ranges[1].clone(),
            false,
            false,
            &mut Collect::default(),
        )
        .unwrap_err();
        assert!(matches!(err, Error::BadLine { line: 101, .. }), "{err:?}");
    }

    #[test]
    fn missing_file_is_an_io_error_naming_it() {
        let err = stream(
            Path::new("/nonexistent/corpus.txt"),
            false,
            false,
            &mut Collect::default(),
        )
        .unwrap_err();
        assert!(matches!(err, Error::Io { .. }));
        assert!(err.to_string().contains("/nonexistent/corpus.txt"));
    }
}
