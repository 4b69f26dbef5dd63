//! Optimizers on loss surfaces: SGD, momentum, Nesterov, AdaGrad, RMSProp
//! and Adam (the engine's own) walk down the same 2D surface from the same
//! start, drawn over a heat map of the loss, with a loss-per-step plot.
//! Steps are a few flops each, so they run on the UI thread.

use std::sync::Arc;

use egui_plot::{Legend, Line, Plot, PlotPoints};
use vislab_engine::optim::{AdaGrad, Adam, Momentum, Nesterov, Optimizer, RmsProp, Sgd};
use vislab_engine::surface::{Descent, Halt, Kind, Surface};

use super::{Lab, LabInfo};
use crate::render::colormap::Colormap;
use crate::render::image::{ScalarImage, show_image};
use crate::widgets::legend::legend;

/// Heat-map resolution.
const GRID: usize = 200;
/// Levels of the optional contour-like banding.
const BANDS: f32 = 14.0;
/// A descent stops here, however long Play runs.
const MAX_STEPS: usize = 2000;

const NAMES: [&str; 6] = ["SGD", "Momentum", "Nesterov", "AdaGrad", "RMSProp", "Adam"];
const COLORS: [[u8; 3]; 6] = [[255, 255, 255], [255, 70, 70], [255, 160, 0], [255, 60, 255], [0, 210, 255], [150, 255, 90]];

pub struct OptimizationLab {
    surface: Surface,
    start: [f64; 2],
    /// SGD, momentum and Nesterov scale the gradient; AdaGrad, RMSProp and
    /// Adam take steps of about `lr` whatever its size, so each family has
    /// its own rate.
    lr: f32,
    adaptive_lr: f32,
    rho: f32,
    decay: f32,
    beta1: f32,
    beta2: f32,
    shown: [bool; 6],
    descents: Vec<Descent>,
    playing: bool,
    steps_per_second: f32,
    /// Fractional steps owed by the animation clock.
    owed: f32,
    bands: bool,
    /// Plot log10 of the loss (only where the loss stays positive).
    log_plot: bool,
    heat: Arc<ScalarImage>,
    heat_range: [f32; 2],
    status: String,
}

impl Default for OptimizationLab {
    fn default() -> Self {
        Self::new()
    }
}

impl OptimizationLab {
    pub fn new() -> Self {
        let surface = Surface::new(Kind::Quadratic);
        let mut lab = OptimizationLab {
            start: surface.default_start(),
            lr: surface.default_lr(),
            adaptive_lr: adaptive_lr(surface.kind),
            surface,
            rho: 0.9,
            decay: 0.9,
            beta1: 0.9,
            beta2: 0.999,
            shown: [true; 6],
            descents: Vec::new(),
            playing: false,
            steps_per_second: 30.0,
            owed: 0.0,
            bands: true,
            log_plot: true,
            heat: Arc::new(ScalarImage::fresh(1, 1, vec![1.0])),
            heat_range: [0.0, 1.0],
            status: String::new(),
        };
        lab.set_surface(Kind::Quadratic);
        lab
    }

    fn set_surface(&mut self, kind: Kind) {
        self.surface = Surface::new(kind);
        self.start = self.surface.default_start();
        self.lr = self.surface.default_lr();
        self.adaptive_lr = adaptive_lr(kind);
        self.redraw_heat();
        self.reset();
    }

    /// The heat map: log(1 + loss - min), offset to stay positive (the image
    /// shader treats values <= 0 as invalid), optionally in bands.
    fn redraw_heat(&mut self) {
        let losses = self.surface.grid(GRID);
        let min = losses.iter().copied().fold(f64::INFINITY, f64::min);
        let heights: Vec<f32> = losses.iter().map(|l| (l - min).ln_1p() as f32).collect();
        let top = heights.iter().copied().fold(0.0f32, f32::max).max(1e-6);
        let values = heights.iter().map(|h| 1.0 + if self.bands { (h / top * BANDS).floor() / BANDS * top } else { *h }).collect();
        self.heat = Arc::new(ScalarImage::fresh(GRID as u32, GRID as u32, values));
        self.heat_range = [1.0, 1.0 + top];
    }

    fn optimizers(&self) -> [Box<dyn Optimizer>; 6] {
        [
            Box::new(Sgd::new(self.lr)),
            Box::new(Momentum::new(self.lr, self.rho)),
            Box::new(Nesterov::new(self.lr, self.rho)),
            Box::new(AdaGrad::new(self.adaptive_lr)),
            Box::new(RmsProp::new(self.adaptive_lr, self.decay)),
            Box::new(Adam::new(self.adaptive_lr).betas(self.beta1, self.beta2)),
        ]
    }

    /// Every optimizer back at the start with fresh state.
    fn reset(&mut self) {
        self.descents = self.optimizers().into_iter().map(|o| Descent::new(o, &self.surface, self.start)).collect();
        self.owed = 0.0;
        self.status.clear();
    }

