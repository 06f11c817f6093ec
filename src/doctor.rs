//! What seqmodels runs on: versions, threads, GPUs, and a numerical check on each device.
//!
//! Each device check runs a matrix product and a one-layer LSTM forward through libtorch and
//! compares them with the same computation written out step by step in `f64` on the CPU
//! (`i, f, g, o = σ, σ, tanh, σ` of `x W_ihᵀ + b_ih + h W_hhᵀ + b_hh`; `c' = f c + i g`;
//! `h' = o tanh c'`), so a broken libtorch, driver or cuDNN shows up as an error or a large
//! difference, not as a silent wrong answer.

use std::path::PathBuf;
use std::time::Instant;

use rand::Rng as _;
use tch::{Device, Kind, Tensor};

use crate::device::{device_name, libtorch_has_cuda, loaded_library, rng_from_seed};
use crate::progress::{Progress, ProgressEvent};

/// The libtorch version seqmodels was compiled against, from libtorch's headers.
pub const LIBTORCH_BUILD_VERSION: &str = env!("SEQMODELS_LIBTORCH_BUILD_VERSION");

/// Everything `seqmodels doctor` prints.
#[derive(Debug, Clone)]
pub struct Report {
    /// seqmodels' own version.
    pub crate_version: &'static str,
    /// The version of the libtorch loaded in this process (e.g. `2.13.0+cu130`), when it can be
    /// read next to the loaded library; else the version compiled against.
    pub libtorch_version: String,
    /// The folder of the loaded `libtorch_cpu`, when found.
    pub libtorch_path: Option<PathBuf>,
    /// libtorch's intra-op thread count.
    pub threads: i32,
    /// The loaded libtorch carries CUDA.
    pub built_with_cuda: bool,
    /// A GPU and driver were found.
    pub cuda_available: bool,
    /// cuDNN is usable.
    pub cudnn_available: bool,
    /// Number of GPUs libtorch sees.
    pub gpu_count: usize,
    /// One entry per device checked.
    pub checks: Vec<DeviceCheck>,
}

/// The outcome of the numerical check on one device.
#[derive(Debug, Clone)]
pub struct DeviceCheck {
    /// `cpu` or `cuda:N`.
    pub device: String,
    /// Figures, or what failed.
    pub outcome: Result<CheckFigures, String>,
}

/// Largest differences from the `f64` reference, and time taken.
#[derive(Debug, Clone, Copy)]
pub struct CheckFigures {
    /// Largest absolute difference of a 64x64 by 64x64 `f32` product.
    pub matmul_max_abs_diff: f64,
    /// Largest absolute difference of the LSTM outputs (5 steps, batch 3, 8 in, 16 hidden).
    pub lstm_max_abs_diff: f64,
    /// The largest LSTM difference accepted on this device: `1e-4` (`f32` rounding) on the CPU,
    /// `2e-3` on a GPU, where cuDNN computes the LSTM's matrix products in TF32 (10-bit mantissa)
    /// by default, as PyTorch does.
    pub lstm_tolerance: f64,
    /// Wall time of both checks, in milliseconds.
    pub millis: f64,
}

impl CheckFigures {
    /// Both differences are within the device's rounding.
    pub fn passed(&self) -> bool {
        self.matmul_max_abs_diff < 1e-3 && self.lstm_max_abs_diff < self.lstm_tolerance
    }
}

/// The devices `auto` can reach: the CPU and every GPU.
pub fn all_devices() -> Vec<Device> {
    crate::device::load_cuda();
    let gpus = tch::Cuda::device_count().max(0) as usize;
    std::iter::once(Device::Cpu)
        .chain((0..gpus).map(Device::Cuda))
        .collect()
}

/// Gathers versions and runs the check on each of `devices`, reporting each as a step.
pub fn run(devices: &[Device], progress: &dyn Progress) -> Report {
    crate::device::load_cuda();
    let (libtorch_version, libtorch_path) = match loaded_libtorch() {
        Some((version, path)) => (version, Some(path)),
        None => (LIBTORCH_BUILD_VERSION.to_owned(), None),
    };
    Report {
        crate_version: env!("CARGO_PKG_VERSION"),
        libtorch_version,
        libtorch_path,
        threads: tch::get_num_threads(),
        built_with_cuda: libtorch_has_cuda(),
        cuda_available: tch::Cuda::is_available(),
        cudnn_available: tch::Cuda::cudnn_is_available(),
        gpu_count: tch::Cuda::device_count().max(0) as usize,
        checks: check_each(devices, progress),
    }
}

