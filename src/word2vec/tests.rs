//! End-to-end tests of the trainer: errors, determinism, gzip, progress, and learning.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::sampling::Rng;
use super::*;
use crate::progress::{ProgressEvent, Silent};
use crate::train::Stop;

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

/// Lines of `len` words drawn from one of two disjoint topics (`a0..aN`, `b0..bN`), so that
/// words co-occur only within their topic. Word frequencies are Zipf-like within a topic.
fn two_topics(lines: usize, len: usize, words_per_topic: usize, seed: u64) -> String {
    let mut rng = Rng::new(seed);
    let mut text = String::with_capacity(lines * len * 4);
    for _ in 0..lines {
        let topic = if rng.below(2) == 0 { 'a' } else { 'b' };
        for k in 0..len {
            // Minimum of two uniforms: a skewed, Zipf-like choice of word.
            let i = rng
                .below(words_per_topic as u32)
                .min(rng.below(words_per_topic as u32));
            if k > 0 {
                text.push(' ');
            }
            text.push(topic);
            text.push_str(&i.to_string());
        }
        text.push('\n');
    }
    text
}

fn small_config() -> Word2VecConfig {
    Word2VecConfig {
        dim: 16,
        window: 3,
        negative: 3,
        min_count: 1,
        epochs: 2,
        threads: 1,
        ..Word2VecConfig::default()
    }
}

#[test]
fn single_thread_runs_are_bit_identical_and_the_seed_matters() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "c.txt", two_topics(1500, 15, 30, 1).as_bytes());
    let config = small_config();
    let (a, ra) = train(&path, &config, &Silent).unwrap();
    let (b, rb) = train(&path, &config, &Silent).unwrap();
    assert_eq!(a.vectors(), b.vectors());
    assert_eq!(ra.epochs[1].mean_loss, rb.epochs[1].mean_loss);
    let other = Word2VecConfig {
        seed: 2,
        ..config.clone()
    };
    let (c, _) = train(&path, &other, &Silent).unwrap();
    assert_eq!(a.words(), c.words());
    assert_ne!(a.vectors(), c.vectors());
    // Training moved the vectors away from their initialisation.
    let zero_epochs = Rng::new(config.seed).unit_f32();
    assert_ne!(a.vectors()[0], (zero_epochs - 0.5) / config.dim as f32);
}

/// The models besides skip-gram with negative sampling alone.
fn other_models() -> [Word2VecConfig; 5] {
    let with = |arch, hs, negative| Word2VecConfig {
        arch,
        hs,
        negative,
        alpha: arch.default_alpha(),
        ..small_config()
    };
    [
        with(Arch::Cbow, false, 3),
        with(Arch::SkipGram, true, 0),
        with(Arch::Cbow, true, 0),
        with(Arch::SkipGram, true, 3),
        with(Arch::Cbow, true, 3),
    ]
}

#[test]
fn every_model_is_bit_identical_run_to_run_and_differs_from_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "c.txt", two_topics(600, 15, 30, 1).as_bytes());
    let mut seen = vec![train(&path, &small_config(), &Silent).unwrap().0];
    for config in other_models() {
        let (a, ra) = train(&path, &config, &Silent).unwrap();
        let (b, rb) = train(&path, &config, &Silent).unwrap();
        let what = config.model_name();
        assert_eq!(a.vectors(), b.vectors(), "{what}");
        let losses = |r: &TrainReport| r.epochs.iter().map(|e| e.mean_loss).collect::<Vec<_>>();
        assert_eq!(losses(&ra), losses(&rb), "{what}");
        assert!(
            losses(&ra).iter().all(|l| l.is_finite() && *l > 0.0),
            "{what}"
        );
        for other in &seen {
            assert_ne!(a.vectors(), other.vectors(), "{what}");
        }
        seen.push(a);
    }
}

#[test]
fn every_model_learns_the_topics() {
    let dir = tempfile::tempdir().unwrap();
    let n = 20;
    let path = write(dir.path(), "t.txt", two_topics(4_000, 20, n, 42).as_bytes());
    for config in other_models() {
        let config = Word2VecConfig {
            dim: 24,
            window: 4,
            epochs: 3,
            ..config
        };
        let what = config.model_name();
        let (e, report) = train(&path, &config, &Silent).unwrap();
        let (w, a) = within_and_across(&e, n);
        assert!(w > a + 0.3, "{what}: within-topic cosine {w}, across {a}");
        let losses: Vec<f64> = report.epochs.iter().map(|s| s.mean_loss).collect();
        assert!(losses[2] < losses[0], "{what}: {losses:?}");
    }
}

