//! Unit tests of the sentence classifiers: tokenizing, the models, training with and without
//! pretrained vectors, resume, evaluation, cross-validation and the errors a user can cause.

use std::path::{Path, PathBuf};

use tch::{Device, Tensor};

use super::train as classify_train;
use super::*;
use crate::embeddings::Embeddings;
use crate::error::Error;
use crate::progress::Silent;
use crate::vocab::Vocab;

mod pretrained;
use pretrained::vectors;

fn example(text: &str, label: &str, line: usize) -> Example {
    Example {
        text: text.to_owned(),
        label: label.to_owned(),
        line,
    }
}

/// Four classes that a word decides: the class word sits among shared filler words.
fn separable() -> Dataset {
    let cues = [
        ("sunny", "0"),
        ("rainy", "1"),
        ("snowy", "2"),
        ("windy", "3"),
    ];
    let fillers = [
        "today",
        "the day is",
        "it was very",
        "tomorrow",
        "so",
        "a",
        "here",
        "again",
    ];
    let mut examples = Vec::new();
    for (i, filler) in fillers.iter().enumerate() {
        for (cue, label) in cues {
            let text = if i % 2 == 0 {
                format!("{filler} {cue}")
            } else {
                format!("{cue} {filler} !")
            };
            examples.push(example(&text, label, examples.len() + 1));
        }
    }
    Dataset {
        path: PathBuf::from("separable.csv"),
        examples,
    }
}

fn config(architecture: Architecture) -> ClassifierConfig {
    ClassifierConfig {
        architecture,
        embed_dim: 8,
        hidden: 12,
        layers: 2,
        bidirectional: true,
        dropout: 0.0,
        train_embeddings: true,
        labels: Vec::new(),
        ..ClassifierConfig::default()
    }
}

fn options(epochs: usize) -> TrainOptions {
    let mut o = TrainOptions::default();
    o.train.budget = crate::train::Budget::epochs(epochs);
    o.train.batch_size = 4;
    o.train.lr = 0.02;
    o.train.patience = 0;
    o.train.held_out = crate::train::HeldOut::Fraction(0.0);
    o.train.seed = 7;
    o
}

/// `options(epochs)` with the settings changed by `f`.
fn options_with(epochs: usize, f: impl FnOnce(&mut crate::train::Settings)) -> TrainOptions {
    let mut o = options(epochs);
    f(&mut o.train);
    o
}

fn untrained(architecture: Architecture) -> Classifier {
    untrained_pooled(architecture, Pooling::Last)
}

fn untrained_pooled(architecture: Architecture, pooling: Pooling) -> Classifier {
    let mut config = config(architecture);
    config.pooling = pooling;
    untrained_from(config)
}

/// A seeded, untrained classifier of `config` over a six-word vocabulary and three classes.
fn untrained_from(mut config: ClassifierConfig) -> Classifier {
    config.labels = vec!["a".into(), "b".into(), "c".into()];
    let vocab = Vocab::try_from(
        ["<pad>", "<unk>", "w1", "w2", "w3", "w4"]
            .map(String::from)
            .to_vec(),
    )
    .unwrap();
    // Seeding and drawing hold the lock, so that another test's draws cannot fall in between.
    let _lock = crate::device::torch_rng_lock();
    tch::manual_seed(3);
    Classifier::new(config, vocab, EmbeddingInit::Random, Device::Cpu).unwrap()
}

/// Trains on `data` (no dev file) on the CPU, silently.
fn fit(
    config: ClassifierConfig,
    data: &Dataset,
    vectors: Option<&Embeddings>,
    options: &TrainOptions,
) -> crate::error::Result<(Classifier, TrainReport)> {
    // Training draws from torch's global generator: no other test may seed or draw from it
    // meanwhile, or "same seed, same model" fails. One libtorch thread, because another test
    // may change the thread count between two runs, and sums then round differently.
    let _lock = crate::device::torch_rng_lock();
    crate::device::set_threads(1);
    let data = super::TrainData {
        train: data,
        valid: None,
        pretrained: vectors,
    };
    classify_train(config, &data, options, Device::Cpu, None, &Silent)
}

/// The largest absolute difference between `a` and `b`.
fn max_abs_diff(a: &Tensor, b: &Tensor) -> f64 {
    f64::try_from((a - b).abs().max()).unwrap()
}

fn logits(model: &Classifier, sentences: &[&[i64]]) -> Tensor {
    tch::no_grad(|| {
        model
            .forward_t(&Batch::new(sentences, Device::Cpu), false)
            .unwrap()
    })
}

