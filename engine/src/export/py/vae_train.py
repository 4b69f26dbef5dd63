

# ---- the VAE's training loop ----------------------------------------------------

import time  # noqa: E402

from model import HEADS, elbo_terms  # noqa: E402

# vislab's random streams of a VAE run (engine/src/vae/train.rs): the test set
# is binarized once from one, its reparameterization noise drawn from the next.
STREAM_TEST = 3 << 40
def vislab_test_set(x, mode, seed, latent):
    """The test images [N, pixels] binarized as vislab's trainer does it, once
    (sample: seeded Bernoulli draws), and the fixed noise eps [N, latent] its
    test pass feeds, so the numbers here are the ones vislab reports."""
    if mode == "sample":
        u = torch.from_numpy(SeededRng(seed, STREAM_TEST).uniform(x.numel()).astype(np.float32)).reshape(x.shape)
        x = (u < x).float()
    else:
        x = binarize(x, mode)
    eps = torch.from_numpy(SeededRng(seed, STREAM_TEST + 1).normal(len(x) * latent).astype(np.float32)).reshape(len(x), latent)
    return x, eps


def evaluate(model, x, eps, dist, batch=1000):
    """Test (nelbo, recon, kl) per image over the whole split, each rank scoring its share."""
    share = torch.arange(len(x)).tensor_split(dist.world)[dist.rank]
    recon = kl = 0.0
    model.eval()
    with torch.no_grad():
        for idx in share.split(batch):
            logits, mu, logvar = model(x[idx].to(dist.device), eps[idx].to(dist.device))
            r, k = elbo_terms(logits, x[idx].to(dist.device), mu, logvar)
            recon, kl = recon + r.item() * len(idx), kl + k.item() * len(idx)
    model.train()
    recon, kl = all_mean(dist, recon, len(share)), all_mean(dist, kl, len(share))
    return recon + kl, recon, kl


def main():
    p = parser()
    p.add_argument("--schedule", default=recipe("schedule", "cosine"), help="cosine or constant, per update over the run")
    p.add_argument("--binarize", default=recipe("binarize", CONFIG.get("vislab.vae.binarize", "sample")), help="sample, threshold or off")
    args = p.parse_args()
    if args.schedule not in ("cosine", "constant") or args.binarize not in ("sample", "threshold", "off") or args.epochs < 1:
        raise SystemExit(f"--schedule {args.schedule}, --binarize {args.binarize}, --epochs {args.epochs}: the VAE takes cosine or constant, sample, threshold or off, and at least one epoch")
    dist = setup()
    train_x, _, test_x, _ = load_images(args)
    train_x, test_x = train_x.flatten(1), test_x.flatten(1)
    model = fresh_or_loaded(args, dist)
    if not args.init:
        kaiming_init(model, HEADS)
    test_x, test_eps = vislab_test_set(test_x, args.binarize, args.seed, model.latent)
    net = ddp(model, dist)
    opt = make_optimizer("adam", net.parameters(), args.lr)
    n = len(train_x)
    steps = math.ceil(n / args.batch)
    sched = make_schedule(opt, args.schedule, steps, steps * args.epochs)
    g = torch.Generator().manual_seed(args.seed * 7919 + dist.rank)
    os.makedirs(args.out, exist_ok=True)
    header = ["epoch", "train_nelbo", "train_recon", "train_kl", "test_nelbo", "test_recon", "test_kl", "seconds"]
    csv_out = MetricsCsv(os.path.join(args.out, "metrics.csv"), header) if dist.main else None
    log(dist, f"training vae on {n} images (test {len(test_x)}) for {args.epochs} epochs over {dist.world} processes: adam lr {args.lr} ({args.schedule}), global batch {args.batch}, binarize {args.binarize}")
    for epoch in range(1, args.epochs + 1):
        t0 = time.time()
        seen, recon_sum, kl_sum = 0, 0.0, 0.0
        for i, idx in enumerate(batches(n, args.batch, args.seed, epoch, dist)):
            # dynamic binarization: every epoch draws the training pixels afresh
            x = binarize(train_x[idx], args.binarize, g).to(dist.device)
            eps = torch.randn(len(idx), model.latent, generator=g).to(dist.device)
            logits, mu, logvar = net(x, eps)
            r, k = elbo_terms(logits, x, mu, logvar)
            # vislab's loss is the mean over the global batch: this rank's sum over
            # that batch's size, times the world that DDP's gradient mean divides by
            global_batch = min(args.batch, n - i * args.batch)
            loss = (r + k) * (len(idx) * dist.world / global_batch)
            optimize(loss, opt, sched)
            seen += len(idx)
            recon_sum += r.item() * len(idx)
            kl_sum += k.item() * len(idx)
        train_recon, train_kl = all_mean(dist, recon_sum, seen), all_mean(dist, kl_sum, seen)
        test_nelbo, test_recon, test_kl = evaluate(model, test_x, test_eps, dist)
        seconds = time.time() - t0
        log(dist, f"epoch {epoch}/{args.epochs}: train nelbo {train_recon + train_kl:.2f} (recon {train_recon:.2f} + kl {train_kl:.2f}), test nelbo {test_nelbo:.2f} (recon {test_recon:.2f} + kl {test_kl:.2f}) nats, {seconds:.1f} s")
        if csv_out:
            csv_out.row([epoch] + [f"{v:.4f}" for v in (train_recon + train_kl, train_recon, train_kl, test_nelbo, test_recon, test_kl)] + [f"{seconds:.3f}"])
    if dist.main:
        path = os.path.join(args.out, "model.safetensors")
        meta = {"vislab.vae.binarize": args.binarize, "epoch": args.epochs, "step": steps * args.epochs}
        save_checkpoint(path, model, meta, args, ("data", "epochs", "batch", "lr", "schedule", "seed", "limit", "binarize"))
        print(f"test_nelbo {test_nelbo:.4f} test_recon {test_recon:.4f} test_kl {test_kl:.4f}")
        print(f"wrote {path}; score it in vislab with: vislab eval --checkpoint {path}")
    finish(dist)


if __name__ == "__main__":
    main()
