//! The date translator through the library: seeded training, checkpoints, decoding.

mod common;

use common::torch_rng;
use seqmodels::seq2seq::{self, dates, DecodeOptions, Task, Translator, TranslatorConfig};
use seqmodels::train::{Budget, HeldOut};
use seqmodels::Silent;
use tch::Device;

fn pairs(n: usize, seed: u64) -> Vec<(String, String)> {
    let mut rng = seqmodels::device::rng_from_seed(seed);
    dates::generate(n, dates::FormatSet::Course, &mut rng)
        .into_iter()
        .map(|p| (p.human, p.iso))
        .collect()
}

fn smoke_config() -> TranslatorConfig {
    let mut model = seq2seq::dates_preset();
    model.enc_hidden = 32;
    model.dec_hidden = 64;
    TranslatorConfig {
        task: Task::Dates,
        lowercase: true,
        model,
    }
}

/// Trains on 600 pairs for 12 epochs: seconds on a CPU.
fn smoke_train(dir: &std::path::Path) -> Vec<seq2seq::dates::EpochFigures> {
    let _lock = torch_rng();
    tch::set_num_threads(1);
    let mut train = seq2seq::dates::TrainConfig::default();
    train.train.budget = Budget::epochs(12);
    train.train.batch_size = 32;
    train.train.lr = 1e-2;
    train.train.held_out = HeldOut::Fraction(0.2);
    train.train.seed = 5;
    seq2seq::dates::train(
        &pairs(600, 11),
        smoke_config(),
        &train,
        Device::Cpu,
        dir,
        &Silent,
    )
    .unwrap()
    .epochs
}

