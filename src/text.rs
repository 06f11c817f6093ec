//! Reading text files line by line, with errors that name the file and line; and writing a
//! file so that a crash at any instant leaves the old file or the complete new one.
//!
//! Every reader of user text holds at most [`max_line_bytes`] of a line (`--max-line-bytes`,
//! 1 MiB by default), whatever the input: [`lines`] refuses a longer line by number and length,
//! [`cut_lines`] cuts it with a [`Cut`] that says so (see `lines.rs`); CSV and TSV records are
//! read field by field under the same bound (`delimited.rs`).
//!
//! [`replace_atomically`] writes a temporary file beside the target (`.tmp-PID-N-NAME`), syncs
//! it, renames it over the target and syncs the folder, so the rename itself survives a power
//! cut. Temporary files of runs that died (their PID is no longer alive) are removed the next
//! time the same file is written. The steps are shared with the model directories of
//! [`crate::checkpoint`]: `sync_dir`, `pid_alive` and the test hook `failpoint`.

mod delimited;
mod lines;

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Error, Result};
pub(crate) use delimited::{records, Keep, Record};
pub use lines::{
    byte_size, cut_lines, lines, max_line_bytes, set_max_line_bytes, Cut, CutLines, Line, Lines,
    DEFAULT_MAX_LINE_BYTES,
};
pub(crate) use lines::{read_line_into, too_long};

/// `reader` as a buffered reader, decompressed when it starts with the gzip magic bytes
/// `1f 8b` (whatever the file is called). Multi-member gzip is read whole, because
/// `cat a.gz b.gz` and pigz output are valid gzip files too.
pub fn maybe_gunzip<'a, R: Read + 'a>(reader: R, name: &Path) -> Result<Box<dyn BufRead + 'a>> {
    const CAPACITY: usize = 1 << 18;
    let mut reader = BufReader::with_capacity(CAPACITY, reader);
    let head = reader
        .fill_buf()
        .map_err(|e| Error::io("reading", name, e))?;
    Ok(if head.starts_with(&[0x1f, 0x8b]) {
        let unzipped = flate2::bufread::MultiGzDecoder::new(reader);
        Box::new(BufReader::with_capacity(CAPACITY, unzipped))
    } else {
        Box::new(reader)
    })
}

/// Opens `path` for reading, decompressing gzip (see [`maybe_gunzip`]).
pub fn open_maybe_gz(path: &Path) -> Result<Box<dyn BufRead>> {
    let file = File::open(path).map_err(|e| Error::io("opening", path, e))?;
    maybe_gunzip(file, path)
}

/// Reads every line of `reader` (named `path` in errors), without line terminators. A line that
/// is not UTF-8, or longer than [`max_line_bytes`], is an error naming its number.
pub fn read_lines_from<R: Read>(reader: R, path: &Path) -> Result<Vec<String>> {
    lines(BufReader::new(reader), path)
        .map(|line| line.map(|(_, l)| l))
        .collect()
}

/// Reads the lines of the file at `path`; a missing file is an error naming it.
pub fn read_lines(path: &Path) -> Result<Vec<String>> {
    let file = File::open(path).map_err(|e| Error::io("opening", path, e))?;
    read_lines_from(file, path)
}

/// Reads the rows of a TSV file that has at least `min_columns` non-empty columns on every
/// line; blank lines are skipped, and a short line is an error naming it.
pub fn read_tsv(path: &Path, min_columns: usize) -> Result<Vec<Vec<String>>> {
    read_tsv_checked(path, min_columns, |_| Ok(()))
}

/// [`read_tsv`], with `check` also passing each row: its `Err(reason)` is an error naming the
/// line.
pub fn read_tsv_checked(
    path: &Path,
    min_columns: usize,
    check: impl Fn(&[String]) -> std::result::Result<(), String>,
) -> Result<Vec<Vec<String>>> {
    Ok(read_tsv_numbered(path, min_columns, check)?
        .into_iter()
        .map(|(_, row)| row)
        .collect())
}

