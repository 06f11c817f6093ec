//! Unit tests of the character models: vocabulary, batches, training, sampling, resume and
//! the errors a user can cause.

use std::path::Path;

use tch::Device;

use super::data::{line_batch, text_windows, IGNORE};
use super::*;
use crate::error::Error;
use crate::progress::Silent;

/// A tiny names list with structure: every name is one of a few stems plus an ending.
fn names() -> Vec<String> {
    let stems = ["ana", "bel", "cor", "dan", "eli", "fer"];
    let ends = ["a", "o", "is", "ina", "el"];
    let mut out = Vec::new();
    for s in stems {
        for e in ends {
            out.push(format!("{s}{e}"));
        }
    }
    out
}

fn small(unit: Unit) -> TrainOptions {
    TrainOptions {
        model: ModelConfig {
            unit,
            cell: Cell::Lstm,
            embed: 16,
            hidden: 48,
            layers: 1,
            dropout: 0.0,
            lowercase: false,
        },
        seq_len: 16,
        valid_file: None,
        train: crate::train::Settings {
            budget: crate::train::Budget::epochs(30),
            batch_size: 8,
            lr: 1e-2,
            lr_schedule: crate::train::LrSchedule::Constant,
            held_out: crate::train::HeldOut::Count(4),
            seed: 5,
            ..TrainOptions::for_unit(unit).train
        },
    }
}

fn weights(dir: &Path) -> Vec<u8> {
    std::fs::read(dir.join("model.safetensors")).unwrap()
}

#[test]
fn vocabulary_is_over_characters_by_count_then_character() {
    let data = Dataset::from_items(Unit::Line, vec!["bába".into(), "ab".into()]);
    let vocab = data.vocab();
    // "\n" first, then b (3), a (2), á (1): Unicode characters, not bytes.
    assert_eq!(vocab.tokens(), &["\n", "b", "a", "á"]);
    let text = Dataset::from_items(Unit::Text, vec!["ba\nab\n".into()]);
    assert_eq!(text.vocab().tokens(), &["\n", "a", "b"]);
    assert_eq!(data.targets(), 4 + 1 + 2 + 1);
}

#[test]
fn line_batches_shift_by_one_with_markers_and_padding() {
    let b = line_batch(&[&[5, 6], &[7]]);
    assert_eq!((b.rows, b.steps, b.counted), (2, 3, 5));
    assert_eq!(b.inputs, vec![0, 5, 6, 0, 7, 0]);
    assert_eq!(b.targets, vec![5, 6, 0, 7, 0, IGNORE]);
}

#[test]
fn text_windows_continue_each_stream() {
    let stream: Vec<i64> = (0..21).collect();
    // Two streams of 10 (the last character is only a target), windows of 4: 4, 4, 2.
    let w = text_windows(&stream, 2, 4);
    assert_eq!(w.len(), 3);
    assert_eq!(w[0].inputs, vec![0, 1, 2, 3, 10, 11, 12, 13]);
    assert_eq!(w[0].targets, vec![1, 2, 3, 4, 11, 12, 13, 14]);
    assert_eq!(w[1].inputs, vec![4, 5, 6, 7, 14, 15, 16, 17]);
    assert_eq!(w[2].inputs, vec![8, 9, 18, 19]);
    assert_eq!(w[2].targets, vec![9, 10, 19, 20]);
    assert!(text_windows(&[1], 2, 4).is_empty());
}

#[test]
fn split_is_seeded_and_disjoint() {
    let data = Dataset::from_items(Unit::Line, names());
    let (t1, v1) = data.split(5, 1).unwrap();
    let (_, v2) = data.split(5, 1).unwrap();
    let (_, v3) = data.split(5, 2).unwrap();
    assert_eq!(v1.items, v2.items);
    assert_ne!(v1.items, v3.items);
    assert_eq!(t1.items.len() + v1.items.len(), data.items.len());
    assert!(v1.items.iter().all(|v| !t1.items.contains(v)));
    assert!(data.split(30, 1).is_err());
    let text = Dataset::from_items(Unit::Text, vec!["abcdefghij".into()]);
    let (t, v) = text.split(3, 0).unwrap();
    assert_eq!(
        (t.items[0].1.as_str(), v.items[0].1.as_str()),
        ("abcdefg", "hij")
    );
    // The held-out text is numbered from the line it starts on.
    let lines = Dataset::from_items(Unit::Text, vec!["ab\ncd\nef\n".into()]);
    let (t, v) = lines.split(3, 0).unwrap();
    assert_eq!((t.items[0].0, v.items[0].0), (1, 3));
    assert_eq!(v.items[0].1, "ef\n");
}

