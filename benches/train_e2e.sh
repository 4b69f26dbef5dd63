#!/usr/bin/env bash
# End to end, in one go on one machine: `vislab train --model cnn|mlp
# --data mnist:DIR --epochs 1` (load, train on all 60k images, test on 10k,
# write metrics and checkpoint) against the same network, optimizer,
# schedule and batch in PyTorch (benches/train_torch.py) at its default
# threads, and each at one thread. Prints wall times, accuracies, ratios.
# Usage: benches/train_e2e.sh [MNIST_DIR] [models...]   (default: .cache/data/mnist/data, cnn mlp)
# Python with torch: $VISLAB_TORCH_PYTHON, else /work/venv-torch/bin/python.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
data="${1:-.cache/data/mnist/data}"
shift || true
models=("${@:-cnn}")
[ $# -eq 0 ] && models=(cnn mlp)
py="${VISLAB_TORCH_PYTHON:-/work/venv-torch/bin/python}"
cargo build --quiet --bin vislab
bin=target/debug/vislab
out="$(mktemp -d)"
wall() { local t0 t1; t0=$(date +%s.%N); "$@" > "$out/last" 2> "$out/err" || { cat "$out/err" >&2; exit 1; }; t1=$(date +%s.%N); echo "$t1 - $t0" | bc; }
for m in "${models[@]}"; do
    for threads in all 1; do
        targ=(); tenv=()
        if [ "$threads" = 1 ]; then targ=(--threads 1); tenv=(TORCH_THREADS=1); fi
        ours=$(wall "$bin" train --model "$m" --data "mnist:$data" --epochs 1 --out "$out/$m" "${targ[@]}")
        ours_acc=$(awk '{print $2}' "$out/last")
        env "${tenv[@]}" "$py" benches/train_torch.py "$m" "$data" 1 > "$out/torch"
        read -r _ _ torch_s _ torch_acc < "$out/torch"
        printf '%s, %s threads: vislab %.1f s (test acc %.4f), PyTorch %.1f s (test acc %.4f); vislab / PyTorch %.2fx\n' \
            "$m" "$threads" "$ours" "$ours_acc" "$torch_s" "$torch_acc" "$(echo "$ours / $torch_s" | bc -l)"
        grep -h "^time " "$out/err" || true
    done
done
rm -rf "$out"
