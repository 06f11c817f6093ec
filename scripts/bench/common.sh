# Sourced by the benchmark scripts, from the repository root. It sets up libtorch (progress on
# stderr), builds the release binary and defines:
#   bin      the release binary, an absolute path
#   home     $SEQMODELS_HOME, or ~/.cache/seqmodels
#   python   the Python of setup.sh's virtual environment (torch 2.13.0)
#   py       runs that Python without this machine's OpenBLAS overrides, which slow numpy; only
#            the peers (gensim, PyTorch, sacrebleu) run through it, never seqmodels
#   need     need MODULE PACKAGE==VERSION: installs PACKAGE unless MODULE imports
#   work     a scratch folder, removed on exit
./scripts/setup.sh >&2
cargo build --release --quiet
bin="$PWD/target/release/seqmodels"
home="${SEQMODELS_HOME:-$HOME/.cache/seqmodels}"
python="$home/torch-2.13.0/bin/python"
py() { env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$python" "$@"; }
need() { py -c "import $1" 2>/dev/null || py -m pip install --quiet "$2"; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
