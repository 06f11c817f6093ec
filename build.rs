//! Makes binaries, tests and examples of this package find libtorch at run time without
//! LD_LIBRARY_PATH.
//!
//! torch-sys reports the libtorch lib folder it linked against (`DEP_TCH_LIBTORCH_LIB`, through
//! its `links = "tch"` key). We write that folder, as given and resolved, into the rpath.
//! libtorch_cuda is not linked (nothing refers to it by symbol, so `--as-needed` drops it):
//! `seqmodels::device::load_cuda` loads it at run time when a GPU is asked for, which keeps
//! CPU-only runs about 400 MB smaller.

use std::path::{Path, PathBuf};

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=LIBTORCH");
    let Ok(lib) = std::env::var("DEP_TCH_LIBTORCH_LIB") else {
        return;
    };
    let lib = PathBuf::from(lib);
    let mut dirs = vec![lib.clone()];
    if let Ok(resolved) = lib.canonicalize() {
        if resolved != lib {
            dirs.push(resolved);
        }
    }
    if cfg!(target_os = "linux") || cfg!(target_os = "macos") {
        for dir in &dirs {
            println!("cargo:rustc-link-arg=-Wl,-rpath,{}", dir.display());
        }
    }
    let version = header_version(&lib).unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=SEQMODELS_LIBTORCH_BUILD_VERSION={version}");
}

/// The version from libtorch's headers next to the lib folder, e.g. "2.13.0".
fn header_version(lib: &Path) -> Option<String> {
    let include = lib.parent()?.join("include/torch");
    ["headeronly/version.h", "version.h"]
        .iter()
        .find_map(|name| {
            let header = include.join(name);
            println!("cargo:rerun-if-changed={}", header.display());
            let text = std::fs::read_to_string(header).ok()?;
            let part = |key: &str| {
                text.lines().find_map(|line| {
                    let rest = line.trim().strip_prefix("#define ")?.strip_prefix(key)?;
                    rest.trim().parse::<u32>().ok()
                })
            };
            Some(format!(
                "{}.{}.{}",
                part("TORCH_VERSION_MAJOR")?,
                part("TORCH_VERSION_MINOR")?,
                part("TORCH_VERSION_PATCH")?
            ))
        })
}
