//! Text readers: labelled sentences (CSV, TSV, MR, SST), sentence pairs (TSV and aligned
//! files), corpora (of character models, lines and text; of word2vec, counted into a
//! vocabulary) and stdin lines.

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use seqmodels::charlm::{Dataset as Corpus, Unit};
use seqmodels::classify::{self, Dataset, Source, TableOptions};
use seqmodels::seq2seq::sentences::pairs;
use seqmodels::text::{cut_lines, lines};
use seqmodels::word2vec::{Vocabulary, Word2VecConfig};

use super::{bounded, hostile, long_line, peak_of, setup, LINE_LIMIT};

/// Writes `bytes` as `name` in a fresh folder (kept alive by the returned guard).
fn file(name: &str, bytes: &[u8]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    (dir, path)
}

/// `Ok` or an error that names `path` in a message of sensible length.
fn named<T>(read: seqmodels::Result<T>, path: &Path) -> Option<T> {
    match read {
        Ok(value) => Some(value),
        Err(e) => {
            let (message, name) = (e.to_string(), path.file_name().unwrap().to_string_lossy());
            assert!(message.contains(name.as_ref()), "{message}");
            assert!(message.len() < 1000, "a long message: {message}");
            None
        }
    }
}

fn labelled_files() -> Vec<Vec<u8>> {
    [
        "never talk to me again,3\n\"I love you, mum ❤️\",0\n\"she said \"\"hi\"\"\",2,x\n",
        "text,label\na fine film,pos\n\n\"dull, \"\"long\"\"\",neg\n",
        "text\tlabel\nwarm and funny .\t1\nnot a gem .\t0\n",
        "1 a gorgeous film .\n0 one long string of cliches .\n\n4 great\n",
    ]
    .map(|s| s.as_bytes().to_vec())
    .to_vec()
}

/// Checks the sentences read: each non-empty, and none longer than the line limit.
fn sentences(data: Option<(Dataset, Vec<seqmodels::text::Cut>)>) {
    if let Some((data, cuts)) = data {
        assert!(!data.examples.is_empty());
        for e in &data.examples {
            assert!(!e.text.trim().is_empty() && !e.label.trim().is_empty());
            assert!(e.text.len() <= LINE_LIMIT && e.label.len() <= LINE_LIMIT);
        }
        assert!(cuts.iter().all(|c| c.bytes > c.limit as u64));
    }
}

proptest! {
    #![proptest_config(super::config())]

    #[test]
    fn labelled_sentences_or_an_error_naming_the_file(input in hostile(labelled_files())) {
        setup();
        let len = input.len();
        let (_dir, csv) = file("fuzzed.csv", &input);
        let tsv = csv.with_file_name("fuzzed.tsv");
        std::fs::write(&tsv, &input).unwrap();
        let named_columns = TableOptions {
            text: "text".parse().unwrap(),
            label: "label".parse().unwrap(),
            header: true,
            delimiter: None,
        };
        for (path, options) in [
            (&csv, TableOptions::default()),
            (&tsv, TableOptions::default()),
            (&csv, named_columns.clone()),
            (&tsv, named_columns),
        ] {
            let read = bounded("a table", len, || Dataset::read(&Source::Table(path, &options)));
            sentences(named(read, path));
        }
        let read = bounded("SST", len, || Dataset::read(&Source::LabelledLines(&csv)));
        sentences(named(read, &csv));
        let read = bounded("MR", 2 * len, || Dataset::read(&Source::PosNeg(&csv, &tsv)));
        sentences(named(read, &csv));
        let labels = classify::read_labelled_lines(&csv).ok();
        if let Some(ex) = labels.filter(|ex| ex.len() > 1) {
            let _ = classify::Labels::of(&ex, &csv).map(|l| l.ids(&ex, &csv));
        }
    }

    #[test]
    fn sentence_pairs_or_an_error_naming_the_file(
        input in hostile(vec![
            b"Go.\tVa !\tCC-BY 2.0\n\nI am cold.\tJ'ai froid.\n".to_vec(),
            b"ein mann\n\nzwei hunde\n".to_vec(),
        ]),
        other in hostile(vec![b"a man\n\ntwo dogs\n".to_vec()]),
    ) {
        setup();
        let (_dir, path) = file("fuzzed.tsv", &input);
        let tgt = path.with_file_name("other.en");
        std::fs::write(&tgt, &other).unwrap();
        let len = input.len() + other.len();
        if let Some(pairs) = named(bounded("pairs", len, || pairs::read_tsv(&path)), &path) {
            assert!(pairs.iter().all(|p| !p.src.is_empty() && !p.tgt.is_empty()));
        }
        let read = bounded("aligned", len, || pairs::read_aligned(&path, &tgt));
        match read {
            Ok(pairs) => assert!(pairs.iter().all(|p| p.line >= 1)),
            Err(e) => {
                let m = e.to_string();
                assert!(m.contains("fuzzed.tsv") || m.contains("other.en"), "{m}");
            }
        }
    }

    #[test]
    fn corpora_read_and_encode_or_an_error_naming_the_file(
        input in hostile(vec![b"anna\nbob\n\ncarla\n".to_vec(), "Été.\r\nNo.\n".as_bytes().to_vec()]),
    ) {
        setup();
        let (_dir, path) = file("fuzzed.txt", &input);
        for unit in [Unit::Line, Unit::Text] {
            let read = bounded("a corpus", input.len(), || Corpus::load(&path, unit));
            if let Some(data) = named(read, &path) {
                let vocab = data.vocab();
                let ids = data.encode(&vocab).unwrap();
                assert_eq!(ids.len(), data.items.len());
                let _ = data.split(1, 7);
            }
        }
        for lossy in [false, true] {
            let config = Word2VecConfig { min_count: 1, lossy, ..Word2VecConfig::default() };
            let read = bounded("a word2vec corpus", input.len(), || Vocabulary::build(&path, &config));
            if let Some(vocab) = named(read, &path) {
                prop_assert!(vocab.corpus_tokens() >= vocab.len() as u64);
            }
        }
    }

    #[test]
    fn stdin_lines_are_whole_cut_or_refused_in_step(
        input in hostile(vec!["one\ntwo\r\n\nthree é".as_bytes().to_vec()]),
    ) {
        setup();
        let breaks = input.iter().filter(|&&b| b == b'\n').count();
        let expected = breaks + usize::from(!input.is_empty() && !input.ends_with(b"\n"));
        let read: Vec<_> = bounded("lines", input.len(), || lines(&input[..], "<stdin>".as_ref()).collect());
        prop_assert_eq!(read.len(), expected);
        let cut: Vec<_> = bounded("cut lines", input.len(), || cut_lines(&input[..], "<stdin>".as_ref()).collect());
        prop_assert_eq!(cut.len(), expected);
        let originals = input.split(|&b| b == b'\n');
        for ((whole, cut), original) in read.iter().zip(&cut).zip(originals) {
            match (whole, cut) {
                (Ok((n, text)), Ok(line)) => {
                    prop_assert_eq!(*n, line.number);
                    prop_assert_eq!(text, &line.text);
                    prop_assert!(line.cut.is_none());
                    prop_assert!(original.starts_with(text.as_bytes()));
                }
                (Err(e), Ok(line)) => {
                    prop_assert!(e.to_string().contains("the limit is 64 KiB"), "{}", e);
                    prop_assert!(line.text.len() <= LINE_LIMIT && line.cut.is_some());
                    prop_assert!(original.starts_with(line.text.as_bytes()));
                }
                (Err(_), Err(e)) => prop_assert!(e.to_string().contains("not valid UTF-8"), "{}", e),
                (Ok(_), Err(e)) => prop_assert!(false, "whole but not cut: {}", e),
            }
        }
    }
}

