//! A confusion matrix: one cell per (true, predicted) pair, shaded by the
//! fraction of the true class's samples it holds, with the count written in.

use vislab_engine::metrics::Confusion;

use crate::render::colormap::Colormap;

/// Draw `c` with `names` on the axes in a square about `side` points
/// wide; returns the cell clicked, as (true class, predicted class).
pub fn confusion_matrix(ui: &mut egui::Ui, c: &Confusion, names: &[String], side: f32) -> Option<(usize, usize)> {
    let n = c.classes().max(1);
    let margin = 56.0;
    let cell = ((side - margin) / n as f32).max(2.0);
    let (rect, resp) = ui.allocate_exact_size(egui::vec2(margin + cell * n as f32, margin + cell * n as f32), egui::Sense::click());
    let painter = ui.painter_at(rect);
    let origin = rect.min + egui::vec2(margin, margin);
    let font = egui::FontId::proportional((cell * 0.32).clamp(7.0, 13.0));
    let text_color = ui.visuals().text_color();
    let name = |i: usize| names.get(i).cloned().unwrap_or_else(|| i.to_string());
    painter.text(rect.min + egui::vec2(margin + cell * n as f32 / 2.0, 4.0), egui::Align2::CENTER_TOP, "predicted", egui::FontId::proportional(12.0), text_color);
    painter.text(rect.min + egui::vec2(2.0, margin - 14.0), egui::Align2::LEFT_TOP, "true", egui::FontId::proportional(12.0), text_color);
    // with many classes (CIFAR-100) label every few and leave counts out
    let every = (12.0 / cell).ceil().max(1.0) as usize;
    for i in (0..n).step_by(every) {
        let short: String = name(i).chars().take(6).collect();
        painter.text(origin + egui::vec2((i as f32 + 0.5) * cell, -4.0), egui::Align2::CENTER_BOTTOM, &short, font.clone(), text_color);
        painter.text(origin + egui::vec2(-4.0, (i as f32 + 0.5) * cell), egui::Align2::RIGHT_CENTER, &short, font.clone(), text_color);
    }
    for t in 0..n {
        let total = c.row_sum(t).max(1) as f32;
        for p in 0..n {
            let count = c.get(t, p);
            let frac = count as f32 / total;
            let [r, g, b] = Colormap::Viridis.sample(frac);
            let r0 = egui::Rect::from_min_size(origin + egui::vec2(p as f32 * cell, t as f32 * cell), egui::vec2(cell, cell));
            painter.rect_filled(r0.shrink(0.5), 0.0, egui::Color32::from_rgb(r, g, b));
            if count > 0 && cell >= 14.0 {
                let ink = if frac > 0.6 { egui::Color32::BLACK } else { egui::Color32::WHITE };
                painter.text(r0.center(), egui::Align2::CENTER_CENTER, count.to_string(), font.clone(), ink);
            }
        }
    }
    let pos = resp.interact_pointer_pos().filter(|_| resp.clicked())?;
    let rel = (pos - origin) / cell;
    (rel.x >= 0.0 && rel.y >= 0.0 && (rel.x as usize) < n && (rel.y as usize) < n).then_some((rel.y as usize, rel.x as usize))
}
