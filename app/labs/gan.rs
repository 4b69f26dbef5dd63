//! Generative adversarial networks with MLPs, trained in alternation on a
//! worker thread. On 2D points (ring, gaussians, line, or points drawn with
//! the mouse) the plot shows D's output as a heat map, the real samples,
//! G's samples and G's image of a noise grid. On images (an MLP GAN on the
//! built-in 8x8 digits, or a DCGAN on an MNIST-format folder) it shows G's
//! images for fixed noise with a timeline over training, a latent walk and
//! the Frechet distance ([`super::gan_images`]). Step D or G by hand (k
//! steps each) or train for a number of rounds, and watch both losses and
//! D's mean output on reals and fakes.

use egui::{Color32, Pos2, Rect, Stroke, pos2, vec2};
use std::sync::Arc;
use vislab_engine::gan::worker::{GanEvent, GanWorker};

use vislab_engine::data::Source;
use vislab_engine::gan::{self, ConvShape, GanConfig, GanLoss, GanShape, GanTrainer, GanView, Net, RealDist, ViewSpec};
use vislab_engine::models::Activation;

use super::gan_images::{FdData, ImageViews};
use super::pytorch;
use super::{Lab, LabInfo};
use crate::widgets::curves::Curves;
use crate::widgets::data_picker::DataPicker;
use crate::widgets::export::PngExport;
use vislab_engine::data::digits;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Dist {
    Ring,
    Gaussians,
    Line,
    Draw,
    Digits,
    /// A DCGAN on MNIST-format images.
    Folder,
}

impl Dist {
    const ALL: [Dist; 6] = [Dist::Ring, Dist::Gaussians, Dist::Line, Dist::Draw, Dist::Digits, Dist::Folder];

    fn images(self) -> bool {
        matches!(self, Dist::Digits | Dist::Folder)
    }

    fn name(self) -> &'static str {
        match self {
            Dist::Ring => "ring",
            Dist::Gaussians => "8 gaussians",
            Dist::Line => "line",
            Dist::Draw => "draw points",
            Dist::Digits => "digits 8x8 (images)",
            Dist::Folder => "MNIST folder (DCGAN)",
        }
    }
}

/// Spread of the gaussian around each drawn point.
const DRAW_JITTER: f32 = 0.05;
/// The plot's name for accessibility (and tests).
pub const PLOT_LABEL: &str = "GAN plane";
/// During a run, a view every this many rounds (MLPs, DCGAN).
const VIEW_EVERY: usize = 25;
const DCGAN_VIEW_EVERY: usize = 10;
/// Training images of a folder (the held-out ones are its test split).
const FOLDER_IMAGES: usize = 10_000;
const DCGAN_NOISE: usize = 64;

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
    strip: Option<Rect>,
    losses: Option<Rect>,
    view: Option<Rect>,
}

/// An MNIST-format folder: its training images as the real distribution,
/// its test split held out for the Frechet distance.
struct Folder {
    name: String,
    side: usize,
    real: RealDist,
    fd: FdData,
}

