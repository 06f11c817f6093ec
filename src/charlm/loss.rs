//! The loss of a character model: the cross-entropy of one batch (the one computation that
//! training and evaluation share), and the summed loss over encoded items without gradients.

use tch::{Kind, Reduction, Tensor};

use super::data::{line_batch, text_windows, Batch, Unit, IGNORE};
use super::model::{CharLm, State};
use crate::error::{Error, Result};

/// The cross-entropy of one batch (padding ignored), reduced by `reduction`, and the state after
/// it: the one computation of training and evaluation.
pub(super) fn batch_loss(
    model: &CharLm,
    batch: &Batch,
    state: Option<&State>,
    train: bool,
    reduction: Reduction,
) -> std::result::Result<(Tensor, State), tch::TchError> {
    let shape = [batch.rows as i64, batch.steps as i64];
    let device = model.device();
    let inputs = Tensor::from_slice(&batch.inputs)
        .f_view(shape)?
        .f_to_device(device)?;
    let targets = Tensor::from_slice(&batch.targets)
        .f_view(shape)?
        .f_to_device(device)?;
    let (logits, next) = model.forward(&inputs, state, train)?;
    let loss = logits
        .f_view([-1, model.vocab.len() as i64])?
        .f_cross_entropy_loss::<Tensor>(&targets.f_view([-1])?, None, reduction, IGNORE, 0.0)?;
    Ok((loss, next))
}

/// Summed loss (nats) and counted targets over encoded items, without dropout or gradients.
pub(crate) fn evaluate_ids(
    model: &CharLm,
    ids: &[Vec<i64>],
    batch_size: usize,
) -> Result<(f64, usize)> {
    let err = |e| Error::torch("evaluating", e);
    let batches: Vec<Batch> = match model.config.unit {
        Unit::Line => {
            // Sorted by length so that batches carry little padding.
            let mut order: Vec<usize> = (0..ids.len()).collect();
            order.sort_by_key(|&i| ids[i].len());
            order
                .chunks(batch_size.max(256))
                .map(|c| line_batch(&c.iter().map(|&i| ids[i].as_slice()).collect::<Vec<_>>()))
                .collect()
        }
        Unit::Text => {
            let stream = &ids[0];
            let rows = (stream.len() / 4096).clamp(1, 16);
            text_windows(stream, rows, 256)
        }
    };
    tch::no_grad(|| {
        let mut total = Tensor::zeros([], (Kind::Double, model.device()));
        let mut counted = 0;
        let mut state: Option<State> = None;
        for batch in &batches {
            let (loss, next) =
                batch_loss(model, batch, state.as_ref(), false, Reduction::Sum).map_err(err)?;
            total += loss.to_kind(Kind::Double);
            counted += batch.counted;
            if model.config.unit == Unit::Text {
                state = Some(next);
            }
        }
        Ok((total.double_value(&[]), counted))
    })
}
