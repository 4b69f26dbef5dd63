//! A colormap legend: a gradient bar with its value range and units.

use crate::render::colormap::Colormap;

/// Draw a horizontal legend `width` points wide.
pub fn legend(ui: &mut egui::Ui, map: Colormap, range: [f32; 2], label: &str, width: f32) {
    ui.vertical(|ui| {
        ui.label(egui::RichText::new(label).small());
        let (rect, _) = ui.allocate_exact_size(egui::vec2(width, 12.0), egui::Sense::hover());
        let mut mesh = egui::Mesh::default();
        let steps = 32;
        for i in 0..=steps {
            let t = i as f32 / steps as f32;
            let [r, g, b] = map.sample(t);
            let c = egui::Color32::from_rgb(r, g, b);
            let x = rect.left() + t * rect.width();
            mesh.colored_vertex(egui::pos2(x, rect.top()), c);
            mesh.colored_vertex(egui::pos2(x, rect.bottom()), c);
            if i > 0 {
                let k = 2 * i as u32;
                mesh.add_triangle(k - 2, k - 1, k);
                mesh.add_triangle(k - 1, k + 1, k);
            }
        }
        ui.painter().add(egui::Shape::mesh(mesh));
        ui.horizontal(|ui| {
            ui.set_width(width);
            ui.label(egui::RichText::new(fmt_value(range[0])).small());
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                ui.label(egui::RichText::new(fmt_value(range[1])).small());
            });
        });
    });
}

/// Short, readable number: 4 significant digits, scientific when tiny or huge.
pub fn fmt_value(v: f32) -> String {
    let a = v.abs();
    if v == 0.0 {
        "0".into()
    } else if !(1e-3..1e5).contains(&a) {
        format!("{v:.3e}")
    } else {
        let decimals = (3 - a.log10().floor() as i32).clamp(0, 6) as usize;
        format!("{v:.decimals$}")
    }
}

#[cfg(test)]
mod tests {
    use super::fmt_value;

    #[test]
    fn values_read_well() {
        assert_eq!(fmt_value(0.0), "0");
        assert_eq!(fmt_value(1.23456), "1.235");
        assert_eq!(fmt_value(1234.5), "1234");
        assert_eq!(fmt_value(0.012345), "0.01235");
        assert_eq!(fmt_value(1.5e-6), "1.500e-6");
    }
}
