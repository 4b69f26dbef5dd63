//! Seeded detection scenes: a few objects (discs, squares, diamonds) on a
//! picture, and a detector's raw output around them (clusters of jittered,
//! overlapping boxes scored by how well they fit, plus low-scoring false
//! positives), which NMS then thins out. `coco_example` turns several such
//! scenes into a COCO ground truth and a results file for mAP.

use serde_json::{Value, json};

use super::{BBox, ScoredBox, nms};
use crate::metrics::coco::{Annotation, Category, Detection, GroundTruth, Image};
use crate::rng::SeededRng;

/// Category ids and names of the scene's objects.
pub const CATEGORIES: [(i64, &str); 3] = [(1, "disc"), (2, "square"), (3, "diamond")];

/// Name of a category id ("category 7" for one not in `CATEGORIES`).
pub fn category_name(id: i64) -> String {
    CATEGORIES.iter().find(|(c, _)| *c == id).map_or_else(|| format!("category {id}"), |(_, n)| (*n).to_owned())
}

#[derive(Clone, Debug, PartialEq)]
pub struct SceneSpec {
    pub seed: u64,
    pub objects: usize,
    /// Detector boxes in all (the first `objects` of them one per object).
    pub boxes: usize,
    pub width: f64,
    pub height: f64,
    /// Object sides as fractions of the shorter image side, low and high.
    pub sizes: [f64; 2],
    pub image_id: i64,
}

