//! A single-stage detector trained live: a small CNN with a grid of anchors
//! (objectness, class and box codes per anchor) on seeded synthetic shapes
//! with exact boxes, on a worker thread (pause, resume, stop). Loss curves
//! (total and each term) per step, COCO AP / AP50 / AP75 on the held-out
//! images per epoch; a held-out image with the predicted boxes (class
//! colour, score) and optionally the ground truth and the anchor grid.
//! The score threshold and NMS IoU re-decode the last raw outputs live, and
//! the mAP at those settings is recomputed with them.

use super::run::Run;
use std::sync::Arc;

use vislab_engine::detection::detector::saved::{self, HELD_OUT};
use vislab_engine::detection::detector::{AnchorGrid, CLASSES, DecodeConfig, DetEpoch, DetSet, DetTrainConfig, DetTrainer, DetWorker, GRID, detections, evaluate};
use vislab_engine::detection::{BBox, ScoredBox};
use vislab_engine::train::epoch_worker::WorkerEvent;

use super::pytorch;
use super::segment::class_colour;
use super::{Lab, LabInfo};
use crate::render::image::ScalarImage;
use crate::widgets::boxes::{Canvas, legend_entry};
use crate::widgets::curves::Curves;

fn colour(category: i64) -> egui::Color32 {
    let [r, g, b, _] = class_colour(category.max(1) as usize, CLASSES.len() + 1);
    egui::Color32::from_rgb((r * 255.0) as u8, (g * 255.0) as u8, (b * 255.0) as u8)
}

fn class_name(category: i64) -> &'static str {
    usize::try_from(category - 1).ok().and_then(|k| CLASSES.get(k)).copied().unwrap_or("?")
}

pub struct DetectLab {
    // settings
    train_images: usize,
    size: usize,
    max_objects: usize,
    epochs: usize,
    batch: usize,
    lr: f32,
    anchors: usize,
    base: usize,
    box_weight: f32,
    seed: u64,
    // data and run
    train: Arc<DetSet>,
    val: Arc<DetSet>,
    /// The settings the sets were made with.
    data_key: (usize, usize, usize, u64),
    run: Run<DetWorker<Vec<f32>>>,
    /// The trainer of the last run once it ended (what is saved and
    /// exported), and the data settings it ran on.
    trained: Option<DetTrainer>,
    run_data: (usize, usize, usize, u64),
    steps: usize,
    steps_per_epoch: usize,
    epoch: usize,
    loss: Curves,
    map: Curves,
    report: Option<DetEpoch>,
    /// Raw head values of every held-out image after the last epoch, and the grid they were made on.
    raw: Option<(Vec<f32>, AnchorGrid)>,
    // decoding (live)
    score_threshold: f64,
    nms_iou: f64,
    decoded: Option<Decoded>,
    // view
    index: usize,
    show_truth: bool,
    show_anchors: bool,
    hovered_cell: Option<usize>,
    pictures: Vec<Option<Arc<ScalarImage>>>,
    status: String,
}

/// The held-out detections at the current sliders and their COCO numbers.
struct Decoded {
    per_image: Vec<Vec<ScoredBox>>,
    coco: [f64; 12],
    settings: (f64, f64),
}

impl Default for DetectLab {
    fn default() -> Self {
        Self::new()
    }
}

impl DetectLab {
    pub fn new() -> Self {
        let mut lab = DetectLab {
            train_images: 384,
            size: 32,
            max_objects: 4,
            epochs: 8,
            batch: 16,
            lr: 3e-3,
            anchors: 3,
            base: 8,
            box_weight: 2.0,
            seed: 1,
            train: Arc::new(DetSet::synthetic(0, 32, 1, 0)),
            val: Arc::new(DetSet::synthetic(0, 32, 1, 0)),
            data_key: (0, 0, 0, 0),
            run: Run::default(),
            trained: None,
            run_data: (0, 0, 0, 0),
            steps: 0,
            steps_per_epoch: 1,
            epoch: 0,
            loss: Curves::new("detect_loss", "epoch", "loss per image").smoothed(0.8),
            map: Curves::new("detect_map", "epoch", "held-out COCO AP").unit(),
            report: None,
            raw: None,
            score_threshold: 0.05,
            nms_iou: 0.5,
            decoded: None,
            index: 0,
            show_truth: true,
            show_anchors: false,
            hovered_cell: None,
            pictures: vec![],
            status: String::new(),
        };
        lab.make_data();
        lab
    }

