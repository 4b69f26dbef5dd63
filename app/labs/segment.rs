//! Semantic segmentation: a small U-Net trained live (worker thread) on
//! seeded synthetic shapes or on an image + instance mask pair read from
//! files (training crops, a held-out strip for validation). Per-class IoU
//! and mean IoU on the held-out images after every epoch; the overlay view
//! draws ground truth and prediction over the image through wgpu (opacity,
//! a colour per class with a legend, errors hatched, instance outlines,
//! side by side or one at a time), hovering names the class and its
//! probability, and the instance view colours connected components and
//! counts them per class, things apart from stuff.
//!
//! An image + mask pair is shown whole: the net is fully convolutional, so
//! after every epoch the worker predicts the entire image in overlapping
//! tiles, and the overlay outlines the held-out strip the metrics come
//! from. Opening or dropping either file of a pair (File > Open) finds the
//! other by its name ([`data::find_pair`]) and loads both. Stop only
//! signals the worker, which ends on its own after the step under way.

use super::run::Run;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use vislab_engine::segmentation::data::{self, crops, find_pair, holdout_split, load_pair};
use vislab_engine::segmentation::{Components, Connectivity, EpochReport, Prediction, SegEvent, SegSet, SegTrainConfig, SegTrainer, SegWorker, SynthConfig, components};

use super::{Lab, LabInfo};
use crate::render::mask::{MAX_CLASSES, MaskImage, MaskStyle, show_mask};
use crate::widgets::curves::Curves;

/// Validation images predicted after every epoch and offered in the view.
pub const SHOWN: usize = 8;

/// Which maps the overlay view shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Show {
    Truth,
    Prediction,
    SideBySide,
}

/// The fraction of an image pair's columns (on the right) held out.
const HOLDOUT: f64 = 0.25;

/// Where the data came from, with what the lab needs to rebuild it.
struct Data {
    name: String,
    train: Arc<SegSet>,
    val: Arc<SegSet>,
    /// An image pair's whole image and its first held-out column.
    whole: Option<(Arc<SegSet>, usize)>,
}

/// A class's overlay colour: background stays clear, shapes get fixed colours.
pub fn class_colour(class: usize, classes: usize) -> [f32; 4] {
    const C: [[u8; 3]; 6] = [[240, 80, 60], [60, 150, 250], [70, 210, 90], [250, 200, 40], [190, 90, 230], [0, 200, 210]];
    if class == 0 {
        return [0.0, 0.0, 0.0, 0.0];
    }
    // A two-class set (background + object) uses the yellow, which reads
    // on grey fluorescence images.
    let k = if classes == 2 { 3 } else { (class - 1) % C.len() };
    let [r, g, b] = C[k];
    [r as f32 / 255.0, g as f32 / 255.0, b as f32 / 255.0, 1.0]
}

pub struct SegmentLab {
    data: Option<Data>,
    // settings
    train_images: usize,
    size: usize,
    crop: usize,
    crops: usize,
    epochs: usize,
    batch: usize,
    lr: f32,
    base: usize,
    batch_norm: bool,
    seed: u64,
    image_path: String,
    mask_path: String,
    // run
    run: Run<SegWorker>,
    /// A stopped run still finishing its step; drained until it ends.
    loss: Curves,
    iou: Curves,
    report: Option<EpochReport>,
    epoch: usize,
    steps: usize,
    steps_per_epoch: usize,
    preds: Vec<Prediction>,
    /// The whole image's latest prediction (image pairs), and its pixel
    /// accuracy over the image and over the held-out strip.
    whole_pred: Option<Prediction>,
    whole_acc: Option<(f64, f64)>,
    // view
    index: usize,
    show: Show,
    opacity: f32,
    errors: bool,
    outlines: bool,
    instances: bool,
    connectivity: Connectivity,
    cache: Option<Views>,
    hover: Option<String>,
    /// The pixel hovered last, framed in both views.
    hover_px: Option<(u32, u32)>,
    status: String,
}

/// Overlays and component counts for the shown image, rebuilt on change.
struct Views {
    truth: Arc<MaskImage>,
    pred: Option<Arc<MaskImage>>,
    truth_cc: Components,
    pred_cc: Option<Components>,
}

impl Default for SegmentLab {
    fn default() -> Self {
        Self::new()
    }
}

