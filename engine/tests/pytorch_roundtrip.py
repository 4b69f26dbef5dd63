#!/usr/bin/env python3
"""Checks that `vislab train` checkpoints are PyTorch state dicts, both ways
(not run in CI: it needs torch, a 2.9 GB install).

1. vislab -> torch: load CKPT (from `vislab train --model cnn|mlp`) into the
   equivalent torch.nn module with load_state_dict(strict=True) and print the
   MNIST test accuracy, which must equal what `vislab eval` prints.
2. torch -> vislab: perturb the weights in torch, save them with
   safetensors (keeping vislab's metadata) to OUT, and print the accuracy
   torch computes for them; `vislab eval --checkpoint OUT` must print the same.

Usage: pytorch_roundtrip.py cnn|mlp CKPT MNIST_DIR OUT
The architectures mirror engine/src/models/{cnn,mlp}.rs defaults.
"""
import struct
import sys

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file
from torch import nn


def net(kind):
    if kind == "cnn":
        return nn.ModuleDict({
            "conv1": nn.Conv2d(1, 16, 3, padding=1), "conv2": nn.Conv2d(16, 32, 3, padding=1),
            "fc1": nn.Linear(32 * 7 * 7, 128), "fc2": nn.Linear(128, 10)})
    return nn.ModuleDict({"fc1": nn.Linear(784, 512), "fc2": nn.Linear(512, 256), "fc3": nn.Linear(256, 10)})


def forward(kind, m, x):
    if kind == "cnn":
        h = torch.max_pool2d(torch.relu(m["conv1"](x)), 2)
        h = torch.max_pool2d(torch.relu(m["conv2"](h)), 2)
        return m["fc2"](torch.relu(m["fc1"](h.flatten(1))))
    h = torch.relu(m["fc2"](torch.relu(m["fc1"](x.flatten(1)))))
    return m["fc3"](h)


def idx(path):
    data = open(path, "rb").read()
    nd = data[3]
    dims = struct.unpack(">" + "I" * nd, data[4:4 + 4 * nd])
    return np.frombuffer(data[4 + 4 * nd:], dtype=np.uint8).reshape(dims)


def accuracy(kind, m, mnist):
    x = torch.from_numpy(idx(f"{mnist}/t10k-images-idx3-ubyte").astype(np.float32) / 255.0).unsqueeze(1)
    y = torch.from_numpy(idx(f"{mnist}/t10k-labels-idx1-ubyte").astype(np.int64))
    with torch.no_grad():
        return (forward(kind, m, x).argmax(1) == y).float().mean().item()


def main():
    kind, ckpt, mnist, out = sys.argv[1:5]
    tensors = load_file(ckpt)
    state = {k: v for k, v in tensors.items() if not k.startswith("optim.")}
    m = net(kind)
    m.load_state_dict(state, strict=True)
    print(f"vislab -> torch: test accuracy {accuracy(kind, m, mnist):.4f}")
    with torch.no_grad():
        for p in m.parameters():
            p.mul_(0.9).add_(0.01 * torch.randn_like(p))
    with safe_open(ckpt, "pt") as f:
        meta = f.metadata()
    save_file({k: v.contiguous() for k, v in m.state_dict().items()}, out, metadata=meta)
    print(f"torch -> vislab: torch's test accuracy {accuracy(kind, m, mnist):.4f} for {out}")


main()
