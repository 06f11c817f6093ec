//! The optimiser every model trains with: Adam (PyTorch's `torch.optim.Adam`, Kingma & Ba 2015)
//! or plain SGD over a [`VarStore`]'s trainable parameters, with optional L2 weight decay and
//! gradient clipping, and a state (step count and moments, by parameter name) that is saved with
//! the model so that a resumed run continues exactly where the saved one stopped.
//!
//! One Adam step at learning rate `lr`, step `t`, gradient `g` (plus `wd * p` with weight decay):
//!
//! ```text
//! m = b1 m + (1 - b1) g          v = b2 v + (1 - b2) g^2
//! p = p - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
//! ```

use serde::{Deserialize, Serialize};
use tch::nn::VarStore;
use tch::{Kind, Tensor};

use crate::error::{Error, Result};

/// File of the optimiser state in a model directory.
pub const OPTIMIZER_FILE: &str = "optimizer.safetensors";

const BETA1: f64 = 0.9;
const BETA2: f64 = 0.999;
const EPS: f64 = 1e-8;

/// Which update rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OptimizerKind {
    /// Adam (betas 0.9, 0.999, eps 1e-8), as PyTorch's.
    Adam,
    /// Plain stochastic gradient descent.
    Sgd,
}

/// Gradient clipping, applied between the backward pass and the update.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Clip {
    /// None.
    Off,
    /// Rescale all gradients together to at most this global L2 norm.
    Norm(f64),
    /// Clamp every gradient value into `[-c, c]` (the Sequence Models course's clipping).
    Value(f64),
}

impl Clip {
    /// `Norm(c)`, or `Off` for `c == 0` (the "0 turns clipping off" convention of `--clip-norm`).
    pub fn norm_or_off(c: f64) -> Clip {
        if c > 0.0 {
            Clip::Norm(c)
        } else {
            Clip::Off
        }
    }

    /// Checks the threshold: positive and finite, at most `f32::MAX`.
    pub fn validate(self) -> Result<()> {
        match self {
            Clip::Norm(c) | Clip::Value(c) => {
                crate::limits::check_positive("clipping threshold", c, crate::limits::MAX_CLIP)
            }
            Clip::Off => Ok(()),
        }
    }
}

/// Adam or SGD over the trainable parameters of a [`VarStore`], with its saved state.
pub struct Optimizer {
    kind: OptimizerKind,
    weight_decay: f64,
    step: i64,
    /// Trainable parameters by name, sorted.
    params: Vec<(String, Tensor)>,
    m: Vec<Tensor>,
    v: Vec<Tensor>,
}

impl Optimizer {
    /// A fresh optimiser (step 0, zero moments) over `vs`'s trainable parameters.
    pub fn new(vs: &VarStore, kind: OptimizerKind) -> Optimizer {
        let mut params: Vec<(String, Tensor)> = vs
            .variables()
            .into_iter()
            .filter(|(_, p)| p.requires_grad())
            .collect();
        params.sort_by(|a, b| a.0.cmp(&b.0));
        let zeros = |params: &[(String, Tensor)]| {
            params
                .iter()
                .map(|(_, p)| p.zeros_like().detach())
                .collect::<Vec<_>>()
        };
        let (m, v) = match kind {
            OptimizerKind::Adam => (zeros(&params), zeros(&params)),
            OptimizerKind::Sgd => (Vec::new(), Vec::new()),
        };
        Optimizer {
            kind,
            weight_decay: 0.0,
            step: 0,
            params,
            m,
            v,
        }
    }

    /// Adds `wd * p` to each parameter's gradient before the update (L2 weight decay, as
    /// PyTorch's `weight_decay`).
    pub fn with_weight_decay(mut self, wd: f64) -> Optimizer {
        self.weight_decay = wd;
        self
    }

    /// Steps taken, resumed runs included.
    pub fn steps(&self) -> i64 {
        self.step
    }

    /// Zeroes the gradients, runs `loss`'s backward pass, clips and updates at `lr`.
    pub fn backward_step(&mut self, loss: &Tensor, clip: Clip, lr: f64) -> Result<()> {
        self.zero_grad();
        loss.f_backward()
            .map_err(|e| Error::torch("training step", e))?;
        self.clip(clip)?;
        self.step(lr)
    }

    fn zero_grad(&mut self) {
        for (_, p) in &mut self.params {
            p.zero_grad();
        }
    }

