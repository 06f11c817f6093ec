//! Sentence translation end to end on a tiny synthetic language pair: the target is the
//! source reversed, word by word translated (`s3 s1 s4` → `t4 t1 t3`).

use rand::Rng as _;

use std::path::Path;

use tch::Device;

use super::tokenizer::{TokenizerConfig, TokenizerKind};
use super::*;
use crate::progress::Silent;
use crate::seq2seq::{DecodeOptions, Seq2SeqConfig, Translator};

/// `n` seeded pairs of 2 to 6 words over a 12-word vocabulary.
fn reversal_pairs(n: usize, seed: u64) -> Vec<Pair> {
    let mut rng = crate::device::rng_from_seed(seed);
    (0..n)
        .map(|line| {
            let len = rng.random_range(2..=6);
            let words: Vec<usize> = (0..len).map(|_| rng.random_range(0..12)).collect();
            let src: Vec<String> = words.iter().map(|w| format!("s{w}")).collect();
            let tgt: Vec<String> = words.iter().rev().map(|w| format!("t{w}")).collect();
            Pair {
                src: src.join(" "),
                tgt: tgt.join(" "),
                line: line + 1,
            }
        })
        .collect()
}

fn setup(kind: TokenizerKind) -> SentenceSetup {
    let tokenizer = TokenizerConfig {
        kind,
        vocab_size: 40,
        min_frequency: 1,
        lowercase: true,
        ..TokenizerConfig::default()
    };
    SentenceSetup {
        model: Seq2SeqConfig {
            src_vocab: 0,
            tgt_vocab: 0,
            src_embed: Some(16),
            tgt_embed: Some(16),
            enc_hidden: 32,
            enc_layers: 1,
            dec_hidden: 64,
            attn_hidden: 32,
            output_uses_context: true,
            dropout: 0.0,
            max_src_len: 8,
            max_tgt_len: 9,
        },
        src_tokenizer: tokenizer.clone(),
        tgt_tokenizer: tokenizer,
    }
}

fn config(epochs: usize) -> SentenceTrainConfig {
    let defaults = SentenceTrainConfig::default();
    SentenceTrainConfig {
        train: crate::train::Settings {
            budget: crate::train::Budget::epochs(epochs),
            batch_size: 32,
            lr: 1e-2,
            patience: 10,
            seed: 7,
            ..defaults.train
        },
        label_smoothing: 0.0,
        bleu_sentences: 0,
        ..defaults
    }
}

/// Share of `pairs` whose greedy translation is exactly right.
fn exact(translator: &Translator, pairs: &[Pair], options: &DecodeOptions) -> f64 {
    let inputs: Vec<&str> = pairs.iter().map(|p| p.src.as_str()).collect();
    let outputs = translator.translate(&inputs, options).unwrap();
    let right = outputs
        .iter()
        .zip(pairs)
        .filter(|(o, p)| o.as_ref().unwrap()[0].text == p.tgt)
        .count();
    right as f64 / pairs.len() as f64
}