/// [`read_tsv_checked`], each row with its 1-based line number (blank lines are passed over,
/// so the numbers can skip), for messages that name the line of a row found wrong later.
pub fn read_tsv_numbered(
    path: &Path,
    min_columns: usize,
    check: impl Fn(&[String]) -> std::result::Result<(), String>,
) -> Result<Vec<(usize, Vec<String>)>> {
    let lines = read_lines(path)?;
    let mut rows = Vec::with_capacity(lines.len());
    for (i, line) in lines.iter().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let cols: Vec<String> = line.split('\t').map(str::to_owned).collect();
        let reason = if cols.len() < min_columns {
            format!(
                "expected {min_columns} tab-separated columns, found {}",
                cols.len()
            )
        } else if cols[..min_columns].iter().any(|c| c.trim().is_empty()) {
            "empty column".to_owned()
        } else if let Err(reason) = check(&cols) {
            reason
        } else {
            rows.push((i + 1, cols));
            continue;
        };
        return Err(Error::BadLine {
            path: PathBuf::from(path),
            line: i + 1,
            reason,
        });
    }
    if rows.is_empty() {
        return Err(Error::nothing_in(path, "rows"));
    }
    Ok(rows)
}

/// Reads `a<TAB>b[<TAB>...]` pairs from a TSV file; extra columns are ignored.
pub fn read_tsv_pairs(path: &Path) -> Result<Vec<(String, String)>> {
    Ok(read_tsv(path, 2)?
        .into_iter()
        .map(|mut row| {
            row.truncate(2);
            let b = row.pop().unwrap_or_default();
            (row.pop().unwrap_or_default(), b)
        })
        .collect())
}

/// Writes `bytes` to `path` through a temporary file in the same folder and a rename, so the
/// file is either the old one or complete (see [`replace_atomically`]).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    replace_atomically(path, |tmp| {
        std::fs::write(tmp, bytes).map_err(|e| Error::io("writing", path, e))
    })
}

/// Flushes `file` to disk if it is a regular file (a pipe or a terminal cannot be synced).
pub(crate) fn sync_if_file(file: &std::fs::File) -> std::io::Result<()> {
    if file.metadata()?.is_file() {
        file.sync_all()?;
    }
    Ok(())
}

/// Has `write` write a temporary file beside `path` (named `.tmp-PID-N-NAME`, so it keeps the
/// extension, which some writers go by), syncs it, renames it over `path` and syncs the folder:
/// `path` is always either the old file or the complete new one, and the new one survives a
/// crash once this returns. On failure the temporary file is removed; temporary files that
/// runs which died left for the same `path` are removed first.
///
/// Through a symbolic link, the file it points to is replaced, not the link. A device or a pipe
/// (`-o /dev/stdout`, a FIFO) is written into directly: renaming a file over it would replace it.
pub fn replace_atomically(path: &Path, write: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    if std::fs::metadata(path).is_ok_and(|meta| !meta.is_file() && !meta.is_dir()) {
        return write(path);
    }
    let resolved;
    let path = match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => {
            resolved = std::fs::canonicalize(path)
                .map_err(|e| Error::io("following the link", path, e))?;
            resolved.as_path()
        }
        _ => path,
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    clean_file_leftovers(path);
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let tmp = path.with_file_name(format!(".tmp-{}-{n}-{name}", std::process::id()));
    let done = write(&tmp)
        .and_then(|()| sync_file(&tmp))
        .and_then(|()| {
            failpoint("file-written");
            std::fs::rename(&tmp, path).map_err(|e| Error::io("renaming into", path, e))
        })
        .and_then(|()| sync_dir(&parent_dir(path)));
    if done.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    done
}

/// Flushes the regular file at `path` to disk.
pub(crate) fn sync_file(path: &Path) -> Result<()> {
    File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(|e| Error::io("syncing", path, e))
}

