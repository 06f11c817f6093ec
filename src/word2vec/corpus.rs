//! Streaming a corpus file (plain or gzip) as sentences of whitespace-separated tokens.
//!
//! The corpus is never held in memory: each pass (the vocabulary count, then every epoch)
//! re-opens the file and reads it line by line.

use std::io::BufRead;
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
    let mut stats = PassStats::default();
    let mut buf = Vec::with_capacity(1 << 12);
    loop {
        buf.clear();
        let n = reader.read_until(b'\n', &mut buf).map_err(|e| {
            // A truncated or corrupt gzip stream surfaces here as an I/O error.
            Error::io("reading", path, e)
        })?;
        if n == 0 {
            return Ok(stats);
        }
        stats.lines += 1;
        let repaired;
        let text = match std::str::from_utf8(&buf) {
            Ok(text) => text,
            Err(_) if lossy => {
                repaired = String::from_utf8_lossy(&buf).into_owned();
                repaired.as_str()
            }
            Err(e) => {
                return Err(Error::BadLine {
                    path: path.to_path_buf(),
                    line: stats.lines as usize,
                    reason: format!(
                        "not valid UTF-8 (byte {}); --lossy reads it anyway",
                        e.valid_up_to()
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
        let mut in_sentence = 0usize;
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
        if in_sentence > 0 && !sink.end_sentence() {
            return Ok(stats);
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
