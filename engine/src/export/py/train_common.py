#!/usr/bin/env python3
"""Train the exported vislab model with PyTorch, on one machine or many.

Written by `vislab export --pytorch`: the same data, optimizer, schedule and
augmentation as the vislab run the checkpoint came from (its recipe is in
model.py's CONFIG). Launch with torchrun, e.g. on one 8-GPU node
    torchrun --nproc_per_node 8 train.py
or on two CPU processes
    torchrun --nproc_per_node 2 train.py
or without torchrun as `python train.py`. Each rank takes an equal share of
every global batch (DistributedDataParallel averages the gradients), so the
run follows vislab's batch size at any world size. The result,
OUT/model.safetensors, loads back into vislab (`vislab eval`, the labs).
"""
import argparse
import csv
import gzip
import math
import os
import struct
import sys
from dataclasses import dataclass

import numpy as np
import torch
import torch.distributed as torch_dist
from safetensors import safe_open
from safetensors.torch import load_file, save_file

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from model import CONFIG, build  # noqa: E402  (model.py sits beside this file)


def recipe(key, default=None):
    """The vislab run's value of flag `key` (as a string), or `default`."""
    v = CONFIG.get("vislab.train." + key)
    return default if v is None or v == "" else v


def parser():
    """The flags every model's trainer has, defaulting to the vislab run's."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--data", default=recipe("data"), help="mnist:DIR, fashion-mnist:DIR, cifar10:DIR, cifar100:DIR, or data.safetensors beside this script")
    p.add_argument("--epochs", type=int, default=int(recipe("epochs", 1)))
    p.add_argument("--batch", type=int, default=int(recipe("batch", 64)), help="global batch size, split over the ranks")
    p.add_argument("--lr", type=float, default=float(recipe("lr", 1e-3)))
    p.add_argument("--seed", type=int, default=int(recipe("seed", 0)))
    p.add_argument("--limit", type=int, default=int(recipe("limit", 0)), help="train on the first N images (0: all)")
    p.add_argument("--out", default="torch-run", help="folder for metrics.csv and model.safetensors")
    p.add_argument("--init", default=None, help="start from these weights (e.g. weights.safetensors) instead of a fresh init")
    return p


@dataclass
class Dist:
    rank: int
    world: int
    device: torch.device
    main: bool


def setup():
    """torch.distributed when launched by torchrun (gloo on the CPU, nccl on GPUs)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    if torch.cuda.is_available():
        torch.cuda.set_device(local)
        device = torch.device("cuda", local)
    else:
        device = torch.device("cpu")
        # one process per core: torch's own threads would fight over them
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // max(1, int(os.environ.get("LOCAL_WORLD_SIZE", "1")))))
    if world > 1:
        torch_dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return Dist(rank, world, device, rank == 0)


def finish(dist):
    if dist.world > 1:
        torch_dist.barrier()
        torch_dist.destroy_process_group()


def log(dist, *a):
    if dist.main:
        print(*a, flush=True)


def all_mean(dist, value, count):
    """The mean over every rank of per-rank sums `value` over `count` items."""
    t = torch.tensor([float(value), float(count)], dtype=torch.float64)
    if dist.world > 1:
        torch_dist.all_reduce(t)
    return (t[0] / t[1].clamp(min=1)).item()


# ---- data -------------------------------------------------------------------


def _open(path):
    if os.path.exists(path):
        return open(path, "rb")
    if os.path.exists(path + ".gz"):
        return gzip.open(path + ".gz", "rb")
    raise SystemExit(f"{path} (or {path}.gz) not found")


def _idx(path):
    with _open(path) as f:
        data = f.read()
    dims = struct.unpack(">" + "I" * data[3], data[4 : 4 + 4 * data[3]])
    return torch.frombuffer(bytearray(data[4 + 4 * data[3] :]), dtype=torch.uint8).reshape(dims)


def _mnist(d):
    def split(prefix):
        x = _idx(os.path.join(d, f"{prefix}-images-idx3-ubyte")).float().div(255.0).unsqueeze(1)
        return x, _idx(os.path.join(d, f"{prefix}-labels-idx1-ubyte")).long()

    return (*split("train"), *split("t10k"))


def _cifar(path, kind):
    """The binary version: 1 label byte (cifar10) or coarse+fine (cifar100), then 3x32x32."""
    lead = 1 if kind == "cifar10" else 2
    label = {"cifar10": 0, "cifar100": 1, "cifar100-coarse": 0}[kind]
    names = (["data_batch_%d.bin" % i for i in range(1, 6)], ["test_batch.bin"]) if kind == "cifar10" else (["train.bin"], ["test.bin"])

    def read(files):
        raw = b"".join(open(os.path.join(path, f), "rb").read() for f in files)
        rec = torch.frombuffer(bytearray(raw), dtype=torch.uint8).reshape(-1, lead + 3072)
        return rec[:, lead:].float().div(255.0).reshape(-1, 3, 32, 32), rec[:, label].long()

    if not os.path.isdir(path):
        raise SystemExit(f"{kind}:{path}: a single batch file has no test split of its own; export it again so data.safetensors carries it")
    return (*read(names[0]), *read(names[1]))


