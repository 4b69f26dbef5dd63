

# ---- the GAN's training loop ---------------------------------------------------
#
# vislab's GanTrainer (engine/src/gan/train.rs), round for round: a D step (a
# batch of reals drawn with replacement, as many fakes from G with batch
# statistics, loss on reals with target 1 - smoothing and on fakes with target
# 0, Adam on D), then a G step (fresh noise, G with batch statistics updating
# its running ones, through the current D with target 1, Adam on G). Both
# Adams have beta1 0.5, beta2 0.999, eps 1e-8. The weights' initialization,
# the data draws and the noise come from vislab's own seeded streams
# (SeededRng, in the common part above), so a run here makes the same random choices as `vislab train`; each
# rank computes its share of every global batch, with batch norm statistics
# summed over the ranks, so any world size does the same arithmetic.

import time  # noqa: E402


STREAM_INIT, STREAM_DATA, STREAM_NOISE = 1 << 40, 2 << 40, 3 << 40
G_INIT_OFFSET = 1 << 20
# The Frechet distance's samples (gan/frechet.rs): noise seed, stream, count, batch.
FD_SEED, FD_STREAM, FD_IMAGES, FD_BATCH = 11, 7 << 40, 1000, 250
def vislab_init(gan, seed, dcgan):
    """engine/src/gan/train.rs's init_params: every weight from its own stream
    (D's from STREAM_INIT, G's after G_INIT_OFFSET, by registration order),
    N(0, 0.02^2) for the DCGAN, Kaiming normal for MLPs (gain sqrt 2, 1 for the
    output layers); norm scales 1, biases and shifts 0."""
    with torch.no_grad():
        for prefix, offset in (("d_", 0), ("g_", G_INIT_OFFSET)):
            named = [(n, p) for n, p in gan.named_parameters() if n.startswith(prefix)]
            for i, (name, p) in enumerate(named):
                if p.dim() < 2:
                    p.fill_(1.0 if name.endswith(".weight") else 0.0)
                    continue
                if dcgan:
                    std = 0.02
                else:
                    gain = 1.0 if name.rsplit(".", 1)[0].endswith("out") else float(np.float32(math.sqrt(2)))
                    std = gain / math.sqrt(p.shape[1] * math.prod(p.shape[2:]))
                z = SeededRng(seed, STREAM_INIT + offset + i).normal(p.numel())
                p.copy_(torch.from_numpy((std * z).astype(np.float32)).view_as(p))


def set_reduce(gan, fn):
    """Batch norm statistics summed over the ranks by `fn` (None: this rank's batch alone)."""
    for m in gan.modules():
        if hasattr(m, "reduce"):
            m.reduce = fn


class Half(torch.nn.Module):
    """The `prefix` layers of the GAN (shared, not copied) as one module whose
    forward is `fn`: what DistributedDataParallel wraps, one per network."""

    def __init__(self, gan, prefix, fn):
        super().__init__()
        for name, m in gan.named_children():
            if name.startswith(prefix):
                self.add_module(name, m)
        self.fn = fn

    def forward(self, *a):
        return self.fn(*a)


def gan_losses(kind):
    """(D's loss on reals and fakes with the real target, G's loss on D(fakes)),
    as vislab's GanLoss: the two BCE means summed, or half the two squared-error means."""
    F = torch.nn.functional
    if kind == "ns":
        d = lambda dr, df, t: F.binary_cross_entropy_with_logits(dr, torch.full_like(dr, t)) + F.binary_cross_entropy_with_logits(df, torch.zeros_like(df))
        g = lambda df: F.binary_cross_entropy_with_logits(df, torch.ones_like(df))
    else:
        d = lambda dr, df, t: 0.5 * (((dr - t) ** 2).mean() + (df**2).mean())
        g = lambda df: 0.5 * ((df - 1) ** 2).mean()
    return d, g


def prob(kind, d):
    """D's output as the probability that a sample is real (GanLoss::prob)."""
    return torch.sigmoid(d) if kind == "ns" else d.clamp(0, 1)


