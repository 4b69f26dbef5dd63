#!/usr/bin/env bash
# PixelCNN section of the PyTorch export check (not CI: it needs torch).
# From the repo root:  bash tests/pytorch_export/pixelcnn.sh
#   VISLAB  the vislab binary            [target/debug/vislab]
#   PY      python with torch+safetensors [/work/venv-torch/bin/python]
#   DATA    the MNIST data spec          [mnist:.cache/data/mnist/data]
#   LIMIT   training images per epoch    [10000: vislab takes ~3 CPU-minutes for these, a full epoch ~15]
#   TOL     torch vs vislab test NLL     [0.10 relative]
# 1. vislab trains 1 epoch (vislab eval reproducing it is a unit test in app/commands/train_pixelcnn.rs);
# 2. export; torch loads the weights strictly and gets vislab's exact test NLL (1e-4 relative);
# 3. the exported train.py under torchrun (2 CPU processes, gloo) lands within TOL of vislab's run;
# 4. vislab eval of torch's checkpoint reproduces torch's test NLL (1e-4 relative).
set -euo pipefail
VISLAB="${VISLAB:-target/debug/vislab}"
PY="${PY:-/work/venv-torch/bin/python}"
DATA="${DATA:-mnist:.cache/data/mnist/data}"
LIMIT="${LIMIT:-10000}"
# The recipe itself matches step for step (from vislab's init, 3 full-batch
# steps of train.py give vislab's weights to 5e-5); what differs is the init
# draw and the shuffle, and the NLL right after an epoch of constant-rate Adam
# is noisy: torch seeds 0-5 gave 78.7-81.6 nats, torch from vislab's own init
# 81.8-83.0, vislab seed 0 86.7. 10% holds that spread and still catches a
# leaking mask (NLL near 0) or a run that barely trains (hundreds of nats).
TOL="${TOL:-0.10}"
TORCHRUN="${TORCHRUN:-$(dirname "$PY")/torchrun}"
W="$(mktemp -d)"
trap 'rm -rf "$W"' EXIT

nll() { awk '/^test_nll_nats/ { v = $2 } END { if (v == "") exit 1; print v }'; }
# close A B TOL NAME: |A - B| <= TOL * |B|, reported either way
close() {
    awk -v a="$1" -v b="$2" -v t="$3" -v n="$4" 'BEGIN {
        r = (a - b) / b; if (r < 0) r = -r
        printf "%-44s %s vs %s: relative difference %.2e (tolerance %g) %s\n", n, a, b, r, t, (r <= t ? "ok" : "FAIL")
        exit !(r <= t) }'
}

echo "== pixelcnn: vislab trains 1 epoch on $LIMIT MNIST images"
"$VISLAB" train --model pixelcnn --data "$DATA" --epochs 1 --limit "$LIMIT" --out "$W/vislab" | tee "$W/vislab.txt"
vislab_nll="$(nll < "$W/vislab.txt")"

echo "== pixelcnn: export, strict load and the same NLL in torch"
"$VISLAB" export --pytorch "$W/export" --checkpoint "$W/vislab/model.safetensors"
# torch's NLL of the checkpoint on the threshold-binarized test split, with the exported helpers
torch_same="$("$PY" - "$W/export" <<'EOF'
import argparse, sys
sys.path.insert(0, sys.argv[1])
import torch
from safetensors.torch import load_file
import train as T  # the exported train.py: its data loading and binarization

m = T.build()
m.load_state_dict(load_file(sys.argv[1] + "/weights.safetensors"), strict=True)
if T.CONFIG["vislab.pixelcnn.binarize"] != "threshold":
    raise SystemExit("this check scores threshold-binarized runs (sample mode draws vislab's own random bits)")
_, _, test_x, _ = T.load_images(argparse.Namespace(data=T.CONFIG["vislab.train.data"], limit=0))
print(f"test_nll_nats {T.evaluate(m, T.binarize(test_x, 'threshold'), T.Dist(0, 1, torch.device('cpu'), True)):.6f}")
EOF
)"
echo "torch, same weights: $torch_same"
close "$(echo "$torch_same" | nll)" "$vislab_nll" 1e-4 "torch NLL of vislab's weights"

echo "== pixelcnn: torchrun --nproc_per_node 2 train.py --epochs 1"
(cd "$W/export" && "$TORCHRUN" --nproc_per_node 2 train.py --epochs 1 --out "$W/torch") | tee "$W/torch.txt"
torch_nll="$(nll < "$W/torch.txt")"
close "$torch_nll" "$vislab_nll" "$TOL" "torch's 1-epoch test NLL vs vislab's"

echo "== pixelcnn: vislab eval of torch's checkpoint"
"$VISLAB" eval --checkpoint "$W/torch/model.safetensors" | tee "$W/torch_eval.txt"
close "$(nll < "$W/torch_eval.txt")" "$torch_nll" 1e-4 "vislab eval of torch's checkpoint vs torch"
echo "pixelcnn: all checks passed"
