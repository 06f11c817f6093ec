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
    #[error("input {input:?}: {reason}")]
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

/// The most weights a model may have: 2^31, 8 GiB of 32-bit floats.
pub const MAX_WEIGHTS: f64 = 2_147_483_648.0;
/// The most stacked recurrent layers a model may have.
pub const MAX_LAYERS: usize = 64;
/// The largest learning rate (and word2vec `alpha`) training accepts: far above any that
/// trains, and far below what overflows libtorch's 32-bit arithmetic.
pub const MAX_LEARNING_RATE: f64 = 1e6;
/// The largest gradient-clipping threshold training accepts: the largest 32-bit float.
pub const MAX_CLIP: f64 = f32::MAX as f64;

/// The weights of `layers` stacked recurrent layers of `hidden` units in `directions`
/// directions, with `gates` gates (4 for an LSTM), reading `input` values at the first layer.
pub(crate) fn rnn_weights(
    gates: f64,
    input: f64,
    hidden: f64,
    layers: usize,
    directions: f64,
) -> f64 {
    let layer = |fan_in: f64| directions * gates * hidden * (fan_in + hidden + 2.0);
    match layers {
        0 => 0.0,
        n => layer(input) + (n - 1) as f64 * layer(hidden * directions),
    }
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

/// `value` as a person writes it: `0.001`, `1e38`, `3.4028234663852886e38`.
fn short(value: f64) -> String {
    let magnitude = value.abs();
    if magnitude != 0.0 && magnitude.is_finite() && !(1e-4..1e6).contains(&magnitude) {
        format!("{value:e}")
    } else {
        value.to_string()
    }
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

    /// `Ok` when a model of `weights` values in `layers` stacked layers is one seqmodels builds:
    /// at most [`MAX_WEIGHTS`] values and [`MAX_LAYERS`] layers. Checked before any tensor is
    /// made, for sizes from options and from a checkpoint's `config.json` alike.
    pub(crate) fn check_model_size(weights: f64, layers: usize) -> Result<()> {
        if layers > MAX_LAYERS {
            return Err(Error::Config(format!(
                "{layers} layers: seqmodels builds at most {MAX_LAYERS}"
            )));
        }
        if weights.is_nan() || weights > MAX_WEIGHTS {
            return Err(Error::Config(format!(
                "these sizes make a model of {weights:.3e} weights ({:.0} GiB); seqmodels builds \
                 at most 2^31 (8 GiB)",
                weights * 4.0 / (1u64 << 30) as f64
            )));
        }
        Ok(())
    }

    /// `Ok` when `value` is at least 1; otherwise a configuration error naming it:
    /// "epochs 0 must be at least 1".
    pub(crate) fn check_count(name: &str, value: usize) -> Result<()> {
        if value >= 1 {
            Ok(())
        } else {
            Err(Error::Config(format!("{name} {value} must be at least 1")))
        }
    }

    /// `Ok` when `value` is a number in (0, `max`]; otherwise a configuration error naming it:
    /// "learning rate 1e39 is not in (0, 1e6]". The cap keeps values that libtorch's 32-bit
    /// arithmetic would overflow (an Adam step of 1e38) out of training.
    pub(crate) fn check_positive(name: &str, value: f64, max: f64) -> Result<()> {
        if value > 0.0 && value <= max {
            Ok(())
        } else {
            Err(Error::Config(format!(
                "{name} {} is not in (0, {}]",
                short(value),
                short(max)
            )))
        }
    }

    /// `Ok` when `value` lies in [0, 1) (a dropout rate, a held-out share); otherwise a
    /// configuration error naming it: "dropout 1 is not in [0, 1)".
    pub(crate) fn check_fraction(name: &str, value: f64) -> Result<()> {
        if (0.0..1.0).contains(&value) {
            Ok(())
        } else {
            Err(Error::Config(format!("{name} {value} is not in [0, 1)")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_name_the_setting_and_the_value() {
        assert!(Error::check_count("epochs", 1).is_ok());
        let err = Error::check_count("epochs", 0).unwrap_err().to_string();
        assert!(err.ends_with("epochs 0 must be at least 1"), "{err}");
        assert!(Error::check_positive("learning rate", 1e-3, MAX_LEARNING_RATE).is_ok());
        for (bad, shown) in [
            (0.0, "0"),
            (-0.5, "-0.5"),
            (1e38, "1e38"),
            (f64::NAN, "NaN"),
        ] {
            let err = Error::check_positive("learning rate", bad, MAX_LEARNING_RATE)
                .unwrap_err()
                .to_string();
            assert!(
                err.ends_with(&format!("learning rate {shown} is not in (0, 1e6]")),
                "{err}"
            );
        }
    }

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
