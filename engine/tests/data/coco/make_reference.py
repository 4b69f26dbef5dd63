"""Reference numbers for engine/tests/metrics_coco.rs, computed by pycocotools.

How the committed files were produced:
    python3 -m venv /work/venv-coco
    /work/venv-coco/bin/pip install pycocotools numpy
    cd engine/tests/data/coco && /work/venv-coco/bin/python make_reference.py
It writes case{N}_gt.json, case{N}_dt.json (random but seeded cases) and
case{N}_expected.json (COCOeval(gt, dt, "bbox").stats after evaluate,
accumulate, summarize, plus the pycocotools version).
"""

import json
import random

import numpy as np
from importlib.metadata import version
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval


def jitter(rng, box, amount):
    x, y, w, h = box
    return [
        max(0.0, x + rng.uniform(-amount, amount) * w),
        max(0.0, y + rng.uniform(-amount, amount) * h),
        max(1.0, w * (1 + rng.uniform(-amount, amount))),
        max(1.0, h * (1 + rng.uniform(-amount, amount))),
    ]


def make_case(seed, n_images, n_cats, max_gt, crowd_rate, score_decimals, burst=0):
    rng = random.Random(seed)
    images = [{"id": 10 + 3 * i, "width": 640, "height": 480} for i in range(n_images)]
    categories = [{"id": 1 + 2 * c, "name": f"c{c}"} for c in range(n_cats)]
    anns, dets = [], []
    for img in images:
        for _ in range(rng.randint(0, max_gt)):
            # Sizes spanning small, medium and large.
            side = rng.choice([rng.uniform(8, 30), rng.uniform(35, 90), rng.uniform(100, 300)])
            w, h = side * rng.uniform(0.6, 1.4), side * rng.uniform(0.6, 1.4)
            box = [rng.uniform(0, 640 - w), rng.uniform(0, 480 - h), w, h]
            cat = rng.choice(categories)["id"]
            crowd = 1 if rng.random() < crowd_rate else 0
            # The area field is not the box area (as for segmentation areas).
            anns.append({"id": len(anns) + 1, "image_id": img["id"], "category_id": cat, "bbox": box,
                         "area": w * h * rng.uniform(0.5, 1.0), "iscrowd": crowd})
            for _ in range(rng.choice([0, 1, 1, 2, 3])):
                dets.append({"image_id": img["id"], "category_id": cat, "bbox": jitter(rng, box, rng.choice([0.02, 0.08, 0.25])),
                             "score": round(rng.random(), score_decimals)})
        for _ in range(rng.randint(0, 4)):  # false positives, some in a category without ground truth
            w, h = rng.uniform(5, 200), rng.uniform(5, 200)
            dets.append({"image_id": img["id"], "category_id": rng.choice(categories)["id"],
                         "bbox": [rng.uniform(0, 400), rng.uniform(0, 300), w, h],
                         "score": round(rng.random(), score_decimals)})
    # Many low-scored boxes on the first image, past the 100 detections kept per image and category.
    for _ in range(burst):
        dets.append({"image_id": images[0]["id"], "category_id": categories[0]["id"],
                     "bbox": [rng.uniform(0, 400), rng.uniform(0, 300), rng.uniform(5, 200), rng.uniform(5, 200)],
                     "score": round(rng.uniform(0.0, 0.3), score_decimals)})
    return {"images": images, "categories": categories, "annotations": anns}, dets


def main():
    cases = [
        make_case(seed=1, n_images=4, n_cats=2, max_gt=5, crowd_rate=0.1, score_decimals=6),
        make_case(seed=2, n_images=8, n_cats=3, max_gt=8, crowd_rate=0.15, score_decimals=1),  # many tied scores
        make_case(seed=3, n_images=20, n_cats=4, max_gt=12, crowd_rate=0.05, score_decimals=4, burst=130),
    ]
    for n, (gt, dt) in enumerate(cases, start=1):
        with open(f"case{n}_gt.json", "w") as f:
            json.dump(gt, f)
        with open(f"case{n}_dt.json", "w") as f:
            json.dump(dt, f)
        coco_gt = COCO(f"case{n}_gt.json")
        coco_dt = coco_gt.loadRes(f"case{n}_dt.json")
        ev = COCOeval(coco_gt, coco_dt, "bbox")
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
        with open(f"case{n}_expected.json", "w") as f:
            json.dump({"pycocotools": version("pycocotools"),
                       "numpy": np.__version__, "stats": [float(s) for s in ev.stats]}, f, indent=1)


if __name__ == "__main__":
    main()
