//! Beam search's view of the network: one decoder step of the torch model for a stack of
//! hypotheses, and the selection of the rows that survive.

use tch::{Device, Kind, Tensor};

use super::beam::StepModel;
use super::model::{DecoderState, Encoded, Seq2Seq};
use crate::error::{Error, Result};

/// Beam search's view of the network: one decoder step for a stack of hypotheses.
pub(super) struct TorchStepper<'a> {
    pub(super) model: &'a Seq2Seq,
    pub(super) enc: Encoded,
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
        let rows: Vec<i64> = source.iter().map(|&s| s as i64).collect();
        let rows = Tensor::from_slice(&rows).to_device(device);
        let enc = self.enc.select(&rows);
        let last: Vec<i64> = last.iter().map(|&t| t as i64).collect();
        let prev = Tensor::from_slice(&last).to_device(device);
        let step = self.model.step(&enc, state, &prev, false);
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
        let rows: Vec<i64> = rows.iter().map(|&r| r as i64).collect();
        Ok(state.select(&Tensor::from_slice(&rows).to_device(self.model.device())))
    }
}
