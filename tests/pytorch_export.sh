#!/usr/bin/env bash
# The way out to PyTorch, end to end, for every model `vislab train` makes
# (not in CI: it needs torch). Per kind (tests/pytorch_export/*.sh): a short
# vislab run, `vislab export --pytorch`, the exported model loaded strictly
# into torch giving vislab's numbers on the same weights, the exported
# train.py under `torchrun --nproc_per_node 2` (gloo, CPU) landing close to
# vislab's run, and `vislab eval` of torch's checkpoint giving torch's numbers.
#
#   tests/pytorch_export.sh [KIND...]      # kinds: classifier vae pixelcnn gan detector
#
# VISLAB (default target/debug/vislab, built if missing), PY (default
# /work/venv-torch/bin/python, or python3) and DATA (default
# mnist:.cache/data/mnist/data) choose what runs.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
[ -n "${VISLAB:-}" ] || { cargo build --locked --bin vislab >&2; export VISLAB="$root/target/debug/vislab"; }
kinds=("$@")
[ ${#kinds[@]} -gt 0 ] || kinds=(classifier vae pixelcnn gan detector)
failed=()
for k in "${kinds[@]}"; do
    echo "== $k"
    bash "tests/pytorch_export/$k.sh" || failed+=("$k")
done
[ ${#failed[@]} -eq 0 ] || { echo "FAILED: ${failed[*]}"; exit 1; }
echo "all passed: ${kinds[*]}"
