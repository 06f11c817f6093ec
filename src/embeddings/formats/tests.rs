//! Tests of the word2vec and GloVe formats.
use super::*;

fn store() -> Embeddings {
    let words = ["the", "naïve", "日本", "x"].map(String::from).to_vec();
    #[rustfmt::skip]
    let vectors = vec![
        0.1, -1.0 / 3.0, 1e-40,
        -0.0, f32::MAX, f32::MIN_POSITIVE,
        1e-5, -2.5e7, 123_456.79,
        0.0, 1.0, -1.0,
    ];
    Embeddings::new(words, 3, vectors).unwrap()
}

fn bits(emb: &Embeddings) -> Vec<u32> {
    emb.vectors().iter().map(|v| v.to_bits()).collect()
}

fn parse(bytes: &[u8], format: Option<Format>, limit: Option<usize>) -> Result<Embeddings> {
    read_from(bytes, Path::new("v.txt"), format, limit)
}

fn error(bytes: &[u8], format: Option<Format>) -> String {
    parse(bytes, format, None).unwrap_err().to_string()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

fn le(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

const ALL: [Format; 3] = [Format::Word2VecBinary, Format::Word2VecText, Format::Glove];

#[test]
fn every_format_round_trips_bit_for_bit_and_is_detected() {
    let emb = store();
    for format in ALL {
        let mut bytes = Vec::new();
        write_to(&emb, &mut bytes, format).unwrap();
        assert_eq!(detect(&bytes), Some(format));
        assert_eq!(detect(&gzip(&bytes)), Some(format));
        for back in [parse(&bytes, None, None), parse(&gzip(&bytes), None, None)] {
            let back = back.unwrap();
            assert_eq!(back.words(), emb.words(), "{format}");
            assert_eq!(bits(&back), bits(&emb), "{format}");
        }
        assert_eq!(format.to_string().parse::<Format>(), Ok(format));
    }
    assert_eq!("BIN".parse::<Format>(), Ok(Format::Word2VecBinary));
    assert_eq!("txt".parse::<Format>(), Ok(Format::Word2VecText));
    assert!("csv".parse::<Format>().is_err());
    assert_eq!(detect(b"\x89PNG\r\n"), None);
    assert_eq!(detect(b""), None);
}

#[test]
fn files_are_written_atomically_and_gzipped_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let emb = store();
    for (name, format) in [("v.bin", ALL[0]), ("v.txt.gz", ALL[1]), ("g.txt", ALL[2])] {
        let path = dir.path().join(name);
        std::fs::write(&path, "old").unwrap();
        write(&emb, &path, format).unwrap();
        let head = std::fs::read(&path).unwrap();
        assert_eq!(head.starts_with(&GZIP_MAGIC), name.ends_with(".gz"));
        assert_eq!(detect(&head), Some(format));
        assert_eq!(bits(&read(&path, None, None).unwrap()), bits(&emb));
    }
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        3,
        "no temporary left"
    );
    let err = read(&dir.path().join("none.bin"), None, None).unwrap_err();
    assert!(err.to_string().starts_with("opening "), "{err}");
}

#[test]
fn hand_written_binary_with_c_tool_and_gensim_record_ends() {
    let a = le(&[1.0, -2.0, 0.5]);
    let b = le(&[0.25, 0.0, 1e-5]);
    let c_tool = [&b"2 3\n"[..], b"a ", &a, b"\n", b"bb ", &b, b"\n"].concat();
    let gensim = [&b"2 3\n"[..], b"a ", &a, b"bb ", &b].concat();
    let extra = [&b"2 3\n\n"[..], b"a ", &a, b"\n\n\nbb ", &b, b"\n\n"].concat();
    for bytes in [c_tool, gensim, extra] {
        assert_eq!(detect(&bytes), Some(Format::Word2VecBinary));
        let emb = parse(&bytes, None, None).unwrap();
        assert_eq!(emb.words(), ["a", "bb"]);
        assert_eq!(emb.vectors(), [1.0, -2.0, 0.5, 0.25, 0.0, 1e-5]);
    }
}