def load_images(args):
    """(train_x, train_y, test_x, test_y): float32 [N, C, H, W] in [0, 1], int64 labels."""
    bundled = os.path.join(HERE, "data.safetensors")
    spec = args.data or ""
    if spec in ("", "data.safetensors", "digits") or spec.startswith("folder:"):
        if not os.path.exists(bundled):
            raise SystemExit(f"--data {spec!r} needs {bundled}, which vislab export writes for data it makes itself")
        t = load_file(bundled)
        data = [t["train.x"], t["train.y"], t["test.x"], t["test.y"]]
    else:
        kind, _, path = spec.partition(":")
        if kind in ("mnist", "fashion-mnist"):
            data = list(_mnist(path))
        elif kind.startswith("cifar"):
            data = list(_cifar(path, kind))
        else:
            raise SystemExit(f"unknown --data {spec!r}")
    if args.limit:
        data[0], data[1] = data[0][: args.limit], data[1][: args.limit]
    return tuple(data)


def binarize(x, mode, generator=None):
    """vislab's binarization: 'sample' draws pixels on with their intensity, 'threshold' cuts at one half."""
    if mode == "sample":
        return torch.bernoulli(x, generator=generator)
    if mode == "threshold":
        return (x > 0.5).float()
    return x


def batches(n, batch, seed, epoch, dist):
    """This rank's index batches of one epoch: one global permutation seeded by
    (seed, epoch), global batches of `batch` (the last one partial), each split
    evenly over the ranks."""
    g = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
    order = torch.randperm(n, generator=g)
    out = []
    for start in range(0, n, batch):
        b = order[start : start + batch]
        # every rank must take every step (DDP's all-reduce waits for all):
        # a last batch smaller than the world is left out on all of them
        if len(b) >= dist.world:
            out.append(b.tensor_split(dist.world)[dist.rank])
    return out


# ---- augmentation (vislab's --augment spec) ----------------------------------


def parse_augment(spec):
    """'crop=0.8,flip,shift=2,rotate=15,cutout=4' -> {'crop': 0.8, 'flip': 1.0, ...}."""
    out = {}
    for part in filter(None, (spec or "").split(",")):
        name, _, value = part.partition("=")
        out[name.strip()] = float(value) if value else 1.0
    return out


