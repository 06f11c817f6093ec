//! Tests of what a save and a load do against crashes, corruption, special files, other runs
//! and other kinds of model: hashes, part limits, the kind check, the lock, the exchange and its
//! fallback, and the recovery and cleanup of what a crashed save leaves.

use std::fs;
use std::path::Path;

use super::tests::{build, saved, vocab, TinyConfig, CFG};
use super::*;

/// The PID of a process that has ended.
fn dead_pid() -> u32 {
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    pid
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

fn flip_byte(path: &Path, at: usize) {
    let mut bytes = fs::read(path).unwrap();
    bytes[at] ^= 0x01;
    fs::write(path, bytes).unwrap();
}

fn save_with_optimizer(dir: &Path) -> VarStore {
    let vs = build(&CFG);
    let state = vec![("step".to_owned(), Tensor::from(3i64))];
    let meta = Meta::new("tiny", 1, 1);
    save_with(
        dir,
        &meta,
        &CFG,
        &vocab(),
        &vs,
        &[("optimizer.safetensors", state)],
    )
    .unwrap();
    vs
}

#[test]
fn meta_records_each_weight_file_and_a_flipped_byte_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("model");
    save_with_optimizer(&dir);
    let meta = read_meta(&dir).unwrap();
    let recorded: Vec<&str> = meta.sha256.keys().map(String::as_str).collect();
    assert_eq!(recorded, ["model.safetensors", "optimizer.safetensors"]);
    let weights = fs::read(dir.join(WEIGHTS_FILE)).unwrap();
    assert_eq!(meta.sha256[WEIGHTS_FILE], parts::sha256_hex(&weights));
    assert_eq!(
        load_tensors(&dir, "optimizer.safetensors").unwrap().len(),
        1
    );

    // A byte of a weight's data, past the header: safetensors alone would load it.
    flip_byte(&dir.join(WEIGHTS_FILE), weights.len() - 3);
    let err = load_weights(&dir, &mut build(&CFG))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("model.safetensors: is truncated or corrupt: its SHA-256"),
        "{err}"
    );
    let optimizer = dir.join("optimizer.safetensors");
    flip_byte(
        &optimizer,
        fs::metadata(&optimizer).unwrap().len() as usize - 1,
    );
    let err = load_tensors(&dir, "optimizer.safetensors").unwrap_err();
    assert!(err
        .to_string()
        .contains("optimizer.safetensors: is truncated or corrupt"));
}

#[test]
fn a_model_saved_without_hashes_still_loads() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("model");
    let original = saved(&dir, &CFG);
    let mut meta: serde_json::Value =
        serde_json::from_slice(&fs::read(dir.join(META_FILE)).unwrap()).unwrap();
    meta.as_object_mut().unwrap().remove("sha256").unwrap();
    fs::write(dir.join(META_FILE), meta.to_string()).unwrap();
    let mut fresh = build(&CFG);
    load_weights(&dir, &mut fresh).unwrap();
    assert!(original.variables()["out.bias"].equal(&fresh.variables()["out.bias"]));
}

#[cfg(unix)]
#[test]
fn devices_fifos_and_oversized_parts_are_refused_at_once() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("model");
    saved(&dir, &CFG);
    let vocab_path = dir.join(VOCAB_FILE);
    fs::remove_file(&vocab_path).unwrap();
    std::os::unix::fs::symlink("/dev/zero", &vocab_path).unwrap();
    let err = load::<TinyConfig, Vec<String>>(&dir, "tiny", 1).unwrap_err();
    assert!(
        err.to_string()
            .contains("vocab.json: is not a regular file"),
        "{err}"
    );
    fs::remove_file(&vocab_path).unwrap();
    let made = std::process::Command::new("mkfifo")
        .arg(&vocab_path)
        .status();
    if made.is_ok_and(|s| s.success()) {
        // Nobody writes into the FIFO: reading it would block for ever.
        let err = load::<TinyConfig, Vec<String>>(&dir, "tiny", 1).unwrap_err();
        assert!(err.to_string().contains("is not a regular file"), "{err}");
    }
    // A sparse config.json just over the limit: refused by its size, not read.
    let config = fs::File::create(dir.join(CONFIG_FILE)).unwrap();
    config.set_len(crate::limits::MAX_CONFIG_BYTES + 1).unwrap();
    let err = read_part(&dir.join(CONFIG_FILE), crate::limits::MAX_CONFIG_BYTES).unwrap_err();
    assert!(err
        .to_string()
        .contains("more than the 16777216 bytes a config.json may have"));
    // Weights larger than the model they are loaded into, plus a header, are not read.
    let weights = fs::File::options()
        .append(true)
        .open(dir.join(WEIGHTS_FILE))
        .unwrap();
    weights.set_len(64 << 20).unwrap();
    let err = load_weights(&dir, &mut build(&CFG))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("model.safetensors: is 67108864 bytes, more than"),
        "{err}"
    );
}