fn check_each(devices: &[Device], progress: &dyn Progress) -> Vec<DeviceCheck> {
    progress.event(&ProgressEvent::Begin {
        label: "checking devices",
        total: Some(devices.len() as u64),
        unit: "devices",
    });
    let checks = devices
        .iter()
        .enumerate()
        .map(|(done, &device)| {
            let name = device_name(device);
            progress.event(&ProgressEvent::Status { message: &name });
            let outcome = check_device(device).map_err(|e| e.to_string());
            progress.event(&ProgressEvent::Advance {
                done: done as u64 + 1,
            });
            DeviceCheck {
                device: name,
                outcome,
            }
        })
        .collect();
    progress.event(&ProgressEvent::End { summary: "" });
    checks
}

/// Finds the loaded `libtorch_cpu` in this process's memory map and reads the version that the
/// torch wheel (`version.py`) or a libtorch archive (`build-version`) keeps beside it.
fn loaded_libtorch() -> Option<(String, PathBuf)> {
    let lib = loaded_library("libtorch_cpu.")?;
    let root = lib.parent()?.parent()?.to_path_buf();
    let from_wheel = std::fs::read_to_string(root.join("version.py"))
        .ok()
        .and_then(|text| {
            text.lines().find_map(|line| {
                let rest = line.trim().strip_prefix("__version__")?;
                Some(
                    rest.trim_start_matches([' ', '='])
                        .trim()
                        .trim_matches('\'')
                        .trim_matches('"')
                        .to_owned(),
                )
            })
        });
    let version = from_wheel.or_else(|| {
        std::fs::read_to_string(root.join("build-version"))
            .ok()
            .map(|v| v.trim().to_owned())
    })?;
    Some((version, root))
}

fn seeded(rng: &mut crate::device::Rng, shape: &[i64]) -> Vec<f64> {
    let n: i64 = shape.iter().product();
    (0..n).map(|_| rng.random_range(-1.0..1.0)).collect()
}

fn on(values: &[f64], shape: &[i64], device: Device) -> Result<Tensor, tch::TchError> {
    Tensor::from_slice(values)
        .f_view(shape)?
        .f_to_kind(Kind::Float)?
        .f_to_device(device)
}

fn max_abs_diff(got: &Tensor, want: &[f64]) -> Result<f64, tch::TchError> {
    let got: Vec<f64> = Vec::<f64>::try_from(
        got.f_to_kind(Kind::Double)?
            .f_to_device(Device::Cpu)?
            .f_flatten(0, -1)?,
    )?;
    if got.len() != want.len() {
        return Err(tch::TchError::Shape(format!(
            "{} values, expected {}",
            got.len(),
            want.len()
        )));
    }
    Ok(got
        .iter()
        .zip(want)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max))
}

