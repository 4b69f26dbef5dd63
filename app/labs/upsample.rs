//! Upsampling: one feature map (an image max-pooled by 2x2 or 4x4, its
//! switches recorded) brought back to the image's size six ways, side by
//! side: bed of nails, nearest neighbour, bilinear, bicubic, max unpooling
//! at the recorded switches, and a transposed convolution trained on the
//! spot (worker thread, Adam) to undo the pooling of the built-in digits.
//! Each result shows its squared error to the original; pixel grids at
//! small sizes, hover reads a value, one colour scale with its legend for
//! all; the learned kernel and its loss curve beside them.

use super::run::Run;
use std::sync::Arc;

use vislab_engine::train::Param;
use vislab_engine::train::epoch_worker::{EpochWorker, WorkerEvent};
use vislab_engine::upsampling::{self, DeconvConfig, DeconvTrainer, DeconvUpsampler, Downsampled, Method, Pairs, Plane, digit_pairs};

use super::{Lab, LabInfo};
use crate::render::colormap::Colormap;
use crate::render::image::{ScalarImage, show_image};
use crate::widgets::curves::Curves;
use crate::widgets::legend::{fmt_value, legend};

/// Where the image comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// One of the built-in 8x8 digits.
    Digit,
    /// A seeded 16x16 map of blobs, a bar and a ramp.
    Synthetic,
}

type Worker = EpochWorker<DeconvTrainer, Vec<Param>>;

/// The digits the transposed convolution learns from, for one factor.
struct DigitData {
    scale: usize,
    train: Arc<Pairs>,
    test: Arc<Pairs>,
    /// Each fixed method's mean squared error on the test digits.
    fixed_test_mse: Vec<(Method, f64)>,
}

/// What the grid shows, rebuilt when the input changes.
struct Shown {
    down: Downsampled,
    results: Vec<(Method, Option<Plane>)>,
    range: [f32; 2],
}

pub struct UpsampleLab {
    source: Source,
    digit: usize,
    synth_seed: u64,
    scale: usize,
    colormap: Colormap,
    digits: Option<Arc<vislab_engine::data::Dataset>>,
    data: Option<DigitData>,
    // training
    epochs: usize,
    lr: f32,
    seed: u64,
    run: Run<Worker>,
    steps_per_epoch: usize,
    epoch: usize,
    /// The latest learned weights and the factor they were learned for.
    learned: Option<(usize, Vec<Param>)>,
    /// The learned layer compiled for the shown feature map's size.
    local: Option<((usize, usize, usize), DeconvUpsampler)>,
    test_mse: Option<f64>,
    loss: Curves,
    // view
    shown: Option<Shown>,
    hover: Option<String>,
    status: String,
}

impl Default for UpsampleLab {
    fn default() -> Self {
        Self::new()
    }
}

impl UpsampleLab {
    pub fn new() -> Self {
        let digits = vislab_engine::data::digits::load().ok().map(Arc::new);
        let status = if digits.is_some() { "not trained yet".into() } else { "the built-in digits did not load".into() };
        let mut lab = UpsampleLab {
            source: Source::Digit,
            digit: 0,
            synth_seed: 1,
            scale: 2,
            colormap: Colormap::Viridis,
            digits,
            data: None,
            epochs: 20,
            lr: 0.02,
            seed: 0,
            run: Run::default(),
            steps_per_epoch: 1,
            epoch: 0,
            learned: None,
            local: None,
            test_mse: None,
            loss: Curves::new("upsample_loss", "epoch", "mean squared error").smoothed(0.8),
            shown: None,
            hover: None,
            status,
        };
        lab.prepare_data();
        lab
    }

    /// Training and test digits pooled by the current factor, and the fixed
    /// methods' test errors.
    fn prepare_data(&mut self) {
        if self.data.as_ref().is_some_and(|d| d.scale == self.scale) {
            return;
        }
        match digit_pairs(self.scale, self.seed) {
            Ok((train, test)) => {
                let side = vislab_engine::data::digits::SIDE;
                let fixed_test_mse = Method::FIXED.iter().filter_map(|&m| Some((m, upsampling::mean_mse(&test.y, side, side, self.scale, m).ok()?))).collect();
                self.data = Some(DigitData { scale: self.scale, train: Arc::new(train), test: Arc::new(test), fixed_test_mse });
            }
            Err(e) => self.status = format!("cannot pool the digits: {e}"),
        }
    }

