//! Beam search's view of the network: one decoder step of the torch model for a stack of
//! hypotheses, and the selection of the rows that survive.
//!
//! Every row of the stack attends over the encoder outputs of its own input, so a step needs
//! those outputs row by row. Copying them (`index_select`) costs as much as a few attention
//! passes, and the rows rarely change: greedy decoding of fixed-length outputs keeps one row per
//! input until the end, and a beam keeps its rows from the second step until an input finishes.
//! So the stepper reuses the encoder outputs as they are while the rows are the inputs in order,
//! and keeps its last selection while the rows repeat.

use tch::{Device, Kind, Tensor};

use super::beam::StepModel;
use super::model::{DecoderState, Encoded, Seq2Seq};
use crate::error::{Error, Result};

/// Beam search's view of the network: one decoder step for a stack of hypotheses.
pub(super) struct TorchStepper<'a> {
    model: &'a Seq2Seq,
    enc: Encoded,
    /// How many inputs `enc` holds.
    inputs: usize,
    /// The rows of the last selection of `enc`, and that selection.
    selected: Option<(Vec<usize>, Encoded)>,
}

impl<'a> TorchStepper<'a> {
    /// A stepper over `enc`, the encoder outputs of `inputs` inputs.
    pub(super) fn new(model: &'a Seq2Seq, enc: Encoded, inputs: usize) -> Self {
        TorchStepper {
            model,
            enc,
            inputs,
            selected: None,
        }
    }

    /// The encoder outputs for rows that read inputs `source`, in that order.
    fn encoder_rows(&mut self, source: &[usize]) -> &Encoded {
        if source.len() == self.inputs && in_order(source) {
            return &self.enc;
        }
        let reuse = matches!(&self.selected, Some((rows, _)) if rows == source);
        if !reuse {
            let rows: Vec<i64> = source.iter().map(|&s| s as i64).collect();
            let rows = Tensor::from_slice(&rows).to_device(self.model.device());
            self.selected = Some((source.to_vec(), self.enc.select(&rows)));
        }
        match &self.selected {
            Some((_, enc)) => enc,
            None => &self.enc,
        }
    }
}

impl StepModel for TorchStepper<'_> {
    type State = DecoderState;
    type Error = Error;

    fn step(
        &mut self,
        state: &DecoderState,
        last: &[usize],
        source: &[usize],
        _step: usize,
    ) -> Result<(DecoderState, Vec<f32>)> {
        let device = self.model.device();
        let last: Vec<i64> = last.iter().map(|&t| t as i64).collect();
        let prev = Tensor::from_slice(&last).to_device(device);
        let model = self.model;
        let enc = self.encoder_rows(source);
        let step = model.step(enc, state, &prev, false);
        let log_probs = step
            .logits
            .log_softmax(-1, Kind::Float)
            .to_device(Device::Cpu)
            .flatten(0, -1);
        let flat = Vec::<f32>::try_from(&log_probs)
            .map_err(|e| Error::torch("reading decoder outputs", e))?;
        Ok((step.state, flat))
    }

    fn select(&mut self, state: &DecoderState, rows: &[usize]) -> Result<DecoderState> {
        if rows.len() as i64 == state.h.size()[0] && in_order(rows) {
            return Ok(DecoderState {
                h: state.h.shallow_clone(),
                c: state.c.shallow_clone(),
            });
        }
        let rows: Vec<i64> = rows.iter().map(|&r| r as i64).collect();
        Ok(state.select(&Tensor::from_slice(&rows).to_device(self.model.device())))
    }
}

/// Whether `rows` are 0, 1, 2, ... in order.
fn in_order(rows: &[usize]) -> bool {
    rows.iter().enumerate().all(|(i, &r)| i == r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seq2seq::Seq2SeqConfig;

    /// The stepper's log-probabilities for rows `source`, against a step over freshly selected
    /// encoder rows.
    #[test]
    fn reused_encoder_rows_are_the_rows_asked_for() {
        let _lock = crate::device::torch_rng_lock(); // the model draws its initial weights
        tch::manual_seed(3);
        let vs = tch::nn::VarStore::new(Device::Cpu);
        let config = Seq2SeqConfig {
            src_embed: Some(4),
            tgt_embed: Some(3),
            ..Seq2SeqConfig::course(7, 5)
        };
        let model = Seq2Seq::new(&vs.root(), &config).unwrap();
        let src = Tensor::from_slice(&[3i64, 4, 5, 0, 2, 6, 6, 1, 6, 2, 0, 0]).view([3, 4]);
        let lengths = [3, 4, 2];
        let mut stepper = TorchStepper::new(&model, model.encode(&src, &lengths, false), 3);
        let expected = |rows: &[usize], last: &[usize]| {
            let enc = model.encode(&src, &lengths, false);
            let index: Vec<i64> = rows.iter().map(|&r| r as i64).collect();
            let enc = enc.select(&Tensor::from_slice(&index));
            let prev: Vec<i64> = last.iter().map(|&t| t as i64).collect();
            let state = model.initial_state(rows.len() as i64);
            let step = model.step(&enc, &state, &Tensor::from_slice(&prev), false);
            Vec::<f32>::try_from(step.logits.log_softmax(-1, Kind::Float).flatten(0, -1)).unwrap()
        };
        // In order (no copy), then a selection, the same one again (reused), another one.
        for rows in [&[0, 1, 2][..], &[2, 0, 0], &[2, 0, 0], &[1, 1], &[0, 1, 2]] {
            let last: Vec<usize> = (0..rows.len()).map(|r| 1 + r % 4).collect();
            let state = model.initial_state(rows.len() as i64);
            let (_, got) = stepper.step(&state, &last, rows, 0).unwrap();
            assert_eq!(got, expected(rows, &last), "rows {rows:?}");
        }
        // Selecting the rows in order keeps the state as it is; other rows are gathered.
        let state = DecoderState {
            h: Tensor::from_slice(&[1.0f32, 2.0]).view([2, 1]),
            c: Tensor::from_slice(&[3.0f32, 4.0]).view([2, 1]),
        };
        let values = |s: &DecoderState| {
            let h = Vec::<f32>::try_from(s.h.flatten(0, -1)).unwrap();
            (h, Vec::<f32>::try_from(s.c.flatten(0, -1)).unwrap())
        };
        let kept = stepper.select(&state, &[0, 1]).unwrap();
        assert_eq!(values(&kept), (vec![1.0, 2.0], vec![3.0, 4.0]));
        let gathered = stepper.select(&state, &[1, 0, 1]).unwrap();
        assert_eq!(
            values(&gathered),
            (vec![2.0, 1.0, 2.0], vec![4.0, 3.0, 4.0])
        );
    }
}
