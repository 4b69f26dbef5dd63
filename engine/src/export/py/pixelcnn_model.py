#!/usr/bin/env python3
"""A vislab PixelCNN (`vislab train --model pixelcnn`) as a torch.nn.Module.

Written by `vislab export --pytorch`. `build()` returns the network with the
checkpoint's architecture and parameter names, so
    model = build()
    model.load_state_dict(safetensors.torch.load_file("weights.safetensors"), strict=True)
gives the trained model. Inputs are binary images [B, 1, side, side] (0 or 1);
`model(x)` gives one logit per pixel of p(x_ij = 1 | the pixels before ij in
raster order), `model.nll(x)` the exact -log p(x) in nats per image (mean
over the batch), and `sample(model, n)` draws images one pixel at a time.
"""
import json
import math

import torch
from torch import nn
from torch.nn import functional as F

# The checkpoint's metadata: architecture and training recipe.
CONFIG = json.loads(r'''__VISLAB_CONFIG__''')

KERNEL_A, KERNEL_B = 7, 3


def causal_mask(kind, k):
    """vislab's k x k mask (net.rs): 1 above the centre row and left of the
    centre on its row; the centre itself only for type "B"."""
    c = k // 2
    m = torch.zeros(k, k)
    m[:c, :] = 1
    m[c, :c] = 1
    if kind == "B":
        m[c, c] = 1
    return m


class MaskedConv2d(nn.Conv2d):
    """A same-size convolution whose weight is multiplied by the mask in the
    forward pass, as vislab does: the stored weight keeps its masked taps
    (at their initial values; they get exactly zero gradient), and the mask
    is not a parameter, so the state dict is a plain conv's."""

    def __init__(self, cin, cout, k, kind):
        super().__init__(cin, cout, k, padding=k // 2)
        self.register_buffer("mask", causal_mask(kind, k).expand(cout, cin, k, k).clone(), persistent=False)

    def forward(self, x):
        return self._conv_forward(x, self.weight * self.mask, self.bias)


class PixelCnn(nn.Module):
    """conv_a (7x7, type A) + ReLU, conv_b1..N (3x3, type B) + ReLU, out (1x1, one logit)."""

    def __init__(self, side, channels, layers):
        super().__init__()
        self.side, self.layers = side, layers
        self.conv_a = MaskedConv2d(1, channels, KERNEL_A, "A")
        for i in range(layers):
            self.add_module(f"conv_b{i + 1}", MaskedConv2d(channels, channels, KERNEL_B, "B"))
        self.out = nn.Conv2d(channels, 1, 1)

    def forward(self, x):
        """x [B, 1, side, side] (or [B, side*side]) of 0/1 -> logits [B, 1, side, side]."""
        h = torch.relu(self.conv_a(x.reshape(-1, 1, self.side, self.side)))
        for i in range(self.layers):
            h = torch.relu(getattr(self, f"conv_b{i + 1}")(h))
        return self.out(h)

    def nll(self, x):
        """-log p(x) in nats per image, the mean over the batch."""
        x = x.reshape(-1, 1, self.side, self.side)
        return nll_of(self(x), x)


def nll_of(logits, x):
    """vislab's loss: the BCE of every pixel summed over the image, the mean over the batch."""
    return F.binary_cross_entropy_with_logits(logits, x.reshape(logits.shape), reduction="sum") / len(x)


def bits_per_dim(nats, pixels):
    return nats / (pixels * math.log(2))


@torch.no_grad()
def sample(model, n, generator=None):
    """n images drawn in raster order, one forward pass per pixel (as vislab's Sampler)."""
    s = model.side
    x = torch.zeros(n, 1, s, s, device=next(model.parameters()).device)
    for pos in range(s * s):
        i, j = divmod(pos, s)
        p = torch.sigmoid(model(x)[:, 0, i, j])
        x[:, 0, i, j] = (torch.rand(n, generator=generator).to(p.device) < p).float()
    return x


def build():
    if CONFIG.get("vislab.arch") != "pixelcnn":
        raise ValueError(f"not a PixelCNN checkpoint: vislab.arch = {CONFIG.get('vislab.arch')!r}")
    return PixelCnn(int(CONFIG["vislab.pixelcnn.side"]), int(CONFIG["vislab.pixelcnn.channels"]), int(CONFIG["vislab.pixelcnn.layers"]))


if __name__ == "__main__":
    import os

    from safetensors.torch import load_file

    m = build()
    m.load_state_dict(load_file(os.path.join(os.path.dirname(os.path.abspath(__file__)), "weights.safetensors")), strict=True)
    print(m)