    pub fn config(&self) -> DeconvConfig {
        DeconvConfig { lr: self.lr, ..DeconvConfig::new(self.scale, self.epochs, self.seed) }
    }

    /// The image on show, before pooling.
    fn image(&self) -> Option<Plane> {
        match self.source {
            Source::Digit => {
                let d = self.digits.as_ref()?;
                let (x, _) = d.get(self.digit.min(d.len().saturating_sub(1)))?;
                let side = vislab_engine::data::digits::SIDE;
                Plane::new(side, side, x.to_vec()).ok()
            }
            Source::Synthetic => Some(upsampling::synthetic(16, self.synth_seed)),
        }
    }

    /// The learned layer's output on `down`, if weights for its factor exist.
    fn learned_output(&mut self, down: &Downsampled) -> Option<Plane> {
        let (scale, params) = self.learned.as_ref().filter(|(s, _)| *s == down.scale)?;
        let key = (*scale, down.pooled.height, down.pooled.width);
        if self.local.as_ref().is_none_or(|(k, _)| *k != key) {
            let m = DeconvUpsampler::new(&DeconvConfig::new(*scale, 1, 0), key.1, key.2).ok()?;
            self.local = Some((key, m));
        }
        let (_, m) = self.local.as_mut()?;
        m.set_params(params).ok()?;
        m.upsample(down).ok()
    }

