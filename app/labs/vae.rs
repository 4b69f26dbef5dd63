//! Variational autoencoder: train an MLP VAE live (worker thread) on the
//! built-in 8x8 digits or an MNIST-format folder, and walk its latent
//! space: the test set's codes as a scatter (PCA plane above 2 latent
//! dims), the decoded manifold over that plane, interpolation between two
//! picked images, reconstructions, prior samples, and the negative ELBO in
//! nats split into reconstruction and KL, on train and test.

use std::sync::Arc;

use vislab_engine::rng::SeededRng;
use vislab_engine::vae::latent::Plane;
use vislab_engine::vae::worker::{VaeEvent, VaeWorker};
use vislab_engine::vae::{self, Binarize, Elbo, Vae, VaeShape, VaeTrainConfig, VaeTrainer};

use super::image_data::{ImageData, is_idx_folder};
use super::pytorch;
use super::{Lab, LabInfo};
use crate::widgets::curves::{Curves, palette};
use crate::widgets::export::PngExport;
use crate::widgets::latent_walk::LatentWalk;
use crate::widgets::mosaic::Mosaic;

/// Images shown as reconstructions; codes shown in the scatter (at most).
const RECON: usize = 8;
const CODES: usize = 1000;
const PRIOR: usize = 16;

/// What the worker sends for display: current weights, the codes of the
/// first test images and reconstructions of the first few.
struct Snapshot {
    weights: Vec<Vec<f32>>,
    codes: Vec<f32>,
    recon: Vec<f32>,
}

/// The codes and reconstructions of the first test images (binarized).
fn snapshot(vae: &mut Vae, test_x: &[f32]) -> Option<Snapshot> {
    let d = vae.shape().input;
    let n = (test_x.len() / d).min(CODES);
    let (codes, _) = vae.encode(test_x.get(..n * d)?, n).ok()?;
    let r = n.min(RECON);
    let recon = vae.reconstruct(test_x.get(..r * d)?, r).ok()?;
    Some(Snapshot { weights: vae.params().iter().map(|p| p.value.clone()).collect(), codes, recon })
}

/// Regions drawn last frame, for PNG export.
#[derive(Default)]
struct Regions {
    manifold: Option<egui::Rect>,
    strip: Option<egui::Rect>,
    samples: Option<egui::Rect>,
    curves: Option<egui::Rect>,
}

pub struct VaeLab {
    data: Option<ImageData>,
    latent: usize,
    hidden: usize,
    /// Two stride-2 conv stages before the hidden layer (a convolutional VAE).
    conv: bool,
    epochs: usize,
    batch: usize,
    lr: f32,
    seed: u64,
    mnist_limit: usize,
    binarize: Binarize,
    worker: Option<VaeWorker<Snapshot>>,
    paused: bool,
    /// The model the views decode with (weights from the worker, or loaded).
    model: Option<Vae>,
    /// Binarized test images the codes belong to, and their labels.
    test_x: Vec<f32>,
    codes: Vec<f32>,
    recon: Vec<f32>,
    plane: Plane,
    /// Manifold grid: tiles per side and extent on each plane axis.
    grid: usize,
    extent: f32,
    prior_seed: u64,
    /// Interpolation end points (test image indices) and the walk between them.
    pick: [usize; 2],
    picking: usize,
    walk: LatentWalk,
    curves: Curves,
    last_test: Option<Elbo>,
    epoch: usize,
    steps_per_epoch: usize,
    /// Decoded views, rebuilt when the model or a setting changes.
    mosaics: Option<Views>,
    export: PngExport,
    regions: Regions,
    status: String,
}

struct Views {
    manifold: Mosaic,
    strip: Mosaic,
    frame: Mosaic,
    samples: Mosaic,
    originals: Mosaic,
    recon: Mosaic,
}

impl Default for VaeLab {
    fn default() -> Self {
        Self::new()
    }
}

impl VaeLab {
    pub fn new() -> Self {
        let (data, status) = match ImageData::digits() {
            Ok(d) => (Some(d), String::new()),
            Err(e) => (None, format!("built-in digits: {e}")),
        };
        VaeLab {
            data,
            latent: 2,
            hidden: 128,
            conv: false,
            epochs: 30,
            batch: 32,
            lr: 3e-3,
            seed: 1,
            mnist_limit: 10_000,
            binarize: Binarize::Sample,
            worker: None,
            paused: false,
            model: None,
            test_x: vec![],
            codes: vec![],
            recon: vec![],
            plane: Plane::identity(2),
            grid: 12,
            extent: 2.5,
            prior_seed: 0,
            pick: [0, 1],
            picking: 0,
            walk: LatentWalk::default(),
            curves: Curves::new("vae_curves", "epoch", "nats per image"),
            last_test: None,
            epoch: 0,
            steps_per_epoch: 1,
            mosaics: None,
            export: PngExport::default(),
            regions: Regions::default(),
            status,
        }
    }

