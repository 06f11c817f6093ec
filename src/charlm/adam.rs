//! Adam and plain SGD over named parameters, with a state that is saved with the model so that
//! `--resume` continues exactly where training stopped; and gradient clipping.

use tch::{Kind, Tensor};

use super::train::Clip;
use crate::error::{Error, Result};

/// File of the optimiser state in a model directory.
pub(crate) const OPTIMIZER_FILE: &str = "optimizer.safetensors";

/// PyTorch's `torch.optim.Adam` (betas 0.9/0.999, eps 1e-8, no weight decay), or SGD.
pub(crate) struct Optim {
    adam: bool,
    step: i64,
    /// Parameters by name, sorted.
    params: Vec<(String, Tensor)>,
    m: Vec<Tensor>,
    v: Vec<Tensor>,
}

const BETA1: f64 = 0.9;
const BETA2: f64 = 0.999;
const EPS: f64 = 1e-8;

impl Optim {
    pub(crate) fn new(vs: &tch::nn::VarStore, adam: bool) -> Optim {
        let mut params: Vec<(String, Tensor)> = vs.variables().into_iter().collect();
        params.sort_by(|a, b| a.0.cmp(&b.0));
        let zeros = |params: &[(String, Tensor)]| {
            params
                .iter()
                .map(|(_, p)| p.zeros_like().detach())
                .collect::<Vec<_>>()
        };
        let (m, v) = if adam {
            (zeros(&params), zeros(&params))
        } else {
            (Vec::new(), Vec::new())
        };
        Optim {
            adam,
            step: 0,
            params,
            m,
            v,
        }
    }

    /// Steps taken.
    pub(crate) fn steps(&self) -> i64 {
        self.step
    }

    pub(crate) fn zero_grad(&mut self) {
        for (_, p) in &mut self.params {
            p.zero_grad();
        }
    }

    /// Clips the gradients: by global L2 norm, or each value into `[-c, c]`.
    pub(crate) fn clip(&mut self, clip: Clip) -> Result<()> {
        let err = |e| Error::torch("clipping gradients", e);
        tch::no_grad(|| {
            let grads: Vec<Tensor> = self.params.iter().map(|(_, p)| p.grad()).collect();
            if let Clip::Value(c) = clip {
                for g in &grads {
                    if g.defined() {
                        let _ = g.shallow_clone().f_clamp_(-c, c).map_err(err)?;
                    }
                }
            }
            if let Clip::Norm(c) = clip {
                let mut total = Tensor::zeros([], (Kind::Float, grads[0].device()));
                for g in grads.iter().filter(|g| g.defined()) {
                    total += g.f_square().map_err(err)?.f_sum(Kind::Float).map_err(err)?;
                }
                let total = total.f_sqrt().map_err(err)?;
                // The scale, min(1, c / (norm + 1e-6)), stays on the device: no synchronisation.
                let scale = (total + 1e-6).f_reciprocal().map_err(err)? * c;
                let scale = scale.f_clamp_max(1.0).map_err(err)?;
                for g in grads.iter().filter(|g| g.defined()) {
                    let _ = g.shallow_clone().f_mul_(&scale).map_err(err)?;
                }
            }
            Ok(())
        })
    }

    /// One update at learning rate `lr`.
    pub(crate) fn step(&mut self, lr: f64) -> Result<()> {
        let err = |e| Error::torch("updating the weights", e);
        self.step += 1;
        let t = self.step as i32;
        tch::no_grad(|| {
            for (i, (_, p)) in self.params.iter_mut().enumerate() {
                let g = p.grad();
                if !g.defined() {
                    continue;
                }
                if !self.adam {
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

    /// The state to save: the step count and the moments, by parameter name.
    pub(crate) fn state(&self) -> Vec<(String, Tensor)> {
        let mut out = vec![("step".to_owned(), Tensor::from(self.step))];
        for (i, (name, _)) in self.params.iter().enumerate() {
            if self.adam {
                out.push((format!("m.{name}"), self.m[i].shallow_clone()));
                out.push((format!("v.{name}"), self.v[i].shallow_clone()));
            }
        }
        out
    }

    /// Restores a state saved by [`Optim::state`]; every tensor must be there with its shape.
    pub(crate) fn restore(
        &mut self,
        saved: Vec<(String, Tensor)>,
        dir: &std::path::Path,
    ) -> Result<()> {
        let mut saved: std::collections::HashMap<String, Tensor> = saved.into_iter().collect();
        let bad = |what: String| Error::checkpoint(dir.join(OPTIMIZER_FILE), what);
        let step = saved
            .remove("step")
            .ok_or_else(|| bad("has no `step`".into()))?;
        self.step = step.int64_value(&[]);
        let device = self.params.first().map(|(_, p)| p.device());
        for (i, (name, p)) in self.params.iter().enumerate() {
            if !self.adam {
                break;
            }
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
                *slot = t
                    .to_kind(Kind::Float)
                    .to_device(device.unwrap_or(tch::Device::Cpu));
            }
        }
        if let Some(extra) = saved.keys().next() {
            return Err(bad(format!("has an unexpected tensor `{extra}`")));
        }
        Ok(())
    }
}
