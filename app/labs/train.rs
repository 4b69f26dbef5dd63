//! Network training: an MLP, CNN or small ResNet trained on the built-in
//! 8x8 digits or on any dataset the engine opens (MNIST / Fashion-MNIST idx
//! files, CIFAR batches, image folders), with optional random augmentation
//! previewed before training, on the engine's trainer thread. Live curves (loss, accuracy, learning rate, speed),
//! pause / resume / stop and early stopping; then the confusion matrix,
//! misclassified test images, first-layer filters, every layer's
//! activations for a chosen image, activation and gradient histograms, and
//! receptive fields. A second tab runs grid or random hyperparameter search.
//!
//! Any `data::Dataset` of images (`[H, W]` or `[C, H, W]` samples) plugs in
//! through [`Splits::new`].

mod augment;
mod data;
mod inspect;
mod search;
mod settings;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use vislab_engine::job::Task;
use vislab_engine::models::{Activation, Family, ModelsError};
use vislab_engine::train::report::Report;
use vislab_engine::train::{Event, Model, TrainerHandle, checkpoint};

pub use data::Splits;
use settings::Settings;
use vislab_engine::data::Source;
use vislab_engine::data::augment::Augment;
use vislab_engine::registry::{INITIALIZERS, OPTIMIZERS, SCHEDULES};

use super::{Lab, LabInfo};
use crate::widgets::curves::Curves;
use crate::widgets::data_picker::DataPicker;
use crate::widgets::export::PngExport;

/// Batch size of evaluation and prediction (the command line's).
const EVAL_BATCH: usize = 1000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tab {
    Curves,
    Augmented,
    Results,
    Layers,
    Search,
}

/// A run in progress.
struct Run {
    handle: TrainerHandle<Report>,
    started: Instant,
    paused: bool,
    total_steps: usize,
    step: usize,
    epoch: usize,
}

/// What the finishing thread hands back: the final report, the model, why
/// it stopped and the epochs and steps it trained.
type Finish = Result<(Report, Box<dyn Model>, String, [usize; 2]), String>;

pub struct TrainLab {
    source: Source,
    /// Where the loaded data came from (None: handed over by [`TrainLab::set_data`]).
    loaded: Option<Source>,
    picker: DataPicker,
    data: Option<Splits>,
    /// Train on the first this many training images only (the command line's `--limit`).
    limit: Option<usize>,
    loading: Option<Task<Result<Splits, String>>>,
    settings: Settings,
    run: Option<Run>,
    finishing: Option<Task<Finish>>,
    model: Option<Box<dyn Model>>,
    /// The trained model's checkpoint metadata: its network and recipe
    /// (the settings may change after the run).
    model_meta: BTreeMap<String, String>,
    report: Option<Report>,
    /// Per step: training loss (EMA-smoothed) and learning rate.
    step_loss: Curves,
    lr_curve: Curves,
    /// Per epoch: train and validation loss and accuracy, speed.
    epoch_loss: Curves,
    accuracy: Curves,
    speed: Curves,
    step_ms: Option<f32>,
    images_per_s: Option<f32>,
    status: String,
    tab: Tab,
    chosen: Arc<AtomicUsize>,
    visuals: inspect::Visuals,
    search: search::Search,
    augment_preview: augment::Preview,
    export: PngExport,
    plots_rect: Option<egui::Rect>,
}

impl Default for TrainLab {
    fn default() -> Self {
        Self::new()
    }
}

impl TrainLab {
    pub fn new() -> Self {
        let (data, status) = match Splits::digits(0) {
            Ok(d) => (Some(d), String::new()),
            Err(e) => (None, format!("could not load the digits: {e}")),
        };
        let image = data.as_ref().map_or([1, 8, 8], |d| d.image);
        TrainLab {
            source: Source::Digits,
            loaded: data.as_ref().map(|_| Source::Digits),
            picker: DataPicker::default(),
            data,
            limit: None,
            loading: None,
            settings: Settings::for_image(Family::Cnn, image),
            run: None,
            finishing: None,
            model: None,
            model_meta: BTreeMap::new(),
            report: None,
            step_loss: Curves::new("train-step-loss", "step", "loss").smoothed(0.9),
            lr_curve: Curves::new("train-lr", "step", "learning rate"),
            epoch_loss: Curves::new("train-epoch-loss", "epoch", "loss"),
            accuracy: Curves::new("train-accuracy", "epoch", "accuracy").unit(),
            speed: Curves::new("train-speed", "step", "images/s").smoothed(0.95),
            step_ms: None,
            images_per_s: None,
            status,
            tab: Tab::Curves,
            chosen: Arc::new(AtomicUsize::new(0)),
            visuals: inspect::Visuals::default(),
            search: search::Search::new(),
            augment_preview: augment::Preview::default(),
            export: PngExport::default(),
            plots_rect: None,
        }
    }