def _warp(x, theta):
    grid = torch.nn.functional.affine_grid(theta, list(x.shape), align_corners=False)
    return torch.nn.functional.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def augment(x, aug, g):
    """Random per-image augmentation of a batch [B, C, H, W] as vislab's
    Augment::apply draws it: crop and scale, flip, shift, rotate, cutout."""
    if not aug:
        return x
    b, _, h, w = x.shape
    x = x.clone()
    if aug.get("crop", 1.0) < 1.0:
        # a crop of side s (uniform in [crop, 1]) anywhere in the image, scaled back up
        s = aug["crop"] + (1 - aug["crop"]) * torch.rand(b, generator=g)
        theta = torch.zeros(b, 2, 3)
        theta[:, 0, 0], theta[:, 1, 1] = s, s
        theta[:, 0, 2] = (torch.rand(b, generator=g) * 2 - 1) * (1 - s)
        theta[:, 1, 2] = (torch.rand(b, generator=g) * 2 - 1) * (1 - s)
        x = _warp(x, theta)
    if "flip" in aug:
        flip = torch.rand(b, generator=g) < 0.5
        x[flip] = x[flip].flip(-1)
    if aug.get("shift", 0) > 0:
        m = int(aug["shift"])
        pad = torch.nn.functional.pad(x, (m, m, m, m))
        d = torch.randint(-m, m + 1, (b, 2), generator=g)
        # the image moves by (dx, dy); what comes in from outside is zero
        x = torch.stack([pad[i, :, m - dy : m - dy + h, m - dx : m - dx + w] for i, (dx, dy) in enumerate(d.tolist())])
    if aug.get("rotate", 0) > 0:
        a = (torch.rand(b, generator=g) * 2 - 1) * math.radians(aug["rotate"])
        theta = torch.zeros(b, 2, 3)
        theta[:, 0, 0], theta[:, 0, 1], theta[:, 1, 0], theta[:, 1, 1] = a.cos(), -a.sin(), a.sin(), a.cos()
        x = _warp(x, theta)
    if aug.get("cutout", 0) > 0:
        s = int(aug["cutout"])
        for i in range(b):
            # centred on a random pixel, so it may hang over an edge
            cy, cx = int(torch.randint(0, h, (1,), generator=g)), int(torch.randint(0, w, (1,), generator=g))
            y0, x0 = max(0, cy - s // 2), max(0, cx - s // 2)
            x[i, :, y0 : y0 + s, x0 : x0 + s] = 0
    return x


# ---- optimization -------------------------------------------------------------


def make_optimizer(name, params, lr):
    """vislab's optimizers with vislab's hyperparameters (registry.rs)."""
    O = torch.optim
    table = {
        "sgd": lambda: O.SGD(params, lr=lr),
        "momentum": lambda: O.SGD(params, lr=lr, momentum=0.9),
        "nesterov": lambda: O.SGD(params, lr=lr, momentum=0.9, nesterov=True),
        "adagrad": lambda: O.Adagrad(params, lr=lr, eps=1e-7),
        "rmsprop": lambda: O.RMSprop(params, lr=lr, alpha=0.99, eps=1e-7),
        "adam": lambda: O.Adam(params, lr=lr, betas=(0.9, 0.999), eps=1e-8),
        "adamw": lambda: O.AdamW(params, lr=lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01),
    }
    if name not in table:
        raise SystemExit(f"unknown optimizer {name!r} (expected {', '.join(table)})")
    return table[name]()


def make_schedule(optimizer, name, steps_per_epoch, total_steps):
    """vislab's decays (optim/schedule.rs), as a factor of the base rate per update."""
    total = max(1, total_steps)
    table = {
        "constant": lambda s: 1.0,
        "cosine": lambda s: 0.5 * (1 + math.cos(math.pi * min(s / total, 1.0))),
        "step": lambda s: 0.5 ** (s // max(1, 3 * steps_per_epoch)),
        "linear": lambda s: max(0.0, 1 - s / total),
    }
    if name not in table:
        raise SystemExit(f"unknown schedule {name!r} (expected {', '.join(table)})")
    return torch.optim.lr_scheduler.LambdaLR(optimizer, table[name])


def ddp(module, dist):
    if dist.world == 1:
        return module
    ids = [dist.device.index] if dist.device.type == "cuda" else None
    return torch.nn.parallel.DistributedDataParallel(module, device_ids=ids)


def sync_buffers(module, dist):
    """Rank 0's buffers (BatchNorm's running statistics) on every rank: DDP
    sends them at each forward, before that step's update, so after the last
    step the other ranks hold the previous ones."""
    if dist.world > 1:
        for b in module.buffers():
            torch_dist.broadcast(b, 0)


def fresh_or_loaded(args, dist):
    """build() on the device, from --init's weights when given."""
    torch.manual_seed(args.seed)
    model = build()
    if args.init:
        model.load_state_dict(load_file(args.init), strict=True)
    return model.to(dist.device)


# ---- vislab's random numbers and initialization ---------------------------------
# Where a trainer must make vislab's own random choices (the test set's
# binarization and noise, the GAN's draws), it reads vislab's streams.

M32, M64 = 0xFFFFFFFF, (1 << 64) - 1


def _pcg32_seed(state):
    """rand_core's seed_from_u64: 32 seed bytes from a PCG32 stream."""
    words = []
    for _ in range(8):
        state = (state * 6364136223846793005 + 11634580027462260723) & M64
        x = ((state >> 18) ^ state) >> 27 & M32
        rot = state >> 59
        words.append(((x >> rot) | (x << (32 - rot))) & M32)
    return np.array(words, dtype=np.uint32)


def _rotl(v, n):
    return (v << np.uint32(n)) | (v >> np.uint32(32 - n))


def _chacha(key, stream, first, count, rounds=8):
    """`count` ChaCha blocks (ChaCha8 unless told) from block `first` (64-bit counter, 64-bit stream), as u32 words in order."""
    const = np.frombuffer(b"expand 32-byte k", dtype="<u4")
    ctr = np.arange(first, first + count, dtype=np.uint64)
    s = np.empty((16, count), dtype=np.uint32)
    s[0:4] = const[:, None]
    s[4:12] = key[:, None]
    s[12], s[13] = (ctr & M32).astype(np.uint32), (ctr >> np.uint64(32)).astype(np.uint32)
    s[14], s[15] = stream & M32, stream >> 32
    x = s.copy()

    def qr(a, b, c, d):
        x[a] += x[b]
        x[d] = _rotl(x[d] ^ x[a], 16)
        x[c] += x[d]
        x[b] = _rotl(x[b] ^ x[c], 12)
        x[a] += x[b]
        x[d] = _rotl(x[d] ^ x[a], 8)
        x[c] += x[d]
        x[b] = _rotl(x[b] ^ x[c], 7)

    with np.errstate(over="ignore"):
        for _ in range(rounds // 2):
            qr(0, 4, 8, 12), qr(1, 5, 9, 13), qr(2, 6, 10, 14), qr(3, 7, 11, 15)
            qr(0, 5, 10, 15), qr(1, 6, 11, 12), qr(2, 7, 8, 13), qr(3, 4, 9, 14)
        x += s
    return x.T.reshape(-1)


class SeededRng:
    """vislab's SeededRng::stream(seed, stream) (rng.rs): ChaCha8Rng seeded from
    the u64 seed on ChaCha stream `stream + 1`; uniforms from 53 bits of each
    u64, normals by Box-Muller (cos first, the sin kept for the next call),
    integers below n by rejection."""

    def __init__(self, seed, stream):
        self.key, self.stream = _pcg32_seed(seed), (stream + 1) & M64
        self.pos = 0  # u64s drawn
        self.spare = None

    def u64(self, n):
        first, last = self.pos // 8, (self.pos + n + 7) // 8
        w = _chacha(self.key, self.stream, first, last - first).astype(np.uint64)
        v = w[0::2] | (w[1::2] << np.uint64(32))
        out = v[self.pos - 8 * first : self.pos - 8 * first + n]
        self.pos += n
        return out

    def uniform(self, n):
        return (self.u64(n) >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))

    def normal(self, n):
        out = np.empty(n)
        k = 0
        if self.spare is not None and n:
            out[0], self.spare, k = self.spare, None, 1
        pairs = (n - k + 1) // 2
        u = self.uniform(2 * pairs)
        r = np.sqrt(-2.0 * np.log(1.0 - u[0::2]))
        theta = 2 * math.pi * u[1::2]
        z = np.stack([r * np.cos(theta), r * np.sin(theta)], 1).reshape(-1)
        out[k:] = z[: n - k]
        if (n - k) % 2:
            self.spare = z[-1]
        return out

    def below(self, count, n):
        zone = M64 - (M64 % count)
        out = []
        while len(out) < n:
            out.extend(int(x) % count for x in self.u64(n - len(out)) if int(x) < zone)
        return np.array(out, dtype=np.int64)


def kaiming_init(model, heads, generator=None):
    """vislab's fresh start (train::init_params with relu_rule): Kaiming normal
    over each weight's fan in, gain sqrt 2 before a ReLU and 1 for the output
    layers named in `heads`, zero biases, BatchNorm at 1 and 0."""
    with torch.no_grad():
        for name, m in model.named_modules():
            if isinstance(m, (torch.nn.Linear, torch.nn.Conv2d, torch.nn.ConvTranspose2d)):
                gain = 1.0 if name in heads else math.sqrt(2.0)
                m.weight.normal_(0.0, gain / math.sqrt(m.weight[0].numel()), generator=generator)
                if m.bias is not None:
                    m.bias.zero_()
            elif isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
                m.reset_parameters()


# ---- outputs ------------------------------------------------------------------


def save_checkpoint(path, module, meta_updates, args=None, flags=()):
    """Rank 0 writes the state dict with the recipe's metadata, so vislab
    loads it back; `flags` of `args` are recorded as this run applied them
    (what vislab eval reads: the data, the seed and binarization of a test set)."""
    module = getattr(module, "module", module)
    # vislab's BatchNorm has no step counter (its momentum is fixed)
    state = {k: v.detach().cpu().contiguous() for k, v in module.state_dict().items() if not k.endswith(".num_batches_tracked")}
    meta = dict(CONFIG)
    for k in flags:
        v = getattr(args, k)
        # as vislab spells its recipe: unset (or --limit 0) empty, booleans lower case
        if v is None or (k == "limit" and not v):
            v = ""
        elif isinstance(v, bool):
            v = str(v).lower()
        meta["vislab.train." + k] = str(v)
    meta.update({k: str(v) for k, v in meta_updates.items()})
    meta["vislab.trained_by"] = "pytorch"
    save_file(state, path, metadata=meta)


def optimize(loss, opt, sched=None):
    """One update: fresh gradients of `loss`, a step, the schedule's step."""
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    if sched is not None:
        sched.step()


def checkpoint_meta(path):
    with safe_open(path, "pt") as f:
        return f.metadata()


class MetricsCsv:
    """metrics.csv, one row per call, flushed as it goes."""

    def __init__(self, path, header):
        self.f = open(path, "w", newline="")
        self.w = csv.writer(self.f)
        self.w.writerow(header)
        self.f.flush()

    def row(self, values):
        self.w.writerow(values)
        self.f.flush()
