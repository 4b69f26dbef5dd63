# Sourced by each tests/pytorch_export/*.sh: the tools, a work folder, and checks.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
VISLAB="${VISLAB:-$PWD/target/debug/vislab}"
PY="${PY:-/work/venv-torch/bin/python}"
[ -x "$PY" ] || PY=python3
TORCHRUN="${TORCHRUN:-$(dirname "$PY")/torchrun}"
DATA="${DATA:-mnist:$PWD/.cache/data/mnist/data}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# `field NAME FILE`: the number after the word NAME on FILE's last line holding it.
field() { grep -o "$1 [-0-9.e+naNinf]*" "$2" | tail -1 | cut -d' ' -f2; }

# `close WHAT A B TOL [rel]`: |A - B| <= TOL (times max(|A|, |B|) with rel), or fail.
close() {
    "$PY" -c "import sys; a, b, t = float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]); s = max(abs(a), abs(b)) if sys.argv[5:] else 1.0
print(f'{sys.argv[1]}: {a} vs {b} (tolerance {t}{\" relative\" if sys.argv[5:] else \"\"})'); sys.exit(0 if abs(a - b) <= t * s else 1)" "$@" || { echo "FAIL: $1"; exit 1; }
}

# `torchrun2 DIR ARGS...`: the exported train.py on two CPU processes.
torchrun2() {
    local dir="$1"
    shift
    (cd "$dir" && OMP_NUM_THREADS=1 "$TORCHRUN" --nproc_per_node 2 --master_port "${PORT:-29533}" train.py "$@")
}