    fn training(&self) -> bool {
        self.run.is_some() || self.finishing.is_some()
    }

    /// Load a source on a worker thread (MNIST takes a moment to decode).
    fn load(&mut self, source: Source) {
        self.stop();
        let s = source.clone();
        self.source = source;
        self.loading = Some(Task::spawn("vislab-train-load", move |_| Splits::load(&s)));
        self.status = "loading data".into();
    }

    fn poll_loading(&mut self) {
        let Some(r) = self.loading.as_ref().and_then(|t| t.poll()) else { return };
        self.loading = None;
        let r = r.and_then(|r| r);
        match r {
            Ok(d) => {
                self.settings = Settings::for_image(self.settings.family, d.image);
                self.status = format!("{}: {} training, {} validation, {} test images", d.title, d.train.len(), if d.val_is_test { 0 } else { d.val.len() }, d.test.len());
                self.data = Some(d);
                self.loaded = Some(self.source.clone());
                self.clear_results();
            }
            // keep what was loaded
            Err(e) => self.status = format!("could not load the data: {e}"),
        }
    }

    fn clear_results(&mut self) {
        for c in [&mut self.step_loss, &mut self.lr_curve, &mut self.epoch_loss, &mut self.accuracy, &mut self.speed] {
            c.clear();
        }
        self.report = None;
        self.model = None;
        self.visuals = inspect::Visuals::default();
        self.step_ms = None;
        self.images_per_s = None;
        self.chosen.store(0, Ordering::Relaxed);
    }

    fn start(&mut self) {
        self.stop();
        let Some(d) = &self.data else { return };
        let s = &self.settings;
        let spec = s.spec(d.image, d.train.num_classes());
        let built = spec.build().map_err(ModelsError::from).and_then(|net| {
            let geometry = net.geometry.clone();
            Ok((net.into_model(s.seed, s.init.init)?, geometry))
        });
        let (model, geometry) = match built {
            Ok(m) => m,
            Err(e) => {
                self.status = format!("could not build the network: {e}");
                return;
            }
        };
        let (train, limit) = match self.limit {
            Some(n) if n < d.train.len() => (Arc::new(d.train.take(n)), Some(n)),
            _ => (d.train.clone(), None),
        };
        let mut meta = spec.to_meta();
        meta.extend(s.recipe(self.loaded.as_ref(), limit));
        if let Some(source) = &self.loaded {
            meta.insert("vislab.data".into(), source.kind().into());
        }
        let steps_per_epoch = train.num_batches(s.batch, false);
        let (test, probe, chosen) = (d.test.clone(), d.probe.clone(), self.chosen.clone());
        let hook = Box::new(move |m: &mut dyn Model, _| Report::compute(m, &test, &probe, chosen.load(Ordering::Relaxed), EVAL_BATCH).ok());
        let job = s.job(Box::new(model), &train, &d.val).samples(hook);
        let total_steps = steps_per_epoch * s.epochs;
        match job.spawn() {
            Ok(handle) => {
                self.clear_results();
                self.model_meta = meta;
                self.visuals.geometry = geometry;
                self.run = Some(Run { handle, started: Instant::now(), paused: false, total_steps, step: 0, epoch: 0 });
                self.status = "training".into();
            }
            Err(e) => self.status = format!("could not start training: {e}"),
        }
    }

    fn stop(&mut self) {
        if let Some(r) = &self.run {
            r.handle.stop();
        }
    }