#[test]
fn padding_gives_the_logits_of_each_sentence_alone() {
    let sentences: [&[i64]; 4] = [&[2, 3], &[4, 5, 2, 3, 1], &[5], &[3, 1, 4]];
    let models = [
        (Architecture::Lstm, Pooling::Last),
        (Architecture::Lstm, Pooling::Max),
        (Architecture::Lstm, Pooling::Mean),
        (Architecture::Average, Pooling::Last),
    ];
    for (architecture, pooling) in models {
        let model = untrained_pooled(architecture, pooling);
        let batch = logits(&model, &sentences);
        for (i, s) in sentences.iter().enumerate() {
            let alone = logits(&model, &[s]);
            let diff = max_abs_diff(&batch.get(i as i64), &alone.get(0));
            assert!(
                diff < 1e-5,
                "{architecture:?} {pooling:?} sentence {i}: {diff}"
            );
        }
    }
}

#[test]
fn pooling_changes_the_features_and_learns() {
    // The same weights (same seed) pooled three ways give three different results for a
    // sentence of several words, and each pooling learns the separable set.
    let long: &[i64] = &[2, 3, 4, 5];
    let last = logits(
        &untrained_pooled(Architecture::Lstm, Pooling::Last),
        &[long],
    );
    let max = logits(&untrained_pooled(Architecture::Lstm, Pooling::Max), &[long]);
    let mean = logits(
        &untrained_pooled(Architecture::Lstm, Pooling::Mean),
        &[long],
    );
    let differ = |a: &Tensor, b: &Tensor| max_abs_diff(a, b) > 1e-4;
    assert!(differ(&last, &max) && differ(&last, &mean) && differ(&max, &mean));
    let data = separable();
    for pooling in [Pooling::Max, Pooling::Mean] {
        let mut cfg = config(Architecture::Lstm);
        cfg.pooling = pooling;
        let (model, _) = fit(cfg, &data, None, &options(40)).unwrap();
        assert_eq!(
            evaluate(&model, &data).unwrap().accuracy,
            1.0,
            "{pooling:?}"
        );
    }
}

#[test]
fn embedding_dropout_acts_in_training_only_and_learns() {
    // Same weights with and without embedding dropout: evaluation gives the same logits,
    // training-mode runs differ (the LSTM's own dropout is 0 here), and the model still learns.
    let sentences: [&[i64]; 2] = [&[2, 3, 4, 5], &[5, 4]];
    let plain = untrained(Architecture::Lstm);
    let mut cfg = config(Architecture::Lstm);
    cfg.embed_dropout = 0.5;
    let dropped = untrained_from(cfg);
    assert!(max_abs_diff(&logits(&plain, &sentences), &logits(&dropped, &sentences)) < 1e-7);
    let train_mode = |m: &Classifier| {
        tch::no_grad(|| {
            m.forward_t(&Batch::new(&sentences, Device::Cpu), true)
                .unwrap()
        })
    };
    {
        // The dropout masks come from torch's global generator.
        let _lock = crate::device::torch_rng_lock();
        assert!(max_abs_diff(&train_mode(&plain), &train_mode(&plain)) < 1e-7);
        assert!(max_abs_diff(&train_mode(&plain), &train_mode(&dropped)) > 1e-4);
    }
    let data = separable();
    for architecture in [Architecture::Lstm, Architecture::Average] {
        let mut cfg = config(architecture);
        cfg.embed_dropout = 0.2;
        let (model, _) = fit(cfg, &data, None, &options(40)).unwrap();
        assert_eq!(
            evaluate(&model, &data).unwrap().accuracy,
            1.0,
            "{architecture:?}"
        );
    }
}

#[test]
fn the_average_ignores_unknown_words() {
    let model = untrained(Architecture::Average);
    let with_unk = logits(&model, &[&[2, 1, 3, 1]]);
    let without = logits(&model, &[&[2, 3]]);
    assert!(max_abs_diff(&with_unk, &without) < 1e-6);
}

#[test]
fn parameter_names_read_like_pytorch() {
    let model = untrained(Architecture::Lstm);
    let mut names: Vec<String> = model.var_store().variables().into_keys().collect();
    names.sort();
    for name in [
        "embed.weight",
        "head.bias",
        "head.weight",
        "lstm.weight_hh_l1_reverse",
        "lstm.weight_ih_l0",
        "lstm.bias_ih_l1",
    ] {
        assert!(names.contains(&name.to_owned()), "{name} not in {names:?}");
    }
    let head = model.var_store().variables()["head.weight"].size();
    assert_eq!(head, [3, 24]); // two directions of 12 units
}