#[test]
fn the_batched_trainer_refuses_every_model_but_skipgram_with_negative_sampling() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "c.txt", two_topics(50, 10, 10, 5).as_bytes());
    for config in other_models() {
        let err = train_on(
            &path,
            &config,
            tch::Device::Cuda(0),
            Batch::default(),
            &Silent,
            None,
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("skip-gram with negative sampling only")
                && err.contains(&config.model_name()),
            "{err}"
        );
        let err = train_torch_with(
            &path,
            &config,
            tch::Device::Cpu,
            Batch::default(),
            &Silent,
            |_, _| Ok(()),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("train it on the CPU"), "{err}");
    }
}

#[test]
fn gzip_corpus_gives_the_same_vocabulary_and_vectors() {
    let dir = tempfile::tempdir().unwrap();
    let text = two_topics(400, 12, 20, 3);
    let plain = write(dir.path(), "c.txt", text.as_bytes());
    let gz = write(dir.path(), "c.txt.gz", &gzip(text.as_bytes()));
    let config = small_config();
    let vp = Vocabulary::build(&plain, &config).unwrap();
    let vg = Vocabulary::build(&gz, &config).unwrap();
    assert_eq!(vp, vg);
    assert_eq!(vp.corpus_tokens(), 400 * 12);
    let (ep, _) = train(&plain, &config, &Silent).unwrap();
    let (eg, _) = train(&gz, &config, &Silent).unwrap();
    assert_eq!(ep.vectors(), eg.vectors());
}

#[test]
fn user_errors_are_reported_not_panicked() {
    let dir = tempfile::tempdir().unwrap();
    let config = small_config();
    let missing = dir.path().join("missing.txt");
    let err = train(&missing, &config, &Silent).unwrap_err();
    assert!(matches!(err, Error::Io { .. }), "{err:?}");
    assert!(err.to_string().contains("missing.txt"));

    let empty = write(dir.path(), "empty.txt", b"");
    let err = train(&empty, &config, &Silent).unwrap_err();
    assert!(err.to_string().contains("no words"), "{err}");

    let bad = write(dir.path(), "bad.txt", b"a b c\na b\n\nx \xc3\x28 y\n");
    match train(&bad, &config, &Silent).unwrap_err() {
        Error::BadLine { line, path, .. } => {
            assert_eq!(line, 4);
            assert_eq!(path, bad);
        }
        other => panic!("{other:?}"),
    }

    let rare = write(dir.path(), "rare.txt", b"a b c d\ne f a\n");
    let strict = Word2VecConfig {
        min_count: 3,
        ..config.clone()
    };
    let err = train(&rare, &strict, &Silent).unwrap_err();
    assert!(matches!(err, Error::Config(_)), "{err:?}");
    assert!(err.to_string().contains("min_count"), "{err}");

    let zero_dim = Word2VecConfig { dim: 0, ..config };
    assert!(matches!(
        train(&rare, &zero_dim, &Silent),
        Err(Error::Config(_))
    ));
}

