//! Word-vector files: the two formats of the `word2vec` C tool (Mikolov et al. 2013, "Efficient
//! Estimation of Word Representations in Vector Space") and GloVe's text format (Pennington et
//! al. 2014), as gensim's `KeyedVectors.load_word2vec_format` / `save_word2vec_format` read and
//! write them, and fastText's model file (Bojanowski et al. 2017), as `fasttext` 0.9 and
//! gensim's `load_facebook_model` read and write it.
//!
//! - word2vec text: a header line `<words> <dimensions>`, then `word v1 ... vdim` per line.
//! - word2vec binary: the same header line, then per word its UTF-8 bytes, a space and `dim`
//!   little-endian `f32`. The C tool ends each record with `'\n'`, gensim does not; the reader
//!   takes both, and skips any whitespace before a word (gensim strips `'\n'`, the C tool's
//!   `fscanf("%s")` all whitespace). The writer follows the C tool.
//! - GloVe: no header, `word v1 ... vdim` per line; the dimension is that of the first line.
//! - fastText `.bin`: the whole model, subword rows included (see [`fasttext`]); recognised by
//!   its magic number.
//!
//! Gzipped files are recognised by their magic bytes, whatever their name, and read as a
//! stream. Errors name the file and the 1-based line; in a binary file the "line" is the one a
//! record has when written by the C tool (the header is line 1, word `k` is on line `k + 1`).
//! Unlike gensim, which keeps the first of two equal words and replaces undecodable bytes on
//! request, a repeated word, a word that is not UTF-8 and a value that is not a finite number are
//! all errors. A file that is no vector file at all (model weights, an archive, JSON, a
//! directory) is named as what it is.
//!
//! When writing, [`Format::for_path`] takes the format from the file name the way users name
//! vector files: `.bin`, `.txt`/`.vec`, `.glove`.

pub mod fasttext;
mod word2vec;

use std::fmt;
use std::fs::File;
use std::io::{Cursor, Read, Write};
use std::path::Path;
use std::str::FromStr;

use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;
use flate2::Compression;

use super::Embeddings;
use crate::error::{Error, Result};

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
/// Bytes read from the start of a file to tell what it is.
const HEAD: u64 = 64;
/// What a vector file can be, for the errors that find something else.
const VECTOR_FILES: &str = "word2vec binary or text, GloVe or fastText .bin";

/// A word-vector file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// word2vec's binary format (`-binary 1`, gensim's `binary=True`).
    Word2VecBinary,
    /// word2vec's text format: a `<words> <dimensions>` header, then one word per line.
    Word2VecText,
    /// GloVe's text format: one word per line, no header.
    Glove,
    /// fastText's model file (`.bin`): word and subword rows; only vectors with subwords can
    /// be written in it.
    FastText,
}

impl FromStr for Format {
    type Err = String;

    /// Accepts `word2vec-bin` (`bin`, `binary`), `word2vec-text` (`text`, `txt`), `glove` and
    /// `fasttext`, in any case.
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "word2vec-bin" | "bin" | "binary" => Ok(Format::Word2VecBinary),
            "word2vec-text" | "text" | "txt" => Ok(Format::Word2VecText),
            "glove" => Ok(Format::Glove),
            "fasttext" => Ok(Format::FastText),
            _ => Err(format!(
                "unknown vector format {s:?}: expected word2vec-bin, word2vec-text, glove or \
                 fasttext"
            )),
        }
    }
}

impl fmt::Display for Format {
    /// The name [`FromStr`] reads back.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Word2VecBinary => "word2vec-bin",
            Format::Word2VecText => "word2vec-text",
            Format::Glove => "glove",
            Format::FastText => "fasttext",
        })
    }
}

