//! Generative adversarial networks with MLPs, trained in alternation on a
//! worker thread. On 2D points (ring, gaussians, line, or points drawn with
//! the mouse) the plot shows D's output as a heat map, the real samples,
//! G's samples and G's image of a noise grid; on the built-in 8x8 digits it
//! shows G's images for fixed noise and over a grid of noise. Step D or G
//! by hand (k steps each) or train for a number of rounds, and watch both
//! losses and D's mean output on reals and fakes.

use egui::{Color32, Pos2, Rect, Stroke, pos2, vec2};
use vislab_engine::gan::worker::{GanEvent, GanWorker};
use vislab_engine::gan::{self, GanConfig, GanLoss, GanShape, GanTrainer, GanView, Net, RealDist, ViewSpec};
use vislab_engine::models::Activation;

use super::{Lab, LabInfo};
use crate::widgets::curves::Curves;
use crate::widgets::export::PngExport;
use crate::widgets::mosaic::Mosaic;
use vislab_engine::data::digits;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Dist {
    Ring,
    Gaussians,
    Line,
    Draw,
    Digits,
}

impl Dist {
    const ALL: [Dist; 5] = [Dist::Ring, Dist::Gaussians, Dist::Line, Dist::Draw, Dist::Digits];

    fn images(self) -> bool {
        self == Dist::Digits
    }

    fn name(self) -> &'static str {
        match self {
            Dist::Ring => "ring",
            Dist::Gaussians => "8 gaussians",
            Dist::Line => "line",
            Dist::Draw => "draw points",
            Dist::Digits => "digits 8x8 (images)",
        }
    }
}

/// Spread of the gaussian around each drawn point.
const DRAW_JITTER: f32 = 0.05;
/// The plot's name for accessibility (and tests).
pub const PLOT_LABEL: &str = "GAN plane";
/// During a run, a view every this many rounds.
const VIEW_EVERY: usize = 25;

/// Heat map colours of D(x) = 0 (fake), 1/2 and 1 (real).
const FAKE_BG: [f32; 3] = [96.0, 140.0, 230.0];
const MID_BG: [f32; 3] = [244.0, 244.0, 244.0];
const REAL_BG: [f32; 3] = [236.0, 150.0, 70.0];
const REAL_DOT: Color32 = Color32::from_rgb(25, 25, 25);
const FAKE_DOT: Color32 = Color32::from_rgb(214, 0, 140);
const GRID_LINE: Color32 = Color32::from_rgba_premultiplied(0, 90, 90, 170);

fn heat(p: f32) -> [u8; 3] {
    let p = if p.is_finite() { p.clamp(0.0, 1.0) } else { 0.5 };
    let (a, b, t) = if p < 0.5 { (FAKE_BG, MID_BG, p * 2.0) } else { (MID_BG, REAL_BG, p * 2.0 - 1.0) };
    [0, 1, 2].map(|k| (a[k] + (b[k] - a[k]) * t).round() as u8)
}

/// Regions drawn last frame, for PNG export.
#[derive(Default)]
struct Regions {
    plot: Option<Rect>,
    losses: Option<Rect>,
    view: Option<Rect>,
}

/// The image views: G of the shown noise, G over the noise lattice, reals.
struct Mosaics {
    fake: Mosaic,
    lattice: Mosaic,
    real: Mosaic,
}

/// Images in [-1, 1] as a mosaic of [0, 1] tiles.
fn mosaic(x: &[f32], n: usize, cols: usize) -> Mosaic {
    let per = digits::SIDE * digits::SIDE;
    let v: Vec<f32> = x.iter().take(n * per).map(|p| (p + 1.0) / 2.0).collect();
    Mosaic::new(&v, digits::SIDE, cols)
}

