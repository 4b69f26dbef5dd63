//! A scatter plot whose points are coloured by a value (e.g. validation
//! accuracy of each hyperparameter trial), with the colormap's legend.

use egui_plot::{Plot, PlotPoints, Points};

use super::legend::legend;
use crate::render::colormap::Colormap;

/// `points` are (x, y, value); values map onto `range` through `map`.
/// Returns the plot's rectangle (for PNG export).
pub fn value_scatter(ui: &mut egui::Ui, id: &str, points: &[[f64; 3]], labels: [&str; 2], map: Colormap, range: [f32; 2], value_label: &str) -> egui::Rect {
    legend(ui, map, range, value_label, 200.0);
    let span = (range[1] - range[0]).max(1e-6);
    Plot::new(id)
        .x_axis_label(labels[0])
        .y_axis_label(labels[1])
        .show(ui, |p| {
            for (i, q) in points.iter().enumerate() {
                let [r, g, b] = map.sample((q[2] as f32 - range[0]) / span);
                p.points(Points::new(format!("trial {}", i + 1), PlotPoints::from(vec![[q[0], q[1]]])).radius(6.0).color(egui::Color32::from_rgb(r, g, b)));
            }
        })
        .response
        .rect
}
