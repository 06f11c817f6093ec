//! Which models a server holds: the specs from the command line (`--translator dates`,
//! `--classifier emo=DIR`) or a JSON file naming them, their loading (each on its own worker,
//! all at once), and finding the one a request names.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;

use serde::Serialize;

use super::limits::ApiError;
use super::metrics::Metrics;
use super::worker::{self, Batching, Engine, Handle};
use super::{charlm, classify, embed, translate};
use crate::error::{Error, Result};

/// The name of the built-in dates model.
pub const BUILTIN_DATES: &str = "dates";

/// What a model does, which endpoint answers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelKind {
    /// A seq2seq translator: `POST /v1/translate`.
    Translator,
    /// A sentence classifier: `POST /v1/classify`.
    Classifier,
    /// Word vectors: `POST /v1/embeddings/...`.
    Vectors,
    /// A character language model: `POST /v1/charlm/sample`.
    Charlm,
}

impl ModelKind {
    /// The flag (and JSON key) that names models of this kind.
    pub fn flag(self) -> &'static str {
        match self {
            ModelKind::Translator => "translator",
            ModelKind::Classifier => "classifier",
            ModelKind::Vectors => "vectors",
            ModelKind::Charlm => "charlm",
        }
    }
}

/// Where a model comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelSource {
    /// The dates translator compiled into the library.
    BuiltinDates,
    /// A model directory, or for vectors a file.
    Path(PathBuf),
}

impl ModelSource {
    /// The directory or file of a model that is not the built-in translator; `what` names the
    /// kind wanted ("a classifier") in the error.
    pub(crate) fn path_of(&self, what: &str) -> Result<&Path> {
        match self {
            ModelSource::Path(path) => Ok(path),
            ModelSource::BuiltinDates => Err(Error::Config(format!(
                "the built-in dates model is a translator, not {what}"
            ))),
        }
    }
}

/// One model to serve: its kind, the name requests give, and where it comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelSpec {
    /// What it does.
    pub kind: ModelKind,
    /// The name requests give as `model`.
    pub name: String,
    /// Where it comes from.
    pub source: ModelSource,
}

impl ModelSpec {
    /// Reads `NAME=PATH`, or for a translator `dates` alone (the built-in model).
    pub fn parse(kind: ModelKind, spec: &str) -> Result<ModelSpec> {
        let flag = kind.flag();
        let (name, source) = match spec.split_once('=') {
            Some((name, path)) if !path.is_empty() => (name, ModelSource::Path(path.into())),
            None if kind == ModelKind::Translator && spec == BUILTIN_DATES => {
                (spec, ModelSource::BuiltinDates)
            }
            _ => {
                let builtin = match kind {
                    ModelKind::Translator => " (or `dates`, the built-in model)",
                    _ => "",
                };
                return Err(Error::Config(format!(
                    "--{flag} {spec:?}: expected NAME=PATH{builtin}"
                )));
            }
        };
        let fine = |c: char| c.is_ascii_alphanumeric() || "._-".contains(c);
        if name.is_empty() || !name.chars().all(fine) {
            return Err(Error::Config(format!(
                "--{flag} {spec:?}: a model name is letters, digits, '.', '_' and '-'"
            )));
        }
        Ok(ModelSpec {
            kind,
            name: name.to_owned(),
            source,
        })
    }

    /// `kind/name`, the model's label in messages and metrics.
    pub fn label(&self) -> String {
        format!("{}/{}", self.kind.flag(), self.name)
    }
}

