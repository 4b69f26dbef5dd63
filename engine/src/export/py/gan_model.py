#!/usr/bin/env python3
"""A vislab GAN (`vislab train --model gan`, the GAN lab) as one torch.nn.Module.

Written by `vislab export --pytorch`. `build()` returns both networks in one
module whose parameter names are the checkpoint's (`g_*` the generator's,
`d_*` the discriminator's), so
    gan = build()
    gan.load_state_dict(safetensors.torch.load_file("weights.safetensors"), strict=True)
    images = gan.generate(torch.randn(16, gan.noise))   # [16, 1, S, S] in [-1, 1] (DCGAN)
    logits = gan.discriminate(images)                   # [16, 1]
gives the trained GAN. Two architectures:
- gan-dcgan: G is g_fc (linear, no bias) to C x S/4 x S/4, g_bn1, ReLU, g_up1
  (4x4 stride-2 transposed conv to C/2 channels, no bias), g_bn2, ReLU, g_up2 (to
  one channel), tanh. D is d_conv1 (4x4 stride 2), LeakyReLU(0.2), d_conv2 (no
  bias), d_bn2, LeakyReLU(0.2), d_out (linear to one logit).
- gan-mlp: g_fc1.. then g_out (tanh on it for images), d_fc1.. then d_out, with
  the checkpoint's activations; samples are flat vectors (2D points or pixels).
D's output is a logit for the non-saturating loss and a raw score for least squares.
"""
import json

import torch
from torch import nn

# The checkpoint's metadata: architecture and training recipe.
CONFIG = json.loads(r'''__VISLAB_CONFIG__''')

# vislab's activations (models::Activation) by the names GAN checkpoints record,
# and by their keys: leaky ReLU with slope 0.01, ELU with alpha 1, GELU with erf.
ACTIVATIONS = {}
for names, fn in [
    (("ReLU", "relu"), torch.relu),
    (("leaky ReLU (0.01)", "leaky_relu"), lambda x: nn.functional.leaky_relu(x, 0.01)),
    (("tanh",), torch.tanh),
    (("sigmoid",), torch.sigmoid),
    (("ELU", "elu"), nn.functional.elu),
    (("GELU", "gelu"), nn.functional.gelu),
]:
    ACTIVATIONS.update(dict.fromkeys(names, fn))
SLOPE = 0.2  # DCGAN's LeakyReLU in D


def sizes(key):
    return [int(v) for v in CONFIG.get(key, "").split(",") if v]


