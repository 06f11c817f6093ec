#!/usr/bin/env bash
# Sets up everything seqmodels needs to build and run, and is safe to run any number of times.
#
# libtorch comes from the `torch==2.13.0` wheel on PyPI (the version tch 0.26 is built against),
# installed once into a virtualenv under ${SEQMODELS_HOME:-$HOME/.cache/seqmodels} and reused
# afterwards. A LIBTORCH you exported yourself wins. The script then points the stable link
# `.libtorch` in the clone at that libtorch; `.cargo/config.toml` tells cargo to use it and
# `build.rs` writes its lib/ folder into the binaries' rpath, so plain `cargo build`,
# `cargo test` and `cargo run` need no exported variables afterwards.
set -euo pipefail

TORCH_VERSION=2.13.0
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
home="${SEQMODELS_HOME:-$HOME/.cache/seqmodels}"
venv="$home/torch-$TORCH_VERSION"
stamp="$venv/.seqmodels-complete"

say() { printf '[setup] %s\n' "$*" >&2; }

if ! command -v cargo >/dev/null 2>&1; then
    say "cargo not found: install Rust (https://rustup.rs) and run this again"
    exit 1
fi

if [ -n "${LIBTORCH:-}" ]; then
    # A LIBTORCH that is this clone's own link (or a path through it) names the libtorch the
    # link already points at: use its target, so that the link is never made to point at itself.
    libtorch="$(readlink -f "$LIBTORCH" 2>/dev/null || echo "$LIBTORCH")"
    say "using LIBTORCH from the environment: $libtorch"
    if [ ! -d "$libtorch/lib" ] || [ ! -d "$libtorch/include" ]; then
        say "LIBTORCH=$libtorch has no lib/ and include/ folders; unset it to let setup install torch==$TORCH_VERSION"
        exit 1
    fi
else
    if [ -f "$stamp" ]; then
        say "torch==$TORCH_VERSION already installed in $venv"
    else
        python="${PYTHON:-python3}"
        if ! command -v "$python" >/dev/null 2>&1; then
            say "$python not found: install Python 3 (3.10 or newer) and run this again"
            exit 1
        fi
        say "installing torch==$TORCH_VERSION from PyPI into $venv (once; a few GB with the CUDA libraries)"
        rm -rf "$venv"
        mkdir -p "$home"
        "$python" -m venv "$venv"
        "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "torch==$TORCH_VERSION"
        touch "$stamp"
    fi
    libtorch="$("$venv/bin/python" - <<'PY'
import importlib.util, pathlib
spec = importlib.util.find_spec("torch")
print(pathlib.Path(spec.origin).parent)
PY
)"
fi

if [ ! -e "$libtorch/lib/libtorch_cpu.so" ] && [ ! -e "$libtorch/lib/libtorch_cpu.dylib" ]; then
    say "no libtorch_cpu library in $libtorch/lib: the installation looks broken"
    say "remove $venv and run this again"
    exit 1
fi

ln -sfn "$libtorch" "$root/.libtorch"
say "libtorch: $libtorch"
say "linked $root/.libtorch -> $libtorch"