    /// Drain the trainer's events; when it ends, hand it to a thread that
    /// joins it and computes the final report (early stopping may have
    /// restored better weights than the last epoch's).
    fn poll(&mut self) {
        self.poll_loading();
        self.poll_finish();
        let Some(run) = &mut self.run else { return };
        let mut ended = None;
        while let Ok(ev) = run.handle.events().try_recv() {
            match ev {
                Event::Step { step, epoch, loss, lr, seconds, samples } => {
                    run.step = step;
                    run.epoch = epoch;
                    self.step_loss.push("train", step as f64, loss as f64);
                    self.lr_curve.push("learning rate", step as f64, lr as f64);
                    if seconds > 0.0 {
                        let ema = |old: Option<f32>, new: f32| Some(old.map_or(new, |o| 0.9 * o + 0.1 * new));
                        self.step_ms = ema(self.step_ms, 1e3 * seconds);
                        self.images_per_s = ema(self.images_per_s, samples as f32 / seconds);
                        self.speed.push("images/s", step as f64, (samples as f32 / seconds) as f64);
                    }
                }
                Event::Epoch(m) => {
                    let e = m.epoch as f64;
                    self.epoch_loss.push("train", e, m.train_loss as f64);
                    self.accuracy.push("train", e, m.train_acc as f64);
                    if let (Some(l), Some(a)) = (m.val_loss, m.val_acc) {
                        self.epoch_loss.push("validation", e, l as f64);
                        self.accuracy.push("validation", e, a as f64);
                    }
                    let val = m.val_acc.map_or(String::new(), |a| format!(", validation {:.2}%", 100.0 * a));
                    self.status = format!("epoch {}/{}: loss {:.4}, accuracy {:.2}%{val}", m.epoch, self.settings.epochs, m.train_loss, 100.0 * m.train_acc);
                }
                Event::Samples { data, .. } => {
                    if let Some(d) = &self.data {
                        self.visuals.update(&data, d);
                    }
                    self.report = Some(data);
                }
                Event::Stopped { reason } => ended = Some(Ok(reason.to_string())),
                Event::Failed { message } => ended = Some(Err(message)),
            }
        }
        let Some(end) = ended else { return };
        let Some(run) = self.run.take() else { return };
        let (Some(d), Ok(reason)) = (&self.data, &end) else {
            self.status = format!("training failed: {}", end.err().unwrap_or_default());
            return;
        };
        let (test, probe, chosen, reason) = (d.test.clone(), d.probe.clone(), self.chosen.load(Ordering::Relaxed), reason.clone());
        self.finishing = Some(Task::spawn("vislab-train-report", move |_| {
            let mut done = run.handle.join().map_err(|e| e.to_string())?;
            let report = Report::compute(done.model.as_mut(), &test, &probe, chosen, EVAL_BATCH).map_err(|e| e.to_string())?;
            Ok((report, done.model, reason, [done.progress.epoch, done.progress.step]))
        }));
    }

    fn poll_finish(&mut self) {
        let Some(r) = self.finishing.as_ref().and_then(|t| t.poll()) else { return };
        self.finishing = None;
        let r = r.and_then(|r| r);
        match r {
            Ok((report, model, reason, [epoch, step])) => {
                let acc = report.confusion.accuracy();
                self.status = format!("{} ({reason}); test accuracy {:.2}%", self.status, 100.0 * acc);
                if let Some(d) = &self.data {
                    self.visuals.update(&report, d);
                }
                self.report = Some(report);
                self.model = Some(model);
                self.model_meta.extend([("epoch".to_string(), epoch.to_string()), ("step".to_string(), step.to_string())]);
            }
            Err(e) => self.status = format!("training ended, but: {e}"),
        }
    }

    /// Show test image `i` in the layer views (recomputed at once when the
    /// run is over, at the next epoch while it trains).
    fn choose(&mut self, i: usize) {
        self.chosen.store(i, Ordering::Relaxed);
        let (Some(model), Some(d), Some(report)) = (&mut self.model, &self.data, &mut self.report) else { return };
        match Report::maps(model.as_mut(), &d.test, i) {
            Ok(maps) => {
                report.chosen = i;
                report.maps = maps;
                self.visuals.update(report, d);
            }
            Err(e) => self.status = format!("could not inspect image {i}: {e}"),
        }
    }

