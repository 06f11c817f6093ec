//! Choosing the device and seeding: the one place where `--device` and `--seed` become libtorch
//! state.
//!
//! `auto` picks the first GPU when libtorch sees one and the CPU otherwise. Asking for `cuda` on
//! a machine without one is an error, never a silent fallback to the CPU.

use std::fmt;
use std::str::FromStr;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::error::{Error, Result};

/// What the user asked for with `--device`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeviceSpec {
    /// The first CUDA device when there is one, else the CPU.
    #[default]
    Auto,
    /// The CPU.
    Cpu,
    /// A CUDA device: `cuda` means `cuda:0`.
    Cuda(usize),
}

impl FromStr for DeviceSpec {
    type Err = Error;

    /// Parses `auto`, `cpu`, `cuda` and `cuda:N` (case-insensitive, surrounding spaces ignored).
    fn from_str(s: &str) -> Result<Self> {
        let lower = s.trim().to_ascii_lowercase();
        let invalid = || Error::InvalidDevice { spec: s.to_owned() };
        match lower.as_str() {
            "auto" => Ok(DeviceSpec::Auto),
            "cpu" => Ok(DeviceSpec::Cpu),
            "cuda" | "gpu" => Ok(DeviceSpec::Cuda(0)),
            other => {
                let index = other.strip_prefix("cuda:").ok_or_else(invalid)?;
                if index.is_empty() || !index.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(invalid());
                }
                index.parse().map(DeviceSpec::Cuda).map_err(|_| invalid())
            }
        }
    }
}

impl fmt::Display for DeviceSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeviceSpec::Auto => f.write_str("auto"),
            DeviceSpec::Cpu => f.write_str("cpu"),
            DeviceSpec::Cuda(i) => write!(f, "cuda:{i}"),
        }
    }
}

impl DeviceSpec {
    /// Resolves the request against what this machine has.
    ///
    /// `cpu` never loads libtorch's CUDA library; `auto` and `cuda` load it (see [`load_cuda`]).
    pub fn resolve(self) -> Result<tch::Device> {
        if self != DeviceSpec::Cpu {
            load_cuda();
        }
        resolve_with(self, tch::Cuda::device_count().max(0) as usize)
    }
}

/// `Ok` when `device` can hold tensors on this machine: the CPU, or a CUDA GPU that is there.
/// Otherwise the error [`DeviceSpec::resolve`] gives for it, so that a library caller who builds
/// a `tch::Device` by hand gets an error rather than a panic from libtorch.
pub fn check_available(device: tch::Device) -> Result<()> {
    match device {
        tch::Device::Cpu => Ok(()),
        tch::Device::Cuda(i) => {
            load_cuda();
            let gpus = tch::Cuda::device_count().max(0) as usize;
            resolve_with(DeviceSpec::Cuda(i), gpus).map(|_| ())
        }
        other => Err(Error::DeviceUnavailable {
            requested: format!("{other:?}"),
            reason: "seqmodels runs on the CPU and CUDA GPUs only".into(),
        }),
    }
}

/// Resolution against a given GPU count, separated out so it can be tested on any machine.
fn resolve_with(spec: DeviceSpec, gpus: usize) -> Result<tch::Device> {
    match spec {
        DeviceSpec::Cpu => Ok(tch::Device::Cpu),
        DeviceSpec::Auto if gpus > 0 => Ok(tch::Device::Cuda(0)),
        DeviceSpec::Auto => Ok(tch::Device::Cpu),
        DeviceSpec::Cuda(i) if i < gpus => Ok(tch::Device::Cuda(i)),
        DeviceSpec::Cuda(_) => Err(Error::DeviceUnavailable {
            requested: spec.to_string(),
            reason: if gpus == 0 {
                let build = if libtorch_has_cuda() {
                    "libtorch has CUDA support but no GPU or driver was found"
                } else {
                    "this libtorch was built without CUDA"
                };
                format!("{build}; use --device cpu or --device auto")
            } else {
                format!(
                    "this machine has {gpus} GPU(s), numbered cuda:0 to cuda:{}",
                    gpus - 1
                )
            },
        }),
    }
}

/// Whether the libtorch in this process carries CUDA (its `libtorch_cuda` library is loaded or
/// sits next to `libtorch_cpu`), whether or not a GPU is present.
pub fn libtorch_has_cuda() -> bool {
    loaded_library("libtorch_cuda.").is_some() || cuda_library_path().is_some()
}

/// `libtorch_cuda.so` next to the loaded `libtorch_cpu.so`, where there is one.
fn cuda_library_path() -> Option<std::path::PathBuf> {
    let path = loaded_library("libtorch_cpu.")?.with_file_name("libtorch_cuda.so");
    path.exists().then_some(path)
}

