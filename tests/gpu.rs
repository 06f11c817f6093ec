//! Checks that need a CUDA GPU. They are ignored by default (CI has no GPU); on a GPU machine run
//! `cargo test --release --test gpu -- --ignored`. Each one fails where no GPU is available.
//!
//! `SEQMODELS_BIN` names the seqmodels binary to run when the test binary was built elsewhere.

use std::path::Path;

mod common;

/// Success, stdout and stderr of `seqmodels ARGS` reading `stdin`.
fn run(args: &[&str], stdin: &[u8]) -> (bool, String, String) {
    let r = common::seqmodels_with_input(args, stdin);
    (r.ok, r.stdout, r.stderr)
}

fn ok(args: &[&str]) -> String {
    let (ok, stdout, stderr) = run(args, b"");
    assert!(ok, "seqmodels {args:?} failed:\n{stdout}{stderr}");
    stdout
}

#[test]
#[ignore = "needs a CUDA GPU: cargo test --release --test gpu -- --ignored"]
fn doctor_checks_the_gpu() {
    let stdout = ok(&["doctor", "--device", "cuda"]);
    let check = stdout
        .lines()
        .find(|l| l.starts_with("check cuda:0"))
        .unwrap_or_else(|| panic!("no cuda:0 check in\n{stdout}"));
    assert!(check.contains(" ok: "), "{stdout}");
    assert!(!stdout.contains("GPUs      0"), "{stdout}");
}

/// The built-in date model decodes the same on the GPU as on the CPU, greedy and with a beam.
#[test]
#[ignore = "needs a CUDA GPU: cargo test --release --test gpu -- --ignored"]
fn translate_on_the_gpu_matches_the_cpu() {
    let pairs = ok(&[
        "dates",
        "generate",
        "-n",
        "3000",
        "--seed",
        "4242",
        "--formats",
        "wide",
    ]);
    let (inputs, refs): (Vec<&str>, Vec<&str>) =
        pairs.lines().map(|l| l.split_once('\t').unwrap()).unzip();
    let stdin = inputs.join("\n") + "\n";
    for beam in ["1", "5"] {
        let decode = |device: &str| {
            let args = ["translate", "--device", device, "--beam-width", beam];
            let (ok, stdout, stderr) = run(&args, stdin.as_bytes());
            assert!(ok, "{stderr}");
            stdout.lines().map(str::to_owned).collect::<Vec<_>>()
        };
        let gpu = decode("cuda");
        let cpu = decode("cpu");
        assert_eq!(gpu.len(), inputs.len());
        let differ = gpu.iter().zip(&cpu).filter(|(g, c)| g != c).count();
        assert_eq!(differ, 0, "beam {beam}: {differ} outputs differ");
        let right = gpu.iter().zip(&refs).filter(|(g, r)| g == r).count();
        assert!(
            right as f64 >= 0.99 * refs.len() as f64,
            "beam {beam}: {right}/{}",
            refs.len()
        );
    }
}

/// A date model trained on the GPU saves a checkpoint that evaluates on the CPU and on the GPU
/// with the same figure, and it has learnt something.
#[test]
#[ignore = "needs a CUDA GPU: cargo test --release --test gpu -- --ignored"]
fn seq2seq_trains_on_the_gpu_and_loads_on_the_cpu() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m");
    let model = model.to_str().unwrap();
    ok(&[
        "-q",
        "seq2seq",
        "train",
        "--generate",
        "20000",
        "--epochs",
        "6",
        "--seed",
        "5",
        "--device",
        "cuda",
        "--out",
        model,
    ]);
    let pairs = dir.path().join("test.tsv");
    std::fs::write(
        &pairs,
        ok(&["dates", "generate", "-n", "2000", "--seed", "99"]),
    )
    .unwrap();
    let eval = |device: &str| {
        let p = pairs.to_str().unwrap();
        let stdout = ok(&[
            "-q", "seq2seq", "eval", "--model", model, "--pairs", p, "--device", device,
        ]);
        let line = stdout
            .lines()
            .find(|l| l.contains("exact match"))
            .unwrap_or_else(|| panic!("no exact match in\n{stdout}"))
            .to_owned();
        line
    };
    let on_gpu = eval("cuda");
    let on_cpu = eval("cpu");
    let percent = |line: &str| -> f64 {
        let at = line.find('%').unwrap();
        let start = line[..at].rfind(' ').unwrap() + 1;
        line[start..at].parse().unwrap()
    };
    assert_eq!(percent(&on_gpu), percent(&on_cpu), "{on_gpu} / {on_cpu}");
    assert!(percent(&on_cpu) > 50.0, "{on_cpu}");
}