    fn steps(&self) -> usize {
        self.descents.iter().map(|d| d.path.len() - 1).max().unwrap_or(0)
    }

    fn step(&mut self) {
        if self.steps() >= MAX_STEPS {
            self.playing = false;
            return;
        }
        for d in &mut self.descents {
            if let Err(e) = d.step(&self.surface) {
                // a bad hyper-parameter: say so and stop the animation
                self.status = format!("{}: {e}", d.kind());
                self.playing = false;
            }
        }
    }

    fn animate(&mut self, ui: &egui::Ui) {
        if !self.playing {
            return;
        }
        self.owed += ui.input(|i| i.stable_dt).min(0.1) * self.steps_per_second;
        while self.owed >= 1.0 && self.playing {
            self.owed -= 1.0;
            self.step();
        }
        ui.ctx().request_repaint();
    }

    fn to_screen(&self, rect: egui::Rect, p: [f64; 2]) -> egui::Pos2 {
        let [x0, x1, y0, y1] = self.surface.bounds();
        // far-off points (a diverging path) are pinned near the view, so
        // screen coordinates stay finite
        let u = ((p[0] - x0) / (x1 - x0)).clamp(-10.0, 11.0) as f32;
        let v = ((p[1] - y0) / (y1 - y0)).clamp(-10.0, 11.0) as f32;
        egui::pos2(rect.left() + u * rect.width(), rect.bottom() - v * rect.height())
    }

    fn screen_to_point(&self, rect: egui::Rect, pos: egui::Pos2) -> [f64; 2] {
        let [x0, x1, y0, y1] = self.surface.bounds();
        let u = ((pos.x - rect.left()) / rect.width()) as f64;
        let v = ((rect.bottom() - pos.y) / rect.height()) as f64;
        [x0 + u * (x1 - x0), y0 + v * (y1 - y0)]
    }

    /// The heat map with the paths over it; a click moves the start.
    fn surface_view(&mut self, ui: &mut egui::Ui, side: f32) {
        let inner = ui.allocate_ui(egui::vec2(side, side), |ui| show_image(ui, &self.heat, self.heat_range, Colormap::Viridis));
        let rect = egui::Rect::from_min_size(inner.response.rect.min, egui::vec2(side, side).min(inner.response.rect.size()));
        let click = ui.interact(rect, inner.response.id.with("surface click"), egui::Sense::click());
        if let Some(pos) = click.interact_pointer_pos().filter(|_| click.clicked()) {
            self.start = self.screen_to_point(rect, pos);
            self.reset();
        }
        let painter = ui.painter_at(rect);
        let outline = egui::Stroke::new(4.0, egui::Color32::from_black_alpha(160));
        for (i, d) in self.descents.iter().enumerate().filter(|(i, _)| self.shown[*i]) {
            let [r, g, b] = COLORS[i];
            let color = egui::Color32::from_rgb(r, g, b);
            let pts: Vec<egui::Pos2> = d.path.iter().map(|p| self.to_screen(rect, *p)).collect();
            painter.add(egui::Shape::line(pts.clone(), outline));
            painter.add(egui::Shape::line(pts, egui::Stroke::new(2.0, color)));
            painter.circle(self.to_screen(rect, d.position()), 4.5, color, egui::Stroke::new(1.0, egui::Color32::BLACK));
        }
        let s = self.to_screen(rect, self.start);
        painter.circle_stroke(s, 6.0, egui::Stroke::new(2.0, egui::Color32::BLACK));
        painter.circle_stroke(s, 4.0, egui::Stroke::new(2.0, egui::Color32::WHITE));
        if let Some(pos) = click.hover_pos() {
            let [x, y] = self.screen_to_point(rect, pos);
            click.on_hover_text(format!("({x:.3}, {y:.3}): loss {:.4}; click to start here", self.surface.loss([x, y])));
        }
    }

    fn loss_plot(&self, ui: &mut egui::Ui) {
        let log = self.log_plot && self.surface.bounded_below();
        let y_label = if log { "log10 loss" } else { "loss" };
        Plot::new("loss per step").legend(Legend::default()).x_axis_label("step").y_axis_label(y_label).show(ui, |p| {
            for (i, d) in self.descents.iter().enumerate().filter(|(i, _)| self.shown[*i]) {
                let [r, g, b] = COLORS[i];
                // white is invisible on the plot's background: SGD in gray
                let color = if i == 0 { egui::Color32::from_gray(110) } else { egui::Color32::from_rgb(r, g, b) };
                let y = |l: f64| if log { l.max(1e-12).log10() } else { l };
                let pts: Vec<[f64; 2]> = d.losses.iter().enumerate().map(|(s, l)| [s as f64, y(*l)]).collect();
                p.line(Line::new(NAMES[i], PlotPoints::from(pts)).color(color).width(2.0));
            }
        });
    }
}

