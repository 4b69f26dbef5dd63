//! COCO box-detection mAP, following pycocotools' `COCOeval` (iouType
//! "bbox") rule for rule, so that the twelve numbers agree with it:
//! - IoU thresholds 0.50:0.05:0.95, recall thresholds 0:0.01:1 (101-point
//!   interpolated precision over the monotone precision envelope);
//! - area ranges all / small (< 32^2) / medium / large (> 96^2) by the ground
//!   truth's `area` field (bounds inclusive), detections by box w * h;
//! - at most 1 / 10 / 100 detections per image and category, highest score first;
//! - greedy matching by score per image and category; a crowd ground truth
//!   (`iscrowd` 1) may match many detections, which are then ignored, and its
//!   IoU uses the detection's area as the union;
//! - -1 where a number is undefined (no ground truth in that area range).
//!
//! Detections whose category is not in the ground truth are dropped, as
//! pycocotools does; a detection on an image the ground truth lacks is an error.

use std::collections::HashMap;

use serde::Deserialize;

use super::MetricsError;

/// Names of the twelve numbers, in pycocotools' `stats` order.
pub const STAT_NAMES: [&str; 12] = ["AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm", "ARl"];

pub const CONVENTION: &str = "pycocotools COCOeval, iouType bbox: AP averaged over IoU 0.50:0.05:0.95 \
and 101 recall points of the precision envelope; areas small < 32^2 <= medium <= 96^2 < large from the \
ground truth's area field; maxDets 1/10/100; crowd ground truth ignores its matches; -1 when undefined";

/// pycocotools' area ranges (all, small, medium, large), bounds inclusive.
const AREA_RANGES: [(f64, f64); 4] = [(0.0, 1e10), (0.0, 1024.0), (1024.0, 9216.0), (9216.0, 1e10)];
const MAX_DETS: [usize; 3] = [1, 10, 100];
const IOU_STEPS: usize = 10;
const RECALL_STEPS: usize = 101;

