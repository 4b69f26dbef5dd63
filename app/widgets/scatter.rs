//! A scatter plot whose points are coloured by a value (e.g. validation
//! accuracy of each hyperparameter trial), with the colormap's legend.

use egui_plot::{Legend, MarkerShape, Plot, PlotPoints, Points};

use super::legend::legend;
use crate::render::colormap::Colormap;

/// Named series of (x, y, value) points, each with its marker shape;
/// values map onto `range` through `map`. Returns the plot's rectangle
/// (for PNG export).
pub fn value_scatter(
    ui: &mut egui::Ui,
    id: &str,
    series: &[(&str, MarkerShape, Vec<[f64; 3]>)],
    labels: [&str; 2],
    map: Colormap,
    range: [f32; 2],
    value_label: &str,
) -> egui::Rect {
    legend(ui, map, range, value_label, 200.0);
    let span = (range[1] - range[0]).max(1e-6);
    Plot::new(id)
        .legend(Legend::default())
        .x_axis_label(labels[0])
        .y_axis_label(labels[1])
        .show(ui, |p| {
            for (name, shape, points) in series {
                for q in points {
                    let [r, g, b] = map.sample((q[2] as f32 - range[0]) / span);
                    // one entry per point (each has its own colour), all under the series' name
                    p.points(Points::new(*name, PlotPoints::from(vec![[q[0], q[1]]])).shape(*shape).radius(6.0).color(egui::Color32::from_rgb(r, g, b)));
                }
            }
        })
        .response
        .rect
}