    fn rebuild(&mut self) -> Option<Shown> {
        let image = self.image()?;
        let down = match Downsampled::new(image, self.scale) {
            Ok(d) => d,
            Err(e) => {
                self.status = e.to_string();
                return None;
            }
        };
        let mut results: Vec<(Method, Option<Plane>)> = Method::FIXED.iter().map(|&m| (m, down.upsample(m))).collect();
        results.push((Method::Learned, self.learned_output(&down)));
        let all = down.image.values.iter().chain(results.iter().filter_map(|r| r.1.as_ref()).flat_map(|p| p.values.iter()));
        let (lo, hi) = all.fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| (lo.min(v), hi.max(v)));
        let range = if hi > lo { [lo, hi] } else { [lo, lo + 1.0] };
        Some(Shown { down, results, range })
    }

    /// Each method's squared error to the shown image (None: not trained).
    pub fn errors(&mut self) -> Vec<(Method, Option<f64>)> {
        if self.shown.is_none() {
            self.shown = self.rebuild();
        }
        let Some(s) = &self.shown else { return vec![] };
        s.results.iter().map(|(m, p)| (*m, p.as_ref().and_then(|p| s.down.image.mse(p)))).collect()
    }

    /// Show digit `i` (the tests use it).
    pub fn set_digit(&mut self, i: usize) {
        (self.source, self.digit) = (Source::Digit, i);
        self.shown = None;
    }

    pub fn start(&mut self) {
        self.abandon();
        self.prepare_data();
        let Some(d) = &self.data else { return };
        let trainer = match DeconvTrainer::new(Arc::clone(&d.train), Arc::clone(&d.test), self.config()) {
            Ok(t) => t,
            Err(e) => {
                self.status = format!("cannot train: {e}");
                return;
            }
        };
        self.steps_per_epoch = trainer.steps_per_epoch().max(1);
        // Weights every 10 steps and after every epoch: the learned tile
        // and kernel change as it trains.
        let hook = Box::new(|t: &mut DeconvTrainer| Some(t.model.params().to_vec()));
        match Worker::spawn(trainer, hook, 10) {
            Ok(w) => {
                self.run.start(w);
                self.loss.clear();
                (self.epoch, self.test_mse, self.learned) = (0, None, None);
                self.shown = None;
                self.status = "training".into();
            }
            Err(e) => self.status = e,
        }
    }

    pub fn pause(&mut self) {
        self.run.toggle_pause();
    }

    /// Signal the worker and return; `update` reads its last events.
    pub fn stop(&mut self) {
        if self.run.stop() {
            self.status = "stopping".into();
        }
    }

    fn abandon(&mut self) {
        self.run.abandon();
    }

    /// Apply the worker's events (the tests call it in a loop).
    pub fn update(&mut self) {
        let mut run = std::mem::take(&mut self.run);
        run.poll(|w| self.drain(w));
        self.run = run;
    }

    fn drain(&mut self, w: &Worker) {
        while let Ok(e) = w.events().try_recv() {
            match e {
                WorkerEvent::Step(r) => self.loss.push("train (batch)", r.step as f64 / self.steps_per_epoch as f64, r.loss as f64),
                WorkerEvent::Epoch(r) => {
                    let x = r.epoch as f64;
                    self.loss.push("test", x, r.test_mse);
                    // The fixed methods' test errors as flat references.
                    for (m, v) in self.data.as_ref().map_or(&[][..], |d| &d.fixed_test_mse[..]) {
                        if matches!(m, Method::Nearest | Method::Bicubic) {
                            self.loss.push(&format!("{} (test)", m.name()), x, *v);
                        }
                    }
                    (self.epoch, self.test_mse) = (r.epoch, Some(r.test_mse));
                }
                WorkerEvent::View(params) => {
                    self.learned = Some((self.data.as_ref().map_or(self.scale, |d| d.scale), params));
                    self.shown = None;
                }
                WorkerEvent::Done { stopped, error } => {
                    self.status = match (error, stopped) {
                        (Some(e), _) => format!("failed: {e}"),
                        (None, true) => "stopped".into(),
                        (None, false) => "finished".into(),
                    };
                }
            }
        }
    }

    pub fn status(&self) -> &str {
        &self.status
    }

    /// The learned layer's test error after the latest epoch.
    pub fn test_mse(&self) -> Option<f64> {
        self.test_mse
    }

    /// The fixed methods' errors on the test digits.
    pub fn fixed_test_mse(&self) -> &[(Method, f64)] {
        self.data.as_ref().map_or(&[], |d| &d.fixed_test_mse)
    }

    pub fn hover_text(&self) -> Option<&str> {
        self.hover.as_deref()
    }

    /// A `side`-point tile with a pixel grid when pixels are large; returns
    /// where it was drawn and the hovered pixel.
    fn tile(&self, ui: &mut egui::Ui, p: &Plane, side: f32, range: [f32; 2], name: &str) -> (egui::Rect, Option<(u32, u32)>) {
        let span = (range[1] - range[0]).max(1e-12);
        // The renderer treats values <= 0 as missing: map the range to [1, 2].
        let values = p.values.iter().map(|v| 1.0 + ((v - range[0]) / span).clamp(0.0, 1.0)).collect();
        let img = Arc::new(ScalarImage::fresh(p.width as u32, p.height as u32, values));
        let scale = side / p.width.max(p.height) as f32;
        let size = egui::vec2(p.width as f32 * scale, p.height as f32 * scale);
        let r = ui.allocate_ui(size, |ui| show_image(ui, &img, [1.0, 2.0], self.colormap));
        let rect = r.response.rect;
        // Named for screen readers and UI tests ("nearest tile").
        let named = ui.interact(rect, r.response.id.with("tile"), egui::Sense::hover());
        named.widget_info(|| egui::WidgetInfo::labeled(egui::accesskit::Role::Image, true, format!("{name} tile")));
        if scale >= 6.0 {
            let stroke = egui::Stroke::new(1.0, egui::Color32::from_black_alpha(90));
            for i in 1..p.width {
                let x = rect.left() + i as f32 * scale;
                ui.painter().line_segment([egui::pos2(x, rect.top()), egui::pos2(x, rect.bottom())], stroke);
            }
            for j in 1..p.height {
                let y = rect.top() + j as f32 * scale;
                ui.painter().line_segment([egui::pos2(rect.left(), y), egui::pos2(rect.right(), y)], stroke);
            }
        }
        (rect, r.inner)
    }

    /// Outline the recorded switches on the original image.
    fn mark_switches(ui: &egui::Ui, rect: egui::Rect, d: &Downsampled) {
        let k = rect.width() / d.image.width.max(1) as f32;
        for &s in &d.pooled.switches {
            let (x, y) = ((s % d.image.width) as f32, (s / d.image.width) as f32);
            let r = egui::Rect::from_min_size(rect.min + egui::vec2(x * k, y * k), egui::vec2(k, k));
            ui.painter().rect_stroke(r.shrink(1.0), 0.0, egui::Stroke::new(1.5, egui::Color32::from_rgb(255, 80, 80)), egui::StrokeKind::Inside);
        }
    }
}