#[test]
fn a_held_out_character_the_training_text_lacks_is_named_by_line() {
    let _lock = crate::device::torch_rng_lock();
    let dir = tempfile::tempdir().unwrap();
    // One line without a newline: the newline text mode adds falls in the held-out part, but
    // the vocabulary has it, so this trains.
    let one = dir.path().join("one.txt");
    std::fs::write(&one, "abcab".repeat(40)).unwrap();
    let data = Dataset::load(&one, Unit::Text).unwrap();
    let (train_part, held_out) = data.split(20, 0).unwrap();
    assert!(train_part.vocab().id("\n").is_none());
    assert!(train_part.vocab_for(&held_out).id("\n").is_some());
    // A text without any newline (built in memory) keeps its vocabulary as it was.
    let plain = Dataset::from_items(Unit::Text, vec!["abcab".repeat(40)]);
    let (p, h) = plain.split(20, 0).unwrap();
    assert_eq!(p.vocab_for(&h), p.vocab());
    let options = {
        let mut o = small(Unit::Text);
        o.train.held_out = crate::train::HeldOut::Count(20);
        o.train.budget = crate::train::Budget::epochs(1);
        o.train.batch_size = 2;
        o
    };
    train(
        &data,
        &options,
        Device::Cpu,
        &dir.path().join("m1"),
        &Silent,
    )
    .unwrap();
    // A character only on the last line is named with its file and line.
    let last = dir.path().join("last.txt");
    std::fs::write(&last, format!("{}abz\n", "abc\n".repeat(40))).unwrap();
    let data = Dataset::load(&last, Unit::Text).unwrap();
    let err = train(
        &data,
        &options,
        Device::Cpu,
        &dir.path().join("m2"),
        &Silent,
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("last.txt:41: character 'z'"), "{err}");
    assert!(err.contains("--valid-count"), "{err}");
    assert!(!dir.path().join("m2").exists());
}

#[test]
fn bad_files_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.txt");
    std::fs::write(&empty, "").unwrap();
    let blank = dir.path().join("blank.txt");
    std::fs::write(&blank, "\n  \n\n").unwrap();
    for path in [&empty, &blank] {
        let err = Dataset::load(path, Unit::Line).unwrap_err().to_string();
        assert!(err.contains("has no text"), "{err}");
        assert!(err.contains(path.to_str().unwrap()), "{err}");
    }
    let bad = dir.path().join("bad.txt");
    std::fs::write(&bad, b"anna\nb\xffb\n").unwrap();
    let err = Dataset::load(&bad, Unit::Line).unwrap_err().to_string();
    assert!(err.contains("bad.txt:2"), "{err}");
    let err = Dataset::load(&dir.path().join("missing.txt"), Unit::Line).unwrap_err();
    assert!(err.to_string().contains("missing.txt"), "{err}");
}

#[test]
fn learns_a_tiny_names_list_and_samples_reproducibly() {
    let _lock = crate::device::torch_rng_lock();
    crate::device::set_threads(1);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("m");
    let data = Dataset::from_items(Unit::Line, names());
    let report = train(&data, &small(Unit::Line), Device::Cpu, &out, &Silent).unwrap();
    let first = report.epochs[0].valid_nats;
    // ln(vocabulary of 16) = 2.77 for a uniform guess; the structure allows far less.
    assert!(first > 2.0, "first epoch {first}");
    assert!(
        report.best_valid_nats < 1.2,
        "best {}",
        report.best_valid_nats
    );

    let model = CharLm::load(&out, Device::Cpu).unwrap();
    let (nats, count) = model.evaluate(&data).unwrap();
    assert_eq!(count, data.targets());
    assert!(nats < 1.2, "{nats}");
    let options = SampleOptions {
        count: 20,
        seed: 3,
        ..SampleOptions::default()
    };
    let a = model.sample(&options).unwrap();
    let b = model.sample(&options).unwrap();
    assert_eq!(a, b);
    assert_ne!(
        a,
        model
            .sample(&SampleOptions {
                seed: 4,
                ..options.clone()
            })
            .unwrap()
    );
    // Most samples are names of the list's shape.
    let known = names();
    let hits = a.iter().filter(|s| known.contains(s)).count();
    assert!(hits >= 10, "{a:?}");
    // Top-k 1 is greedy: the same whatever the seed or temperature.
    let greedy = |seed, temperature| {
        model
            .sample(&SampleOptions {
                count: 3,
                top_k: Some(1),
                seed,
                temperature,
                prefix: "co".into(),
                ..SampleOptions::default()
            })
            .unwrap()
    };
    let g = greedy(1, 1.0);
    assert_eq!(g, greedy(9, 0.3));
    assert!(g.iter().all(|s| s.starts_with("co") && s == &g[0]), "{g:?}");
}