#[test]
fn learns_to_reverse_and_translate_and_decodes_independently_of_batches() {
    let _lock = crate::device::torch_rng_lock();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("rev");
    let train = reversal_pairs(1200, 1);
    let dev = reversal_pairs(100, 2);
    let report = super::train(
        &train,
        Some(&dev),
        &setup(TokenizerKind::Word),
        &config(12),
        Device::Cpu,
        &out,
        &Silent,
    )
    .unwrap();
    assert_eq!(report.vocab_sizes, (16, 16));
    assert_eq!(report.too_long, 0);
    let last = report.epochs.last().unwrap();
    assert!(report.epochs[0].dev_loss > last.dev_loss);
    for file in [
        crate::seq2seq::SRC_TOKENIZER_FILE,
        crate::seq2seq::TGT_TOKENIZER_FILE,
        crate::train::OPTIMIZER_FILE,
    ] {
        assert!(out.join(file).is_file(), "{file}");
    }
    let translator = Translator::load(&out, Device::Cpu).unwrap();
    let test = reversal_pairs(200, 3);
    let greedy = DecodeOptions::default();
    let accuracy = exact(&translator, &test, &greedy);
    assert!(accuracy >= 0.9, "held-out exact match {accuracy}");
    let best = report.epochs.iter().rev().find(|e| e.saved).unwrap();
    assert!(best.dev_bleu > 80.0, "{best:?}");

    // The output for an input does not depend on the batch it is decoded in.
    let inputs: Vec<&str> = test[..20].iter().map(|p| p.src.as_str()).collect();
    for width in [1, 3] {
        let alone: Vec<_> = inputs
            .iter()
            .map(|i| {
                let options = DecodeOptions {
                    beam_width: width,
                    n_best: width,
                    ..DecodeOptions::default()
                };
                translator
                    .translate(&[i], &options)
                    .unwrap()
                    .remove(0)
                    .unwrap()
            })
            .collect();
        for batch_size in [3, 20] {
            let options = DecodeOptions {
                beam_width: width,
                n_best: width,
                batch_size,
                ..DecodeOptions::default()
            };
            let together: Vec<_> = translator
                .translate(&inputs, &options)
                .unwrap()
                .into_iter()
                .map(|r| r.unwrap())
                .collect();
            for (a, b) in alone.iter().zip(&together) {
                assert_eq!(a.len(), b.len());
                for (x, y) in a.iter().zip(b) {
                    assert_eq!(x.text, y.text);
                    assert!((x.score - y.score).abs() < 1e-4, "{x:?} {y:?}");
                }
            }
        }
    }
}

#[test]
fn unknown_words_copy_the_attended_source_word_and_long_inputs_are_cut() {
    let _lock = crate::device::torch_rng_lock();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("rev");
    // A copy task (the target is the source reversed) where s10 and s11 are rare: the target
    // vocabulary leaves them out, so the model learns to write <unk> where they go, and
    // copying the attended source word is the right answer.
    let mut rng = crate::device::rng_from_seed(4);
    let pairs: Vec<Pair> = (0..1200)
        .map(|line| {
            let len = rng.random_range(2..=6);
            let words: Vec<String> = (0..len)
                .map(|_| match rng.random_range(0..64) {
                    0..=1 => "s10".to_owned(),
                    2..=3 => "s11".to_owned(),
                    w => format!("s{}", (w - 4) % 10),
                })
                .collect();
            let tgt: Vec<&str> = words.iter().rev().map(String::as_str).collect();
            Pair {
                src: words.join(" "),
                tgt: tgt.join(" "),
                line: line + 1,
            }
        })
        .collect();
    let mut setup = setup(TokenizerKind::Word);
    setup.tgt_tokenizer.vocab_size = 14;
    super::train(
        &pairs,
        None,
        &setup,
        &config(12),
        Device::Cpu,
        &out,
        &Silent,
    )
    .unwrap();
    let translator = Translator::load(&out, Device::Cpu).unwrap();
    let plain = DecodeOptions::default();
    assert_eq!(translator.vocabs().tgt.len(), 14);
    let got = translator.translate(&["s1 s10 s2"], &plain).unwrap();
    assert_eq!(got[0].as_ref().unwrap()[0].text, "s2 <unk> s1");
    let copy = DecodeOptions {
        replace_unk: true,
        ..DecodeOptions::default()
    };
    let got = translator
        .translate(&["s1 s10 s2", "s11 s3 s4"], &copy)
        .unwrap();
    assert_eq!(got[0].as_ref().unwrap()[0].text, "s2 s10 s1");
    assert_eq!(got[1].as_ref().unwrap()[0].text, "s4 s3 s11");

    // 10 tokens, the model reads 8: cut with a mark, or an error when strict.
    let long = "s1 s2 s3 s4 s5 s6 s7 s8 s9 s10";
    let got = translator.translate(&[long, ""], &plain).unwrap();
    assert!(got[0].as_ref().unwrap()[0].truncated);
    assert!(got[1].is_err());
    let strict = DecodeOptions {
        strict: true,
        ..DecodeOptions::default()
    };
    let err = translator.translate(&[long], &strict).unwrap().remove(0);
    assert!(err.unwrap_err().to_string().contains("at most 8"));
    // Outputs are capped at max_len_ratio times the source length.
    let short = DecodeOptions {
        max_len_ratio: 0.5,
        ..DecodeOptions::default()
    };
    let got = translator.translate(&["s1 s2 s3 s4"], &short).unwrap();
    assert_eq!(got[0].as_ref().unwrap()[0].text.split(' ').count(), 2);
    // The attention map has the source tokens and the output tokens with <eos>.
    let map = translator.attention("s1 s2", "s2 s1").unwrap();
    assert_eq!(map.source, ["s1", "s2"]);
    assert_eq!(map.output, ["s2", "s1", "<eos>"]);
    assert_eq!(map.weights.len(), 3);
}