impl SegmentLab {
    pub fn new() -> Self {
        let mut lab = SegmentLab {
            data: None,
            train_images: 128,
            size: 32,
            crop: 48,
            crops: 96,
            epochs: 3,
            batch: 8,
            lr: 3e-3,
            base: 8,
            batch_norm: true,
            seed: 7,
            image_path: String::new(),
            mask_path: String::new(),
            run: Run::default(),
            loss: Curves::new("segment_loss", "epoch", "pixel cross-entropy").smoothed(0.8),
            iou: Curves::new("segment_iou", "epoch", "held out").unit(),
            report: None,
            epoch: 0,
            steps: 0,
            steps_per_epoch: 1,
            preds: vec![],
            whole_pred: None,
            whole_acc: None,
            index: 0,
            show: Show::SideBySide,
            opacity: 0.6,
            errors: true,
            outlines: true,
            instances: false,
            connectivity: Connectivity::Four,
            cache: None,
            hover: None,
            hover_px: None,
            status: String::new(),
        };
        lab.synthetic();
        lab
    }

    /// The seeded synthetic shapes: `train_images` for training, 32 more
    /// (another seed) held out.
    pub fn synthetic(&mut self) {
        self.abandon();
        let train = SegSet::synthetic(&SynthConfig::new(self.train_images, self.size, self.seed));
        let val = SegSet::synthetic(&SynthConfig::new(32, self.size, self.seed + 1000));
        self.set_data(Data { name: format!("synthetic shapes {0}x{0}", self.size), train: Arc::new(train), val: Arc::new(val), whole: None });
    }

    /// An image and its instance mask; on error keep what was loaded.
    pub fn load_files(&mut self, image: &Path, mask: &Path) {
        self.image_path = image.display().to_string();
        self.mask_path = mask.display().to_string();
        let loaded = load_pair(image, mask).map_err(|e| e.to_string()).and_then(|p| {
            let (train, val) = crops(&p, self.crop, self.crops, HOLDOUT, self.seed).map_err(|e| e.to_string())?;
            Ok((p.instance_count, p.width, p.height, train, val, p.whole()))
        });
        match loaded {
            Ok((count, w, h, train, val, whole)) => {
                self.abandon();
                let file = image.file_name().map_or(String::new(), |f| f.to_string_lossy().into_owned());
                let name = format!("{file} {w}x{h}, {count} instances: {} crops, {} held-out tiles", train.len(), val.len());
                let whole = Some((Arc::new(whole), holdout_split(w, HOLDOUT)));
                self.set_data(Data { name, train: Arc::new(train), val: Arc::new(val), whole });
                self.status = "loaded".into();
            }
            Err(e) => self.status = format!("cannot load: {e}"),
        }
    }

    fn set_data(&mut self, d: Data) {
        self.data = Some(d);
        self.preds.clear();
        self.whole_pred = None;
        self.whole_acc = None;
        self.report = None;
        self.loss.clear();
        self.iou.clear();
        self.epoch = 0;
        self.index = 0;
        self.cache = None;
        self.hover = None;
        self.hover_px = None;
    }

    pub fn config(&self) -> SegTrainConfig {
        SegTrainConfig { batch_size: self.batch, lr: self.lr, base: self.base, batch_norm: self.batch_norm, ..SegTrainConfig::new(self.epochs, self.seed) }
    }

    pub fn start(&mut self) {
        self.abandon();
        let Some(d) = &self.data else { return };
        let whole = d.whole.as_ref().map(|w| Arc::clone(&w.0));
        match SegTrainer::new(Arc::clone(&d.train), Arc::clone(&d.val), self.config()).and_then(|t| {
            let steps = t.steps_per_epoch();
            Ok((SegWorker::spawn_with_whole(t, SHOWN, whole)?, steps))
        }) {
            Ok((w, steps)) => {
                self.run.start(w);
                self.steps_per_epoch = steps.max(1);
                self.loss.clear();
                self.iou.clear();
                self.report = None;
                self.preds.clear();
                self.whole_pred = None;
                self.whole_acc = None;
                self.cache = None;
                self.epoch = 0;
                self.steps = 0;
                self.status = "training".into();
            }
            Err(e) => self.status = format!("cannot train: {e}"),
        }
    }

    /// Pause, or resume when paused (the Pause / Resume button).
    pub fn pause(&mut self) {
        self.run.toggle_pause();
    }

    /// Optimizer steps reported so far in this run.
    pub fn step_count(&self) -> usize {
        self.steps
    }

