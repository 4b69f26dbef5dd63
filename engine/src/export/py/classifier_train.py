

# ---- the classifier's training loop ---------------------------------------------


def evaluate(model, x, y, dist, batch=1000):
    """Test loss and accuracy over the whole split, each rank scoring its share."""
    sync_buffers(model, dist)
    model.eval()
    loss, correct = 0.0, 0
    share = torch.arange(len(x)).tensor_split(dist.world)[dist.rank]
    with torch.no_grad():
        for idx in share.split(batch):
            logits = model(x[idx].to(dist.device))
            target = y[idx].to(dist.device)
            loss += torch.nn.functional.cross_entropy(logits, target, reduction="sum").item()
            correct += (logits.argmax(1) == target).sum().item()
    model.train()
    return all_mean(dist, loss, len(share)), all_mean(dist, correct, len(share))


def main():
    p = parser()
    p.add_argument("--optimizer", default=recipe("optimizer", "adam"))
    p.add_argument("--schedule", default=recipe("schedule", "cosine"))
    p.add_argument("--augment", default=recipe("augment", "none"), help="crop=S,flip,shift=PX,rotate=DEG,cutout=PX or none")
    p.add_argument("--l2", type=float, default=float(recipe("l2", 0)), help="the training lab's L2 strength: loss + L2 * sum of squared weights (not biases or norm scales)")
    args = p.parse_args()
    dist = setup()
    train_x, train_y, test_x, test_y = load_images(args)
    model = fresh_or_loaded(args, dist)
    if not args.init:
        kaiming_init(model, (model.head,))  # vislab's start; seeded alike on every rank
    net = ddp(model, dist)
    opt = make_optimizer(args.optimizer, net.parameters(), args.lr)
    steps = math.ceil(len(train_x) / args.batch)
    sched = make_schedule(opt, args.schedule, steps, steps * args.epochs)
    aug = parse_augment("" if args.augment == "none" else args.augment)
    g = torch.Generator().manual_seed(args.seed * 7919 + dist.rank)
    os.makedirs(args.out, exist_ok=True)
    csv_out = MetricsCsv(os.path.join(args.out, "metrics.csv"), ["epoch", "train_loss", "train_acc", "test_loss", "test_acc", "lr"]) if dist.main else None
    log(dist, f"training {CONFIG['vislab.arch']} on {len(train_x)} images for {args.epochs} epochs over {dist.world} processes, global batch {args.batch}")
    for epoch in range(1, args.epochs + 1):
        seen, loss_sum, correct = 0, 0.0, 0
        for idx in batches(len(train_x), args.batch, args.seed, epoch, dist):
            x = augment(train_x[idx], aug, g).to(dist.device)
            y = train_y[idx].to(dist.device)
            logits = net(x)
            loss = torch.nn.functional.cross_entropy(logits, y)
            if args.l2 > 0:
                loss = loss + args.l2 * sum(w.square().sum() for w in model.parameters() if w.dim() >= 2)
            optimize(loss, opt, sched)
            seen += len(idx)
            loss_sum += loss.item() * len(idx)
            correct += (logits.argmax(1) == y).sum().item()
        train_loss, train_acc = all_mean(dist, loss_sum, seen), all_mean(dist, correct, seen)
        test_loss, test_acc = evaluate(model, test_x, test_y, dist)
        log(dist, f"epoch {epoch}/{args.epochs}: train loss {train_loss:.4f} acc {train_acc:.4f}, test loss {test_loss:.4f} acc {test_acc:.4f}")
        if csv_out:
            csv_out.row([epoch, f"{train_loss:.6f}", f"{train_acc:.6f}", f"{test_loss:.6f}", f"{test_acc:.6f}", f"{sched.get_last_lr()[0]:.6g}"])
    if dist.main:
        path = os.path.join(args.out, "model.safetensors")
        save_checkpoint(path, model, {"epoch": args.epochs, "step": steps * args.epochs}, args, ("data", "epochs", "batch", "lr", "seed", "limit", "optimizer", "schedule", "augment"))
        print(f"test_acc {test_acc} test_loss {test_loss}")
        print(f"wrote {path}; score it in vislab with: vislab eval --checkpoint {path} --data {args.data}")
    finish(dist)


if __name__ == "__main__":
    main()
