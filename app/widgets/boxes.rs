//! A picture with boxes drawn over it (detection labs): the image through
//! the wgpu image renderer, or a plain canvas, scaled to fit with its
//! aspect kept; maps between image coordinates (COCO pixels) and the screen.

use std::sync::Arc;

use eframe::egui_wgpu;
use vislab_engine::detection::BBox;

use crate::render::colormap::Colormap;
use crate::render::image::{ImageCallback, ScalarImage};

pub struct Canvas {
    pub rect: egui::Rect,
    pub response: egui::Response,
    /// The region of image coordinates the rectangle shows.
    view: BBox,
}

impl Canvas {
    /// Show `image` (an RGB `ScalarImage` covering exactly `view`), or a
    /// dark canvas without one, as large as fits; senses clicks and drags.
    /// `label` names it for accessibility (and tests that find it).
    pub fn show(ui: &mut egui::Ui, image: Option<&Arc<ScalarImage>>, view: BBox, label: &str) -> Canvas {
        let view = BBox { w: view.w.max(1.0), h: view.h.max(1.0), ..view };
        let avail = ui.available_size();
        let aspect = (view.w / view.h) as f32;
        let size = if avail.x / avail.y.max(1.0) > aspect { egui::vec2(avail.y * aspect, avail.y) } else { egui::vec2(avail.x, avail.x / aspect) };
        let (rect, response) = ui.allocate_exact_size(size.max(egui::vec2(16.0, 16.0)), egui::Sense::click_and_drag());
        response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Image, true, label));
        match image {
            Some(img) => {
                let callback = ImageCallback { key: response.id.value(), image: img.clone(), range: [0.0, 1.0], colormap: Colormap::Gray };
                ui.painter().add(egui_wgpu::Callback::new_paint_callback(rect, callback));
            }
            None => {
                ui.painter().rect_filled(rect, 0.0, egui::Color32::from_gray(32));
            }
        }
        Canvas { rect, response, view }
    }

    /// Screen points per image unit.
    pub fn scale(&self) -> f32 {
        self.rect.width() / self.view.w as f32
    }

    pub fn to_screen(&self, p: [f64; 2]) -> egui::Pos2 {
        self.rect.min + egui::vec2((p[0] - self.view.x) as f32, (p[1] - self.view.y) as f32) * self.scale()
    }

    pub fn to_image(&self, p: egui::Pos2) -> [f64; 2] {
        let v = (p - self.rect.min) / self.scale();
        [v.x as f64 + self.view.x, v.y as f64 + self.view.y]
    }

    pub fn screen_rect(&self, b: &BBox) -> egui::Rect {
        egui::Rect::from_two_pos(self.to_screen([b.x, b.y]), self.to_screen([b.x1(), b.y1()]))
    }

    /// The box's outline, solid or dashed.
    pub fn outline(&self, painter: &egui::Painter, b: &BBox, stroke: egui::Stroke, dashed: bool) {
        let r = self.screen_rect(b);
        if dashed {
            let path = [r.left_top(), r.right_top(), r.right_bottom(), r.left_bottom(), r.left_top()];
            painter.extend(egui::Shape::dashed_line(&path, stroke, 6.0, 4.0));
        } else {
            painter.rect_stroke(r, 0.0, stroke, egui::StrokeKind::Middle);
        }
    }

    /// A small caption on a dark plate inside the box's top-left corner, or
    /// its bottom-left one (so two boxes' captions rarely collide).
    pub fn caption(&self, painter: &egui::Painter, b: &BBox, text: &str, color: egui::Color32, bottom: bool) {
        let r = self.screen_rect(b);
        let galley = painter.layout_no_wrap(text.to_owned(), egui::FontId::proportional(11.0), color);
        let size = galley.size() + egui::vec2(4.0, 0.0);
        let at = if bottom { r.left_bottom() + egui::vec2(1.0, -1.0 - size.y) } else { r.left_top() + egui::vec2(1.0, 1.0) };
        let plate = egui::Rect::from_min_size(at, size);
        painter.rect_filled(plate, 2.0, egui::Color32::from_black_alpha(170));
        painter.galley(plate.min + egui::vec2(2.0, 0.0), galley, color);
    }
}

/// A row of the legend: a swatch drawn as the boxes are, then its name.
pub fn legend_entry(ui: &mut egui::Ui, stroke: egui::Stroke, dashed: bool, fill: Option<egui::Color32>, name: &str) {
    ui.horizontal(|ui| {
        let (r, _) = ui.allocate_exact_size(egui::vec2(22.0, 12.0), egui::Sense::hover());
        if let Some(f) = fill {
            ui.painter().rect_filled(r, 0.0, f);
        }
        if dashed {
            let path = [r.left_top(), r.right_top(), r.right_bottom(), r.left_bottom(), r.left_top()];
            ui.painter().extend(egui::Shape::dashed_line(&path, stroke, 4.0, 3.0));
        } else {
            ui.painter().rect_stroke(r, 0.0, stroke, egui::StrokeKind::Middle);
        }
        ui.label(name);
    });
}
