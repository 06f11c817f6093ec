//! The one error type of the library.
//!
//! Every variant says *what* failed and *where* (a path, a line, a word, a tensor name) and keeps
//! the underlying cause as its `source`, so `anyhow`'s `{:#}` prints the whole chain.

use std::path::PathBuf;

/// Result with the library's [`enum@Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in seqmodels.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading or writing a file or directory failed.
    #[error("{action} {}", path.display())]
    Io {
        /// What was being done: "reading", "creating", ...
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },

    /// A JSON file could not be parsed or does not have the expected fields.
    #[error("{}: invalid JSON", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// The parser's error, with line and column.
        #[source]
        source: serde_json::Error,
    },

    /// A `--device` string that is not `auto`, `cpu`, `cuda` or `cuda:N`.
    #[error("invalid device {spec:?}: expected auto, cpu, cuda or cuda:N")]
    InvalidDevice {
        /// What was given.
        spec: String,
    },

    /// A device was asked for that this machine or this libtorch does not have.
    #[error("device {requested} is not available: {reason}")]
    DeviceUnavailable {
        /// The device asked for, as written.
        requested: String,
        /// Why not.
        reason: String,
    },

    /// A model directory that is missing, incomplete, of another kind or version, or corrupt.
    #[error("checkpoint {}: {reason}", path.display())]
    Checkpoint {
        /// The model directory (or the file in it that is at fault).
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },

    /// A line of an input file that cannot be used: not UTF-8, missing a column, empty.
    #[error("{}:{line}: {reason}", path.display())]
    BadLine {
        /// The file (or `<stdin>`).
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong with it.
        reason: String,
    },

    /// A whole input file that cannot be used: empty, one class only, too few lines, ...
    #[error("{}: {reason}", path.display())]
    BadFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },

    /// An input given to a model that it cannot take (empty, too long, ...).
    #[error("input {}: {reason}", crate::limits::quote(input))]
    InvalidInput {
        /// The input, as given.
        input: String,
        /// Why it cannot be used.
        reason: String,
    },

    /// Words that a vocabulary does not have; every one of them is named.
    #[error("unknown word{}: {}", if words.len() == 1 { "" } else { "s" }, words.join(", "))]
    UnknownWords {
        /// The words not found, in the order asked.
        words: Vec<String>,
    },

    /// A model could not be saved (a full disk, a write error); the directory keeps the model
    /// it held before, if any.
    #[error("{}: the model was not saved{}", path.display(), if *.kept { "; the one there before is unchanged" } else { "" })]
    NotSaved {
        /// The model directory.
        path: PathBuf,
        /// Whether a model was there before, and still is.
        kept: bool,
        /// What failed.
        #[source]
        source: Box<Error>,
    },

    /// The run was stopped by Ctrl-C (SIGINT) at a safe point: what was kept, and where. The
    /// binary exits with status 130 on it.
    #[error("{0}")]
    Interrupted(String),

    /// A configuration value out of range or inconsistent with another.
    #[error("invalid configuration: {0}")]
    Config(String),

    /// A libtorch operation failed. The message shows libtorch's own words without the C++
    /// stack trace that follows them; `error` keeps the whole.
    #[error("libtorch: {context}: {}", torch_message(.error))]
    Torch {
        /// What seqmodels was doing.
        context: String,
        /// libtorch's error, stack trace included.
        error: tch::TchError,
    },
}

/// libtorch's message up to the C++ stack trace that it appends ("Exception raised from ...",
/// "frame #0: ..."), which says nothing to a user of the command line.
fn torch_message(error: &tch::TchError) -> String {
    let text = error.to_string();
    let kept: Vec<&str> = text
        .lines()
        .take_while(|l| {
            let l = l.trim_start();
            !(l.starts_with("Exception raised from") || l.starts_with("frame #"))
        })
        .collect();
    kept.join("\n").trim_end().to_owned()
}

impl Error {
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        Error::Io {
            action,
            path: path.into(),
            source,
        }
    }

    pub(crate) fn checkpoint(path: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        Error::Checkpoint {
            path: path.into(),
            reason: reason.into(),
        }
    }

    pub(crate) fn torch(context: impl Into<String>, source: tch::TchError) -> Self {
        Error::Torch {
            context: context.into(),
            error: source,
        }
    }

    /// A file with nothing of `what` in it: `a.tsv: has no sentence pairs`.
    pub fn nothing_in(path: &std::path::Path, what: &str) -> Self {
        Error::BadFile {
            path: path.to_path_buf(),
            reason: format!("has no {what}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libtorch_messages_lose_their_cpp_stack_trace() {
        let error = tch::TchError::Torch(
            "DefaultCPUAllocator: can't allocate memory\nException raised from malloc at \
             alloc_cpu.cpp:127\nframe #0: c10::ThrowEnforceNotMet\nframe #1: at::empty"
                .into(),
        );
        let err = Error::torch("making the model's weights", error);
        assert_eq!(
            err.to_string(),
            "libtorch: making the model's weights: Internal torch error: DefaultCPUAllocator: \
             can't allocate memory"
        );
    }
}
