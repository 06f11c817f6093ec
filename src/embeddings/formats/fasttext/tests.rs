//! Tests of fastText's model file, on tiny models made here: one through the writer, one
//! byte by byte from the layout in fastText's sources.
use super::*;
use crate::embeddings::formats::{self, Format};

const NGRAMS: Ngrams = Ngrams {
    minn: 3,
    maxn: 3,
    bucket: 7,
};
const DIM: usize = 2;

/// Bucket row `b` is `[b + 1, 10 (b + 1)]`.
fn bucket_rows() -> Vec<f32> {
    (0..7)
        .flat_map(|b| [b as f32 + 1.0, 10.0 * (b as f32 + 1.0)])
        .collect()
}

fn model() -> Embeddings {
    let words = ["</s>", "the", "naïve", "日本"].map(String::from).to_vec();
    let subwords = Subwords {
        ngrams: NGRAMS,
        word_rows: vec![0.5, -0.5, 1.0, 2.0, -1.0, 0.25, 3.0, -3.0],
        bucket_rows: bucket_rows(),
        counts: vec![9, 5, 3, 2],
        training: Training {
            arch: Arch::Cbow,
            loss: Loss::HierarchicalSoftmax,
            window: 3,
            tokens: 19,
            output: (0..8).map(|i| i as f32 / 8.0).collect(),
            ..Training::default()
        },
    };
    Embeddings::with_subwords(words, DIM, subwords).unwrap()
}

fn bytes_of(emb: &Embeddings) -> Vec<u8> {
    let mut bytes = Vec::new();
    formats::write_to(emb, &mut bytes, Format::FastText).unwrap();
    bytes
}

fn parse(bytes: &[u8]) -> Result<Embeddings> {
    formats::read_from(bytes, Path::new("m.bin"), None, None)
}

fn close(a: &[f32], b: &[f32]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-6)
}

/// A model file written field by field as `FastText::saveModel` writes it: two words, dim 2,
/// minn = maxn = 3, 7 buckets. `edit` changes the fields before they are joined.
fn by_hand(edit: impl FnOnce(&mut Fields)) -> Vec<u8> {
    let mut f = Fields {
        version: VERSION,
        model: 2,
        nlabels: 0,
        label_type: 0,
        pruneidx: -1,
        quant: 0,
    };
    edit(&mut f);
    let i32s = |v: &[i32]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
    let i64s = |v: &[i64]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
    let f32s = |v: &[f32]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
    let size = 2 + f.nlabels;
    let mut out = i32s(&[MAGIC, f.version]);
    out.extend(i32s(&[DIM as i32, 5, 5, 1, 5, 1, 2, f.model, 7, 3, 3, 100]));
    out.extend(1e-4f64.to_le_bytes());
    out.extend(i32s(&[size, 2, f.nlabels]));
    out.extend(i64s(&[12, f.pruneidx]));
    out.extend(b"</s>\0");
    out.extend(i64s(&[7]));
    out.push(0);
    out.extend(b"ab\0");
    out.extend(i64s(&[5]));
    out.push(f.label_type);
    if f.nlabels > 0 {
        out.extend(b"__label__x\0");
        out.extend(i64s(&[1]));
        out.push(1);
    }
    out.push(f.quant);
    out.extend(i64s(&[9, DIM as i64]));
    out.extend(f32s(&[0.5, 1.5, -2.0, 4.0]));
    out.extend(f32s(&bucket_rows()));
    out.push(0);
    out.extend(i64s(&[2, DIM as i64]));
    out.extend(f32s(&[0.0; 4]));
    out
}

struct Fields {
    version: i32,
    model: i32,
    nlabels: i32,
    label_type: u8,
    pruneidx: i64,
    quant: u8,
}

#[test]
fn a_model_round_trips_byte_for_byte() {
    let emb = model();
    let bytes = bytes_of(&emb);
    assert!(has_magic(&bytes));
    assert_eq!(formats::detect(&bytes), Some(Format::FastText));
    let back = parse(&bytes).unwrap();
    assert_eq!(back, emb);
    assert_eq!(bytes_of(&back), bytes);
    // A word's vector is the mean of its own row and its n-gram rows ("<th", "the", "he>").
    let buckets = NGRAMS.buckets("the");
    assert_eq!(buckets.len(), 3);
    let rows = bucket_rows();
    let mean: Vec<f32> = (0..DIM)
        .map(|j| ([1.0, 2.0][j] + buckets.iter().map(|b| rows[b * DIM + j]).sum::<f32>()) / 4.0)
        .collect();
    assert!(
        close(back.vector(1), &mean),
        "{:?} {mean:?}",
        back.vector(1)
    );
    let limited = formats::read_from(&bytes[..], Path::new("m.bin"), None, Some(2)).unwrap();
    assert_eq!(limited.words(), ["</s>", "the"]);
    assert_eq!(limited.subwords().unwrap().bucket_rows, rows);
    assert_eq!(limited.subwords().unwrap().training.output.len(), 2 * DIM);
}