#[test]
fn a_seeded_run_learns_a_separable_set_and_repeats_exactly() {
    let data = separable();
    for architecture in [Architecture::Lstm, Architecture::Average] {
        let train = || fit(config(architecture), &data, None, &options(40)).unwrap();
        let (model, report) = train();
        let eval = evaluate(&model, &data).unwrap();
        assert_eq!(eval.accuracy, 1.0, "{architecture:?}: {report:?}");
        let (again, _) = train();
        let texts = ["sunny today", "it was very windy", "snowy"];
        assert_eq!(
            model.probabilities(&texts, 8).unwrap(),
            again.probabilities(&texts, 8).unwrap(),
            "{architecture:?}: same seed, same model"
        );
        assert_eq!(report.epochs.len(), 40);
        assert_eq!(report.best_epoch, 40);
    }
}

#[test]
fn dev_split_early_stopping_and_best_epoch() {
    let mut data = separable();
    // Twice the data, so that a 25% dev set still covers every class.
    let more: Vec<Example> = data.examples.clone();
    data.examples.extend(more);
    let opts = options_with(60, |s| {
        s.held_out = crate::train::HeldOut::Fraction(0.25);
        s.patience = 3;
    });
    let (_, report) = fit(config(Architecture::Lstm), &data, None, &opts).unwrap();
    assert_eq!(report.valid_size, 16);
    assert_eq!(report.train_size, 48);
    // The dev sentences also appear in training (the data is doubled), so they are learnt.
    assert!(report.best_valid_accuracy.unwrap() >= 0.75, "{report:?}");
    // It stops `patience` epochs after the best one (or runs out of epochs).
    let last = report.epochs.last().unwrap().epoch;
    assert!(last == 60 || last == report.best_epoch + 3, "{report:?}");
    assert!(report.epochs[report.best_epoch - 1].best);
}

#[test]
fn checkpoint_round_trip() {
    let _lock = crate::device::torch_rng_lock(); // it seeds and draws below
    let dir = tempfile::tempdir().unwrap();
    let data = separable();
    let mut cfg = config(Architecture::Lstm);
    cfg.display = ["☀", "☔", "❄", "🌬"].map(String::from).to_vec();
    let (model, report) = fit(cfg, &data, None, &options(5)).unwrap();
    let out = dir.path().join("model");
    let meta =
        crate::checkpoint::Meta::new(super::KIND, 1, 7).with_figure("epochs", report.epochs.len());
    model.save(&out, &meta).unwrap();
    // Loading draws nothing from libtorch's generator: a seeded stream goes on unshifted.
    let draw = || Tensor::rand([4], (tch::Kind::Float, Device::Cpu));
    tch::manual_seed(11);
    let expected = draw();
    tch::manual_seed(11);
    let loaded = Classifier::load(&out, Device::Cpu).unwrap();
    assert!(draw().equal(&expected), "loading drew from the generator");
    assert_eq!(loaded.config(), model.config());
    assert_eq!(loaded.vocab(), model.vocab());
    assert_eq!(loaded.config().display_name(3), "🌬");
    let texts = ["sunny today", "rainy so !", "never seen words"];
    assert_eq!(
        loaded.probabilities(&texts, 2).unwrap(),
        model.probabilities(&texts, 2).unwrap()
    );
    // Another kind of model directory is refused with its name.
    std::fs::write(
        out.join("meta.json"),
        std::fs::read_to_string(out.join("meta.json"))
            .unwrap()
            .replace("\"classifier\"", "\"charlm\""),
    )
    .unwrap();
    let err = Classifier::load(&out, Device::Cpu).unwrap_err().to_string();
    assert!(err.contains("charlm"), "{err}");
}

#[test]
fn resume_continues_exactly_where_training_stopped() {
    // One thread and the generator to itself: two runs that do the same arithmetic give the
    // same bytes only if nothing else reseeds or draws in between.
    let _lock = crate::device::torch_rng_lock();
    crate::device::set_threads(1);
    let dir = tempfile::tempdir().unwrap();
    let data = separable();
    let data = super::TrainData::new(&data);
    // No dev split and no patience: every epoch is saved, so each directory holds its last.
    let into = |epochs: usize, out: &Path| {
        classify_train(
            config(Architecture::Lstm),
            &data,
            &options(epochs),
            Device::Cpu,
            Some(out),
            &Silent,
        )
        .unwrap()
    };
    let weights = |dir: &Path| std::fs::read(dir.join("model.safetensors")).unwrap();
    let whole = dir.path().join("whole");
    let (_, report) = into(2, &whole);
    assert_eq!(report.best_epoch, 2, "{report:?}");
    let half = dir.path().join("half");
    into(1, &half);
    assert!(half.join("optimizer.safetensors").is_file());
    let resumed = dir.path().join("resumed");
    let budget = crate::train::Budget::epochs(1);
    let (_, report) = super::resume(&half, &data, budget, Device::Cpu, &resumed, &Silent).unwrap();
    assert_eq!(report.epochs.len(), 1, "{report:?}");
    assert_eq!(report.epochs[0].epoch, 2, "{report:?}");
    assert_eq!(report.best_epoch, 2, "{report:?}");
    // Same weights as two epochs straight through: the optimiser state, the batch order and
    // the generator all went on where they stopped.
    assert!(
        weights(&whole) == weights(&resumed),
        "two epochs straight and one plus one resumed trained different weights"
    );
}