pub struct GanLab {
    dist: Dist,
    /// The built-in digits as a real distribution (loaded once).
    digits: Result<RealDist, String>,
    mosaics: Option<Mosaics>,
    drawn: Vec<[f32; 2]>,
    noise: usize,
    g_width: usize,
    g_layers: usize,
    d_width: usize,
    d_layers: usize,
    g_act: Activation,
    d_act: Activation,
    loss: GanLoss,
    smoothing: bool,
    smooth_amount: f32,
    lr_d: f32,
    lr_g: f32,
    batch: usize,
    seed: u64,
    d_k: usize,
    g_k: usize,
    rounds: usize,
    spec: ViewSpec,
    worker: Option<GanWorker>,
    /// Last command the worker has finished.
    idle: u64,
    running: bool,
    paused: bool,
    /// The model makes images (else points).
    images_model: bool,
    /// Whether the chosen real distribution can be sampled (drawn points exist).
    real_ok: bool,
    view: Option<GanView>,
    heat: Option<egui::TextureHandle>,
    heat_dirty: bool,
    losses: Curves,
    d_out: Curves,
    last_d: Option<f32>,
    last_g: Option<f32>,
    rounds_done: usize,
    export: PngExport,
    regions: Regions,
    status: String,
}

impl Default for GanLab {
    fn default() -> Self {
        Self::new()
    }
}

impl GanLab {
    pub fn new() -> Self {
        let mut lab = GanLab {
            dist: Dist::Ring,
            digits: digits::load().map(|d| RealDist::images(d.x(), d.sample_len())).map_err(|e| format!("built-in digits: {e}")),
            mosaics: None,
            drawn: Vec::new(),
            noise: 2,
            g_width: 32,
            g_layers: 2,
            d_width: 32,
            d_layers: 2,
            g_act: Activation::Relu,
            d_act: Activation::LeakyRelu,
            loss: GanLoss::NonSaturating,
            smoothing: false,
            smooth_amount: 0.1,
            lr_d: 2e-3,
            lr_g: 2e-3,
            batch: 64,
            seed: 1,
            d_k: 1,
            g_k: 1,
            rounds: 2000,
            spec: ViewSpec::default(),
            worker: None,
            idle: 0,
            running: false,
            paused: false,
            images_model: false,
            real_ok: true,
            view: None,
            heat: None,
            heat_dirty: false,
            losses: Curves::new("gan_losses", "step (D and G)", "loss"),
            d_out: Curves::new("gan_d_out", "step (D and G)", "mean D(x)").unit(),
            last_d: None,
            last_g: None,
            rounds_done: 0,
            export: PngExport::default(),
            regions: Regions::default(),
            status: String::new(),
        };
        lab.reset();
        lab
    }

    /// The real distribution chosen, or why there is none yet.
    fn real(&self) -> Result<RealDist, String> {
        let r = match self.dist {
            Dist::Ring => RealDist::ring(),
            Dist::Gaussians => RealDist::gaussians(),
            Dist::Line => RealDist::line(),
            Dist::Draw => RealDist::Points { points: self.drawn.clone(), std: DRAW_JITTER },
            Dist::Digits => self.digits.clone()?,
        };
        r.check().map_err(|e| e.to_string())?;
        Ok(r)
    }

    fn config(&self) -> GanConfig {
        let images = self.dist.images();
        let shape = GanShape {
            data: if images { digits::SIDE * digits::SIDE } else { 2 },
            tanh_out: images,
            noise: self.noise,
            g_hidden: vec![self.g_width; self.g_layers],
            d_hidden: vec![self.d_width; self.d_layers],
            g_act: self.g_act,
            d_act: self.d_act,
        };
        GanConfig {
            loss: self.loss,
            smoothing: if self.smoothing { self.smooth_amount } else { 0.0 },
            lr_d: self.lr_d,
            lr_g: self.lr_g,
            batch: self.batch,
            d_steps: self.d_k,
            g_steps: self.g_k,
            ..GanConfig::new(shape, self.seed)
        }
    }

    /// Forget the curves and views and start a fresh model from the settings.
    fn reset(&mut self) {
        self.worker = None;
        self.real_ok = self.real().is_ok();
        let built = self.real().and_then(|r| GanTrainer::new(self.config(), r).map_err(|e| e.to_string()));
        match built {
            Ok(t) => self.start_worker(t, "new model".into()),
            Err(e) => {
                self.clear();
                self.status = e;
            }
        }
    }

    fn clear(&mut self) {
        self.idle = 0;
        self.running = false;
        self.paused = false;
        self.view = None;
        self.heat_dirty = true;
        self.mosaics = None;
        self.losses.clear();
        self.d_out.clear();
        self.last_d = None;
        self.last_g = None;
        self.rounds_done = 0;
    }

