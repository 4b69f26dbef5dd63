//! A grid of anchors and the box encoding (SSD / Faster R-CNN style):
//! anchor `a` of cell (row i, column j) is a square of side `sizes[a]`
//! centred on the cell; a box is coded against it as
//! `tx = (cx - ax) / aw, ty = (cy - ay) / ah, tw = ln(w / aw), th = ln(h / ah)`.
//! Matching: an anchor whose IoU with some object is at least `pos_iou` is
//! positive for the object it overlaps most, and every object's best anchor
//! is positive for it (so none is left unmatched); anchors below `neg_iou`
//! with every object are negatives; the rest are ignored by the objectness loss.

use crate::detection::BBox;
use crate::detection::scene::Object;

/// Anchors over a `grid x grid` map of an `image x image` picture. The flat
/// anchor index is `(a * grid + i) * grid + j`, the network's layout.
#[derive(Clone, Debug, PartialEq)]
pub struct AnchorGrid {
    pub image: usize,
    pub grid: usize,
    /// Anchor sides in pixels.
    pub sizes: Vec<f64>,
}

impl AnchorGrid {
    /// `count` sizes spaced geometrically from 22% to 45% of the image
    /// side (the synthetic shapes' range); one anchor: 32%.
    pub fn new(image: usize, grid: usize, count: usize) -> AnchorGrid {
        let (lo, hi) = (0.22 * image as f64, 0.45 * image as f64);
        let sizes = match count {
            0 => vec![],
            1 => vec![(lo * hi).sqrt()],
            n => (0..n).map(|k| lo * (hi / lo).powf(k as f64 / (n - 1) as f64)).collect(),
        };
        AnchorGrid { image, grid, sizes }
    }

    pub fn stride(&self) -> f64 {
        self.image as f64 / self.grid.max(1) as f64
    }

    pub fn cells(&self) -> usize {
        self.grid * self.grid
    }

