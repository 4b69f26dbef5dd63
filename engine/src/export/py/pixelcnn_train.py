

# ---- the PixelCNN's training loop -----------------------------------------------

import time  # noqa: E402

from model import bits_per_dim, nll_of  # noqa: E402


def evaluate(model, x, dist, batch=500):
    """Test NLL in nats per image over the whole (binarized) split, each rank scoring its share."""
    model.eval()
    total = 0.0
    share = torch.arange(len(x)).tensor_split(dist.world)[dist.rank]
    with torch.no_grad():
        for idx in share.split(batch):
            total += model.nll(x[idx].to(dist.device)).item() * len(idx)
    model.train()
    return all_mean(dist, total, len(share))


def main():
    p = parser()
    p.add_argument("--binarize", default=recipe("binarize", "threshold"), choices=["threshold", "sample"], help="threshold: pixel > 1/2; sample: on with its intensity, redrawn every epoch")
    args = p.parse_args()
    dist = setup()
    train_x, _, test_x, _ = load_images(args)
    model = fresh_or_loaded(args, dist)
    if tuple(train_x.shape[1:]) != (1, model.side, model.side):
        raise SystemExit(f"this PixelCNN takes 1x{model.side}x{model.side} images; --data has {tuple(train_x.shape[1:])}")
    if not args.init:
        kaiming_init(model, ("out",))  # seeded by fresh_or_loaded, the same on every rank
    net = ddp(model, dist)
    # vislab's PixelCNN trainer: Adam at a constant rate, no augmentation
    opt = make_optimizer("adam", net.parameters(), args.lr)
    # the test split is binarized once (the same on every rank), training batches every epoch
    test_x = binarize(test_x, args.binarize, torch.Generator().manual_seed(args.seed))
    g = torch.Generator().manual_seed(args.seed * 7919 + dist.rank)
    pixels = model.side * model.side
    steps = math.ceil(len(train_x) / args.batch)
    os.makedirs(args.out, exist_ok=True)
    header = ["epoch", "train_nll_nats", "train_bits_per_dim", "test_nll_nats", "test_bits_per_dim", "seconds"]
    csv_out = MetricsCsv(os.path.join(args.out, "metrics.csv"), header) if dist.main else None
    log(dist, f"training pixelcnn on {len(train_x)} images for {args.epochs} epochs over {dist.world} processes: adam lr {args.lr}, global batch {args.batch}, binarize {args.binarize}")
    for epoch in range(1, args.epochs + 1):
        t0 = time.time()
        seen, nll_sum = 0, 0.0
        for idx in batches(len(train_x), args.batch, args.seed, epoch, dist):
            x = binarize(train_x[idx], args.binarize, g).to(dist.device)
            # through the DDP wrapper, so the gradients are averaged over the ranks
            loss = nll_of(net(x), x)
            optimize(loss, opt)
            seen += len(idx)
            nll_sum += loss.item() * len(idx)
        train_nll = all_mean(dist, nll_sum, seen)
        test_nll = evaluate(model, test_x, dist)
        seconds = time.time() - t0
        log(
            dist,
            f"epoch {epoch}/{args.epochs}: train nll {train_nll:.3f} nats ({bits_per_dim(train_nll, pixels):.4f} bits/dim), "
            f"test nll {test_nll:.3f} nats ({bits_per_dim(test_nll, pixels):.4f} bits/dim), {seconds:.1f} s",
        )
        if csv_out:
            csv_out.row([epoch, f"{train_nll:.4f}", f"{bits_per_dim(train_nll, pixels):.5f}", f"{test_nll:.4f}", f"{bits_per_dim(test_nll, pixels):.5f}", f"{seconds:.3f}"])
    if dist.main:
        path = os.path.join(args.out, "model.safetensors")
        meta = {"vislab.pixelcnn.binarize": args.binarize, "epoch": args.epochs, "step": steps * args.epochs}
        save_checkpoint(path, model, meta, args, ("data", "epochs", "batch", "lr", "seed", "limit", "binarize"))
        print(f"test_nll_nats {test_nll:.4f} test_bits_per_dim {bits_per_dim(test_nll, pixels):.5f}")
        print(f"wrote {path}; score it in vislab with: vislab eval --checkpoint {path}")
    finish(dist)


if __name__ == "__main__":
    main()
