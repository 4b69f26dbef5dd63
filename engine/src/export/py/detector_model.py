#!/usr/bin/env python3
"""A vislab single-stage detector (`vislab train --model detector`) as a torch.nn.Module.

Written by `vislab export --pytorch`. `build()` returns the network with the
checkpoint's architecture and parameter names, so
    model = build()
    model.load_state_dict(safetensors.torch.load_file("weights.safetensors"), strict=True)
gives the trained model. Inputs are RGB images [B, 3, S, S] with values in
[0, 1]. `model(x)` is the raw head [B, A, 5 + C, G, G]: per anchor an
objectness logit, four box codes and C class logits; `loss(raw, targets)`
is vislab's three-term loss, `detect(raw)` the detections vislab decodes
and `coco_ap(...)` the COCO AP, AP50 and AP75 vislab reports.
"""
import json
import math

import torch
from torch import nn
from torch.nn import functional as F

# The checkpoint's metadata: architecture, anchors, decoding and training recipe.
CONFIG = json.loads(r'''__VISLAB_CONFIG__''')


def num(key, kind=int):
    return kind(CONFIG["vislab.detector." + key])


class Detector(nn.Module):
    """vislab's DetectorShape (engine/src/detection/detector/net.rs).

    Per stage k = 1..P (P = log2(S / G)): two 3x3 convs (padding 1, no bias)
    named stage{k}a and stage{k}b, each followed by BatchNorm (stage{k}a_bn,
    stage{k}b_bn; eps 1e-5, momentum 0.1, as vislab's) and ReLU, then a 2x2 max pool; channels base, 2 base, then
    4 base. Then the same double block as `neck` and the 1x1 conv `head`
    to A * (5 + C) channels.
    """

    def __init__(self, image, anchors, classes, base, grid):
        super().__init__()
        self.image, self.anchors, self.classes, self.grid = image, anchors, classes, grid
        self.pools = int(round(math.log2(image / grid)))
        self.blocks = [f"stage{k + 1}" for k in range(self.pools)] + ["neck"]
        cin = 3
        for k, name in enumerate(self.blocks):
            cout = base << min(k, 2)
            for half, c in (("a", cin), ("b", cout)):
                self.add_module(f"{name}{half}", nn.Conv2d(c, cout, 3, padding=1, bias=False))
                self.add_module(f"{name}{half}_bn", nn.BatchNorm2d(cout))
            cin = cout
        self.head = nn.Conv2d(cin, anchors * (5 + classes), 1)

    def forward(self, x):
        h = x
        for k, name in enumerate(self.blocks):
            for half in "ab":
                h = torch.relu(getattr(self, f"{name}{half}_bn")(getattr(self, f"{name}{half}")(h)))
            if k < self.pools:
                h = F.max_pool2d(h, 2)
        raw = self.head(h)
        return raw.reshape(len(x), self.anchors, 5 + self.classes, self.grid, self.grid)


def loss(raw, t, box_weight):
    """(total, objectness, class, box) as vislab computes them, each term
    summed over anchors and averaged over images: BCE on objectness weighted
    by t["weight"] (1 positives, the negative weight, 0 ignored), cross-entropy
    on positives' classes, L1 on positives' box codes times `box_weight`."""
    b = len(raw)
    obj = F.binary_cross_entropy_with_logits(raw[:, :, 0:1], t["objectness"], weight=t["weight"], reduction="sum") / b
    cls = -(F.log_softmax(raw[:, :, 5:], dim=2) * t["classes"]).sum() / b
    box = ((raw[:, :, 1:5] - t["boxes"]).abs() * t["box_mask"]).sum() / b
    return obj + cls + box_weight * box, obj, cls, box


def anchor_boxes(image, grid, sizes):
    """[A * G * G, 4] anchors (x0, y0, x1, y1), vislab's order (a, row, column)."""
    stride = image / grid
    c = (torch.arange(grid, dtype=torch.float64) + 0.5) * stride
    cy, cx = torch.meshgrid(c, c, indexing="ij")
    out = []
    for s in sizes:
        out.append(torch.stack([cx - s / 2, cy - s / 2, cx + s / 2, cy + s / 2], -1).reshape(-1, 4))
    return torch.cat(out)


def box_iou(a, b):
    """IoU of every box of a [N, 4] with every box of b [M, 4] (x0, y0, x1, y1)."""
    lt = torch.maximum(a[:, None, :2], b[None, :, :2])
    rb = torch.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = (rb - lt).clamp(min=0).prod(-1)
    area = lambda r: (r[:, 2] - r[:, 0]) * (r[:, 3] - r[:, 1])  # noqa: E731
    return inter / (area(a)[:, None] + area(b)[None, :] - inter)


def nms(boxes, scores, iou):
    """Greedy NMS: indices kept, highest score first."""
    order = scores.argsort(descending=True, stable=True)
    keep = []
    while len(order):
        i = order[0]
        keep.append(int(i))
        rest = order[1:]
        order = rest[box_iou(boxes[i : i + 1], boxes[rest])[0] <= iou]
    return keep


