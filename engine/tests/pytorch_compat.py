#!/usr/bin/env python3
"""Load a Vislab checkpoint into the equivalent torch.nn module (not run in CI).

Vislab writes safetensors files whose model tensors carry PyTorch names and
layouts (Linear weight [out, in], Conv2d weight [Cout, Cin, kH, kW], f32
little-endian, BatchNorm `num_batches_tracked` as int64). Optimizer buffers
are extra tensors named `optim.<param>.<slot>` and are dropped here.

Usage (needs `pip install torch safetensors`; without torch, with only
`safetensors numpy`, the same checks run in numpy):
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

try:
    import torch
    from safetensors.torch import load_file
except ImportError:  # numpy fallback below
    torch = None


def numpy_check(kind, path, mnist_dir):
    """Same checks without torch: names, dtypes, layouts, accuracy."""
    import numpy as np
    from safetensors.numpy import load_file as np_load

    tensors = np_load(path)
    state = {k: v for k, v in tensors.items() if not k.startswith("optim.")}
    for k, v in sorted(tensors.items()):
        print(k, v.dtype, v.shape)
    names = ["fc.weight", "fc.bias"] if kind == "softmax" else ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    assert sorted(state) == sorted(names), sorted(state)
    assert all(v.dtype == np.float32 for v in state.values())
    if mnist_dir:
        x = read_idx_np(f"{mnist_dir}/t10k-images-idx3-ubyte").reshape(-1, 784).astype(np.float32) / 255.0
        y = read_idx_np(f"{mnist_dir}/t10k-labels-idx1-ubyte")
        if kind == "softmax":
            scores = x @ state["fc.weight"].T + state["fc.bias"]
        else:
            h = np.maximum(x @ state["fc1.weight"].T + state["fc1.bias"], 0)
            scores = h @ state["fc2.weight"].T + state["fc2.bias"]
        print(f"test accuracy {(scores.argmax(1) == y).mean():.4f}")


def read_idx_np(path):
    import numpy as np

    with open(path, "rb") as f:
        data = f.read()
    nd = data[3]
    dims = struct.unpack(">" + "I" * nd, data[4 : 4 + 4 * nd])
    return np.frombuffer(data[4 + 4 * nd :], dtype=np.uint8).reshape(dims)


def build(kind, state):
    if kind == "softmax":
        out_f, in_f = state["fc.weight"].shape
        return _Named(fc=torch.nn.Linear(in_f, out_f))
    hidden, in_f = state["fc1.weight"].shape
    classes = state["fc2.weight"].shape[0]
    return _Named(fc1=torch.nn.Linear(in_f, hidden), relu=torch.nn.ReLU(), fc2=torch.nn.Linear(hidden, classes))


class _Named(torch.nn.Module if torch else object):
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
    if torch is None:
        numpy_check(kind, path, sys.argv[3] if len(sys.argv) > 3 else None)
        return
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