class BatchNorm(nn.Module):
    """vislab's batch norm over (N, H, W): eps 1e-5, momentum 0.1, unbiased
    running variance, with nn.BatchNorm2d's tensors (vislab keeps no
    num_batches_tracked: the exporter writes one and save_checkpoint drops
    it), except that D's has no running statistics: it always normalizes
    with the batch's. `reduce`, when set, sums a tensor over every process so
    the statistics are the global batch's (the trainer sets it under
    DistributedDataParallel)."""

    EPS, MOMENTUM = 1e-5, 0.1

    def __init__(self, channels, running=True):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.running = running
        if running:
            self.register_buffer("running_mean", torch.zeros(channels))
            self.register_buffer("running_var", torch.ones(channels))
            self.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long))
        self.reduce = None

    def _sum(self, t):
        return self.reduce(t) if self.reduce else t

    def forward(self, x, stats):
        """stats: 'running' (G's pictures), 'batch' (batch statistics), 'update'
        (batch statistics, and update the running ones: a G training step)."""
        shape = (1, -1, 1, 1)
        if stats == "running":
            mean, var = self.running_mean, self.running_var
        else:
            count = self._sum(torch.tensor(float(x.numel() // x.shape[1]), device=x.device))
            mean = self._sum(x.sum((0, 2, 3))) / count
            var = self._sum(((x - mean.view(shape)) ** 2).sum((0, 2, 3))) / count
            if stats == "update":
                with torch.no_grad():
                    m = self.MOMENTUM
                    self.running_mean.mul_(1 - m).add_(m * mean)
                    self.running_var.mul_(1 - m).add_(m * var * count / (count - 1).clamp(min=1))
                    self.num_batches_tracked.add_(1)
        return (x - mean.view(shape)) / torch.sqrt(var.view(shape) + self.EPS) * self.weight.view(shape) + self.bias.view(shape)


class Dcgan(nn.Module):
    def __init__(self, side, g_channels, d_channels, noise):
        super().__init__()
        self.side, self.noise, self.q, self.c = side, noise, side // 4, g_channels
        c, q, dc = g_channels, side // 4, d_channels
        # G first, then D: the order vislab registers (and seeds) them in
        self.g_fc = nn.Linear(noise, c * q * q, bias=False)
        self.g_bn1 = BatchNorm(c)
        self.g_up1 = nn.ConvTranspose2d(c, c // 2, 4, stride=2, padding=1, bias=False)
        self.g_bn2 = BatchNorm(c // 2)
        self.g_up2 = nn.ConvTranspose2d(c // 2, 1, 4, stride=2, padding=1, bias=True)
        self.d_conv1 = nn.Conv2d(1, dc, 4, stride=2, padding=1, bias=True)
        self.d_conv2 = nn.Conv2d(dc, 2 * dc, 4, stride=2, padding=1, bias=False)
        self.d_bn2 = BatchNorm(2 * dc, running=False)
        self.d_out = nn.Linear(2 * dc * q * q, 1)

    def generate(self, z, stats="running"):
        """Noise [B, noise] -> images [B, 1, side, side] in [-1, 1]; `stats` as BatchNorm's
        ('running', vislab's pictures and samples, makes each image depend on its z only)."""
        h = self.g_fc(z).view(-1, self.c, self.q, self.q)
        h = torch.relu(self.g_bn1(h, stats))
        h = torch.relu(self.g_bn2(self.g_up1(h), stats))
        return torch.tanh(self.g_up2(h))

    def discriminate(self, x):
        """Images [B, 1, side, side] (or [B, side*side]) -> [B, 1], with this batch's statistics."""
        h = nn.functional.leaky_relu(self.d_conv1(x.reshape(-1, 1, self.side, self.side)), SLOPE)
        h = nn.functional.leaky_relu(self.d_bn2(self.d_conv2(h), "batch"), SLOPE)
        return self.d_out(h.flatten(1))


class GanMlp(nn.Module):
    def __init__(self, data, noise, g_hidden, d_hidden, g_act, d_act, tanh_out):
        super().__init__()
        self.data, self.noise, self.tanh_out = data, noise, tanh_out
        self.g_act, self.d_act = ACTIVATIONS[g_act], ACTIVATIONS[d_act]
        self.g_layers = self._mlp("g_", noise, g_hidden, data)
        self.d_layers = self._mlp("d_", data, d_hidden, 1)

    def _mlp(self, prefix, width, hidden, out):
        names = []
        for i, w in enumerate(hidden):
            names.append(f"{prefix}fc{i + 1}")
            self.add_module(names[-1], nn.Linear(width, w))
            width = w
        names.append(f"{prefix}out")
        self.add_module(names[-1], nn.Linear(width, out))
        return names

    def _run(self, names, act, h):
        for i, name in enumerate(names):
            h = getattr(self, name)(h)
            if i + 1 < len(names):
                h = act(h)
        return h

    def generate(self, z, stats="running"):
        """Noise [B, noise] -> samples [B, data] (`stats` is unused: no batch norm)."""
        x = self._run(self.g_layers, self.g_act, z)
        return torch.tanh(x) if self.tanh_out else x

    def discriminate(self, x):
        return self._run(self.d_layers, self.d_act, x.flatten(1))


def build():
    arch = CONFIG["vislab.arch"]
    noise = int(CONFIG["vislab.gan.noise"])
    if arch == "gan-dcgan":
        side, g_channels, d_channels = sizes("vislab.gan.conv")
        return Dcgan(side, g_channels, d_channels, noise)
    if arch == "gan-mlp":
        return GanMlp(
            int(CONFIG["vislab.gan.data"]),
            noise,
            sizes("vislab.gan.g_hidden"),
            sizes("vislab.gan.d_hidden"),
            CONFIG["vislab.gan.g_activation"],
            CONFIG["vislab.gan.d_activation"],
            CONFIG["vislab.gan.tanh_out"] == "true",
        )
    raise ValueError(f"not a GAN: {arch}")


if __name__ == "__main__":
    from safetensors.torch import load_file

    m = build()
    m.load_state_dict(load_file(__file__.replace("model.py", "weights.safetensors")), strict=True)
    print(m)