    fn start_worker(&mut self, t: GanTrainer, status: String) {
        self.clear();
        self.rounds_done = t.counts().2;
        self.images_model = t.config().shape.data != 2;
        self.spec = if t.config().shape.data == 2 { ViewSpec::default() } else { ViewSpec { noise_grid: 8, shown: 200, ..ViewSpec::default() } };
        match GanWorker::spawn(t, self.spec, VIEW_EVERY) {
            Ok(w) => {
                self.worker = Some(w);
                self.status = status;
            }
            Err(e) => self.status = e.to_string(),
        }
    }

    fn poll(&mut self) {
        let Some(w) = &self.worker else { return };
        let mut events = Vec::new();
        while let Ok(e) = w.events().try_recv() {
            events.push(e);
        }
        for e in events {
            match e {
                GanEvent::Step(s) => {
                    let name = match s.net {
                        Net::D => {
                            self.last_d = Some(s.loss);
                            "D loss"
                        }
                        Net::G => {
                            self.last_g = Some(s.loss);
                            "G loss"
                        }
                    };
                    self.losses.push(name, s.step as f64, s.loss as f64);
                }
                GanEvent::View(v) => {
                    let x = (v.d_steps + v.g_steps) as f64;
                    self.d_out.push("D(real)", x, v.d_real);
                    self.d_out.push("D(fake)", x, v.d_fake);
                    self.view = Some(*v);
                    self.heat_dirty = true;
                    self.mosaics = None;
                }
                GanEvent::Idle { command, rounds } => {
                    self.idle = command;
                    self.rounds_done = rounds;
                }
                GanEvent::RunEnded { rounds, stopped } => {
                    self.rounds_done = rounds;
                    self.running = false;
                    self.paused = false;
                    self.status = if stopped { format!("stopped after {rounds} rounds") } else { format!("finished ({rounds} rounds)") };
                }
                GanEvent::Saved(r) => {
                    self.status = match r {
                        Ok(p) => format!("saved {}", p.display()),
                        Err(e) => format!("cannot save: {e}"),
                    }
                }
                GanEvent::Failed(e) => {
                    self.running = false;
                    self.status = format!("failed: {e}");
                }
            }
        }
    }

    /// Tell the worker about a new real distribution (the model stays).
    fn real_changed(&mut self) {
        let real = self.real();
        self.real_ok = real.is_ok();
        match real {
            Ok(r) => match &mut self.worker {
                Some(w) => {
                    w.set_real(r);
                    self.status = format!("training on {}", self.dist.name());
                }
                None => self.reset(),
            },
            // The model stays; steps wait for data.
            Err(e) => self.status = e,
        }
    }

    fn save(&mut self) {
        let Some(path) = rfd::FileDialog::new().set_file_name("gan.safetensors").add_filter("safetensors", &["safetensors"]).save_file() else { return };
        if let Some(w) = &mut self.worker {
            w.save(path);
        }
    }

    fn load(&mut self) {
        let Some(path) = rfd::FileDialog::new().add_filter("safetensors", &["safetensors"]).pick_file() else { return };
        self.load_checkpoint(&path);
    }

    /// Load networks from a checkpoint; on error keep the current model.
    pub fn load_checkpoint(&mut self, path: &std::path::Path) {
        let real = match self.real() {
            Ok(r) => r,
            Err(e) => {
                self.status = format!("cannot load with this data: {e}");
                return;
            }
        };
        match gan::load(path, &self.config(), real) {
            Ok(t) => {
                let s = &t.config().shape;
                self.noise = s.noise;
                (self.g_layers, self.d_layers) = (s.g_hidden.len(), s.d_hidden.len());
                self.g_width = s.g_hidden.first().copied().unwrap_or(self.g_width);
                self.d_width = s.d_hidden.first().copied().unwrap_or(self.d_width);
                (self.g_act, self.d_act, self.loss) = (s.g_act, s.d_act, t.config().loss);
                self.start_worker(t, format!("loaded {}", path.display()));
            }
            Err(e) => self.status = format!("cannot load {}: {e}", path.display()),
        }
    }