/// The models named in a JSON file: `{"translator": ["dates", "en-fr=models/en-fr"],
/// "classifier": ["emo=models/emo"], "vectors": [...], "charlm": [...]}`, each entry written
/// as its flag's value; a relative path is read from the file's directory.
pub fn read_config(path: &Path) -> Result<Vec<ModelSpec>> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct File {
        #[serde(default)]
        translator: Vec<String>,
        #[serde(default)]
        classifier: Vec<String>,
        #[serde(default)]
        vectors: Vec<String>,
        #[serde(default)]
        charlm: Vec<String>,
    }
    let size = std::fs::metadata(path)
        .map_err(|e| Error::io("reading", path, e))?
        .len();
    if size > crate::limits::MAX_CONFIG_BYTES {
        return Err(Error::BadFile {
            path: path.to_owned(),
            reason: format!("{size} bytes; a model list is at most 16 MiB"),
        });
    }
    let text = std::fs::read_to_string(path).map_err(|e| Error::io("reading", path, e))?;
    let file: File = serde_json::from_str(&text).map_err(|source| Error::Json {
        path: path.to_owned(),
        source,
    })?;
    let base = path.parent().unwrap_or(Path::new(""));
    let kinds = [
        (ModelKind::Translator, file.translator),
        (ModelKind::Classifier, file.classifier),
        (ModelKind::Vectors, file.vectors),
        (ModelKind::Charlm, file.charlm),
    ];
    let mut specs = Vec::new();
    for (kind, entries) in kinds {
        for entry in entries {
            let mut spec = ModelSpec::parse(kind, &entry).map_err(|e| Error::BadFile {
                path: path.to_owned(),
                reason: e.to_string(),
            })?;
            if let ModelSource::Path(p) = &spec.source {
                spec.source = ModelSource::Path(base.join(p));
            }
            specs.push(spec);
        }
    }
    Ok(specs)
}

/// What `GET /v1/models` says of a model.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ModelInfo {
    pub name: String,
    pub kind: ModelKind,
    /// `built-in`, or the directory or file it was loaded from.
    pub source: String,
    /// Its configuration (for vectors: their size).
    pub config: serde_json::Value,
}

/// The models of one kind, by name.
pub(crate) type Models<E> = BTreeMap<String, Handle<E>>;

/// Every model the server holds, each behind its worker.
pub(crate) struct Registry {
    pub translators: Models<translate::TranslateEngine>,
    pub classifiers: Models<classify::ClassifyEngine>,
    pub vectors: Models<embed::VectorsEngine>,
    pub charlms: Models<charlm::CharlmEngine>,
    pub info: Vec<ModelInfo>,
}

/// How workers run.
pub(crate) struct WorkerSettings {
    pub batching: Batching,
    pub max_queue: usize,
    pub threads: worker::Threads,
    pub device: tch::Device,
    pub metrics: Arc<Metrics>,
}

/// A model's engine, loaded from its source onto a device.
pub(crate) trait Load: Engine + Sized {
    /// The engine and its description for `GET /v1/models`.
    fn load(source: &ModelSource, device: tch::Device) -> Result<(Self, serde_json::Value)>;
}

/// Workers started for the models of one kind, loading.
struct Starting<'a, E: Engine>(Vec<(&'a ModelSpec, worker::Pending<E>)>);

impl<'a, E: Load> Starting<'a, E> {
    fn spawn(&mut self, spec: &'a ModelSpec, settings: &WorkerSettings) -> Result<()> {
        let (source, device) = (spec.source.clone(), settings.device);
        let label = spec.label();
        let pending = worker::spawn(
            label.clone(),
            move || E::load(&source, device),
            settings.batching,
            settings.max_queue,
            settings.threads,
            settings.metrics.model(&label),
        )?;
        self.0.push((spec, pending));
        Ok(())
    }

    /// Waits for each model: its handle by name, its description in `info`, its thread in
    /// `threads`.
    fn wait(
        self,
        info: &mut Vec<ModelInfo>,
        threads: &mut Vec<JoinHandle<()>>,
    ) -> Result<Models<E>> {
        let mut models = Models::new();
        for (spec, pending) in self.0 {
            let (handle, config, replicas) = pending.wait()?;
            threads.extend(replicas);
            info.push(ModelInfo {
                name: spec.name.clone(),
                kind: spec.kind,
                source: match &spec.source {
                    ModelSource::BuiltinDates => "built-in".into(),
                    ModelSource::Path(p) => p.display().to_string(),
                },
                config,
            });
            models.insert(spec.name.clone(), handle);
        }
        Ok(models)
    }
}

