//! Many small [0, 1] images tiled into one image (sample grids, strips,
//! manifolds), drawn with a single wgpu image instead of one per tile.

use std::sync::Arc;

use crate::render::colormap::Colormap;
use crate::render::image::{ScalarImage, show_image};

use super::gallery::UNIT_RANGE;

/// Tiles of `side` x `side` pixels in `cols` columns.
#[derive(Clone)]
pub struct Mosaic {
    pub image: Arc<ScalarImage>,
    pub cols: usize,
    pub rows: usize,
    pub side: usize,
}

/// Gap between tiles, in image pixels (drawn as background).
const GAP: usize = 1;

impl Mosaic {
    /// `images` holds `n` row-major tiles of `side * side` values in [0, 1].
    pub fn new(images: &[f32], side: usize, cols: usize) -> Mosaic {
        let per = side * side;
        let n = images.len().checked_div(per).unwrap_or(0);
        let cols = cols.clamp(1, n.max(1));
        let rows = n.div_ceil(cols).max(1);
        let (w, h) = (cols * (side + GAP) - GAP, rows * (side + GAP) - GAP);
        // Values <= 0 are "missing" to the renderer: the gaps stay background.
        let mut values = vec![0.0f32; w * h];
        for (k, tile) in images.chunks_exact(per.max(1)).enumerate().take(n) {
            let (r, c) = (k / cols, k % cols);
            for (i, v) in tile.iter().enumerate() {
                let (y, x) = (r * (side + GAP) + i / side, c * (side + GAP) + i % side);
                values[y * w + x] = 1.0 + v.clamp(0.0, 1.0);
            }
        }
        Mosaic { image: Arc::new(ScalarImage::fresh(w as u32, h as u32, values)), cols, rows, side }
    }

    /// Draw it at `height` points tall (width by aspect); returns the rect
    /// drawn and the tile under a click, if any.
    pub fn show(&self, ui: &mut egui::Ui, height: f32) -> (egui::Rect, Option<usize>) {
        let aspect = self.image.width.max(1) as f32 / self.image.height.max(1) as f32;
        let size = egui::vec2((height * aspect).min(ui.available_width()), height);
        let size = egui::vec2(size.x, size.x / aspect);
        let r = ui.allocate_ui(size, |ui| {
            show_image(ui, &self.image, UNIT_RANGE, Colormap::Gray);
        });
        let rect = r.response.rect;
        let resp = ui.interact(rect, r.response.id.with("mosaic"), egui::Sense::click());
        let clicked = resp.clicked().then(|| resp.interact_pointer_pos()).flatten().and_then(|p| self.tile_at(rect, p));
        (rect, clicked)
    }

    /// The tile index at screen point `p` in a mosaic drawn in `rect`.
    pub fn tile_at(&self, rect: egui::Rect, p: egui::Pos2) -> Option<usize> {
        let u = (p - rect.min) / rect.size();
        if !(0.0..1.0).contains(&u.x) || !(0.0..1.0).contains(&u.y) {
            return None;
        }
        let (c, r) = ((u.x * self.cols as f32) as usize, (u.y * self.rows as f32) as usize);
        Some(r * self.cols + c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiles_land_in_their_cells_with_gaps() {
        // Three 2x2 tiles of constant value 0.1, 0.5, 0.9 in 2 columns.
        let imgs: Vec<f32> = [0.1f32, 0.5, 0.9].iter().flat_map(|&v| [v; 4]).collect();
        let m = Mosaic::new(&imgs, 2, 2);
        assert_eq!((m.cols, m.rows, m.image.width, m.image.height), (2, 2, 5, 5));
        let at = |x: u32, y: u32| m.image.value(x, y).unwrap();
        assert_eq!((at(0, 0), at(1, 1)), (1.1, 1.1));
        assert_eq!(at(2, 0), 0.0, "gap");
        assert_eq!(at(3, 1), 1.5);
        assert_eq!(at(0, 3), 1.9);
        assert_eq!(at(4, 4), 0.0, "the missing fourth tile");
        let rect = egui::Rect::from_min_size(egui::pos2(10.0, 10.0), egui::vec2(100.0, 100.0));
        assert_eq!(m.tile_at(rect, egui::pos2(80.0, 30.0)), Some(1));
        assert_eq!(m.tile_at(rect, egui::pos2(20.0, 90.0)), Some(2));
        assert_eq!(m.tile_at(rect, egui::pos2(5.0, 30.0)), None);
    }
}
