//! Putting a finished model directory in the place of the old one so that, whatever instant
//! the process dies at, the path holds the old model or the new one, never neither.
//!
//! A save writes the new model into `.NAME.tmp-PID-N` beside `NAME` and syncs its files and the
//! directory. Then:
//!
//! - **exchange** (Linux 3.15+, ext4, xfs, btrfs, tmpfs ...): `renameat2(RENAME_EXCHANGE)` swaps
//!   the two directories in one step; the parent is synced, and the old model, now under the
//!   temporary name, is removed;
//! - **fallback**, where the filesystem refuses the exchange (EINVAL: some network and FUSE
//!   filesystems; ENOSYS: an older kernel): the old model is renamed to `.NAME.old-PID-N`, the
//!   new one renamed to `NAME`, the parent synced and the old one removed. Between the two
//!   renames `NAME` is missing; if the process dies there, [`recover`] renames the old model
//!   back, which the next save or load of `NAME` does.
//!
//! Leftovers of runs that died (temporary and old directories whose PID is no longer alive)
//! are removed by [`clean_leftovers`] when a run claims `NAME` and at each save.
//!
//! The test hook [`failpoint`](crate::text::failpoint) can kill the process between any two
//! steps (`save-written`, `save-exchanged`, `save-moved-aside`), and `save-no-exchange` takes
//! the fallback on any filesystem.

use std::ffi::OsString;
use std::fs;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::META_FILE;
use crate::error::{Error, Result};
use crate::text::{failpoint, failpoint_set, leftover_pid, pid_alive, sync_dir};

/// The folder that holds a model directory and the directory's name. A path whose last part is
/// not a name (`.`, `..`, `/`) is refused: a model directory is replaced by renaming it.
pub(crate) fn split(dir: &Path) -> Result<(PathBuf, OsString)> {
    match dir.components().next_back() {
        Some(Component::Normal(name)) => Ok((crate::text::parent_dir(dir), name.to_owned())),
        _ => Err(Error::checkpoint(
            dir,
            "is not a directory name that a model can be saved to (name one, e.g. out/model)",
        )),
    }
}

/// `<parent>/.<name>.<tag>-<pid>-<n>`: hidden, unique within this process and across processes.
pub(crate) fn sibling(dir: &Path, tag: &str) -> Result<PathBuf> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let (parent, name) = split(dir)?;
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    Ok(parent.join(format!(
        ".{}.{tag}-{}-{n}",
        name.to_string_lossy(),
        std::process::id()
    )))
}

/// Puts the complete, synced model directory `tmp` in the place of `dir` (see the module doc),
/// leaving nothing of the old model behind.
pub(crate) fn commit(tmp: &Path, dir: &Path) -> Result<()> {
    commit_with(tmp, dir, !failpoint_set("save-no-exchange"))
}

/// [`commit`], trying the exchange only when `try_exchange`.
pub(crate) fn commit_with(tmp: &Path, dir: &Path, try_exchange: bool) -> Result<()> {
    sync_dir(tmp)?;
    failpoint("save-written");
    let (parent, _) = split(dir)?;
    if fs::symlink_metadata(dir).is_err() {
        fs::rename(tmp, dir).map_err(|e| Error::io("renaming into", dir, e))?;
        return sync_dir(&parent);
    }
    if try_exchange && exchange(tmp, dir).map_err(|e| Error::io("exchanging with", dir, e))? {
        sync_dir(&parent)?;
        failpoint("save-exchanged");
        // `tmp` holds the old model now.
        fs::remove_dir_all(tmp).map_err(|e| Error::io("removing the old model", tmp, e))?;
        return sync_dir(&parent);
    }
    let old = sibling(dir, "old")?;
    fs::rename(dir, &old).map_err(|e| Error::io("moving aside", dir, e))?;
    failpoint("save-moved-aside");
    if let Err(e) = fs::rename(tmp, dir) {
        let _ = fs::rename(&old, dir);
        return Err(Error::io("renaming into", dir, e));
    }
    sync_dir(&parent)?;
    fs::remove_dir_all(&old).map_err(|e| Error::io("removing the old model", &old, e))?;
    sync_dir(&parent)
}