impl Default for SceneSpec {
    fn default() -> Self {
        SceneSpec { seed: 1, objects: 4, boxes: 24, width: 640.0, height: 480.0, sizes: [0.18, 0.32], image_id: 1 }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Object {
    pub bbox: BBox,
    pub category: i64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Scene {
    pub width: f64,
    pub height: f64,
    pub objects: Vec<Object>,
    pub boxes: Vec<ScoredBox>,
}

/// Share of the boxes beyond one per object that are false positives.
const FALSE_POSITIVES: f64 = 0.15;
/// Chance that a box on an object carries another object's class.
const WRONG_CLASS: f64 = 0.08;
/// Box jitter: standard deviation of the centre offset (fraction of the
/// object's side) and of the log of each side's scale.
const JITTER: f64 = 0.12;

/// Round to one decimal, as a detector's pixel boxes would be printed.
fn tenth(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

fn random_box(rng: &mut SeededRng, spec: &SceneSpec) -> BBox {
    let short = spec.width.min(spec.height);
    let side = rng.uniform_in(spec.sizes[0], spec.sizes[1]) * short;
    let aspect = rng.uniform_in(-0.3, 0.3).exp();
    let (w, h) = ((side * aspect).min(spec.width), (side / aspect).min(spec.height));
    BBox::new(tenth(rng.uniform_in(0.0, spec.width - w)), tenth(rng.uniform_in(0.0, spec.height - h)), tenth(w), tenth(h))
}

/// `b` cut to the image.
fn clip(b: BBox, width: f64, height: f64) -> BBox {
    let (x0, y0) = (b.x.clamp(0.0, width), b.y.clamp(0.0, height));
    let (x1, y1) = (b.x1().clamp(0.0, width), b.y1().clamp(0.0, height));
    BBox::new(tenth(x0), tenth(y0), tenth(x1 - x0), tenth(y1 - y0))
}

pub fn generate(spec: &SceneSpec) -> Scene {
    let mut rng = SeededRng::new(spec.seed);
    let mut objects: Vec<Object> = Vec::with_capacity(spec.objects);
    for _ in 0..spec.objects {
        // objects apart where possible: a few tries for one that overlaps nothing
        let mut b = random_box(&mut rng, spec);
        for _ in 0..50 {
            if objects.iter().all(|o| o.bbox.intersection(&b).is_none()) {
                break;
            }
            b = random_box(&mut rng, spec);
        }
        let category = CATEGORIES[rng.below(CATEGORIES.len())].0;
        objects.push(Object { bbox: b, category });
    }
    let mut boxes = Vec::with_capacity(spec.boxes);
    for i in 0..spec.boxes {
        let target = if i < objects.len() {
            Some(i)
        } else if objects.is_empty() || rng.uniform() < FALSE_POSITIVES {
            None
        } else {
            Some(rng.below(objects.len()))
        };
        let scored = match target.and_then(|o| objects.get(o)) {
            Some(o) => {
                let ob = o.bbox;
                let (cx, cy) = (ob.x + ob.w / 2.0 + rng.normal() * JITTER * ob.w, ob.y + ob.h / 2.0 + rng.normal() * JITTER * ob.h);
                let (w, h) = (ob.w * (rng.normal() * JITTER).exp(), ob.h * (rng.normal() * JITTER).exp());
                let bbox = clip(BBox::new(cx - w / 2.0, cy - h / 2.0, w, h), spec.width, spec.height);
                // a better fit scores higher, with some noise
                let score = (0.35 + 0.6 * bbox.iou(&ob) + rng.normal() * 0.05).clamp(0.02, 0.99);
                let category = if rng.uniform() < WRONG_CLASS { CATEGORIES[rng.below(CATEGORIES.len())].0 } else { o.category };
                ScoredBox { bbox, score, category, image_id: spec.image_id }
            }
            None => {
                let bbox = random_box(&mut rng, spec);
                let score = rng.uniform_in(0.05, 0.45);
                ScoredBox { bbox, score, category: CATEGORIES[rng.below(CATEGORIES.len())].0, image_id: spec.image_id }
            }
        };
        boxes.push(ScoredBox { score: (scored.score * 1000.0).round() / 1000.0, ..scored });
    }
    Scene { width: spec.width, height: spec.height, objects, boxes }
}

/// The scene drawn as planar RGB in [0, 1] (`[3, px_h, px_w]`): sky and
/// ground, each object filling its box (disc red, square yellow, diamond blue).
pub fn picture(scene: &Scene, px_w: usize, px_h: usize) -> Vec<f32> {
    let plane = px_w * px_h;
    let mut out = vec![0.0f32; 3 * plane];
    let (sx, sy) = (scene.width / px_w.max(1) as f64, scene.height / px_h.max(1) as f64);
    for j in 0..px_h {
        for i in 0..px_w {
            let (x, y) = ((i as f64 + 0.5) * sx, (j as f64 + 0.5) * sy);
            let t = y / scene.height.max(1.0);
            let mut c = if t < 0.6 {
                [0.55 + 0.3 * t, 0.68 + 0.25 * t, 0.86 + 0.1 * t]
            } else {
                // ground with a faint checker so motion over it is visible
                let check = if ((x / 40.0).floor() + (y / 40.0).floor()) as i64 % 2 == 0 { 0.03 } else { 0.0 };
                [0.42 + check, 0.52 + check, 0.34 + check]
            };
            for o in &scene.objects {
                if let Some(fill) = shape_color(o, x, y) {
                    c = fill;
                }
            }
            for (k, v) in c.iter().enumerate() {
                out[k * plane + j * px_w + i] = v.clamp(0.0, 1.0) as f32;
            }
        }
    }
    out
}

/// Colour of the object's shape at (x, y), or `None` outside it; a darker
/// rim near the outline.
fn shape_color(o: &Object, x: f64, y: f64) -> Option<[f64; 3]> {
    let b = o.bbox;
    if b.w <= 0.0 || b.h <= 0.0 {
        return None;
    }
    // u, v in [-1, 1] across the box
    let (u, v) = ((x - b.x) / b.w * 2.0 - 1.0, (y - b.y) / b.h * 2.0 - 1.0);
    let (r, base) = match o.category {
        1 => ((u * u + v * v).sqrt(), [0.85, 0.28, 0.24]),
        2 => (u.abs().max(v.abs()), [0.95, 0.78, 0.2]),
        _ => (u.abs() + v.abs(), [0.28, 0.36, 0.82]),
    };
    if r > 1.0 {
        return None;
    }
    let shade = if r > 0.9 { 0.6 } else { 1.0 - 0.15 * r };
    Some(base.map(|c| c * shade))
}

/// A COCO ground truth and a results file from `images` scenes (image ids
/// 1..): each scene's objects are the ground truth, its boxes after
/// class-wise NMS at IoU 0.5 the detections. Object sides from 4% to 30% of
/// the image, so small, medium and large objects all occur.
pub fn coco_example(seed: u64, images: usize) -> (GroundTruth, Vec<Detection>) {
    let mut gt = GroundTruth {
        images: (1..=images as i64).map(|id| Image { id }).collect(),
        categories: CATEGORIES.iter().map(|&(id, name)| Category { id, name: name.to_owned() }).collect(),
        annotations: Vec::new(),
    };
    let mut dets = Vec::new();
    for k in 0..images {
        let objects = 2 + k % 4;
        let spec =
            SceneSpec { seed: seed.wrapping_mul(1000).wrapping_add(k as u64), objects, boxes: objects * 4, sizes: [0.04, 0.3], image_id: k as i64 + 1, ..SceneSpec::default() };
        let scene = generate(&spec);
        for o in &scene.objects {
            gt.annotations.push(Annotation { image_id: spec.image_id, category_id: o.category, bbox: o.bbox.as_array(), area: o.bbox.area(), iscrowd: false });
        }
        for i in nms(&scene.boxes, 0.5, true) {
            let b = scene.boxes[i];
            dets.push(Detection { image_id: b.image_id, category_id: b.category, bbox: b.bbox.as_array(), score: b.score });
        }
    }
    (gt, dets)
}

/// The pair as the two JSON files pycocotools (or `vislab metrics coco-map`) reads.
pub fn coco_example_json(seed: u64, images: usize) -> (String, String) {
    let (gt, dets) = coco_example(seed, images);
    let annotations: Vec<Value> = gt
        .annotations
        .iter()
        .enumerate()
        .map(|(i, a)| json!({"id": i + 1, "image_id": a.image_id, "category_id": a.category_id, "bbox": a.bbox, "area": a.area, "iscrowd": 0}))
        .collect();
    let gt_json = json!({
        "images": gt.images.iter().map(|i| json!({"id": i.id})).collect::<Vec<_>>(),
        "categories": gt.categories.iter().map(|c| json!({"id": c.id, "name": c.name})).collect::<Vec<_>>(),
        "annotations": annotations,
    });
    let dt_json: Vec<Value> = dets.iter().map(|d| json!({"image_id": d.image_id, "category_id": d.category_id, "bbox": d.bbox, "score": d.score})).collect();
    (gt_json.to_string(), Value::Array(dt_json).to_string())
}
