//! `seqmodels translate` and `seqmodels dates` through the built binary, with the built-in model.

mod common;

/// Success, stdout and stderr of `seqmodels ARGS` reading `stdin`.
fn run(args: &[&str], stdin: &[u8]) -> (bool, String, String) {
    let r = common::seqmodels_with_input(args, stdin);
    (r.ok, r.stdout, r.stderr)
}

/// The examples of the course's notebook, and a few more that people type.
const EXAMPLES: [(&str, &str); 9] = [
    ("3 May 1979", "1979-05-03"),
    ("5 April 09", "2009-04-05"),
    ("21th of August 2016", "2016-08-21"),
    ("Tue 10 Jul 2007", "2007-07-10"),
    ("Saturday May 9 2018", "2018-05-09"),
    ("March 3 2001", "2001-03-03"),
    ("March 3rd 2001", "2001-03-03"),
    ("1 March 2001", "2001-03-01"),
    ("4th of july 2001", "2001-07-04"),
];

#[test]
fn the_course_examples_come_out_right() {
    let mut args = vec!["translate", "--device", "cpu"];
    args.extend(EXAMPLES.iter().map(|e| e.0));
    let (ok, stdout, stderr) = run(&args, b"");
    assert!(ok, "{stderr}");
    let got: Vec<&str> = stdout.lines().collect();
    let want: Vec<&str> = EXAMPLES.iter().map(|e| e.1).collect();
    assert_eq!(got, want);
    // The course's examples hold no character the model has not seen.
    assert!(!stderr.contains("warning"), "{stderr}");
}

#[test]
fn characters_the_model_never_saw_are_named_in_a_warning() {
    let (ok, stdout, stderr) = run(
        &["translate", "--device", "cpu"],
        "3 May 1979
3 may 1979 ☃ñ
"
        .as_bytes(),
    );
    assert!(ok, "{stderr}");
    assert_eq!(stdout.lines().count(), 2, "{stdout}");
    assert!(
        stderr.contains("<stdin>:2: characters the model never saw, read as unknown: \"☃ñ\""),
        "{stderr}"
    );
    assert!(!stderr.contains("<stdin>:1:"), "{stderr}");
}

#[test]
fn stdin_lines_stream_and_bad_lines_are_reported_with_their_number() {
    let input = b"Tue 10 Jul 2007\n\n\xff\xfe\n1 March 2001\n";
    let (ok, stdout, stderr) = run(
        &["translate", "--device", "cpu", "--beam-width", "3"],
        input,
    );
    assert!(!ok);
    assert_eq!(stdout, "2007-07-10\n\n\n2001-03-01\n");
    assert!(
        stderr.contains("1 empty input line(s) kept as empty output lines"),
        "{stderr}"
    );
    assert!(
        stderr.contains("1 input(s) could not be translated"),
        "{stderr}"
    );
    assert!(stderr.contains("<stdin>:3: not valid UTF-8"), "{stderr}");
}

#[test]
fn n_best_and_json_output() {
    let (ok, stdout, stderr) = run(
        &[
            "translate",
            "--n-best",
            "3",
            "--beam-width",
            "3",
            "--format",
            "json",
            "4th of july 2001",
        ],
        b"",
    );
    assert!(ok, "{stderr}");
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    let outputs = v["outputs"].as_array().unwrap();
    assert_eq!(outputs.len(), 3);
    assert_eq!(outputs[0]["text"], "2001-07-04");
    assert!(outputs[0]["score"].as_f64().unwrap() >= outputs[1]["score"].as_f64().unwrap());
}

#[test]
fn too_long_input_says_the_limit() {
    let long = "1 ".repeat(40);
    common::fails(&["translate", long.as_str()], "this model reads at most 64");
}