#[test]
fn resuming_without_the_optimiser_state_is_an_error() {
    let _lock = crate::device::torch_rng_lock(); // training seeds and draws
    let dir = tempfile::tempdir().unwrap();
    let data = separable();
    let data = super::TrainData::new(&data);
    let model = dir.path().join("model");
    classify_train(
        config(Architecture::Average),
        &data,
        &options(1),
        Device::Cpu,
        Some(&model),
        &Silent,
    )
    .unwrap();
    let budget = crate::train::Budget::epochs(1);
    let elsewhere = dir.path().join("elsewhere");
    // With it, the model resumes.
    super::resume(&model, &data, budget, Device::Cpu, &elsewhere, &Silent).unwrap();
    // Without it (Adam would restart from zero moments, a different run): an error naming the
    // file, and nothing written.
    std::fs::remove_file(model.join("optimizer.safetensors")).unwrap();
    let other = dir.path().join("other");
    let err = super::resume(&model, &data, budget, Device::Cpu, &other, &Silent)
        .unwrap_err()
        .to_string();
    assert!(err.contains("optimizer.safetensors"), "{err}");
    assert!(!other.exists());
}

#[test]
fn bad_inputs_are_clear_errors() {
    let data = separable();
    // Vectors of another dimension than the model's.
    let mut cfg = config(Architecture::Lstm);
    cfg.train_embeddings = false;
    let err = fit(cfg, &data, Some(&vectors(5)), &options(1))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("5 dimensions") && err.contains("expects 8"),
        "{err}"
    );
    // One class only.
    let one = Dataset {
        path: PathBuf::from("one.csv"),
        examples: vec![example("a b", "x", 1), example("c", "x", 2)],
    };
    let err = fit(config(Architecture::Average), &one, None, &options(1))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("one.csv") && err.contains("at least two"),
        "{err}"
    );
    // Two classes in the file, but the dev split leaves one for training.
    let two = Dataset {
        path: PathBuf::from("two.csv"),
        examples: vec![example("a b", "x", 1), example("c", "y", 2)],
    };
    let split_half = options_with(1, |s| s.held_out = crate::train::HeldOut::Fraction(0.5));
    let err = fit(config(Architecture::Average), &two, None, &split_half)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("two.csv") && err.contains("after the dev split"),
        "{err}"
    );
    // A label at test time that training never had.
    let (model, _) = fit(config(Architecture::Average), &data, None, &options(1)).unwrap();
    let test = Dataset {
        path: PathBuf::from("test.csv"),
        examples: vec![example("sunny", "0", 1), example("foggy", "9", 2)],
    };
    let err = evaluate(&model, &test).unwrap_err();
    assert!(matches!(err, Error::BadLine { line: 2, .. }), "{err}");
    assert!(err.to_string().contains("\"9\""), "{err}");
    // Too few sentences for a dev split; bad option ranges.
    let single = Dataset {
        path: PathBuf::from("single.csv"),
        examples: vec![example("a", "x", 1)],
    };
    let err = split(&single, 0.1, 1).map(|_| ()).unwrap_err().to_string();
    assert!(err.contains("single.csv"), "{err}");
    let (t, v) = split(&one, 0.5, 1).unwrap();
    assert_eq!((t.examples.len(), v.examples.len()), (1, 1));
    let bad = options_with(1, |s| s.batch_size = 0);
    assert!(fit(config(Architecture::Lstm), &data, None, &bad).is_err());
    let mut cfg = config(Architecture::Average);
    cfg.pooling = Pooling::Max;
    let err = fit(cfg, &data, None, &options(1)).unwrap_err().to_string();
    assert!(err.contains("pooling is for the LSTM"), "{err}");
    let mut cfg = config(Architecture::Lstm);
    cfg.embed_dropout = 1.0;
    let err = fit(cfg, &data, None, &options(1)).unwrap_err().to_string();
    assert!(
        err.contains("embedding dropout 1 is not in [0, 1)"),
        "{err}"
    );
    // Sizes beyond memory, or absurdly deep, are refused before any tensor is made.
    let mut cfg = config(Architecture::Lstm);
    cfg.hidden = 100_000_000;
    let err = fit(cfg, &data, None, &options(1)).unwrap_err().to_string();
    assert!(err.contains("at most 2^31"), "{err}");
    let mut cfg = config(Architecture::Average);
    cfg.embed_dim = 1_000_000_000;
    let err = fit(cfg, &data, None, &options(1)).unwrap_err().to_string();
    assert!(err.contains("at most 2^31"), "{err}");
    let mut cfg = config(Architecture::Lstm);
    cfg.layers = 65;
    let err = fit(cfg, &data, None, &options(1)).unwrap_err().to_string();
    assert!(err.contains("65 layers"), "{err}");
    let mut cfg = config(Architecture::Lstm);
    cfg.display = ["a", "b", "a", "c"].map(String::from).to_vec();
    let err = fit(cfg, &data, None, &options(1)).unwrap_err().to_string();
    assert!(
        err.contains("label name \"a\" is empty or given twice"),
        "{err}"
    );
    let mut cfg = config(Architecture::Lstm);
    cfg.display = vec!["only one".into()];
    let err = fit(cfg, &data, None, &options(1)).unwrap_err().to_string();
    assert!(err.contains("1 label names for 4 classes"), "{err}");
}

