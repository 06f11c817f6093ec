//! A trained model is a directory:
//!
//! | file | holds |
//! |---|---|
//! | `config.json` | the model's hyper-parameters (its `XConfig`) |
//! | `vocab.json` | its vocabulary or vocabularies |
//! | `model.safetensors` | the parameters, named like PyTorch's `state_dict` (`encoder.weight_ih_l0`) |
//! | `meta.json` | model kind, format version, crate version, seed, training figures |
//!
//! [`save`] writes all four into a temporary directory beside the target, syncs it and
//! exchanges it with the old model in one step (see [Saving](self#saving)), so a reader never
//! sees half a model, and a crash at any instant leaves the old model or the new one. `meta.json`
//! records the SHA-256 of each weight file. [`load`] checks kind and format version before
//! anything else is trusted; [`load_weights`] checks the file's SHA-256 and then every tensor's
//! name, shape and dtype against the model built from the config, so a checkpoint of another
//! size is an error that names the tensor (libtorch's `copy_` would broadcast some mismatches
//! silently). Only regular files of a size their kind allows are read.
//!
//! # Saving
//!
//! A run first [`claim`]s its output directory: a model of another kind there is refused
//! unless forced ([`check_out`]), a lock (`.NAME.lock`) keeps a second run out, and leftovers of
//! crashed saves are cleaned up (`out.rs`). Each save takes the same steps under the run's
//! claim, then exchanges the new directory with the old one by `renameat2(RENAME_EXCHANGE)`,
//! or, where the filesystem refuses, renames the old one aside first, which the next load or
//! save puts back if the process died between the two renames (`swap.rs`). Parts are read by
//! [`read_part`]: regular files only, each with a size limit (`parts.rs`).

mod out;
mod parts;
mod swap;

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::Path;

use safetensors::tensor::{Dtype, SafeTensors};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tch::nn::VarStore;
use tch::{Kind, Tensor};

use crate::error::{Error, Result};
use crate::limits::{MAX_TENSOR_FILE_BYTES, MAX_TENSOR_HEADER_BYTES};
use crate::text::sync_file;
pub use out::{check_out, claim, Claim};
pub use parts::read_part;
use parts::{check_hash, check_hash_in, parse_json, read_json};

/// Hyper-parameters file.
pub const CONFIG_FILE: &str = "config.json";
/// Vocabulary file.
pub const VOCAB_FILE: &str = "vocab.json";
/// Parameters file.
pub const WEIGHTS_FILE: &str = "model.safetensors";
/// Provenance file.
pub const META_FILE: &str = "meta.json";

/// What a model directory says about itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    /// The model kind, e.g. `"seq2seq"` or `"charlm"`.
    pub kind: String,
    /// The layout version of this kind's checkpoint; bumped when config or names change.
    pub format_version: u32,
    /// The seqmodels version that wrote it.
    pub crate_version: String,
    /// The `--seed` of the training run.
    pub seed: u64,
    /// Figures from training (epochs, held-out loss, accuracy, seconds ...), by name.
    #[serde(default)]
    pub training: BTreeMap<String, serde_json::Value>,
    /// The SHA-256 (lower-case hex) of each weight file, by file name, checked on load; empty
    /// for models saved before seqmodels recorded them. [`save`] fills it in.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub sha256: BTreeMap<String, String>,
}

impl Meta {
    /// Meta for a model of `kind` at `format_version`, trained with `seed`, by this crate version.
    pub fn new(kind: &str, format_version: u32, seed: u64) -> Self {
        Meta {
            kind: kind.to_owned(),
            format_version,
            crate_version: env!("CARGO_PKG_VERSION").to_owned(),
            seed,
            training: BTreeMap::new(),
            sha256: BTreeMap::new(),
        }
    }

    /// Records a training figure.
    pub fn with_figure(mut self, name: &str, value: impl Into<serde_json::Value>) -> Self {
        self.training.insert(name.to_owned(), value.into());
        self
    }
}