#[test]
fn attention_is_drawn_in_the_terminal_and_as_png() {
    let (ok, _, stderr) = run(&["translate", "--attention", "-", "Tue 10 Jul 2007"], b"");
    assert!(ok, "{stderr}");
    assert!(stderr.contains("tue·10·jul·2007"), "{stderr}");
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("att.png");
    let (ok, _, stderr) = run(
        &[
            "translate",
            "--attention",
            png.to_str().unwrap(),
            "3 May 1979",
        ],
        b"",
    );
    assert!(ok, "{stderr}");
    assert!(std::fs::metadata(&png).unwrap().len() > 1000);
    // Another format or a missing folder is refused before anything is translated.
    let svg = dir.path().join("att.svg");
    let stderr = common::fails(
        &[
            "translate",
            "--attention",
            svg.to_str().unwrap(),
            "3 May 1979",
        ],
        "give a name ending in .png",
    );
    assert!(!stderr.contains("ImageError"), "{stderr}");
    let lost = dir.path().join("no/such/att.png");
    common::fails(
        &[
            "translate",
            "--attention",
            lost.to_str().unwrap(),
            "3 May 1979",
        ],
        "there is no folder",
    );
}

#[test]
fn a_missing_model_directory_is_a_clear_error() {
    common::fails(
        &["translate", "--model", "/nonexistent/model", "3 may 1979"],
        "checkpoint /nonexistent/model: no such model directory",
    );
}

#[test]
fn dates_generate_is_seeded() {
    let args = [
        "dates",
        "generate",
        "-n",
        "5",
        "--seed",
        "3",
        "--formats",
        "wide",
    ];
    let (a, b) = (run(&args, b""), run(&args, b""));
    assert!(a.0);
    assert_eq!(a.1, b.1);
    assert_eq!(a.1.lines().count(), 5);
    for line in a.1.lines() {
        let (_, iso) = line.split_once('\t').unwrap();
        assert_eq!(iso.len(), 10);
    }
}

#[test]
fn date_references_must_be_real_dates() {
    let dir = tempfile::tempdir().unwrap();
    let tsv = dir.path().join("dates.tsv");
    std::fs::write(&tsv, "3 may 1999\t1999-05-03\n28 feb 1999\t1999-2-28\n").unwrap();
    let path = tsv.to_str().unwrap();
    common::fails(
        &["seq2seq", "eval", "--pairs", path, "--device", "cpu"],
        "dates.tsv:2: \"1999-2-28\" is not a date written YYYY-MM-DD",
    );
    let out = dir.path().join("model");
    date_training_fails(&["--pairs", path], &out, "dates.tsv:2: \"1999-2-28\"");
    // Options of sentence models, sizes and training alike, are refused for dates rather than
    // ignored.
    for option in ["--dropout", "--label-smoothing"] {
        date_training_fails(
            &["--generate", "50", option, "0.5"],
            &out,
            &format!("only --task pairs reads {option}"),
        );
    }
    // --formats chooses generated pairs' formats: with a pairs file it would be ignored.
    date_training_fails(
        &["--pairs", path, "--formats", "wide"],
        &out,
        "--formats chooses the formats of --generate",
    );
}

/// `seqmodels seq2seq train --out OUT ARGS` fails with `needle` and leaves no `out` behind.
fn date_training_fails(args: &[&str], out: &std::path::Path, needle: &str) {
    let mut all = vec!["seq2seq", "train", "--out", out.to_str().unwrap()];
    all.extend_from_slice(args);
    common::fails(&all, needle);
    assert!(!out.exists());
}