pub struct GanLab {
    dist: Dist,
    /// The built-in digits as a real distribution (loaded once).
    digits: Result<RealDist, String>,
    folder: Option<Folder>,
    picker: DataPicker,
    images: ImageViews,
    g_channels: usize,
    d_channels: usize,
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
    view_every: usize,
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
    /// The folder an "Export to PyTorch" waits on the worker's save for.
    exporting: Option<std::path::PathBuf>,
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
            folder: None,
            picker: DataPicker::default(),
            images: ImageViews::new(digits::SIDE),
            // 64 / 32 cost 2.7 s a round on this loaded 2-core machine, 32 / 16 0.85 s.
            g_channels: 32,
            d_channels: 16,
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
            view_every: VIEW_EVERY,
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
            exporting: None,
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
            Dist::Folder => self.folder.as_ref().map(|f| f.real.clone()).ok_or("load an MNIST-format folder (dataset path, Load) first")?,
        };
        r.check().map_err(|e| e.to_string())?;
        Ok(r)
    }

    fn config(&self) -> GanConfig {
        let images = self.dist.images();
        let shape = match (self.dist, &self.folder) {
            (Dist::Folder, Some(f)) => GanShape::dcgan(ConvShape { side: f.side, g_channels: self.g_channels, d_channels: self.d_channels }, self.noise),
            _ => GanShape {
                data: if images { digits::SIDE * digits::SIDE } else { 2 },
                tanh_out: images,
                noise: self.noise,
                g_hidden: vec![self.g_width; self.g_layers],
                d_hidden: vec![self.d_width; self.d_layers],
                g_act: self.g_act,
                d_act: self.d_act,
                conv: None,
            },
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
        self.losses.clear();
        self.d_out.clear();
        self.last_d = None;
        self.last_g = None;
        self.rounds_done = 0;
    }

    fn start_worker(&mut self, t: GanTrainer, status: String) {
        self.clear();
        self.rounds_done = t.counts().2;
        let shape = &t.config().shape;
        self.images_model = shape.data != 2;
        let side = shape.conv.map_or(digits::SIDE, |c| c.side);
        self.images.new_model(side);
        // The DCGAN's noise lattice (two of 100 dims) says little: a small one.
        (self.spec, self.view_every) = match (shape.data, shape.conv) {
            (2, _) => (ViewSpec::default(), VIEW_EVERY),
            (_, None) => (ViewSpec { noise_grid: 8, shown: 200, ..ViewSpec::default() }, VIEW_EVERY),
            (_, Some(_)) => (ViewSpec { noise_grid: 2, shown: 64, ..ViewSpec::default() }, DCGAN_VIEW_EVERY),
        };
        match GanWorker::spawn(t, self.spec, self.view_every) {
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
                    if self.images_model {
                        self.images.push_view(v.g_steps, &v.fake, &v.real);
                    }
                    self.view = Some(*v);
                    self.heat_dirty = true;
                }
                GanEvent::Generated { tag, images, .. } => self.images.generated(tag, images),
                GanEvent::Frechet { steps, fd, reference } => self.images.frechet_done(steps, fd, reference),
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
                    let export = self.exporting.take_if(|dir| r.as_ref().is_ok_and(|p| *p == dir.join(pytorch::CHECKPOINT)));
                    self.status = match (r, export) {
                        (Ok(_), Some(dir)) => pytorch::to_folder(&dir, |_| Ok(())),
                        (Ok(p), None) => format!("saved {}", p.display()),
                        (Err(e), _) => format!("cannot save: {e}"),
                    }
                }
                GanEvent::Failed(e) => {
                    self.running = false;
                    self.status = format!("failed: {e}");
                }
            }
        }
        self.images.poll(self.worker.as_mut());
        if self.images_model
            && let Some(w) = &mut self.worker
        {
            self.images.request_walk(w, self.noise);
        }
    }

    /// Open an MNIST-format folder (or idx file) for the DCGAN.
    fn load_source(&mut self, source: Result<Source, String>) {
        let loaded = source.and_then(|s| match s {
            Source::Mnist(_) | Source::FashionMnist(_) => s.load().map_err(|e| e.to_string()),
            other => Err(format!("the DCGAN takes MNIST-format idx folders (28x28 grey), not {}", other.kind())),
        });
        let loaded = loaded.and_then(|l| {
            let test = l.test.ok_or("the folder has no test split to hold out")?;
            let side = (l.train.sample_len() as f64).sqrt() as usize;
            if side * side != l.train.sample_len() || !side.is_multiple_of(4) {
                return Err(format!("images of {} pixels are not square with a side that is a multiple of 4", l.train.sample_len()));
            }
            Ok((l.train.take(FOLDER_IMAGES), test, side))
        });
        match loaded {
            Ok((train, test, side)) => {
                let name = format!("{} ({} training images)", self.picker.path.trim(), train.len());
                let real = RealDist::images(train.x(), side * side);
                self.folder = Some(Folder { name, side, real, fd: FdData { train: Arc::new(train), test: Arc::new(test) } });
                self.images.forget_reference();
                if self.dist != Dist::Folder {
                    self.dist = Dist::Folder;
                    self.presets();
                }
                self.reset();
            }
            Err(e) => self.status = format!("cannot load {}: {e}", self.picker.path.trim()),
        }
    }

    /// Sizes that train in seconds (points, digits) or minutes (DCGAN) for each kind of data.
    fn presets(&mut self) {
        (self.noise, self.g_width, self.g_layers, self.d_width, self.d_layers) = match self.dist {
            Dist::Digits => (8, 128, 2, 128, 1),
            Dist::Folder => (DCGAN_NOISE, 128, 2, 128, 1),
            _ => (2, 32, 2, 32, 2),
        };
        // Radford et al.: Adam 2e-4, beta1 0.5; the MLPs train faster at 2e-3.
        (self.lr_d, self.lr_g, self.rounds) = if self.dist == Dist::Folder { (2e-4, 2e-4, 1000) } else { (2e-3, 2e-3, 2000) };
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
        let recipe = self.recipe();
        if let Some(w) = &mut self.worker {
            w.save(path, recipe);
        }
    }

    /// The lab's settings as `vislab train --model gan` records them; the
    /// data only for images (the points' distributions live in the lab).
    fn recipe(&self) -> std::collections::BTreeMap<String, String> {
        let data = match (self.dist, &self.folder) {
            (Dist::Digits, _) => "digits".to_string(),
            (Dist::Folder, Some(_)) => {
                let path = std::path::absolute(self.picker.path.trim()).unwrap_or_default();
                Source::detect(&path, Default::default()).map(|s| s.spec()).unwrap_or_default()
            }
            _ => String::new(),
        };
        let limit = if self.dist == Dist::Folder { FOLDER_IMAGES.to_string() } else { String::new() };
        let loss = if self.loss == GanLoss::LeastSquares { "ls" } else { "ns" };
        pytorch::recipe(&[
            ("data", data),
            ("limit", limit),
            ("rounds", self.rounds.to_string()),
            ("batch", self.batch.to_string()),
            ("lr_d", self.lr_d.to_string()),
            ("lr_g", self.lr_g.to_string()),
            ("loss", loss.into()),
            ("smoothing", if self.smoothing { self.smooth_amount } else { 0.0 }.to_string()),
            ("noise", self.noise.to_string()),
            ("g_channels", self.g_channels.to_string()),
            ("d_channels", self.d_channels.to_string()),
            ("seed", self.seed.to_string()),
        ])
    }

    /// Ask for a folder; the worker saves the checkpoint there and the
    /// export follows when it says it has (see `poll`).
    fn export_pytorch(&mut self) {
        let Some(dir) = rfd::FileDialog::new().set_title("Export to PyTorch: pick or make an empty folder").pick_folder() else { return };
        let recipe = self.recipe();
        if let Some(w) = &mut self.worker {
            w.save(dir.join(pytorch::CHECKPOINT), recipe);
            self.exporting = Some(dir);
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
                match s.conv {
                    Some(c) => (self.g_channels, self.d_channels) = (c.g_channels, c.d_channels),
                    None => {
                        (self.g_layers, self.d_layers) = (s.g_hidden.len(), s.d_hidden.len());
                        self.g_width = s.g_hidden.first().copied().unwrap_or(self.g_width);
                        self.d_width = s.d_hidden.first().copied().unwrap_or(self.d_width);
                    }
                }
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
        let was_folder = self.dist == Dist::Folder;
        ui.add_enabled_ui(!running || !self.dist.images(), |ui| {
            egui::ComboBox::from_label("distribution").selected_text(self.dist.name()).show_ui(ui, |ui| {
                for d in Dist::ALL {
                    // Points and images need different networks: no switching mid-run.
                    if !running || !d.images() {
                        real_changed |= ui.selectable_value(&mut self.dist, d, d.name()).changed();
                    }
                }
            });
        });
        if real_changed && (was_images != self.dist.images() || was_folder != (self.dist == Dist::Folder)) {
            self.presets();
            self.reset();
            real_changed = false;
        }
        if self.dist == Dist::Folder {
            ui.label(self.folder.as_ref().map_or("no folder loaded".to_string(), |f| f.name.clone()));
            if let Some(src) = ui.add_enabled_ui(!running, |ui| self.picker.ui(ui)).inner {
                self.load_source(src);
            }
            ui.separator();
            let data = self.folder.as_ref().filter(|f| f.side == 28).map(|f| &f.fd);
            self.images.fd_controls(ui, self.worker.as_mut(), data);
            if !self.images.fd_message.is_empty() {
                ui.label(&self.images.fd_message);
            }
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
            if self.dist == Dist::Folder {
                ui.label("DCGAN: G linear, BN ReLU, 2 transposed convs 4x4 stride 2 (BN ReLU), tanh; D 2 convs 4x4 stride 2, LeakyReLU 0.2, BN, linear");
                reset |= ui.add(egui::Slider::new(&mut self.noise, 1..=128).text("noise size")).changed();
                reset |= ui.add(egui::Slider::new(&mut self.g_channels, 8..=128).logarithmic(true).text("G channels at 7x7")).changed();
                reset |= ui.add(egui::Slider::new(&mut self.d_channels, 4..=64).logarithmic(true).text("D channels at 14x14")).changed();
            } else {
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
                    if self.paused {
                        w.resume()
                    } else {
                        w.pause()
                    }
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
        if self.images_model {
            self.images.walk_controls(ui);
            ui.separator();
        }
        let ctx = ui.ctx().clone();
        let plot = if self.images_model { "Export sample grid PNG" } else { "Export plane PNG" };
        ui.horizontal_wrapped(|ui| {
            let walk = if self.images_model { Some(("Export latent walk PNG", self.regions.strip, "gan-walk.png")) } else { None };
            for (label, rect, name) in
                [("Export view PNG", self.regions.view, "gan-view.png"), (plot, self.regions.plot, "gan-plane.png"), ("Export losses PNG", self.regions.losses, "gan-losses.png")]
                    .into_iter()
                    .chain(walk)
            {
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
            if pytorch::button(ui, has_model && self.dist.images()) {
                self.export_pytorch();
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
        if self.images_model {
            // G's images, the timeline and the walk on the left; the FD
            // and both curves on the right.
            let left = (avail.x * 0.5).max(160.0);
            let all = ui.horizontal_top(|ui| {
                ui.vertical(|ui| {
                    ui.set_width(left);
                    (self.regions.plot, self.regions.strip) = self.images.show(ui, left, avail.y);
                });
                ui.vertical(|ui| {
                    if self.dist == Dist::Folder {
                        ui.label(egui::RichText::new(self.images.fd_line()).strong());
                    }
                    let h = ((ui.available_height() - 40.0) / 2.0).max(60.0);
                    ui.label(egui::RichText::new("D and G losses").strong());
                    self.regions.losses = Some(self.losses.show(ui, h));
                    ui.label(egui::RichText::new("mean D(x) on the shown reals and fakes").strong());
                    self.d_out.show(ui, h);
                });
            });
            self.regions.view = Some(all.response.rect);
            return;
        }
        // The plane and D's mean outputs on the left, the losses on the right.
        let side = (avail.x * 0.46).min(avail.y - 220.0).max(120.0);
        let all = ui.horizontal_top(|ui| {
            ui.vertical(|ui| {
                ui.set_width(side);
                ui.label(egui::RichText::new("The plane: D(x), data and G").strong());
                self.regions.plot = Some(self.plot(ui, side));
                self.legend(ui, side);
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
        if self.images_model {
            s += &format!(" · {} snapshots", self.images.snapshots());
        }
        if self.dist == Dist::Folder {
            s += &format!(" · {}", self.images.fd_line());
            if !self.images.fd_message.is_empty() {
                s += &format!(" · {}", self.images.fd_message);
            }
        }
        if !self.status.is_empty() {
            s += &format!(" · {}", self.status);
        }
        s
    }

    fn busy(&self) -> bool {
        self.images.busy() || self.worker.as_ref().is_some_and(|w| w.last_command() != self.idle || self.view.is_none())
    }
}