impl Lab for UpsampleLab {
    fn info(&self) -> LabInfo {
        LabInfo { name: "upsample", title: "Upsampling", section: "Detection" }
    }

    fn controls(&mut self, ui: &mut egui::Ui) {
        let before = (self.source, self.digit, self.synth_seed, self.scale, self.colormap);
        ui.label("Image");
        ui.horizontal(|ui| {
            ui.radio_value(&mut self.source, Source::Digit, "built-in digit 8x8");
            ui.radio_value(&mut self.source, Source::Synthetic, "synthetic map 16x16");
        });
        match self.source {
            Source::Digit => {
                let n = self.digits.as_ref().map_or(1, |d| d.len());
                ui.add(egui::Slider::new(&mut self.digit, 0..=n - 1).text("digit"));
            }
            Source::Synthetic => {
                ui.add(egui::Slider::new(&mut self.synth_seed, 0..=100).text("seed"));
            }
        }
        ui.horizontal(|ui| {
            ui.label("factor (max pool, then upsample):");
            let training = self.run.training();
            ui.add_enabled_ui(!training, |ui| {
                ui.radio_value(&mut self.scale, 2, "2");
                ui.radio_value(&mut self.scale, 4, "4");
            });
        });
        egui::ComboBox::from_label("colormap").selected_text(self.colormap.name()).show_ui(ui, |ui| {
            for c in Colormap::ALL {
                ui.selectable_value(&mut self.colormap, c, c.name());
            }
        });
        ui.separator();
        ui.label(format!("Transposed conv: kernel {0}x{0}, stride {1}, padding {2}", 2 * self.scale, self.scale, self.scale / 2));
        ui.label("trained on 1,500 built-in digits, tested on 297 others");
        let training = self.run.training();
        ui.add_enabled_ui(!training, |ui| {
            ui.add(egui::Slider::new(&mut self.epochs, 1..=200).logarithmic(true).text("epochs"));
            ui.add(egui::Slider::new(&mut self.lr, 1e-3..=0.1).logarithmic(true).text("learning rate"));
            ui.add(egui::Slider::new(&mut self.seed, 0..=100).text("seed"));
        });
        ui.horizontal(|ui| {
            if ui.add_enabled(!training, egui::Button::new("Train")).clicked() {
                self.start();
            }
            if training {
                if ui.button(if self.run.paused() { "Resume" } else { "Pause" }).clicked() {
                    self.pause();
                }
                if ui.button("Stop").clicked() {
                    self.stop();
                }
            }
        });
        if before != (self.source, self.digit, self.synth_seed, self.scale, self.colormap) {
            self.shown = None;
            if before.3 != self.scale {
                self.prepare_data();
            }
        }
        ui.separator();
        ui.label(egui::RichText::new("Test digits, mean squared error").strong());
        egui::Grid::new("upsample_test_mse").num_columns(2).show(ui, |ui| {
            for (m, v) in self.fixed_test_mse() {
                ui.label(m.name());
                ui.label(format!("{v:.5}"));
                ui.end_row();
            }
            ui.label(Method::Learned.name());
            ui.label(self.test_mse.filter(|_| self.learned.as_ref().is_some_and(|l| l.0 == self.scale)).map_or("-".into(), |v| format!("{v:.5}")));
            ui.end_row();
        });
    }