#[test]
fn date_eval_writes_its_outputs_and_names_the_lines_it_rejects() {
    let dir = tempfile::tempdir().unwrap();
    let tsv = dir.path().join("dates.tsv");
    let long = "x".repeat(80);
    std::fs::write(
        &tsv,
        format!("3 may 1979\t1979-05-03\n\n{long}\t2001-01-01\n"),
    )
    .unwrap();
    let path = tsv.to_str().unwrap();
    let out = dir.path().join("out.txt");
    let (ok, stdout, stderr) = run(
        &[
            "seq2seq",
            "eval",
            "--pairs",
            path,
            "--output",
            out.to_str().unwrap(),
            "--device",
            "cpu",
        ],
        b"",
    );
    assert!(ok, "{stderr}");
    assert!(stdout.contains("1 inputs rejected"), "{stdout}");
    // The blank line 2 is passed over, so the rejected input is named as line 3.
    assert!(stderr.contains("dates.tsv:3: rejected"), "{stderr}");
    // One output line per pair, empty for the rejected input.
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "1979-05-03\n\n");
    // Options only sentence models read are refused, not ignored.
    common::fails(
        &["seq2seq", "eval", "--pairs", path, "--max-len-ratio", "0"],
        "--max-len-ratio and --replace-unk are for sentence models",
    );
    common::fails(
        &["translate", "--min-len", "5", "3 may 1979"],
        "--max-len-ratio, --min-len and --replace-unk are for sentence models",
    );
    // A beam past the cap, or a time budget past a year, is refused before any work.
    common::fails(
        &["translate", "-b", "5000", "3 may 1979"],
        "beam width 5000 is not in 1..=1024",
    );
    common::fails(
        &[
            "seq2seq",
            "train",
            "--task",
            "pairs",
            "--pairs",
            path,
            "--out",
            "x",
            "--time-budget",
            "18446744073709551615s",
        ],
        "the duration must be at most a year",
    );
    // Training names the file and line of an input longer than the model reads.
    let model = dir.path().join("model");
    date_training_fails(&["--pairs", path], &model, "dates.tsv:3: input");
    common::fails(&["dates", "generate", "-n", "0"], "must be at least 1");
}

#[test]
fn date_training_ends_with_a_line_that_says_why_it_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("model");
    // Not --quiet: stderr is a pipe here, so the progress events print their summaries alone.
    let run = common::seqmodels(&[
        "--threads",
        "1",
        "seq2seq",
        "train",
        "--generate",
        "300",
        "--epochs",
        "1",
        "--out",
        out.to_str().unwrap(),
        "--device",
        "cpu",
    ]);
    let closing = common::closing_line(&run);
    assert!(
        closing.starts_with("stopped after epoch 1: the epochs were run; kept epoch 1 "),
        "{closing}"
    );
    assert!(out.join("optimizer.safetensors").is_file());

    // A resumed date model keeps its sizes, learning rate and held-out split.
    let pairs = dir.path().join("pairs.tsv");
    let generated = common::seqmodels(&["dates", "generate", "-n", "50", "--seed", "4"]);
    std::fs::write(&pairs, generated.stdout).unwrap();
    for (option, value) in [
        ("--lr", "0.01"),
        ("--preset", "dates"),
        ("--valid-fraction", "0.2"),
    ] {
        let stderr = common::fails(
            &[
                "seq2seq",
                "train",
                "--pairs",
                pairs.to_str().unwrap(),
                "--resume",
                out.to_str().unwrap(),
                option,
                value,
            ],
            "--resume continues with the saved model's",
        );
        assert!(stderr.contains(option), "{stderr}");
    }
}

#[test]
fn inputs_that_are_not_complete_real_dates_are_refused_with_their_class() {
    let input = "good morning\n30 feb 2010\n5 March 2024\nOctober 1995\n";
    let (ok, stdout, stderr) = run(&["translate", "--device", "cpu"], input.as_bytes());
    assert!(!ok);
    assert_eq!(stdout, "\n\n2024-03-05\n\n");
    assert!(
        stderr.contains("<stdin>:1: refused (declined): \"good morning\""),
        "{stderr}"
    );
    assert!(
        stderr.contains("<stdin>:2: refused (impossible): \"30 feb 2010\""),
        "{stderr}"
    );
    assert!(stderr.contains("<stdin>:4: refused (declined)"), "{stderr}");
    assert!(!stderr.contains("<stdin>:3:"), "{stderr}");
    assert!(stderr.contains("3 input(s) could not be translated or were refused"));

    // JSON and TSV carry the refusal and the confidence as fields.
    let (ok, stdout, _) = run(
        &["translate", "--format", "json", "2010-06-31", "1999-04-30"],
        b"",
    );
    assert!(!ok);
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["refused"], "impossible");
    assert_eq!(lines[0]["outputs"][0]["text"], "");
    assert_eq!(lines[1]["refused"], serde_json::Value::Null);
    assert_eq!(lines[1]["outputs"][0]["text"], "1999-04-30");
    let confidence = lines[1]["outputs"][0]["confidence"].as_f64().unwrap();
    assert!(confidence > 0.5 && confidence <= 1.0, "{confidence}");
    let (_, stdout, _) = run(
        &["translate", "--format", "tsv", "next week", "1 May 2016"],
        b"",
    );
    let rows: Vec<Vec<&str>> = stdout.lines().map(|l| l.split('\t').collect()).collect();
    assert_eq!(rows[0][2], "");
    assert_eq!(rows[0][6], "declined");
    assert_eq!((rows[1][2], rows[1][6]), ("2016-05-01", ""));
    let confidence: f64 = rows[1][5].parse().unwrap();
    assert!((0.5..=1.0).contains(&confidence), "{confidence}");
}