fn check_device(device: Device) -> Result<CheckFigures, tch::TchError> {
    let start = Instant::now();
    let mut rng = rng_from_seed(2013);
    let n = 64;
    let a = seeded(&mut rng, &[n, n]);
    let b = seeded(&mut rng, &[n, n]);
    let product = on(&a, &[n, n], device)?.f_matmul(&on(&b, &[n, n], device)?)?;
    let nu = n as usize;
    let want: Vec<f64> = (0..nu * nu)
        .map(|ij| {
            (0..nu)
                .map(|k| a[ij / nu * nu + k] * b[k * nu + ij % nu])
                .sum()
        })
        .collect();
    let matmul_max_abs_diff = max_abs_diff(&product, &want)?;

    let (steps, batch, input, hidden) = (5i64, 3i64, 8i64, 16i64);
    let x = seeded(&mut rng, &[steps, batch, input]);
    let w_ih = seeded(&mut rng, &[4 * hidden, input]);
    let w_hh = seeded(&mut rng, &[4 * hidden, hidden]);
    let b_ih = seeded(&mut rng, &[4 * hidden]);
    let b_hh = seeded(&mut rng, &[4 * hidden]);
    let zeros = vec![0.0; (batch * hidden) as usize];
    let params = [
        on(&w_ih, &[4 * hidden, input], device)?,
        on(&w_hh, &[4 * hidden, hidden], device)?,
        on(&b_ih, &[4 * hidden], device)?,
        on(&b_hh, &[4 * hidden], device)?,
    ];
    let state = [
        on(&zeros, &[1, batch, hidden], device)?,
        on(&zeros, &[1, batch, hidden], device)?,
    ];
    let (output, _, _) = on(&x, &[steps, batch, input], device)?
        .f_lstm(&state, &params, true, 1, 0.0, false, false, false)?;
    let want = reference_lstm(
        &x,
        &w_ih,
        &w_hh,
        &b_ih,
        &b_hh,
        [steps, batch, input, hidden],
    );
    let lstm_max_abs_diff = max_abs_diff(&output, &want)?;
    if let Device::Cuda(i) = device {
        tch::Cuda::synchronize(i as i64);
    }
    Ok(CheckFigures {
        matmul_max_abs_diff,
        lstm_max_abs_diff,
        lstm_tolerance: if device == Device::Cpu { 1e-4 } else { 2e-3 },
        millis: start.elapsed().as_secs_f64() * 1e3,
    })
}

/// A single-layer LSTM in plain `f64`, gate order i, f, g, o as in PyTorch. Returns the outputs
/// `[steps, batch, hidden]` flattened.
fn reference_lstm(
    x: &[f64],
    w_ih: &[f64],
    w_hh: &[f64],
    b_ih: &[f64],
    b_hh: &[f64],
    dims: [i64; 4],
) -> Vec<f64> {
    let [steps, batch, input, hidden] = dims.map(|d| d as usize);
    let sigmoid = |v: f64| 1.0 / (1.0 + (-v).exp());
    let mut h = vec![0.0; batch * hidden];
    let mut c = vec![0.0; batch * hidden];
    let mut out = Vec::with_capacity(steps * batch * hidden);
    for t in 0..steps {
        let mut next_h = vec![0.0; batch * hidden];
        for bi in 0..batch {
            let xt = &x[(t * batch + bi) * input..][..input];
            let ht = &h[bi * hidden..][..hidden];
            let gate = |row: usize| {
                let from_x: f64 = (0..input).map(|k| w_ih[row * input + k] * xt[k]).sum();
                let from_h: f64 = (0..hidden).map(|k| w_hh[row * hidden + k] * ht[k]).sum();
                from_x + from_h + b_ih[row] + b_hh[row]
            };
            for j in 0..hidden {
                let i = sigmoid(gate(j));
                let f = sigmoid(gate(hidden + j));
                let g = gate(2 * hidden + j).tanh();
                let o = sigmoid(gate(3 * hidden + j));
                let cell = &mut c[bi * hidden + j];
                *cell = f * *cell + i * g;
                next_h[bi * hidden + j] = o * cell.tanh();
            }
        }
        h = next_h;
        out.extend_from_slice(&h);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_check_agrees_with_the_reference() {
        let report = run(&[Device::Cpu], &crate::progress::Silent);
        assert_eq!(report.crate_version, env!("CARGO_PKG_VERSION"));
        assert!(report.threads >= 1);
        let figures = report.checks[0].outcome.as_ref().unwrap();
        assert!(figures.passed(), "{figures:?}");
    }

    #[test]
    fn reads_the_loaded_libtorch_version() {
        let report = run(&[], &crate::progress::Silent);
        assert!(
            report.libtorch_version.starts_with(LIBTORCH_BUILD_VERSION),
            "{report:?}"
        );
        assert!(report.libtorch_path.is_some());
    }

    #[test]
    fn reference_lstm_with_zero_weights_is_zero() {
        let zero = vec![0.0; 64];
        let out = reference_lstm(&[1.0; 8], &zero, &zero, &zero, &zero, [2, 1, 4, 4]);
        assert!(out.iter().all(|&v| v == 0.0));
    }
}
