//! A walk between two latent codes A and B (the VAE's codes of two
//! images, a GAN's two noise vectors): linear or spherical path, frames,
//! and a position slider; the decoded strip with the frame at the
//! position beside it (a click on a strip frame moves there).

use vislab_engine::vae::latent::{self, Path};

use super::mosaic::Mosaic;

pub struct LatentWalk {
    pub path: Path,
    pub frames: usize,
    /// Position from A (0) to B (1).
    pub t: f32,
}

impl Default for LatentWalk {
    fn default() -> Self {
        LatentWalk { path: Path::Linear, frames: 10, t: 0.5 }
    }
}

impl LatentWalk {
    /// Path, frames and position; true when one changed.
    pub fn controls(&mut self, ui: &mut egui::Ui) -> bool {
        let mut changed = false;
        ui.horizontal(|ui| {
            changed |= ui.radio_value(&mut self.path, Path::Linear, "linear").changed();
            changed |= ui.radio_value(&mut self.path, Path::Spherical, "spherical").changed();
        });
        changed |= ui.add(egui::Slider::new(&mut self.frames, 2..=16).text("frames")).changed();
        changed |= ui.add(egui::Slider::new(&mut self.t, 0.0..=1.0).text("position A to B")).changed();
        changed
    }

    pub fn path_name(&self) -> &'static str {
        if self.path == Path::Linear { "linear" } else { "spherical" }
    }

    /// The strip's codes `[frames, latent]` then the code at the position.
    pub fn codes(&self, a: &[f32], b: &[f32]) -> Vec<f32> {
        let mut z = latent::path_codes(a, b, self.frames, self.path);
        z.extend(latent::interpolate(a, b, self.t, self.path));
        z
    }

    /// The decoded strip (frames in a row) at `strip_h` points tall and the
    /// frame at the position at `frame_h`; returns the strip's rect and
    /// whether a click moved the position.
    pub fn show(&mut self, ui: &mut egui::Ui, strip: &Mosaic, frame: &Mosaic, strip_h: f32, frame_h: f32) -> (egui::Rect, bool) {
        let (rect, click) = ui
            .horizontal(|ui| {
                let (r, c) = strip.show(ui, strip_h);
                frame.show(ui, frame_h);
                (r, c)
            })
            .inner;
        match click {
            Some(k) => {
                self.t = k as f32 / (self.frames - 1).max(1) as f32;
                (rect, true)
            }
            None => (rect, false),
        }
    }
}
