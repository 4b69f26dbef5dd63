#!/usr/bin/env bash
# The detector on its synthetic shapes: torch on the exported weights gives
# vislab's held-out COCO AP; torchrun's run lands near vislab's.
source "$(dirname "$0")/common.sh"
run="$WORK/detector"
epochs="${EPOCHS:-8}"
"$VISLAB" train --model detector --epochs "$epochs" --seed 1 --out "$run" | tee "$run.txt"
"$VISLAB" export --pytorch "$run-pt" --checkpoint "$run/model.safetensors"
"$PY" - "$run-pt" <<'PY' | tee "$run-torch.txt"
import sys
sys.path.insert(0, sys.argv[1])
import torch
import model as m
from safetensors.torch import load_file
net = m.build()
net.load_state_dict(load_file(f"{sys.argv[1]}/weights.safetensors"), strict=True)
net.eval()
data = load_file(f"{sys.argv[1]}/data.safetensors")
with torch.no_grad():
    raw = net(data["test.x"])
ap = m.coco_ap(m.detect(raw), data["test.boxes"], int(m.CONFIG["vislab.detector.classes"]))
print("ap {:.4f} ap50 {:.4f} ap75 {:.4f}".format(*ap))
PY
for k in ap ap50 ap75; do
    close "detector: torch $k on vislab's weights" "$(field "$k" "$run-torch.txt")" "$(field "$k" "$run.txt")" 1e-4
done
torchrun2 "$run-pt" --epochs "$epochs" --out "$run-torchrun" | tee "$run-torchrun.txt"
# different shuffles and initial draws; per-rank BatchNorm over half batches
close "detector: torchrun AP50 near vislab's" "$(field ap50 "$run-torchrun.txt")" "$(field ap50 "$run.txt")" 0.1
"$VISLAB" eval --checkpoint "$run-torchrun/model.safetensors" | tee "$run-back.txt"
for k in ap ap50 ap75; do
    close "detector: vislab eval $k of torch's checkpoint" "$(field "$k" "$run-back.txt")" "$(field "$k" "$run-torchrun.txt")" 1e-4
done