#[test]
fn a_model_of_another_kind_is_replaced_only_when_forced() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("model");
    saved(&dir, &CFG);
    let other = Meta::new("other", 1, 0);
    let err = save(&dir, &other, &CFG, &vocab(), &build(&CFG)).unwrap_err();
    assert!(
        err.to_string()
            .contains("holds a `tiny` model; refusing to replace it with a `other` model (--force"),
        "{err}"
    );
    assert!(check_out(&dir, "tiny", false).is_ok());
    {
        let _claim = claim(&dir, "other", true).unwrap();
        save(&dir, &other, &CFG, &vocab(), &build(&CFG)).unwrap();
    }
    assert_eq!(read_meta(&dir).unwrap().kind, "other");
    // Not even --force replaces a folder that is not a model, or a file.
    let folder = tmp.path().join("folder");
    fs::create_dir(&folder).unwrap();
    fs::write(folder.join("notes.txt"), "mine").unwrap();
    assert!(claim(&folder, "tiny", true).is_err());
    fs::write(tmp.path().join("file"), "mine").unwrap();
    let err = check_out(&tmp.path().join("file"), "tiny", true).unwrap_err();
    assert!(err.to_string().contains("is not a directory"), "{err}");
    assert_eq!(names(tmp.path()), ["file", "folder", "model"]);
}

#[cfg(unix)]
#[test]
fn a_directory_another_run_holds_is_refused_at_once() {
    use std::io::Write;
    use std::os::unix::io::AsRawFd;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("model");
    // Another run: its own open file and lock on `.model.lock`.
    let mut other = fs::File::create(tmp.path().join(".model.lock")).unwrap();
    other.write_all(b"4242").unwrap();
    // SAFETY: flock on a descriptor `other` keeps open.
    assert_eq!(unsafe { libc::flock(other.as_raw_fd(), libc::LOCK_EX) }, 0);
    let err = claim(&dir, "tiny", false).unwrap_err().to_string();
    assert!(
        err.contains("is in use by another seqmodels run (process 4242)"),
        "{err}"
    );
    let err = save(&dir, &Meta::new("tiny", 1, 0), &CFG, &vocab(), &build(&CFG)).unwrap_err();
    assert!(err.to_string().contains("in use by another seqmodels run"));
    drop(other);
    // Claims in one process share the lock; the last one removes the lock file.
    let first = claim(&dir, "tiny", false).unwrap();
    let second = claim(&dir, "tiny", false).unwrap();
    saved(&dir, &CFG);
    drop(first);
    assert!(tmp.path().join(".model.lock").exists());
    drop(second);
    assert_eq!(names(tmp.path()), ["model"]);
}

#[test]
fn the_fallback_replaces_a_model_without_the_exchange() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("model");
    saved(&dir, &CFG);
    let new = build(&CFG);
    let staged = tmp.path().join(".model.tmp-staged");
    fs::create_dir(&staged).unwrap();
    write_parts(
        &staged,
        &Meta::new("tiny", 1, 9),
        &CFG,
        &vocab(),
        &new,
        &[],
        &[],
    )
    .unwrap();
    swap::commit_with(&staged, &dir, false).unwrap();
    assert_eq!(read_meta(&dir).unwrap().seed, 9);
    let mut loaded = build(&CFG);
    load_weights(&dir, &mut loaded).unwrap();
    assert!(new.variables()["out.weight"].equal(&loaded.variables()["out.weight"]));
    assert_eq!(names(tmp.path()), ["model"]);
}

#[test]
fn a_model_a_crash_left_aside_is_recovered_and_leftovers_of_dead_runs_removed() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("model");
    saved(&dir, &CFG);
    let dead = dead_pid();
    // The fallback died between its renames: the old model aside, the new one not in place.
    let old = tmp.path().join(format!(".model.old-{dead}-0"));
    fs::rename(&dir, &old).unwrap();
    let half = tmp.path().join(format!(".model.tmp-{dead}-1"));
    fs::create_dir(&half).unwrap();
    fs::write(half.join(CONFIG_FILE), "{").unwrap();
    // A live process's temporary directory (this one's) is not touched.
    let live = tmp
        .path()
        .join(format!(".model.tmp-{}-7", std::process::id()));
    fs::create_dir(&live).unwrap();

    // A load puts the old model back.
    let loaded: Loaded<TinyConfig, Vec<String>> = load(&dir, "tiny", 1).unwrap();
    assert_eq!(loaded.config, CFG);
    load_weights(&dir, &mut build(&CFG)).unwrap();
    assert!(!old.exists());
    // A save (or a claim) removes the dead run's leftovers.
    saved(&dir, &CFG);
    let mut left = names(tmp.path());
    left.retain(|n| n != "model");
    assert_eq!(left, [live.file_name().unwrap().to_str().unwrap()]);
}

#[test]
fn a_missing_model_names_what_stands_beside_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("model");
    saved(&dir, &CFG);
    // An old model of a process that is still alive (this one): not taken from under it.
    let old = tmp
        .path()
        .join(format!(".model.old-{}-3", std::process::id()));
    fs::rename(&dir, &old).unwrap();
    let err = read_meta(&dir).unwrap_err().to_string();
    assert!(err.contains("no such model directory; "), "{err}");
    assert!(err.contains(".model.old-"), "{err}");
    assert!(err.contains("which is replacing it now"), "{err}");
    assert!(old.is_dir());
}

#[test]
fn a_failed_save_leaves_the_old_model_and_no_temporary_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("model");
    let original = saved(&dir, &CFG);
    // A name no file system takes: writing the extra file fails midway.
    let bad = vec![("x".to_owned(), Tensor::from(1.0f32))];
    let err = save_with(
        &dir,
        &Meta::new("tiny", 1, 0),
        &CFG,
        &vocab(),
        &build(&CFG),
        &[("no/such/dir.safetensors", bad)],
    );
    assert!(err.is_err());
    let mut loaded = build(&CFG);
    load_weights(&dir, &mut loaded).unwrap();
    assert!(original.variables()["out.weight"].equal(&loaded.variables()["out.weight"]));
    assert_eq!(names(tmp.path()), ["model"]);
}