    fn heat_texture(&mut self, ctx: &egui::Context) {
        if !self.heat_dirty {
            return;
        }
        self.heat_dirty = false;
        let Some(v) = &self.view else {
            self.heat = None;
            return;
        };
        let n = self.spec.grid;
        if v.d_grid.len() != n * n {
            return;
        }
        // The lattice's rows run from the bottom; an image's from the top.
        let rgb: Vec<u8> = (0..n).rev().flat_map(|r| v.d_grid[r * n..(r + 1) * n].iter().flat_map(|&p| heat(p))).collect();
        let img = egui::ColorImage::from_rgb([n, n], &rgb);
        match &mut self.heat {
            Some(t) => t.set(img, egui::TextureOptions::LINEAR),
            None => self.heat = Some(ctx.load_texture("gan_d_heat", img, egui::TextureOptions::LINEAR)),
        }
    }

    /// The plane with D's heat map, the noise grid's image, reals and fakes;
    /// in draw mode a click adds a point, a right click removes the nearest.
    fn plot(&mut self, ui: &mut egui::Ui, side: f32) -> Rect {
        let sense = if self.dist == Dist::Draw { egui::Sense::click() } else { egui::Sense::hover() };
        let (rect, resp) = ui.allocate_exact_size(vec2(side, side), sense);
        resp.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Canvas, true, PLOT_LABEL));
        let painter = ui.painter_at(rect);
        painter.rect_filled(rect, 0.0, Color32::from_gray(235));
        let e = self.spec.extent;
        let to_screen = |p: &[f32]| pos2(rect.left() + (p[0] + e) / (2.0 * e) * rect.width(), rect.bottom() - (p[1] + e) / (2.0 * e) * rect.height());
        if let Some(t) = &self.heat {
            painter.image(t.id(), rect, Rect::from_min_max(pos2(0.0, 0.0), pos2(1.0, 1.0)), Color32::WHITE);
        }
        if let Some(v) = &self.view {
            let (rows, cols) = (v.noise_rows, v.noise_cols);
            let at = |r: usize, c: usize| v.noise_map.get((r * cols + c) * 2..(r * cols + c) * 2 + 2).map(to_screen);
            let stroke = Stroke::new(1.0, GRID_LINE);
            for r in 0..rows {
                let line: Vec<Pos2> = (0..cols).filter_map(|c| at(r, c)).collect();
                painter.add(egui::Shape::line(line, stroke));
            }
            if rows > 1 {
                for c in 0..cols {
                    let line: Vec<Pos2> = (0..rows).filter_map(|r| at(r, c)).collect();
                    painter.add(egui::Shape::line(line, stroke));
                }
            }
            for p in v.real.chunks_exact(2) {
                painter.circle_filled(to_screen(p), 1.8, REAL_DOT);
            }
            for p in v.fake.chunks_exact(2) {
                painter.circle(to_screen(p), 2.4, FAKE_DOT, Stroke::new(0.5, Color32::WHITE));
            }
        }
        if self.dist == Dist::Draw {
            for p in &self.drawn {
                painter.circle_stroke(to_screen(p), 5.0, Stroke::new(1.5, REAL_DOT));
            }
            let hint = if self.drawn.is_empty() { "click to add points" } else { "click: add, right click: remove" };
            painter.text(rect.left_top() + vec2(4.0, 4.0), egui::Align2::LEFT_TOP, hint, egui::FontId::proportional(12.0), REAL_DOT);
            let to_data = |p: Pos2| [(p.x - rect.left()) / rect.width() * 2.0 * e - e, (rect.bottom() - p.y) / rect.height() * 2.0 * e - e];
            let mut changed = false;
            if resp.clicked()
                && let Some(p) = resp.interact_pointer_pos()
            {
                self.drawn.push(to_data(p));
                changed = true;
            }
            if resp.secondary_clicked()
                && let Some(p) = resp.interact_pointer_pos()
            {
                let q = to_data(p);
                let d2 = |a: &[f32; 2]| (a[0] - q[0]).powi(2) + (a[1] - q[1]).powi(2);
                if let Some((i, _)) = self.drawn.iter().enumerate().min_by(|a, b| d2(a.1).total_cmp(&d2(b.1))) {
                    self.drawn.remove(i);
                    changed = true;
                }
            }
            if changed {
                self.real_changed();
            }
        }
        painter.rect_stroke(rect, 0.0, Stroke::new(1.0, Color32::from_gray(90)), egui::StrokeKind::Inside);
        rect
    }

    /// What the plot's colours and marks mean.
    fn legend(&self, ui: &mut egui::Ui, width: f32) {
        ui.horizontal(|ui| {
            ui.label("D(x): 0 fake");
            let (rect, _) = ui.allocate_exact_size(vec2((width - 190.0).max(40.0), 12.0), egui::Sense::hover());
            let n = 32;
            for i in 0..n {
                let [r, g, b] = heat((i as f32 + 0.5) / n as f32);
                let x0 = rect.left() + rect.width() * i as f32 / n as f32;
                let cell = Rect::from_min_max(pos2(x0, rect.top()), pos2(x0 + rect.width() / n as f32 + 0.5, rect.bottom()));
                ui.painter().rect_filled(cell, 0.0, Color32::from_rgb(r, g, b));
            }
            ui.label("1 real");
        });
        ui.horizontal(|ui| {
            // Swatches on the plot's own light background.
            let swatch = |ui: &mut egui::Ui, draw: &dyn Fn(&egui::Painter, Rect)| {
                let (r, _) = ui.allocate_exact_size(vec2(18.0, 14.0), egui::Sense::hover());
                ui.painter().rect_filled(r, 2.0, Color32::from_rgb(MID_BG[0] as u8, MID_BG[1] as u8, MID_BG[2] as u8));
                draw(ui.painter(), r);
            };
            swatch(ui, &|p, r| {
                p.circle_filled(r.center(), 2.5, REAL_DOT);
            });
            ui.label("real samples");
            swatch(ui, &|p, r| {
                p.circle(r.center(), 3.0, FAKE_DOT, Stroke::new(0.5, Color32::WHITE));
            });
            ui.label("G(z)");
            swatch(ui, &|p, r| {
                let s = Stroke::new(1.0, GRID_LINE);
                for k in 0..3 {
                    let x = r.left() + 3.0 + 6.0 * k as f32;
                    p.line_segment([pos2(x, r.top() + 2.0), pos2(x, r.bottom() - 2.0)], s);
                    let y = r.top() + 2.0 + 5.0 * k as f32;
                    p.line_segment([pos2(r.left() + 2.0, y), pos2(r.right() - 2.0, y)], s);
                }
            });
            ui.label("G of a z grid");
        });
    }

    /// G's images for the fixed noise, over the noise lattice, and reals.
    fn image_views(&mut self, ui: &mut egui::Ui, side: f32) {
        if self.mosaics.is_none()
            && let Some(v) = &self.view
        {
            let cols = v.noise_cols.max(1);
            self.mosaics = Some(Mosaics { fake: mosaic(&v.fake, 64, 8), lattice: mosaic(&v.noise_map, v.noise_rows * cols, cols), real: mosaic(&v.real, 64, 8) });
        }
        let Some(m) = &self.mosaics else {
            ui.label("no images yet");
            return;
        };
        ui.label(egui::RichText::new("G(z) for 64 fixed z").strong());
        self.regions.plot = Some(m.fake.show(ui, side).0);
        ui.horizontal_top(|ui| {
            let half = (side - 12.0) / 2.0;
            ui.vertical(|ui| {
                ui.set_width(half);
                ui.label("G over a z grid");
                m.lattice.show(ui, half);
            });
            ui.vertical(|ui| {
                ui.set_width(half);
                ui.label("real digits");
                m.real.show(ui, half);
            });
        });
    }

    fn step_counts(&self) -> (usize, usize) {
        let n = |name: &str| self.losses.series.iter().find(|s| s.name == name).map_or(0, |s| s.points.len());
        (n("D loss"), n("G loss"))
    }
}

