//! Vector files: word2vec binary and text, GloVe and fastText `.bin`, plain and gzipped, read
//! with every format named and with the format detected.

use std::io::{Read, Write};
use std::path::Path;

use proptest::prelude::*;
use seqmodels::embeddings::formats::{self, Format};
use seqmodels::embeddings::subwords::{Ngrams, Subwords, Training};
use seqmodels::embeddings::Embeddings;

use super::{bounded, hostile, long_line, peak_of, setup};

const FORMATS: [Option<Format>; 5] = [
    None,
    Some(Format::Word2VecBinary),
    Some(Format::Word2VecText),
    Some(Format::Glove),
    Some(Format::FastText),
];

/// Three words of dimension 3, with subword rows (7 buckets of 3-grams).
fn vectors() -> Embeddings {
    let words = ["the", "naïve", "日本"].map(String::from).to_vec();
    let subwords = Subwords {
        ngrams: Ngrams::new(3, 3, 7).unwrap(),
        word_rows: (0..9).map(|i| i as f32 / 4.0 - 1.0).collect(),
        bucket_rows: (0..21).map(|i| i as f32 / 8.0).collect(),
        counts: vec![9, 5, 3],
        training: Training::default(),
    };
    Embeddings::with_subwords(words, 3, subwords).unwrap()
}

fn written(format: Format) -> Vec<u8> {
    let mut bytes = Vec::new();
    formats::write_to(&vectors(), &mut bytes, format).unwrap();
    bytes
}

fn gzipped(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

/// A file in each format, and the text one gzipped.
fn valid_files() -> Vec<Vec<u8>> {
    let text = written(Format::Word2VecText);
    vec![
        written(Format::Word2VecBinary),
        gzipped(&text),
        text,
        written(Format::Glove),
        written(Format::FastText),
    ]
}

/// Reads `input` as `format`, with `limit`, within the memory bound; an error must name the
/// file, and vectors read must be some.
fn check(input: &[u8], format: Option<Format>, limit: Option<usize>) {
    let name = Path::new("fuzzed-vectors.bin");
    let what = format!("reading as {format:?} with limit {limit:?}");
    match bounded(&what, input.len(), || {
        formats::read_from(input, name, format, limit)
    }) {
        Ok(emb) => {
            assert!(!emb.is_empty() && emb.dim() > 0, "{what}: empty vectors");
            assert!(
                emb.len() <= limit.unwrap_or(usize::MAX),
                "{what}: over the limit"
            );
        }
        Err(e) => {
            let message = e.to_string();
            assert!(message.contains("fuzzed-vectors.bin"), "{what}: {message}");
            assert!(message.len() < 1000, "{what}: a long message: {message}");
        }
    }
}

proptest! {
    #![proptest_config(super::config())]

    #[test]
    fn vector_files_give_vectors_or_an_error_naming_the_file(input in hostile(valid_files())) {
        setup();
        let _ = formats::detect(&input);
        for format in FORMATS {
            for limit in [None, Some(2)] {
                check(&input, format, limit);
            }
        }
    }
}

#[test]
fn valid_files_read_back() {
    setup();
    for input in valid_files() {
        let emb = formats::read_from(&input[..], Path::new("v"), None, None).unwrap();
        assert_eq!((emb.len(), emb.dim()), (3, 3));
    }
}

/// Overwrites the little-endian `i32` at `at` in `bytes`.
fn set_i32(bytes: &mut [u8], at: usize, value: i32) {
    bytes[at..at + 4].copy_from_slice(&value.to_le_bytes());
}

#[test]
fn headers_that_lie_cost_what_the_file_holds() {
    setup();
    let mut lying: Vec<(&str, Vec<u8>)> = vec![
        (
            "word2vec text, 999999999 words",
            b"999999999 300\nw 1 2\n".to_vec(),
        ),
        (
            "word2vec text, 999999999 dims",
            b"2 999999999\nw 1 2\n".to_vec(),
        ),
    ];
    let mut binary = b"999999999 300\nw ".to_vec();
    binary.extend(std::iter::repeat(0u8).take(300 * 4 * 2));
    lying.push(("word2vec binary, 999999999 words", binary));
    let mut binary = b"1 999999999\nw ".to_vec();
    binary.extend([0u8; 4096]);
    lying.push(("word2vec binary, 999999999 dims", binary));
    // fastText: the args start at byte 8 (dim first, bucket ninth); the dictionary's size
    // and word count at bytes 64 and 68.
    let fasttext = written(Format::FastText);
    for (what, at, value) in [
        ("fastText, dimension 2^31 - 1", 8, i32::MAX),
        ("fastText, 2^31 - 1 buckets", 40, i32::MAX),
        ("fastText, 999999999 words", 64, 999_999_999),
    ] {
        let mut bytes = fasttext.clone();
        set_i32(&mut bytes, at, value);
        if at == 64 {
            set_i32(&mut bytes, 68, value);
        }
        lying.push((what, bytes));
    }
    for (what, bytes) in lying {
        let (read, peak) =
            peak_of(|| formats::read_from(&bytes[..], Path::new("lying.bin"), None, None));
        let err = read.expect_err(what).to_string();
        assert!(err.contains("lying.bin"), "{what}: {err}");
        assert!(peak < 12 << 20, "{what}: held {peak} bytes: {err}");
    }
}

#[test]
fn a_long_token_costs_the_line_limit_not_the_token() {
    setup();
    let token = 16u64 << 20;
    let cases: Vec<(&str, Option<Format>, Box<dyn Read>)> = vec![
        ("detected", None, Box::new(long_line(b'a', token))),
        (
            "GloVe",
            Some(Format::Glove),
            Box::new(long_line(b'a', token)),
        ),
        (
            "word2vec text",
            Some(Format::Word2VecText),
            Box::new(b"1 3\n".chain(long_line(b'a', token))),
        ),
        (
            "word2vec binary",
            Some(Format::Word2VecBinary),
            Box::new(b"1 3\n".chain(long_line(b'a', token))),
        ),
        (
            "gzipped",
            None,
            Box::new(std::io::Cursor::new(gzipped(&vec![b'z'; token as usize]))),
        ),
    ];
    for (what, format, input) in cases {
        let (read, peak) =
            peak_of(|| formats::read_from(input, Path::new("long.txt"), format, None));
        let err = read.expect_err(what).to_string();
        assert!(err.starts_with("long.txt:"), "{what}: {err}");
        assert!(err.len() < 200, "{what}: the token is quoted: {err}");
        assert!(
            peak < 4 << 20,
            "{what}: held {peak} bytes for a 16 MiB token"
        );
    }
    let err = formats::read_from(long_line(b'a', token), Path::new("t"), None, None)
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "t:1: the line is 16,777,216 bytes; the limit is 64 KiB (--max-line-bytes)"
    );
}
