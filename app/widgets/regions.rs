//! A 2D classification plot over the square [-extent, extent]^2: decision
//! regions (one class per lattice cell, drawn light), straight lines (a
//! linear classifier's hyperplanes), and the data points in class colours.

use vislab_engine::data::Dataset;

/// Class colours (regions lighter, points darker).
pub const COLORS: [[u8; 3]; 6] = [[66, 133, 244], [234, 67, 53], [251, 188, 5], [52, 168, 83], [171, 71, 188], [0, 172, 193]];

pub fn class_color(c: usize) -> egui::Color32 {
    let [r, g, b] = COLORS[c % COLORS.len()];
    egui::Color32::from_rgb(r, g, b)
}

fn lighten(c: u8) -> u8 {
    (c as u16 + (255 - c as u16) * 3 / 5) as u8
}

/// The lattice cell centres, row by row from the bottom: `grid * grid`
/// points `[x, y]` flattened.
pub fn lattice(grid: usize, extent: f32) -> Vec<f32> {
    let step = 2.0 * extent / grid as f32;
    (0..grid * grid).flat_map(|i| [-extent + (i % grid) as f32 * step + step / 2.0, -extent + (i / grid) as f32 * step + step / 2.0]).collect()
}

pub struct RegionPlot<'a> {
    pub extent: f32,
    /// Class of each lattice cell (as `lattice` orders them), if known.
    pub regions: Option<(&'a [u8], usize)>,
    /// Segments to draw, each with the class it belongs to.
    pub lines: Vec<([f32; 2], [f32; 2], usize)>,
    pub data: &'a Dataset,
}

impl RegionPlot<'_> {
    pub fn show(&self, ui: &mut egui::Ui, size: f32) -> egui::Rect {
        let (rect, _) = ui.allocate_exact_size(egui::vec2(size, size), egui::Sense::hover());
        let painter = ui.painter_at(rect);
        painter.rect_filled(rect, 0.0, egui::Color32::from_gray(240));
        let e = self.extent;
        let to_screen = |p: [f32; 2]| egui::pos2(rect.left() + (p[0] + e) / (2.0 * e) * rect.width(), rect.bottom() - (p[1] + e) / (2.0 * e) * rect.height());
        if let Some((cells, grid)) = self.regions {
            let cell = rect.width() / grid as f32;
            for (i, &c) in cells.iter().enumerate() {
                let (gx, gy) = (i % grid, i / grid);
                let [r, g, b] = COLORS[c as usize % COLORS.len()];
                let min = egui::pos2(rect.left() + gx as f32 * cell, rect.bottom() - (gy + 1) as f32 * cell);
                painter.rect_filled(egui::Rect::from_min_size(min, egui::vec2(cell + 0.5, cell + 0.5)), 0.0, egui::Color32::from_rgb(lighten(r), lighten(g), lighten(b)));
            }
        }
        for (a, b, c) in &self.lines {
            painter.line_segment([to_screen(*a), to_screen(*b)], egui::Stroke::new(2.0, class_color(*c)));
        }
        for (x, &y) in self.data.x().chunks(2).zip(self.data.y()) {
            if let [px, py] = *x {
                painter.circle(to_screen([px, py]), 3.0, class_color(y), egui::Stroke::new(0.6, egui::Color32::from_gray(30)));
            }
        }
        rect
    }
}