fn fmt_loss(v: Option<f32>) -> String {
    v.map_or("–".into(), |v| format!("{v:.4}"))
}

impl Lab for GanLab {
    fn info(&self) -> LabInfo {
        LabInfo { name: "gan", title: "Generative adversarial network", section: "Generative models" }
    }

    fn controls(&mut self, ui: &mut egui::Ui) {
        self.poll();
        let has_model = self.worker.is_some();
        let running = self.running;
        ui.label(egui::RichText::new("Real data").strong());
        let mut real_changed = false;
        let was_images = self.dist.images();
        ui.add_enabled_ui(!running || self.dist != Dist::Digits, |ui| {
            egui::ComboBox::from_label("distribution").selected_text(self.dist.name()).show_ui(ui, |ui| {
                for d in Dist::ALL {
                    // Points and images need different networks: no switching mid-run.
                    if !running || !d.images() {
                        real_changed |= ui.selectable_value(&mut self.dist, d, d.name()).changed();
                    }
                }
            });
        });
        if real_changed && was_images != self.dist.images() {
            // Sizes that train in seconds for each kind of data.
            (self.noise, self.g_width, self.g_layers, self.d_width, self.d_layers) = if self.dist.images() { (8, 128, 2, 128, 1) } else { (2, 32, 2, 32, 2) };
            self.reset();
            real_changed = false;
        }
        if self.dist == Dist::Draw {
            ui.horizontal(|ui| {
                ui.label(format!("{} points drawn", self.drawn.len()));
                if ui.button("Clear points").clicked() {
                    self.drawn.clear();
                    real_changed = true;
                }
            });
        }
        if real_changed {
            self.real_changed();
        }
        ui.separator();
        // Changing the networks or their training starts a fresh model.
        let mut reset = false;
        ui.add_enabled_ui(!running, |ui| {
            ui.label(egui::RichText::new("Networks (a change starts a new model)").strong());
            reset |= ui.add(egui::Slider::new(&mut self.noise, 1..=8).text("noise size")).changed();
            reset |= ui.add(egui::Slider::new(&mut self.g_layers, 0..=4).text("G hidden layers")).changed();
            reset |= ui.add(egui::Slider::new(&mut self.g_width, 2..=128).logarithmic(true).text("G width")).changed();
            reset |= ui.add(egui::Slider::new(&mut self.d_layers, 0..=4).text("D hidden layers")).changed();
            reset |= ui.add(egui::Slider::new(&mut self.d_width, 2..=128).logarithmic(true).text("D width")).changed();
            for (label, act) in [("G activation", &mut self.g_act), ("D activation", &mut self.d_act)] {
                egui::ComboBox::from_label(label).selected_text(act.name()).show_ui(ui, |ui| {
                    for a in [Activation::Relu, Activation::LeakyRelu, Activation::Tanh, Activation::Elu] {
                        reset |= ui.selectable_value(act, a, a.name()).changed();
                    }
                });
            }
            ui.horizontal(|ui| {
                ui.label("loss:");
                for l in GanLoss::ALL {
                    reset |= ui.radio_value(&mut self.loss, l, l.name()).changed();
                }
            });
            ui.horizontal(|ui| {
                reset |= ui.checkbox(&mut self.smoothing, "one-sided label smoothing").changed();
                ui.add_enabled_ui(self.smoothing, |ui| {
                    reset |= ui.add(egui::DragValue::new(&mut self.smooth_amount).range(0.0..=0.3).speed(0.01).prefix("real target 1 - ")).changed();
                });
            });
            reset |= ui.add(egui::Slider::new(&mut self.lr_d, 1e-4..=1e-2).logarithmic(true).text("D learning rate")).changed();
            reset |= ui.add(egui::Slider::new(&mut self.lr_g, 1e-4..=1e-2).logarithmic(true).text("G learning rate")).changed();
            reset |= ui.add(egui::Slider::new(&mut self.batch, 8..=512).logarithmic(true).text("batch size")).changed();
            reset |= ui.add(egui::Slider::new(&mut self.seed, 0..=100).text("seed")).changed();
        });
        if reset {
            self.reset();
        }
        ui.separator();
        ui.label(egui::RichText::new("Training (Adam, beta1 0.5)").strong());
        let mut k_changed = false;
        k_changed |= ui.add(egui::Slider::new(&mut self.d_k, 1..=20).text("k: D steps per round")).changed();
        k_changed |= ui.add(egui::Slider::new(&mut self.g_k, 1..=20).text("k: G steps per round")).changed();
        if k_changed && let Some(w) = &mut self.worker {
            w.set_steps_per_round(self.d_k, self.g_k);
        }
        ui.add(egui::Slider::new(&mut self.rounds, 10..=20_000).logarithmic(true).text("rounds per run"));
        let can_step = has_model && self.real_ok && (!running || self.paused);
        ui.horizontal(|ui| {
            let (d, g) = (self.d_k, self.g_k);
            for (label, dk, gk) in [("Step D", d, 0), ("Step G", 0, g), ("Step both", d, g)] {
                if ui.add_enabled(can_step, egui::Button::new(label)).clicked()
                    && let Some(w) = &mut self.worker
                {
                    w.steps(dk, gk);
                }
            }
        });
        ui.horizontal(|ui| {
            if ui.add_enabled(has_model && self.real_ok && !running, egui::Button::new("Train")).clicked()
                && let Some(w) = &mut self.worker
            {
                w.run(self.rounds);
                self.running = true;
                self.paused = false;
                self.status = format!("training {} rounds of {} D + {} G steps", self.rounds, self.d_k, self.g_k);
            }
            if running {
                if ui.button(if self.paused { "Resume" } else { "Pause" }).clicked()
                    && let Some(w) = &mut self.worker
                {
                    if self.paused { w.resume() } else { w.pause() }
                    self.paused = !self.paused;
                }
                if ui.button("Stop").clicked()
                    && let Some(w) = &mut self.worker
                {
                    w.stop();
                }
            }
            if ui.add_enabled(!running, egui::Button::new("Reset")).clicked() {
                self.reset();
            }
        });
        ui.label(&self.status);
        ui.separator();
        let ctx = ui.ctx().clone();
        ui.horizontal_wrapped(|ui| {
            for (label, rect, name) in [
                ("Export view PNG", self.regions.view, "gan-view.png"),
                ("Export plane PNG", self.regions.plot, "gan-plane.png"),
                ("Export losses PNG", self.regions.losses, "gan-losses.png"),
            ] {
                if ui.add_enabled(rect.is_some(), egui::Button::new(label)).clicked()
                    && let Some(r) = rect
                {
                    self.export.request(&ctx, r, name);
                }
            }
        });
        ui.horizontal(|ui| {
            if ui.add_enabled(has_model, egui::Button::new("Save checkpoint")).clicked() {
                self.save();
            }
            if ui.add_enabled(!running, egui::Button::new("Load checkpoint")).clicked() {
                self.load();
            }
        });
        if let Some(m) = &self.export.message {
            ui.label(m);
        }
    }