    /// The Stop button: signal the worker and return at once; it ends
    /// after the step under way, and `update` keeps reading its last events
    /// ("stopped" among them) until then.
    pub fn stop(&mut self) {
        if self.run.stop() {
            self.status = "stopping".into();
        }
    }

    /// Drop any run without waiting (new data or a new run replaces it;
    /// its remaining events no longer matter).
    fn abandon(&mut self) {
        self.run.abandon();
    }

    /// Apply the worker's events (the tests call it in a loop).
    pub fn update(&mut self) {
        let mut run = std::mem::take(&mut self.run);
        run.poll(|w| self.drain(w));
        self.run = run;
    }

    fn drain(&mut self, w: &SegWorker) {
        while let Ok(e) = w.events().try_recv() {
            match e {
                SegEvent::Step(r) => {
                    self.steps = r.step;
                    self.loss.push("train loss", r.step as f64 / self.steps_per_epoch as f64, r.loss as f64);
                }
                SegEvent::Epoch(r) => {
                    let x = r.epoch as f64;
                    // Per-class IoU is in the legend table, in the class colours.
                    self.iou.push("mean IoU", x, r.mean_iou());
                    self.iou.push("pixel accuracy", x, r.confusion.pixel_accuracy().unwrap_or(0.0));
                    self.epoch = r.epoch;
                    self.report = Some(r);
                }
                SegEvent::Predictions(p) => {
                    self.preds = p;
                    self.cache = None;
                }
                SegEvent::Whole(p) => {
                    self.whole_acc = self.data.as_ref().and_then(|d| d.whole.as_ref()).map(|(w, split)| whole_accuracy(w, *split, &p.classes));
                    self.whole_pred = Some(p);
                    self.cache = None;
                }
                SegEvent::Done { stopped, error } => {
                    self.status = match (error, stopped) {
                        (Some(e), _) => format!("failed: {e}"),
                        (None, true) => "stopped".into(),
                        (None, false) => "finished".into(),
                    };
                }
            }
        }
    }

    pub fn report(&self) -> Option<&EpochReport> {
        self.report.as_ref()
    }

    pub fn predictions(&self) -> &[Prediction] {
        &self.preds
    }

    pub fn status(&self) -> &str {
        &self.status
    }

    /// What hovering the overlay last said.
    pub fn hover_text(&self) -> Option<&str> {
        self.hover.as_deref()
    }

    fn classes(&self) -> &[data::ClassInfo] {
        self.data.as_ref().map_or(&[], |d| &d.train.classes)
    }

    fn class_names(&self) -> Vec<String> {
        self.classes().iter().map(|c| c.name.clone()).collect()
    }

    fn palette(&self) -> [[f32; 4]; MAX_CLASSES] {
        let n = self.classes().len();
        std::array::from_fn(|c| class_colour(c, n))
    }

    /// The set, image index and prediction on show: an image pair's whole
    /// image, or a held-out image.
    fn shown(&self) -> Option<(&SegSet, usize, Option<&Prediction>)> {
        let d = self.data.as_ref()?;
        Some(match &d.whole {
            Some((whole, _)) => (whole.as_ref(), 0, self.whole_pred.as_ref()),
            None => (d.val.as_ref(), self.index, self.preds.iter().find(|p| p.index == self.index)),
        })
    }

    /// Whether the view shows a whole image (with its held-out strip).
    pub fn shows_whole_image(&self) -> bool {
        self.data.as_ref().is_some_and(|d| d.whole.is_some())
    }

    fn rebuild(&self) -> Option<Views> {
        let (v, index, pred) = self.shown()?;
        let (w, h) = (v.width as u32, v.height as u32);
        let img = v.image(index)?;
        // Grey images are drawn as grey RGB.
        let rgb = if v.channels == 3 { img.to_vec() } else { img.iter().cycle().take(3 * v.pixels()).copied().collect() };
        let truth_labels = v.label(index)?.to_vec();
        let truth_ids = v.instance(index)?.to_vec();
        let truth_cc = components(&truth_labels, v.width, v.height, self.connectivity);
        let truth = MaskImage::new(w, h, rgb.clone(), truth_labels.clone(), None, truth_ids)?;
        let (pred, pred_cc) = match pred {
            Some(p) => {
                let cc = components(&p.classes, v.width, v.height, self.connectivity);
                let m = MaskImage::new(w, h, rgb, p.classes.clone(), Some(truth_labels), cc.ids.clone())?;
                (Some(Arc::new(m)), Some(cc))
            }
            None => (None, None),
        };
        Some(Views { truth: Arc::new(truth), pred, truth_cc, pred_cc })
    }

