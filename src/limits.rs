//! The limits of what seqmodels builds and trains, and the checks that name a setting and its
//! value when it is out of range ("learning rate 1e38 is not in (0, 1e6]"), for options and for
//! sizes read from a checkpoint alike; and the most bytes each part of a model directory may
//! have, so that a reader never reads without end.

use crate::error::{Error, Result};

/// The most weights a model may have: 2^31, 8 GiB of 32-bit floats.
pub const MAX_WEIGHTS: f64 = 2_147_483_648.0;
/// The most stacked recurrent layers a model may have.
pub const MAX_LAYERS: usize = 64;
/// The largest learning rate (and word2vec `alpha`) training accepts: far above any that
/// trains, and far below what overflows libtorch's 32-bit arithmetic.
pub const MAX_LEARNING_RATE: f64 = 1e6;
/// The largest gradient-clipping threshold training accepts: the largest 32-bit float.
pub const MAX_CLIP: f64 = f32::MAX as f64;

/// The most bytes of a model's small JSON parts (`config.json`, `meta.json`): real ones are a
/// few kilobytes (a classifier's thousands of class names included).
pub const MAX_CONFIG_BYTES: u64 = 16 << 20;
/// The most bytes of a vocabulary or tokenizer part (`vocab.json`, `src_tokenizer.json`): a
/// word vocabulary of millions of words is tens of megabytes.
pub const MAX_VOCAB_BYTES: u64 = 512 << 20;
/// The most bytes of a safetensors file's header (its JSON table of names, shapes and offsets)
/// that a reader accepts on top of the tensors' data.
pub const MAX_TENSOR_HEADER_BYTES: u64 = 16 << 20;
/// The most bytes of a safetensors part whose tensors the reader does not know in advance
/// (the optimiser state): [`MAX_WEIGHTS`] values of 8 bytes, which is also two 4-byte moments
/// per weight, plus a header.
pub const MAX_TENSOR_FILE_BYTES: u64 = MAX_WEIGHTS as u64 * 8 + MAX_TENSOR_HEADER_BYTES;

/// The most characters of an input an error message quotes.
pub const MAX_QUOTE_CHARS: usize = 80;

/// `text` quoted for an error message: whole when short, else its first
/// [`MAX_QUOTE_CHARS`] characters and its length, so that a huge input never floods stderr.
pub fn quote(text: &str) -> String {
    match text.char_indices().nth(MAX_QUOTE_CHARS) {
        None => format!("{text:?}"),
        Some((end, _)) => format!(
            "{:?}... ({} characters)",
            &text[..end],
            text.chars().count()
        ),
    }
}

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

/// `value` as a person writes it: `0.001`, `1e38`, `3.4028234663852886e38`.
fn short(value: f64) -> String {
    let magnitude = value.abs();
    if magnitude != 0.0 && magnitude.is_finite() && !(1e-4..1e6).contains(&magnitude) {
        format!("{value:e}")
    } else {
        value.to_string()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_name_the_setting_and_the_value() {
        assert!(check_count("epochs", 1).is_ok());
        let err = check_count("epochs", 0).unwrap_err().to_string();
        assert!(err.ends_with("epochs 0 must be at least 1"), "{err}");
        assert!(check_positive("learning rate", 1e-3, MAX_LEARNING_RATE).is_ok());
        for (bad, shown) in [
            (0.0, "0"),
            (-0.5, "-0.5"),
            (1e38, "1e38"),
            (f64::NAN, "NaN"),
        ] {
            let err = check_positive("learning rate", bad, MAX_LEARNING_RATE)
                .unwrap_err()
                .to_string();
            assert!(
                err.ends_with(&format!("learning rate {shown} is not in (0, 1e6]")),
                "{err}"
            );
        }
    }
}