    fn wanted_data(&self) -> (usize, usize, usize, u64) {
        (self.train_images, self.size, self.max_objects, self.seed)
    }

    /// The seeded training and held-out sets, as `vislab train` draws them.
    fn make_data(&mut self) {
        self.data_key = self.wanted_data();
        let (train, val) = saved::sets(self.train_images, self.size, self.max_objects, self.seed);
        (self.train, self.val) = (Arc::new(train), Arc::new(val));
        self.pictures = vec![None; self.val.len()];
        self.raw = None;
        self.decoded = None;
        self.report = None;
        self.index = self.index.min(HELD_OUT - 1);
    }

    pub fn config(&self) -> DetTrainConfig {
        DetTrainConfig { batch_size: self.batch, lr: self.lr, anchors: self.anchors, base: self.base, box_weight: self.box_weight, ..DetTrainConfig::new(self.epochs, self.seed) }
    }

    /// Set the short run the screenshot test uses.
    pub fn set_run(&mut self, train_images: usize, epochs: usize, seed: u64) {
        self.train_images = train_images;
        self.epochs = epochs;
        self.seed = seed;
    }

    pub fn set_decoding(&mut self, score_threshold: f64, nms_iou: f64) {
        self.score_threshold = score_threshold;
        self.nms_iou = nms_iou;
    }

    pub fn set_view(&mut self, index: usize, truth: bool, anchors: bool) {
        self.index = index.min(HELD_OUT - 1);
        self.show_truth = truth;
        self.show_anchors = anchors;
    }

    pub fn start(&mut self) {
        self.stop();
        if self.data_key != self.wanted_data() {
            self.make_data();
        }
        let hook = Box::new(|t: &mut DetTrainer| t.predict_val().ok());
        let started = DetTrainer::new(Arc::clone(&self.train), Arc::clone(&self.val), self.config()).map_err(|e| e.to_string()).and_then(|t| {
            let steps = t.steps_per_epoch();
            Ok((DetWorker::spawn(t, hook, usize::MAX)?, steps))
        });
        match started {
            Ok((w, steps)) => {
                self.run.start(w);
                (self.trained, self.run_data) = (None, self.data_key);
                self.steps_per_epoch = steps.max(1);
                self.loss.clear();
                self.map.clear();
                self.report = None;
                self.raw = None;
                self.decoded = None;
                self.epoch = 0;
                self.steps = 0;
                self.status = "training".into();
            }
            Err(e) => self.status = format!("cannot train: {e}"),
        }
    }

    pub fn pause(&mut self) {
        self.run.toggle_pause();
    }

    pub fn stop(&mut self) {
        if self.run.stop() {
            self.status = "stopping".into();
        }
    }

    /// Apply the worker's events (the tests call it in a loop).
    pub fn update(&mut self) {
        let mut run = std::mem::take(&mut self.run);
        let mut trained = None;
        run.poll_results(|w| self.drain(w), |t| trained = Some(t));
        self.run = run;
        if trained.is_some() {
            self.trained = trained;
        }
    }