#[test]
fn resume_continues_from_the_saved_epoch() {
    let _lock = crate::device::torch_rng_lock();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("rev");
    let train = reversal_pairs(300, 5);
    let first = super::train(
        &train,
        None,
        &setup(TokenizerKind::Bpe),
        &config(2),
        Device::Cpu,
        &out,
        &Silent,
    )
    .unwrap();
    let steps = |dir: &Path| {
        crate::checkpoint::read_meta(dir).unwrap().training["optimizer_steps"]
            .as_i64()
            .unwrap()
    };
    let before = steps(&out);
    let again = super::resume(&out, &train, None, &config(2), Device::Cpu, &out, &Silent).unwrap();
    let saved_before = first.epochs.iter().rev().find(|e| e.saved).unwrap().epoch;
    assert_eq!(again.epochs[0].epoch, saved_before + 1);
    assert!(again.epochs.iter().any(|e| e.saved));
    assert!(steps(&out) > before);
    // Two epochs and two resumed ones give the bytes of four uninterrupted ones (when the
    // second epoch was the one kept, as here: resume continues from the kept model).
    assert!(first.epochs[1].saved, "{:?}", first.epochs);
    let full = dir.path().join("full");
    super::train(
        &train,
        None,
        &setup(TokenizerKind::Bpe),
        &config(4),
        Device::Cpu,
        &full,
        &Silent,
    )
    .unwrap();
    let bytes = |dir: &Path, file: &str| std::fs::read(dir.join(file)).unwrap();
    assert!(bytes(&full, "model.safetensors") == bytes(&out, "model.safetensors"));
    assert!(bytes(&full, "optimizer.safetensors") == bytes(&out, "optimizer.safetensors"));
    // A date model cannot be resumed as a sentence translator.
    let dates = dir.path().join("dates");
    let model = crate::seq2seq::Translator::builtin_dates(Device::Cpu).unwrap();
    model.save(&dates).unwrap();
    let err = super::resume(&dates, &train, None, &config(1), Device::Cpu, &out, &Silent)
        .unwrap_err()
        .to_string();
    assert!(err.contains("not a sentence translator"), "{err}");
}