/// A COCO ground-truth file: only the fields box evaluation reads.
#[derive(Clone, Debug, Deserialize)]
pub struct GroundTruth {
    pub images: Vec<Image>,
    pub categories: Vec<Category>,
    pub annotations: Vec<Annotation>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Image {
    pub id: i64,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Category {
    pub id: i64,
    /// Optional in the file; only labels plots.
    #[serde(default)]
    pub name: String,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Annotation {
    pub image_id: i64,
    pub category_id: i64,
    /// x, y, width, height.
    pub bbox: [f64; 4],
    pub area: f64,
    /// 0 or 1 in COCO files; `true`/`false` are read too, as pycocotools' `int()` does.
    #[serde(default, deserialize_with = "crowd_flag")]
    pub iscrowd: bool,
}

fn crowd_flag<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Flag {
        Int(i64),
        Bool(bool),
    }
    Ok(match Flag::deserialize(d)? {
        Flag::Int(i) => i != 0,
        Flag::Bool(b) => b,
    })
}

/// One entry of a COCO results file.
#[derive(Clone, Debug, Deserialize)]
pub struct Detection {
    pub image_id: i64,
    pub category_id: i64,
    pub bbox: [f64; 4],
    pub score: f64,
}

pub fn parse_ground_truth(text: &str) -> Result<GroundTruth, MetricsError> {
    serde_json::from_str(text).map_err(|e| MetricsError::Coco(format!("ground truth: {e}")))
}

pub fn parse_detections(text: &str) -> Result<Vec<Detection>, MetricsError> {
    serde_json::from_str(text).map_err(|e| MetricsError::Coco(format!("detections (a JSON list of results): {e}")))
}

/// Parse both files and evaluate them.
pub fn evaluate_json(gt: &str, dt: &str) -> Result<[f64; 12], MetricsError> {
    evaluate(&parse_ground_truth(gt)?, &parse_detections(dt)?)
}

#[derive(Clone, Copy, Debug)]
struct GtBox {
    bbox: [f64; 4],
    area: f64,
    crowd: bool,
}

#[derive(Clone, Copy, Debug)]
struct DtBox {
    bbox: [f64; 4],
    score: f64,
}

/// One image and category under one area range, after matching
/// (pycocotools' `evaluateImg` result).
struct ImageEval {
    /// Scores of the kept detections, highest first.
    scores: Vec<f64>,
    /// `[threshold][detection]`.
    matched: Vec<Vec<bool>>,
    ignored: Vec<Vec<bool>>,
    /// Ground truths that count (not crowd, inside the area range).
    counted_gt: usize,
}

/// The twelve COCO numbers (see `STAT_NAMES`).
pub fn evaluate(gt: &GroundTruth, dts: &[Detection]) -> Result<[f64; 12], MetricsError> {
    evaluate_full(gt, dts).map(|e| e.stats)
}

/// Everything `evaluate` computes: the twelve numbers and the precision
/// and recall arrays they are averaged from (pycocotools' `eval['precision']`
/// and `eval['recall']`).
#[derive(Clone, Debug)]
pub struct Evaluation {
    pub stats: [f64; 12],
    /// Category ids, sorted: the `k` index of the arrays.
    pub categories: Vec<i64>,
    /// `[t][r][k][a][m]` flattened; -1 where undefined.
    precision: Vec<f64>,
    /// `[t][k][a][m]` flattened; -1 where undefined.
    recall: Vec<f64>,
}

impl Evaluation {
    /// IoU thresholds 0.50, 0.55, ..., 0.95 (the `t` index).
    pub fn iou_thresholds() -> Vec<f64> {
        linspace(0.5, 0.95, IOU_STEPS)
    }

    /// Recall thresholds 0.00, 0.01, ..., 1.00 (the `r` index).
    pub fn recall_thresholds() -> Vec<f64> {
        linspace(0.0, 1.0, RECALL_STEPS)
    }

    /// Interpolated precision at the 101 recall thresholds for IoU threshold
    /// index `t` and category index `k`, area "all", 100 detections; `None`
    /// for indices out of range or a category with no ground truth (-1 in
    /// pycocotools).
    pub fn precision_curve(&self, t: usize, k: usize) -> Option<Vec<f64>> {
        let (nk, na, nm) = (self.categories.len(), AREA_RANGES.len(), MAX_DETS.len());
        if t >= IOU_STEPS || k >= nk {
            return None;
        }
        let curve: Vec<f64> = (0..RECALL_STEPS).map(|r| self.precision[(((t * RECALL_STEPS + r) * nk + k) * na) * nm + nm - 1]).collect();
        curve.iter().all(|&p| p > -1.0).then_some(curve)
    }

    /// Recall reached at IoU threshold index `t` for category index `k`
    /// (area "all", 100 detections); `None` when undefined.
    pub fn recall(&self, t: usize, k: usize) -> Option<f64> {
        let (nk, na, nm) = (self.categories.len(), AREA_RANGES.len(), MAX_DETS.len());
        (t < IOU_STEPS && k < nk).then(|| self.recall[((t * nk + k) * na) * nm + nm - 1]).filter(|&r| r > -1.0)
    }

    /// One category's AP: the mean of its precision curve at IoU threshold
    /// index `t`, or over all ten thresholds for `None`.
    pub fn class_ap(&self, k: usize, t: Option<usize>) -> Option<f64> {
        let curves: Vec<Vec<f64>> = (0..IOU_STEPS).filter(|&ti| t.is_none_or(|t| t == ti)).map(|ti| self.precision_curve(ti, k)).collect::<Option<_>>()?;
        let n = curves.iter().map(Vec::len).sum::<usize>();
        (n > 0).then(|| curves.iter().flatten().sum::<f64>() / n as f64)
    }
}

/// `evaluate`, keeping the precision and recall arrays.
pub fn evaluate_full(gt: &GroundTruth, dts: &[Detection]) -> Result<Evaluation, MetricsError> {
    let mut img_ids: Vec<i64> = gt.images.iter().map(|i| i.id).collect();
    let mut cat_ids: Vec<i64> = gt.categories.iter().map(|c| c.id).collect();
    img_ids.sort_unstable();
    img_ids.dedup();
    cat_ids.sort_unstable();
    cat_ids.dedup();
    let img_index: HashMap<i64, usize> = img_ids.iter().enumerate().map(|(i, &id)| (id, i)).collect();
    let cat_index: HashMap<i64, usize> = cat_ids.iter().enumerate().map(|(i, &id)| (id, i)).collect();
    let cell = |img: usize, cat: usize| cat * img_ids.len() + img;

    let mut gts: Vec<Vec<GtBox>> = vec![Vec::new(); img_ids.len() * cat_ids.len()];
    for (n, a) in gt.annotations.iter().enumerate() {
        let img = *img_index.get(&a.image_id).ok_or_else(|| bad(format!("ground-truth annotation {n} refers to image {} which is not in images", a.image_id)))?;
        let cat = *cat_index.get(&a.category_id).ok_or_else(|| bad(format!("ground-truth annotation {n} refers to category {} which is not in categories", a.category_id)))?;
        check_finite(&a.bbox, a.area, || format!("ground-truth annotation {n}"))?;
        gts[cell(img, cat)].push(GtBox { bbox: a.bbox, area: a.area, crowd: a.iscrowd });
    }
    let mut dets: Vec<Vec<DtBox>> = vec![Vec::new(); gts.len()];
    for (n, d) in dts.iter().enumerate() {
        let img = *img_index.get(&d.image_id).ok_or_else(|| bad(format!("detection {n} is on image {} which the ground truth does not have", d.image_id)))?;
        check_finite(&d.bbox, d.score, || format!("detection {n}"))?;
        if let Some(&cat) = cat_index.get(&d.category_id) {
            dets[cell(img, cat)].push(DtBox { bbox: d.bbox, score: d.score });
        }
    }
    for d in &mut dets {
        // Highest score first; a stable sort keeps file order among equal scores, as numpy's mergesort does.
        d.sort_by(|a, b| b.score.total_cmp(&a.score));
        d.truncate(MAX_DETS[2]);
    }

    let iou_thrs = linspace(0.5, 0.95, IOU_STEPS);
    let rec_thrs = linspace(0.0, 1.0, RECALL_STEPS);
    // precision[t][r][k][a][m] and recall[t][k][a][m], flattened; -1 = undefined.
    let (nk, na, nm) = (cat_ids.len(), AREA_RANGES.len(), MAX_DETS.len());
    let mut precision = vec![-1.0; IOU_STEPS * RECALL_STEPS * nk * na * nm];
    let mut recall = vec![-1.0; IOU_STEPS * nk * na * nm];
    for k in 0..nk {
        let ious: Vec<Vec<Vec<f64>>> = (0..img_ids.len()).map(|i| box_ious(&dets[cell(i, k)], &gts[cell(i, k)])).collect();
        for (a, &range) in AREA_RANGES.iter().enumerate() {
            let evals: Vec<ImageEval> = (0..img_ids.len()).filter_map(|i| evaluate_image(&gts[cell(i, k)], &dets[cell(i, k)], &ious[i], range, &iou_thrs)).collect();
            for (m, &max_det) in MAX_DETS.iter().enumerate() {
                accumulate(
                    &evals,
                    max_det,
                    &rec_thrs,
                    |t, r, p| precision[(((t * RECALL_STEPS + r) * nk + k) * na + a) * nm + m] = p,
                    |t, rc| recall[((t * nk + k) * na + a) * nm + m] = rc,
                );
            }
        }
    }

    let mean_defined = |vals: &mut dyn Iterator<Item = f64>| {
        let (sum, n) = vals.filter(|&v| v > -1.0).fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
        if n == 0 { -1.0 } else { sum / n as f64 }
    };
    let ap = |t: Option<usize>, a: usize| {
        let m = nm - 1;
        let mut it = (0..IOU_STEPS).filter(|&ti| t.is_none_or(|t| t == ti)).flat_map(|ti| {
            let precision = &precision;
            (0..RECALL_STEPS).flat_map(move |r| (0..nk).map(move |k| precision[(((ti * RECALL_STEPS + r) * nk + k) * na + a) * nm + m]))
        });
        mean_defined(&mut it)
    };
    let ar = |a: usize, m: usize| {
        let mut it = (0..IOU_STEPS).flat_map(|t| (0..nk).map(move |k| (t, k))).map(|(t, k)| recall[((t * nk + k) * na + a) * nm + m]);
        mean_defined(&mut it)
    };
    let stats = [ap(None, 0), ap(Some(0), 0), ap(Some(5), 0), ap(None, 1), ap(None, 2), ap(None, 3), ar(0, 0), ar(0, 1), ar(0, 2), ar(1, 2), ar(2, 2), ar(3, 2)];
    Ok(Evaluation { stats, categories: cat_ids, precision, recall })
}

fn bad(detail: String) -> MetricsError {
    MetricsError::Coco(detail)
}

fn check_finite(bbox: &[f64; 4], other: f64, what: impl Fn() -> String) -> Result<(), MetricsError> {
    if bbox.iter().all(|v| v.is_finite()) && other.is_finite() { Ok(()) } else { Err(bad(format!("{} has a non-finite number", what()))) }
}

/// `n` evenly spaced values from `start` to `stop` computed as numpy's
/// `linspace` does (`i * step + start`, last set to `stop`), so that IoUs and
/// recalls on a threshold compare exactly as in pycocotools.
fn linspace(start: f64, stop: f64, n: usize) -> Vec<f64> {
    let step = (stop - start) / (n - 1) as f64;
    let mut v: Vec<f64> = (0..n).map(|i| i as f64 * step + start).collect();
    if let Some(last) = v.last_mut() {
        *last = stop;
    }
    v
}

/// IoU of every detection (rows, sorted) with every ground truth (columns,
/// file order); for a crowd ground truth the union is the detection's area.
fn box_ious(dts: &[DtBox], gts: &[GtBox]) -> Vec<Vec<f64>> {
    dts.iter()
        .map(|d| {
            let [dx, dy, dw, dh] = d.bbox;
            gts.iter()
                .map(|g| {
                    let [gx, gy, gw, gh] = g.bbox;
                    let w = (dx + dw).min(gx + gw) - dx.max(gx);
                    let h = (dy + dh).min(gy + gh) - dy.max(gy);
                    if w <= 0.0 || h <= 0.0 {
                        return 0.0;
                    }
                    let inter = w * h;
                    let union = if g.crowd { dw * dh } else { dw * dh + gw * gh - inter };
                    inter / union
                })
                .collect()
        })
        .collect()
}

/// Match one image and category's detections to its ground truths at every
/// IoU threshold (pycocotools' `evaluateImg`); `None` when it has neither.
fn evaluate_image(gts: &[GtBox], dts: &[DtBox], ious: &[Vec<f64>], (lo, hi): (f64, f64), iou_thrs: &[f64]) -> Option<ImageEval> {
    if gts.is_empty() && dts.is_empty() {
        return None;
    }
    let outside = |area: f64| area < lo || area > hi;
    // Ground truths that count first, ignored ones after (stable).
    let mut order: Vec<usize> = (0..gts.len()).collect();
    let gt_ignored = |g: &GtBox| g.crowd || outside(g.area);
    order.sort_by_key(|&g| gt_ignored(&gts[g]));
    let ignored_gt: Vec<bool> = order.iter().map(|&g| gt_ignored(&gts[g])).collect();
    let crowd: Vec<bool> = order.iter().map(|&g| gts[g].crowd).collect();

    let mut matched = vec![vec![false; dts.len()]; iou_thrs.len()];
    let mut ignored = vec![vec![false; dts.len()]; iou_thrs.len()];
    for (t, &thr) in iou_thrs.iter().enumerate() {
        let mut gt_taken = vec![false; gts.len()];
        for (d, row) in ious.iter().enumerate().take(dts.len()) {
            let mut best_iou = thr.min(1.0 - 1e-10);
            let mut best: Option<usize> = None;
            for (j, &g) in order.iter().enumerate() {
                // A taken ground truth cannot match again unless it is a crowd.
                if gt_taken[j] && !crowd[j] {
                    continue;
                }
                // Once matched to one that counts, stop before the ignored ones.
                if best.is_some_and(|b| !ignored_gt[b]) && ignored_gt[j] {
                    break;
                }
                let iou = row.get(g).copied().unwrap_or(0.0);
                if iou < best_iou {
                    continue;
                }
                best_iou = iou;
                best = Some(j);
            }
            if let Some(b) = best {
                ignored[t][d] = ignored_gt[b];
                matched[t][d] = true;
                gt_taken[b] = true;
            }
        }
    }
    // Unmatched detections outside the area range are ignored too.
    for (d, det) in dts.iter().enumerate() {
        if outside(det.bbox[2] * det.bbox[3]) {
            for t in 0..iou_thrs.len() {
                ignored[t][d] |= !matched[t][d];
            }
        }
    }
    Some(ImageEval { scores: dts.iter().map(|d| d.score).collect(), matched, ignored, counted_gt: ignored_gt.iter().filter(|&&i| !i).count() })
}

/// Precision at each recall threshold and final recall, for each IoU
/// threshold, over all images' first `max_det` detections (pycocotools'
/// `accumulate` for one category, area range and maxDets).
fn accumulate(evals: &[ImageEval], max_det: usize, rec_thrs: &[f64], mut set_precision: impl FnMut(usize, usize, f64), mut set_recall: impl FnMut(usize, f64)) {
    if evals.is_empty() {
        return;
    }
    let counted: usize = evals.iter().map(|e| e.counted_gt).sum();
    if counted == 0 {
        return;
    }
    // (image, detection) pairs in score order, ties in image order (numpy mergesort).
    let mut pairs: Vec<(usize, usize)> = evals.iter().enumerate().flat_map(|(i, e)| (0..e.scores.len().min(max_det)).map(move |d| (i, d))).collect();
    pairs.sort_by(|a, b| evals[b.0].scores[b.1].total_cmp(&evals[a.0].scores[a.1]));
    let threshold_count = evals[0].matched.len();
    for t in 0..threshold_count {
        let (mut tp, mut fp) = (0.0f64, 0.0f64);
        let mut rc = Vec::with_capacity(pairs.len());
        let mut pr = Vec::with_capacity(pairs.len());
        for &(i, d) in &pairs {
            let e = &evals[i];
            if !e.ignored[t][d] {
                if e.matched[t][d] {
                    tp += 1.0;
                } else {
                    fp += 1.0;
                }
            }
            rc.push(tp / counted as f64);
            pr.push(tp / (tp + fp + f64::EPSILON));
        }
        set_recall(t, rc.last().copied().unwrap_or(0.0));
        // Precision envelope: best precision at this recall or beyond.
        for j in (1..pr.len()).rev() {
            if pr[j] > pr[j - 1] {
                pr[j - 1] = pr[j];
            }
        }
        for (r, &thr) in rec_thrs.iter().enumerate() {
            // First detection reaching this recall; none means precision 0.
            let j = rc.partition_point(|&v| v < thr);
            set_precision(t, r, pr.get(j).copied().unwrap_or(0.0));
        }
    }
}