    fn data_controls(&mut self, ui: &mut egui::Ui) {
        ui.label(egui::RichText::new("Data").strong());
        let title = self.data.as_ref().map_or("none".to_string(), |d| d.title.clone());
        ui.label(title);
        ui.horizontal_wrapped(|ui| {
            if ui.add_enabled(self.source != Source::Digits, egui::Button::new("8x8 digits")).clicked() {
                self.load(Source::Digits);
            }
        });
        egui::CollapsingHeader::new("Open a dataset (MNIST, Fashion-MNIST, CIFAR, image folder)").show(ui, |ui| match self.picker.ui(ui) {
            Some(Ok(source)) => self.load(source),
            Some(Err(e)) => self.status = format!("could not load the data: {e}"),
            None => {}
        });
        if let Some(d) = &self.data {
            let mut limited = self.limit.is_some();
            ui.horizontal(|ui| {
                if ui.checkbox(&mut limited, "only the first").changed() {
                    self.limit = limited.then_some(d.train.len().min(2000));
                }
                if let Some(n) = &mut self.limit {
                    ui.add(egui::Slider::new(n, 1..=d.train.len().max(1)).logarithmic(true).text("training images"));
                }
            });
            let val = if d.val_is_test { "validation = test split".to_string() } else { format!("{} validation", d.val.len()) };
            ui.label(egui::RichText::new(format!("{} train, {val}, {} test, {}x{}x{}", d.train.len(), d.test.len(), d.image[0], d.image[1], d.image[2])).small());
        }
    }

    fn network_controls(&mut self, ui: &mut egui::Ui) {
        let image = self.data.as_ref().map_or([1, 8, 8], |d| d.image);
        let s = &mut self.settings;
        ui.label(egui::RichText::new("Network").strong());
        let before = s.family;
        egui::ComboBox::from_label("architecture").selected_text(s.family.name()).show_ui(ui, |ui| {
            for f in Family::ALL {
                ui.selectable_value(&mut s.family, f, f.name());
            }
        });
        if s.family != before {
            let keep = s.clone();
            *s = Settings { optimizer: keep.optimizer, lr: keep.lr, seed: keep.seed, ..Settings::for_image(s.family, image) };
        }
        let what = if s.family == Family::Mlp { "hidden layers" } else { "stages" };
        ui.add(egui::Slider::new(&mut s.depth, 1..=4).text(what));
        let width = if s.family == Family::Mlp { "first layer width" } else { "first stage channels" };
        ui.add(egui::Slider::new(&mut s.width, 2..=1024).logarithmic(true).text(width));
        if s.family != Family::ResNet {
            egui::ComboBox::from_label("activation").selected_text(s.activation.name()).show_ui(ui, |ui| {
                for a in Activation::ALL {
                    ui.selectable_value(&mut s.activation, a, a.name());
                }
            });
            ui.checkbox(&mut s.batch_norm, "batch norm");
        } else {
            ui.label(egui::RichText::new("residual blocks: ReLU and batch norm").small());
        }
        egui::ComboBox::from_label("initializer").selected_text(s.init.title).show_ui(ui, |ui| {
            for i in &INITIALIZERS {
                ui.selectable_value(&mut s.init, i, i.title);
            }
        });
        ui.add(egui::Slider::new(&mut s.dropout, 0.0..=0.8).text("dropout"));
    }

    fn optimizer_controls(&mut self, ui: &mut egui::Ui) {
        let s = &mut self.settings;
        ui.label(egui::RichText::new("Optimization").strong());
        let before = s.optimizer;
        egui::ComboBox::from_label("optimizer").selected_text(s.optimizer.title).show_ui(ui, |ui| {
            for o in &OPTIMIZERS {
                ui.selectable_value(&mut s.optimizer, o, o.title);
            }
        });
        if s.optimizer != before {
            s.lr = s.optimizer.default_lr;
        }
        ui.add(egui::Slider::new(&mut s.lr, 1e-5..=1.0).logarithmic(true).text("learning rate"));
        egui::ComboBox::from_label("schedule").selected_text(s.decay.title).show_ui(ui, |ui| {
            for d in &SCHEDULES {
                ui.selectable_value(&mut s.decay, d, d.title);
            }
        });
        ui.add(egui::Slider::new(&mut s.l2, 0.0..=0.1).logarithmic(true).smallest_positive(1e-6).text("L2 strength"));
        ui.add(egui::Slider::new(&mut s.batch, 1..=512).logarithmic(true).text("batch size"));
        ui.add(egui::Slider::new(&mut s.epochs, 1..=100).logarithmic(true).text("epochs"));
        ui.add(egui::Slider::new(&mut s.seed, 0..=100).text("seed"));
        ui.horizontal(|ui| {
            ui.checkbox(&mut s.early_stopping, "early stopping");
            ui.add_enabled(s.early_stopping, egui::Slider::new(&mut s.patience, 1..=10).text("patience"));
        });
    }