#[test]
fn sampling_and_eval_refuse_bad_requests() {
    let _lock = crate::device::torch_rng_lock();
    let vocab = Dataset::from_items(Unit::Line, names()).vocab();
    let model = CharLm::new(small(Unit::Line).model, vocab, Device::Cpu).unwrap();
    let bad = |o: SampleOptions| model.sample(&o).unwrap_err().to_string();
    assert!(bad(SampleOptions {
        temperature: 0.0,
        ..Default::default()
    })
    .contains("temperature"));
    assert!(bad(SampleOptions {
        temperature: -1.0,
        ..Default::default()
    })
    .contains("temperature"));
    assert!(bad(SampleOptions {
        top_k: Some(0),
        ..Default::default()
    })
    .contains("top-k"));
    let err = bad(SampleOptions {
        prefix: "aZ".into(),
        ..Default::default()
    });
    assert!(err.contains("'Z'"), "{err}");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.txt");
    std::fs::write(&path, "anna\nzoë\n").unwrap();
    let data = Dataset::load(&path, Unit::Line).unwrap();
    let err = model.evaluate(&data).unwrap_err();
    assert!(matches!(err, Error::BadLine { line: 2, .. }), "{err}");
    assert!(err.to_string().contains("'z'"), "{err}");
}

#[test]
fn resume_continues_exactly_where_training_stopped() {
    let _lock = crate::device::torch_rng_lock();
    crate::device::set_threads(1);
    let dir = tempfile::tempdir().unwrap();
    let data = Dataset::from_items(Unit::Line, names());
    let options = {
        let mut o = small(Unit::Line);
        o.train.budget = crate::train::Budget::epochs(2);
        o
    };
    let whole = dir.path().join("whole");
    let report = train(&data, &options, Device::Cpu, &whole, &Silent).unwrap();
    assert!(report.epochs.iter().all(|e| e.saved), "{report:?}");
    let half = dir.path().join("half");
    train(
        &data,
        &{
            let mut o = options.clone();
            o.train.budget = crate::train::Budget::epochs(1);
            o
        },
        Device::Cpu,
        &half,
        &Silent,
    )
    .unwrap();
    let resumed = dir.path().join("resumed");
    let report = resume(
        &half,
        &data,
        crate::train::Budget::epochs(1),
        Device::Cpu,
        &resumed,
        &Silent,
    )
    .unwrap();
    assert_eq!(report.epochs[0].epoch, 2);
    assert_eq!(report.steps, 2 * 4);
    // Same weights as two epochs straight through: the optimiser state was restored.
    assert_eq!(weights(&whole), weights(&resumed));

    // A resumed run that beats nothing (a saved best of 0) may end without saving only in its
    // own directory; into another it is an error, and that directory gets nothing.
    let meta_path = resumed.join("meta.json");
    let mut meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&meta_path).unwrap()).unwrap();
    meta["training"]["valid_nats_per_char"] = serde_json::json!(0.0);
    std::fs::write(&meta_path, meta.to_string()).unwrap();
    let before = weights(&resumed);
    let report = resume(
        &resumed,
        &data,
        crate::train::Budget::epochs(1),
        Device::Cpu,
        &resumed,
        &Silent,
    )
    .unwrap();
    assert!(!report.epochs[0].saved);
    assert_eq!(weights(&resumed), before);
    let elsewhere = dir.path().join("elsewhere");
    let err = resume(
        &resumed,
        &data,
        crate::train::Budget::epochs(1),
        Device::Cpu,
        &elsewhere,
        &Silent,
    )
    .unwrap_err();
    assert!(err.to_string().contains("nothing was saved"), "{err}");
    assert!(!elsewhere.join("meta.json").exists());

    // A model without its optimiser state cannot be resumed.
    std::fs::remove_file(half.join("optimizer.safetensors")).unwrap();
    let err = resume(
        &half,
        &data,
        crate::train::Budget::epochs(1),
        Device::Cpu,
        &resumed,
        &Silent,
    )
    .unwrap_err();
    assert!(err.to_string().contains("optimizer.safetensors"), "{err}");

    // Loading draws nothing from libtorch's generator: a seeded stream goes on unshifted.
    let draw = || tch::Tensor::rand([4], (tch::Kind::Float, Device::Cpu));
    tch::manual_seed(11);
    let expected = draw();
    tch::manual_seed(11);
    CharLm::load(&whole, Device::Cpu).unwrap();
    assert!(draw().equal(&expected), "loading drew from the generator");

    // A vocabulary entry of more than one character is a corrupt checkpoint.
    let vocab = whole.join("vocab.json");
    let text = std::fs::read_to_string(&vocab).unwrap();
    std::fs::write(&vocab, text.replacen("\"a\"", "\"ab\"", 1)).unwrap();
    let err = CharLm::load(&whole, Device::Cpu).unwrap_err().to_string();
    assert!(
        err.contains("vocab.json holds \"ab\", not one character"),
        "{err}"
    );
}