    fn view(&mut self, ui: &mut egui::Ui) {
        self.update();
        if self.busy() {
            ui.ctx().request_repaint();
        }
        if self.shown.is_none() {
            self.shown = self.rebuild();
        }
        ui.label(self.summary());
        let Some(shown) = self.shown.take() else {
            ui.label("No image.");
            return;
        };
        let gap = ui.spacing().item_spacing.x;
        let side = ((ui.available_width() - 5.0 * gap) / 6.0 - 4.0).clamp(60.0, 170.0);
        let range = shown.range;
        let mut hover = None;
        let feature = shown.down.feature();
        ui.horizontal(|ui| {
            ui.vertical(|ui| {
                ui.label(format!("image {}x{} (switches outlined)", shown.down.image.width, shown.down.image.height));
                let (rect, r) = self.tile(ui, &shown.down.image, side, range, "original image");
                Self::mark_switches(ui, rect, &shown.down);
                hover = hover.or(r.map(|(x, y)| ("image", x, y, shown.down.image.value(x as usize, y as usize))));
            });
            ui.vertical(|ui| {
                ui.label(format!("feature map {}x{} ({}x{} max pool)", feature.width, feature.height, self.scale, self.scale));
                let (_, r) = self.tile(ui, &feature, side * feature.width as f32 / shown.down.image.width as f32, range, "feature map");
                hover = hover.or(r.map(|(x, y)| ("feature map", x, y, feature.value(x as usize, y as usize))));
            });
            ui.vertical(|ui| {
                legend(ui, self.colormap, range, "value (all tiles)", side);
            });
        });
        ui.separator();
        ui.horizontal(|ui| {
            for (m, p) in &shown.results {
                ui.vertical(|ui| {
                    ui.set_width(side);
                    // Same caption height for all, so the tiles line up.
                    let used = ui.label(egui::RichText::new(m.name()).strong()).rect.height();
                    ui.add_space((44.0 - used).max(0.0));
                    match p {
                        Some(p) => {
                            let (_, r) = self.tile(ui, p, side, range, m.name());
                            hover = hover.or(r.map(|(x, y)| (m.name(), x, y, p.value(x as usize, y as usize))));
                            let e = shown.down.image.mse(p).unwrap_or(f64::NAN);
                            ui.label(egui::RichText::new(format!("MSE {e:.5}")).small());
                        }
                        None => {
                            let (rect, _) = ui.allocate_exact_size(egui::vec2(side, side), egui::Sense::hover());
                            ui.painter().rect_stroke(rect, 0.0, egui::Stroke::new(1.0, egui::Color32::GRAY), egui::StrokeKind::Inside);
                            ui.painter().text(rect.center(), egui::Align2::CENTER_CENTER, "press Train", egui::FontId::proportional(12.0), egui::Color32::GRAY);
                            ui.label(egui::RichText::new("not trained for this factor").small());
                        }
                    }
                });
            }
        });
        if let Some((name, x, y, Some(v))) = hover {
            self.hover = Some(format!("{name} ({x}, {y}): {}", fmt_value(v)));
        }
        ui.label(self.hover.clone().unwrap_or_else(|| "hover a tile for a pixel's value".into()));
        ui.separator();
        let h = (ui.available_height() - 8.0).max(80.0);
        ui.horizontal(|ui| {
            if let Some((s, params)) = self.learned.clone() {
                let k = params.iter().find(|p| p.name.ends_with(".weight")).map(|p| p.value.clone()).unwrap_or_default();
                let bias = params.iter().find(|p| p.name.ends_with(".bias")).and_then(|p| p.value.first().copied()).unwrap_or(0.0);
                if let Ok(kp) = Plane::new(2 * s, 2 * s, k) {
                    ui.vertical(|ui| {
                        ui.label(format!("learned kernel {0}x{0}, bias {1}", 2 * s, fmt_value(bias)));
                        let (lo, hi) = kp.values.iter().fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
                        let kr = if hi > lo { [lo, hi] } else { [lo, lo + 1.0] };
                        let (_, r) = self.tile(ui, &kp, side.min(h - 40.0).max(60.0), kr, "learned kernel");
                        if let Some((x, y)) = r {
                            self.hover = kp.value(x as usize, y as usize).map(|v| format!("kernel ({x}, {y}): {}", fmt_value(v)));
                        }
                        legend(ui, self.colormap, kr, "kernel weight", side.min(h - 40.0).max(60.0));
                    });
                }
            }
            ui.vertical(|ui| {
                self.loss.show(ui, h);
            });
        });
        self.shown = Some(shown);
    }

    fn summary(&self) -> String {
        let what = match self.source {
            Source::Digit => format!("digit {}", self.digit),
            Source::Synthetic => format!("synthetic map (seed {})", self.synth_seed),
        };
        let learned = match self.test_mse {
            Some(v) => format!("transposed conv test MSE {v:.5}"),
            None => "transposed conv not trained".into(),
        };
        format!("{what}, factor {}: epoch {}/{}, {learned}; {}", self.scale, self.epoch, self.epochs, self.status)
    }

    fn busy(&self) -> bool {
        self.run.busy()
    }
}