    /// One line about pixel (x, y) of the shown image.
    fn describe(&self, x: u32, y: u32) -> Option<String> {
        let (v, index, pred) = self.shown()?;
        let p = y as usize * v.width + x as usize;
        let names = self.class_names();
        let name = |c: u8| names.get(c as usize).cloned().unwrap_or_else(|| format!("class {c}"));
        let truth = name(*v.label(index)?.get(p)?);
        let held = match self.data.as_ref().and_then(|d| d.whole.as_ref()) {
            Some((_, split)) if x as usize >= *split => " (held out)",
            Some(_) => " (training part)",
            None => "",
        };
        Some(match pred {
            Some(q) => {
                let (c, conf) = (*q.classes.get(p)?, *q.confidence.get(p)?);
                format!("pixel ({x}, {y}){held}: predicted {} (p = {conf:.3}), truth {truth}", name(c))
            }
            None => format!("pixel ({x}, {y}){held}: truth {truth} (no prediction yet)"),
        })
    }

    fn style(&self, errors: bool, hover: Option<(u32, u32)>) -> MaskStyle {
        MaskStyle { opacity: self.opacity, by_instance: self.instances, errors, outlines: self.outlines, palette: self.palette(), hover }
    }

    fn legend(&self, ui: &mut egui::Ui, views: &Views) {
        let iou = self.report.as_ref().map(|r| r.confusion.per_class_iou());
        egui::Grid::new("segment_legend").num_columns(6).spacing([10.0, 2.0]).show(ui, |ui| {
            for h in ["", "class", "kind", "IoU", "true", "predicted"] {
                ui.label(egui::RichText::new(h).small().strong());
            }
            ui.end_row();
            let n = self.classes().len();
            for (c, info) in self.classes().iter().enumerate() {
                let [r, g, b, a] = class_colour(c, n);
                let (rect, _) = ui.allocate_exact_size(egui::vec2(14.0, 14.0), egui::Sense::hover());
                if a > 0.0 {
                    ui.painter().rect_filled(rect, 2.0, egui::Color32::from_rgb((r * 255.0) as u8, (g * 255.0) as u8, (b * 255.0) as u8));
                } else {
                    ui.painter().rect_stroke(rect, 2.0, egui::Stroke::new(1.0, egui::Color32::GRAY), egui::StrokeKind::Inside);
                }
                ui.label(&info.name);
                ui.label(if info.thing { "thing" } else { "stuff" });
                ui.label(match iou.as_ref().and_then(|v| v.get(c).copied().flatten()) {
                    Some(v) => format!("{v:.3}"),
                    None => "-".into(),
                });
                // Things are counted as connected components; stuff is not countable.
                if info.thing {
                    ui.label(views.truth_cc.count_of(c as u8).to_string());
                    ui.label(views.pred_cc.as_ref().map_or("-".into(), |p| p.count_of(c as u8).to_string()));
                } else {
                    ui.label("");
                    ui.label("");
                }
                ui.end_row();
            }
        });
    }
}

impl Lab for SegmentLab {
    fn info(&self) -> LabInfo {
        LabInfo { name: "segment", title: "Semantic segmentation", section: "Detection" }
    }