    fn augment_controls(&mut self, ui: &mut egui::Ui) {
        let a = &mut self.settings.augment;
        let title = if a.is_identity() { "Augmentation: none".to_string() } else { format!("Augmentation: {a}") };
        let r = egui::CollapsingHeader::new(egui::RichText::new(title).strong()).id_salt("train-augment").show(ui, |ui| {
            let changed = crate::widgets::augment::sliders(ui, a);
            ui.label(egui::RichText::new("applied to every training batch; the Augmented batch tab shows the first").small());
            changed
        });
        if r.body_returned == Some(true) {
            self.tab = Tab::Augmented;
        }
    }

    fn run_controls(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            let can = self.data.is_some() && !self.training() && self.loading.is_none() && !self.search.running();
            if ui.add_enabled(can, egui::Button::new("Train")).clicked() {
                self.start();
            }
            if let Some(run) = &mut self.run {
                if ui.button(if run.paused { "Resume" } else { "Pause" }).clicked() {
                    if run.paused {
                        run.handle.resume()
                    } else {
                        run.handle.pause()
                    }
                    run.paused = !run.paused;
                }
                if ui.button("Stop").clicked() {
                    run.handle.stop();
                }
            }
        });
        if let Some(run) = &self.run {
            let frac = run.step as f32 / run.total_steps.max(1) as f32;
            let text = format!("epoch {} step {}/{} ({:.0} s)", run.epoch, run.step, run.total_steps, run.started.elapsed().as_secs_f32());
            ui.add(egui::ProgressBar::new(frac).text(text));
        }
        if self.finishing.is_some() {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("evaluating the final weights");
            });
        }
        if let (Some(ms), Some(ips)) = (self.step_ms, self.images_per_s) {
            ui.label(format!("step {ms:.2} ms, {ips:.0} images/s (moving average)"));
        }
        if !self.status.is_empty() {
            ui.label(&self.status);
        }
    }

    fn export_controls(&mut self, ui: &mut egui::Ui) {
        ui.label(egui::RichText::new("Export").strong());
        ui.horizontal_wrapped(|ui| {
            if ui.add_enabled(!self.epoch_loss.is_empty(), egui::Button::new("curves CSV")).clicked() {
                let csv = [&self.step_loss, &self.lr_curve, &self.epoch_loss, &self.accuracy, &self.speed].map(|c| c.to_csv()).join("\n");
                save_text(&mut self.status, "training-curves.csv", &csv);
            }
            if let Some(r) = &self.report
                && ui.button("confusion CSV").clicked()
            {
                let names = self.data.as_ref().map_or(vec![], |d| d.names.clone());
                save_text(&mut self.status, "confusion.csv", &r.confusion.to_csv(&names));
            }
            if self.model.is_some()
                && ui.button("model checkpoint").clicked()
                && let Some(path) = rfd::FileDialog::new().set_file_name("model.safetensors").add_filter("safetensors", &["safetensors"]).save_file()
            {
                self.status = match self.save_model(&path) {
                    Ok(()) => format!("saved {}", path.display()),
                    Err(e) => e,
                };
            }
            if crate::labs::pytorch::button(ui, self.model.is_some())
                && let Some(status) = crate::labs::pytorch::with_dialog(|path| self.save_model(path))
            {
                self.status = status;
            }
            if let Some(rect) = self.plots_rect
                && ui.button("view PNG").clicked()
            {
                self.export.request(ui.ctx(), rect, "training.png");
            }
        });
        if let Some(m) = &self.export.message {
            ui.label(egui::RichText::new(m).small());
        }
    }

    fn curves_view(&mut self, ui: &mut egui::Ui) {
        let h = (ui.available_height() - 80.0) / 2.0;
        let w = ui.available_width() / 2.0 - 8.0;
        ui.horizontal_top(|ui| {
            ui.vertical(|ui| {
                ui.set_width(w);
                ui.label(egui::RichText::new("training loss per step (EMA) and per epoch").strong());
                self.step_loss.show(ui, h * 0.5);
                self.epoch_loss.show(ui, h * 0.5);
            });
            ui.vertical(|ui| {
                ui.set_width(w);
                ui.label(egui::RichText::new("accuracy per epoch").strong());
                self.accuracy.show(ui, h);
            });
        });
        ui.horizontal_top(|ui| {
            ui.vertical(|ui| {
                ui.set_width(w);
                ui.label(egui::RichText::new("learning rate").strong());
                self.lr_curve.show(ui, h - 10.0);
            });
            ui.vertical(|ui| {
                ui.set_width(w);
                ui.label(egui::RichText::new("throughput per step (images/s)").strong());
                self.speed.show(ui, h - 10.0);
            });
        });
        self.step_loss.smoothing_slider(ui);
    }
}

