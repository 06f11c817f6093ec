//! Reading the parts of a model directory without trusting them: only regular files are read
//! (a `vocab.json` linked to `/dev/zero` or a FIFO is refused before it is opened for long),
//! each up to a size that its kind allows ([`crate::limits`]), and the weight files are checked
//! against the SHA-256 that `meta.json` records for them (safetensors has no checksum of its
//! own, so a flipped byte would otherwise load and give wrong output).

use std::fs::{self, File};
use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};

use super::{Meta, META_FILE};
use crate::error::{Error, Result};
use crate::limits::{MAX_CONFIG_BYTES, MAX_VOCAB_BYTES};

/// The lower-case hex SHA-256 of `bytes`.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The lower-case hex SHA-256 of the file at `path`, read in pieces.
pub(crate) fn sha256_file(path: &Path) -> Result<String> {
    let mut hasher = Sha256::new();
    File::open(path)
        .and_then(|mut f| std::io::copy(&mut f, &mut hasher))
        .map_err(|e| Error::io("reading back", path, e))?;
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// The most bytes a JSON part named `name` may have: a vocabulary or a tokenizer may be large,
/// the config and meta files are small.
pub(crate) fn json_limit(name: &str) -> u64 {
    if name == super::CONFIG_FILE || name == META_FILE {
        MAX_CONFIG_BYTES
    } else {
        MAX_VOCAB_BYTES
    }
}

/// Reads the part at `path`, which must be a regular file (a link to one is followed) of at
/// most `limit` bytes; a missing one is an error that names it, as is a device, a FIFO, a
/// directory or a file over the limit.
pub fn read_part(path: &Path, limit: u64) -> Result<Vec<u8>> {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let meta = fs::metadata(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            Error::checkpoint(path.parent().unwrap_or(path), format!("{name} is missing"))
        } else {
            Error::io("reading", path, e)
        }
    })?;
    let not_regular = || {
        Error::checkpoint(
            path,
            "is not a regular file (a device, a FIFO or a directory): a model's parts are \
             plain files",
        )
    };
    if !meta.is_file() {
        return Err(not_regular());
    }
    let too_big = |size: u64| {
        Error::checkpoint(
            path,
            format!("is {size} bytes, more than the {limit} bytes a {name} may have"),
        )
    };
    if meta.len() > limit {
        return Err(too_big(meta.len()));
    }
    let file = open_nonblocking(path).map_err(|e| Error::io("opening", path, e))?;
    // The path may have been replaced by something else between the two looks.
    if !file
        .metadata()
        .map_err(|e| Error::io("reading", path, e))?
        .is_file()
    {
        return Err(not_regular());
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io("reading", path, e))?;
    if bytes.len() as u64 > limit {
        return Err(too_big(bytes.len() as u64));
    }
    Ok(bytes)
}

/// Opens `path` for reading without blocking on a FIFO that has no writer.
fn open_nonblocking(path: &Path) -> std::io::Result<File> {
    let mut options = fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NONBLOCK);
    options.open(path)
}

/// Reads and parses the JSON part `dir/name`.
pub(crate) fn read_json<T: serde::de::DeserializeOwned>(dir: &Path, name: &str) -> Result<T> {
    let path = dir.join(name);
    parse_json(&read_part(&path, json_limit(name))?, &path)
}

pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(bytes: &[u8], path: &Path) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|source| Error::Json {
        path: path.to_path_buf(),
        source,
    })
}

/// Checks `bytes`, read from the part `name` of `dir` (or embedded as it), against the SHA-256
/// that `meta` records for it. A model saved before hashes were recorded has none, and passes.
pub(crate) fn check_hash(meta: &Meta, dir: &Path, name: &str, bytes: &[u8]) -> Result<()> {
    let Some(expected) = meta.sha256.get(name) else {
        return Ok(());
    };
    let actual = sha256_hex(bytes);
    if actual.eq_ignore_ascii_case(expected) {
        return Ok(());
    }
    let short = |h: &str| h.chars().take(12).collect::<String>();
    Err(Error::checkpoint(
        dir.join(name),
        format!(
            "is truncated or corrupt: its SHA-256 {}... is not the {}... that {META_FILE} \
             records for it",
            short(&actual),
            short(expected)
        ),
    ))
}

/// Checks the part `name` of the model directory `dir` against the SHA-256 that its
/// `meta.json` records; without a `meta.json` (a directory of parts alone) nothing is checked.
pub(crate) fn check_hash_in(dir: &Path, name: &str, bytes: &[u8]) -> Result<()> {
    if fs::symlink_metadata(dir.join(META_FILE)).is_err() {
        return Ok(());
    }
    check_hash(&read_json(dir, META_FILE)?, dir, name, bytes)
}