    fn controls(&mut self, ui: &mut egui::Ui) {
        let training = self.run.training();
        ui.add_enabled_ui(!training, |ui| {
            ui.label(format!("Data: {}", self.data.as_ref().map_or("none", |d| d.name.as_str())));
            ui.horizontal(|ui| {
                ui.add(egui::Slider::new(&mut self.train_images, 32..=2048).logarithmic(true).text("images"));
                egui::ComboBox::from_label("size").selected_text(format!("{0}x{0}", self.size)).show_ui(ui, |ui| {
                    for s in [32, 48, 64] {
                        ui.selectable_value(&mut self.size, s, format!("{s}x{s}"));
                    }
                });
            });
            if ui.button("Synthetic shapes").clicked() {
                self.synthetic();
            }
            ui.separator();
            ui.label("Image + instance mask (PNG or TIFF, 8 or 16 bit)");
            for (label, which) in [("image", 0), ("mask", 1)] {
                ui.horizontal(|ui| {
                    let path = if which == 0 { &mut self.image_path } else { &mut self.mask_path };
                    let l = ui.label(label);
                    ui.add(egui::TextEdit::singleline(path).desired_width(150.0)).labelled_by(l.id);
                    if ui.button("...").clicked()
                        && let Some(p) = rfd::FileDialog::new().add_filter("image", &["png", "tif", "tiff"]).pick_file()
                    {
                        *path = p.display().to_string();
                    }
                });
            }
            ui.horizontal(|ui| {
                ui.add(egui::Slider::new(&mut self.crop, 16..=64).step_by(16.0).text("crop"));
                ui.add(egui::Slider::new(&mut self.crops, 16..=1024).logarithmic(true).text("crops"));
            });
            if ui.add_enabled(!self.image_path.is_empty() && !self.mask_path.is_empty(), egui::Button::new("Load pair")).clicked() {
                let (i, m) = (PathBuf::from(&self.image_path), PathBuf::from(&self.mask_path));
                self.load_files(&i, &m);
            }
            ui.separator();
            ui.add(egui::Slider::new(&mut self.epochs, 1..=100).logarithmic(true).text("epochs"));
            ui.add(egui::Slider::new(&mut self.batch, 1..=64).logarithmic(true).text("batch size"));
            ui.add(egui::Slider::new(&mut self.lr, 1e-4..=3e-2).logarithmic(true).text("learning rate"));
            ui.add(egui::Slider::new(&mut self.base, 2..=32).text("width (first level)"));
            ui.checkbox(&mut self.batch_norm, "BatchNorm");
            ui.add(egui::Slider::new(&mut self.seed, 0..=100).text("seed"));
        });
        ui.horizontal(|ui| {
            if ui.add_enabled(!training && self.data.is_some(), egui::Button::new("Train")).clicked() {
                self.start();
            }
            if self.run.training() {
                if ui.button(if self.run.paused() { "Resume" } else { "Pause" }).clicked() {
                    self.pause();
                }
                if ui.button("Stop").clicked() {
                    self.stop();
                }
            } else if self.run.stopping() {
                ui.label("stopping after the step under way...");
            }
        });
        ui.separator();
        let before = (self.index, self.connectivity);
        if !self.shows_whole_image() {
            ui.add(egui::Slider::new(&mut self.index, 0..=SHOWN - 1).text("held-out image"));
        }
        ui.horizontal(|ui| {
            ui.radio_value(&mut self.show, Show::Truth, "truth only");
            ui.radio_value(&mut self.show, Show::Prediction, "prediction only");
            ui.radio_value(&mut self.show, Show::SideBySide, "side by side");
        });
        ui.add(egui::Slider::new(&mut self.opacity, 0.0..=1.0).text("mask opacity"));
        ui.checkbox(&mut self.errors, "highlight errors (prediction)");
        ui.checkbox(&mut self.outlines, "instance outlines");
        ui.checkbox(&mut self.instances, "instance view (a colour per component)");
        ui.horizontal(|ui| {
            ui.label("components:");
            ui.radio_value(&mut self.connectivity, Connectivity::Four, "4-connected");
            ui.radio_value(&mut self.connectivity, Connectivity::Eight, "8-connected");
        });
        if before != (self.index, self.connectivity) {
            self.cache = None;
        }
    }