class CnnFeatures(torch.nn.Module):
    """vislab's 28x28 cnn classifier (Cnn::mnist: 3x3 convs of 16 and 32 channels,
    2x2 max pools, fc1 of 128, fc2 of 10); features() are the ReLU'd fc1 units
    the Frechet distance uses."""

    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(1, 16, 3, padding=1)
        self.conv2 = torch.nn.Conv2d(16, 32, 3, padding=1)
        self.fc1 = torch.nn.Linear(32 * 7 * 7, 128)
        self.fc2 = torch.nn.Linear(128, 10)

    def features(self, x):
        h = torch.nn.functional.max_pool2d(torch.relu(self.conv1(x)), 2)
        h = torch.nn.functional.max_pool2d(torch.relu(self.conv2(h)), 2)
        return torch.relu(self.fc1(h.flatten(1)))


def gaussian(f):
    f = f.double()
    return f.mean(0), torch.cov(f.T)


def sqrt_psd(m):
    vals, vecs = torch.linalg.eigh(m)
    return vecs @ torch.diag(vals.clamp(min=0).sqrt()) @ vecs.T


def frechet(a, b):
    """|mu1 - mu2|^2 + Tr(S1 + S2 - 2 (S1 S2)^(1/2)) through S1^(1/2) S2 S1^(1/2), as metrics/frechet.rs."""
    (m1, s1), (m2, s2) = a, b
    r = sqrt_psd(s1)
    tr_sqrt = torch.linalg.eigvalsh(r @ s2 @ r).clamp(min=0).sqrt().sum()
    return max(0.0, ((m1 - m2) ** 2).sum().item() + (s1.trace() + s2.trace() - 2 * tr_sqrt).item())


class FrechetRef:
    """The held-out reals' Gaussian on the classifier's features (the first
    FD_IMAGES test images) and real-vs-real (as many training images)."""

    def __init__(self, path, train_x, test_x):
        state = {k: v for k, v in load_file(path).items() if not k.startswith("optim.")}
        self.net = CnnFeatures()
        self.net.load_state_dict(state, strict=True)
        self.count = min(FD_IMAGES, len(train_x), len(test_x))
        self.held = self.fit(test_x[: self.count])
        self.real_vs_real = frechet(self.fit(train_x[: self.count]), self.held)

    def fit(self, images):
        with torch.no_grad():
            return gaussian(torch.cat([self.net.features(b) for b in images.split(FD_BATCH)]))

    def distance(self, unit_images):
        return frechet(self.fit(unit_images), self.held)


