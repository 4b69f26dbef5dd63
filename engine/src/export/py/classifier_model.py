#!/usr/bin/env python3
"""A vislab image classifier as a torch.nn.Module: `vislab train --model mlp|cnn`,
or the training lab's MLP, CNN or small ResNet with its activation, batch norm
and dropout.

Written by `vislab export --pytorch`. `build()` returns the network with the
checkpoint's architecture and parameter names, so
    model = build()
    model.load_state_dict(safetensors.torch.load_file("weights.safetensors"), strict=True)
gives the trained model. Inputs are images [B, C, H, W] with values in [0, 1]
(vislab divides the bytes by 255 and does not normalize further). The layer
sizes are read off the checkpoint's tensors (vislab.mlp.*, vislab.cnn.*,
vislab.resnet.*); the activation and dropout, which no tensor holds, come from
its vislab.net.* metadata.
"""
import json

import torch
from torch import nn

# The checkpoint's metadata: architecture and training recipe.
CONFIG = json.loads(r'''__VISLAB_CONFIG__''')


def sizes(key):
    return [int(v) for v in CONFIG[key].split(",") if v]


def batch_norm(channels, dims=2):
    """BatchNorm{1,2}d: torch's defaults are vislab's (eps 1e-5, momentum 0.1,
    unbiased running variance). vislab keeps no num_batches_tracked; the
    exporter writes one per layer and save_checkpoint drops them."""
    return (nn.BatchNorm1d if dims == 1 else nn.BatchNorm2d)(channels)


# vislab's activations (models::Activation): leaky ReLU with slope 0.01, ELU
# with alpha 1, GELU with erf (PyTorch's default, not the tanh form).
ACTIVATIONS = {
    "relu": nn.ReLU,
    "leaky_relu": lambda: nn.LeakyReLU(0.01),
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "elu": lambda: nn.ELU(1.0),
    "gelu": nn.GELU,
}


def activation(name):
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r} (expected {', '.join(ACTIVATIONS)})")
    return ACTIVATIONS[name]()


def dropout(p):
    """Inverted dropout as vislab's (identity in eval mode); none at p = 0."""
    return nn.Dropout(p) if p > 0 else nn.Identity()


class Mlp(nn.Module):
    """fc1 .. fcN; after each hidden fc{i}: [bn{i}], activation, dropout. The image is flattened first."""

    def __init__(self, widths, norm=False, act="relu", p=0.0):
        super().__init__()
        self.depth = len(widths) - 1
        self.norm = norm
        self.head = f"fc{self.depth}"  # the output layer (vislab initializes it with gain 1)
        for i in range(self.depth):
            self.add_module(f"fc{i + 1}", nn.Linear(widths[i], widths[i + 1]))
            if norm and i + 1 < self.depth:
                self.add_module(f"bn{i + 1}", batch_norm(widths[i + 1], dims=1))
        self.act = activation(act)
        self.dropout = dropout(p)

    def forward(self, x):
        h = x.flatten(1)
        for i in range(self.depth):
            h = getattr(self, f"fc{i + 1}")(h)
            if i + 1 < self.depth:
                if self.norm:
                    h = getattr(self, f"bn{i + 1}")(h)
                h = self.dropout(self.act(h))
        return h


class Cnn(nn.Module):
    """Per stage conv{i} (same padding) [+ bn{i}], activation, 2x2 max pool;
    then fc1, activation, dropout, fc2."""

    def __init__(self, image, channels, kernel, norm, hidden, classes, act="relu", p=0.0):
        super().__init__()
        c, h, w = image
        self.stages = len(channels)
        self.norm = norm
        for i, cout in enumerate(channels):
            self.add_module(f"conv{i + 1}", nn.Conv2d(c, cout, kernel, padding=kernel // 2))
            if norm:
                self.add_module(f"bn{i + 1}", batch_norm(cout))
            c, h, w = cout, h // 2, w // 2
        self.fc1 = nn.Linear(c * h * w, hidden)
        self.fc2 = nn.Linear(hidden, classes)
        self.head = "fc2"
        self.act = activation(act)
        self.dropout = dropout(p)

    def features(self, x):
        """The activated fc1 units (what vislab's Frechet distance and probes use)."""
        h = x
        for i in range(self.stages):
            h = getattr(self, f"conv{i + 1}")(h)
            if self.norm:
                h = getattr(self, f"bn{i + 1}")(h)
            h = nn.functional.max_pool2d(self.act(h), 2)
        return self.act(self.fc1(h.flatten(1)))

    def forward(self, x):
        return self.fc2(self.dropout(self.features(x)))


class BasicBlock(nn.Module):
    """torchvision's BasicBlock: relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)),
    the shortcut a 1x1 conv and BatchNorm (downsample) when the stride or width changes."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = batch_norm(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = batch_norm(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False), batch_norm(cout))

    def forward(self, x):
        h = torch.relu(self.bn1(self.conv1(x)))
        h = self.bn2(self.conv2(h))
        return torch.relu(h + (x if self.downsample is None else self.downsample(x)))


class ResNet(nn.Module):
    """The lab's small ResNet: stem conv1 bn1 ReLU, one basic block per stage
    (layer{i}, stride 2 from the second on), global average pooling, dropout, fc."""

    def __init__(self, in_channels, stages, classes, p=0.0):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, stages[0], 3, padding=1, bias=False)
        self.bn1 = batch_norm(stages[0])
        self.stages = len(stages)
        cin = stages[0]
        for i, cout in enumerate(stages):
            self.add_module(f"layer{i + 1}", BasicBlock(cin, cout, 1 if i == 0 else 2))
            cin = cout
        self.dropout = dropout(p)
        self.fc = nn.Linear(cin, classes)
        self.head = "fc"

    def forward(self, x):
        h = torch.relu(self.bn1(self.conv1(x)))
        for i in range(self.stages):
            h = getattr(self, f"layer{i + 1}")(h)
        return self.fc(self.dropout(h.mean((2, 3))))


def build():
    arch = CONFIG["vislab.arch"]
    act, p = CONFIG["vislab.net.activation"], float(CONFIG["vislab.net.dropout"])
    if arch == "mlp":
        return Mlp(sizes("vislab.mlp.sizes"), CONFIG["vislab.mlp.batch_norm"] == "true", act, p)
    if arch == "cnn":
        return Cnn(
            sizes("vislab.image"),
            sizes("vislab.cnn.channels"),
            int(CONFIG["vislab.cnn.kernel"]),
            CONFIG["vislab.cnn.batch_norm"] == "true",
            int(CONFIG["vislab.cnn.hidden"]),
            int(CONFIG["vislab.classes"]),
            act,
            p,
        )
    if arch == "resnet":
        return ResNet(int(CONFIG["vislab.resnet.input_channels"]), sizes("vislab.resnet.stages"), int(CONFIG["vislab.classes"]), p)
    raise ValueError(f"not a classifier: {arch}")


if __name__ == "__main__":
    from safetensors.torch import load_file

    m = build()
    m.load_state_dict(load_file(__file__.replace("model.py", "weights.safetensors")), strict=True)
    print(m)