#[test]
fn seeded_smoke_training_learns_and_round_trips() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("dates");
    let history = smoke_train(&dir);
    // One thread, one seed: the same training, epoch for epoch.
    let figures = |h: &[seq2seq::dates::EpochFigures]| {
        h.iter()
            .map(|e| (e.train_loss, e.valid_accuracy))
            .collect::<Vec<_>>()
    };
    let again = smoke_train(&tmp.path().join("again"));
    assert_eq!(
        figures(&again),
        figures(&history),
        "same seed, same training"
    );
    let best = history.iter().map(|e| e.valid_accuracy).fold(0.0, f64::max);
    assert!(
        history[0].train_loss > 3.0 * history.last().unwrap().train_loss,
        "{history:?}"
    );
    assert!(best >= 0.5, "held-out exact match only {best}: {history:?}");

    // The saved model decodes fresh dates as well as it scored, and identically after a reload.
    let model = Translator::load(&dir, Device::Cpu).unwrap();
    // serde_json reads a float back to within one unit in the last place.
    let saved = model.meta().training["valid_exact_match"].as_f64().unwrap();
    assert!((saved - best).abs() < 1e-12, "{saved} != {best}");
    let test = pairs(200, 99);
    let inputs: Vec<&str> = test.iter().map(|p| p.0.as_str()).collect();
    let refs: Vec<&str> = test.iter().map(|p| p.1.as_str()).collect();
    let options = DecodeOptions::default();
    let acc = seq2seq::dates::exact_match(&model, &inputs, &refs, &options).unwrap();
    assert!(acc >= 0.8, "fresh exact match {acc}");
    let again = Translator::load(&dir, Device::Cpu).unwrap();
    let a = model.translate(&inputs, &options).unwrap();
    let b = again.translate(&inputs, &options).unwrap();
    let text = |r: &[seqmodels::Result<Vec<seq2seq::Translation>>]| {
        r.iter()
            .map(|x| x.as_ref().unwrap()[0].text.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(text(&a), text(&b));

    // Calendar-constrained outputs are always real dates, whatever the model's quality, or
    // refusals (where the model wanted a day the calendar lacks).
    for (out, hyps) in text(&a).iter().zip(&a) {
        let refused = hyps.as_ref().unwrap()[0].refused.is_some();
        assert!(
            dates::Date::parse_iso(out).is_some() || (refused && out.is_empty()),
            "{out} is not a date"
        );
    }
    // A model trained without the day-first tag says so when asked for it.
    let tagged = DecodeOptions {
        tags: vec![dates::DAY_FIRST.to_owned()],
        ..DecodeOptions::default()
    };
    let err = model.translate(&inputs[..1], &tagged).unwrap_err();
    assert!(err.to_string().contains("has no <day-first> tag"), "{err}");

    // Beam results do not depend on the batch size or the position in the batch.
    let beam = DecodeOptions {
        beam_width: 4,
        n_best: 3,
        batch_size: 64,
        ..DecodeOptions::default()
    };
    let together = model.translate(&inputs[..40], &beam).unwrap();
    let one_by_one = model
        .translate(
            &inputs[..40],
            &DecodeOptions {
                batch_size: 1,
                ..beam.clone()
            },
        )
        .unwrap();
    // Batches of 7 of the 40 inputs: decoded grouped by length, padded to less.
    let by_length = model
        .translate(
            &inputs[..40],
            &DecodeOptions {
                batch_size: 7,
                ..beam.clone()
            },
        )
        .unwrap();
    let mut reversed_inputs = inputs[..40].to_vec();
    reversed_inputs.reverse();
    let mut reversed = model.translate(&reversed_inputs, &beam).unwrap();
    reversed.reverse();
    for (((x, y), z), w) in together
        .iter()
        .zip(&one_by_one)
        .zip(&reversed)
        .zip(&by_length)
    {
        let (x, y, z, w) = (
            x.as_ref().unwrap(),
            y.as_ref().unwrap(),
            z.as_ref().unwrap(),
            w.as_ref().unwrap(),
        );
        assert_eq!(x.len(), 3);
        for (((hx, hy), hz), hw) in x.iter().zip(y).zip(z).zip(w) {
            for h in [hy, hz, hw] {
                assert_eq!(hx.text, h.text);
                assert!((hx.score - h.score).abs() < 1e-4);
            }
        }
        assert!(x.windows(2).all(|w| w[0].score >= w[1].score));
    }
}

#[test]
fn resume_continues_exactly_where_training_stopped() {
    // One thread and the generator to itself, so that equal arithmetic gives equal bytes.
    let _lock = torch_rng();
    tch::set_num_threads(1);
    let tmp = tempfile::tempdir().unwrap();
    let data = pairs(200, 11);
    let settings = |epochs: usize| {
        let mut train = seq2seq::dates::TrainConfig::default();
        train.train.budget = Budget::epochs(epochs);
        train.train.batch_size = 32;
        train.train.lr = 1e-2;
        // Nothing held out: every epoch is saved, so each directory holds its last.
        train.train.held_out = HeldOut::Fraction(0.0);
        train.train.seed = 5;
        train
    };
    let into = |epochs: usize, dir: &std::path::Path| {
        seq2seq::dates::train(
            &data,
            smoke_config(),
            &settings(epochs),
            Device::Cpu,
            dir,
            &Silent,
        )
        .unwrap()
    };
    let weights = |dir: &std::path::Path| std::fs::read(dir.join("model.safetensors")).unwrap();
    let whole = tmp.path().join("whole");
    let report = into(2, &whole);
    assert!(report.epochs.iter().all(|e| e.saved), "{report:?}");
    let half = tmp.path().join("half");
    into(1, &half);
    let resumed = tmp.path().join("resumed");
    let report = seq2seq::dates::resume(
        &half,
        &data,
        Budget::epochs(1),
        Device::Cpu,
        &resumed,
        &Silent,
    )
    .unwrap();
    assert_eq!(report.epochs.len(), 1, "{report:?}");
    assert_eq!(report.epochs[0].epoch, 2, "{report:?}");
    assert_eq!(report.best_epoch, Some(2), "{report:?}");
    // Same weights as two epochs straight through: the optimiser state, the batch order and
    // the generator all went on where they stopped.
    assert!(
        weights(&whole) == weights(&resumed),
        "two epochs straight and one plus one resumed trained different weights"
    );
}

#[test]
fn bad_inputs_fail_alone() {
    let model = {
        let _lock = torch_rng();
        Translator::builtin_dates(Device::Cpu).unwrap()
    };
    let long = "9".repeat(model.config().model.max_src_len + 1);
    let inputs = ["", "3 may 1979", &long, "3 may 1979 ☃"];
    let out = model.translate(&inputs, &DecodeOptions::default()).unwrap();
    assert!(out[0]
        .as_ref()
        .unwrap_err()
        .to_string()
        .contains("empty input"));
    assert_eq!(out[1].as_ref().unwrap()[0].text, "1979-05-03");
    let err = out[2].as_ref().unwrap_err().to_string();
    assert!(
        err.contains(&format!(
            "reads at most {}",
            model.config().model.max_src_len
        )),
        "{err}"
    );
    // An unseen character maps to <unk> and does not crash.
    assert!(out[3].is_ok());
}

#[test]
fn the_built_in_model_refuses_reads_day_first_and_reports_its_confidence() {
    let model = {
        let _lock = torch_rng();
        Translator::builtin_dates(Device::Cpu).unwrap()
    };
    let inputs = [
        "good morning",
        "29 feb 2023",
        "last friday",
        "9 June 1812",
        "2222-02-02",
        "June 9 2011 10:30am",
        "05/03/2004",
    ];
    let best = |options: &DecodeOptions| -> Vec<(String, Option<seq2seq::Refusal>, f64)> {
        model
            .translate(&inputs, options)
            .unwrap()
            .into_iter()
            .map(|r| {
                let h = r.unwrap().remove(0);
                (h.text, h.refused, h.confidence)
            })
            .collect()
    };
    let plain = best(&DecodeOptions::default());
    let texts: Vec<&str> = plain.iter().map(|b| b.0.as_str()).collect();
    assert_eq!(
        texts,
        [
            "",
            "",
            "",
            "1812-06-09",
            "2222-02-02",
            "2011-06-09",
            "2004-05-03"
        ]
    );
    use seq2seq::Refusal::{Declined, Impossible, LowConfidence};
    assert_eq!(plain[0].1, Some(Declined));
    assert_eq!(plain[1].1, Some(Impossible));
    assert_eq!(plain[2].1, Some(Declined));
    assert!(plain[3..].iter().all(|b| b.1.is_none()));
    for (_, _, confidence) in &plain {
        assert!((0.0..=1.0).contains(confidence), "{confidence}");
    }
    // The confidence is exp(score), the length-normalised probability the beam ranks by.
    let out = model
        .translate(&inputs[3..4], &DecodeOptions::default())
        .unwrap();
    let h = &out[0].as_ref().unwrap()[0];
    assert!((h.confidence - h.score.exp()).abs() < 1e-12);
    assert!((h.score - h.log_prob / 10f64.powf(0.7)).abs() < 1e-9);

    let day_first = best(&DecodeOptions {
        tags: vec![dates::DAY_FIRST.to_owned()],
        ..DecodeOptions::default()
    });
    assert_eq!(day_first[6].0, "2004-03-05");
    assert_eq!(day_first[3].0, "1812-06-09");

    // Above every answer's confidence, every answer is refused.
    let top = plain.iter().map(|b| b.2).fold(0.0, f64::max);
    assert!(top < 1.0, "a confidence of exactly 1: {plain:?}");
    let none = best(&DecodeOptions {
        min_confidence: (top + 1.0) / 2.0,
        ..DecodeOptions::default()
    });
    for ((text, refused, _), (_, was, _)) in none.iter().zip(&plain) {
        assert!(text.is_empty());
        assert_eq!(*refused, was.or(Some(LowConfidence)));
    }
}

#[test]
fn attention_rows_are_distributions_over_the_input() {
    let model = {
        let _lock = torch_rng();
        Translator::builtin_dates(Device::Cpu).unwrap()
    };
    let map = model.attention("Tue 10 Jul 2007", "2007-07-10").unwrap();
    assert_eq!(map.source.len(), "tue 10 jul 2007".len());
    assert_eq!(map.output.len(), 10);
    for row in &map.weights {
        assert_eq!(row.len(), map.source.len());
        let sum: f32 = row.iter().sum();
        assert!((sum - 1.0).abs() < 1e-4, "{sum}");
    }
}

#[test]
fn a_missing_or_foreign_model_directory_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let err = Translator::load(&tmp.path().join("nope"), Device::Cpu).unwrap_err();
    assert!(err.to_string().contains("no such model directory"), "{err}");
    std::fs::write(
        tmp.path().join("meta.json"),
        r#"{"kind":"charlm","format_version":1,"crate_version":"0.1.0","seed":1}"#,
    )
    .unwrap();
    let err = Translator::load(tmp.path(), Device::Cpu).unwrap_err();
    assert!(err.to_string().contains("holds a `charlm` model"), "{err}");
}