def detect(raw):
    """Per image a list of (x, y, w, h, score, category 1..C), as vislab
    decodes: score = sigmoid(objectness) x the top class probability above
    the threshold, boxes decoded from their codes (exponent at most 4) and
    clipped to the image, class-wise NMS, the best max_detections kept."""
    image, grid = num("image"), num("grid")
    sizes = [float(s) for s in CONFIG["vislab.detector.anchor_sizes"].split(",")]
    thresh, nms_iou, most = num("score_threshold", float), num("nms_iou", float), num("max_detections")
    anchors = anchor_boxes(image, grid, sizes)
    aw, ah = anchors[:, 2] - anchors[:, 0], anchors[:, 3] - anchors[:, 1]
    acx, acy = anchors[:, 0] + aw / 2, anchors[:, 1] + ah / 2
    out = []
    for r in raw.detach().double():
        r = r.permute(0, 2, 3, 1).reshape(-1, r.shape[1])  # [A * G * G, 5 + C]
        prob, cls = F.softmax(r[:, 5:], dim=1).max(1)
        score = torch.sigmoid(r[:, 0]) * prob
        cx, cy = acx + r[:, 1] * aw, acy + r[:, 2] * ah
        w, h = aw * r[:, 3].clamp(max=4).exp(), ah * r[:, 4].clamp(max=4).exp()
        box = torch.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], 1).clamp(0, image)
        ok = (score > thresh) & (box[:, 2] > box[:, 0]) & (box[:, 3] > box[:, 1])
        box, score, cls = box[ok], score[ok], cls[ok]
        keep = []
        for c in cls.unique():
            idx = (cls == c).nonzero()[:, 0]
            keep += [int(idx[k]) for k in nms(box[idx], score[idx], nms_iou)]
        keep.sort(key=lambda k: -float(score[k]))
        out.append([(float(box[k, 0]), float(box[k, 1]), float(box[k, 2] - box[k, 0]), float(box[k, 3] - box[k, 1]), float(score[k]), int(cls[k]) + 1) for k in keep[:most]])
    return out


def coco_ap(detections, truth, classes):
    """COCO's AP (IoU 0.50:0.95), AP50 and AP75 (all areas, 100 detections)
    of per-image detections against truth [M, 6] (image index, x, y, w, h,
    category): greedy matching in score order, the precision envelope read
    at 101 recall points, averaged over the categories that have objects."""
    xyxy = lambda b: torch.tensor([[x, y, x + w, y + h] for x, y, w, h in b], dtype=torch.float64).reshape(-1, 4)  # noqa: E731
    thresholds = [0.5 + 0.05 * k for k in range(10)]
    per_t = torch.full((len(thresholds), classes), -1.0, dtype=torch.float64)
    for c in range(1, classes + 1):
        npos, scored = 0, [[] for _ in thresholds]
        for i, dets in enumerate(detections):
            gt = [tuple(row[1:5].tolist()) for row in truth if int(row[0]) == i and int(row[5]) == c]
            dt = sorted((d for d in dets if d[5] == c), key=lambda d: -d[4])[:100]
            npos += len(gt)
            iou = box_iou(xyxy([d[:4] for d in dt]), xyxy(gt)) if dt and gt else None
            for ti, t in enumerate(thresholds):
                taken = [False] * len(gt)
                for di, d in enumerate(dt):
                    best, m = min(t, 1 - 1e-10), -1
                    for gi in range(len(gt)):
                        if not taken[gi] and float(iou[di, gi]) >= best:
                            best, m = float(iou[di, gi]), gi
                    if m >= 0:
                        taken[m] = True
                    scored[ti].append((d[4], m >= 0))
        if npos == 0:
            continue
        for ti in range(len(thresholds)):
            s = sorted(scored[ti], key=lambda e: -e[0])
            tp = torch.tensor([float(e[1]) for e in s], dtype=torch.float64).cumsum(0)
            fp = torch.tensor([float(not e[1]) for e in s], dtype=torch.float64).cumsum(0)
            recall = tp / npos
            precision = tp / (tp + fp).clamp(min=1e-300)
            # the envelope: the best precision at any recall at least this one
            precision = precision.flip(0).cummax(0).values.flip(0) if len(precision) else precision
            points = torch.linspace(0, 1, 101, dtype=torch.float64)
            at = torch.searchsorted(recall, points, side="left")
            q = torch.where(at < len(precision), precision[at.clamp(max=max(0, len(precision) - 1))] if len(precision) else torch.zeros(101, dtype=torch.float64), torch.zeros(101, dtype=torch.float64))
            per_t[ti, c - 1] = q.mean()

    def mean(rows):
        v = per_t[rows]
        v = v[v > -1]
        return float(v.mean()) if len(v) else -1.0

    return mean(slice(None)), mean(0), mean(5)


def build():
    if CONFIG.get("vislab.arch") != "detector":
        raise ValueError(f"not a detector checkpoint: vislab.arch = {CONFIG.get('vislab.arch')!r}")
    return Detector(num("image"), num("anchors"), num("classes"), num("base"), num("grid"))


if __name__ == "__main__":
    import os

    from safetensors.torch import load_file

    m = build()
    m.load_state_dict(load_file(os.path.join(os.path.dirname(os.path.abspath(__file__)), "weights.safetensors")), strict=True)
    print(m)