#[test]
fn a_long_line_costs_the_line_limit_in_every_line_reader() {
    setup();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("long.txt");
    let mut bytes = b"1 first\tpair\n1 ".to_vec();
    std::io::Read::read_to_end(&mut long_line(b'a', (8 << 20) - 2), &mut bytes).unwrap();
    bytes.extend_from_slice(b"0 last\n");
    std::fs::write(&path, &bytes).unwrap();
    drop(bytes);
    let cap = 3 << 20;
    let (read, peak) = peak_of(|| Dataset::read(&Source::LabelledLines(&path)));
    let (data, cuts) = read.unwrap();
    assert_eq!(data.examples.len(), 3);
    assert_eq!(cuts.len(), 1);
    assert_eq!(
        cuts[0].to_string(),
        format!(
            "{}:2: the line is 8,388,608 bytes; cut to its first 64 KiB (--max-line-bytes)",
            path.display()
        )
    );
    assert!(peak < cap, "SST: {peak}");
    let (read, peak) = peak_of(|| pairs::read_tsv(&path));
    let err = read.unwrap_err().to_string();
    assert!(
        err.ends_with(":2: the line is 8,388,608 bytes; the limit is 64 KiB (--max-line-bytes)"),
        "{err}"
    );
    assert!(peak < cap, "pairs: {peak}");
    let (read, peak) = peak_of(|| Corpus::load(&path, Unit::Text));
    assert!(read.unwrap_err().to_string().contains(":2: the line is"));
    assert!(peak < cap, "corpus: {peak}");
    // word2vec reads a long line in pieces between its tokens (a text8-style corpus is one
    // line); a token over the limit is refused.
    let config = Word2VecConfig {
        min_count: 1,
        ..Word2VecConfig::default()
    };
    let (read, peak) = peak_of(|| Vocabulary::build(&path, &config));
    let err = read.unwrap_err().to_string();
    let token = ":2: a token is longer than the limit of 64 KiB (--max-line-bytes)";
    assert!(err.ends_with(token), "{err}");
    assert!(peak < cap, "word2vec corpus: {peak}");
    let words = "love hate ".repeat(800_000);
    std::fs::write(&path, format!("{words}\n")).unwrap();
    let (read, peak) = peak_of(|| Vocabulary::build(&path, &config));
    assert_eq!(read.unwrap().corpus_tokens(), 1_600_000);
    assert!(peak < cap, "word2vec corpus of one 8 MB line: {peak}");
    let mut csv = b"\"".to_vec();
    csv.extend(std::iter::repeat(b'x').take(8 << 20));
    csv.extend_from_slice(b"\",1\nok,0\n");
    std::fs::write(&path, &csv).unwrap();
    drop(csv);
    let options = TableOptions::default();
    let (read, peak) = peak_of(|| Dataset::read(&Source::Table(&path, &options)));
    let (data, cuts) = read.unwrap();
    assert_eq!(data.examples[0].label, "1");
    assert_eq!(data.examples[0].text.len(), LINE_LIMIT);
    assert_eq!((cuts[0].line, cuts[0].column), (1, Some(0)));
    assert!(peak < cap, "CSV: {peak}");
}
