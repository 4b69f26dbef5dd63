

# ---- the detector's training loop ---------------------------------------------
# vislab draws its synthetic shapes itself, so they come in data.safetensors:
# the training images with the anchor targets vislab assigned them, and the
# held-out images with their boxes.

from model import coco_ap, detect, loss  # noqa: E402

TARGETS = ("objectness", "weight", "boxes", "box_mask", "classes")


def held_out_ap(model, x, truth, dist, batch=64):
    """COCO AP, AP50, AP75 on the held-out images (scored on rank 0, which
    sends the numbers to the others)."""
    result = torch.zeros(3, dtype=torch.float64)
    if dist.main:
        model.eval()
        with torch.no_grad():
            raw = torch.cat([model(x[i : i + batch].to(dist.device)).cpu() for i in range(0, len(x), batch)])
        model.train()
        result = torch.tensor(coco_ap(detect(raw), truth, int(CONFIG["vislab.detector.classes"])), dtype=torch.float64)
    if dist.world > 1:
        torch_dist.broadcast(result, 0)
    return result.tolist()


def main():
    p = parser()
    p.add_argument("--optimizer", default="adam", help="vislab's detector trains with Adam at a constant rate")
    args = p.parse_args()
    dist = setup()
    t = load_file(os.path.join(HERE, "data.safetensors"))
    train_x, test_x, truth = t["train.x"], t["test.x"], t["test.boxes"]
    targets = {k: t["train." + k] for k in TARGETS}
    if args.limit:
        train_x = train_x[: args.limit]
    model = fresh_or_loaded(args, dist)
    if not args.init:
        # vislab's start, objectness biases at -4 (sigmoid about the share of
        # positive anchors), so the first steps are not spent unlearning "object everywhere"
        kaiming_init(model, ("head",), torch.Generator().manual_seed(args.seed))
        with torch.no_grad():
            model.head.bias.view(model.anchors, -1)[:, 0] = -4.0
    net = ddp(model, dist)
    opt = make_optimizer(args.optimizer, net.parameters(), args.lr)
    box_weight = float(CONFIG["vislab.detector.box_weight"])
    os.makedirs(args.out, exist_ok=True)
    header = ["epoch", "loss", "loss_objectness", "loss_class", "loss_box", "ap", "ap50", "ap75"]
    csv_out = MetricsCsv(os.path.join(args.out, "metrics.csv"), header) if dist.main else None
    log(dist, f"training the detector on {len(train_x)} images for {args.epochs} epochs over {dist.world} processes, global batch {args.batch}")
    for epoch in range(1, args.epochs + 1):
        sums, seen = torch.zeros(4, dtype=torch.float64), 0
        for idx in batches(len(train_x), args.batch, args.seed, epoch, dist):
            raw = net(train_x[idx].to(dist.device))
            terms = loss(raw, {k: v[idx].to(dist.device) for k, v in targets.items()}, box_weight)
            optimize(terms[0], opt)
            sums += torch.tensor([v.item() for v in terms], dtype=torch.float64) * len(idx)
            seen += len(idx)
        mean = [all_mean(dist, float(s), seen) for s in sums]
        ap = held_out_ap(model, test_x, truth, dist)
        log(dist, f"epoch {epoch}/{args.epochs}: loss {mean[0]:.4f}, held-out AP {ap[0]:.4f} AP50 {ap[1]:.4f} AP75 {ap[2]:.4f}")
        if csv_out:
            csv_out.row([epoch, *(f"{v:.5f}" for v in mean), *(f"{v:.4f}" for v in ap)])
    if dist.main:
        path = os.path.join(args.out, "model.safetensors")
        save_checkpoint(path, model, {"epoch": args.epochs}, args, ("epochs", "batch", "lr", "seed"))
        print(f"ap {ap[0]:.4f} ap50 {ap[1]:.4f} ap75 {ap[2]:.4f}")
        print(f"wrote {path}; score it in vislab with: vislab eval --checkpoint {path}")
    finish(dist)


if __name__ == "__main__":
    main()
