//! Tests of the checkpoint directory: save/load round trips, atomic replacement, and malformed
//! or mismatched files named in the errors.

use super::*;
use tch::nn;
use tch::Device;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct TinyConfig {
    pub(super) input: i64,
    pub(super) hidden: i64,
}

pub(super) fn build(config: &TinyConfig) -> VarStore {
    let _lock = crate::device::torch_rng_lock(); // the layers draw their initial weights
    let vs = VarStore::new(Device::Cpu);
    let root = vs.root();
    let _lstm = nn::lstm(
        &root / "encoder",
        config.input,
        config.hidden,
        Default::default(),
    );
    let _out = nn::linear(&root / "out", config.hidden, 3, Default::default());
    vs
}

pub(super) fn vocab() -> Vec<String> {
    vec!["<pad>".into(), "a".into(), "é".into()]
}

pub(super) fn saved(dir: &Path, config: &TinyConfig) -> VarStore {
    let vs = build(config);
    let meta = Meta::new("tiny", 1, 42).with_figure("loss", 0.5);
    save(dir, &meta, config, &vocab(), &vs).unwrap();
    vs
}

pub(super) const CFG: TinyConfig = TinyConfig {
    input: 4,
    hidden: 5,
};

#[test]
fn round_trip_is_bit_identical() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("model");
    let original = saved(&dir, &CFG);
    for file in [CONFIG_FILE, VOCAB_FILE, WEIGHTS_FILE, META_FILE] {
        assert!(dir.join(file).is_file(), "{file} missing");
    }
    let loaded: Loaded<TinyConfig, Vec<String>> = load(&dir, "tiny", 1).unwrap();
    assert_eq!(loaded.config, CFG);
    assert_eq!(loaded.vocab, vocab());
    assert_eq!(loaded.meta.seed, 42);
    assert_eq!(loaded.meta.crate_version, env!("CARGO_PKG_VERSION"));
    assert_eq!(loaded.meta.training["loss"], 0.5);
    let mut fresh = build(&loaded.config);
    load_weights(&dir, &mut fresh).unwrap();
    let (a, b) = (original.variables(), fresh.variables());
    assert_eq!(a.len(), 6);
    for (name, t) in &a {
        assert!(t.equal(&b[name]), "{name} differs after the round trip");
    }
    assert!(a.contains_key("encoder.weight_ih_l0"), "{:?}", a.keys());
}

#[test]
fn saving_again_replaces_and_leaves_no_temporaries() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("model");
    saved(&dir, &CFG);
    let second = saved(&dir, &CFG);
    let mut fresh = build(&CFG);
    load_weights(&dir, &mut fresh).unwrap();
    let w = "out.weight";
    assert!(second.variables()[w].equal(&fresh.variables()[w]));
    let names: Vec<_> = fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names, vec!["model".to_owned()]);
}

#[test]
fn refuses_to_replace_a_directory_that_is_not_a_model() {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join("precious.txt"), "keep me").unwrap();
    let err = save(
        tmp.path(),
        &Meta::new("tiny", 1, 0),
        &CFG,
        &vocab(),
        &build(&CFG),
    )
    .unwrap_err();
    assert!(err.to_string().contains("refusing to replace"), "{err}");
    assert!(tmp.path().join("precious.txt").is_file());
}

#[test]
fn wrong_kind_or_version_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("model");
    saved(&dir, &CFG);
    let err = load::<TinyConfig, Vec<String>>(&dir, "charlm", 1).unwrap_err();
    assert!(
        err.to_string()
            .contains("holds a `tiny` model, expected a `charlm` model"),
        "{err}"
    );
    let err = load::<TinyConfig, Vec<String>>(&dir, "tiny", 2).unwrap_err();
    assert!(err.to_string().contains("format version 1"), "{err}");
    assert!(err.to_string().contains("reads version 2"), "{err}");
}

#[test]
fn missing_directory_or_files_are_named() {
    let tmp = tempfile::tempdir().unwrap();
    let err = load::<TinyConfig, Vec<String>>(&tmp.path().join("nope"), "tiny", 1).unwrap_err();
    assert!(err.to_string().contains("no such model directory"), "{err}");
    let dir = tmp.path().join("model");
    saved(&dir, &CFG);
    fs::remove_file(dir.join(VOCAB_FILE)).unwrap();
    let err = load::<TinyConfig, Vec<String>>(&dir, "tiny", 1).unwrap_err();
    assert!(err.to_string().contains("vocab.json is missing"), "{err}");
    fs::remove_file(dir.join(WEIGHTS_FILE)).unwrap();
    let err = load_weights(&dir, &mut build(&CFG)).unwrap_err();
    assert!(
        err.to_string().contains("model.safetensors is missing"),
        "{err}"
    );
}