fn adaptive_lr(kind: Kind) -> f32 {
    match kind {
        Kind::Quadratic => 0.1,
        Kind::Saddle => 0.05,
        Kind::Rosenbrock => 0.02,
        Kind::Logistic => 0.2,
    }
}

/// A labelled slider; true when moved.
fn slider(ui: &mut egui::Ui, v: &mut f32, range: std::ops::RangeInclusive<f32>, log: bool, text: &str) -> bool {
    ui.add(egui::Slider::new(v, range).logarithmic(log).text(text)).changed()
}

impl Lab for OptimizationLab {
    fn info(&self) -> LabInfo {
        LabInfo { name: "optimization", title: "Optimizers on loss surfaces", section: "Classification" }
    }

    fn controls(&mut self, ui: &mut egui::Ui) {
        let mut kind = self.surface.kind;
        egui::ComboBox::from_label("surface").selected_text(kind.name()).show_ui(ui, |ui| {
            for k in Kind::ALL {
                ui.selectable_value(&mut kind, k, k.name());
            }
        });
        if kind != self.surface.kind {
            self.set_surface(kind);
        }
        if ui.checkbox(&mut self.bands, "contour bands").changed() {
            self.redraw_heat();
        }
        ui.add_enabled(self.surface.bounded_below(), egui::Checkbox::new(&mut self.log_plot, "log scale loss plot"));
        ui.label(format!("start ({:.2}, {:.2}): click the map to move it", self.start[0], self.start[1]));
        ui.separator();
        let mut changed = slider(ui, &mut self.lr, 1e-5..=2.0, true, "lr: SGD, momentum, Nesterov");
        changed |= slider(ui, &mut self.adaptive_lr, 1e-4..=2.0, true, "lr: AdaGrad, RMSProp, Adam");
        changed |= slider(ui, &mut self.rho, 0.0..=0.99, false, "momentum rho");
        changed |= slider(ui, &mut self.decay, 0.0..=0.999, false, "RMSProp decay");
        changed |= slider(ui, &mut self.beta1, 0.0..=0.99, false, "Adam beta1");
        changed |= slider(ui, &mut self.beta2, 0.0..=0.9999, false, "Adam beta2");
        if changed {
            self.reset();
        }
        ui.separator();
        ui.horizontal(|ui| {
            if ui.button(if self.playing { "Pause" } else { "Play" }).clicked() {
                self.playing = !self.playing;
            }
            if ui.button("Step").clicked() {
                self.playing = false;
                self.step();
            }
            if ui.button("Reset").clicked() {
                self.playing = false;
                self.reset();
            }
        });
        ui.add(egui::Slider::new(&mut self.steps_per_second, 1.0..=240.0).logarithmic(true).text("steps per second"));
        ui.label(format!("step {}", self.steps()));
        ui.separator();
        for (i, d) in self.descents.iter().enumerate() {
            let [r, g, b] = COLORS[i];
            let name = egui::RichText::new(NAMES[i]).color(egui::Color32::from_rgb(r, g, b)).background_color(egui::Color32::from_gray(40)).strong();
            ui.horizontal(|ui| {
                ui.checkbox(&mut self.shown[i], name);
                let note = match d.halted {
                    Some(Halt::Left) => " (left the region)",
                    Some(Halt::Diverged) => " (diverged)",
                    None => "",
                };
                ui.label(format!("loss {:.4}{note}", d.losses.last().copied().unwrap_or(f64::NAN)));
            });
        }
        if !self.status.is_empty() {
            ui.colored_label(egui::Color32::from_rgb(200, 60, 60), &self.status);
        }
        ui.separator();
        legend(ui, Colormap::Viridis, [0.0, self.heat_range[1] - 1.0], "ln(1 + loss - min)", 200.0);
    }

    fn view(&mut self, ui: &mut egui::Ui) {
        self.animate(ui);
        let side = (ui.available_height() - 24.0).min(ui.available_width() * 0.55).max(64.0);
        ui.horizontal_top(|ui| {
            ui.vertical(|ui| {
                ui.label(egui::RichText::new(format!("{}: paths from the same start", self.surface.kind.name())).strong());
                self.surface_view(ui, side);
            });
            ui.vertical(|ui| {
                ui.label(egui::RichText::new("loss per step").strong());
                self.loss_plot(ui);
            });
        });
    }

    fn summary(&self) -> String {
        let best = self.descents.iter().enumerate().min_by(|a, b| a.1.losses.last().unwrap_or(&f64::NAN).total_cmp(b.1.losses.last().unwrap_or(&f64::NAN)));
        let lead = best.map_or(String::new(), |(i, d)| format!(", lowest: {} {:.4}", NAMES[i], d.losses.last().copied().unwrap_or(f64::NAN)));
        format!("{}: step {}{lead}", self.surface.kind.name(), self.steps())
    }
}