/// Driving the lab without its UI (tests, scripts).
impl TrainLab {
    /// Save the trained model as the "model checkpoint" button does: the
    /// weights early stopping kept, or those of the last epoch, with the
    /// network and recipe `vislab eval` and `vislab export` read.
    pub fn save_model(&self, path: &Path) -> Result<(), String> {
        let m = self.model.as_ref().ok_or("no trained model to save")?;
        checkpoint::save(path, m.params(), None, &self.model_meta).map_err(|e| format!("could not save {}: {e}", path.display()))
    }

    /// "Export to PyTorch…" into `dir`: the checkpoint and the exported
    /// model.py, weights and train.py; a one-line status.
    pub fn export_pytorch(&self, dir: &Path) -> String {
        crate::labs::pytorch::to_folder(dir, |path| self.save_model(path))
    }

    /// The layers' activation, batch norm and dropout (the MLP and CNN use
    /// all three, the ResNet dropout only).
    pub fn set_layers(&mut self, activation: Activation, batch_norm: bool, dropout: f32) {
        let s = &mut self.settings;
        (s.activation, s.batch_norm, s.dropout) = (activation, batch_norm, dropout);
    }

    /// Choose the architecture (with its defaults for the loaded images),
    /// the number of epochs and the seed.
    pub fn configure(&mut self, family: Family, epochs: usize, seed: u64) {
        let image = self.data.as_ref().map_or([1, 8, 8], |d| d.image);
        self.settings = Settings { epochs, seed, ..Settings::for_image(family, image) };
    }

    /// Train on any image dataset (another loader's, e.g. CIFAR or an image
    /// folder), with the defaults for its image size.
    pub fn set_data(&mut self, splits: Splits) {
        self.stop();
        self.settings = Settings::for_image(self.settings.family, splits.image);
        self.status = format!("{}: {} training images", splits.title, splits.train.len());
        self.data = Some(splits);
        self.loaded = None;
        self.clear_results();
    }

    /// Load MNIST-format idx files from `dir`.
    pub fn open_folder(&mut self, dir: PathBuf, fashion: bool) {
        self.load(if fashion { Source::FashionMnist(dir) } else { Source::Mnist(dir) });
    }

    /// Load any dataset the engine opens (as the dataset picker does).
    pub fn open_source(&mut self, source: Source) {
        self.load(source);
    }

    /// Augment every training batch with `a` (the identity: none).
    pub fn set_augment(&mut self, a: Augment) {
        self.settings.augment = a;
    }

    /// Stop when the validation loss has not improved for `patience`
    /// epochs and keep the best weights (None: train every epoch).
    pub fn set_early_stopping(&mut self, patience: Option<usize>) {
        self.settings.early_stopping = patience.is_some();
        self.settings.patience = patience.unwrap_or(self.settings.patience);
    }

    /// Show test image `i` in the layer views.
    pub fn choose_image(&mut self, i: usize) {
        self.choose(i);
    }

    /// Epochs trained in the last run (points of the validation curve).
    pub fn epochs_done(&self) -> usize {
        self.epoch_loss.series.iter().find(|s| s.name == "validation").map_or(0, |s| s.points.len())
    }

