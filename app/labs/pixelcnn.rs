//! PixelCNN: train a small autoregressive model of binarized digits live
//! (worker thread) on the built-in 8x8 digits or an MNIST-format folder,
//! report its exact test negative log-likelihood in nats per image and bits
//! per dimension, and sample from it pixel by pixel in raster order,
//! animated, with the conditional probability of each drawn pixel shown.

use std::sync::Arc;

use vislab_engine::pixelcnn::worker::{PixelCnnEvent, PixelCnnWorker};
use vislab_engine::pixelcnn::{self, PixelCnn, PixelCnnShape, PixelCnnTrainConfig, PixelCnnTrainer, SampleEvent, SampleWorker, Sampler, bits_per_dim};
use vislab_engine::vae::Binarize;

use super::image_data::{ImageData, is_idx_folder};
use super::pytorch;
use super::{Lab, LabInfo};
use crate::widgets::curves::Curves;
use crate::widgets::export::PngExport;
use crate::widgets::mosaic::Mosaic;

/// Samples drawn at once (one batch), in a grid of `SAMPLE_COLS` columns.
const SAMPLES: usize = 16;
const SAMPLE_COLS: usize = 8;
/// Shade of the pixels not drawn yet (drawn ones are 0 or 1).
const UNDRAWN: f32 = 0.25;

#[derive(Default)]
struct Regions {
    samples: Option<egui::Rect>,
    curves: Option<egui::Rect>,
}

pub struct PixelCnnLab {
    data: Option<ImageData>,
    channels: usize,
    layers: usize,
    epochs: usize,
    batch: usize,
    lr: f32,
    seed: u64,
    mnist_limit: usize,
    binarize: Binarize,
    worker: Option<PixelCnnWorker<Vec<Vec<f32>>>>,
    paused: bool,
    /// The model sampling uses (weights from the worker after each epoch, or loaded).
    model: Option<PixelCnn>,
    curves: Curves,
    last_test: Option<f64>,
    last_train: Option<f64>,
    epoch: usize,
    steps_per_epoch: usize,
    /// The canvases as the sampling thread last reported them.
    sampler: Option<Sampler>,
    /// The thread drawing them (one forward pass per pixel: seconds on MNIST).
    sampling: Option<SampleWorker>,
    sample_seed: u64,
    /// Pixels drawn per frame while animating.
    speed: usize,
    animate: bool,
    show_row: bool,
    export: PngExport,
    regions: Regions,
    status: String,
}

impl Default for PixelCnnLab {
    fn default() -> Self {
        Self::new()
    }
}

impl PixelCnnLab {
    pub fn new() -> Self {
        let (data, status) = match ImageData::digits() {
            Ok(d) => (Some(d), String::new()),
            Err(e) => (None, format!("built-in digits: {e}")),
        };
        PixelCnnLab {
            data,
            channels: 16,
            layers: 3,
            epochs: 10,
            batch: 32,
            lr: 3e-3,
            seed: 1,
            mnist_limit: 6000,
            binarize: Binarize::Threshold,
            worker: None,
            paused: false,
            model: None,
            curves: Curves::new("pixelcnn_curves", "epoch", "NLL, nats per image"),
            last_test: None,
            last_train: None,
            epoch: 0,
            steps_per_epoch: 1,
            sampler: None,
            sampling: None,
            sample_seed: 0,
            speed: 2,
            animate: true,
            show_row: true,
            export: PngExport::default(),
            regions: Regions::default(),
            status,
        }
    }

    fn shape(&self) -> Option<PixelCnnShape> {
        Some(PixelCnnShape { side: self.data.as_ref()?.side, channels: self.channels, layers: self.layers })
    }

    fn pixels(&self) -> usize {
        self.model.as_ref().map_or_else(|| self.data.as_ref().map_or(64, |d| d.side * d.side), |m| m.pixels())
    }

