//! What a hostile or unlucky user does to a model directory, through the built binary: another
//! kind of model in `--out`, two runs on one `--out`, Ctrl-C, a kill between the steps of a
//! save (the `SEQMODELS_FAILPOINT` test hook), a flipped byte, special files as parts, and a
//! full disk (a small tmpfs, where this machine lets the test mount one).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::seqmodels;

/// A folder with a names file of `n` lines over ten letters (each letter in the first lines,
/// so every held-out character is in the training part).
fn names(n: usize) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = common::Lcg(7);
    let mut lines = vec!["abcdefghij".to_owned(); 4];
    lines.extend((0..n).map(|_| {
        (0..3 + rng.below(6))
            .map(|_| (b'a' + rng.below(10) as u8) as char)
            .collect::<String>()
    }));
    let data = dir.path().join("names.txt");
    std::fs::write(&data, lines.join("\n") + "\n").unwrap();
    (dir, data)
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// `charlm train` of a tiny model on `data` into `out`, seeded, for `epochs`.
fn charlm_args<'a>(data: &'a Path, out: &'a Path, seed: &'a str, epochs: &'a str) -> Vec<&'a str> {
    vec![
        "-q",
        "--threads",
        "1",
        "charlm",
        "train",
        "--data",
        s(data),
        "--out",
        s(out),
        "--embed",
        "4",
        "--hidden",
        "8",
        "--epochs",
        epochs,
        "--seed",
        seed,
    ]
}

fn weights_of(dir: &Path) -> Vec<u8> {
    std::fs::read(dir.join("model.safetensors")).unwrap()
}

/// The hidden entries beside `dir` (temporary and old directories, lock files).
fn hidden_beside(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with('.'))
        .collect()
}

fn samples(dir: &Path) -> common::Run {
    seqmodels(&[
        "charlm",
        "sample",
        "--model",
        s(dir),
        "-n",
        "2",
        "--seed",
        "1",
    ])
}

#[test]
fn a_model_of_another_kind_in_out_is_refused_before_training_unless_forced() {
    let (tmp, data) = names(40);
    let model = tmp.path().join("m");
    assert!(seqmodels(&charlm_args(&data, &model, "1", "1")).ok);
    let emoji = concat!(env!("CARGO_MANIFEST_DIR"), "/corpora/emoji/train.csv");
    let classify = |force: bool| {
        let mut args = vec![
            "-q",
            "classify",
            "train",
            "--train",
            emoji,
            "--out",
            s(&model),
        ];
        args.extend(["--model", "average", "--epochs", "1"]);
        if force {
            args.push("--force");
        }
        seqmodels(&args)
    };
    let refused = classify(false);
    assert!(!refused.ok);
    assert!(
        refused.stderr.contains(
            "holds a `charlm` model; refusing to replace it with a `classifier` model (--force"
        ),
        "{}",
        refused.stderr
    );
    assert!(
        !refused.stderr.contains("epoch"),
        "trained first: {}",
        refused.stderr
    );
    assert!(samples(&model).ok, "the character model is still there");
    let forced = classify(true);
    assert!(forced.ok, "{}", forced.stderr);
    let meta = std::fs::read_to_string(model.join("meta.json")).unwrap();
    assert!(meta.contains("\"kind\": \"classifier\""), "{meta}");

    let folder = tmp.path().join("notes");
    std::fs::create_dir(&folder).unwrap();
    std::fs::write(folder.join("todo.txt"), "mine").unwrap();
    let mut args = charlm_args(&data, &folder, "1", "1");
    args.push("--force");
    common::fails(&args, "is not a seqmodels model directory (no meta.json)");
    assert!(folder.join("todo.txt").is_file());
}