#[test]
fn random_binary_records_are_never_taken_for_text() {
    // Random float bytes hold newlines, spaces and digits; with or without newlines after
    // the vectors, auto-detection must still see binary. (One record of dimension 1 can
    // spell a text line, "w 1234", and is left out.)
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut random = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        f32::from_bits(state as u32)
    };
    for trial in 0..3000 {
        let (dim, count) = (2 + trial % 4, 1 + trial % 3);
        let values: Vec<f32> = (0..dim * count).map(|_| random()).collect();
        if values.iter().any(|v| !v.is_finite()) {
            continue;
        }
        let mut c_tool = format!("{count} {dim}\n").into_bytes();
        let mut gensim = c_tool.clone();
        for (k, row) in values.chunks(dim).enumerate() {
            for out in [&mut c_tool, &mut gensim] {
                out.extend([format!("w{k} ").as_bytes(), &le(row)].concat());
            }
            c_tool.push(b'\n');
        }
        for bytes in [c_tool, gensim] {
            let back = parse(&bytes, None, None).map_err(|e| format!("{e}: {bytes:?}"));
            assert_eq!(back.unwrap().vectors(), values);
        }
    }
}

#[test]
fn limit_keeps_the_first_words() {
    let emb = store();
    for format in ALL {
        let mut bytes = Vec::new();
        write_to(&emb, &mut bytes, format).unwrap();
        let two = parse(&bytes, Some(format), Some(2)).unwrap();
        assert_eq!(two.words(), &emb.words()[..2]);
        assert_eq!(two.vectors(), &emb.vectors()[..6]);
        assert_eq!(parse(&bytes, None, Some(99)).unwrap().len(), 4);
    }
    let overcounted = b"1000 2\na 1 2\nb 3 4\nc 5 6\n";
    assert_eq!(parse(overcounted, None, Some(3)).unwrap().len(), 3);
    let err = parse(overcounted, None, Some(0)).unwrap_err();
    assert!(matches!(err, Error::Config(_)), "{err}");
}

#[test]
fn text_errors_name_the_line() {
    #[rustfmt::skip]
    let cases: [(&[u8], &str); 12] = [
        (b"", "1: empty file"),
        (b"\n \n", "1: empty file"),
        (b"1000 2\na 1 2\n\nb 3 4\n", "5: header says 1000 words, file ends after 2"),
        (b"2 2\na 1 2\nb 3\n", "3: expected 2 values after \"b\", found 1"),
        (b"a 1 2\nb 3 4 5\n", "2: expected 2 values after \"b\", found 3"),
        (b"a 1 2\n\xffb 3 4\n", "2: not valid UTF-8 (byte 0)"),
        (b"a 1 2\nb 3 x\n", "2: value 2 of \"b\" is \"x\", not a number"),
        (b"a 1 2\nb 3 NaN\n", "2: value 2 of \"b\" is NaN: only finite numbers are allowed"),
        (b"a 1 2\nb 3 4\n\na 5 6\n", "4: the word \"a\" appears twice (first on line 1)"),
        (b"1 2\na 1 2\nb 3 4\n", "3: header says 1 words, but the file goes on"),
        (b"2 0\n", "1: the header gives dimension 0"),
        (b"0 4\n", "1: the header gives 0 words: the file holds no vectors"),
    ];
    for (bytes, expected) in cases {
        assert_eq!(error(bytes, None), format!("v.txt:{expected}"));
    }
    let header = "v.txt:1: expected the word2vec header \"<words> <dimensions>\", found \"a 1\"";
    assert_eq!(error(b"a 1\n", Some(Format::Word2VecText)), header);
    let glove = error(b"2 3\na 1 2 3\n", Some(Format::Glove));
    assert!(glove.ends_with("found 3 (the first line looks like a word2vec header)"));
    let negative = error(b"2 -3\na 1 2 3\n", None);
    assert!(
        negative.ends_with("(the first line looks like a word2vec header with a negative count)"),
        "{negative}"
    );
    let nbsp = parse(b"a\xc2\xa0b 1\n", None, None).unwrap();
    assert_eq!(
        nbsp.words(),
        ["a\u{a0}b"],
        "only ASCII whitespace separates words"
    );
    let small = parse(b"a 1e-05 -0.5\n", None, None).unwrap();
    assert_eq!(small.vector(0), [1e-5, -0.5]);
}

