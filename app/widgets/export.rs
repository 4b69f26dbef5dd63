//! Export a region of the window (a plot, a sample grid) as a PNG: the lab
//! asks for a screenshot, and the crop is saved when the frame arrives.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, channel};

#[derive(Default)]
pub struct PngExport {
    pending: Option<(Receiver<Arc<egui::ColorImage>>, egui::Rect, PathBuf)>,
    /// What the last export did, for the lab to show.
    pub message: Option<String>,
}

impl PngExport {
    /// Ask where to save (file dialog), then capture `rect` on the next frame.
    pub fn request(&mut self, ctx: &egui::Context, rect: egui::Rect, default_name: &str) {
        let Some(path) = rfd::FileDialog::new().set_file_name(default_name).add_filter("PNG", &["png"]).save_file() else { return };
        self.request_to(ctx, rect, path);
    }

    /// Capture `rect` into `path` (tests and scripts skip the dialog).
    pub fn request_to(&mut self, ctx: &egui::Context, rect: egui::Rect, path: PathBuf) {
        let (tx, rx) = channel();
        ctx.request_screenshot(move |img| {
            let _ = tx.send(img);
        });
        self.pending = Some((rx, rect, path));
        ctx.request_repaint();
    }

    /// Call every frame: saves a capture that has arrived.
    pub fn poll(&mut self, ctx: &egui::Context) {
        let Some((rx, rect, path)) = &self.pending else { return };
        let Ok(img) = rx.try_recv() else {
            ctx.request_repaint();
            return;
        };
        let ppp = ctx.pixels_per_point();
        self.message = Some(match crop(&img, *rect, ppp).save(path) {
            Ok(()) => format!("saved {}", path.display()),
            Err(e) => format!("could not save {}: {e}", path.display()),
        });
        self.pending = None;
    }
}

/// The pixels of `rect` (in points) from a full-window capture.
pub fn crop(img: &egui::ColorImage, rect: egui::Rect, ppp: f32) -> image::RgbaImage {
    let [w, h] = img.size;
    let x0 = ((rect.min.x * ppp).floor().max(0.0) as usize).min(w);
    let y0 = ((rect.min.y * ppp).floor().max(0.0) as usize).min(h);
    let x1 = ((rect.max.x * ppp).ceil().max(0.0) as usize).clamp(x0, w);
    let y1 = ((rect.max.y * ppp).ceil().max(0.0) as usize).clamp(y0, h);
    let mut out = image::RgbaImage::new((x1 - x0) as u32, (y1 - y0) as u32);
    for (x, y, p) in out.enumerate_pixels_mut() {
        *p = image::Rgba(img.pixels[(y0 + y as usize) * w + x0 + x as usize].to_array());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crop_takes_the_rect_in_pixels() {
        let mut img = egui::ColorImage::filled([4, 3], egui::Color32::BLACK);
        img.pixels[4 + 2] = egui::Color32::RED; // (2, 1)
        // rect in points at 2 pixels per point: (1, 0.5)-(1.5, 1.5) -> pixels x 2..3, y 1..3
        let out = crop(&img, egui::Rect::from_min_max(egui::pos2(1.0, 0.5), egui::pos2(1.5, 1.5)), 2.0);
        assert_eq!(out.dimensions(), (1, 2));
        assert_eq!(out.get_pixel(0, 0).0, [255, 0, 0, 255]);
        assert_eq!(out.get_pixel(0, 1).0, [0, 0, 0, 255]);
        // a rect past the edge is clipped, not a panic
        let out = crop(&img, egui::Rect::from_min_max(egui::pos2(3.0, 2.0), egui::pos2(9.0, 9.0)), 1.0);
        assert_eq!(out.dimensions(), (1, 1));
    }
}