/// Swaps the entries `a` and `b` in one step: `Ok(false)` where the filesystem or the kernel
/// cannot.
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> std::io::Result<bool> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let c = |p: &Path| CString::new(p.as_os_str().as_bytes()).map_err(std::io::Error::other);
    let (a, b) = (c(a)?, c(b)?);
    // SAFETY: two NUL-terminated paths relative to the working directory; the raw system call
    // needs no glibc 2.28 for its wrapper.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_renameat2,
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if rc == 0 {
        return Ok(true);
    }
    let err = std::io::Error::last_os_error();
    match err.raw_os_error() {
        Some(libc::EINVAL | libc::ENOSYS | libc::EOPNOTSUPP) => Ok(false),
        _ => Err(err),
    }
}

#[cfg(not(target_os = "linux"))]
fn exchange(_: &Path, _: &Path) -> std::io::Result<bool> {
    Ok(false)
}

/// A hidden directory that a save of a model directory left beside it.
#[derive(Debug)]
struct Leftover {
    path: PathBuf,
    /// An old model moved aside (`.NAME.old-*`), not a temporary one (`.NAME.tmp-*`).
    old: bool,
    pid: u32,
}

/// The hidden directories that saves of `dir` left beside it.
fn leftovers(dir: &Path) -> Vec<Leftover> {
    let Ok((parent, name)) = split(dir) else {
        return Vec::new();
    };
    let Ok(entries) = fs::read_dir(&parent) else {
        return Vec::new();
    };
    let name = name.to_string_lossy();
    let (tmp, old) = (format!(".{name}.tmp-"), format!(".{name}.old-"));
    entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter_map(|e| {
            let file_name = e.file_name().into_string().ok()?;
            let (pid, old) = match leftover_pid(&file_name, &tmp, "") {
                Some(pid) => (pid, false),
                None => (leftover_pid(&file_name, &old, "")?, true),
            };
            Some(Leftover {
                path: e.path(),
                old,
                pid,
            })
        })
        .collect()
}

fn dead(leftover: &Leftover) -> bool {
    leftover.pid != std::process::id() && !pid_alive(leftover.pid)
}

/// When `dir` is missing because a save died between its two renames, renames the old model
/// back into place and says so. A complete old model (its `meta.json` written) of a dead
/// process is taken; without one, nothing is done.
pub(crate) fn recover(dir: &Path) -> Result<bool> {
    if fs::symlink_metadata(dir).is_ok() {
        return Ok(false);
    }
    let found = leftovers(dir)
        .into_iter()
        .filter(|l| l.old && dead(l) && l.path.join(META_FILE).is_file())
        .max_by_key(|l| fs::metadata(&l.path).and_then(|m| m.modified()).ok());
    let Some(old) = found else {
        return Ok(false);
    };
    fs::rename(&old.path, dir).map_err(|e| Error::io("recovering the model into", dir, e))?;
    sync_dir(&split(dir)?.0)?;
    Ok(true)
}

/// Recovers `dir` if a dead save left it missing ([`recover`]), then removes the temporary and
/// old directories that dead saves of `dir` left. What cannot be removed stays (an error names
/// the first).
pub(crate) fn clean_leftovers(dir: &Path) -> Result<()> {
    recover(dir)?;
    for leftover in leftovers(dir).iter().filter(|l| dead(l)) {
        fs::remove_dir_all(&leftover.path)
            .map_err(|e| Error::io("removing a crashed save's leftover", &leftover.path, e))?;
    }
    Ok(())
}

/// What stands beside a missing `dir`: "; .NAME.old-12-0 beside it holds a model that process
/// 12 is replacing", for the error that says there is no model.
pub(crate) fn missing_hint(dir: &Path) -> String {
    leftovers(dir)
        .into_iter()
        .find(|l| l.old)
        .map(|l| {
            let state = if dead(&l) {
                "which died while replacing it"
            } else {
                "which is replacing it now"
            };
            format!(
                "; {} beside it holds the previous model of process {} ({state})",
                l.path.display(),
                l.pid
            )
        })
        .unwrap_or_default()
}

/// Waits up to two seconds for a live process that is replacing `dir` to put it back in place
/// (the fallback's window between its two renames); true when `dir` is there.
pub(crate) fn wait_for_live_save(dir: &Path) -> bool {
    for _ in 0..100 {
        if fs::symlink_metadata(dir).is_ok() {
            return true;
        }
        if !leftovers(dir).iter().any(|l| l.old && !dead(l)) {
            return false;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    fs::symlink_metadata(dir).is_ok()
}
