//! A small histogram drawn with the painter (many fit on a screen, unlike
//! full plots): bars, the value range under them, mean and std above.

use vislab_engine::metrics::Histogram;

use super::legend::fmt_value;

pub fn histogram(ui: &mut egui::Ui, h: &Histogram, size: egui::Vec2, color: egui::Color32, title: &str) {
    ui.vertical(|ui| {
        ui.label(egui::RichText::new(format!("{title}  mean {}  std {}", fmt_value(h.mean), fmt_value(h.std))).small());
        let (rect, _) = ui.allocate_exact_size(size, egui::Sense::hover());
        let painter = ui.painter_at(rect);
        painter.rect_filled(rect, 2.0, ui.visuals().extreme_bg_color);
        let top = h.counts.iter().copied().max().unwrap_or(0).max(1) as f32;
        let w = rect.width() / h.counts.len().max(1) as f32;
        for (i, &c) in h.counts.iter().enumerate() {
            let bh = rect.height() * c as f32 / top;
            let x = rect.left() + i as f32 * w;
            painter.rect_filled(egui::Rect::from_min_max(egui::pos2(x, rect.bottom() - bh), egui::pos2(x + w - 0.5, rect.bottom())), 0.0, color);
        }
        ui.horizontal(|ui| {
            ui.set_width(size.x);
            ui.label(egui::RichText::new(fmt_value(h.range[0])).small());
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                ui.label(egui::RichText::new(fmt_value(h.range[1])).small());
            });
        });
    });
}
