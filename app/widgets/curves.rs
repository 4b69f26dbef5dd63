//! Training curves shared by every lab that trains: named series of (x, y)
//! points, drawn raw (faint) and EMA-smoothed (bold), exported as CSV.

use egui_plot::{Legend, Line, Plot, PlotPoints};
use vislab_engine::csv_file;

/// One named curve and its exponential moving average.
pub struct Series {
    pub name: String,
    pub points: Vec<[f64; 2]>,
    smoothed: Vec<[f64; 2]>,
}

/// A plot's worth of curves sharing one x axis.
pub struct Curves {
    id: String,
    x_label: String,
    y_label: String,
    pub series: Vec<Series>,
    /// EMA weight of the past, in [0, 1); 0 draws the raw curve only.
    pub smoothing: f64,
    /// Fix the y range to [0, 1] (accuracies).
    pub unit_range: bool,
    /// Where the legend sits (top right unless set).
    pub legend_corner: Option<egui_plot::Corner>,
}

impl Curves {
    pub fn new(id: &str, x_label: &str, y_label: &str) -> Self {
        Curves { id: id.into(), x_label: x_label.into(), y_label: y_label.into(), series: Vec::new(), smoothing: 0.0, unit_range: false, legend_corner: None }
    }

    pub fn smoothed(mut self, smoothing: f64) -> Self {
        self.smoothing = smoothing;
        self
    }

    pub fn unit(mut self) -> Self {
        self.unit_range = true;
        self
    }

    /// Put the legend in `corner` (curves that end near the top, like IoU).
    pub fn legend_at(mut self, corner: egui_plot::Corner) -> Self {
        self.legend_corner = Some(corner);
        self
    }

    /// Append a point to `series`, creating it on first use.
    pub fn push(&mut self, series: &str, x: f64, y: f64) {
        if !y.is_finite() {
            return;
        }
        let i = match self.series.iter().position(|s| s.name == series) {
            Some(i) => i,
            None => {
                self.series.push(Series { name: series.into(), points: Vec::new(), smoothed: Vec::new() });
                self.series.len() - 1
            }
        };
        let s = &mut self.series[i];
        let a = self.smoothing.clamp(0.0, 0.999);
        let ema = s.smoothed.last().map_or(y, |p| a * p[1] + (1.0 - a) * y);
        s.points.push([x, y]);
        s.smoothed.push([x, ema]);
    }

    pub fn clear(&mut self) {
        self.series.clear();
    }

    pub fn is_empty(&self) -> bool {
        self.series.iter().all(|s| s.points.is_empty())
    }

    /// Last raw value of a series.
    pub fn last(&self, series: &str) -> Option<f64> {
        self.series.iter().find(|s| s.name == series)?.points.last().map(|p| p[1])
    }

    /// Draw the plot with the given height; returns the plot's rectangle (for PNG export).
    pub fn show(&self, ui: &mut egui::Ui, height: f32) -> egui::Rect {
        let legend = self.legend_corner.map_or_else(Legend::default, |c| Legend::default().position(c));
        let mut plot = Plot::new(&self.id).height(height).legend(legend).x_axis_label(&self.x_label).y_axis_label(&self.y_label);
        if self.unit_range {
            plot = plot.include_y(0.0).include_y(1.0);
        }
        let smooth = self.smoothing > 0.0;
        plot.show(ui, |p| {
            for (i, s) in self.series.iter().enumerate() {
                let color = palette(i);
                if smooth && s.points.len() > 1 {
                    p.line(Line::new(format!("{} (raw)", s.name), PlotPoints::from(s.points.clone())).color(color.gamma_multiply(0.35)));
                    p.line(Line::new(s.name.clone(), PlotPoints::from(s.smoothed.clone())).color(color).width(2.0));
                } else {
                    p.line(Line::new(s.name.clone(), PlotPoints::from(s.points.clone())).color(color).width(2.0));
                }
            }
        })
        .response
        .rect
    }

    /// Slider for the EMA weight; recomputes the smoothed curves when moved.
    pub fn smoothing_slider(&mut self, ui: &mut egui::Ui) {
        let mut a = self.smoothing;
        if ui.add(egui::Slider::new(&mut a, 0.0..=0.99).text("smoothing (EMA)")).changed() {
            self.smoothing = a;
            for s in &mut self.series {
                let mut ema = None;
                s.smoothed = s
                    .points
                    .iter()
                    .map(|p| {
                        let e = ema.map_or(p[1], |m: f64| a * m + (1.0 - a) * p[1]);
                        ema = Some(e);
                        [p[0], e]
                    })
                    .collect();
            }
        }
    }

    /// Long-format CSV: `series,x,y`, one row per point.
    pub fn to_csv(&self) -> String {
        let rows = self.series.iter().flat_map(|s| s.points.iter().map(|p| [s.name.clone(), p[0].to_string(), p[1].to_string()]));
        csv_file::to_string(&["series", &self.x_label, &self.y_label], rows)
    }
}

/// Distinct colours for series, in order.
pub fn palette(i: usize) -> egui::Color32 {
    const C: [[u8; 3]; 8] = [[66, 133, 244], [234, 67, 53], [251, 188, 5], [52, 168, 83], [171, 71, 188], [0, 172, 193], [255, 112, 67], [120, 144, 156]];
    let [r, g, b] = C[i % C.len()];
    egui::Color32::from_rgb(r, g, b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ema_and_csv() {
        let mut c = Curves::new("t", "step", "loss").smoothed(0.5);
        c.push("train", 0.0, 4.0);
        c.push("train", 1.0, 2.0);
        c.push("train", 2.0, f64::NAN);
        c.push("val, held out", 1.0, 3.0);
        // EMA: 4, 0.5*4 + 0.5*2 = 3
        assert_eq!(c.series[0].smoothed, vec![[0.0, 4.0], [1.0, 3.0]]);
        assert_eq!(c.last("train"), Some(2.0));
        assert_eq!(c.to_csv(), "series,step,loss\ntrain,0,4\ntrain,1,2\n\"val, held out\",1,3\n");
    }
}