/// Loads libtorch's CUDA library into the process, once, when this machine has an NVIDIA driver;
/// returns whether it is loaded.
///
/// The binary does not link `libtorch_cuda` at start-up: loading it (and the CUDA libraries it
/// pulls in) costs about 400 MB of resident memory, which a CPU-only run should not pay. Nothing
/// refers to it by symbol; loaded with `RTLD_GLOBAL`, its static initialisers register the CUDA
/// backend with libtorch, and `tch::Cuda` then sees the GPUs. On a machine without the driver
/// (`libcuda.so.1`) it is not loaded at all. [`DeviceSpec::resolve`] (for `auto` and `cuda`),
/// [`seed_everything`] and `seqmodels doctor` call it; call it yourself before using
/// `tch::Cuda` directly.
pub fn load_cuda() -> bool {
    static LOADED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *LOADED.get_or_init(|| {
        if loaded_library("libtorch_cuda.").is_some() {
            return true;
        }
        if !dlopen("libcuda.so.1", false) {
            return false;
        }
        match cuda_library_path() {
            Some(path) => dlopen(&path.to_string_lossy(), true),
            None => false,
        }
    })
}

/// `dlopen(name, RTLD_NOW | RTLD_GLOBAL or RTLD_LOCAL)`; whether it succeeded. The handle is
/// kept open for the life of the process.
#[cfg(target_os = "linux")]
fn dlopen(name: &str, global: bool) -> bool {
    let Ok(name) = std::ffi::CString::new(name) else {
        return false;
    };
    let scope = if global {
        libc::RTLD_GLOBAL
    } else {
        libc::RTLD_LOCAL
    };
    // SAFETY: `name` is a valid NUL-terminated string; the libraries loaded are the NVIDIA driver
    // and libtorch's own CUDA library, whose initialisers expect to run in a libtorch process.
    let handle = unsafe { libc::dlopen(name.as_ptr(), libc::RTLD_NOW | scope) };
    !handle.is_null()
}

#[cfg(not(target_os = "linux"))]
fn dlopen(_name: &str, _global: bool) -> bool {
    false
}

/// The path of a shared library loaded in this process whose file name contains `fragment`
/// (read from `/proc/self/maps`; `None` where that does not exist).
pub(crate) fn loaded_library(fragment: &str) -> Option<std::path::PathBuf> {
    let maps = std::fs::read_to_string("/proc/self/maps").ok()?;
    maps.lines().find_map(|line| {
        let path = line.split_whitespace().nth(5)?;
        let name = path.rsplit('/').next()?;
        name.contains(fragment)
            .then(|| std::path::PathBuf::from(path))
    })
}

/// A short name for a device: `cpu` or `cuda:N`.
pub fn device_name(device: tch::Device) -> String {
    match device {
        tch::Device::Cuda(i) => format!("cuda:{i}"),
        tch::Device::Cpu => "cpu".to_owned(),
        other => format!("{other:?}").to_lowercase(),
    }
}

/// The random number generator used everywhere a Rust-side choice is random (shuffles, splits,
/// sampling). ChaCha8 is portable: the same seed gives the same stream on every platform.
pub type Rng = ChaCha8Rng;

/// Seeds libtorch (CPU and every GPU) with `seed` and returns a Rust RNG seeded from it.
///
/// One `--seed` thus drives both the tensor initialisers and the Rust-side shuffles. A
/// single-threaded CPU run is then reproducible bit for bit.
pub fn seed_everything(seed: u64) -> Rng {
    load_cuda();
    tch::manual_seed(seed as i64);
    if tch::Cuda::is_available() {
        tch::Cuda::manual_seed_all(seed);
    }
    rng_from_seed(seed)
}

/// A Rust RNG from a seed, without touching libtorch's generators.
pub fn rng_from_seed(seed: u64) -> Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// Sets libtorch's intra-op thread count; `0` leaves libtorch's default (and a count beyond
/// `i32::MAX` is taken as `i32::MAX`).
pub fn set_threads(threads: usize) {
    if threads > 0 {
        tch::set_num_threads(i32::try_from(threads).unwrap_or(i32::MAX));
    }
}

/// A process-wide lock on libtorch's global random generator, for tests.
///
/// libtorch has one global generator per process. [`seed_everything`] reseeds it and every
/// model constructor draws its initial weights (and every dropout mask) from it, so two seeded
/// runs in parallel threads, as `cargo test` runs tests, interleave their draws and neither is
/// reproducible. A test that seeds or draws from it holds this guard throughout; the unit tests
/// in the library and the integration tests in `tests/` take the same lock.
///
/// A thread may take it again while it holds it, so a test can hold it throughout and still call
/// helpers that take it. It serialises only the code that takes it: library code never does.
pub fn torch_rng_lock() -> TorchRngGuard {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let depth = TORCH_RNG_DEPTH.get();
    TORCH_RNG_DEPTH.set(depth + 1);
    TorchRngGuard(
        (depth == 0).then(|| LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())),
    )
}