#[test]
fn checkpoints_round_trip_and_a_directory_without_its_tokenizer_is_a_clear_error() {
    let _lock = crate::device::torch_rng_lock();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("m");
    super::train(
        &reversal_pairs(100, 6),
        None,
        &setup(TokenizerKind::Word),
        &config(1),
        Device::Cpu,
        &out,
        &Silent,
    )
    .unwrap();
    // Round trip: load, save elsewhere, load again: the same files and the same translations.
    let first = Translator::load(&out, Device::Cpu).unwrap();
    let copy = dir.path().join("copy");
    first.save(&copy).unwrap();
    let second = Translator::load(&copy, Device::Cpu).unwrap();
    for file in [
        crate::seq2seq::SRC_TOKENIZER_FILE,
        crate::seq2seq::TGT_TOKENIZER_FILE,
        "vocab.json",
        "config.json",
    ] {
        assert_eq!(
            std::fs::read(out.join(file)).unwrap(),
            std::fs::read(copy.join(file)).unwrap(),
            "{file}"
        );
    }
    let inputs = ["s1 s2 s3", "s4 s5", "s0 s9 s8 s7 s6"];
    let options = DecodeOptions {
        beam_width: 3,
        n_best: 3,
        ..DecodeOptions::default()
    };
    let outputs = |t: &Translator| -> Vec<Vec<crate::seq2seq::Translation>> {
        t.translate(&inputs, &options)
            .unwrap()
            .into_iter()
            .map(|r| r.unwrap())
            .collect()
    };
    assert_eq!(outputs(&first), outputs(&second));
    std::fs::remove_file(out.join(crate::seq2seq::TGT_TOKENIZER_FILE)).unwrap();
    let err = Translator::load(&out, Device::Cpu).unwrap_err().to_string();
    assert!(err.contains("tgt_tokenizer.json"), "{err}");
}

#[test]
fn bad_settings_are_refused() {
    let _lock = crate::device::torch_rng_lock(); // a model may be built before a setting is refused
    for bad in [
        SentenceTrainConfig {
            label_smoothing: 1.0,
            ..config(1)
        },
        SentenceTrainConfig {
            teacher_forcing: 1.5,
            ..config(1)
        },
        {
            let mut c = config(1);
            c.train.lr_schedule = crate::train::LrSchedule::Plateau(0.0);
            c
        },
        {
            let mut c = config(1);
            c.train.batch_size = 0;
            c
        },
    ] {
        assert!(bad.validate().is_err(), "{bad:?}");
    }
    // Without a dev file, a fraction of 0 would leave nothing to choose the saved epoch by.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("m");
    let mut no_dev = config(1);
    no_dev.train.held_out = crate::train::HeldOut::Fraction(0.0);
    let setup = setup(TokenizerKind::Word);
    let err = super::train(
        &reversal_pairs(20, 1),
        None,
        &setup,
        &no_dev,
        Device::Cpu,
        &out,
        &Silent,
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("needs dev pairs"), "{err}");
    assert!(!out.exists());
}

#[test]
fn training_with_a_teacher_forcing_ratio_feeds_the_model_its_own_guesses_and_still_learns() {
    let _lock = crate::device::torch_rng_lock();
    crate::device::set_threads(1);
    let dir = tempfile::tempdir().unwrap();
    let train = reversal_pairs(600, 8);
    let run = |name: &str| {
        let report = super::train(
            &train,
            None,
            &setup(TokenizerKind::Word),
            &SentenceTrainConfig {
                teacher_forcing: 0.5,
                ..config(4)
            },
            Device::Cpu,
            &dir.path().join(name),
            &Silent,
        )
        .unwrap();
        let losses: Vec<(f64, f64)> = report
            .epochs
            .iter()
            .map(|e| (e.train_loss, e.dev_loss))
            .collect();
        losses
    };
    let losses = run("tf");
    assert!(losses[3].1 < losses[0].1, "{losses:?}");
    // The coin flips between truth and guess come from the seed: one thread, the same run.
    assert_eq!(run("again"), losses, "same seed, same training");
}

#[test]
fn the_default_preset_follows_the_number_of_pairs() {
    use super::SentencePreset;
    assert_eq!(SentencePreset::for_pairs(3_000), SentencePreset::Small);
    assert_eq!(SentencePreset::for_pairs(19_999), SentencePreset::Small);
    assert_eq!(SentencePreset::for_pairs(29_000), SentencePreset::Base);
    assert_eq!(SentencePreset::for_pairs(200_000), SentencePreset::Large);
    let small = SentencePreset::Small;
    assert_eq!((small.sizes().embed, small.sizes().hidden), (128, 128));
    assert_eq!(small.config().train.batch_size, 32);
    assert_eq!(SentencePreset::Large.sizes().hidden, 512);
}