#[test]
fn binary_errors_name_the_record() {
    let one = le(&[1.0, 2.0]);
    let bin = |records: &[&[u8]]| [&b"2 2\na "[..], &one, &records.concat()].concat();
    #[rustfmt::skip]
    let cases = [
        (bin(&[b"\n"]), "3: header says 2 words, file ends after 1"),
        (bin(&[b"\nbb"]), "3: header says 2 words, file ends inside word 2"),
        (bin(&[b"\nbb ", &one[..5]]), "3: header says 2 words, file ends in the vector \
                                       of \"bb\" (word 2)"),
        (bin(&[b"\n\xff ", &one]), "3: word 2 is not valid UTF-8: \"\u{fffd}\""),
        (bin(&[b"\na ", &one]), "3: the word \"a\" appears twice (first on line 2)"),
        (bin(&[b"b ", &le(&[0.0, f32::INFINITY])]), "3: value 2 of \"b\" is inf: only \
                                                    finite numbers are allowed"),
        (bin(&[b"\nb ", &one, b"\nc ", &one]), "4: header says 2 words, but the file goes on \
                                                after them"),
        (bin(&[b"\n ", &one]), "3: word 2 is empty"),
        (bin(&[b"\nb\tc ", &one]), "3: the word \"b\\tc\" contains whitespace"),
    ];
    for (bytes, expected) in cases {
        let found = error(&bytes, Some(Format::Word2VecBinary));
        assert_eq!(found, format!("v.txt:{expected}"));
    }
}

#[test]
fn unwritable_values_and_paths_are_refused() {
    let emb = Embeddings::new(vec!["a".into()], 2, vec![1.0, f32::NAN]).unwrap();
    let mut out = Vec::new();
    let err = write_to(&emb, &mut out, Format::Word2VecText).unwrap_err();
    assert_eq!(
        err.to_string(),
        "input \"a\": NaN in its vector: vector files hold finite numbers only"
    );
    assert!(out.is_empty());
    let dir = tempfile::tempdir().unwrap();
    let err = write(&store(), &dir.path().join("missing/v.bin"), Format::Glove).unwrap_err();
    assert!(err.to_string().starts_with("creating "), "{err}");
}

#[test]
fn the_format_follows_the_file_name() {
    let cases = [
        ("v.bin", false, Format::Word2VecBinary),
        ("v.bin", true, Format::FastText),
        ("V.BIN.gz", false, Format::Word2VecBinary),
        ("v.txt", true, Format::Word2VecText),
        ("wiki.en.vec", true, Format::Word2VecText),
        ("v.vec.gz", false, Format::Word2VecText),
        ("glove.6B.50d.glove", false, Format::Glove),
        ("v.glove.txt", false, Format::Glove),
        ("v.glove.txt.gz", false, Format::Glove),
    ];
    for (name, subwords, format) in cases {
        assert_eq!(
            Format::for_path(Path::new(name), subwords).unwrap(),
            format,
            "{name}"
        );
    }
    for name in ["vectors", "v.safetensors", "v.gz", "dir/"] {
        let err = Format::for_path(Path::new(name), false)
            .unwrap_err()
            .to_string();
        assert!(err.contains("cannot tell the vector format"), "{err}");
    }
    assert_eq!("FastText".parse::<Format>(), Ok(Format::FastText));
}

#[test]
fn files_that_hold_no_vectors_are_named_for_what_they_are() {
    let json = br#"{"model": {"type": "BPE", "vocab": {"a": 0}}}"#;
    let mut safetensors = 34u64.to_le_bytes().to_vec();
    safetensors.extend(br#"{"w":{"dtype":"F32","shape":[1]}}  "#);
    safetensors.extend([0x80, 0xff, 0x01, 0x0a]);
    let cases: [(&[u8], &str); 6] = [
        (
            &safetensors,
            "is a safetensors file (model weights), not a vector file",
        ),
        (b"PK\x03\x04\x14\x00\x00\x00", "is a zip archive"),
        (b"\x80\x04\x95\x10\x00\x00", "is a Python pickle"),
        (b"\x93NUMPY\x01\x00v\x00", "is a NumPy array"),
        (json, "is JSON (a tokenizer.json or a config file?)"),
        (&gzip(json), "is JSON (a tokenizer.json or a config file?)"),
    ];
    for (bytes, says) in cases {
        let err = error(bytes, None);
        assert!(err.starts_with("v.txt: ") && err.contains(says), "{err}");
        assert!(
            err.ends_with("(word2vec binary or text, GloVe or fastText .bin)"),
            "{err}"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let err = read(dir.path(), None, None).unwrap_err().to_string();
    assert!(
        err.contains("is a directory (a model directory?), not a vector file"),
        "{err}"
    );
    // A GloVe file whose first word starts like JSON is still read.
    assert_eq!(parse(b"{ 1 2\n", None, None).unwrap().words(), ["{"]);
    let err = error(b"not a fasttext model", Some(Format::FastText));
    assert!(
        err.contains("does not start with fastText's magic number"),
        "{err}"
    );
}
