//! Claiming the directory a run saves its model to (`--out`), before the run trains:
//!
//! - **the kind check** ([`check_out`]): a model directory of another kind is not replaced
//!   unless asked to (`--force`), and a directory that is not a model at all never is;
//! - **the lock**: `.NAME.lock` beside the directory, held with `flock` for as long as the
//!   [`Claim`] lives (and released by the system when the process ends however it ends), so a
//!   second run on the same directory fails at once instead of both saving over each other;
//! - **leftovers**: temporary and old directories of crashed saves are cleaned up, and a model
//!   that a crash left under its old name is put back ([`super::swap`]).
//!
//! Every save takes the same steps: it reuses its process's claim, or claims the directory for
//! the length of the save.

use std::fs::{self, File};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::{swap, Meta, META_FILE};
use crate::error::{Error, Result};

/// `Ok` when a model of `kind` may be saved at `dir`: nothing is there, an empty directory, or a
/// model directory of the same kind; with `force`, a model directory of any kind (or one whose
/// `meta.json` cannot be read). A file, or a directory with files that is not a model, is never
/// replaced: an error says what is there.
pub fn check_out(dir: &Path, kind: &str, force: bool) -> Result<()> {
    let stat = match fs::metadata(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io("reading", dir, e)),
        Ok(stat) => stat,
    };
    if !stat.is_dir() {
        return Err(Error::checkpoint(
            dir,
            "exists and is not a directory; refusing to replace it",
        ));
    }
    if fs::symlink_metadata(dir.join(META_FILE)).is_ok() {
        let reason = match super::parts::read_json::<Meta>(dir, META_FILE) {
            Ok(meta) if meta.kind == kind => return Ok(()),
            _ if force => return Ok(()),
            Ok(meta) => format!(
                "holds a `{}` model; refusing to replace it with a `{kind}` model (--force \
                 replaces it)",
                super::short(&meta.kind)
            ),
            Err(e) => format!(
                "has a meta.json that cannot be read ({e}); refusing to replace it (--force \
                 replaces it)"
            ),
        };
        return Err(Error::checkpoint(dir, reason));
    }
    let empty = fs::read_dir(dir)
        .map_err(|e| Error::io("reading", dir, e))?
        .next()
        .is_none();
    if empty {
        return Ok(());
    }
    Err(Error::checkpoint(
        dir,
        "exists and is not a seqmodels model directory (no meta.json); refusing to replace it",
    ))
}

/// A directory claimed for this process's saves: locked against other runs until dropped.
#[must_use = "the claim holds the lock on the directory until it is dropped"]
#[derive(Debug)]
pub struct Claim {
    lock: PathBuf,
}

/// One lock this process holds: its file, whether the claim may replace another kind, and how
/// many [`Claim`]s share it.
struct Held {
    lock: PathBuf,
    file: File,
    force: bool,
    claims: usize,
}

static HELD: Mutex<Vec<Held>> = Mutex::new(Vec::new());

fn held() -> std::sync::MutexGuard<'static, Vec<Held>> {
    HELD.lock().unwrap_or_else(|e| e.into_inner())
}

/// Claims `dir` for saving a model of `kind` (see the module doc): checks it with
/// [`check_out`], locks it against other runs (an error at once when another holds it), and
/// cleans up the leftovers of crashed saves. A second claim in the same process shares the
/// first's lock.
pub fn claim(dir: &Path, kind: &str, force: bool) -> Result<Claim> {
    let lock = lock_path(dir)?;
    let mut all = held();
    if let Some(h) = all.iter_mut().find(|h| h.lock == lock) {
        h.claims += 1;
        h.force |= force;
    } else {
        let file = lock_file(&lock, dir)?;
        all.push(Held {
            lock: lock.clone(),
            file,
            force,
            claims: 1,
        });
    }
    let force = all.iter().any(|h| h.lock == lock && h.force);
    drop(all);
    let claim = Claim { lock };
    check_out(dir, kind, force)?;
    swap::clean_leftovers(dir)?;
    Ok(claim)
}

/// The claim a save of a `kind` model at `dir` works under: this process's own, or one taken
/// for the save alone.
pub(crate) fn claim_for_save(dir: &Path, kind: &str) -> Result<Claim> {
    claim(dir, kind, false)
}

impl Drop for Claim {
    fn drop(&mut self) {
        let mut all = held();
        let Some(i) = all.iter().position(|h| h.lock == self.lock) else {
            return;
        };
        all[i].claims -= 1;
        if all[i].claims == 0 {
            let h = all.swap_remove(i);
            // Removed while still locked: a run that opened the file before sees that its path
            // names another file now, and tries again (see `lock_file`).
            let _ = fs::remove_file(&h.lock);
            drop(h.file);
        }
    }
}

/// `<parent>/.<name>.lock`, with the parent made absolute (and created, as the save would).
fn lock_path(dir: &Path) -> Result<PathBuf> {
    let (parent, name) = swap::split(dir)?;
    fs::create_dir_all(&parent).map_err(|e| Error::io("creating", &parent, e))?;
    let parent = fs::canonicalize(&parent).map_err(|e| Error::io("resolving", &parent, e))?;
    Ok(parent.join(format!(".{}.lock", name.to_string_lossy())))
}

/// Opens and locks the lock file `path` of `dir`, and writes this process's ID into it.
fn lock_file(path: &Path, dir: &Path) -> Result<File> {
    for _ in 0..16 {
        let mut file = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(|e| Error::io("creating the lock file", path, e))?;
        match try_lock(&file) {
            Ok(true) => {}
            Ok(false) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = match holder.trim() {
                    "" => String::new(),
                    pid => format!(" (process {pid})"),
                };
                return Err(Error::checkpoint(
                    dir,
                    format!(
                        "is in use by another seqmodels run{holder}, which holds {}; wait for it \
                         to end or choose another --out",
                        path.display()
                    ),
                ));
            }
            Err(e) => return Err(Error::io("locking", path, e)),
        }
        if same_file(&file, path) {
            let pid = std::process::id().to_string();
            file.set_len(0)
                .and_then(|()| file.rewind())
                .and_then(|()| file.write_all(pid.as_bytes()))
                .map_err(|e| Error::io("writing", path, e))?;
            return Ok(file);
        }
    }
    Err(Error::checkpoint(
        dir,
        format!("its lock file {} keeps changing", path.display()),
    ))
}

/// Whether the open `file` is still the one at `path` (its holder may have removed it between
/// our open and our lock).
fn same_file(file: &File, path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (file.metadata(), fs::metadata(path)) {
            (Ok(a), Ok(b)) => (a.dev(), a.ino()) == (b.dev(), b.ino()),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (file, path);
        true
    }
}

/// Takes the exclusive lock on `file` without waiting: `Ok(false)` when another holds it. A
/// filesystem without locks (ENOLCK, EOPNOTSUPP) lets the run go on unlocked.
fn try_lock(file: &File) -> std::io::Result<bool> {
    #[cfg(unix)]
    {
        use std::os::unix::io::AsRawFd;
        // SAFETY: flock on a file descriptor that `file` keeps open.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
            return Ok(true);
        }
        let err = std::io::Error::last_os_error();
        match err.raw_os_error() {
            Some(libc::EWOULDBLOCK) => Ok(false),
            Some(libc::ENOLCK | libc::EOPNOTSUPP) => Ok(true),
            _ => Err(err),
        }
    }
    #[cfg(not(unix))]
    {
        let _ = file;
        Ok(true)
    }
}