/// The JSON parts of a model directory, checked for kind and format version.
#[derive(Debug, Clone)]
pub struct Loaded<C, V> {
    /// `meta.json`.
    pub meta: Meta,
    /// `config.json`.
    pub config: C,
    /// `vocab.json`.
    pub vocab: V,
}

/// Writes a model directory at `dir` atomically and durably, replacing an earlier model there.
///
/// Refuses what [`check_out`] refuses: an existing path that is not a model directory (no
/// `meta.json`) and not empty, so a mistyped `--out` cannot delete a user's folder, and a model
/// of another kind unless this process [`claim`]ed `dir` with `force`. Takes the lock on `dir`
/// for the save unless this process holds it, and cleans up what crashed saves left.
pub fn save<C: Serialize, V: Serialize>(
    dir: &Path,
    meta: &Meta,
    config: &C,
    vocab: &V,
    vs: &VarStore,
) -> Result<()> {
    save_with(dir, meta, config, vocab, vs, &[])
}

/// Named tensors written to an extra safetensors file of a model directory (optimiser state).
pub type ExtraTensors<'a> = (&'a str, Vec<(String, Tensor)>);

/// [`save`], plus extra safetensors files (file name, named tensors) in the same directory,
/// written in the same atomic step.
pub fn save_with<C: Serialize, V: Serialize>(
    dir: &Path,
    meta: &Meta,
    config: &C,
    vocab: &V,
    vs: &VarStore,
    extra: &[ExtraTensors<'_>],
) -> Result<()> {
    save_bundle(dir, meta, config, vocab, vs, extra, &[])
}

/// [`save_with`], plus other files (file name, bytes; e.g. tokenizers) in the same atomic step.
pub fn save_bundle<C: Serialize, V: Serialize>(
    dir: &Path,
    meta: &Meta,
    config: &C,
    vocab: &V,
    vs: &VarStore,
    extra: &[ExtraTensors<'_>],
    files: &[(&str, Vec<u8>)],
) -> Result<()> {
    let _claim = out::claim_for_save(dir, &meta.kind)?;
    let tmp = swap::sibling(dir, "tmp")?;
    fs::create_dir(&tmp).map_err(|e| Error::io("creating", &tmp, e))?;
    let kept = dir.exists();
    let written = write_parts(&tmp, meta, config, vocab, vs, extra, files)
        .map_err(|e| Error::NotSaved {
            path: dir.to_path_buf(),
            kept,
            source: Box::new(e),
        })
        .and_then(|()| swap::commit(&tmp, dir));
    if written.is_err() {
        let _ = fs::remove_dir_all(&tmp);
    }
    written
}

/// Writes every part into `tmp`, each synced, the weight files' SHA-256 into `meta.json`, and
/// `meta.json` last: its presence marks a complete directory.
fn write_parts<C: Serialize, V: Serialize>(
    tmp: &Path,
    meta: &Meta,
    config: &C,
    vocab: &V,
    vs: &VarStore,
    extra: &[ExtraTensors<'_>],
    files: &[(&str, Vec<u8>)],
) -> Result<()> {
    let mut meta = meta.clone();
    meta.sha256.clear();
    let mut tensors = |name: &str, named: &[(String, Tensor)]| -> Result<()> {
        let path = tmp.join(name);
        write_tensors(&path, named)?;
        meta.sha256
            .insert(name.to_owned(), parts::sha256_file(&path)?);
        Ok(())
    };
    for (name, named) in extra {
        tensors(name, named)?;
    }
    let variables: Vec<(String, Tensor)> = vs.variables().into_iter().collect();
    tensors(WEIGHTS_FILE, &variables)?;
    for (name, bytes) in files {
        let path = tmp.join(name);
        fs::write(&path, bytes).map_err(|e| Error::io("writing", &path, e))?;
        sync_file(&path)?;
    }
    write_json(&tmp.join(CONFIG_FILE), config)?;
    write_json(&tmp.join(VOCAB_FILE), vocab)?;
    write_json(&tmp.join(META_FILE), &meta)
}

/// Writes named tensors (moved to the CPU, sorted by name) as safetensors, synced to disk.
fn write_tensors(path: &Path, tensors: &[(String, Tensor)]) -> Result<()> {
    let mut named: Vec<(String, Tensor)> = tensors
        .iter()
        .map(|(name, t)| {
            let t = t.detach().to_device(tch::Device::Cpu).contiguous();
            (name.clone(), t)
        })
        .collect();
    named.sort_by(|a, b| a.0.cmp(&b.0));
    Tensor::write_safetensors(&named, path).map_err(|e| match e {
        tch::TchError::SafeTensorError {
            err: safetensors::SafeTensorError::IoError(io),
            ..
        } => Error::io("writing", path, io),
        e => Error::torch(format!("writing {}", path.display()), e),
    })?;
    sync_file(path)
}

/// Reads an extra safetensors file written by [`save_with`]: every tensor, by name, after
/// checking it against the SHA-256 in `meta.json`.
pub fn load_tensors(dir: &Path, file: &str) -> Result<Vec<(String, Tensor)>> {
    let path = dir.join(file);
    if fs::symlink_metadata(&path).is_err() {
        return Err(Error::checkpoint(dir, format!("has no {file}")));
    }
    let bytes = read_part(&path, MAX_TENSOR_FILE_BYTES)?;
    check_hash_in(dir, file, &bytes)?;
    let corrupt = |e: String| {
        Error::checkpoint(
            &path,
            format!("cannot be read (truncated or corrupt?): {e}"),
        )
    };
    let file = SafeTensors::deserialize(&bytes).map_err(|e| corrupt(format!("{e:?}")))?;
    let mut named = file.tensors();
    named.sort_by(|a, b| a.0.cmp(&b.0));
    named
        .into_iter()
        .map(|(name, view)| {
            let kind = kind_of(view.dtype())
                .ok_or_else(|| corrupt(format!("tensor `{name}` is {:?}", view.dtype())))?;
            let shape: Vec<i64> = view.shape().iter().map(|&d| d as i64).collect();
            let t = Tensor::f_from_data_size(view.data(), &shape, kind)
                .map_err(|e| corrupt(format!("tensor `{name}`: {e}")))?;
            Ok((name, t))
        })
        .collect()
}

/// The libtorch kind of a safetensors dtype that seqmodels writes.
fn kind_of(dtype: Dtype) -> Option<Kind> {
    match dtype {
        Dtype::F32 => Some(Kind::Float),
        Dtype::F64 => Some(Kind::Double),
        Dtype::F16 => Some(Kind::Half),
        Dtype::BF16 => Some(Kind::BFloat16),
        Dtype::I64 => Some(Kind::Int64),
        _ => None,
    }
}

fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let mut bytes = serde_json::to_vec_pretty(value).map_err(|source| Error::Json {
        path: path.to_path_buf(),
        source,
    })?;
    bytes.push(b'\n');
    let mut file = fs::File::create(path).map_err(|e| Error::io("creating", path, e))?;
    file.write_all(&bytes)
        .and_then(|()| file.sync_all())
        .map_err(|e| Error::io("writing", path, e))
}

/// Reads `meta.json`, checks that it is a `kind` model at `format_version`, then reads
/// `config.json` and `vocab.json`.
pub fn load<C: DeserializeOwned, V: DeserializeOwned>(
    dir: &Path,
    kind: &str,
    format_version: u32,
) -> Result<Loaded<C, V>> {
    let meta = read_meta(dir)?;
    check_meta(dir, &meta, kind, format_version)?;
    Ok(Loaded {
        meta,
        config: read_json(dir, CONFIG_FILE)?,
        vocab: read_json(dir, VOCAB_FILE)?,
    })
}

/// A model directory compiled into the binary with `include_bytes!`.
#[derive(Debug, Clone, Copy)]
pub struct Embedded {
    /// A name for error messages, e.g. `"<built-in dates model>"`.
    pub name: &'static str,
    /// `config.json`.
    pub config: &'static [u8],
    /// `vocab.json`.
    pub vocab: &'static [u8],
    /// `model.safetensors`.
    pub weights: &'static [u8],
    /// `meta.json`.
    pub meta: &'static [u8],
}

impl Embedded {
    /// As [`load`], from the embedded files.
    pub fn load<C: DeserializeOwned, V: DeserializeOwned>(
        &self,
        kind: &str,
        format_version: u32,
    ) -> Result<Loaded<C, V>> {
        let dir = Path::new(self.name);
        let meta = parse_json(self.meta, &dir.join(META_FILE))?;
        check_meta(dir, &meta, kind, format_version)?;
        Ok(Loaded {
            meta,
            config: parse_json(self.config, &dir.join(CONFIG_FILE))?,
            vocab: parse_json(self.vocab, &dir.join(VOCAB_FILE))?,
        })
    }

    /// As [`load_weights`], from the embedded weights.
    pub fn load_weights(&self, vs: &mut VarStore) -> Result<()> {
        let dir = Path::new(self.name);
        let meta: Meta = parse_json(self.meta, &dir.join(META_FILE))?;
        check_hash(&meta, dir, WEIGHTS_FILE, self.weights)?;
        weights_from_bytes(self.weights, &dir.join(WEIGHTS_FILE), vs)
    }
}

/// `Ok` when `meta` is that of a `kind` model in `format_version`; otherwise an error naming
/// `dir` and what it holds.
pub(crate) fn check_meta(dir: &Path, meta: &Meta, kind: &str, format_version: u32) -> Result<()> {
    if meta.kind != kind {
        return Err(Error::checkpoint(
            dir,
            format!(
                "holds a `{}` model, expected a `{kind}` model",
                short(&meta.kind)
            ),
        ));
    }
    if meta.format_version != format_version {
        return Err(Error::checkpoint(
            dir,
            format!(
                "`{kind}` format version {} (written by seqmodels {}), this seqmodels reads version {format_version}",
                meta.format_version,
                short(&meta.crate_version)
            ),
        ));
    }
    Ok(())
}

/// A name read from `meta.json` as messages show it: whole when short, else quoted to
/// [`MAX_QUOTE_CHARS`](crate::limits::MAX_QUOTE_CHARS) characters with its length.
pub(crate) fn short(name: &str) -> String {
    match name.chars().count() <= crate::limits::MAX_QUOTE_CHARS {
        true => name.to_owned(),
        false => crate::limits::quote(name),
    }
}

/// `Ok` when a training run leaves a model in `out`: it saved an epoch, or it was resumed into
/// its own directory (`resumed_from` is `out`, after resolving links and relative parts), where
/// the resumed model is still the best. Anything else would leave `out` without this run's
/// model: an error that names the `score` ("dev loss", ...) and the resumed model's `best`.
pub(crate) fn check_run_left_a_model(
    saved: bool,
    resumed_from: Option<&Path>,
    out: &Path,
    score: &str,
    best: f64,
) -> Result<()> {
    let same = |dir: &Path| match (std::fs::canonicalize(dir), std::fs::canonicalize(out)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if saved || resumed_from.is_some_and(same) {
        return Ok(());
    }
    Err(Error::Config(match resumed_from {
        Some(_) => format!(
            "no epoch improved on the resumed model's {score} {best:.4}; nothing was saved to {}",
            out.display()
        ),
        None => format!(
            "no epoch gave a finite {score}; nothing was saved to {}",
            out.display()
        ),
    }))
}

/// Reads only `meta.json`: what kind of model a directory holds. A directory that a crashed
/// save left under its old name is put back first.
pub fn read_meta(dir: &Path) -> Result<Meta> {
    if fs::symlink_metadata(dir).is_err() {
        // Best effort: a loader may have no right to write beside the model.
        let _ = swap::recover(dir);
        swap::wait_for_live_save(dir);
    }
    if !dir.is_dir() {
        let reason = if dir.exists() {
            "is not a directory (a model is a directory with config.json, vocab.json, model.safetensors and meta.json)".to_owned()
        } else {
            format!("no such model directory{}", swap::missing_hint(dir))
        };
        return Err(Error::checkpoint(dir, reason));
    }
    read_json(dir, META_FILE)
}

/// Loads `model.safetensors` into `vs`, whose variables must match the file exactly: the same
/// names, shapes and dtypes, none missing and none extra.
///
/// The file is read only up to the size those variables take (plus a header), and checked
/// against the SHA-256 that `meta.json` records.
pub fn load_weights(dir: &Path, vs: &mut VarStore) -> Result<()> {
    let path = dir.join(WEIGHTS_FILE);
    let data: u64 = vs
        .variables()
        .values()
        .map(|v| v.numel() as u64 * v.kind().elt_size_in_bytes() as u64)
        .sum();
    let bytes = read_part(&path, data.saturating_add(MAX_TENSOR_HEADER_BYTES))?;
    check_hash_in(dir, WEIGHTS_FILE, &bytes)?;
    weights_from_bytes(&bytes, &path, vs)
}

fn weights_from_bytes(bytes: &[u8], path: &Path, vs: &mut VarStore) -> Result<()> {
    let file = SafeTensors::deserialize(bytes).map_err(|e| {
        Error::checkpoint(
            path,
            format!("cannot be read (truncated or corrupt?): {e:?}"),
        )
    })?;
    let variables = vs.variables();
    let mut expected: Vec<&String> = variables.keys().collect();
    expected.sort();
    let mut sources = Vec::with_capacity(expected.len());
    for name in &expected {
        let var = &variables[*name];
        let view = file
            .tensor(name)
            .map_err(|_| Error::checkpoint(path, format!("tensor `{name}` is missing")))?;
        let shape: Vec<i64> = view.shape().iter().map(|&d| d as i64).collect();
        let kind = kind_of(view.dtype());
        if shape != var.size() || kind != Some(var.kind()) {
            return Err(Error::checkpoint(
                path,
                format!(
                    "tensor `{name}` is {:?} {:?}, the model built from config.json expects {:?} {:?}",
                    view.dtype(),
                    shape,
                    var.kind(),
                    var.size()
                ),
            ));
        }
        let kind = var.kind();
        let src = Tensor::f_from_data_size(view.data(), &shape, kind)
            .map_err(|e| Error::torch(format!("reading `{name}` from {}", path.display()), e))?;
        // A NaN or infinite weight would make every output NaN or empty without an error.
        let float = matches!(
            kind,
            Kind::Float | Kind::Double | Kind::Half | Kind::BFloat16
        );
        if float && !bool::try_from(src.isfinite().all()).unwrap_or(false) {
            return Err(Error::checkpoint(
                path,
                format!("tensor `{name}` holds NaN or infinite values (corrupt?)"),
            ));
        }
        sources.push(src);
    }
    if let Some(extra) = file
        .names()
        .into_iter()
        .find(|k| !variables.contains_key(*k))
    {
        return Err(Error::checkpoint(
            path,
            format!("tensor `{extra}` is not a parameter of this model"),
        ));
    }
    tch::no_grad(|| {
        for (name, src) in expected.into_iter().zip(sources) {
            let mut var = variables[name].shallow_clone();
            var.f_copy_(&src).map_err(|e| {
                Error::torch(format!("loading `{name}` from {}", path.display()), e)
            })?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod hardening_tests;
#[cfg(test)]
mod tests;