thread_local! {
    /// How many [`torch_rng_lock`] guards this thread holds.
    static TORCH_RNG_DEPTH: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Held by [`torch_rng_lock`] until dropped; the outermost guard of a thread owns the mutex.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct TorchRngGuard(#[allow(dead_code)] Option<std::sync::MutexGuard<'static, ()>>);

impl Drop for TorchRngGuard {
    fn drop(&mut self) {
        TORCH_RNG_DEPTH.set(TORCH_RNG_DEPTH.get() - 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng as _;

    #[test]
    fn parses_every_form() {
        assert_eq!("auto".parse::<DeviceSpec>().unwrap(), DeviceSpec::Auto);
        assert_eq!("CPU".parse::<DeviceSpec>().unwrap(), DeviceSpec::Cpu);
        assert_eq!(" cuda ".parse::<DeviceSpec>().unwrap(), DeviceSpec::Cuda(0));
        assert_eq!("cuda:3".parse::<DeviceSpec>().unwrap(), DeviceSpec::Cuda(3));
        for bad in ["", "cuda:", "cuda:-1", "cuda:x", "tpu", "cuda:1:2", "cpu0"] {
            let err = bad.parse::<DeviceSpec>().unwrap_err();
            assert!(
                matches!(err, Error::InvalidDevice { .. }),
                "{bad:?} gave {err}"
            );
            assert!(err.to_string().contains("auto, cpu, cuda or cuda:N"));
        }
    }

    #[test]
    fn display_round_trips() {
        for spec in [DeviceSpec::Auto, DeviceSpec::Cpu, DeviceSpec::Cuda(2)] {
            assert_eq!(spec.to_string().parse::<DeviceSpec>().unwrap(), spec);
        }
    }

    #[test]
    fn resolution_never_falls_back_silently() {
        assert_eq!(resolve_with(DeviceSpec::Auto, 0).unwrap(), tch::Device::Cpu);
        assert_eq!(
            resolve_with(DeviceSpec::Auto, 2).unwrap(),
            tch::Device::Cuda(0)
        );
        assert_eq!(
            resolve_with(DeviceSpec::Cuda(1), 2).unwrap(),
            tch::Device::Cuda(1)
        );
        let none = resolve_with(DeviceSpec::Cuda(0), 0).unwrap_err();
        assert!(matches!(none, Error::DeviceUnavailable { .. }));
        assert!(
            none.to_string().contains("cuda:0 is not available"),
            "{none}"
        );
        let too_high = resolve_with(DeviceSpec::Cuda(2), 2).unwrap_err();
        assert!(
            too_high.to_string().contains("cuda:0 to cuda:1"),
            "{too_high}"
        );
    }

    #[test]
    fn the_torch_rng_lock_is_reentrant_and_exclusive() {
        let outer = torch_rng_lock();
        drop(torch_rng_lock()); // the holder may take it again
        let (tx, rx) = std::sync::mpsc::channel();
        let other = std::thread::spawn(move || {
            let _guard = torch_rng_lock();
            tx.send(()).unwrap();
        });
        let wait = std::time::Duration::from_millis(100);
        assert!(rx.recv_timeout(wait).is_err(), "taken while held");
        drop(outer);
        rx.recv_timeout(std::time::Duration::from_secs(10)).unwrap();
        other.join().unwrap();
    }

    #[test]
    fn same_seed_same_numbers() {
        let _lock = torch_rng_lock();
        let a = {
            let _rng = seed_everything(7);
            tch::Tensor::randn([4, 5], (tch::Kind::Float, tch::Device::Cpu))
        };
        let b = {
            let _rng = seed_everything(7);
            tch::Tensor::randn([4, 5], (tch::Kind::Float, tch::Device::Cpu))
        };
        let c = {
            let _rng = seed_everything(8);
            tch::Tensor::randn([4, 5], (tch::Kind::Float, tch::Device::Cpu))
        };
        assert!(a.equal(&b));
        assert!(!a.equal(&c));
        let xs: Vec<u64> = (0..4).map(|_| rng_from_seed(3).random()).collect();
        assert!(xs.windows(2).all(|w| w[0] == w[1]));
        assert_ne!(
            rng_from_seed(3).random::<u64>(),
            rng_from_seed(4).random::<u64>()
        );
    }
}