#[test]
fn text_mode_trains_and_carries_state() {
    let _lock = crate::device::torch_rng_lock();
    crate::device::set_threads(1);
    let dir = tempfile::tempdir().unwrap();
    let text = "the cat sat on the mat. ".repeat(40);
    let data = Dataset::from_items(Unit::Text, vec![text]);
    let options = {
        let mut o = small(Unit::Text);
        o.train.held_out = crate::train::HeldOut::Count(96);
        o.train.budget = crate::train::Budget::epochs(25);
        o.train.batch_size = 4;
        o
    };
    let report = train(&data, &options, Device::Cpu, &dir.path().join("t"), &Silent).unwrap();
    assert!(report.best_valid_nats < 0.5, "{report:?}");
    let model = CharLm::load(&dir.path().join("t"), Device::Cpu).unwrap();
    let s = model
        .sample(&SampleOptions {
            count: 1,
            top_k: Some(1),
            prefix: "the c".into(),
            max_len: 18,
            ..SampleOptions::default()
        })
        .unwrap();
    assert_eq!(s[0], "the cat sat on the mat.");
}

#[test]
fn every_cell_and_the_dinosaur_preset_train() {
    let _lock = crate::device::torch_rng_lock();
    crate::device::set_threads(1);
    let dir = tempfile::tempdir().unwrap();
    let data = Dataset::from_items(Unit::Line, names());
    for cell in [Cell::Rnn, Cell::Gru] {
        let mut o = small(Unit::Line);
        o.model.cell = cell;
        o.model.layers = 2;
        o.model.dropout = 0.1;
        o.train.budget = crate::train::Budget::epochs(3);
        let r = train(
            &data,
            &o,
            Device::Cpu,
            &dir.path().join(format!("{cell:?}")),
            &Silent,
        );
        let r = r.unwrap();
        assert!(
            r.epochs[2].train_nats < r.epochs[0].train_nats,
            "{cell:?}: {r:?}"
        );
    }
    let o = {
        let mut o = TrainOptions::dinosaur();
        o.train.budget = crate::train::Budget::epochs(2);
        o.train.held_out = crate::train::HeldOut::Count(3);
        o
    };
    // Capitalised names, as in the course's dinos.txt: the preset lower-cases them.
    let capitalised: Vec<String> = names()
        .iter()
        .map(|n| n[..1].to_uppercase() + &n[1..])
        .collect();
    let data = Dataset::from_items(Unit::Line, capitalised);
    let r = train(&data, &o, Device::Cpu, &dir.path().join("dino"), &Silent).unwrap();
    // SGD one name at a time: as many steps as names per epoch.
    assert_eq!(r.steps, 2 * 27);
    let model = CharLm::load(&dir.path().join("dino"), Device::Cpu).unwrap();
    assert_eq!(model.config().embed, 0);
    assert_eq!(model.config().hidden, 50);
    assert!(model
        .vocab()
        .tokens()
        .iter()
        .all(|t| t.to_lowercase() == *t));
    assert_eq!(model.evaluate(&data).unwrap().1, data.targets());
    let s = model
        .sample(&SampleOptions {
            count: 2,
            prefix: "Co".into(),
            ..SampleOptions::default()
        })
        .unwrap();
    assert!(s.iter().all(|s| s.starts_with("co")), "{s:?}");
}

