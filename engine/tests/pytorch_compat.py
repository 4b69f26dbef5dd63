#!/usr/bin/env python3
"""Load a Vislab checkpoint into the equivalent torch.nn module (not run in CI).

Vislab writes safetensors files whose model tensors carry PyTorch names and
layouts (Linear weight [out, in], Conv2d weight [Cout, Cin, kH, kW], f32
little-endian, BatchNorm `num_batches_tracked` as int64). Optimizer buffers
are extra tensors named `optim.<param>.<slot>` and are dropped here.

Usage (needs `pip install torch safetensors`):
    python3 engine/tests/pytorch_compat.py mlp CKPT.safetensors [MNIST_DIR]
    python3 engine/tests/pytorch_compat.py softmax CKPT.safetensors [MNIST_DIR]

`mlp` is vislab's reference Mlp (fc1: Linear(784, H), ReLU, fc2: Linear(H, 10));
`softmax` is SoftmaxRegression (fc: Linear(784, 10)). Both take images
flattened to 784 values in [0, 1]. With MNIST_DIR (holding t10k-images-idx3-ubyte
and t10k-labels-idx1-ubyte) the script prints the test accuracy, which must
match what vislab reports for the same checkpoint.
"""
import struct
import sys

import torch
from safetensors.torch import load_file


def build(kind, state):
    if kind == "softmax":
        out_f, in_f = state["fc.weight"].shape
        return _Named(fc=torch.nn.Linear(in_f, out_f))
    hidden, in_f = state["fc1.weight"].shape
    classes = state["fc2.weight"].shape[0]
    return _Named(fc1=torch.nn.Linear(in_f, hidden), relu=torch.nn.ReLU(), fc2=torch.nn.Linear(hidden, classes))


class _Named(torch.nn.Module):
    """Sequential with our parameter names (fc1.weight, not 0.weight)."""

    def __init__(self, **layers):
        super().__init__()
        for name, layer in layers.items():
            self.add_module(name, layer)

    def forward(self, x):
        x = x.flatten(1)
        for layer in self.children():
            x = layer(x)
        return x


def read_idx(path):
    with open(path, "rb") as f:
        data = f.read()
    _, _, _, nd = data[:4]
    dims = struct.unpack(">" + "I" * nd, data[4 : 4 + 4 * nd])
    return torch.frombuffer(bytearray(data[4 + 4 * nd :]), dtype=torch.uint8).reshape(dims)


def main():
    kind, path = sys.argv[1], sys.argv[2]
    tensors = load_file(path)
    state = {k: v for k, v in tensors.items() if not k.startswith("optim.")}
    model = build(kind, state)
    model.load_state_dict(state, strict=True)
    print("loaded", sorted(state))
    if len(sys.argv) > 3:
        d = sys.argv[3]
        x = read_idx(f"{d}/t10k-images-idx3-ubyte").float() / 255.0
        y = read_idx(f"{d}/t10k-labels-idx1-ubyte").long()
        with torch.no_grad():
            acc = (model(x).argmax(1) == y).float().mean().item()
        print(f"test accuracy {acc:.4f}")


if __name__ == "__main__":
    main()