    pub fn len(&self) -> usize {
        self.sizes.len() * self.cells()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The anchor at flat index `k`.
    pub fn anchor(&self, k: usize) -> BBox {
        let (a, cell) = (k / self.cells(), k % self.cells());
        let (i, j) = (cell / self.grid, cell % self.grid);
        let s = self.stride();
        let side = self.sizes.get(a).copied().unwrap_or(0.0);
        let (cx, cy) = ((j as f64 + 0.5) * s, (i as f64 + 0.5) * s);
        BBox::new(cx - side / 2.0, cy - side / 2.0, side, side)
    }
}

/// `b` coded against `anchor`.
pub fn encode(anchor: &BBox, b: &BBox) -> [f64; 4] {
    let (acx, acy) = (anchor.x + anchor.w / 2.0, anchor.y + anchor.h / 2.0);
    let (cx, cy) = (b.x + b.w / 2.0, b.y + b.h / 2.0);
    [(cx - acx) / anchor.w, (cy - acy) / anchor.h, (b.w / anchor.w).ln(), (b.h / anchor.h).ln()]
}

/// The box that `t` codes against `anchor` (`encode`'s inverse).
pub fn decode(anchor: &BBox, t: [f64; 4]) -> BBox {
    let (acx, acy) = (anchor.x + anchor.w / 2.0, anchor.y + anchor.h / 2.0);
    let (cx, cy) = (acx + t[0] * anchor.w, acy + t[1] * anchor.h);
    // a bounded exponent: an untrained head must not give infinite boxes
    let (w, h) = (anchor.w * t[2].min(4.0).exp(), anchor.h * t[3].min(4.0).exp());
    BBox::new(cx - w / 2.0, cy - h / 2.0, w, h)
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MatchConfig {
    pub pos_iou: f64,
    pub neg_iou: f64,
    /// Weight of a negative anchor in the objectness loss (positives 1).
    pub negative_weight: f64,
}

impl Default for MatchConfig {
    fn default() -> Self {
        MatchConfig { pos_iou: 0.5, neg_iou: 0.4, negative_weight: 0.5 }
    }
}

/// One image's training targets, in the network's layout.
#[derive(Clone, Debug, PartialEq)]
pub struct Targets {
    /// The object each anchor is positive for.
    pub matched: Vec<Option<usize>>,
    /// `[A, G, G]`: 1 on positives.
    pub objectness: Vec<f32>,
    /// `[A, G, G]`: objectness loss weight (1, `negative_weight` or 0 when ignored).
    pub weight: Vec<f32>,
    /// `[A, 4, G, G]`: the codes of positives' objects, 0 elsewhere.
    pub boxes: Vec<f32>,
    /// `[A, 4, G, G]`: 1 on positives' four codes.
    pub box_mask: Vec<f32>,
    /// `[A, C, G, G]`: one-hot class of positives, 0 elsewhere.
    pub classes: Vec<f32>,
}

/// Assign `objects` (categories 1..=classes) to the anchors.
pub fn assign(grid: &AnchorGrid, objects: &[Object], classes: usize, cfg: &MatchConfig) -> Targets {
    let (n, cells) = (grid.len(), grid.cells());
    let anchors: Vec<BBox> = (0..n).map(|k| grid.anchor(k)).collect();
    let mut best: Vec<(f64, Option<usize>)> = vec![(0.0, None); n];
    for (o, obj) in objects.iter().enumerate() {
        for (k, a) in anchors.iter().enumerate() {
            let iou = a.iou(&obj.bbox);
            if iou > best[k].0 {
                best[k] = (iou, Some(o));
            }
        }
    }
    let mut matched: Vec<Option<usize>> = best.iter().map(|&(iou, o)| o.filter(|_| iou >= cfg.pos_iou)).collect();
    // each object keeps its best anchor (first on ties), even below pos_iou
    for (o, obj) in objects.iter().enumerate() {
        let top = anchors.iter().enumerate().map(|(k, a)| (k, a.iou(&obj.bbox))).fold((0, -1.0), |m, (k, v)| if v > m.1 { (k, v) } else { m });
        if top.1 > 0.0 {
            matched[top.0] = Some(o);
        }
    }
    let mut t =
        Targets { objectness: vec![0.0; n], weight: vec![0.0; n], boxes: vec![0.0; 4 * n], box_mask: vec![0.0; 4 * n], classes: vec![0.0; classes * n], matched: matched.clone() };
    for k in 0..n {
        let (a, cell) = (k / cells, k % cells);
        match matched[k].and_then(|o| objects.get(o)) {
            Some(obj) => {
                t.objectness[k] = 1.0;
                t.weight[k] = 1.0;
                for (c, v) in encode(&anchors[k], &obj.bbox).into_iter().enumerate() {
                    t.boxes[(a * 4 + c) * cells + cell] = v as f32;
                    t.box_mask[(a * 4 + c) * cells + cell] = 1.0;
                }
                if let Some(c) = usize::try_from(obj.category - 1).ok().filter(|&c| c < classes) {
                    t.classes[(a * classes + c) * cells + cell] = 1.0;
                }
            }
            None if best[k].0 < cfg.neg_iou => t.weight[k] = cfg.negative_weight as f32,
            None => {}
        }
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchors_sit_on_cell_centres() {
        let g = AnchorGrid { image: 32, grid: 4, sizes: vec![8.0, 16.0] };
        assert_eq!(g.len(), 32);
        assert_eq!(g.anchor(0), BBox::new(0.0, 0.0, 8.0, 8.0));
        // anchor 1 (16 px) of row 2, column 3: centre (28, 20)
        assert_eq!(g.anchor(16 + 2 * 4 + 3), BBox::new(20.0, 12.0, 16.0, 16.0));
        let three = AnchorGrid::new(32, 8, 3);
        assert!((three.sizes[0] - 7.04).abs() < 1e-12 && (three.sizes[2] - 14.4).abs() < 1e-12);
    }

    #[test]
    fn encoding_by_hand_and_round_trip() {
        let a = BBox::new(4.0, 4.0, 8.0, 8.0); // centre (8, 8)
        let b = BBox::new(6.0, 2.0, 16.0, 4.0); // centre (14, 4)
        let t = encode(&a, &b);
        assert_eq!(t[0], 0.75);
        assert_eq!(t[1], -0.5);
        assert!((t[2] - 2f64.ln()).abs() < 1e-15 && (t[3] - 0.5f64.ln()).abs() < 1e-15);
        let back = decode(&a, t);
        for (x, y) in back.as_array().iter().zip(b.as_array()) {
            assert!((x - y).abs() < 1e-12, "{back:?}");
        }
    }

    #[test]
    fn matching_on_a_hand_case() {
        // 2x2 cells of 8 px on 16 px, one 8 px anchor per cell
        let g = AnchorGrid { image: 16, grid: 2, sizes: vec![8.0] };
        let objs = [
            // exactly the top-left anchor: IoU 1
            Object { bbox: BBox::new(0.0, 0.0, 8.0, 8.0), category: 2 },
            // straddles the two bottom cells: IoU 1/3 with each, best is the first (bottom-left)
            Object { bbox: BBox::new(4.0, 8.0, 8.0, 8.0), category: 3 },
        ];
        let t = assign(&g, &objs, 3, &MatchConfig::default());
        assert_eq!(t.matched, vec![Some(0), None, Some(1), None]);
        assert_eq!(t.objectness, vec![1.0, 0.0, 1.0, 0.0]);
        // top-right: IoU 0 -> negative (0.5); bottom-right: IoU 1/3 < 0.4 -> negative too
        assert_eq!(t.weight, vec![1.0, 0.5, 1.0, 0.5]);
        // class one-hots [C, G, G]: class 2 (index 1) at cell 0, class 3 (index 2) at cell 2
        let mut cls = vec![0.0; 12];
        cls[4] = 1.0;
        cls[8 + 2] = 1.0;
        assert_eq!(t.classes, cls);
        // codes [4, G, G] of cell 2's object: centre (8, 12) vs anchor centre (4, 12)
        assert_eq!([t.boxes[2], t.boxes[4 + 2], t.boxes[8 + 2], t.boxes[12 + 2]], [0.5, 0.0, 0.0, 0.0]);
        assert_eq!(t.box_mask.iter().sum::<f32>(), 8.0);
        // an ignore band: raise neg_iou above 1/3 and the bottom-right anchor is ignored
        let t = assign(&g, &objs, 3, &MatchConfig { neg_iou: 0.3, ..MatchConfig::default() });
        assert_eq!(t.weight, vec![1.0, 0.5, 1.0, 0.0]);
    }
}