impl Registry {
    /// Loads every model of `specs` (the built-in dates translator when there are none), each
    /// on its own worker thread, all at once; the first error, naming its model, fails all.
    pub fn load(
        specs: &[ModelSpec],
        settings: &WorkerSettings,
    ) -> Result<(Registry, Vec<JoinHandle<()>>)> {
        let builtin = [ModelSpec {
            kind: ModelKind::Translator,
            name: BUILTIN_DATES.into(),
            source: ModelSource::BuiltinDates,
        }];
        let specs = if specs.is_empty() {
            &builtin[..]
        } else {
            specs
        };
        let mut seen = std::collections::BTreeSet::new();
        for spec in specs {
            if !seen.insert((spec.kind, spec.name.as_str())) {
                return Err(Error::Config(format!(
                    "two {} models are named {:?}",
                    spec.kind.flag(),
                    spec.name
                )));
            }
        }
        // Every loader starts before any is waited for: the models load in parallel.
        let (mut t, mut c, mut v, mut l) = (
            Starting(Vec::new()),
            Starting(Vec::new()),
            Starting(Vec::new()),
            Starting(Vec::new()),
        );
        for spec in specs {
            match spec.kind {
                ModelKind::Translator => t.spawn(spec, settings)?,
                ModelKind::Classifier => c.spawn(spec, settings)?,
                ModelKind::Vectors => v.spawn(spec, settings)?,
                ModelKind::Charlm => l.spawn(spec, settings)?,
            }
        }
        let (mut info, mut threads) = (Vec::new(), Vec::new());
        let registry = Registry {
            translators: t.wait(&mut info, &mut threads)?,
            classifiers: c.wait(&mut info, &mut threads)?,
            vectors: v.wait(&mut info, &mut threads)?,
            charlms: l.wait(&mut info, &mut threads)?,
            info,
        };
        Ok((registry, threads))
    }
}

/// The model of `models` that a request names, or the only one when it names none: an
/// unknown name, or no name among several, is a 400 that lists what is loaded.
pub(crate) fn pick<'a, E: Engine>(
    models: &'a Models<E>,
    kind: ModelKind,
    name: Option<&str>,
) -> std::result::Result<&'a Handle<E>, ApiError> {
    let loaded = || {
        let names: Vec<&str> = models.keys().map(String::as_str).collect();
        match names.is_empty() {
            true => format!("no {} model is loaded", kind.flag()),
            false => format!("loaded {} models: {}", kind.flag(), names.join(", ")),
        }
    };
    match name {
        Some(name) => models
            .get(name)
            .ok_or_else(|| ApiError::bad_request(format!("unknown model {name:?}; {}", loaded()))),
        None if models.len() == 1 => Ok(models.values().next().expect("one model")),
        None => Err(ApiError::bad_request(format!(
            "name the model with \"model\"; {}",
            loaded()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_read_name_and_path_or_the_builtin_model() {
        let spec = ModelSpec::parse(ModelKind::Classifier, "emo=models/emo").unwrap();
        assert_eq!(spec.name, "emo");
        assert_eq!(spec.source, ModelSource::Path("models/emo".into()));
        assert_eq!(spec.label(), "classifier/emo");
        let dates = ModelSpec::parse(ModelKind::Translator, "dates").unwrap();
        assert_eq!(dates.source, ModelSource::BuiltinDates);
        let err = ModelSpec::parse(ModelKind::Classifier, "dates").unwrap_err();
        assert!(err.to_string().contains("NAME=PATH"), "{err}");
        let err = ModelSpec::parse(ModelKind::Translator, "en fr=x").unwrap_err();
        assert!(err.to_string().contains("a model name is"), "{err}");
        assert!(ModelSpec::parse(ModelKind::Vectors, "w2v=").is_err());
    }

    #[test]
    fn a_config_file_names_models_relative_to_itself() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("models.json");
        std::fs::write(
            &path,
            r#"{"translator": ["dates", "fr=m/fr"], "vectors": ["w=/abs/v.bin"]}"#,
        )
        .unwrap();
        let specs = read_config(&path).unwrap();
        assert_eq!(specs.len(), 3);
        assert_eq!(specs[1].source, ModelSource::Path(dir.path().join("m/fr")));
        assert_eq!(specs[2].source, ModelSource::Path("/abs/v.bin".into()));
        std::fs::write(&path, r#"{"translators": []}"#).unwrap();
        let err = read_config(&path).unwrap_err();
        assert!(format!("{err:?}").contains("unknown field"), "{err:?}");
        std::fs::write(&path, r#"{"charlm": ["names"]}"#).unwrap();
        let err = read_config(&path).unwrap_err().to_string();
        assert!(
            err.contains("models.json") && err.contains("NAME=PATH"),
            "{err}"
        );
    }
}
