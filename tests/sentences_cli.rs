//! `seq2seq train --task pairs`, `translate --model` and `seq2seq eval --src --ref` through the
//! built binary, on a toy language pair generated here (the target is the source reversed,
//! word by word translated: "s3 s1 s4" -> "t4 t1 t3").

use std::path::Path;

mod common;
use common::{fails, seqmodels, seqmodels_with_input, toy_pairs as pairs, Run};

fn write(path: &Path, lines: impl IntoIterator<Item = String>) {
    let text: String = lines.into_iter().map(|l| l + "\n").collect();
    std::fs::write(path, text).unwrap();
}

fn train(dir: &Path, epochs: &str, extra: &[&str]) -> Run {
    let tsv = dir.join("train.tsv");
    write(
        &tsv,
        pairs(800, 1)
            .into_iter()
            .map(|(s, t)| format!("{s}\t{t}\tCC-BY")),
    );
    let out = dir.join("model");
    let mut args = vec![
        "-q",
        "--threads",
        "2",
        "seq2seq",
        "train",
        "--task",
        "pairs",
        "--pairs",
        tsv.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--device",
        "cpu",
        "--epochs",
        epochs,
    ];
    // The sizes, training options and split are a new model's; --resume keeps the saved ones
    // and refuses others.
    if !extra.contains(&"--resume") {
        args.extend_from_slice(&common::TOY_MODEL);
        args.extend_from_slice(&["--batch-size", "32", "--label-smoothing", "0"]);
        args.extend_from_slice(&["--lr", "1e-2", "--seed", "3"]);
    }
    args.extend_from_slice(extra);
    seqmodels(&args)
}