    /// Train on the first `n` training images only (None: all).
    pub fn set_limit(&mut self, n: Option<usize>) {
        self.limit = n;
    }

    /// Start training with the current settings.
    pub fn train_now(&mut self) {
        self.start();
    }

    /// Take in what the worker threads have sent (the UI does this every frame).
    pub fn update(&mut self) {
        self.poll();
    }

    pub fn pause(&mut self, paused: bool) {
        if let Some(r) = &mut self.run {
            if paused {
                r.handle.pause()
            } else {
                r.handle.resume()
            }
            r.paused = paused;
        }
    }

    pub fn stop_training(&mut self) {
        self.stop();
    }

    /// Optimizer steps done by the current run.
    pub fn steps_done(&self) -> Option<usize> {
        self.run.as_ref().map(|r| r.step)
    }

    pub fn report(&self) -> Option<&Report> {
        self.report.as_ref()
    }

    pub fn splits(&self) -> Option<&Splits> {
        self.data.as_ref()
    }

    /// (step, raw training loss) of every step so far.
    pub fn step_losses(&self) -> Vec<[f64; 2]> {
        self.step_loss.series.first().map_or(vec![], |s| s.points.clone())
    }

    /// Last validation accuracy per epoch.
    pub fn validation_accuracy(&self) -> Option<f64> {
        self.accuracy.last("validation")
    }

    /// Last validation loss per epoch.
    pub fn validation_loss(&self) -> Option<f64> {
        self.epoch_loss.last("validation")
    }

    pub fn status(&self) -> &str {
        &self.status
    }
}

/// Ask where to save `text` and write it; the outcome goes to `status`.
fn save_text(status: &mut String, name: &str, text: &str) {
    let Some(path) = rfd::FileDialog::new().set_file_name(name).add_filter("CSV", &["csv"]).save_file() else { return };
    *status = match std::fs::write(&path, text) {
        Ok(()) => format!("saved {}", path.display()),
        Err(e) => format!("could not save {}: {e}", path.display()),
    };
}

impl Lab for TrainLab {
    fn info(&self) -> LabInfo {
        LabInfo { name: "train", title: "Network training", section: "Neural networks" }
    }

    fn claims_file(&self, path: &std::path::Path) -> bool {
        super::is_dataset(path)
    }

    fn open_file(&mut self, path: &std::path::Path) {
        match self.picker.open(path) {
            Ok(source) => self.load(source),
            Err(e) => self.status = format!("could not load the data: {e}"),
        }
    }

    fn controls(&mut self, ui: &mut egui::Ui) {
        self.poll();
        // Train, pause and stop stay in sight above the (scrolling) settings
        self.run_controls(ui);
        ui.separator();
        ui.add_enabled_ui(!self.training() && self.loading.is_none(), |ui| {
            self.data_controls(ui);
            self.augment_controls(ui);
            ui.separator();
            self.network_controls(ui);
            ui.separator();
            self.optimizer_controls(ui);
        });
        ui.separator();
        self.export_controls(ui);
        if self.busy() {
            ui.ctx().request_repaint();
        }
    }

    fn view(&mut self, ui: &mut egui::Ui) {
        self.poll();
        self.export.poll(ui.ctx());
        ui.horizontal(|ui| {
            for (t, name) in
                [(Tab::Curves, "Curves"), (Tab::Augmented, "Augmented batch"), (Tab::Results, "Results"), (Tab::Layers, "Layers"), (Tab::Search, "Hyperparameter search")]
            {
                ui.selectable_value(&mut self.tab, t, name);
            }
        });
        ui.separator();
        let top = ui.cursor().min;
        match self.tab {
            Tab::Curves => self.curves_view(ui),
            Tab::Augmented => {
                if let Some(d) = &self.data {
                    self.augment_preview.show(ui, d, &self.settings);
                }
            }
            Tab::Results => {
                if let (Some(r), Some(d)) = (&self.report, &self.data)
                    && let Some(i) = inspect::results(ui, r, d, &mut self.visuals)
                {
                    self.choose(i);
                    self.tab = Tab::Layers;
                }
            }
            Tab::Layers => {
                if let (Some(r), Some(d)) = (&self.report, &self.data)
                    && let Some(i) = inspect::layers(ui, r, d, &self.visuals)
                {
                    self.choose(i);
                }
            }
            Tab::Search => {
                if let Some(d) = &self.data {
                    self.search.view(ui, d, &self.settings, !self.training());
                }
            }
        }
        if matches!(self.tab, Tab::Results | Tab::Layers) && self.report.is_none() {
            ui.label("Train a network: the results appear after its first epoch.");
        }
        self.plots_rect = Some(egui::Rect::from_min_max(top, ui.min_rect().max));
    }