/// Two topics that never share a sentence, as in tests/embed_cli.rs.
fn write_corpus(path: &Path) {
    let mut rng = common::Lcg(12345);
    let mut text = String::new();
    for _ in 0..6000 {
        let topic = if rng.below(2) == 0 { 'a' } else { 'b' };
        let words: Vec<String> = (0..8)
            .map(|_| format!("{topic}{}", rng.below(10)))
            .collect();
        text.push_str(&words.join(" "));
        text.push('\n');
    }
    std::fs::write(path, text).unwrap();
}

/// `embed train --device cuda` runs the batched libtorch trainer and learns the topics.
#[test]
#[ignore = "needs a CUDA GPU: cargo test --release --test gpu -- --ignored"]
fn word2vec_trains_on_the_gpu() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("corpus.txt");
    write_corpus(&corpus);
    let vectors = dir.path().join("v.bin");
    let v = vectors.to_str().unwrap();
    let stdout = ok(&[
        "-q",
        "embed",
        "train",
        "--corpus",
        corpus.to_str().unwrap(),
        "--out",
        v,
        "--dim",
        "16",
        "--min-count",
        "1",
        "--sample",
        "0",
        "--epochs",
        "4",
        "--alpha",
        "0.05",
        "--seed",
        "3",
        "--device",
        "cuda",
    ]);
    assert!(stdout.contains("cuda"), "{stdout}");
    let stdout = ok(&["embed", "similar", "a3", "-k", "5", "--vectors", v]);
    let neighbours: Vec<&str> = stdout
        .lines()
        .map(|l| l.split('\t').next().unwrap())
        .collect();
    assert_eq!(neighbours.len(), 5);
    assert!(neighbours.iter().all(|w| w.starts_with('a')), "{stdout}");
    let sim = |a: &str, b: &str| -> f64 {
        ok(&["embed", "similarity", a, b, "--vectors", v])
            .trim()
            .parse()
            .unwrap()
    };
    let within = (sim("a1", "a2") + sim("b3", "b4")) / 2.0;
    let across = (sim("a1", "b2") + sim("a3", "b4")) / 2.0;
    assert!(within > across + 0.3, "within {within}, across {across}");
}