    fn start(&mut self) {
        self.stop();
        let (Some(shape), Some(data)) = (self.shape(), self.data.as_ref()) else { return };
        let cfg = PixelCnnTrainConfig { lr: self.lr, binarize: self.binarize, ..PixelCnnTrainConfig::new(self.epochs, self.batch, self.seed) };
        let built = PixelCnn::new(shape.clone(), self.seed)
            .and_then(|m| PixelCnnTrainer::new(m, Arc::clone(&data.train), Arc::clone(&data.test), cfg))
            .and_then(|t| Ok((t, PixelCnn::new(shape, self.seed)?)));
        let (trainer, local) = match built {
            Ok(x) => x,
            Err(e) => {
                self.status = format!("cannot train: {e}");
                return;
            }
        };
        self.steps_per_epoch = trainer.steps_per_epoch().max(1);
        // Weights come back after every epoch only (the hook also runs
        // every `view_every` steps; usize::MAX means never).
        let hook = Box::new(|t: &mut PixelCnnTrainer| Some(t.model.params().iter().map(|p| p.value.clone()).collect()));
        match PixelCnnWorker::spawn(trainer, hook, usize::MAX) {
            Ok(w) => {
                self.worker = Some(w);
                self.model = Some(local);
                (self.sampler, self.sampling) = (None, None);
                self.curves.clear();
                (self.last_test, self.last_train, self.epoch, self.paused) = (None, None, 0, false);
                self.status = "training".into();
            }
            Err(e) => self.status = e.to_string(),
        }
    }

    fn stop(&mut self) {
        if let Some(w) = self.worker.take() {
            w.stop();
            self.drain(&w);
        }
    }

    fn poll(&mut self) {
        if let Some(w) = self.worker.take() {
            self.drain(&w);
            if !w.is_finished() {
                self.worker = Some(w);
            }
        }
    }

    fn drain(&mut self, w: &PixelCnnWorker<Vec<Vec<f32>>>) {
        let pixels = self.pixels();
        while let Ok(e) = w.events().try_recv() {
            match e {
                PixelCnnEvent::Step(r) => self.curves.push("train (batch)", r.step as f64 / self.steps_per_epoch as f64, r.nll),
                PixelCnnEvent::Epoch(r) => {
                    let x = r.epoch as f64;
                    self.curves.push("train (epoch mean)", x, r.train_nll);
                    self.curves.push("test", x, r.test_nll);
                    self.curves.push("64 ln 2 (p = 1/2)", x, pixels as f64 * std::f64::consts::LN_2);
                    (self.last_test, self.last_train, self.epoch) = (Some(r.test_nll), Some(r.train_nll), r.epoch);
                }
                PixelCnnEvent::View(weights) => {
                    if let Some(m) = &mut self.model {
                        for (p, v) in m.params_mut().iter_mut().zip(weights) {
                            if p.value.len() == v.len() {
                                p.value = v;
                            }
                        }
                    }
                }
                PixelCnnEvent::Done { stopped, error } => {
                    self.status = match (error, stopped) {
                        (Some(e), _) => format!("failed: {e}"),
                        (None, true) => "stopped".into(),
                        (None, false) => "finished".into(),
                    };
                }
            }
        }
    }

    fn new_samples(&mut self) {
        let Some(m) = &self.model else { return };
        self.sample_seed += 1;
        let weights = m.params().iter().map(|p| p.value.clone()).collect();
        let started = Sampler::new(SAMPLES, m.shape().side, self.sample_seed).and_then(|s| Ok((SampleWorker::spawn(m.shape().clone(), weights, s.clone())?, s)));
        match started {
            Ok((w, s)) => (self.sampler, self.sampling) = (Some(s), Some(w)),
            Err(e) => self.status = e.to_string(),
        }
    }

    /// Ask the sampling thread for `n` more pixels of every sample.
    fn advance(&mut self, n: usize) {
        if let Some(w) = &mut self.sampling {
            w.request(n);
        }
    }

    fn sampling_in_flight(&self) -> bool {
        self.sampling.as_ref().is_some_and(|w| w.in_flight() > 0)
    }

    fn poll_sampling(&mut self) {
        let Some(w) = &mut self.sampling else { return };
        for e in w.poll() {
            match e {
                SampleEvent::Progress(s) | SampleEvent::Done(s) => self.sampler = Some(s),
                SampleEvent::Failed(e) => {
                    self.status = format!("cannot sample: {e}");
                    (self.sampler, self.sampling) = (None, None);
                    return;
                }
            }
        }
    }

    fn open_folder(&mut self) {
        let Some(dir) = rfd::FileDialog::new().set_title("MNIST-format folder (idx files)").pick_folder() else { return };
        self.load_folder(&dir);
    }