impl Format {
    /// The format a file name asks for, the way users name vector files (a final `.gz` is
    /// looked through): `.bin` is word2vec binary, or fastText's model file when the vectors
    /// have `subwords`; `.txt` and `.vec` are word2vec text (`.vec` is what fastText writes);
    /// `.glove` and `.glove.txt` are GloVe. Any other name is an error that lists these.
    ///
    /// ```
    /// use seqmodels::embeddings::formats::Format;
    /// use std::path::Path;
    /// assert_eq!(Format::for_path(Path::new("v.vec"), false).unwrap(), Format::Word2VecText);
    /// assert_eq!(Format::for_path(Path::new("v.bin"), true).unwrap(), Format::FastText);
    /// assert_eq!(Format::for_path(Path::new("v.glove.txt.gz"), false).unwrap(), Format::Glove);
    /// assert!(Format::for_path(Path::new("vectors"), false).is_err());
    /// ```
    pub fn for_path(path: &Path, subwords: bool) -> Result<Format> {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_lowercase())
            .unwrap_or_default();
        let name = name.strip_suffix(".gz").unwrap_or(&name);
        let format = if name.ends_with(".glove") || name.ends_with(".glove.txt") {
            Format::Glove
        } else if name.ends_with(".txt") || name.ends_with(".vec") {
            Format::Word2VecText
        } else if name.ends_with(".bin") {
            match subwords {
                true => Format::FastText,
                false => Format::Word2VecBinary,
            }
        } else {
            return Err(Error::Config(format!(
                "cannot tell the vector format from the name {}: end it in .bin (word2vec \
                 binary, or fastText's model when the vectors have subwords), .txt or .vec \
                 (word2vec text) or .glove (GloVe), or name the format (--format)",
                path.display()
            )));
        };
        Ok(format)
    }
}

/// Reads the vectors in the file at `path` (gzipped or not), detecting the format when `format`
/// is `None`; `limit` keeps only the first N words, like gensim's `limit`.
pub fn read(path: &Path, format: Option<Format>, limit: Option<usize>) -> Result<Embeddings> {
    if path.is_dir() {
        return Err(not_vectors(path, "a directory (a model directory?)"));
    }
    let file = File::open(path).map_err(|e| Error::io("opening", path, e))?;
    read_from(file, path, format, limit)
}

/// Reads vectors from `reader` (gzipped or not), naming it `name` in errors; see [`read`].
pub fn read_from<R: Read>(
    reader: R,
    name: &Path,
    format: Option<Format>,
    limit: Option<usize>,
) -> Result<Embeddings> {
    if limit == Some(0) {
        let reason = "a limit of 0 words keeps nothing; leave it out to read every word";
        return Err(Error::Config(reason.into()));
    }
    let mut reader = crate::text::maybe_gunzip(reader, name)?;
    let mut head = Vec::new();
    let got = reader.by_ref().take(HEAD).read_to_end(&mut head);
    got.map_err(|e| Error::io("reading", name, e))?;
    let fasttext = fasttext::has_magic(&head);
    if let Some(kind) = other_file(&head).filter(|_| !fasttext) {
        return Err(not_vectors(name, kind));
    }
    let reader = Cursor::new(head.clone()).chain(reader);
    match (format, fasttext) {
        (None | Some(Format::FastText), true) => fasttext::read(reader, name, limit),
        (Some(Format::FastText), false) => Err(Error::BadFile {
            path: name.into(),
            reason: "is not a fastText model: it does not start with fastText's magic number"
                .into(),
        }),
        (format, _) => {
            word2vec::parse(reader, name, format, limit).map_err(|e| match json(&head) {
                true => not_vectors(name, "JSON (a tokenizer.json or a config file?)"),
                false => e,
            })
        }
    }
}

/// Writes `emb` to `path` in `format`, gzipped when the name ends in `.gz`. The file is written
/// beside the target under a temporary name and renamed into place, so `path` is always either
/// the old file or the complete new one; vectors that `format` cannot hold are refused before
/// anything is written.
pub fn write(emb: &Embeddings, path: &Path, format: Format) -> Result<()> {
    check_writable(emb, format)?;
    crate::text::replace_atomically(path, |tmp| {
        let mut file = File::create(tmp).map_err(|e| Error::io("creating", path, e))?;
        if path.extension().is_some_and(|e| e == "gz") {
            let mut gz = GzEncoder::new(&mut file, Compression::default());
            write_records(emb, &mut gz, format, path)?;
            gz.finish().map_err(|e| Error::io("writing", path, e))?;
        } else {
            write_records(emb, &mut file, format, path)?;
        }
        crate::text::sync_if_file(&file).map_err(|e| Error::io("writing", path, e))
    })
}

