#!/usr/bin/env bash
# mlp and cnn, one MNIST epoch each: torch on the exported weights gives
# vislab's test accuracy; torchrun's epoch lands within a point of vislab's.
# Then a training lab's ResNet (batch norm in every block, dropout) on the
# built-in digits, made headless by the lab's own export test: the same
# checks on the digits the export bundles. Its torchrun run lands within 10
# points of the lab's: it trains on the export's split (1618 images; the lab
# holds 300 more out for validation), and one test image of 179 is half a point.
source "$(dirname "$0")/common.sh"

# `check NAME DIR VISLAB_OUT TOL [TRAIN.PY FLAGS...]`: torch, strictly loading
# DIR's weights, scores VISLAB_OUT's test accuracy and loss on the same split;
# DIR's train.py under torchrun lands within TOL of it; vislab eval of
# torch's checkpoint gives torch's numbers.
check() {
    local name="$1" dir="$2" ours="$3" tol="$4"
    shift 4
    "$PY" - "$dir" <<'PY' | tee "$dir-torch.txt"
import sys
sys.path.insert(0, sys.argv[1])
import torch
import train
from safetensors.torch import load_file
model = train.build()
model.load_state_dict(load_file(f"{sys.argv[1]}/weights.safetensors"), strict=True)
_, _, x, y = train.load_images(train.parser().parse_args([]))
loss, acc = train.evaluate(model, x, y, train.Dist(0, 1, torch.device("cpu"), True))
print(f"test_acc {acc} test_loss {loss}")
PY
    close "$name: torch accuracy on vislab's weights" "$(field test_acc "$dir-torch.txt")" "$(field test_acc "$ours")" 1e-6
    close "$name: torch loss on vislab's weights" "$(field test_loss "$dir-torch.txt")" "$(field test_loss "$ours")" 1e-4 rel
    torchrun2 "$dir" "$@" --out "$dir-torchrun" | tee "$dir-torchrun.txt"
    close "$name: torchrun accuracy within $tol of vislab's" "$(field test_acc "$dir-torchrun.txt")" "$(field test_acc "$ours")" "$tol"
    "$VISLAB" eval --checkpoint "$dir-torchrun/model.safetensors" | tee "$dir-back.txt"
    close "$name: vislab eval accuracy of torch's checkpoint" "$(field test_acc "$dir-back.txt")" "$(field test_acc "$dir-torchrun.txt")" 1e-6
    close "$name: vislab eval loss of torch's checkpoint" "$(field test_loss "$dir-back.txt")" "$(field test_loss "$dir-torchrun.txt")" 1e-4 rel
}

for model in mlp cnn; do
    run="$WORK/$model"
    "$VISLAB" train --model "$model" --data "$DATA" --epochs 1 --seed 0 --out "$run" | tee "$run.txt"
    "$VISLAB" export --pytorch "$run-pt" --checkpoint "$run/model.safetensors"
    check "$model" "$run-pt" "$run.txt" 0.01 --epochs 1
done

lab="$WORK/lab-resnet"
VISLAB_LAB_EXPORT="$lab" cargo test --locked --lib -q labs::train::tests::a_lab_resnet_exports_to_pytorch >&2
"$VISLAB" eval --checkpoint "$lab/vislab-checkpoint.safetensors" | tee "$lab.txt"
check "lab resnet" "$lab" "$lab.txt" 0.1
