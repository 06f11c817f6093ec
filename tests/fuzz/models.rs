//! Model directories and tokenizer files: a tiny character model and a tiny classifier, saved
//! by the binary, with one part mutated (config.json, meta.json, vocab.json or
//! model.safetensors, the last with its SHA-256 in meta.json updated or not), loaded and used;
//! and sentence tokenizers (`tokenizer.json`) read back and used.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use proptest::prelude::*;
use seqmodels::charlm::{CharLm, SampleOptions};
use seqmodels::classify::Classifier;
use seqmodels::seq2seq::sentences::tokenizer::{SentenceTokenizer, TokenizerConfig, TokenizerKind};
use sha2::{Digest, Sha256};
use tch::Device;

use super::common::{seqmodels, torch_rng};
use super::{apply, bound, bounded, hostile, mutation, peak_of, setup, Mutation};

const PARTS: [&str; 4] = [
    "config.json",
    "meta.json",
    "vocab.json",
    "model.safetensors",
];

/// A model directory trained once per test run by the binary (`args` after `--out DIR`).
fn trained(cell: &'static OnceLock<tempfile::TempDir>, args: &[&str]) -> &'static Path {
    cell.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let names = dir.path().join("names.txt");
        let text: String = (0..200)
            .map(|i| format!("{}\n", &"abcdefghij"[i % 5..i % 5 + 3 + i % 3]))
            .collect();
        std::fs::write(&names, text).unwrap();
        let out = dir.path().join("model");
        let mut full = vec!["-q", "--threads", "1"];
        full.extend(args.iter().map(|a| match *a {
            "NAMES" => names.to_str().unwrap(),
            a => a,
        }));
        full.extend(["--out", out.to_str().unwrap()]);
        let run = seqmodels(&full);
        assert!(run.ok, "{}", run.stderr);
        dir
    })
    .path()
}

fn charlm_dir() -> PathBuf {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    let args = [
        "charlm", "train", "--data", "NAMES", "--embed", "4", "--hidden", "8", "--epochs", "1",
    ];
    trained(&DIR, &args).join("model")
}

pub fn classifier_dir() -> PathBuf {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    let data = concat!(env!("CARGO_MANIFEST_DIR"), "/corpora/emoji/train.csv");
    let args = [
        "classify", "train", "--train", data, "--model", "average", "--epochs", "1",
    ];
    trained(&DIR, &args).join("model")
}

/// A copy of the model in `base` with `mutations` applied to `PARTS[part]`; with `rehash`,
/// meta.json records the mutated weights' SHA-256, so that their reading is reached. Returns
/// the copy and whether the weights' bytes changed.
fn mutated(
    base: &Path,
    part: usize,
    mutations: &[Mutation],
    rehash: bool,
) -> (tempfile::TempDir, bool) {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(base).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
    }
    let path = dir.path().join(PARTS[part]);
    let old = std::fs::read(&path).unwrap();
    let new = mutations.iter().fold(old.clone(), apply);
    std::fs::write(&path, &new).unwrap();
    let weights_changed = part == 3 && new != old;
    if weights_changed && rehash {
        let meta_path = dir.path().join("meta.json");
        let mut meta: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&meta_path).unwrap()).unwrap();
        meta["sha256"]["model.safetensors"] = format!("{:x}", Sha256::digest(&new)).into();
        std::fs::write(&meta_path, serde_json::to_vec(&meta).unwrap()).unwrap();
    }
    (dir, weights_changed)
}

/// The bytes of every file in `dir`.
fn size_of(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len() as usize)
        .sum()
}

/// `Ok`, or an error that names the model directory.
fn named<T>(
    loaded: seqmodels::Result<T>,
    dir: &Path,
    weights_changed: bool,
    rehash: bool,
) -> Option<T> {
    match loaded {
        Ok(model) => {
            assert!(
                !weights_changed || rehash,
                "changed weights loaded without a SHA-256 error"
            );
            Some(model)
        }
        Err(e) => {
            let message = e.to_string();
            assert!(message.contains(&*dir.to_string_lossy()), "{message}");
            assert!(message.len() < 2000, "a long message: {message}");
            if weights_changed && !rehash {
                assert!(message.contains("SHA-256"), "{message}");
            }
            None
        }
    }
}

fn part_mutations() -> impl Strategy<Value = (usize, Vec<Mutation>, bool)> {
    (
        0..PARTS.len(),
        prop::collection::vec(mutation(), 1..4),
        any::<bool>(),
    )
}

proptest! {
    #![proptest_config(super::config())]

    #[test]
    fn character_models_load_and_sample_or_say_what_is_wrong((part, ms, rehash) in part_mutations()) {
        setup();
        let (dir, changed) = mutated(&charlm_dir(), part, &ms, rehash);
        let size = size_of(dir.path());
        let loaded = bounded("a character model", size, || CharLm::load(dir.path(), Device::Cpu));
        if let Some(model) = named(loaded, dir.path(), changed, rehash) {
            let _rng = torch_rng();
            let options = SampleOptions { count: 2, max_len: 8, ..SampleOptions::default() };
            let _ = model.sample(&options);
        }
    }

    #[test]
    fn classifiers_load_and_label_or_say_what_is_wrong((part, ms, rehash) in part_mutations()) {
        setup();
        let (dir, changed) = mutated(&classifier_dir(), part, &ms, rehash);
        let size = size_of(dir.path());
        let loaded = bounded("a classifier", size, || Classifier::load(dir.path(), Device::Cpu));
        if let Some(model) = named(loaded, dir.path(), changed, rehash) {
            let _ = model.probabilities(&["i love you", "x"], 2);
        }
    }

    #[test]
    fn tokenizer_files_load_and_encode_or_say_what_is_wrong(input in hostile(tokenizer_files())) {
        setup();
        let path = Path::new("fuzzed/src_tokenizer.json");
        let (loaded, peak) = peak_of(|| SentenceTokenizer::from_bytes(&input, path));
        prop_assert!(peak <= bound(input.len()) + 16 * input.len(), "held {} bytes", peak);
        match loaded {
            Ok(tokenizer) => {
                if let Ok(ids) = tokenizer.encode("the cat sat, naïvely") {
                    let _ = tokenizer.decode(&ids);
                }
                let _ = tokenizer.decode(&[0, 1, 2, 3, 4, 5, 1000]);
            }
            Err(e) => prop_assert!(e.to_string().contains("fuzzed/src_tokenizer.json"), "{}", e),
        }
    }
}

/// A word-level and a sentencepiece tokenizer, trained on a few sentences.
fn tokenizer_files() -> Vec<Vec<u8>> {
    let text = [
        "the cat sat on the mat",
        "the dog sat",
        "a cat, a dog and a naïve bird",
    ];
    [TokenizerKind::Word, TokenizerKind::SentencePiece]
        .into_iter()
        .map(|kind| {
            let config = TokenizerConfig {
                kind,
                vocab_size: 60,
                min_frequency: 1,
                ..TokenizerConfig::default()
            };
            let tokenizer = SentenceTokenizer::train(&config, text.iter().copied()).unwrap();
            tokenizer.to_json().unwrap().into_bytes()
        })
        .collect()
}

#[test]
fn saved_models_and_tokenizers_load_unchanged() {
    setup();
    assert!(CharLm::load(&charlm_dir(), Device::Cpu).is_ok());
    assert!(Classifier::load(&classifier_dir(), Device::Cpu).is_ok());
    for bytes in tokenizer_files() {
        assert!(SentenceTokenizer::from_bytes(&bytes, "t".as_ref()).is_ok());
    }
}