#[test]
fn training_outputs_without_every_digit_are_refused_with_the_reason() {
    // Training seeds libtorch's global generator before it checks the pairs: hold the lock, or
    // the reseed lands inside another test's seeded run.
    let _lock = torch_rng();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("dates");
    let pairs: Vec<(String, String)> =
        [("3 may 2001", "2001-05-03"), ("2 march 2002", "2002-03-02")]
            .iter()
            .map(|(h, iso)| (h.to_string(), iso.to_string()))
            .collect();
    let mut train = seq2seq::dates::TrainConfig::default();
    train.train.held_out = HeldOut::Fraction(0.0);
    let err = seq2seq::dates::train(&pairs, smoke_config(), &train, Device::Cpu, &dir, &Silent)
        .unwrap_err()
        .to_string();
    assert!(err.contains("never write the digit(s) 46789"), "{err}");
    assert!(!dir.exists());
}

#[test]
fn a_gpu_that_is_not_there_is_an_error_not_a_panic() {
    // Past any GPU count a machine has: the same error on every machine.
    let absent = Device::Cuda(1000);
    let err = {
        let _lock = torch_rng();
        Translator::builtin_dates(absent).unwrap_err().to_string()
    };
    assert!(err.contains("cuda:1000 is not available"), "{err}");
    assert!(seqmodels::device::check_available(Device::Cpu).is_ok());
}