#[test]
fn config_validation_and_serde() {
    let ok = Word2VecConfig::default();
    ok.validate().unwrap();
    assert!(ok.threads >= 1);
    let bad = [
        Word2VecConfig {
            window: 0,
            ..ok.clone()
        },
        Word2VecConfig {
            negative: 0,
            ..ok.clone()
        },
        Word2VecConfig {
            epochs: 0,
            ..ok.clone()
        },
        Word2VecConfig {
            threads: 0,
            ..ok.clone()
        },
        Word2VecConfig {
            alpha: 0.0,
            ..ok.clone()
        },
        Word2VecConfig {
            alpha: f64::NAN,
            ..ok.clone()
        },
        Word2VecConfig {
            min_alpha: 0.5,
            ..ok.clone()
        },
        Word2VecConfig {
            sample: -1.0,
            ..ok.clone()
        },
        Word2VecConfig {
            max_vocab: Some(0),
            ..ok.clone()
        },
    ];
    for c in bad {
        assert!(matches!(c.validate(), Err(Error::Config(_))), "{c:?}");
    }
    // Negative sampling may be off when hierarchical softmax is on, and only then.
    let no_objective = Word2VecConfig {
        negative: 0,
        ..ok.clone()
    };
    let err = no_objective.validate().unwrap_err().to_string();
    assert!(err.contains("negative is 0") && err.contains("hs"), "{err}");
    Word2VecConfig {
        hs: true,
        ..no_objective
    }
    .validate()
    .unwrap();
    let json = serde_json::to_string(&ok).unwrap();
    let back: Word2VecConfig = serde_json::from_str(&json).unwrap();
    assert_eq!(back, ok);
    let cbow: Word2VecConfig = serde_json::from_str(r#"{"arch": "cbow", "hs": true}"#).unwrap();
    assert_eq!((cbow.arch, cbow.hs), (Arch::Cbow, true));
    assert!(serde_json::from_str::<Word2VecConfig>(r#"{"arch": "sg"}"#).is_err());
    // Missing fields take the defaults; unknown ones are refused.
    let partial: Word2VecConfig = serde_json::from_str(r#"{"dim": 50, "epochs": 1}"#).unwrap();
    assert_eq!(partial.dim, 50);
    assert_eq!(partial.window, 5);
    assert!(serde_json::from_str::<Word2VecConfig>(r#"{"dims": 50}"#).is_err());
}

#[test]
fn progress_reports_each_epoch_and_callback_sees_vectors() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "c.txt", two_topics(3000, 10, 20, 5).as_bytes());
    let events = Mutex::new(Vec::new());
    let record = |e: &ProgressEvent<'_>| {
        let line = match e {
            ProgressEvent::Begin { label, total, unit } => {
                format!("begin {label} {total:?} {unit}")
            }
            ProgressEvent::Advance { done } => format!("advance {done}"),
            ProgressEvent::Status { message } => format!("status {message}"),
            ProgressEvent::End { summary } => format!("end {summary}"),
        };
        events.lock().unwrap().push(line);
    };
    let mut seen = Vec::new();
    let (vectors, report) = train_with(&path, &small_config(), &record, |epoch, v| {
        seen.push((epoch, v.len(), v.vector(0).to_vec()));
        Ok(())
    })
    .unwrap();
    let events = events.into_inner().unwrap();
    assert_eq!(report.corpus_words, 30_000);
    assert_eq!(report.vocab_size, 40);
    assert_eq!(report.epochs.len(), 2);
    for (i, e) in report.epochs.iter().enumerate() {
        assert_eq!(e.epoch, i + 1);
        assert_eq!(e.words, 30_000);
        assert!(e.words_per_sec > 0.0 && e.seconds > 0.0);
        assert!(e.mean_loss.is_finite() && e.mean_loss > 0.0);
    }
    assert!((report.epochs[1].final_alpha - 0.0001).abs() < 1e-12);
    assert!(report.epochs[0].final_alpha > 0.012);

    let begins: Vec<&String> = events.iter().filter(|e| e.starts_with("begin")).collect();
    assert_eq!(begins[0], "begin vocabulary None sentences");
    assert_eq!(begins[1], "begin epoch 1/2 Some(30000) words");
    assert_eq!(begins[2], "begin epoch 2/2 Some(30000) words");
    let ends: Vec<&String> = events.iter().filter(|e| e.starts_with("end")).collect();
    assert_eq!(ends.len(), 3);
    assert!(ends[1].starts_with("end epoch 1/2: loss "), "{}", ends[1]);
    assert!(ends[1].contains("words/s"), "{}", ends[1]);
    let before_end = events
        .iter()
        .position(|e| e.starts_with("end epoch 1"))
        .unwrap();
    assert_eq!(events[before_end - 2], "advance 30000");
    assert!(
        events[before_end - 1].starts_with("status lr "),
        "{}",
        events[before_end - 1]
    );
    assert!(events[before_end - 1].contains(" loss "));

    assert_eq!(seen.len(), 2);
    assert_eq!((seen[0].0, seen[1].0), (1, 2));
    assert_ne!(seen[0].2, seen[1].2);
    assert_eq!(seen[1].2, vectors.vector(0));
}

#[test]
fn callback_error_stops_training() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "c.txt", two_topics(200, 10, 10, 5).as_bytes());
    let mut calls = 0;
    let result = train_with(&path, &small_config(), &Silent, |_, _| {
        calls += 1;
        Err(Error::Config("stop".into()))
    });
    assert!(result.is_err());
    assert_eq!(calls, 1);
}

#[test]
fn one_huge_line_trains_in_chunks() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = two_topics(1, 25_000, 30, 9).replace('\n', " ");
    text.push_str("\nunseen words only here\n");
    let path = write(dir.path(), "one.txt", text.as_bytes());
    let config = Word2VecConfig {
        min_count: 2,
        ..small_config()
    };
    let (vectors, report) = train(&path, &config, &Silent).unwrap();
    assert_eq!(report.corpus_words, 25_000);
    assert_eq!(report.epochs[0].words, 25_000);
    assert_eq!(vectors.len(), 30);
    assert!(vectors.vectors().iter().all(|x| x.is_finite()));
}