/// Flushes the folder `dir` to disk, so that an entry renamed into it or out of it stays so
/// after a crash. A filesystem that cannot sync a folder (some network and FUSE ones say
/// EINVAL) is let be.
pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    match File::open(dir).and_then(|f| f.sync_all()) {
        Err(e) if !matches!(e.raw_os_error(), Some(libc::EINVAL | libc::EBADF)) => {
            Err(Error::io("syncing", dir, e))
        }
        _ => Ok(()),
    }
}

/// The folder that holds `path` (`.` for a bare name).
pub(crate) fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Whether the process `pid` may still be running: true unless the system says there is no
/// such process (a process of another user counts as alive; so does this one).
pub(crate) fn pid_alive(pid: u32) -> bool {
    #[cfg(unix)]
    {
        let Ok(raw) = libc::pid_t::try_from(pid) else {
            return false;
        };
        if raw <= 0 {
            return false;
        }
        // SAFETY: signal 0 sends nothing; kill only checks that the process exists.
        let found = unsafe { libc::kill(raw, 0) } == 0;
        found || std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
    }
    #[cfg(not(unix))]
    {
        let _ = pid;
        true
    }
}

/// The PID in a leftover's name `PREFIX<pid>-<n>SUFFIX`, `PREFIX<pid>SUFFIX` (the names before
/// the counter was added), when `name` is one for `prefix` and `suffix`.
pub(crate) fn leftover_pid(name: &str, prefix: &str, suffix: &str) -> Option<u32> {
    let rest = name.strip_prefix(prefix)?.strip_suffix(suffix)?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let (pid, counter) = match rest.split_once('-') {
        Some((pid, counter)) => (pid, Some(counter)),
        None => (rest, None),
    };
    (digits(pid) && counter.map_or(true, digits))
        .then(|| pid.parse().ok())
        .flatten()
}

/// Removes the temporary files that writes of `path` by processes no longer alive left beside
/// it. Best effort: what cannot be removed stays.
fn clean_file_leftovers(path: &Path) {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return;
    };
    let Ok(entries) = std::fs::read_dir(parent_dir(path)) else {
        return;
    };
    let own = std::process::id();
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(pid) = file_name
            .to_str()
            .and_then(|f| leftover_pid(f, ".tmp-", &format!("-{name}")))
        else {
            continue;
        };
        let is_file = entry.file_type().is_ok_and(|t| t.is_file());
        if is_file && pid != own && !pid_alive(pid) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// A test hook: when the environment variable `SEQMODELS_FAILPOINT` names `point` (a
/// comma-separated list may name several), the process kills itself here with SIGKILL, as a
/// crash or `kill -9` would, so that tests and `scripts/bench/hostile.sh` can stop a save
/// between any two of its steps (`file-written` here; the model directory's in
/// `checkpoint/swap.rs`). Unset (always, in normal use), this does nothing.
pub(crate) fn failpoint(point: &str) {
    if failpoint_set(point) {
        #[cfg(unix)]
        // SAFETY: sending a signal to this process; SIGKILL cannot be caught.
        unsafe {
            libc::kill(libc::getpid(), libc::SIGKILL);
        }
        std::process::abort();
    }
}