#[cfg(unix)]
#[test]
fn a_second_run_on_one_out_fails_at_once_and_ctrl_c_keeps_the_best_model() {
    let (tmp, data) = names(300);
    let model = tmp.path().join("m");
    let mut args = charlm_args(&data, &model, "1", "100000");
    args.retain(|a| *a != "-q");
    let first = Command::new(env!("CARGO_BIN_EXE_seqmodels"))
        .args(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while !model.join("meta.json").exists() {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "no epoch saved"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let second = seqmodels(&charlm_args(&data, &model, "2", "1"));
    assert!(!second.ok);
    let pid = first.id();
    assert!(
        second.stderr.contains(&format!(
            "is in use by another seqmodels run (process {pid})"
        )),
        "{}",
        second.stderr
    );
    // SAFETY: a signal to the child this test started.
    assert_eq!(unsafe { libc::kill(pid as i32, libc::SIGINT) }, 0);
    let out = first.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    let last = stderr.lines().last().unwrap_or_default();
    assert!(last.starts_with("interrupted (Ctrl-C) "), "{stderr}");
    assert!(last.contains("the best so far, is saved in"), "{last}");
    assert!(samples(&model).ok);
    assert_eq!(hidden_beside(&model), Vec::<String>::new());
}

#[test]
fn a_save_killed_between_its_steps_leaves_the_old_or_the_new_model() {
    let (tmp, data) = names(40);
    let (model, fresh) = (tmp.path().join("m"), tmp.path().join("fresh"));
    assert!(seqmodels(&charlm_args(&data, &model, "1", "1")).ok);
    assert!(seqmodels(&charlm_args(&data, &fresh, "2", "1")).ok);
    let (old, new) = (weights_of(&model), weights_of(&fresh));
    assert_ne!(old, new);
    for (points, expected) in [
        ("save-written", &old),
        ("save-exchanged", &new),
        ("save-no-exchange,save-moved-aside", &old),
    ] {
        let run = Command::new(env!("CARGO_BIN_EXE_seqmodels"))
            .args(charlm_args(&data, &model, "2", "1"))
            .env("SEQMODELS_FAILPOINT", points)
            .output()
            .unwrap();
        assert_eq!(run.status.code(), None, "{points}: not killed");
        assert!(!hidden_beside(&model).is_empty(), "{points}: no leftover");
        // The load finds a model (putting the old one back where the kill left none).
        let sampled = samples(&model);
        assert!(sampled.ok, "{points}: {}", sampled.stderr);
        assert_eq!(&weights_of(&model), expected, "{points}");
        // The next run cleans up, and its save goes through.
        assert!(seqmodels(&charlm_args(&data, &model, "1", "1")).ok);
        assert_eq!(weights_of(&model), old);
        assert_eq!(hidden_beside(&model), Vec::<String>::new(), "{points}");
    }
    // The fallback alone, to its end.
    let run = Command::new(env!("CARGO_BIN_EXE_seqmodels"))
        .args(charlm_args(&data, &model, "2", "1"))
        .env("SEQMODELS_FAILPOINT", "save-no-exchange")
        .output()
        .unwrap();
    assert!(run.status.success());
    assert_eq!(weights_of(&model), new);
    assert_eq!(hidden_beside(&model), Vec::<String>::new());
}

#[cfg(unix)]
#[test]
fn a_flipped_byte_and_special_files_are_named_at_once() {
    let (tmp, data) = names(40);
    let model = tmp.path().join("m");
    assert!(seqmodels(&charlm_args(&data, &model, "1", "1")).ok);
    let weights = model.join("model.safetensors");
    let mut bytes = std::fs::read(&weights).unwrap();
    let last = bytes.len() - 2;
    bytes[last] ^= 0x10;
    std::fs::write(&weights, &bytes).unwrap();
    let run = samples(&model);
    assert!(!run.ok);
    assert!(
        run.stderr
            .contains("model.safetensors: is truncated or corrupt: its SHA-256"),
        "{}",
        run.stderr
    );
    bytes[last] ^= 0x10;
    std::fs::write(&weights, &bytes).unwrap();
    assert!(samples(&model).ok);

    let vocab = model.join("vocab.json");
    std::fs::remove_file(&vocab).unwrap();
    std::os::unix::fs::symlink("/dev/zero", &vocab).unwrap();
    let started = Instant::now();
    let run = samples(&model);
    assert!(
        run.stderr.contains("vocab.json: is not a regular file"),
        "{}",
        run.stderr
    );
    std::fs::remove_file(&vocab).unwrap();
    if Command::new("mkfifo")
        .arg(&vocab)
        .status()
        .is_ok_and(|s| s.success())
    {
        let run = samples(&model);
        assert!(
            run.stderr.contains("vocab.json: is not a regular file"),
            "{}",
            run.stderr
        );
    }
    assert!(started.elapsed() < Duration::from_secs(30), "read for long");
}

/// Runs `script` (sh) with `args` in a private mount namespace, where it may mount a tmpfs on
/// `mount` (its own, gone with it); `None` where this machine does not allow it.
fn in_mount_namespace(script: &str, mount: &Path, args: &[&str]) -> Option<std::process::Output> {
    for unshare in [&["-m"][..], &["-r", "-m"][..]] {
        let probe = Command::new("unshare")
            .args(unshare)
            .args(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", s(mount)])
            .output();
        if probe.is_ok_and(|o| o.status.success()) {
            let run = Command::new("unshare")
                .args(unshare)
                .args(["sh", "-c", script, "sh"])
                .args(args)
                .output()
                .unwrap();
            return Some(run);
        }
    }
    None
}

#[test]
fn a_full_disk_fails_the_save_clearly_and_keeps_the_old_model() {
    let (tmp, data) = names(40);
    let mount = tmp.path().join("small");
    std::fs::create_dir(&mount).unwrap();
    // A tmpfs of 128 KiB: room for the tiny model, not for a second, larger one beside it.
    let script = r#"set -e
mount -t tmpfs -o size=128k tmpfs "$2"
"$1" -q --threads 1 charlm train --data "$3" --out "$2/m" --embed 4 --hidden 8 --epochs 1 --seed 1
sha256sum "$2/m/model.safetensors"
if "$1" -q --threads 1 charlm train --data "$3" --out "$2/m" --embed 8 --hidden 96 \
    --epochs 1 --seed 1 2>&1; then echo "SAVED ANYWAY"; fi
sha256sum "$2/m/model.safetensors"
"$1" charlm sample --model "$2/m" -n 1 --seed 1 >/dev/null && echo "LOADS"
ls -A "$2"
"#;
    let bin = env!("CARGO_BIN_EXE_seqmodels");
    let Some(run) = in_mount_namespace(script, &mount, &[bin, s(&mount), s(&data)]) else {
        eprintln!("skipped: this machine does not let the test mount a tmpfs (unshare -m)");
        return;
    };
    let out = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let lines: Vec<&str> = out.lines().collect();
    let hash = |l: &str| l.split_whitespace().next().unwrap().to_owned();
    assert!(
        out.contains("the model was not saved; the one there before is unchanged: writing"),
        "{out}"
    );
    assert!(out.contains("No space left on device"), "{out}");
    assert!(!out.contains("SAVED ANYWAY"), "{out}");
    let sums: Vec<String> = lines
        .iter()
        .filter(|l| l.ends_with("model.safetensors"))
        .map(|l| hash(l))
        .collect();
    assert_eq!(sums.len(), 2, "{out}");
    assert_eq!(sums[0], sums[1], "the old model changed: {out}");
    assert!(out.contains("LOADS"), "{out}");
    assert_eq!(
        lines.last(),
        Some(&"m"),
        "leftovers on the full disk: {out}"
    );
}