    fn view(&mut self, ui: &mut egui::Ui) {
        self.poll();
        self.export.poll(ui.ctx());
        if self.busy() || self.running {
            ui.ctx().request_repaint();
        }
        self.heat_texture(ui.ctx());
        let avail = ui.available_size();
        // The plane and D's mean outputs on the left, the losses on the right.
        let side = (avail.x * 0.46).min(avail.y - 220.0).max(120.0);
        let all = ui.horizontal_top(|ui| {
            ui.vertical(|ui| {
                ui.set_width(side);
                if self.images_model {
                    self.image_views(ui, side);
                } else {
                    ui.label(egui::RichText::new("The plane: D(x), data and G").strong());
                    self.regions.plot = Some(self.plot(ui, side));
                    self.legend(ui, side);
                }
                ui.label(egui::RichText::new("mean D(x) on the shown reals and fakes").strong());
                let h = (ui.available_height() - 8.0).max(60.0);
                self.d_out.show(ui, h);
            });
            ui.vertical(|ui| {
                ui.label(egui::RichText::new("D and G losses").strong());
                let h = (ui.available_height() - 8.0).max(60.0);
                self.regions.losses = Some(self.losses.show(ui, h));
            });
        });
        self.regions.view = Some(all.response.rect);
    }

    fn summary(&self) -> String {
        let data = match self.dist {
            Dist::Draw => format!("{} drawn points", self.drawn.len()),
            d => d.name().to_string(),
        };
        let (nd, ng) = self.step_counts();
        let mut s = format!(
            "{data}, noise {}: {} rounds · D loss {} over {nd} steps, G loss {} over {ng} steps",
            self.noise,
            self.rounds_done,
            fmt_loss(self.last_d),
            fmt_loss(self.last_g)
        );
        if let Some(v) = &self.view {
            s += &format!(" · D(real) {:.3}, D(fake) {:.3}, fake-to-data distance {:.4}", v.d_real, v.d_fake, v.distance);
        }
        if !self.status.is_empty() {
            s += &format!(" · {}", self.status);
        }
        s
    }

    fn busy(&self) -> bool {
        self.worker.as_ref().is_some_and(|w| w.last_command() != self.idle || self.view.is_none())
    }
}