#[test]
fn day_first_reads_slashed_dates_day_first() {
    let inputs = [
        "05/03/2004",
        "25/12/2004",
        "12/25/2004",
        "05.03.2004",
        "5 March 2004",
    ];
    let mut args = vec!["translate", "--device", "cpu"];
    args.extend(inputs);
    let (ok, stdout, stderr) = run(&args, b"");
    assert!(ok, "{stderr}");
    assert_eq!(
        stdout.lines().collect::<Vec<_>>(),
        [
            "2004-05-03",
            "2004-12-25",
            "2004-12-25",
            "2004-03-05",
            "2004-03-05"
        ]
    );
    args.push("--day-first");
    let (ok, stdout, stderr) = run(&args, b"");
    assert!(ok, "{stderr}");
    assert_eq!(
        stdout.lines().collect::<Vec<_>>(),
        [
            "2004-03-05",
            "2004-12-25",
            "2004-12-25",
            "2004-03-05",
            "2004-03-05"
        ]
    );
}

#[test]
fn min_confidence_refuses_answers_below_it() {
    let input = "Thrsday 8 Agust 1996";
    let (_, stdout, _) = run(&["translate", "--show-confidence", input], b"");
    let (date, shown) = stdout.trim_end().split_once('\t').unwrap();
    assert_eq!(date, "1996-08-08");
    let (_, stdout, _) = run(&["translate", "--format", "json", input], b"");
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    let confidence = v["outputs"][0]["confidence"].as_f64().unwrap();
    assert!(confidence < 1.0, "{confidence}");
    assert_eq!(shown, format!("{confidence:.6}"));
    let (ok, stdout, stderr) = run(&["translate", "--min-confidence", "0.1", input], b"");
    assert!(ok, "{stderr}");
    assert_eq!(stdout, "1996-08-08\n");
    let (ok, stdout, stderr) = run(&["translate", "--min-confidence", "1", input], b"");
    assert!(!ok);
    assert_eq!(stdout, "\n");
    assert!(stderr.contains("refused (low-confidence)"), "{stderr}");
    common::fails(
        &["translate", "--min-confidence", "1.5", input],
        "minimum confidence 1.5 must be in [0, 1]",
    );
}

#[test]
fn any_year_from_1000_to_2999_and_a_time_after_the_date() {
    let cases = [
        ("9 June 1812", "1812-06-09"),
        ("3 Sep 1901", "1901-09-03"),
        ("2222-02-02", "2222-02-02"),
        ("October 14, 1066", "1066-10-14"),
        ("June 9 2011 10:30am", "2011-06-09"),
        ("2011-06-09T10:30:00Z", "2011-06-09"),
        ("Tue, 05 Mar 2024 14:22:09 GMT", "2024-03-05"),
    ];
    let mut args = vec!["translate", "--device", "cpu"];
    args.extend(cases.iter().map(|c| c.0));
    let (ok, stdout, stderr) = run(&args, b"");
    assert!(ok, "{stderr}");
    let want: Vec<&str> = cases.iter().map(|c| c.1).collect();
    assert_eq!(stdout.lines().collect::<Vec<_>>(), want);
}