fn cosine(e: &crate::embeddings::Embeddings, a: &str, b: &str) -> f32 {
    let (a, b) = (e.id(a).unwrap(), e.id(b).unwrap());
    e.unit(a).iter().zip(e.unit(b)).map(|(x, y)| x * y).sum()
}

/// The mean cosine of two words of the same topic and of two words of different topics.
fn within_and_across(e: &crate::embeddings::Embeddings, n: usize) -> (f32, f32) {
    let (mut within, mut across) = (Vec::new(), Vec::new());
    for i in 0..n {
        for j in 0..n {
            if i != j {
                within.push(cosine(e, &format!("a{i}"), &format!("a{j}")));
                within.push(cosine(e, &format!("b{i}"), &format!("b{j}")));
            }
            across.push(cosine(e, &format!("a{i}"), &format!("b{j}")));
        }
    }
    let mean = |v: &[f32]| v.iter().sum::<f32>() / v.len() as f32;
    (mean(&within), mean(&across))
}

#[test]
fn learns_topics_and_the_loss_falls() {
    let dir = tempfile::tempdir().unwrap();
    let n = 25;
    // 10,000 lines × 20 = 200k tokens.
    let path = write(
        dir.path(),
        "topics.txt",
        two_topics(10_000, 20, n, 42).as_bytes(),
    );
    let config = Word2VecConfig {
        dim: 24,
        window: 4,
        negative: 4,
        min_count: 1,
        epochs: 3,
        threads: 2,
        ..Word2VecConfig::default()
    };
    let (e, report) = train(&path, &config, &Silent).unwrap();
    assert_eq!(report.corpus_words, 200_000);
    assert_eq!(e.len(), 2 * n);
    let (w, a) = within_and_across(&e, n);
    assert!(w > a + 0.3, "within-topic cosine {w}, across {a}");
    // Every word's nearest neighbour is in its own topic.
    for i in 0..n {
        let word = format!("a{i}");
        let best = e
            .words()
            .iter()
            .filter(|o| **o != word)
            .max_by(|x, y| cosine(&e, &word, x).total_cmp(&cosine(&e, &word, y)))
            .unwrap();
        assert!(best.starts_with('a'), "{word} -> {best}");
    }
    let losses: Vec<f64> = report.epochs.iter().map(|s| s.mean_loss).collect();
    assert!(losses[2] < losses[0], "{losses:?}");
}

#[test]
fn every_word_is_trained_once_per_epoch_with_several_workers_plain_or_gzip() {
    let dir = tempfile::tempdir().unwrap();
    let text = two_topics(3_000, 7, 10, 9);
    let plain = write(dir.path(), "c.txt", text.as_bytes());
    let gz = write(dir.path(), "c.txt.gz", &gzip(text.as_bytes()));
    for threads in [2, 3, 5] {
        for path in [&plain, &gz] {
            let config = Word2VecConfig {
                threads,
                epochs: 2,
                ..small_config()
            };
            let (_, report) = train(path, &config, &Silent).unwrap();
            for epoch in &report.epochs {
                assert_eq!(epoch.words, 21_000, "{threads} threads, {}", path.display());
            }
        }
    }
}

#[test]
fn diverged_vectors_are_an_error_naming_the_epoch_and_alpha() {
    assert!(check_finite(&[0.5, -1.0], 1, 0.025).is_ok());
    for bad in [f32::NAN, f32::INFINITY] {
        let err = check_finite(&[0.5, bad], 3, 100.0).unwrap_err().to_string();
        assert!(
            err.contains("training diverged in epoch 3") && err.contains("lower alpha (now 100)"),
            "{err}"
        );
    }
}