/// Whether `SEQMODELS_FAILPOINT` names `point` (also for switches such as `save-no-exchange`).
pub(crate) fn failpoint_set(point: &str) -> bool {
    static POINTS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    POINTS
        .get_or_init(|| {
            std::env::var("SEQMODELS_FAILPOINT")
                .map(|v| v.split(',').map(|p| p.trim().to_owned()).collect())
                .unwrap_or_default()
        })
        .iter()
        .any(|p| p == point)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_without_terminators_and_utf8_errors_named() {
        let lines = read_lines_from(&b"a\r\nb\n\nc"[..], Path::new("x")).unwrap();
        assert_eq!(lines, ["a", "b", "", "c"]);
        let err = read_lines_from(&b"ok\n\xff\n"[..], Path::new("in.txt")).unwrap_err();
        assert_eq!(err.to_string(), "in.txt:2: not valid UTF-8 (byte 0)");
    }

    #[test]
    fn tsv_pairs_and_their_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.tsv");
        std::fs::write(&path, "a\tb\textra\n\nc\td\n").unwrap();
        assert_eq!(
            read_tsv_pairs(&path).unwrap(),
            [("a".into(), "b".into()), ("c".into(), "d".into())]
        );
        std::fs::write(&path, "a\tb\nno tab here\n").unwrap();
        let err = read_tsv_pairs(&path).unwrap_err().to_string();
        assert!(
            err.ends_with("p.tsv:2: expected 2 tab-separated columns, found 1"),
            "{err}"
        );
        std::fs::write(&path, "").unwrap();
        assert!(read_tsv_pairs(&path)
            .unwrap_err()
            .to_string()
            .contains("no rows"));
        let missing = read_tsv_pairs(&dir.path().join("nope.tsv")).unwrap_err();
        assert!(format!("{missing}").contains("nope.tsv"));
    }

    #[test]
    fn atomic_replacement_keeps_the_old_file_when_writing_fails() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.png");
        let names = || -> Vec<_> {
            std::fs::read_dir(dir.path())
                .unwrap()
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .collect()
        };
        write_atomic(&path, b"old").unwrap();
        let err = replace_atomically(&path, |tmp| {
            assert!(tmp.to_str().unwrap().ends_with(".png"), "{}", tmp.display());
            std::fs::write(tmp, b"half").unwrap();
            Err(Error::Config("the writer failed".into()))
        })
        .unwrap_err();
        assert!(err.to_string().contains("the writer failed"), "{err}");
        assert_eq!(std::fs::read(&path).unwrap(), b"old");
        assert_eq!(names(), ["out.png"]);
        replace_atomically(&path, |tmp| write_atomic(tmp, b"new")).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        assert_eq!(names(), ["out.png"]);
    }

    #[test]
    fn leftover_names_give_their_pid() {
        let pid = |n: &str| leftover_pid(n, ".tmp-", "-v.bin");
        assert_eq!(pid(".tmp-123-4-v.bin"), Some(123));
        assert_eq!(
            pid(".tmp-123-v.bin"),
            Some(123),
            "the names before the counter"
        );
        assert_eq!(pid(".tmp-12x-4-v.bin"), None);
        assert_eq!(pid(".tmp--4-v.bin"), None);
        assert_eq!(pid(".tmp-1-4-w.bin"), None);
        assert_eq!(leftover_pid(".m.old-9-0", ".m.old-", ""), Some(9));
    }

    #[test]
    fn temporary_files_of_dead_writers_are_removed_by_the_next_write() {
        let dir = tempfile::tempdir().unwrap();
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        let own = std::process::id();
        let keep = [
            format!(".tmp-{own}-0-v.bin"),  // this process: alive
            format!(".tmp-{dead}-0-w.bin"), // another file's
            ".tmp-1-0-v.bin".to_owned(),    // init: alive
        ];
        for name in keep.iter().chain([&format!(".tmp-{dead}-3-v.bin")]) {
            std::fs::write(dir.path().join(name), "half").unwrap();
        }
        write_atomic(&dir.path().join("v.bin"), b"new").unwrap();
        let mut names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        let mut expected = keep.to_vec();
        expected.push("v.bin".to_owned());
        expected.sort();
        assert_eq!(names, expected);
    }

    #[cfg(unix)]
    #[test]
    fn links_are_followed_and_pipes_written_into_not_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("real.txt");
        let link = dir.path().join("link.txt");
        std::fs::write(&target, "old").unwrap();
        std::os::unix::fs::symlink(&target, &link).unwrap();
        write_atomic(&link, b"new").unwrap();
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(std::fs::read(&target).unwrap(), b"new");

        let fifo = dir.path().join("fifo");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if !made.is_ok_and(|s| s.success()) {
            return; // no mkfifo here
        }
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || std::fs::read(fifo).unwrap())
        };
        write_atomic(&fifo, b"through the pipe").unwrap();
        assert_eq!(reader.join().unwrap(), b"through the pipe");
        use std::os::unix::fs::FileTypeExt;
        assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());
    }
}