    fn shape(&self) -> Option<VaeShape> {
        let d = self.data.as_ref()?;
        let input = d.train.sample_len();
        // channels grow with the image: 16, 32 on the 8x8 digits, 32, 64 on 28x28
        let conv = match (self.conv, input > 64) {
            (false, _) => vec![],
            (true, false) => vec![16, 32],
            (true, true) => vec![32, 64],
        };
        Some(VaeShape { input, hidden: vec![self.hidden], latent: self.latent, conv })
    }

    fn start(&mut self) {
        self.stop();
        let (Some(shape), Some(data)) = (self.shape(), self.data.as_ref()) else { return };
        let cfg = VaeTrainConfig { lr: self.lr, binarize: self.binarize, ..VaeTrainConfig::new(self.epochs, self.batch, self.seed) };
        let built = Vae::new(shape.clone(), self.seed)
            .and_then(|v| VaeTrainer::new(v, Arc::clone(&data.train), Arc::clone(&data.test), cfg))
            .and_then(|t| Ok((t, Vae::new(shape, self.seed)?)));
        let (trainer, local) = match built {
            Ok(x) => x,
            Err(e) => {
                self.status = format!("cannot train: {e}");
                return;
            }
        };
        self.steps_per_epoch = data.train.num_batches(self.batch, false).max(1);
        self.test_x = trainer.test_images().to_vec();
        // About five views per epoch.
        let every = (self.steps_per_epoch / 5).max(1);
        let hook = Box::new(|t: &mut VaeTrainer| {
            let x = t.test_images().to_vec();
            snapshot(&mut t.vae, &x)
        });
        match VaeWorker::spawn(trainer, hook, every) {
            Ok(w) => {
                self.worker = Some(w);
                self.model = Some(local);
                self.curves.clear();
                self.last_test = None;
                self.epoch = 0;
                self.paused = false;
                self.status = "training".into();
                self.mosaics = None;
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

    /// Apply every event the worker has sent.
    fn drain(&mut self, w: &VaeWorker<Snapshot>) {
        while let Ok(e) = w.events().try_recv() {
            match e {
                VaeEvent::Step(r) => {
                    let x = (r.step as f64) / self.steps_per_epoch as f64;
                    self.curves.push("train -ELBO", x, r.elbo.nelbo());
                    self.curves.push("train recon", x, r.elbo.recon);
                    self.curves.push("train KL", x, r.elbo.kl);
                }
                VaeEvent::Epoch(r) => {
                    let x = r.epoch as f64;
                    self.curves.push("test -ELBO", x, r.test.nelbo());
                    self.curves.push("test recon", x, r.test.recon);
                    self.curves.push("test KL", x, r.test.kl);
                    self.last_test = Some(r.test);
                    self.epoch = r.epoch;
                }
                VaeEvent::View(s) => self.show_snapshot(s),
                VaeEvent::Done { stopped, error } => {
                    self.status = match (error, stopped) {
                        (Some(e), _) => format!("failed: {e}"),
                        (None, true) => "stopped".into(),
                        (None, false) => "finished".into(),
                    };
                }
            }
        }
    }

    fn show_snapshot(&mut self, s: Snapshot) {
        if let Some(m) = &mut self.model {
            for (p, w) in m.params_mut().iter_mut().zip(s.weights) {
                if p.value.len() == w.len() {
                    p.value = w;
                }
            }
        }
        self.plane = Plane::fit(&s.codes, self.latent_of_model());
        self.codes = s.codes;
        self.recon = s.recon;
        self.mosaics = None;
    }

    fn latent_of_model(&self) -> usize {
        self.model.as_ref().map_or(self.latent, |m| m.latent())
    }

    fn side(&self) -> usize {
        self.data.as_ref().map_or(8, |d| d.side)
    }

    fn labels(&self) -> &[usize] {
        self.data.as_ref().map_or(&[], |d| d.test.y())
    }

    fn code(&self, i: usize) -> Option<&[f32]> {
        let z = self.latent_of_model();
        self.codes.get(i * z..(i + 1) * z)
    }

    /// Decode everything the views show.
    fn rebuild(&mut self) -> Result<Views, String> {
        let side = self.side();
        let (grid, extent, frames) = (self.grid, self.extent, self.walk.frames);
        let plane = self.plane.clone();
        let ends = (self.code(self.pick[0]).map(<[f32]>::to_vec), self.code(self.pick[1]).map(<[f32]>::to_vec));
        let d = side * side;
        let originals = self.test_x.get(..(self.recon.len() / d.max(1)) * d).unwrap_or(&[]).to_vec();
        let recon = self.recon.clone();
        let prior_seed = self.prior_seed;
        let m = self.model.as_mut().ok_or("no model yet")?;
        let z = m.latent();
        let e = |e: vae::VaeError| e.to_string();
        let manifold = Mosaic::new(&m.decode(&plane.grid(grid, extent), grid * grid).map_err(e)?, side, grid);
        let mut rng = SeededRng::new(prior_seed);
        let prior: Vec<f32> = (0..PRIOR * z).map(|_| rng.normal() as f32).collect();
        let samples = Mosaic::new(&m.decode(&prior, PRIOR).map_err(e)?, side, 8);
        let (strip, frame) = match ends {
            (Some(a), Some(b)) => {
                let images = m.decode(&self.walk.codes(&a, &b), frames + 1).map_err(e)?;
                let (strip, one) = images.split_at(frames * side * side);
                (Mosaic::new(strip, side, frames), Mosaic::new(one, side, 1))
            }
            _ => (Mosaic::new(&[], side, 1), Mosaic::new(&[], side, 1)),
        };
        Ok(Views { manifold, strip, frame, samples, originals: Mosaic::new(&originals, side, RECON), recon: Mosaic::new(&recon, side, RECON) })
    }

    fn open_folder(&mut self) {
        let Some(dir) = rfd::FileDialog::new().set_title("MNIST-format folder (idx files)").pick_folder() else { return };
        self.load_folder(&dir);
    }

    /// Switch to an MNIST-format folder; on error keep what was loaded.
    pub fn load_folder(&mut self, dir: &std::path::Path) {
        match ImageData::folder(dir, self.mnist_limit, None) {
            Ok(d) => {
                self.stop();
                self.reset_views();
                self.hidden = 256;
                self.batch = 100;
                self.lr = 1e-3;
                self.epochs = 5;
                self.status = format!("loaded {}", d.name);
                self.data = Some(d);
            }
            Err(e) => self.status = format!("cannot load {}: {e}", dir.display()),
        }
    }

    fn reset_views(&mut self) {
        self.model = None;
        self.codes.clear();
        self.recon.clear();
        self.test_x.clear();
        self.mosaics = None;
        self.curves.clear();
        self.last_test = None;
        self.epoch = 0;
    }

    fn save(&mut self) {
        let Some(m) = &self.model else { return };
        let Some(path) = rfd::FileDialog::new().set_file_name("vae.safetensors").save_file() else { return };
        self.status = match vae::save(&path, m, None, &Default::default()) {
            Ok(()) => format!("saved {}", path.display()),
            Err(e) => format!("cannot save {}: {e}", path.display()),
        };
    }

    /// The model and this lab's recipe as PyTorch code, in a folder the user picks.
    fn export_pytorch(&mut self) {
        let (Some(m), Some(d)) = (&self.model, &self.data) else { return };
        let mut pairs = pytorch::image_run(d, self.mnist_limit, (self.epochs, self.batch, self.lr, self.seed), self.binarize.name());
        pairs.push(("schedule", "constant".into()));
        let recipe = pytorch::recipe(&pairs);
        if let Some(status) = pytorch::with_dialog(|p| vae::save(p, m, None, &recipe).map_err(|e| e.to_string())) {
            self.status = status;
        }
    }

    fn load(&mut self) {
        let Some(path) = rfd::FileDialog::new().add_filter("safetensors", &["safetensors"]).pick_file() else { return };
        self.load_checkpoint(&path);
    }

    /// Load a checkpoint for the current data; on error keep the current model.
    pub fn load_checkpoint(&mut self, path: &std::path::Path) {
        let Some(data) = &self.data else { return };
        let test = Arc::clone(&data.test);
        let result = vae::load(path).map_err(|e| e.to_string()).and_then(|m| {
            if m.shape().input == data.test.sample_len() { Ok(m) } else { Err(format!("it takes {} pixels, these images have {}", m.shape().input, data.test.sample_len())) }
        });
        match result {
            Ok(mut m) => {
                self.stop();
                let mut x = test.x().to_vec();
                self.binarize.apply(&mut x, &mut SeededRng::new(self.seed));
                let snap = snapshot(&mut m, &x);
                self.reset_views();
                self.latent = m.latent();
                self.test_x = x;
                self.model = Some(m);
                if let Some(s) = snap {
                    self.show_snapshot(s);
                }
                self.status = format!("loaded {}", path.display());
            }
            Err(e) => self.status = format!("cannot load {}: {e}", path.display()),
        }
    }

    /// The scatter of codes on the plane; a click picks the nearest image.
    fn scatter(&mut self, ui: &mut egui::Ui, size: egui::Vec2) {
        let (rect, resp) = ui.allocate_exact_size(size, egui::Sense::click());
        let painter = ui.painter_at(rect);
        painter.rect_filled(rect, 2.0, egui::Color32::from_gray(24));
        let z = self.latent_of_model();
        let pts: Vec<[f32; 2]> = self.codes.chunks_exact(z.max(1)).map(|c| self.plane.project(c)).collect();
        // A square view that holds the points and the manifold's extent.
        let reach = pts.iter().fold(self.extent, |m, p| m.max(p[0].abs()).max(p[1].abs())) * 1.05;
        let to_screen = |p: [f32; 2]| rect.center() + egui::vec2(p[0], -p[1]) * (rect.width().min(rect.height()) / (2.0 * reach));
        let e = self.extent;
        painter.rect_stroke(egui::Rect::from_two_pos(to_screen([-e, -e]), to_screen([e, e])), 0.0, egui::Stroke::new(1.0, egui::Color32::GRAY), egui::StrokeKind::Middle);
        let labels = self.labels();
        for (i, p) in pts.iter().enumerate() {
            let l = labels.get(i).copied().unwrap_or(0);
            painter.circle_filled(to_screen(*p), 2.0, palette(l));
        }
        for (k, &i) in self.pick.iter().enumerate() {
            if let Some(p) = pts.get(i) {
                painter.circle_stroke(to_screen(*p), 6.0, egui::Stroke::new(2.0, egui::Color32::WHITE));
                painter.text(to_screen(*p) + egui::vec2(8.0, -8.0), egui::Align2::LEFT_BOTTOM, ["A", "B"][k], egui::FontId::proportional(14.0), egui::Color32::WHITE);
            }
        }
        let axes = if z > 2 { "PCA of the codes" } else { "z1, z2" };
        painter.text(
            rect.left_top() + egui::vec2(4.0, 4.0),
            egui::Align2::LEFT_TOP,
            format!("test codes ({axes}); click to pick {}", ["A", "B"][self.picking]),
            egui::FontId::proportional(12.0),
            egui::Color32::LIGHT_GRAY,
        );
        if let Some(pos) = resp.clicked().then(|| resp.interact_pointer_pos()).flatten() {
            let d2 = |p: &[f32; 2]| (to_screen(*p) - pos).length_sq();
            if let Some((i, _)) = pts.iter().enumerate().min_by(|a, b| d2(a.1).total_cmp(&d2(b.1))) {
                self.pick[self.picking] = i;
                self.picking = 1 - self.picking;
                self.mosaics = None;
            }
        }
    }
}

impl Lab for VaeLab {
    fn info(&self) -> LabInfo {
        LabInfo { name: "vae", title: "Variational autoencoder", section: "Generative models" }
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
                            self.reset_views();
                            self.data = Some(d);
                            (self.hidden, self.batch, self.lr, self.epochs) = (128, 32, 3e-3, 30);
                        }
                        Err(e) => self.status = e,
                    }
                }
                if ui.button("MNIST folder...").clicked() {
                    self.open_folder();
                }
            });
            ui.add(egui::Slider::new(&mut self.mnist_limit, 1000..=60_000).logarithmic(true).text("folder: training images"));
            ui.add(egui::Slider::new(&mut self.latent, 1..=32).text("latent size"));
            ui.add(egui::Slider::new(&mut self.hidden, 8..=1024).logarithmic(true).text("hidden units"));
            ui.checkbox(&mut self.conv, "convolutional").on_hover_text(
                "Two 3x3 stride-2 convolutions (16 and 32 channels on 8x8 images, 32 and 64 on 28x28) before the hidden layer; the decoder mirrors them with 4x4 stride-2 transposed convolutions",
            );
            ui.add(egui::Slider::new(&mut self.epochs, 1..=200).logarithmic(true).text("epochs"));
            ui.add(egui::Slider::new(&mut self.batch, 8..=256).logarithmic(true).text("batch size"));
            ui.add(egui::Slider::new(&mut self.lr, 1e-4..=1e-2).logarithmic(true).text("learning rate"));
            ui.add(egui::Slider::new(&mut self.seed, 0..=100).text("seed"));
            ui.horizontal(|ui| {
                ui.label("binarize pixels:");
                for b in Binarize::ALL {
                    ui.radio_value(&mut self.binarize, b, b.name());
                }
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
        let mut changed = false;
        changed |= ui.add(egui::Slider::new(&mut self.extent, 0.5..=6.0).text("manifold extent")).changed();
        changed |= ui.add(egui::Slider::new(&mut self.grid, 4..=24).text("manifold tiles per side")).changed();
        ui.label("Interpolation");
        // Until there are codes, any index up to the most the scatter shows.
        let n = match self.codes.len() / self.latent_of_model().max(1) {
            0 => CODES,
            n => n,
        };
        ui.add_enabled_ui(!self.codes.is_empty(), |ui| {
            changed |= ui.add(egui::DragValue::new(&mut self.pick[0]).range(0..=n - 1).prefix("A: test image ")).changed();
            changed |= ui.add(egui::DragValue::new(&mut self.pick[1]).range(0..=n - 1).prefix("B: test image ")).changed();
        });
        changed |= self.walk.controls(ui);
        if ui.button("New prior samples").clicked() {
            self.prior_seed += 1;
            changed = true;
        }
        if changed {
            self.mosaics = None;
        }
        ui.separator();
        let ctx = ui.ctx().clone();
        ui.horizontal_wrapped(|ui| {
            for (label, rect, name) in [
                ("Export manifold PNG", self.regions.manifold, "vae-manifold.png"),
                ("Export interpolation PNG", self.regions.strip, "vae-interpolation.png"),
                ("Export samples PNG", self.regions.samples, "vae-samples.png"),
                ("Export curves PNG", self.regions.curves, "vae-curves.png"),
            ] {
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
        if self.mosaics.is_none() && self.model.is_some() && !self.codes.is_empty() {
            match self.rebuild() {
                Ok(v) => self.mosaics = Some(v),
                Err(e) => self.status = format!("cannot decode: {e}"),
            }
        }
        ui.label(self.summary());
        let avail = ui.available_size();
        let half = egui::vec2((avail.x / 2.0 - 8.0).max(100.0), (avail.y / 2.0 - 8.0).max(100.0));
        ui.horizontal(|ui| {
            ui.vertical(|ui| {
                ui.set_width(half.x);
                self.regions.curves = Some(self.curves.show(ui, half.y - 10.0));
            });
            self.scatter(ui, egui::vec2(half.x, half.y));
        });
        let Some(v) = &self.mosaics else {
            ui.label("Train (or load a checkpoint) to see the latent space.");
            return;
        };
        let (mut strip_click, mut recon_click) = (false, None);
        ui.horizontal(|ui| {
            ui.vertical(|ui| {
                ui.label(format!("Decoded manifold over [-{0}, {0}]^2", self.extent));
                self.regions.manifold = Some(v.manifold.show(ui, (half.y - 24.0).min(half.x)).0);
            });
            ui.vertical(|ui| {
                ui.label("Test originals (as trained on), then reconstructions");
                let (_, c) = v.originals.show(ui, 36.0);
                recon_click = c;
                v.recon.show(ui, 36.0);
                ui.label("Samples from the prior N(0, I)");
                self.regions.samples = Some(v.samples.show(ui, 72.0).0);
                ui.label(format!("Interpolation A to B ({})", self.walk.path_name()));
                let (r, c) = self.walk.show(ui, &v.strip, &v.frame, 36.0, 56.0);
                self.regions.strip = Some(r);
                strip_click = c;
            });
        });
        // Clicking an original picks it as the next end point.
        if let Some(i) = recon_click {
            self.pick[self.picking] = i;
            self.picking = 1 - self.picking;
            self.mosaics = None;
        }
        if strip_click {
            self.mosaics = None;
        }
    }

    fn summary(&self) -> String {
        let data = self.data.as_ref().map_or("no data".to_string(), |d| d.name.clone());
        let test = match self.last_test {
            Some(e) => format!("test -ELBO {:.2} nats (recon {:.2} + KL {:.2})", e.nelbo(), e.recon, e.kl),
            None => "test -ELBO not measured yet".into(),
        };
        let codes = self.codes.len() / self.latent_of_model().max(1);
        format!("{data}, latent {}: epoch {}/{}, {test}, {codes} test codes; {}", self.latent_of_model(), self.epoch, self.epochs, self.status)
    }

    fn busy(&self) -> bool {
        self.worker.is_some()
    }
}
