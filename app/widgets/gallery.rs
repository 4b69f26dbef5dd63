//! Small image tiles for galleries (neighbours, misclassified images,
//! filters, sample grids): a scalar image through the wgpu image renderer,
//! an optional coloured frame, and a caption.

use std::sync::Arc;

use crate::render::colormap::Colormap;
use crate::render::image::{ScalarImage, show_image};

/// One tile; returns the response of the image area (hover, click).
pub fn tile(ui: &mut egui::Ui, img: &Arc<ScalarImage>, side: f32, range: [f32; 2], colormap: Colormap, frame: Option<egui::Color32>, caption: &str) -> egui::Response {
    ui.vertical(|ui| {
        let r = ui.allocate_ui(egui::vec2(side, side), |ui| {
            show_image(ui, img, range, colormap);
        });
        let resp = ui.interact(r.response.rect, r.response.id.with("tile"), egui::Sense::click());
        if let Some(c) = frame {
            ui.painter().rect_stroke(r.response.rect.expand(1.0), 0.0, egui::Stroke::new(2.0, c), egui::StrokeKind::Outside);
        }
        if !caption.is_empty() {
            ui.label(egui::RichText::new(caption).small());
        }
        resp
    })
    .inner
}

/// Pixel values in [0, 1] as an image the renderer draws with range [1, 2]
/// (it treats values <= 0 as missing, as depth maps need).
pub fn unit_image(width: usize, height: usize, values: &[f32]) -> Arc<ScalarImage> {
    Arc::new(ScalarImage::fresh(width as u32, height as u32, values.iter().map(|v| 1.0 + v.clamp(0.0, 1.0)).collect()))
}

/// The range to pass to `tile` for `unit_image`s.
pub const UNIT_RANGE: [f32; 2] = [1.0, 2.0];

/// A dataset sample as an image: `[3, H, W]` planes in [0, 1] in colour,
/// `[1, H, W]` or `[H, W]` in grey; other shapes (feature vectors) as one row.
pub fn sample_image(shape: &[usize], values: &[f32]) -> Arc<ScalarImage> {
    match *shape {
        [3, h, w] => Arc::new(ScalarImage::rgb(w as u32, h as u32, values.iter().map(|v| v.clamp(0.0, 1.0)).collect())),
        [1, h, w] | [h, w] => unit_image(w, h, values),
        _ => unit_image(values.len(), 1, values),
    }
}

/// The same values rescaled so their minimum is 0 and maximum 1 (weight
/// templates, normalized images), for `sample_image`.
pub fn stretch(values: &[f32]) -> Vec<f32> {
    let (lo, hi) = values.iter().fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    let span = if hi > lo { hi - lo } else { 1.0 };
    values.iter().map(|v| (v - lo) / span).collect()
}

/// A tile of an image made by `sample_image` (colour or grey alike).
pub fn sample_tile(ui: &mut egui::Ui, img: &Arc<ScalarImage>, side: f32, frame: Option<egui::Color32>, caption: &str) -> egui::Response {
    let range = if img.channels == 3 { [0.0, 1.0] } else { UNIT_RANGE };
    tile(ui, img, side, range, Colormap::Gray, frame, caption)
}

/// Lay `items` out in rows of as many `side`-wide tiles as fit the width
/// (wrapping layouts cannot know a tile's width before it is drawn).
pub fn grid<T>(ui: &mut egui::Ui, items: &[T], side: f32, mut tile: impl FnMut(&mut egui::Ui, &T)) {
    let gap = ui.spacing().item_spacing.x;
    let per_row = (((ui.available_width() + gap) / (side + 2.0 + gap)).floor() as usize).max(1);
    for row in items.chunks(per_row) {
        ui.horizontal(|ui| {
            for it in row {
                tile(ui, it);
            }
        });
    }
}
