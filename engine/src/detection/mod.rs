//! Object detection basics: axis-aligned boxes in COCO's (x, y, w, h)
//! convention with intersection, union and IoU; greedy non-maximum
//! suppression step by step (`nms`); seeded scenes of scored boxes and a
//! COCO ground-truth / detections pair built from them (`scene`); and the
//! reader of COCO detection results files.

pub mod detector;
pub mod nms;
pub mod scene;

pub use nms::{BoxState, Nms, NmsStep, nms};

use serde::{Deserialize, Serialize};

/// An axis-aligned box: top-left corner (x, y), width and height, as in
/// COCO's `bbox`. Image coordinates: y grows downwards.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct BBox {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
}

impl BBox {
    pub fn new(x: f64, y: f64, w: f64, h: f64) -> Self {
        BBox { x, y, w, h }
    }

    /// The box spanned by two opposite corners, in either order.
    pub fn from_corners(a: [f64; 2], b: [f64; 2]) -> Self {
        let (x0, x1) = (a[0].min(b[0]), a[0].max(b[0]));
        let (y0, y1) = (a[1].min(b[1]), a[1].max(b[1]));
        BBox { x: x0, y: y0, w: x1 - x0, h: y1 - y0 }
    }

    pub fn x1(&self) -> f64 {
        self.x + self.w
    }

    pub fn y1(&self) -> f64 {
        self.y + self.h
    }

    /// Area; a box with a negative side counts as empty.
    pub fn area(&self) -> f64 {
        self.w.max(0.0) * self.h.max(0.0)
    }

    /// The overlapping box, or `None` when the boxes only touch or are apart.
    pub fn intersection(&self, other: &BBox) -> Option<BBox> {
        let (x0, y0) = (self.x.max(other.x), self.y.max(other.y));
        let (x1, y1) = (self.x1().min(other.x1()), self.y1().min(other.y1()));
        (x1 > x0 && y1 > y0).then_some(BBox { x: x0, y: y0, w: x1 - x0, h: y1 - y0 })
    }

    pub fn intersection_area(&self, other: &BBox) -> f64 {
        self.intersection(other).map_or(0.0, |b| b.area())
    }

    pub fn union_area(&self, other: &BBox) -> f64 {
        self.area() + other.area() - self.intersection_area(other)
    }

    /// Intersection over union; 0 when the union is empty (two empty boxes).
    pub fn iou(&self, other: &BBox) -> f64 {
        let union = self.union_area(other);
        if union > 0.0 { self.intersection_area(other) / union } else { 0.0 }
    }

    /// Whether the point lies inside or on the border.
    pub fn contains(&self, p: [f64; 2]) -> bool {
        p[0] >= self.x && p[0] <= self.x1() && p[1] >= self.y && p[1] <= self.y1()
    }

    pub fn as_array(&self) -> [f64; 4] {
        [self.x, self.y, self.w, self.h]
    }
}

/// A detector's output box: where, how sure, which class, on which image.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScoredBox {
    pub bbox: BBox,
    pub score: f64,
    pub category: i64,
    pub image_id: i64,
}

/// Why a detections file could not be read: one line naming the entry.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DetectionError {
    #[error("{0}")]
    Io(String),
    #[error("detections JSON: {0} (expected a list of {{\"image_id\", \"category_id\", \"bbox\": [x, y, w, h], \"score\"}})")]
    Json(String),
    #[error("detection {index}: {detail}")]
    Invalid { index: usize, detail: String },
}

/// One entry as read; other fields (segmentation, area, id) are ignored.
#[derive(Deserialize)]
struct ResultEntry {
    image_id: i64,
    category_id: i64,
    bbox: [f64; 4],
    score: f64,
}

/// Parse a COCO detection results file (a JSON list of
/// `{image_id, category_id, bbox: [x, y, w, h], score}`).
pub fn parse_detections(text: &str) -> Result<Vec<ScoredBox>, DetectionError> {
    let entries: Vec<ResultEntry> = serde_json::from_str(text).map_err(|e| DetectionError::Json(e.to_string()))?;
    entries
        .into_iter()
        .enumerate()
        .map(|(index, e)| {
            let invalid = |detail: &str| DetectionError::Invalid { index, detail: detail.to_owned() };
            let [x, y, w, h] = e.bbox;
            if !(x.is_finite() && y.is_finite() && w.is_finite() && h.is_finite() && e.score.is_finite()) {
                return Err(invalid("has a non-finite number"));
            }
            if w < 0.0 || h < 0.0 {
                return Err(invalid(&format!("has a negative size ({w} x {h})")));
            }
            Ok(ScoredBox { bbox: BBox { x, y, w, h }, score: e.score, category: e.category_id, image_id: e.image_id })
        })
        .collect()
}

/// Read and parse a detections file.
pub fn load_detections(path: &std::path::Path) -> Result<Vec<ScoredBox>, DetectionError> {
    let text = std::fs::read_to_string(path).map_err(|e| DetectionError::Io(format!("{}: {e}", path.display())))?;
    parse_detections(&text)
}

/// The boxes as a COCO results file.
pub fn detections_json(boxes: &[ScoredBox]) -> String {
    let list: Vec<serde_json::Value> =
        boxes.iter().map(|b| serde_json::json!({"image_id": b.image_id, "category_id": b.category, "bbox": b.bbox.as_array(), "score": b.score})).collect();
    serde_json::Value::Array(list).to_string()
}