#[test]
fn train_on_the_cpu_is_the_hogwild_trainer() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "c.txt", two_topics(300, 10, 10, 5).as_bytes());
    let config = small_config();
    let (a, ra) = train(&path, &config, &Silent).unwrap();
    let (b, rb) = train_on(
        &path,
        &config,
        tch::Device::Cpu,
        Batch::default(),
        &Silent,
        None,
    )
    .unwrap();
    assert_eq!(a.vectors(), b.vectors());
    let losses = |r: &TrainReport| r.epochs.iter().map(|e| e.mean_loss).collect::<Vec<_>>();
    assert_eq!(losses(&ra), losses(&rb));
    assert_eq!(rb.stop, Stop::Epochs);
    assert!(rb.epochs.iter().all(|e| e.complete));
}

#[test]
fn a_time_budget_ends_the_run_with_the_vectors_trained_so_far() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "c.txt", two_topics(300, 10, 10, 5).as_bytes());
    let config = Word2VecConfig {
        epochs: 1_000_000,
        time_budget: Some(std::time::Duration::from_millis(300)),
        ..small_config()
    };
    let mut calls = 0;
    let mut count = |_: usize, _: &crate::embeddings::Embeddings| -> Result<Next> {
        calls += 1;
        Ok(Next::Continue)
    };
    let (vectors, report) = train_on(
        &path,
        &config,
        tch::Device::Cpu,
        Batch::default(),
        &Silent,
        Some(&mut count),
    )
    .unwrap();
    assert_eq!(report.stop, Stop::TimeBudget);
    assert!(report.epochs.len() < 1_000_000);
    assert_eq!(calls, report.epochs.len());
    assert_eq!(vectors.len(), 20);
    assert!(vectors.vectors().iter().all(|x| x.is_finite()));
    // The rate fell with the time spent, although few of the planned words were done.
    let last = report.epochs.last().unwrap();
    assert!(last.final_alpha < config.alpha / 2.0, "{last:?}");
}

#[test]
fn a_time_budget_of_zero_or_over_a_year_is_refused() {
    for budget in [0, 400 * 24 * 3600] {
        let config = Word2VecConfig {
            time_budget: Some(std::time::Duration::from_secs(budget)),
            ..small_config()
        };
        let err = config.validate().unwrap_err();
        assert!(err.to_string().contains("time budget"), "{err}");
    }
}

#[test]
fn a_callback_stops_the_run_and_a_saved_state_continues_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "c.txt", two_topics(300, 10, 10, 5).as_bytes());
    let config = Word2VecConfig {
        epochs: 5,
        hs: true,
        ..small_config()
    };
    let mut stop_at_2 = |epoch: usize, _: &crate::embeddings::Embeddings| -> Result<Next> {
        Ok(if epoch == 2 {
            Next::Stop
        } else {
            Next::Continue
        })
    };
    let (state, report) = train_state(&path, &config, None, &Silent, Some(&mut stop_at_2)).unwrap();
    assert_eq!((report.stop, report.epochs.len()), (Stop::Patience, 2));
    assert_eq!(state.epochs_done(), 2);
    let saved = dir.path().join("state");
    state.save(&saved).unwrap();
    let loaded = State::load(&saved).unwrap();
    assert_eq!(
        (&loaded.syn0, &loaded.syn1neg, &loaded.syn1),
        (&state.syn0, &state.syn1neg, &state.syn1)
    );
    assert_eq!(loaded.vocabulary().words(), state.vocabulary().words());
    assert_eq!(loaded.vocabulary().counts(), state.vocabulary().counts());
    // A model setting may not change; the schedule and the epochs may.
    let wider = Word2VecConfig {
        window: 5,
        ..config.clone()
    };
    let err = train_state(&path, &wider, Some(loaded.clone()), &Silent, None).unwrap_err();
    assert!(err.to_string().contains("window differs"), "{err}");
    let more = Word2VecConfig {
        epochs: 1,
        alpha: 0.01,
        ..config
    };
    let (next, report) = train_state(&path, &more, Some(loaded), &Silent, None).unwrap();
    assert_eq!(report.epochs[0].epoch, 3);
    assert_eq!(next.epochs_done(), 3);
    assert_ne!(next.syn0, state.syn0);
}