    /// Clips the gradients: by global L2 norm, or each value into `[-c, c]`.
    fn clip(&mut self, clip: Clip) -> Result<()> {
        let err = |e| Error::torch("clipping gradients", e);
        tch::no_grad(|| {
            let grads: Vec<Tensor> = self.params.iter().map(|(_, p)| p.grad()).collect();
            match clip {
                Clip::Off => {}
                Clip::Value(c) => {
                    for g in grads.iter().filter(|g| g.defined()) {
                        let _ = g.shallow_clone().f_clamp_(-c, c).map_err(err)?;
                    }
                }
                Clip::Norm(c) => {
                    let Some(first) = grads.iter().find(|g| g.defined()) else {
                        return Ok(());
                    };
                    let mut total = Tensor::zeros([], (Kind::Float, first.device()));
                    for g in grads.iter().filter(|g| g.defined()) {
                        total += g.f_square().map_err(err)?.f_sum(Kind::Float).map_err(err)?;
                    }
                    let total = total.f_sqrt().map_err(err)?;
                    // min(1, c / (norm + 1e-6)) stays on the device: no synchronisation.
                    let scale = (total + 1e-6).f_reciprocal().map_err(err)? * c;
                    let scale = scale.f_clamp_max(1.0).map_err(err)?;
                    for g in grads.iter().filter(|g| g.defined()) {
                        let _ = g.shallow_clone().f_mul_(&scale).map_err(err)?;
                    }
                }
            }
            Ok(())
        })
    }

    /// One update at learning rate `lr`.
    fn step(&mut self, lr: f64) -> Result<()> {
        let err = |e| Error::torch("updating the weights", e);
        self.step += 1;
        let t = self.step as i32;
        let wd = self.weight_decay;
        tch::no_grad(|| {
            for (i, (_, p)) in self.params.iter_mut().enumerate() {
                let mut g = p.grad();
                if !g.defined() {
                    continue;
                }
                if wd != 0.0 {
                    g = g.f_add(&(&*p * wd)).map_err(err)?;
                }
                if self.kind == OptimizerKind::Sgd {
                    let _ = p.f_sub_(&(g * lr)).map_err(err)?;
                    continue;
                }
                let (m, v) = (&mut self.m[i], &mut self.v[i]);
                let _ = m.f_mul_scalar_(BETA1).map_err(err)?;
                let _ = m.f_add_(&(&g * (1.0 - BETA1))).map_err(err)?;
                let _ = v.f_mul_scalar_(BETA2).map_err(err)?;
                let _ = v
                    .f_add_(&(g.f_square().map_err(err)? * (1.0 - BETA2)))
                    .map_err(err)?;
                let bias1 = 1.0 - BETA1.powi(t);
                let bias2 = 1.0 - BETA2.powi(t);
                let denom = v.f_sqrt().map_err(err)? / bias2.sqrt() + EPS;
                let _ = p.f_sub_(&(&*m / denom * (lr / bias1))).map_err(err)?;
            }
            Ok(())
        })
    }

    /// The state to save: the step count and, for Adam, the moments by parameter name.
    pub fn state(&self) -> Vec<(String, Tensor)> {
        let mut out = vec![("step".to_owned(), Tensor::from(self.step))];
        if self.kind == OptimizerKind::Adam {
            for (i, (name, _)) in self.params.iter().enumerate() {
                out.push((format!("m.{name}"), self.m[i].shallow_clone()));
                out.push((format!("v.{name}"), self.v[i].shallow_clone()));
            }
        }
        out
    }

    /// Restores the state saved in `dir` ([`OPTIMIZER_FILE`]); every tensor must be there with
    /// its shape.
    pub fn restore_from(&mut self, dir: &std::path::Path) -> Result<()> {
        let saved = crate::checkpoint::load_tensors(dir, OPTIMIZER_FILE)?;
        self.restore(saved, dir)
    }

    /// Restores a state saved by [`Optimizer::state`].
    pub fn restore(&mut self, saved: Vec<(String, Tensor)>, dir: &std::path::Path) -> Result<()> {
        let mut saved: std::collections::HashMap<String, Tensor> = saved.into_iter().collect();
        let bad = |what: String| Error::checkpoint(dir.join(OPTIMIZER_FILE), what);
        let step = saved
            .remove("step")
            .ok_or_else(|| bad("has no `step`".into()))?;
        self.step = step.int64_value(&[]);
        if self.kind == OptimizerKind::Adam {
            for (i, (name, p)) in self.params.iter().enumerate() {
                for (prefix, slot) in [("m", &mut self.m[i]), ("v", &mut self.v[i])] {
                    let key = format!("{prefix}.{name}");
                    let t = saved.remove(&key).ok_or_else(|| {
                        bad(format!("has no `{key}` (saved with another optimiser?)"))
                    })?;
                    if t.size() != p.size() {
                        return Err(bad(format!(
                            "`{key}` has shape {:?}, expected {:?}",
                            t.size(),
                            p.size()
                        )));
                    }
                    *slot = t.to_kind(Kind::Float).to_device(p.device());
                }
            }
        }
        if let Some(extra) = saved.keys().next() {
            return Err(bad(format!("has an unexpected tensor `{extra}`")));
        }
        Ok(())
    }
}