#[test]
fn malformed_json_names_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("model");
    saved(&dir, &CFG);
    fs::write(dir.join(CONFIG_FILE), "{\"input\": 4,").unwrap();
    let err = load::<TinyConfig, Vec<String>>(&dir, "tiny", 1).unwrap_err();
    assert!(matches!(err, Error::Json { ref path, .. } if path.ends_with(CONFIG_FILE)));
}

#[test]
fn mismatched_shapes_name_the_tensor() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("model");
    saved(&dir, &CFG);
    let bigger = TinyConfig {
        input: 4,
        hidden: 6,
    };
    let err = load_weights(&dir, &mut build(&bigger)).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("tensor `encoder."), "{msg}");
    assert!(msg.contains("expects"), "{msg}");
}

#[test]
fn missing_and_extra_tensors_are_named() {
    let _lock = crate::device::torch_rng_lock(); // the layers draw their initial weights
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("model");
    saved(&dir, &CFG);
    let mut more = build(&CFG);
    let _extra = more.root().zeros("extra", &[2]);
    let err = load_weights(&dir, &mut more).unwrap_err();
    assert!(
        err.to_string().contains("tensor `extra` is missing"),
        "{err}"
    );

    let mut fewer = VarStore::new(Device::Cpu);
    let _out = nn::linear(fewer.root() / "out", CFG.hidden, 3, Default::default());
    let err = load_weights(&dir, &mut fewer).unwrap_err();
    assert!(
        err.to_string().contains("is not a parameter of this model"),
        "{err}"
    );
}

#[test]
fn truncated_or_garbage_weights_are_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("model");
    saved(&dir, &CFG);
    let path = dir.join(WEIGHTS_FILE);
    let bytes = fs::read(&path).unwrap();
    for cut in [0, 7, 40, bytes.len() / 2, bytes.len() - 1] {
        fs::write(&path, &bytes[..cut]).unwrap();
        let err = load_weights(&dir, &mut build(&CFG)).unwrap_err();
        assert!(
            err.to_string().contains("truncated or corrupt"),
            "cut {cut}: {err}"
        );
    }
    fs::write(&path, b"not a safetensors file at all").unwrap();
    assert!(load_weights(&dir, &mut build(&CFG)).is_err());
}

#[test]
fn nan_or_infinite_weights_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("model");
    for bad in [f64::NAN, f64::INFINITY] {
        let vs = build(&CFG);
        tch::no_grad(|| {
            let _ = vs.variables()["out.bias"].shallow_clone().fill_(bad);
        });
        save(&dir, &Meta::new("tiny", 1, 42), &CFG, &vocab(), &vs).unwrap();
        let err = load_weights(&dir, &mut build(&CFG))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("model.safetensors") && err.contains("`out.bias` holds NaN"),
            "{err}"
        );
    }
}

#[test]
fn embedded_files_load_like_a_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("model");
    let original = saved(&dir, &CFG);
    let leak = |f: &str| -> &'static [u8] { fs::read(dir.join(f)).unwrap().leak() };
    let embedded = Embedded {
        name: "<test model>",
        config: leak(CONFIG_FILE),
        vocab: leak(VOCAB_FILE),
        weights: leak(WEIGHTS_FILE),
        meta: leak(META_FILE),
    };
    let loaded: Loaded<TinyConfig, Vec<String>> = embedded.load("tiny", 1).unwrap();
    assert_eq!(loaded.config, CFG);
    let mut fresh = build(&CFG);
    embedded.load_weights(&mut fresh).unwrap();
    assert!(original.variables()["out.bias"].equal(&fresh.variables()["out.bias"]));
    let err = embedded
        .load::<TinyConfig, Vec<String>>("seq2seq", 1)
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("checkpoint <test model>: holds a `tiny` model"),
        "{err}"
    );
}

#[test]
fn dtype_mismatch_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("model");
    saved(&dir, &CFG);
    let mut double = build(&CFG);
    double.double();
    let err = load_weights(&dir, &mut double).unwrap_err();
    assert!(
        err.to_string().contains(&format!("{:?}", Kind::Double)),
        "{err}"
    );
}
