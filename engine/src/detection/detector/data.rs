//! The synthetic detection set: the segmentation lab's seeded shapes
//! (discs, squares, triangles, rotated, random colours, noisy striped
//! background; later shapes occlude earlier ones), each object's box the
//! tight box of its visible pixels, so every box is exact.

use std::sync::Arc;

use crate::detection::BBox;
use crate::detection::scene::Object;
use crate::segmentation::{SegSet, SynthConfig};

/// Category names; the category id of `CLASSES[k]` is `k + 1` (the
/// segmentation class index).
pub const CLASSES: [&str; 3] = ["disc", "square", "triangle"];

/// Boxes narrower or lower than this (pixels), mostly hidden shapes, are left out.
const MIN_SIDE: f64 = 3.0;

/// `len` RGB images of `size x size`, planar in [0, 1], with their objects.
#[derive(Clone, Debug, PartialEq)]
pub struct DetSet {
    pub size: usize,
    pub images: Vec<f32>,
    pub objects: Vec<Vec<Object>>,
}

impl DetSet {
    /// `count` seeded images with 1 to `max_objects` shapes each.
    pub fn synthetic(count: usize, size: usize, max_objects: usize, seed: u64) -> DetSet {
        let seg = SegSet::synthetic(&SynthConfig { count, size, max_shapes: max_objects.max(1), seed });
        let objects = (0..seg.len()).map(|i| boxes_of(&seg, i)).collect();
        DetSet { size, images: seg.images, objects }
    }

    pub fn len(&self) -> usize {
        self.objects.len()
    }

    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }

    pub fn image_len(&self) -> usize {
        3 * self.size * self.size
    }

    pub fn image(&self, i: usize) -> Option<&[f32]> {
        self.images.get(i * self.image_len()..(i + 1) * self.image_len())
    }

    /// The images at `idx`, concatenated.
    pub fn batch(&self, idx: &[usize]) -> Vec<f32> {
        idx.iter().filter_map(|&i| self.image(i)).flatten().copied().collect()
    }

    pub fn object_count(&self) -> usize {
        self.objects.iter().map(Vec::len).sum()
    }
}

/// Shared sets for the trainer and the lab.
pub type SharedSet = Arc<DetSet>;

/// The tight pixel box of every instance of image `i` with its class.
fn boxes_of(seg: &SegSet, i: usize) -> Vec<Object> {
    let (Some(ins), Some(lab)) = (seg.instance(i), seg.label(i)) else { return vec![] };
    let w = seg.width;
    // per instance id: x0, y0, x1, y1 (exclusive), class
    let mut spans: Vec<Option<(usize, usize, usize, usize, u8)>> = vec![];
    for (p, (&id, &class)) in ins.iter().zip(lab).enumerate() {
        if id == 0 {
            continue;
        }
        let k = id as usize;
        if spans.len() <= k {
            spans.resize(k + 1, None);
        }
        let (x, y) = (p % w, p / w);
        let s = spans[k].get_or_insert((x, y, x + 1, y + 1, class));
        *s = (s.0.min(x), s.1.min(y), s.2.max(x + 1), s.3.max(y + 1), s.4);
    }
    spans
        .into_iter()
        .flatten()
        .map(|(x0, y0, x1, y1, c)| Object { bbox: BBox::new(x0 as f64, y0 as f64, (x1 - x0) as f64, (y1 - y0) as f64), category: c as i64 })
        .filter(|o| o.bbox.w >= MIN_SIDE && o.bbox.h >= MIN_SIDE)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::segmentation::data::synthetic_classes;

    #[test]
    fn a_box_is_the_tight_box_of_its_instance_pixels() {
        let (w, h) = (8, 6);
        let mut instances = vec![0u32; w * h];
        let mut labels = vec![0u8; w * h];
        // instance 1, a square (class 2), an L over x 1..=4, y 2..=4; instance 2 one pixel (dropped)
        for (x, y) in [(1, 2), (2, 2), (3, 2), (4, 2), (1, 3), (1, 4)] {
            instances[y * w + x] = 1;
            labels[y * w + x] = 2;
        }
        instances[7] = 2;
        labels[7] = 1;
        let seg = SegSet { channels: 3, height: h, width: w, images: vec![0.0; 3 * w * h], labels, instances, classes: synthetic_classes() };
        assert_eq!(boxes_of(&seg, 0), vec![Object { bbox: BBox::new(1.0, 2.0, 4.0, 3.0), category: 2 }]);
    }

    #[test]
    fn synthetic_boxes_are_seeded_and_inside_the_image() {
        let a = DetSet::synthetic(20, 32, 4, 3);
        assert_eq!(a, DetSet::synthetic(20, 32, 4, 3));
        assert!(a.object_count() >= 30, "{} objects", a.object_count());
        for o in a.objects.iter().flatten() {
            assert!(o.bbox.x >= 0.0 && o.bbox.y >= 0.0 && o.bbox.x1() <= 32.0 && o.bbox.y1() <= 32.0);
            assert!((1..=3).contains(&o.category));
        }
    }
}
