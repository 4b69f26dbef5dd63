//! From raw head values to detections: per anchor, score = sigmoid(objectness)
//! x the top class probability, kept above a score threshold, boxes decoded
//! from their codes and clipped to the image, then class-wise greedy NMS
//! (the engine's). And the COCO evaluation of detections against the objects.

use crate::detection::scene::Object;
use crate::detection::{BBox, ScoredBox, nms};
use crate::metrics::coco::{Annotation, Category, Detection, Evaluation, GroundTruth, Image, evaluate_full};

use super::DetectorError;
use super::anchors::{AnchorGrid, decode};
use super::data::CLASSES;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DecodeConfig {
    pub score_threshold: f64,
    pub nms_iou: f64,
    /// Most detections kept per image (COCO counts 100).
    pub max_detections: usize,
}

impl Default for DecodeConfig {
    fn default() -> Self {
        DecodeConfig { score_threshold: 0.05, nms_iou: 0.5, max_detections: 100 }
    }
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// Detections of one image from its raw values `[A, 5 + C, G, G]`
/// (categories 1..=C, `image_id` as given), highest score first.
pub fn detections(raw: &[f32], grid: &AnchorGrid, classes: usize, cfg: &DecodeConfig, image_id: i64) -> Vec<ScoredBox> {
    let (cells, per) = (grid.cells(), 5 + classes);
    let size = grid.image as f64;
    let mut out = Vec::new();
    for k in 0..grid.len() {
        let (a, cell) = (k / cells, k % cells);
        let at = |c: usize| raw.get((a * per + c) * cells + cell).map_or(0.0, |&v| v as f64);
        let obj = sigmoid(at(0));
        // softmax over the class logits, stably
        let logits: Vec<f64> = (0..classes).map(|c| at(5 + c)).collect();
        let m = logits.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let z: f64 = logits.iter().map(|l| (l - m).exp()).sum();
        let (best, top) = logits.iter().enumerate().fold((0, f64::NEG_INFINITY), |b, (c, &l)| if l > b.1 { (c, l) } else { b });
        let score = obj * (top - m).exp() / z;
        if !(score > cfg.score_threshold) {
            continue;
        }
        let b = decode(&grid.anchor(k), [at(1), at(2), at(3), at(4)]);
        let (x0, y0) = (b.x.clamp(0.0, size), b.y.clamp(0.0, size));
        let (x1, y1) = (b.x1().clamp(0.0, size), b.y1().clamp(0.0, size));
        if x1 > x0 && y1 > y0 {
            out.push(ScoredBox { bbox: BBox::new(x0, y0, x1 - x0, y1 - y0), score, category: best as i64 + 1, image_id });
        }
    }
    let kept = nms(&out, cfg.nms_iou, true);
    kept.into_iter().take(cfg.max_detections).map(|i| out[i]).collect()
}

/// The COCO evaluation of per-image detections (image ids 1..) against
/// the objects of those images.
pub fn evaluate(objects: &[Vec<Object>], dets: &[Vec<ScoredBox>]) -> Result<Evaluation, DetectorError> {
    let gt = GroundTruth {
        images: (1..=objects.len() as i64).map(|id| Image { id }).collect(),
        categories: CLASSES.iter().enumerate().map(|(k, n)| Category { id: k as i64 + 1, name: (*n).to_owned() }).collect(),
        annotations: objects
            .iter()
            .enumerate()
            .flat_map(|(i, objs)| {
                objs.iter().map(move |o| Annotation { image_id: i as i64 + 1, category_id: o.category, bbox: o.bbox.as_array(), area: o.bbox.area(), iscrowd: false })
            })
            .collect(),
    };
    let dts: Vec<Detection> = dets.iter().flatten().map(|d| Detection { image_id: d.image_id, category_id: d.category, bbox: d.bbox.as_array(), score: d.score }).collect();
    Ok(evaluate_full(&gt, &dts)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detection::detector::anchors::{MatchConfig, assign, encode};

    /// Raw values that say exactly the targets: objectness +-8, codes, class logit 8 vs 0.
    fn perfect_raw(grid: &AnchorGrid, objects: &[Object], classes: usize) -> Vec<f32> {
        let t = assign(grid, objects, classes, &MatchConfig::default());
        let (cells, per) = (grid.cells(), 5 + classes);
        let mut raw = vec![0f32; grid.sizes.len() * per * cells];
        for k in 0..grid.len() {
            let (a, cell) = (k / cells, k % cells);
            raw[(a * per) * cells + cell] = -8.0;
            if let Some(o) = t.matched[k] {
                raw[(a * per) * cells + cell] = 8.0;
                for (c, v) in encode(&grid.anchor(k), &objects[o].bbox).into_iter().enumerate() {
                    raw[(a * per + 1 + c) * cells + cell] = v as f32;
                }
                raw[(a * per + 5 + objects[o].category as usize - 1) * cells + cell] = 8.0;
            }
        }
        raw
    }

    #[test]
    fn decoding_targets_gives_the_objects_and_map_one() {
        let grid = AnchorGrid::new(32, 8, 3);
        let objects = vec![
            vec![Object { bbox: BBox::new(2.0, 3.0, 10.0, 9.0), category: 1 }, Object { bbox: BBox::new(18.0, 16.0, 12.0, 14.0), category: 3 }],
            vec![Object { bbox: BBox::new(9.0, 9.0, 8.0, 8.0), category: 2 }],
        ];
        let dets: Vec<Vec<ScoredBox>> = objects.iter().enumerate().map(|(i, o)| detections(&perfect_raw(&grid, o, 3), &grid, 3, &DecodeConfig::default(), i as i64 + 1)).collect();
        // NMS leaves one box per object (several anchors may match one object: same box)
        assert_eq!(dets[0].len(), 2);
        assert_eq!(dets[1].len(), 1);
        for (d, o) in dets.iter().zip(&objects) {
            for det in d {
                let obj = o.iter().find(|x| x.category == det.category).unwrap();
                assert!(det.bbox.iou(&obj.bbox) > 0.9999, "{det:?} vs {obj:?}");
                assert!(det.score > 0.99);
            }
        }
        let e = evaluate(&objects, &dets).unwrap();
        assert!((e.stats[0] - 1.0).abs() < 1e-12 && (e.stats[1] - 1.0).abs() < 1e-12, "{:?}", e.stats);
        // the score threshold drops everything at 1
        assert!(detections(&perfect_raw(&grid, &objects[0], 3), &grid, 3, &DecodeConfig { score_threshold: 1.0, ..DecodeConfig::default() }, 1).is_empty());
    }
}