#[test]
fn cross_validation_scores_every_fold() {
    let _lock = crate::device::torch_rng_lock(); // each fold's model draws its weights
    crate::device::set_threads(1);
    let data = separable();
    let cv = cross_validate(
        &config(Architecture::Average),
        &data,
        4,
        None,
        &options(60),
        Device::Cpu,
        &Silent,
    )
    .unwrap();
    assert_eq!(cv.accuracies.len(), 4);
    assert!(cv.accuracies.iter().all(|a| (0.0..=1.0).contains(a)));
    let mean = cv.accuracies.iter().sum::<f64>() / 4.0;
    assert!((cv.mean - mean).abs() < 1e-12);
    // The cue words are in every fold's training part, so most held-out sentences are easy.
    assert!(cv.mean >= 0.75, "{cv:?}"); // chance is 0.25
    assert!(cross_validate(
        &config(Architecture::Average),
        &data,
        1,
        None,
        &options(1),
        Device::Cpu,
        &Silent
    )
    .is_err());
}

#[test]
fn the_shipped_emoji_corpus_reads() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpora/emoji");
    let train = read_table(&root.join("train.csv"), &TableOptions::default()).unwrap();
    let labels = Labels::of(&train, &root.join("train.csv")).unwrap();
    assert_eq!(labels.names(), ["0", "1", "2", "3", "4"]);
    assert_eq!(train.len(), 200);
}

#[test]
fn training_evaluation_and_cross_validation_name_the_sentences_cut() {
    let mut data = separable();
    let long = format!("sunny {}", "today ".repeat(MAX_WORDS));
    data.examples.push(example(&long, "0", 33));
    data.examples
        .push(example(&"rainy ".repeat(MAX_WORDS), "1", 34));
    let cut = |lines: &[usize]| -> Vec<LongSentence> {
        let path = PathBuf::from("separable.csv");
        lines
            .iter()
            .map(|&line| LongSentence {
                path: path.clone(),
                line,
            })
            .collect()
    };
    // Line 34 is exactly MAX_WORDS words: read whole. Line 33 is one word longer.
    let (model, report) = fit(config(Architecture::Average), &data, None, &options(2)).unwrap();
    assert_eq!(report.long_sentences, cut(&[33]));
    assert_eq!(evaluate(&model, &data).unwrap().long_sentences, cut(&[33]));
    // A dev share of the same file: its lines come in order with the training ones.
    data.examples.push(example(&long, "2", 35));
    let split = options_with(2, |s| s.held_out = crate::train::HeldOut::Fraction(0.5));
    let (_, report) = fit(config(Architecture::Average), &data, None, &split).unwrap();
    assert_eq!(report.long_sentences, cut(&[33, 35]));
    let _lock = crate::device::torch_rng_lock();
    crate::device::set_threads(1);
    let cv = cross_validate(
        &config(Architecture::Average),
        &data,
        3,
        None,
        &options(2),
        Device::Cpu,
        &Silent,
    )
    .unwrap();
    assert_eq!(cv.long_sentences, cut(&[33, 35]));
}