/// Writes `emb` to `writer` in `format` (uncompressed). Values are written so that reading them
/// back gives the same `f32` bits: raw bytes in the binary formats, Rust's shortest round-trip
/// decimals in the text formats. A value that is not finite is an error, before any output.
pub fn write_to<W: Write>(emb: &Embeddings, writer: W, format: Format) -> Result<()> {
    check_writable(emb, format)?;
    write_records(emb, writer, format, Path::new("<output>"))
}

/// Guesses the format from the first bytes of a file (gzipped or not): fastText's magic
/// number, else a word2vec header or GloVe line. A first line of two integers is a word2vec
/// header; what follows is text when every line of it reads as a word and `dim` numbers,
/// binary when it reads as words and `dim` floats each. A first line of a word and numbers is
/// GloVe. `None` when the first line is neither. (A GloVe file of dimension 1 whose first word
/// is an integer reads as word2vec: name its format to read it.)
pub fn detect(head: &[u8]) -> Option<Format> {
    let unzipped;
    let head = if head.starts_with(&GZIP_MAGIC) {
        unzipped = gunzip_prefix(head);
        &unzipped[..]
    } else {
        head
    };
    if fasttext::has_magic(head) {
        return Some(Format::FastText);
    }
    word2vec::detect(head)
}

fn write_records<W: Write>(emb: &Embeddings, writer: W, format: Format, path: &Path) -> Result<()> {
    match format {
        Format::FastText => fasttext::write(emb, writer, path),
        _ => word2vec::write_records(emb, writer, format, path),
    }
}

/// Refuses vectors that `format` cannot hold: a value that is not finite (no format holds
/// one), plain vectors in fastText's model file.
fn check_writable(emb: &Embeddings, format: Format) -> Result<()> {
    for id in 0..emb.len() {
        if let Some(v) = emb.vector(id).iter().find(|v| !v.is_finite()) {
            return Err(Error::InvalidInput {
                input: emb.word(id).to_owned(),
                reason: format!("{v} in its vector: vector files hold finite numbers only"),
            });
        }
    }
    if format == Format::FastText {
        fasttext::check_writable(emb)?;
    }
    Ok(())
}

fn not_vectors(path: &Path, kind: &str) -> Error {
    Error::BadFile {
        path: path.into(),
        reason: format!("is {kind}, not a vector file ({VECTOR_FILES})"),
    }
}

/// What the first bytes of a file say it is, when that is a known kind of file that holds no
/// vectors: their magic numbers cannot begin a word2vec or GloVe file (whose first bytes are a
/// header of digits or a word).
fn other_file(head: &[u8]) -> Option<&'static str> {
    let starts = |magic: &[u8]| head.starts_with(magic);
    if head.len() > 8 && head[4..8] == [0; 4] && head[8] == b'{' {
        // safetensors: a little-endian u64 header length (under 4 GiB), then the JSON header.
        Some("a safetensors file (model weights)")
    } else if starts(b"PK\x03\x04") {
        Some("a zip archive (a PyTorch checkpoint or a NumPy .npz?)")
    } else if head.len() > 1 && head[0] == 0x80 && (2..=5).contains(&head[1]) {
        Some("a Python pickle (a gensim model saved with save()? write its vectors with save_word2vec_format)")
    } else if starts(b"\x93NUMPY") {
        Some("a NumPy array")
    } else if starts(b"\x89HDF\r\n\x1a\n") {
        Some("an HDF5 file")
    } else if starts(b"\x89PNG") || starts(b"%PDF") || starts(b"\x7fELF") {
        Some("an image, a PDF or a program")
    } else {
        None
    }
}

/// Whether a file that failed to read as vectors starts as JSON does.
fn json(head: &[u8]) -> bool {
    let start = head.iter().position(|b| !b.is_ascii_whitespace());
    start.is_some_and(|i| matches!(head[i], b'{' | b'['))
}

/// What a truncated gzip stream decodes to, up to where it is cut.
fn gunzip_prefix(head: &[u8]) -> Vec<u8> {
    let (mut out, mut buf) = (Vec::new(), [0u8; 8192]);
    let mut decoder = MultiGzDecoder::new(head);
    while let Ok(n @ 1..) = decoder.read(&mut buf) {
        out.extend_from_slice(&buf[..n]);
    }
    out
}

#[cfg(test)]
mod tests;