    /// Switch to an MNIST-format folder; on error keep what was loaded.
    pub fn load_folder(&mut self, dir: &std::path::Path) {
        match ImageData::folder(dir, self.mnist_limit, Some((self.mnist_limit / 6).max(100))) {
            Ok(d) => {
                self.stop();
                self.reset();
                (self.channels, self.layers, self.batch, self.lr, self.epochs) = (16, 3, 64, 2e-3, 2);
                self.status = format!("loaded {}", d.name);
                self.data = Some(d);
            }
            Err(e) => self.status = format!("cannot load {}: {e}", dir.display()),
        }
    }

    fn reset(&mut self) {
        self.model = None;
        (self.sampler, self.sampling) = (None, None);
        self.curves.clear();
        (self.last_test, self.last_train, self.epoch) = (None, None, 0);
    }

    fn save(&mut self) {
        if self.model.is_none() {
            return;
        }
        let Some(path) = rfd::FileDialog::new().set_file_name("pixelcnn.safetensors").save_file() else { return };
        self.save_checkpoint(&path);
    }

    /// Save the sampling model's weights and shape.
    pub fn save_checkpoint(&mut self, path: &std::path::Path) {
        let Some(m) = &self.model else { return };
        self.status = match pixelcnn::save(path, m, None, &Default::default()) {
            Ok(()) => format!("saved {}", path.display()),
            Err(e) => format!("cannot save {}: {e}", path.display()),
        };
    }

    /// The model and this lab's recipe as PyTorch code, in a folder the user picks.
    fn export_pytorch(&mut self) {
        let (Some(m), Some(d)) = (&self.model, &self.data) else { return };
        let pairs = pytorch::image_run(d, self.mnist_limit, (self.epochs, self.batch, self.lr, self.seed), self.binarize.name());
        let recipe = pytorch::recipe(&pairs);
        if let Some(status) = pytorch::with_dialog(|p| pixelcnn::save(p, m, None, &recipe).map_err(|e| e.to_string())) {
            self.status = status;
        }
    }

    fn load(&mut self) {
        let Some(path) = rfd::FileDialog::new().add_filter("safetensors", &["safetensors"]).pick_file() else { return };
        self.load_checkpoint(&path);
    }

    /// Load a checkpoint for the current data; on error keep the current model.
    pub fn load_checkpoint(&mut self, path: &std::path::Path) {
        let Some(side) = self.data.as_ref().map(|d| d.side) else { return };
        let result = pixelcnn::load(path)
            .map_err(|e| e.to_string())
            .and_then(|m| if m.shape().side == side { Ok(m) } else { Err(format!("it models {0}x{0} images, these are {side}x{side}", m.shape().side)) });
        match result {
            Ok(m) => {
                self.stop();
                self.reset();
                (self.channels, self.layers) = (m.shape().channels, m.shape().layers);
                self.model = Some(m);
                self.status = format!("loaded {}", path.display());
            }
            Err(e) => self.status = format!("cannot load {}: {e}", path.display()),
        }
    }

    /// The canvases as shown: drawn pixels 0 or 1, the rest dark grey.
    fn canvas_view(s: &Sampler) -> Vec<f32> {
        let per = s.side() * s.side();
        s.canvas().iter().enumerate().map(|(i, &v)| if i % per < s.pos() { v } else { UNDRAWN }).collect()
    }

    /// The last forward pass's probabilities on the row of the last drawn
    /// pixel, from that pixel on (exact there; after it they assume zeros
    /// where nothing is drawn yet); black elsewhere.
    fn row_view(s: &Sampler) -> Vec<f32> {
        let (side, per) = (s.side(), s.side() * s.side());
        let Some(last) = s.pos().checked_sub(1) else { return vec![0.0; s.count() * per] };
        let (row, col) = (last / side, last % side);
        let p = s.last_probs();
        (0..s.count() * per).map(|i| if (i % per) / side == row && (i % per) % side >= col { p.get(i).copied().unwrap_or(0.0) } else { 0.0 }).collect()
    }

