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
