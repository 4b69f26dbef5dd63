"""PyTorch side of benches/train_e2e.sh: the network `vislab train --model
cnn|mlp` trains, with the same optimizer (Adam 1e-3), cosine decay per step
to 0 over the run, batch 64, shuffled every epoch, pixels / 255, on full
MNIST; then test accuracy on the 10k test images in batches of 1000.
Prints `<model> wall_s <s> test_acc <acc>`; the wall time covers loading,
training and testing, as the `vislab train` run it is compared with.
Usage: train_torch.py cnn|mlp MNIST_DIR [epochs]. TORCH_THREADS sets torch's
threads (default: torch's own, every core)."""
import math
import os
import sys
import time

t0 = time.perf_counter()
import numpy as np
import torch
from torch import nn

if "TORCH_THREADS" in os.environ:
    torch.set_num_threads(int(os.environ["TORCH_THREADS"]))
torch.manual_seed(0)


def idx(path):
    with open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * dims).reshape(shape)


def load(d, split):
    x = idx(os.path.join(d, f"{split}-images-idx3-ubyte")).astype(np.float32) / 255.0
    y = idx(os.path.join(d, f"{split}-labels-idx1-ubyte")).astype(np.int64)
    return torch.from_numpy(x).unsqueeze(1), torch.from_numpy(y)


def net(which):
    if which == "mlp":
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 10))
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(32 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10))


def main():
    which, d = sys.argv[1], sys.argv[2]
    epochs = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    xtr, ytr = load(d, "train")
    xte, yte = load(d, "t10k")
    model = net(which)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    batch = 64
    steps = math.ceil(len(xtr) / batch) * epochs
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5 * (1 + math.cos(math.pi * min(s / steps, 1.0))))
    loss_fn = nn.CrossEntropyLoss()
    g = torch.Generator().manual_seed(0)
    model.train()
    for _ in range(epochs):
        order = torch.randperm(len(xtr), generator=g)
        for i in range(0, len(xtr), batch):
            b = order[i:i + batch]
            opt.zero_grad()
            loss_fn(model(xtr[b]), ytr[b]).backward()
            opt.step()
            sched.step()
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(xte), 1000):
            correct += (model(xte[i:i + 1000]).argmax(1) == yte[i:i + 1000]).sum().item()
    print(which, "wall_s", round(time.perf_counter() - t0, 2), "test_acc", correct / len(xte))


main()