    fn summary(&self) -> String {
        let data = self.data.as_ref().map_or("no data".to_string(), |d| d.title.clone());
        let net = format!("{} ({})", self.settings.family.name(), self.settings.activation.name());
        let mut line = if self.status.is_empty() { format!("{data}, {net}") } else { format!("{data}, {net} · {}", self.status) };
        if self.tab == Tab::Search
            && let Some(s) = self.search.best_line()
        {
            line = format!("{data} · {s}");
        }
        line
    }

    fn busy(&self) -> bool {
        self.training() || self.loading.is_some() || self.search.running()
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use vislab_engine::models::NetSpec;

    use super::*;
    use crate::commands::eval::{EvalArgs, EvalInput};
    use crate::commands::train_classifier;
    use crate::labs::pytorch::CHECKPOINT;

    /// A lab-made ResNet (batch norm throughout) with dropout, four epochs on
    /// the digits, exported to PyTorch: its checkpoint holds the network and
    /// the recipe as `vislab train` writes them, so the export bundles the
    /// digits and `vislab eval` rebuilds the network from the file alone.
    /// With VISLAB_LAB_EXPORT=DIR the export stays in DIR, for
    /// tests/pytorch_export/classifier.sh to check with torch.
    #[test]
    fn a_lab_resnet_exports_to_pytorch() {
        let keep = std::env::var_os("VISLAB_LAB_EXPORT").map(PathBuf::from);
        let dir = keep.clone().unwrap_or_else(|| std::env::temp_dir().join(format!("vislab-lab-export-{}", std::process::id())));
        let mut lab = TrainLab::new();
        lab.configure(Family::ResNet, 4, 2);
        lab.set_layers(Activation::Relu, true, 0.2);
        assert_eq!(lab.export_pytorch(&dir), "export to PyTorch failed: no trained model to save");
        lab.train_now();
        let deadline = Instant::now() + Duration::from_secs(300);
        while lab.busy() {
            assert!(Instant::now() < deadline, "still training: {}", lab.status());
            lab.update();
            std::thread::sleep(Duration::from_millis(5));
        }
        let status = lab.export_pytorch(&dir);
        assert!(status.starts_with("exported the resnet"), "{status} ({})", lab.status());
        for f in [CHECKPOINT, "model.py", "weights.safetensors", "train.py", "data.safetensors"] {
            assert!(dir.join(f).is_file(), "{f} in {}", dir.display());
        }
        let ck = checkpoint::load(&dir.join(CHECKPOINT)).unwrap();
        let want = NetSpec { widths: vec![8, 16], hidden: 64, dropout: 0.2, batch_norm: true, ..NetSpec::default_for(Family::ResNet, [1, 8, 8], 10) };
        assert_eq!(NetSpec::from_meta(&ck.meta, [0; 3], 0).unwrap(), want);
        assert_eq!(ck.tensors.len(), lab.model.as_ref().map_or(0, |m| m.params().len()));
        let get = |k: &str| ck.meta[&format!("vislab.train.{k}")].as_str();
        let recipe = ["data", "epochs", "batch", "lr", "optimizer", "schedule", "seed", "augment", "limit", "l2"].map(get);
        assert_eq!(recipe, ["digits", "4", "32", "0.003", "adam", "cosine", "2", "none", "", "0"]);
        let steps = lab.splits().map_or(0, |d| d.train.len().div_ceil(32));
        assert_eq!((ck.meta["epoch"].as_str(), ck.meta["step"].parse::<usize>().ok()), ("4", Some(4 * steps)));
        let input = EvalInput::load(&EvalArgs { checkpoint: dir.join(CHECKPOINT), data: None, image_size: None, grayscale: false }).unwrap();
        train_classifier::eval(&input).unwrap();
        if keep.is_none() {
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
}
