//! A new classifier's initial weights: the embedding table (pretrained vectors where known,
//! composed from subwords where the vectors have them, random rows at their scale where
//! trained, zeros for `<pad>` and `<unk>`) and the LSTM's weights, named and drawn as PyTorch
//! does.

use tch::nn::Init;
use tch::{Device, Kind, Tensor};

use super::model::{ClassifierConfig, EmbeddingInit};
use super::tokenize::{PAD_ID, SPECIALS, UNK_ID};
use crate::embeddings::Embeddings;
use crate::error::{Error, Result};
use crate::vocab::Vocab;

/// The standard deviation of all the values of `e`'s vectors.
fn pretrained_std(e: &Embeddings) -> f64 {
    let values = e.vectors();
    if values.len() < 2 {
        return 1.0;
    }
    let n = values.len() as f64;
    let mean = values.iter().map(|&x| f64::from(x)).sum::<f64>() / n;
    let var = values
        .iter()
        .map(|&x| (f64::from(x) - mean).powi(2))
        .sum::<f64>()
        / n;
    var.sqrt()
}

/// Fills the embedding table (`embed`, and `frozen` for the rows past `head_rows`): random rows
/// at the pretrained vectors' scale where trained, the pretrained vectors where known, zeros
/// for `<pad>` and `<unk>` and for weights about to be loaded.
pub(super) fn fill_embeddings(
    config: &ClassifierConfig,
    vocab: &Vocab,
    init: EmbeddingInit<'_>,
    (embed, frozen): (&Tensor, Option<&Tensor>),
    head_rows: i64,
    device: Device,
) -> Result<()> {
    let (v, d) = (vocab.len() as i64, config.embed_dim as i64);
    tch::no_grad(|| -> Result<()> {
        let mut table = Tensor::zeros([v, d], (Kind::Float, Device::Cpu));
        if config.train_embeddings && !matches!(init, EmbeddingInit::Zeros) {
            // Trained words without a pretrained vector start at the pretrained vectors'
            // scale rather than N(0, 1), which would dwarf them.
            let scale = match init {
                EmbeddingInit::Pretrained(e) => pretrained_std(e),
                _ => 1.0,
            };
            table = table.randn_like() * scale;
        }
        if let EmbeddingInit::Pretrained(e) = init {
            let mut rows = Vec::new();
            let mut ids = Vec::new();
            // A word's own vector, or with subwords the mean of its n-gram rows.
            for (i, word) in vocab.tokens().iter().enumerate().skip(SPECIALS.len()) {
                if let Ok(vector) = e.get_vector(word) {
                    ids.push(i as i64);
                    rows.extend_from_slice(&vector);
                }
            }
            if !ids.is_empty() {
                let rows = Tensor::from_slice(&rows).view([ids.len() as i64, d]);
                table = table.index_copy(0, &Tensor::from_slice(&ids), &rows);
            }
        }
        // `<pad>` and `<unk>` start at zero. Every training word has a row of its own, so
        // `<unk>` is never trained and stays zero: an unknown word adds nothing.
        let _ = table.get(PAD_ID).zero_();
        let _ = table.get(UNK_ID).zero_();
        let table = table.to_device(device);
        let fail = |e| Error::torch("initialising the embeddings", e);
        embed
            .shallow_clone()
            .f_copy_(&table.narrow(0, 0, head_rows))
            .map_err(fail)?;
        if let Some(frozen) = &frozen {
            frozen
                .shallow_clone()
                .f_copy_(&table.narrow(0, head_rows, v - head_rows))
                .map_err(fail)?;
        }
        Ok(())
    })
}

/// The LSTM's weights under `p`, named as PyTorch names them, drawn from `uniform`.
pub(super) fn lstm_weights(
    p: &tch::nn::Path<'_>,
    config: &ClassifierConfig,
    d: i64,
    uniform: Init,
) -> Result<Vec<Tensor>> {
    let alloc = |e| Error::torch("making the model's weights", e);
    let h = config.hidden as i64;
    let mut lstm = Vec::new();
    for l in 0..config.layers {
        let input = if l == 0 { d } else { h * config.directions() };
        for suffix in ["", "_reverse"].iter().take(config.directions() as usize) {
            for (name, dims) in [
                ("weight_ih", vec![4 * h, input]),
                ("weight_hh", vec![4 * h, h]),
                ("bias_ih", vec![4 * h]),
                ("bias_hh", vec![4 * h]),
            ] {
                let name = format!("{name}_l{l}{suffix}");
                lstm.push(p.f_var(&name, &dims, uniform).map_err(alloc)?);
            }
        }
    }
    Ok(lstm)
}