#[test]
fn train_translate_and_score_a_toy_language_pair() {
    let dir = tempfile::tempdir().unwrap();
    let run = train(dir.path(), "12", &[]);
    assert!(run.ok, "{}", run.stderr);
    assert!(run.stdout.contains("best epoch"), "{}", run.stdout);
    let model = dir.path().join("model");
    for file in [
        "src_tokenizer.json",
        "tgt_tokenizer.json",
        "optimizer.safetensors",
    ] {
        assert!(model.join(file).is_file(), "{file}");
    }
    let m = model.to_str().unwrap();

    // Line N of the output answers line N of the input; the empty line stays empty.
    let r = seqmodels_with_input(
        &[
            "translate",
            "--model",
            m,
            "--device",
            "cpu",
            "--beam-width",
            "3",
        ],
        b"s1 s2 s3\n\ns4 s0\n",
    );
    assert!(r.ok, "{}", r.stderr);
    assert_eq!(r.stdout, "t3 t2 t1\n\nt0 t4\n");
    assert!(r.stderr.contains("1 empty input line(s)"), "{}", r.stderr);

    // A too-long input is cut with a warning, or refused under --strict.
    let long = "s1 s2 s3 s4 s5 s6 s7 s1 s2 s3";
    let r = seqmodels(&["translate", "--model", m, "--device", "cpu", long]);
    assert!(r.ok && r.stderr.contains("warning"), "{}", r.stderr);
    let json = [
        "translate",
        "--model",
        m,
        "--device",
        "cpu",
        "--format",
        "json",
        long,
    ];
    let r = seqmodels(&json);
    assert!(r.stdout.contains("\"truncated\":true"), "{}", r.stdout);
    fails(
        &[
            "translate",
            "--model",
            m,
            "--device",
            "cpu",
            "--strict",
            long,
        ],
        "at most 8",
    );

    // BLEU on held-out pairs.
    let test = pairs(100, 99);
    let src = dir.path().join("test.src");
    let reference = dir.path().join("test.ref");
    write(&src, test.iter().map(|p| p.0.clone()));
    write(&reference, test.iter().map(|p| p.1.clone()));
    let hyp = dir.path().join("test.hyp");
    let r = seqmodels(&[
        "seq2seq",
        "eval",
        "--model",
        m,
        "--device",
        "cpu",
        "--src",
        src.to_str().unwrap(),
        "--ref",
        reference.to_str().unwrap(),
        "--output",
        hyp.to_str().unwrap(),
    ]);
    assert!(r.ok, "{}", r.stderr);
    let bleu: f64 = r
        .stdout
        .split("BLEU = ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("{}", r.stdout));
    assert!(bleu > 90.0, "{}", r.stdout);
    assert!(r.stdout.contains("chrF2 = "), "{}", r.stdout);
    // `seq2seq bleu` on the written outputs gives the same figure.
    let again = seqmodels(&[
        "seq2seq",
        "bleu",
        "--hyp",
        hyp.to_str().unwrap(),
        "--ref",
        reference.to_str().unwrap(),
    ]);
    assert!(
        again.stdout.contains(&format!("BLEU = {bleu:.2}")),
        "{}",
        again.stdout
    );

    // --resume continues from the saved epoch, with the saved sizes: another is refused.
    let r = train(
        dir.path(),
        "1",
        &["--resume", "--hidden", "64", "--lowercase"],
    );
    assert!(!r.ok && !r.stderr.contains("panicked"), "{}", r.stderr);
    assert!(
        r.stderr.contains("leave out --lowercase, --hidden"),
        "{}",
        r.stderr
    );
    let r = train(dir.path(), "1", &["--resume", "--lr", "1", "--seed", "4"]);
    assert!(
        !r.ok
            && r.stderr
                .contains("saved learning rate, seed and dev split; leave out --lr, --seed"),
        "{}",
        r.stderr
    );
    let r = train(dir.path(), "1", &["--resume", "--label-smoothing", "0.2"]);
    assert!(
        !r.ok
            && r.stderr
                .contains("saved training options; leave out --label-smoothing"),
        "{}",
        r.stderr
    );
    let r = train(dir.path(), "1", &["--resume"]);
    assert!(r.ok, "{}", r.stderr);
    // It trains one more epoch, numbered after the saved one (not epoch 1 again).
    assert!(r.stdout.contains("trained 1 epoch(s)"), "{}", r.stdout);
    assert!(!r.stdout.contains("best epoch 1:"), "{}", r.stdout);

    // A resumed run that lowers no dev loss (here: a saved best of 0, which none can beat)
    // succeeds and leaves the model as it was.
    let model = dir.path().join("model");
    common::set_training_figure(&model, "dev_loss", 0.0);
    let weights = std::fs::read(model.join("model.safetensors")).unwrap();
    let r = train(dir.path(), "1", &["--resume"]);
    assert!(r.ok, "{}", r.stderr);
    assert!(r.stdout.contains("is unchanged"), "{}", r.stdout);
    assert_eq!(
        std::fs::read(model.join("model.safetensors")).unwrap(),
        weights
    );
}

#[test]
fn bad_parallel_data_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.src");
    let b = dir.path().join("b.tgt");
    write(&a, ["s1 s2".to_owned(), "s3".to_owned()]);
    write(&b, ["t2 t1".to_owned()]);
    let out = dir.path().join("m");
    let o = out.to_str().unwrap();
    let bad_pair = |src: &Path, tgt: &Path, needle: &str| {
        let (s, t) = (src.to_str().unwrap(), tgt.to_str().unwrap());
        fails(
            &[
                "seq2seq", "train", "--task", "pairs", "--src", s, "--tgt", t, "--out", o,
                "--device", "cpu",
            ],
            needle,
        )
    };
    let stderr = bad_pair(&a, &b, "b.tgt");
    assert!(stderr.contains("2 lines"), "{stderr}");
    bad_pair(&a, &dir.path().join("missing.tgt"), "missing.tgt");
    let bad_tsv = |name: &str, contents: &str, needle: &str| {
        let tsv = dir.path().join(name);
        std::fs::write(&tsv, contents).unwrap();
        let t = tsv.to_str().unwrap();
        let args = [
            "seq2seq", "train", "--task", "pairs", "--pairs", t, "--out", o,
        ];
        fails(&args, needle);
    };
    bad_tsv("bad.tsv", "s1 s2\tt2 t1\nno tab\n", "bad.tsv:2");
    bad_tsv("empty.tsv", "\n", "empty.tsv: has no sentence pairs");
    // Sentence pairs given to the default (dates) task: a hint to add --task pairs.
    let french = dir.path().join("fr.tsv");
    std::fs::write(
        &french,
        "Le bonheur.\tHappiness.\nC'est mon patron.\tHe's my boss.\n",
    )
    .unwrap();
    fails(
        &[
            "seq2seq",
            "train",
            "--pairs",
            french.to_str().unwrap(),
            "--out",
            o,
        ],
        "these look like sentence pairs, not dates (the default task): add --task pairs",
    );
    // Every pair longer than --max-len: refused before any epoch, for training and for dev.
    let file = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_owned()
    };
    let (short_src, short_tgt) = (file("s.src", "a\nc\nb\n"), file("s.tgt", "b\nd\na\n"));
    let (long_src, long_tgt) = (file("l.src", "a b c d e\n"), file("l.tgt", "f g h i j\n"));
    let train_args = [
        "seq2seq",
        "train",
        "--task",
        "pairs",
        "--out",
        o,
        "--max-len",
        "3",
    ];
    let refused = |[src, tgt, dev_src, dev_tgt]: [&str; 4], needle: &str| {
        let options = [
            "--src",
            src,
            "--tgt",
            tgt,
            "--dev-src",
            dev_src,
            "--dev-tgt",
            dev_tgt,
        ];
        fails(&[&train_args[..], &options[..]].concat(), needle);
    };
    refused(
        [&long_src, &long_tgt, &short_src, &short_tgt],
        "all 1 training pairs are longer than the model reads",
    );
    refused(
        [&short_src, &short_tgt, &long_src, &long_tgt],
        "all 1 dev pairs are longer than the model reads",
    );
    assert!(!out.exists());
    // A date model is not scored with --src/--ref, nor a sentence model with --pairs.
    let a = a.to_str().unwrap();
    fails(&["seq2seq", "eval", "--src", a, "--ref", a], "date model");
}