#[test]
fn bad_options_are_refused() {
    let _lock = crate::device::torch_rng_lock(); // a model may be built before an option is refused
    let data = Dataset::from_items(Unit::Line, names());
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x");
    let try_with = |o: TrainOptions| train(&data, &o, Device::Cpu, &out, &Silent).unwrap_err();
    let base = small(Unit::Line);
    assert!(matches!(
        try_with({
            let mut o = base.clone();
            o.train.lr = 0.0;
            o
        }),
        Error::Config(_)
    ));
    let err = try_with({
        let mut o = base.clone();
        o.train.lr = 1e-3;
        o.train.lr_schedule = crate::train::LrSchedule::Linear(1e-2);
        o
    })
    .to_string();
    assert!(err.contains("above the learning rate"), "{err}");
    assert!(matches!(
        try_with({
            let mut o = base.clone();
            o.train.batch_size = 0;
            o
        }),
        Error::Config(_)
    ));
    assert!(matches!(
        try_with({
            let mut o = base.clone();
            o.train.clip = crate::train::Clip::Value(-1.0);
            o
        }),
        Error::Config(_)
    ));
    assert!(matches!(
        try_with({
            let mut o = base.clone();
            o.train.held_out = crate::train::HeldOut::Count(30);
            o
        }),
        Error::Config(_)
    ));
    // Sizes beyond memory, or absurdly deep, are refused before any tensor is made.
    for (hidden, layers, says) in [(100_000_000, 1, "at most 2^31"), (4, 65, "65 layers")] {
        let err = try_with(TrainOptions {
            model: ModelConfig {
                hidden,
                layers,
                ..base.model.clone()
            },
            ..base.clone()
        })
        .to_string();
        assert!(err.contains(says), "{err}");
    }
    let text = Dataset::from_items(Unit::Text, vec!["abc".into()]);
    assert!(train(&text, &base, Device::Cpu, &out, &Silent).is_err());
    assert!(!out.exists());
}

#[test]
fn without_held_out_data_every_epoch_is_saved_and_the_last_kept() {
    let _lock = crate::device::torch_rng_lock();
    crate::device::set_threads(1);
    let data = Dataset::from_items(Unit::Line, names());
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("lm");
    let options = {
        let mut o = small(Unit::Line);
        o.train.held_out = crate::train::HeldOut::Count(0);
        o.train.budget = crate::train::Budget::epochs(3);
        o
    };
    let report = train(&data, &options, Device::Cpu, &out, &Silent).unwrap();
    assert_eq!(report.valid_items, 0);
    assert!(report
        .epochs
        .iter()
        .all(|e| e.saved && e.valid_nats.is_nan()));
    let meta = CharLm::meta(&out).unwrap();
    assert_eq!(meta.training["epoch"], 3);
}

#[test]
fn an_empty_text_is_an_error_and_several_items_make_one_text() {
    let dir = tempfile::tempdir().unwrap();
    let empty = Dataset::from_items(Unit::Text, Vec::new());
    let options = small(Unit::Text);
    assert!(train(
        &empty,
        &options,
        Device::Cpu,
        &dir.path().join("m"),
        &Silent
    )
    .is_err());
    assert!(!dir.path().join("m").exists());
    let two = Dataset::from_items(Unit::Text, vec!["ab".into(), "cd".into()]);
    assert_eq!(two.items, vec![(1, "ab\ncd".to_owned())]);
}

#[test]
fn a_time_budget_with_unbounded_epochs_does_not_overflow() {
    let _lock = crate::device::torch_rng_lock();
    let dir = tempfile::tempdir().unwrap();
    let data = Dataset::from_items(Unit::Line, names());
    let options = {
        let mut o = small(Unit::Line);
        o.train.budget = crate::train::Budget {
            epochs: None,
            time_budget: Some(std::time::Duration::from_millis(1)),
        };
        o
    };
    let report = train(&data, &options, Device::Cpu, &dir.path().join("m"), &Silent).unwrap();
    assert!(!report.epochs.is_empty());
}