/// A character model trained on the GPU loads on the CPU: the same held-out loss (to rounding)
/// and the same greedy samples on both devices.
#[test]
#[ignore = "needs a CUDA GPU: cargo test --release --test gpu -- --ignored"]
fn charlm_trains_on_the_gpu_and_matches_the_cpu() {
    let dir = tempfile::tempdir().unwrap();
    let names: Vec<String> = ["mar", "lin", "tor", "vel", "sab", "nor"]
        .iter()
        .flat_map(|s| {
            ["a", "o", "ina", "us", "el"]
                .iter()
                .map(move |e| format!("{s}{e}"))
        })
        .collect();
    let data = dir.path().join("names.txt");
    std::fs::write(&data, names.join("\n") + "\n").unwrap();
    let (d, model) = (data.to_str().unwrap(), dir.path().join("m"));
    let m = model.to_str().unwrap();
    let stdout = ok(&[
        "-q",
        "charlm",
        "train",
        "--data",
        d,
        "--out",
        m,
        "--hidden",
        "64",
        "--embed",
        "16",
        "--batch-size",
        "8",
        "--lr",
        "0.01",
        "--valid-count",
        "3",
        "--epochs",
        "30",
        "--device",
        "cuda",
    ]);
    let best: f64 = stdout
        .split("best held-out ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no held-out figure in {stdout}"));
    assert!(best < 1.5, "{stdout}");
    let nats = |device: &str| -> f64 {
        let out = ok(&["charlm", "eval", "-m", m, "--data", d, "--device", device]);
        out.split(": ")
            .nth(1)
            .unwrap()
            .split(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    let (gpu, cpu) = (nats("cuda"), nats("cpu"));
    assert!((gpu - cpu).abs() < 1e-3, "gpu {gpu}, cpu {cpu}");
    let greedy = |device: &str| {
        ok(&[
            "charlm", "sample", "-m", m, "-n", "3", "--top-k", "1", "--prefix", "to", "--device",
            device,
        ])
    };
    assert_eq!(greedy("cuda"), greedy("cpu"));
}

/// A classifier trained on the GPU (the shipped emoji corpus) labels the test sentences, and
/// loads on the CPU with the same accuracy.
#[test]
#[ignore = "needs a CUDA GPU: cargo test --release --test gpu -- --ignored"]
fn classify_trains_on_the_gpu_and_loads_on_the_cpu() {
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpora/emoji");
    let (train, test) = (root.join("train.csv"), root.join("test.csv"));
    let model = dir.path().join("emo");
    let m = model.to_str().unwrap();
    ok(&[
        "-q",
        "classify",
        "train",
        "--train",
        train.to_str().unwrap(),
        "--out",
        m,
        "--bidirectional",
        "--epochs",
        "25",
        "--device",
        "cuda",
    ]);
    let accuracy = |device: &str| -> f64 {
        let out = ok(&[
            "classify",
            "eval",
            "--model",
            m,
            "--data",
            test.to_str().unwrap(),
            "--format",
            "json",
            "--device",
            device,
        ]);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        v["accuracy"].as_f64().unwrap()
    };
    let gpu = accuracy("cuda");
    assert!(gpu >= 0.9, "{gpu}");
    assert_eq!(gpu, accuracy("cpu"));
}

#[test]
#[ignore = "needs a CUDA GPU: cargo test --release --test gpu -- --ignored"]
fn sentence_translator_trains_on_the_gpu_and_decodes_the_same_on_the_cpu() {
    // The toy language pair of tests/sentences_cli.rs: the target is the source reversed.
    let dir = tempfile::tempdir().unwrap();
    let toy = common::toy_pairs(1000, 7);
    let tsv: String = toy.iter().map(|(s, t)| format!("{s}\t{t}\n")).collect();
    let sources: String = toy[..50].iter().map(|(s, _)| format!("{s}\n")).collect();
    let pairs = dir.path().join("pairs.tsv");
    std::fs::write(&pairs, tsv).unwrap();
    let model = dir.path().join("m");
    let model = model.to_str().unwrap();
    let mut args = vec![
        "-q",
        "seq2seq",
        "train",
        "--task",
        "pairs",
        "--pairs",
        pairs.to_str().unwrap(),
        "--out",
        model,
        "--device",
        "cuda",
        "--epochs",
        "12",
        "--batch-size",
        "32",
        "--lr",
        "1e-2",
        "--seed",
        "3",
    ];
    args.extend(common::TOY_MODEL);
    ok(&args);
    let translate = |device: &str| {
        let (ok, stdout, stderr) = run(
            &[
                "translate",
                "--model",
                model,
                "--device",
                device,
                "--beam-width",
                "3",
            ],
            sources.as_bytes(),
        );
        assert!(ok, "{stderr}");
        stdout
    };
    let on_gpu = translate("cuda");
    assert_eq!(on_gpu, translate("cpu"));
    let right = on_gpu
        .lines()
        .zip(sources.lines())
        .filter(|(out, src)| {
            let want: Vec<String> = src.split(' ').rev().map(|w| w.replace('s', "t")).collect();
            *out == want.join(" ")
        })
        .count();
    assert!(right >= 45, "{right}/50 right:\n{on_gpu}");
}