    fn view(&mut self, ui: &mut egui::Ui) {
        self.update();
        if self.busy() {
            ui.ctx().request_repaint();
        }
        if self.cache.is_none() {
            self.cache = self.rebuild();
        }
        ui.label(self.summary());
        let Some(views) = self.cache.take() else {
            ui.label("No data.");
            return;
        };
        let avail = ui.available_width();
        let both = self.show == Show::SideBySide && views.pred.is_some();
        let side = if both { (avail / 2.0 - 12.0).clamp(120.0, 280.0) } else { avail.clamp(120.0, 280.0) };
        let hover_px = self.hover_px;
        let mut hovered = None;
        // An image pair's held-out strip: outlined on both views.
        let strip = self.data.as_ref().and_then(|d| d.whole.as_ref()).map(|(w, split)| *split as f32 / w.width as f32);
        let mark = |ui: &mut egui::Ui, rect: egui::Rect| {
            if let Some(f) = strip {
                let r = egui::Rect::from_min_max(egui::pos2(rect.left() + f * rect.width(), rect.top()), rect.max);
                ui.painter().rect_stroke(r, 0.0, egui::Stroke::new(2.0, egui::Color32::WHITE), egui::StrokeKind::Inside);
                ui.painter().text(r.left_top() + egui::vec2(4.0, 3.0), egui::Align2::LEFT_TOP, "held out", egui::FontId::proportional(11.0), egui::Color32::WHITE);
            }
        };
        ui.horizontal(|ui| {
            let show_truth = self.show == Show::Truth || both || views.pred.is_none();
            if show_truth {
                ui.vertical(|ui| {
                    ui.label("ground truth");
                    let (rect, r) = show_mask(ui, "ground truth", &views.truth, self.style(false, hover_px), side);
                    mark(ui, rect);
                    hovered = hovered.or(r);
                });
            }
            if let Some(p) = views.pred.as_ref().filter(|_| self.show != Show::Truth) {
                ui.vertical(|ui| {
                    ui.label("prediction");
                    let (rect, r) = show_mask(ui, "prediction", p, self.style(self.errors, hover_px), side);
                    mark(ui, rect);
                    hovered = hovered.or(r);
                });
            }
        });
        if let Some((x, y)) = hovered {
            self.hover = self.describe(x, y);
            self.hover_px = Some((x, y));
        }
        ui.label(self.hover.clone().unwrap_or_else(|| "hover the image for a pixel's class and probability".into()));
        let counts = |cc: &Components| format!("{} components", cc.count());
        ui.label(format!(
            "instances ({}): truth {}{}",
            if self.connectivity == Connectivity::Four { "4-connected" } else { "8-connected" },
            counts(&views.truth_cc),
            views.pred_cc.as_ref().map_or(String::new(), |p| format!(", prediction {}", counts(p)))
        ));
        self.legend(ui, &views);
        let h = (ui.available_height() - 8.0).max(80.0);
        ui.horizontal(|ui| {
            let w = (ui.available_width() / 2.0 - 6.0).max(100.0);
            ui.vertical(|ui| {
                ui.set_width(w);
                self.loss.show(ui, h);
            });
            ui.vertical(|ui| {
                ui.set_width(w);
                self.iou.show(ui, h);
            });
        });
        self.cache = Some(views);
    }

    fn summary(&self) -> String {
        let data = self.data.as_ref().map_or("no data".to_string(), |d| d.name.clone());
        let score = match &self.report {
            Some(r) => format!("held-out mIoU {:.4}, pixel accuracy {:.4}", r.mean_iou(), r.confusion.pixel_accuracy().unwrap_or(0.0)),
            None => "not trained yet".into(),
        };
        let whole = match (&self.whole_acc, self.data.as_ref().and_then(|d| d.whole.as_ref())) {
            (Some((all, held)), Some((w, _))) => format!("; whole image {}x{} predicted: pixel accuracy {all:.4}, held-out strip {held:.4}", w.width, w.height),
            _ => String::new(),
        };
        format!("{data}: epoch {}/{}, {score}{whole}; {}", self.epoch, self.epochs, self.status)
    }

    fn busy(&self) -> bool {
        self.run.busy()
    }

    /// A PNG or TIFF with a partner found by name (`cells.png` and
    /// `cells_mask.png`, `img2d.tif` and `mask2d.tif`, `images/x.png` and
    /// `masks/x.png`): either file of such a pair.
    fn claims_file(&self, path: &Path) -> bool {
        find_pair(path).is_some()
    }

    fn open_file(&mut self, path: &Path) {
        match find_pair(path) {
            Some((image, mask)) => {
                self.load_files(&image, &mask);
                if self.status == "loaded" {
                    let name = |p: &Path| p.file_name().map_or(String::new(), |f| f.to_string_lossy().into_owned());
                    self.status = format!("loaded {} with its mask {} (paired by name)", name(&image), name(&mask));
                }
            }
            None => self.status = format!("{}: no image + mask pair found by its name", path.display()),
        }
    }
}

/// Pixel accuracy of `pred` against a one-image set's labels, over the
/// image and over its columns from `split` on.
fn whole_accuracy(set: &SegSet, split: usize, pred: &[u8]) -> (f64, f64) {
    let w = set.width.max(1);
    let (mut all, mut held, mut held_n) = (0usize, 0usize, 0usize);
    for (p, (a, b)) in pred.iter().zip(&set.labels).enumerate() {
        let hit = usize::from(a == b);
        all += hit;
        if p % w >= split {
            held += hit;
            held_n += 1;
        }
    }
    (all as f64 / set.labels.len().max(1) as f64, held as f64 / held_n.max(1) as f64)
}
