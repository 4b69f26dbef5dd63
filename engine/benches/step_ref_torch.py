"""PyTorch (CPU) reference for engine/benches/step.rs: one training step
(forward, loss, backward filling every parameter gradient) of the same
models. Prints `<model> <median ms per step>`.
Usage: step_ref_torch.py mlp|cnn|dcgan|cnn28 [iters]. TORCH_THREADS sets torch's threads
(default: torch's own, every core)."""
import os
import sys
import time

import torch
from torch import nn

if "TORCH_THREADS" in os.environ:
    torch.set_num_threads(int(os.environ["TORCH_THREADS"]))
torch.manual_seed(0)
B = 64


def model(which):
    if which == "mlp":
        return nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10)), (B, 784)
    if which == "dcgan":
        # ConvTranspose2d(64 -> 32, k4, s2, p1, no bias) 8x8 -> 16x16, BatchNorm (train), ReLU
        return nn.Sequential(nn.ConvTranspose2d(64, 32, 4, 2, 1, bias=False), nn.BatchNorm2d(32), nn.ReLU()), (B, 64, 8, 8)
    if which == "cnn28":
        # the network of `vislab train --model cnn`
        return nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
            nn.Linear(32 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10)), (B, 1, 28, 28)
    # LeNet as in step.rs: conv 5x5 (1->6), relu, pool 2, conv 5x5 (6->16), relu, pool 2, 256-120-84-10
    net = nn.Sequential(
        nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(256, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))
    return net, (B, 1, 28, 28)


def main():
    which = sys.argv[1]
    iters = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    net, shape = model(which)
    x = torch.rand(shape)
    if which == "dcgan":
        y, loss_fn = torch.rand(B, 32, 16, 16), nn.MSELoss()
    else:
        y, loss_fn = torch.randint(0, 10, (B,)), nn.CrossEntropyLoss()

    def step():
        net.zero_grad(set_to_none=False)
        loss = loss_fn(net(x), y)
        loss.backward()
        return loss

    for _ in range(10):
        step()
    ts = []
    for _ in range(iters):
        t = time.perf_counter()
        step()
        ts.append(time.perf_counter() - t)
    ts.sort()
    print(which, ts[len(ts) // 2] * 1e3)


main()