def seeded_fakes(gan, n):
    """frechet::samples: n images of G (running statistics) from the FD noise, pixels in [0, 1]."""
    rng, out, device = SeededRng(FD_SEED, FD_STREAM), [], next(gan.parameters()).device
    with torch.no_grad():
        for b in [FD_BATCH] * (n // FD_BATCH) + ([n % FD_BATCH] if n % FD_BATCH else []):
            z = torch.from_numpy(rng.normal(b * gan.noise).astype(np.float32)).view(b, gan.noise)
            out.append(((gan.generate(z.to(device), "running") + 1) / 2).clamp(0, 1).cpu())
    return torch.cat(out)


def score(gan, test_x, kind, smoothing, batch, ref=None):
    """What `vislab eval` prints for a GAN checkpoint (app/commands/train_gan.rs):
    D on the first N (<= 1000) test images and on N seeded fakes, in chunks of
    the run's batch (D's batch norm uses each chunk's statistics); D's and G's
    losses on them; the Frechet distance of the fakes when a classifier is given."""
    n = min(FD_IMAGES, len(test_x))
    fakes, device = seeded_fakes(gan, n), next(gan.parameters()).device
    with torch.no_grad():
        d_of = lambda x: torch.cat([gan.discriminate(c.to(device)) for c in x.split(batch)]).double().cpu()
        dr, df = d_of(test_x[:n] * 2 - 1), d_of(fakes.view(n, *test_x.shape[1:]) * 2 - 1)
        d_loss, g_loss = gan_losses(kind)
        out = {"p_real": prob(kind, dr).mean().item(), "p_fake": prob(kind, df).mean().item(), "d_loss": d_loss(dr, df, 1 - smoothing).item(), "g_loss": g_loss(df).item()}
    if ref is not None:
        out.update(fd=ref.distance(fakes[: ref.count].view(-1, 1, 28, 28)), fd_real=ref.real_vs_real)
    return out


def main():
    p = parser()
    p.add_argument("--rounds", type=int, default=int(recipe("rounds", 2000)), help="rounds of one D step then one G step")
    p.add_argument("--lr-d", type=float, default=float(recipe("lr_d", 2e-4)))
    p.add_argument("--lr-g", type=float, default=float(recipe("lr_g", 2e-4)))
    stored = "ls" if CONFIG.get("vislab.gan.loss") == "least squares" else "ns"
    p.add_argument("--loss", default=recipe("loss", stored), choices=["ns", "ls"], help="non-saturating or least squares")
    p.add_argument("--smoothing", type=float, default=float(recipe("smoothing", 0.0)), help="one-sided: the real target is 1 - S")
    p.add_argument("--log-every", type=int, default=int(recipe("log_every", 100)))
    p.add_argument("--fd-classifier", default=recipe("fd_classifier"), help="the vislab cnn checkpoint of the Frechet distance")
    p.add_argument("--no-fd", action="store_true", default=recipe("no_fd") == "true")
    p.set_defaults(batch=int(recipe("batch", 128)), limit=int(recipe("limit", 10000)))
    args = p.parse_args()
    dist = setup()
    dcgan = CONFIG["vislab.arch"] == "gan-dcgan"
    if int(CONFIG["vislab.gan.data"]) == 2:
        raise SystemExit("this GAN models points in the plane (the GAN lab's); the checkpoint does not record which distribution")
    train_x, _, test_x, _ = load_images(args)
    if train_x[0].numel() != int(CONFIG["vislab.gan.data"]):
        raise SystemExit(f"--data has images of shape {tuple(train_x.shape[1:])}; the GAN makes {CONFIG['vislab.gan.data']} pixels")
    reals = train_x * 2 - 1  # RealDist::images
    gan = fresh_or_loaded(args, dist)
    if not args.init:
        vislab_init(gan, args.seed, dcgan)
    set_reduce(gan, (lambda t: torch.distributed.nn.functional.all_reduce(t)) if dist.world > 1 else None)
    g_net = ddp(Half(gan, "g_", lambda z: gan.generate(z, "update")), dist)
    d_net = ddp(Half(gan, "d_", lambda xr, xf: (gan.discriminate(xr), gan.discriminate(xf))), dist)
    d_params = [q for n, q in gan.named_parameters() if n.startswith("d_")]
    opt_d = torch.optim.Adam(d_params, lr=args.lr_d, betas=(0.5, 0.999), eps=1e-8)
    opt_g = torch.optim.Adam([q for n, q in gan.named_parameters() if n.startswith("g_")], lr=args.lr_g, betas=(0.5, 0.999), eps=1e-8)
    d_loss_of, g_loss_of = gan_losses(args.loss)
    data_rng, noise_rng = SeededRng(args.seed, STREAM_DATA), SeededRng(args.seed, STREAM_NOISE)
    n, k = args.batch, gan.noise
    share = torch.arange(n).tensor_split(dist.world)[dist.rank]
    # DDP averages the ranks' gradients: scale each rank's mean to its share of the global mean
    weight = len(share) * dist.world / n

    def noise():
        return torch.from_numpy(noise_rng.normal(n * k).astype(np.float32)).view(n, k)[share].to(dist.device)

    ref = None
    fd_note = ""
    if args.no_fd or tuple(train_x.shape[1:]) != (1, 28, 28):
        fd_note = "no Frechet distance (--no-fd, or not 28x28 images)"
    elif not args.fd_classifier:
        fd_note = "no Frechet distance: the vislab run trained its own classifier; pass --fd-classifier (a vislab cnn checkpoint) for the same figure"
    elif dist.main:
        ref = FrechetRef(args.fd_classifier, train_x, test_x)
        log(dist, f"Frechet distance: real vs held-out {ref.real_vs_real:.4f} ({ref.count} images each)")
    if fd_note:
        log(dist, fd_note + "; metrics.csv logs the losses")
    os.makedirs(args.out, exist_ok=True)
    csv_out = MetricsCsv(os.path.join(args.out, "metrics.csv"), ["round", "d_loss", "g_loss", "fd", "seconds"]) if dist.main else None

    def fd_now():
        return ref.distance(seeded_fakes(gan, ref.count)) if ref else None

    def row(r, losses, fd, secs):
        if csv_out:
            d, g = (f"{losses[0]:.5f}", f"{losses[1]:.5f}") if losses else ("", "")
            csv_out.row([r, d, g, "" if fd is None else f"{fd:.4f}", f"{secs:.3f}"])

    log(dist, f"training a {CONFIG['vislab.arch']} on {len(train_x)} images for {args.rounds} rounds over {dist.world} processes: {args.loss} loss, adam lr D {args.lr_d} G {args.lr_g}, global batch {n}, smoothing {args.smoothing}")
    row(0, None, fd_now(), 0.0)
    start = time.time()
    sums = [0.0, 0.0, 0]
    for r in range(1, args.rounds + 1):
        real = reals[torch.from_numpy(data_rng.below(len(reals), n))[share]].to(dist.device)
        z = noise()
        with torch.no_grad():
            fake = gan.generate(z, "batch")
        dr, df = d_net(real, fake)
        loss_d = d_loss_of(dr, df, 1 - args.smoothing)
        opt_d.zero_grad(set_to_none=True)
        (loss_d * weight).backward()
        opt_d.step()
        z = noise()
        for q in d_params:
            q.requires_grad_(False)
        loss_g = g_loss_of(gan.discriminate(g_net(z)))
        opt_g.zero_grad(set_to_none=True)
        (loss_g * weight).backward()
        opt_g.step()
        for q in d_params:
            q.requires_grad_(True)
        sums[0] += all_mean(dist, loss_d.item() * len(share), len(share))
        sums[1] += all_mean(dist, loss_g.item() * len(share), len(share))
        sums[2] += 1
        if r % args.log_every and r != args.rounds:
            continue
        d, g = sums[0] / sums[2], sums[1] / sums[2]
        sums = [0.0, 0.0, 0]
        fd = fd_now()
        secs = time.time() - start
        log(dist, f"round {r}/{args.rounds}: D loss {d:.4f}, G loss {g:.4f}" + ("" if fd is None else f", FD {fd:.2f}") + f", {secs:.1f} s")
        row(r, (d, g), fd, secs)
    set_reduce(gan, None)  # rank 0 scores alone
    if dist.main:
        path = os.path.join(args.out, "model.safetensors")
        rounds = args.rounds
        # this run's recipe, which vislab eval reads (D's chunks are its batch)
        meta = {"vislab.gan.loss": "least squares" if args.loss == "ls" else "non-saturating", "vislab.gan.steps": f"{rounds},{rounds},{rounds}"}
        flags = ("data", "batch", "seed", "limit", "rounds", "lr_d", "lr_g", "loss", "smoothing", "log_every", "fd_classifier", "no_fd")
        save_checkpoint(path, gan, meta, args, flags)
        s = score(gan, test_x, args.loss, args.smoothing, n, ref)
        print(" ".join(f"{key} {v:.6f}" for key, v in s.items()))
        print(f"wrote {path}; score it in vislab with: vislab eval --checkpoint {path} --data {args.data}")
    finish(dist)


if __name__ == "__main__":
    main()