#[test]
fn oov_vectors_are_the_mean_of_the_hashed_ngram_rows() {
    let emb = parse(&bytes_of(&model())).unwrap();
    // Buckets from fastText's own hash (the C++ of subwords.rs's test), mod 7:
    // "<na" 0, "nai" 3, "aiv" 2, "ive" 6, "ve>" 6; "<日本" 5, "日本語" 6, "本語>" 1.
    assert_eq!(NGRAMS.buckets("naive"), [0, 3, 2, 6, 6]);
    let naive = emb.get_vector("naive").unwrap();
    assert!(close(&naive, &[22.0 / 5.0, 220.0 / 5.0]), "{naive:?}");
    let nihongo = emb.get_vector("日本語").unwrap();
    assert!(close(&nihongo, &[15.0 / 3.0, 150.0 / 3.0]), "{nihongo:?}");
    assert_eq!(emb.get_vector("the").unwrap(), emb.vector(1));
    assert!(emb.has_vector("naive") && emb.id("naive").is_none());
    // No n-gram of three characters in "<>": no vector.
    assert!(!emb.has_vector(""));
    let both = emb.get_vectors(&["the", "naive"]).unwrap();
    assert_eq!((&both[0][..], &both[1][..]), (emb.vector(1), &naive[..]));
    let err = emb.get_vectors(&["", "the", ""]).unwrap_err();
    assert!(matches!(err, crate::Error::UnknownWords { words } if words == ["", ""]));
    let near = emb.most_similar(&["naive"], &[], 2, None).unwrap();
    assert_eq!(near.len(), 2);
}

#[test]
fn a_file_written_by_hand_from_the_layout_reads() {
    let emb = parse(&by_hand(|_| {})).unwrap();
    assert_eq!(emb.words(), ["</s>", "ab"]);
    let s = emb.subwords().unwrap();
    assert_eq!(s.ngrams, NGRAMS);
    assert_eq!(s.counts, [7, 5]);
    assert_eq!(s.training.tokens, 12);
    assert_eq!(s.training.arch, Arch::SkipGram);
    assert_eq!(s.training.loss, Loss::NegativeSampling);
    // "</s>" has no n-grams: its vector is its row.
    assert_eq!(emb.vector(0), [0.5, 1.5]);
    // "ab": its row and "<ab", "ab>".
    let b = NGRAMS.buckets("ab");
    let rows = bucket_rows();
    let mean: Vec<f32> = (0..2)
        .map(|j| ([-2.0, 4.0][j] + rows[b[0] * 2 + j] + rows[b[1] * 2 + j]) / 3.0)
        .collect();
    assert!(close(emb.vector(1), &mean));
    assert_eq!(
        bytes_of(&emb),
        by_hand(|_| {}),
        "written back as fastText wrote it"
    );
}

#[test]
fn other_versions_supervised_quantized_and_broken_files_are_refused() {
    let cases: [(Vec<u8>, &str); 6] = [
        (
            by_hand(|f| f.version = 11),
            "is a fastText model of version 11",
        ),
        (by_hand(|f| f.model = 3), "is a supervised fastText model"),
        (by_hand(|f| f.nlabels = 1), "is a supervised fastText model"),
        (
            by_hand(|f| f.label_type = 1),
            "is a supervised fastText model",
        ),
        (by_hand(|f| f.quant = 1), "is a quantized fastText model"),
        (by_hand(|f| f.pruneidx = 0), "is a quantized fastText model"),
    ];
    for (bytes, says) in cases {
        let err = parse(&bytes).unwrap_err().to_string();
        assert!(err.starts_with("m.bin: ") && err.contains(says), "{err}");
    }
    let whole = by_hand(|_| {});
    for cut in 4..whole.len() {
        let err = parse(&whole[..cut]).unwrap_err().to_string();
        assert!(
            err.contains("is truncated: the file ends in "),
            "{cut}: {err}"
        );
    }
    let err = parse(&whole[..cut_in_rows(&whole)])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("ends in the n-gram rows of the input matrix"),
        "{err}"
    );
    let longer = [&whole[..], b"\0"].concat();
    let err = parse(&longer).unwrap_err().to_string();
    assert!(err.contains("goes on after the output matrix"), "{err}");
    let mut nan = whole.clone();
    let at = cut_in_rows(&whole) - 4;
    nan[at..at + 4].copy_from_slice(&f32::NAN.to_le_bytes());
    let err = parse(&nan).unwrap_err().to_string();
    assert!(err.contains("holds NaN in row"), "{err}");
}

/// An offset inside the bucket rows of [`by_hand`]'s file: 16 bytes of header and output
/// matrix values after them.
fn cut_in_rows(whole: &[u8]) -> usize {
    whole.len() - 1 - 16 - 4 * 4 - 8
}

#[test]
fn plain_vectors_are_not_written_as_fasttext_and_nothing_is_written() {
    let plain = Embeddings::new(vec!["a".into()], 2, vec![1.0, 2.0]).unwrap();
    let mut out = Vec::new();
    let err = formats::write_to(&plain, &mut out, Format::FastText).unwrap_err();
    assert!(err.to_string().contains("have no n-gram rows"), "{err}");
    assert!(out.is_empty());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v.bin");
    assert!(formats::write(&plain, &path, Format::FastText).is_err());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    formats::write(&model(), &path, Format::FastText).unwrap();
    assert_eq!(formats::read(&path, None, None).unwrap(), model());
    // Written as word2vec, the vectors keep their values and lose their n-grams.
    let text = dir.path().join("v.vec");
    formats::write(&model(), &text, Format::Word2VecText).unwrap();
    let back = formats::read(&text, None, None).unwrap();
    assert_eq!(back.vectors(), model().vectors());
    assert!(back.subwords().is_none());
}