    /// Outline the last drawn pixel in every tile of a mosaic drawn in `rect`.
    fn mark(ui: &egui::Ui, rect: egui::Rect, mosaic: &Mosaic, s: &Sampler) {
        let Some(last) = s.pos().checked_sub(1) else { return };
        let side = s.side();
        let scale = rect.width() / mosaic.image.width.max(1) as f32;
        let (i, j) = (last / side, last % side);
        for k in 0..s.count() {
            let (r, c) = (k / mosaic.cols, k % mosaic.cols);
            let min = rect.min + egui::vec2((c * (side + 1) + j) as f32, (r * (side + 1) + i) as f32) * scale;
            let px = egui::Rect::from_min_size(min, egui::vec2(scale, scale));
            ui.painter().rect_stroke(px, 0.0, egui::Stroke::new(2.0, egui::Color32::from_rgb(255, 80, 60)), egui::StrokeKind::Outside);
        }
    }

    fn samples_view(&mut self, ui: &mut egui::Ui, width: f32) {
        let Some(s) = &self.sampler else {
            ui.label(if self.model.is_some() { "Press New samples to draw images pixel by pixel." } else { "Train (or load a checkpoint), then sample." });
            return;
        };
        let side = s.side();
        let mosaic = Mosaic::new(&Self::canvas_view(s), side, SAMPLE_COLS);
        let height = width / mosaic.image.width.max(1) as f32 * mosaic.image.height as f32;
        let per = side * side;
        match s.pos().checked_sub(1) {
            Some(last) => ui.label(format!("Samples: pixel {}/{per}, last drawn at row {}, column {}", s.pos(), last / side, last % side)),
            None => ui.label(format!("Samples: pixel 0/{per}")),
        };
        let (rect, _) = mosaic.show(ui, height);
        self.regions.samples = Some(rect);
        Self::mark(ui, rect, &mosaic, s);
        let probs = s.last_pixel_probs();
        if !probs.is_empty() {
            let text: Vec<String> = probs.iter().map(|p| format!("{p:.2}")).collect();
            ui.label(format!("p(x = 1 | previous pixels) of the outlined pixel, per sample: {}", text.join(" ")));
        }
        if self.show_row && s.pos() > 0 {
            ui.label("Net's p(x = 1) along the outlined pixel's row (exact at the outlined pixel; after it, given zeros where nothing is drawn)");
            let row = Mosaic::new(&Self::row_view(s), side, SAMPLE_COLS);
            let (rect, _) = row.show(ui, height * 0.6);
            Self::mark(ui, rect, &row, s);
        }
    }
}

impl Lab for PixelCnnLab {
    fn info(&self) -> LabInfo {
        LabInfo { name: "pixelcnn", title: "PixelCNN", section: "Generative models" }
    }

    fn claims_file(&self, path: &std::path::Path) -> bool {
        is_idx_folder(path)
    }

    fn open_file(&mut self, path: &std::path::Path) {
        self.load_folder(path);
    }