    fn drain(&mut self, w: &DetWorker<Vec<f32>>) {
        while let Ok(e) = w.events().try_recv() {
            match e {
                WorkerEvent::Step(r) => {
                    self.steps = r.step;
                    let x = r.step as f64 / self.steps_per_epoch as f64;
                    self.loss.push("total", x, r.loss.total as f64);
                    self.loss.push("objectness (BCE)", x, r.loss.objectness as f64);
                    self.loss.push("class (CE)", x, r.loss.class as f64);
                    self.loss.push("box (L1)", x, r.loss.boxes as f64);
                }
                WorkerEvent::Epoch(r) => {
                    let x = r.epoch as f64;
                    self.map.push("AP", x, r.coco[0]);
                    self.map.push("AP50", x, r.coco[1]);
                    self.map.push("AP75", x, r.coco[2]);
                    self.epoch = r.epoch;
                    self.report = Some(r);
                }
                WorkerEvent::View(raw) => {
                    self.raw = Some((raw, AnchorGrid::new(self.size, GRID, self.anchors)));
                    self.decoded = None;
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

    /// Save the last run's model with the lab's settings as its recipe.
    pub fn save(&self, path: &std::path::Path) -> Result<(), String> {
        let t = self.trained.as_ref().ok_or("no trained model yet")?;
        let c = t.config();
        let (images, size, objects, seed) = self.run_data;
        let recipe = pytorch::recipe(&[
            ("images", images.to_string()),
            ("size", size.to_string()),
            ("objects", objects.to_string()),
            ("seed", seed.to_string()),
            ("epochs", c.epochs.to_string()),
            ("batch", c.batch_size.to_string()),
            ("lr", c.lr.to_string()),
            ("anchors", c.anchors.to_string()),
        ]);
        saved::save(path, t, &recipe).map_err(|e| e.to_string())
    }

    pub fn report(&self) -> Option<&DetEpoch> {
        self.report.as_ref()
    }

    pub fn status(&self) -> &str {
        &self.status
    }

    /// Optimizer steps reported so far in this run.
    pub fn step_count(&self) -> usize {
        self.steps
    }

    /// Decode the raw outputs again when they or the sliders changed.
    fn redecode(&mut self) {
        let settings = (self.score_threshold, self.nms_iou);
        if self.decoded.as_ref().is_some_and(|d| d.settings == settings) {
            return;
        }
        let Some((raw, grid)) = &self.raw else { return };
        let cfg = DecodeConfig { score_threshold: settings.0, nms_iou: settings.1, ..DecodeConfig::default() };
        let per = grid.sizes.len() * (5 + CLASSES.len()) * grid.cells();
        let per_image: Vec<Vec<ScoredBox>> = raw.chunks(per.max(1)).enumerate().map(|(i, r)| detections(r, grid, CLASSES.len(), &cfg, i as i64 + 1)).collect();
        let coco = evaluate(&self.val.objects, &per_image).map(|e| e.stats).unwrap_or([-1.0; 12]);
        self.decoded = Some(Decoded { per_image, coco, settings });
    }

    /// COCO numbers of the held-out detections at the current sliders.
    pub fn live_coco(&mut self) -> Option<[f64; 12]> {
        self.redecode();
        self.decoded.as_ref().map(|d| d.coco)
    }

    /// Detections drawn on the shown image.
    pub fn shown_detections(&mut self) -> Vec<ScoredBox> {
        self.redecode();
        self.decoded.as_ref().and_then(|d| d.per_image.get(self.index).cloned()).unwrap_or_default()
    }

    fn picture(&mut self) -> Option<Arc<ScalarImage>> {
        let s = self.val.size as u32;
        let img = self.val.image(self.index)?.to_vec();
        let slot = self.pictures.get_mut(self.index)?;
        Some(Arc::clone(slot.get_or_insert_with(|| Arc::new(ScalarImage::rgb(s, s, img)))))
    }

    fn draw_anchors(&self, canvas: &Canvas, painter: &egui::Painter) {
        let grid = AnchorGrid::new(self.val.size, GRID, self.anchors);
        let line = egui::Stroke::new(1.0, egui::Color32::from_white_alpha(60));
        let s = grid.stride();
        for k in 0..=GRID {
            let v = k as f64 * s;
            painter.line_segment([canvas.to_screen([v, 0.0]), canvas.to_screen([v, grid.image as f64])], line);
            painter.line_segment([canvas.to_screen([0.0, v]), canvas.to_screen([grid.image as f64, v])], line);
        }
        // the hovered cell's anchors (the centre cell's before any hover)
        let cell = self.hovered_cell.unwrap_or((GRID / 2) * GRID + GRID / 2);
        for a in 0..grid.sizes.len() {
            let b = grid.anchor(a * grid.cells() + cell);
            canvas.outline(painter, &b, egui::Stroke::new(1.0, egui::Color32::from_rgb(255, 255, 160)), true);
        }
    }

    fn class_table(&self, ui: &mut egui::Ui) {
        egui::Grid::new("detect_classes").num_columns(4).spacing([10.0, 2.0]).show(ui, |ui| {
            for h in ["", "class", "held-out objects", "AP"] {
                ui.label(egui::RichText::new(h).small().strong());
            }
            ui.end_row();
            for (k, name) in CLASSES.iter().enumerate() {
                let (rect, _) = ui.allocate_exact_size(egui::vec2(14.0, 14.0), egui::Sense::hover());
                ui.painter().rect_filled(rect, 2.0, colour(k as i64 + 1));
                ui.label(*name);
                ui.label(self.val.objects.iter().flatten().filter(|o| o.category == k as i64 + 1).count().to_string());
                ui.label(self.report.as_ref().and_then(|r| r.class_ap.get(k)).filter(|v| **v >= 0.0).map_or("-".into(), |v| format!("{v:.3}")));
                ui.end_row();
            }
        });
    }
}

impl Lab for DetectLab {
    fn info(&self) -> LabInfo {
        LabInfo { name: "detect", title: "Single-stage detector", section: "Detection" }
    }

    fn controls(&mut self, ui: &mut egui::Ui) {
        let training = self.run.training();
        ui.add_enabled_ui(!training, |ui| {
            ui.label("Data: seeded synthetic shapes (disc, square, triangle) with exact boxes");
            ui.add(egui::Slider::new(&mut self.train_images, 32..=4096).logarithmic(true).text("training images"));
            ui.horizontal(|ui| {
                egui::ComboBox::from_label("size").selected_text(format!("{0}x{0}", self.size)).show_ui(ui, |ui| {
                    for s in [16, 32, 64] {
                        ui.selectable_value(&mut self.size, s, format!("{s}x{s}"));
                    }
                });
                ui.add(egui::Slider::new(&mut self.max_objects, 1..=6).text("objects at most"));
            });
            if ui.button("New data").clicked() {
                self.make_data();
            }
            ui.separator();
            ui.add(egui::Slider::new(&mut self.epochs, 1..=100).logarithmic(true).text("epochs"));
            ui.add(egui::Slider::new(&mut self.batch, 1..=64).logarithmic(true).text("batch size"));
            ui.add(egui::Slider::new(&mut self.lr, 1e-4..=3e-2).logarithmic(true).text("learning rate"));
            ui.add(egui::Slider::new(&mut self.anchors, 1..=4).text("anchors per cell"));
            ui.add(egui::Slider::new(&mut self.base, 2..=32).text("width (first block)"));
            ui.add(egui::Slider::new(&mut self.box_weight, 0.0..=10.0).text("box loss weight"));
            ui.add(egui::Slider::new(&mut self.seed, 0..=100).text("seed"));
        });
        ui.label(format!(
            "{GRID}x{GRID} cells, anchors {}",
            AnchorGrid::new(self.size, GRID, self.anchors).sizes.iter().map(|s| format!("{s:.1}")).collect::<Vec<_>>().join(", ") + " px"
        ));
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
        ui.horizontal(|ui| {
            let ready = self.trained.is_some() && !training;
            if ui.add_enabled(ready, egui::Button::new("Save checkpoint")).on_disabled_hover_text("after a run ends").clicked()
                && let Some(path) = rfd::FileDialog::new().set_file_name("detector.safetensors").add_filter("safetensors", &["safetensors"]).save_file()
            {
                self.status = match self.save(&path) {
                    Ok(()) => format!("saved {}", path.display()),
                    Err(e) => format!("cannot save {}: {e}", path.display()),
                };
            }
            if pytorch::button(ui, ready)
                && let Some(status) = pytorch::with_dialog(|p| self.save(p))
            {
                self.status = status;
            }
        });
        if training {
            let done = self.steps as f32 / (self.steps_per_epoch * self.epochs).max(1) as f32;
            ui.add(egui::ProgressBar::new(done).text(format!("epoch {}/{}, step {}", self.epoch, self.epochs, self.steps)));
        }
        ui.separator();
        ui.label("Decoding (re-applied to the last outputs)");
        ui.add(egui::Slider::new(&mut self.score_threshold, 0.01..=0.95).text("score threshold"));
        ui.add(egui::Slider::new(&mut self.nms_iou, 0.1..=0.9).text("NMS IoU"));
        ui.separator();
        ui.add(egui::Slider::new(&mut self.index, 0..=HELD_OUT - 1).text("held-out image"));
        ui.checkbox(&mut self.show_truth, "ground truth boxes");
        ui.checkbox(&mut self.show_anchors, "anchor grid");
        if !self.status.is_empty() {
            ui.label(&self.status);
        }
    }

    fn view(&mut self, ui: &mut egui::Ui) {
        self.update();
        if self.run.busy() {
            ui.ctx().request_repaint();
        }
        ui.label(self.summary());
        let dets = self.shown_detections();
        let picture = self.picture();
        let size = self.val.size as f64;
        let side = (ui.available_height() * 0.5).min(ui.available_width() * 0.5).max(120.0);
        ui.horizontal(|ui| {
            let canvas = ui.allocate_ui(egui::vec2(side, side), |ui| Canvas::show(ui, picture.as_ref(), BBox::new(0.0, 0.0, size, size), "held-out image with detections")).inner;
            let painter = ui.painter_at(canvas.rect);
            self.hovered_cell = canvas.response.hover_pos().map(|p| canvas.to_image(p)).and_then(|[x, y]| {
                let s = size / GRID as f64;
                (x >= 0.0 && y >= 0.0 && x < size && y < size).then(|| (y / s) as usize * GRID + (x / s) as usize)
            });
            if self.show_anchors {
                self.draw_anchors(&canvas, &painter);
            }
            if self.show_truth
                && let Some(objs) = self.val.objects.get(self.index)
            {
                for o in objs {
                    canvas.outline(&painter, &o.bbox, egui::Stroke::new(1.5, egui::Color32::WHITE), true);
                }
            }
            for d in &dets {
                canvas.outline(&painter, &d.bbox, egui::Stroke::new(2.0, colour(d.category)), false);
                canvas.caption(&painter, &d.bbox, &format!("{} {:.2}", class_name(d.category), d.score), colour(d.category), false);
            }
            ui.vertical(|ui| {
                legend_entry(ui, egui::Stroke::new(1.5, egui::Color32::WHITE), true, None, "ground truth");
                for (k, name) in CLASSES.iter().enumerate() {
                    legend_entry(ui, egui::Stroke::new(2.0, colour(k as i64 + 1)), false, None, &format!("predicted {name}"));
                }
                ui.label(format!("{} detections on this image, {} objects", dets.len(), self.val.objects.get(self.index).map_or(0, Vec::len)));
                if let Some(c) = self.decoded.as_ref().map(|d| d.coco) {
                    ui.label(format!("at these settings: AP {:.3}, AP50 {:.3}, AP75 {:.3}", c[0], c[1], c[2]));
                }
                self.class_table(ui);
            });
        });
        let h = (ui.available_height() - 8.0).max(80.0);
        ui.horizontal(|ui| {
            let w = (ui.available_width() / 2.0 - 6.0).max(100.0);
            ui.vertical(|ui| {
                ui.set_width(w);
                self.loss.show(ui, h);
            });
            ui.vertical(|ui| {
                ui.set_width(w);
                self.map.show(ui, h);
            });
        });
    }

    fn summary(&self) -> String {
        let score = match &self.report {
            Some(r) => format!("held-out AP {:.4}, AP50 {:.4}, AP75 {:.4} ({:.1} s an epoch)", r.coco[0], r.coco[1], r.coco[2], r.seconds),
            None => "not trained yet".into(),
        };
        format!(
            "{} training images {1}x{1}, {2} held out ({3} objects): epoch {4}/{5}, {score}; {6}",
            self.train.len(),
            self.size,
            self.val.len(),
            self.val.object_count(),
            self.epoch,
            self.epochs,
            self.status
        )
    }

    fn busy(&self) -> bool {
        self.run.busy()
    }
}