    fn controls(&mut self, ui: &mut egui::Ui) {
        let training = self.worker.is_some();
        ui.add_enabled_ui(!training, |ui| {
            ui.label(format!("Data: {}", self.data.as_ref().map_or("none", |d| d.name.as_str())));
            ui.horizontal(|ui| {
                if ui.button("Built-in digits").clicked() {
                    match ImageData::digits() {
                        Ok(d) => {
                            self.reset();
                            self.data = Some(d);
                            (self.channels, self.layers, self.batch, self.lr, self.epochs) = (16, 3, 32, 3e-3, 10);
                        }
                        Err(e) => self.status = e,
                    }
                }
                if ui.button("MNIST folder...").clicked() {
                    self.open_folder();
                }
            });
            ui.add(egui::Slider::new(&mut self.mnist_limit, 1000..=60_000).logarithmic(true).text("folder: training images"));
            ui.label("7x7 type-A masked conv, then 3x3 type-B layers, ReLU, 1x1 to one logit per pixel");
            ui.add(egui::Slider::new(&mut self.layers, 0..=8).text("type-B layers"));
            ui.add(egui::Slider::new(&mut self.channels, 4..=64).logarithmic(true).text("channels"));
            ui.add(egui::Slider::new(&mut self.epochs, 1..=100).logarithmic(true).text("epochs"));
            ui.add(egui::Slider::new(&mut self.batch, 8..=256).logarithmic(true).text("batch size"));
            ui.add(egui::Slider::new(&mut self.lr, 1e-4..=1e-2).logarithmic(true).text("learning rate"));
            ui.add(egui::Slider::new(&mut self.seed, 0..=100).text("seed"));
            ui.horizontal(|ui| {
                ui.label("binarize pixels:");
                ui.radio_value(&mut self.binarize, Binarize::Threshold, "threshold 1/2");
                ui.radio_value(&mut self.binarize, Binarize::Sample, "sample");
            });
        });
        ui.horizontal(|ui| {
            if ui.add_enabled(!training && self.data.is_some(), egui::Button::new("Train")).clicked() {
                self.start();
            }
            if let Some(w) = &self.worker {
                if ui.button(if self.paused { "Resume" } else { "Pause" }).clicked() {
                    if self.paused {
                        w.resume()
                    } else {
                        w.pause()
                    }
                    self.paused = !self.paused;
                }
                if ui.button("Stop").clicked() {
                    self.stop();
                }
            }
        });
        ui.separator();
        ui.label("Sampling (raster order, one forward pass per pixel)");
        ui.add(egui::Slider::new(&mut self.speed, 1..=64).logarithmic(true).text("pixels per frame"));
        ui.checkbox(&mut self.animate, "animate");
        ui.checkbox(&mut self.show_row, "show the row's probability map");
        ui.horizontal(|ui| {
            let has_model = self.model.is_some();
            if ui.add_enabled(has_model, egui::Button::new("New samples")).clicked() {
                self.new_samples();
            }
            let running = self.sampler.as_ref().is_some_and(|s| !s.done());
            if ui.add_enabled(running, egui::Button::new("Next pixel")).clicked() {
                self.advance(1);
            }
            if ui.add_enabled(running, egui::Button::new("Finish")).clicked() {
                self.advance(usize::MAX);
            }
        });
        ui.separator();
        let ctx = ui.ctx().clone();
        ui.horizontal_wrapped(|ui| {
            for (label, rect, name) in [("Export samples PNG", self.regions.samples, "pixelcnn-samples.png"), ("Export curves PNG", self.regions.curves, "pixelcnn-curves.png")] {
                if ui.add_enabled(rect.is_some(), egui::Button::new(label)).clicked()
                    && let Some(r) = rect
                {
                    self.export.request(&ctx, r, name);
                }
            }
        });
        ui.horizontal(|ui| {
            if ui.add_enabled(self.model.is_some(), egui::Button::new("Save checkpoint")).clicked() {
                self.save();
            }
            if pytorch::button(ui, self.model.is_some()) {
                self.export_pytorch();
            }
            if ui.add_enabled(!training && self.data.is_some(), egui::Button::new("Load checkpoint")).clicked() {
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
        if self.worker.is_some() {
            ui.ctx().request_repaint();
        }
        self.poll_sampling();
        let drawing = self.sampler.as_ref().is_some_and(|s| !s.done());
        if self.animate && drawing && !self.sampling_in_flight() {
            self.advance(self.speed);
        }
        if drawing || self.sampling_in_flight() {
            ui.ctx().request_repaint();
        }
        ui.label(self.summary());
        let avail = ui.available_size();
        let half = (avail.x / 2.0 - 8.0).max(100.0);
        ui.horizontal_top(|ui| {
            ui.vertical(|ui| {
                ui.set_width(half);
                self.regions.curves = Some(self.curves.show(ui, (avail.y - 30.0).clamp(100.0, 420.0)));
            });
            ui.vertical(|ui| {
                ui.set_width(half);
                self.samples_view(ui, half);
            });
        });
    }

    fn summary(&self) -> String {
        let data = self.data.as_ref().map_or("no data".to_string(), |d| d.name.clone());
        let d = self.pixels();
        let nll = |v: Option<f64>| match v {
            Some(n) => format!("{n:.4} nats ({:.4} bits/dim)", bits_per_dim(n, d)),
            None => "not measured yet".into(),
        };
        let samples = match &self.sampler {
            Some(s) => format!("{} samples at pixel {}/{d}", s.count(), s.pos()),
            None => "no samples".into(),
        };
        format!("{data}: epoch {}/{}, test NLL {}, train NLL {}, {samples}; {}", self.epoch, self.epochs, nll(self.last_test), nll(self.last_train), self.status)
    }

    fn busy(&self) -> bool {
        self.worker.is_some() || self.sampling_in_flight()
    }
}
