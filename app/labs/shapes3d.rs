//! Point cloud and voxel classifiers: a PointNet on sampled point clouds or
//! a small 3-D CNN on occupancy grids, trained on the engine's trainer
//! thread on a built-in synthetic set of primitive shapes (random pose,
//! scale and jitter). Live loss and accuracy curves (train and held-out),
//! the held-out confusion matrix, and a held-out shape in the 3D view with
//! its true and predicted class and the class probabilities; for PointNet
//! the critical points (those that win the max pool) can be highlighted.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use vislab_engine::data::Dataset;
use vislab_engine::geometry::Aabb;
use vislab_engine::job::Task;
use vislab_engine::shapes3d::{self, ModelKind, POINT_FEATURES, ShapeSet, ShapeSetConfig, ShapesTrainConfig, class_names, critical_points};
use vislab_engine::train::report::Report;
use vislab_engine::train::{Event, Model, TrainerHandle};

use super::{Lab, LabInfo};
use crate::render::colormap::Colormap;
use crate::render::scene::{PointVertex, Scene3d};
use crate::render::viewport::Viewport3d;
use crate::widgets::confusion::confusion_matrix;
use crate::widgets::curves::Curves;

const POINT_RGB: [u8; 4] = [120, 170, 235, 255];
const CRITICAL_RGB: [u8; 4] = [255, 140, 40, 255];

/// What the 3D view draws of the shown shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Display {
    Points,
    Voxels,
}

struct Run {
    handle: TrainerHandle<Report>,
    /// The held-out samples the run is scored on, as its model reads them.
    held_out: Arc<Dataset>,
    kind: ModelKind,
    paused: bool,
    step: usize,
    epoch: usize,
    total_steps: usize,
    started: Instant,
}

/// What the finishing thread hands back: the final report, the model (with
/// its kind and held-out data) and why the run ended.
type Finish = Result<(Report, TrainedModel, String), String>;

/// A trained model, its kind and the held-out data as it reads them.
type TrainedModel = (Box<dyn Model>, ModelKind, Arc<Dataset>);

pub struct Shapes3dLab {
    set_config: ShapeSetConfig,
    train_config: ShapesTrainConfig,
    set: Option<Arc<ShapeSet>>,
    /// The first set is generated when the lab is first polled, not when
    /// the app builds every lab.
    generated_once: bool,
    generating: Option<Task<Result<ShapeSet, String>>>,
    /// Start training once the set being generated is there.
    train_when_ready: bool,
    run: Option<Run>,
    finishing: Option<Task<Finish>>,
    /// The trained model, its kind and held-out data (critical points on browse).
    model: Option<TrainedModel>,
    report: Option<Report>,
    report_kind: ModelKind,
    /// Held-out sample the next report computes layer outputs for.
    chosen: Arc<AtomicUsize>,
    shown: usize,
    display: Display,
    show_critical: bool,
    critical: Vec<usize>,
    step_loss: Curves,
    epoch_loss: Curves,
    accuracy: Curves,
    step_ms: Option<f32>,
    last_val_acc: Option<f32>,
    seconds: f64,
    scene: Arc<Scene3d>,
    viewport: Viewport3d,
    status: String,
}

impl Default for Shapes3dLab {
    fn default() -> Self {
        Self::new()
    }
}

impl Shapes3dLab {
    pub fn new() -> Self {
        let mut lab = Shapes3dLab {
            generated_once: false,
            set_config: Self::default_set(),
            train_config: ShapesTrainConfig::default(),
            set: None,
            generating: None,
            train_when_ready: false,
            run: None,
            finishing: None,
            model: None,
            report: None,
            report_kind: ModelKind::PointNet,
            chosen: Arc::new(AtomicUsize::new(0)),
            shown: 0,
            display: Display::Points,
            show_critical: true,
            critical: Vec::new(),
            step_loss: Curves::new("shapes3d-step-loss", "step", "loss").smoothed(0.8),
            epoch_loss: Curves::new("shapes3d-epoch-loss", "epoch", "loss"),
            accuracy: Curves::new("shapes3d-accuracy", "epoch", "accuracy").unit().legend_at(egui_plot::Corner::RightBottom),
            step_ms: None,
            last_val_acc: None,
            seconds: 0.0,
            scene: Arc::new(Scene3d::empty()),
            viewport: Viewport3d::default(),
            status: String::new(),
        };
        // A few hundred points: draw them large enough to read the shape.
        lab.viewport.settings.point_size = 5.0;
        lab.status = "the shapes are generated when the lab is first shown".into();
        lab
    }

    /// The set the lab starts with: 6 classes x (32 training + 10 held-out)
    /// shapes of 128 points or 16^3 voxels.
    pub fn default_set() -> ShapeSetConfig {
        ShapeSetConfig::default()
    }

    pub fn set_config(&self) -> &ShapeSetConfig {
        &self.set_config
    }

    pub fn train_config(&self) -> &ShapesTrainConfig {
        &self.train_config
    }

    /// New settings for the next run (tests keep runs short); the set is
    /// regenerated when they change it.
    pub fn configure(&mut self, set: ShapeSetConfig, train: ShapesTrainConfig) {
        self.display = if train.model == ModelKind::VoxelCnn { Display::Voxels } else { Display::Points };
        self.set_config = set;
        self.train_config = train;
    }

    fn generate(&mut self) {
        self.generated_once = true;
        let cfg = self.set_config.clone();
        self.generating = Some(Task::spawn("vislab-shapes3d", move |ctx| ShapeSet::generate(&cfg, |_, _| !ctx.stopped()).map_err(|e| e.to_string())));
        self.status = "generating shapes".into();
    }

    fn poll_generating(&mut self) {
        let Some(t) = &self.generating else { return };
        let Some(r) = t.poll() else { return };
        self.generating = None;
        match r {
            Ok(Ok(set)) => {
                self.status = format!("{} training and {} held-out shapes", set.train.len(), set.held_out.len());
                self.set = Some(Arc::new(set));
                self.clear_results();
                self.show(0);
                if std::mem::take(&mut self.train_when_ready) {
                    self.start();
                }
            }
            Ok(Err(e)) => {
                self.status = format!("cannot generate the shapes: {e}");
                self.train_when_ready = false;
            }
            Err(e) => self.status = format!("the shape generator stopped without a result: {e}"),
        }
    }

    fn clear_results(&mut self) {
        for c in [&mut self.step_loss, &mut self.epoch_loss, &mut self.accuracy] {
            c.clear();
        }
        self.report = None;
        self.model = None;
        self.critical.clear();
        self.step_ms = None;
        self.last_val_acc = None;
        self.seconds = 0.0;
    }

    /// Train with the current settings (generating the set first if they changed it).
    pub fn train_now(&mut self) {
        if self.training() {
            return;
        }
        if self.set.as_ref().is_none_or(|s| s.config != self.set_config) {
            self.train_when_ready = true;
            if self.generating.is_none() {
                self.generate();
            }
            return;
        }
        self.start();
    }

    fn start(&mut self) {
        let Some(set) = self.set.clone() else { return };
        let cfg = ShapesTrainConfig { seed: self.set_config.seed, ..self.train_config.clone() };
        let (job, held_out) = match shapes3d::job(&set, &cfg).and_then(|j| Ok((j, shapes3d::datasets(&set, cfg.model)?.1))) {
            Ok(j) => j,
            Err(e) => {
                self.status = format!("cannot train: {e}");
                return;
            }
        };
        let total_steps = job.train.num_batches(cfg.batch_size, false) * cfg.epochs;
        let (held, chosen) = (held_out.clone(), self.chosen.clone());
        let probe = held_out.batch(&[0]);
        let hook = Box::new(move |m: &mut dyn Model, _| {
            let probe = probe.as_ref().ok()?;
            Report::compute(m, &held, probe, chosen.load(Ordering::Relaxed), 64).ok()
        });
        match job.samples(hook).spawn() {
            Ok(handle) => {
                self.clear_results();
                self.report_kind = cfg.model;
                self.chosen.store(self.shown, Ordering::Relaxed);
                self.run = Some(Run { handle, held_out, kind: cfg.model, paused: false, step: 0, epoch: 0, total_steps, started: Instant::now() });
                self.status = "training".into();
            }
            Err(e) => self.status = format!("cannot start training: {e}"),
        }
    }

    pub fn stop(&mut self) {
        if let Some(r) = &self.run {
            r.handle.stop();
        }
    }

    pub fn toggle_pause(&mut self) {
        if let Some(r) = &mut self.run {
            if r.paused {
                r.handle.resume()
            } else {
                r.handle.pause()
            }
            r.paused = !r.paused;
        }
    }

    fn training(&self) -> bool {
        self.run.is_some() || self.finishing.is_some()
    }

    /// Apply what the generator and the trainer have sent (called every frame).
    pub fn poll(&mut self) {
        if !self.generated_once {
            self.generate();
        }
        self.poll_generating();
        self.poll_finish();
        let Some(run) = &mut self.run else { return };
        let mut ended = None;
        let mut report = None;
        while let Ok(ev) = run.handle.events().try_recv() {
            match ev {
                Event::Step { step, epoch, loss, seconds, .. } => {
                    (run.step, run.epoch) = (step, epoch);
                    self.step_loss.push("train", step as f64, loss as f64);
                    if seconds > 0.0 {
                        self.step_ms = Some(self.step_ms.map_or(1e3 * seconds, |o| 0.9 * o + 100.0 * seconds));
                    }
                }
                Event::Epoch(m) => {
                    let e = m.epoch as f64;
                    self.epoch_loss.push("train", e, m.train_loss as f64);
                    self.accuracy.push("train", e, m.train_acc as f64);
                    if let (Some(l), Some(a)) = (m.val_loss, m.val_acc) {
                        self.epoch_loss.push("held-out", e, l as f64);
                        self.accuracy.push("held-out", e, a as f64);
                        self.last_val_acc = Some(a);
                    }
                    self.status = format!("epoch {}/{}: loss {:.4}, train accuracy {:.1}%", m.epoch, self.train_config.epochs, m.train_loss, 100.0 * m.train_acc);
                }
                Event::Samples { data, .. } => report = Some(data),
                Event::Stopped { reason } => ended = Some(Ok(reason.to_string())),
                Event::Failed { message } => ended = Some(Err(message)),
            }
        }
        self.seconds = run.started.elapsed().as_secs_f64();
        if let Some(r) = report {
            self.take_report(r);
        }
        let Some(end) = ended else { return };
        let Some(run) = self.run.take() else { return };
        let reason = match end {
            Ok(r) => r,
            Err(e) => {
                self.status = format!("training failed: {e}");
                return;
            }
        };
        let (held, chosen) = (run.held_out.clone(), self.chosen.load(Ordering::Relaxed));
        let kind = run.kind;
        self.finishing = Some(Task::spawn("vislab-shapes3d", move |_| {
            let mut done = run.handle.join().map_err(|e| e.to_string())?;
            let probe = held.batch(&[0]).map_err(|e| e.to_string())?;
            let report = Report::compute(done.model.as_mut(), &held, &probe, chosen, 64).map_err(|e| e.to_string())?;
            Ok((report, (done.model, kind, held), reason))
        }));
    }

    fn poll_finish(&mut self) {
        let Some(t) = &self.finishing else { return };
        let Some(r) = t.poll() else { return };
        self.finishing = None;
        match r {
            Ok(Ok((report, model, reason))) => {
                // The summary shows the accuracy; the status says why it ended.
                self.status = reason;
                self.last_val_acc = Some(report.confusion.accuracy());
                self.take_report(report);
                self.model = Some(model);
            }
            Ok(Err(e)) => self.status = format!("training ended, but: {e}"),
            Err(e) => self.status = format!("the training thread ended without a result: {e}"),
        }
    }

    fn take_report(&mut self, r: Report) {
        if r.chosen == self.shown {
            self.critical = Self::critical_of(&r);
        }
        self.report = Some(r);
        self.rebuild_scene();
    }

    /// PointNet's critical points in a report's layer outputs (none for the voxel CNN).
    fn critical_of(r: &Report) -> Vec<usize> {
        r.maps.iter().find(|p| p.name == POINT_FEATURES).map_or_else(Vec::new, |p| critical_points(&p.values, p.sample_shape.get(1).copied().unwrap_or(0)))
    }

    /// Show held-out shape `i` (its critical points at once when a trained
    /// PointNet is at hand, else from the next epoch's report).
    pub fn show(&mut self, i: usize) {
        let n = self.set.as_ref().map_or(0, |s| s.held_out.len());
        self.shown = i.min(n.saturating_sub(1));
        self.chosen.store(self.shown, Ordering::Relaxed);
        self.critical.clear();
        if let Some((model, ModelKind::PointNet, held)) = &mut self.model
            && let Ok(maps) = Report::maps(model.as_mut(), held, self.shown)
        {
            self.critical = maps.iter().find(|p| p.name == POINT_FEATURES).map_or_else(Vec::new, |p| critical_points(&p.values, p.sample_shape.get(1).copied().unwrap_or(0)));
        }
        self.viewport.new_data();
        self.rebuild_scene();
    }

    fn rebuild_scene(&mut self) {
        let Some(s) = self.set.as_ref().and_then(|s| s.held_out.get(self.shown)) else {
            self.scene = Arc::new(Scene3d::empty());
            return;
        };
        let mut scene = match self.display {
            Display::Voxels => Scene3d::from_voxels(&s.voxels, 0.5, Colormap::Viridis),
            Display::Points => {
                let critical = if self.show_critical { self.critical.as_slice() } else { &[] };
                let points = s
                    .points
                    .iter()
                    .enumerate()
                    .map(|(i, &pos)| PointVertex { pos, color: if critical.binary_search(&i).is_ok() { CRITICAL_RGB } else { POINT_RGB }, scalar: 0.0 })
                    .collect();
                Scene3d { points, ..Scene3d::empty() }
            }
        };
        // Every shape lies in the unit sphere (voxels on [-1, 1]^3).
        scene.bounds = Some(Aabb { min: [-1.0; 3], max: [1.0; 3] });
        self.scene = Arc::new(scene);
    }

    /// Held-out accuracy of the last report (the final one once finished).
    pub fn held_out_accuracy(&self) -> Option<f32> {
        self.report.as_ref().map(|r| r.confusion.accuracy())
    }

    pub fn critical(&self) -> &[usize] {
        &self.critical
    }

    /// Optimizer steps of the run in progress.
    pub fn steps_done(&self) -> usize {
        self.run.as_ref().map_or(0, |r| r.step)
    }

    pub fn shown(&self) -> usize {
        self.shown
    }

    /// The shown shape's true class, predicted class and its probability.
    pub fn prediction(&self) -> Option<(usize, usize, f32)> {
        let r = self.report.as_ref()?;
        let truth = self.set.as_ref()?.held_out.get(self.shown)?.class.label();
        let p = *r.predicted.get(self.shown)?;
        Some((truth, p, r.scores_of(self.shown).get(p).copied().unwrap_or(0.0)))
    }

    pub fn status(&self) -> &str {
        &self.status
    }

    fn sample_panel(&mut self, ui: &mut egui::Ui) {
        let names = class_names();
        let n = self.set.as_ref().map_or(0, |s| s.held_out.len());
        if n == 0 {
            ui.label("no shapes yet");
            return;
        }
        let mut i = self.shown;
        ui.horizontal(|ui| {
            if ui.small_button("<").clicked() {
                i = i.saturating_sub(1);
            }
            ui.add(egui::Slider::new(&mut i, 0..=n - 1));
            if ui.small_button(">").clicked() {
                i = (i + 1).min(n - 1);
            }
        });
        ui.horizontal(|ui| {
            ui.label(format!("held-out shape {} of {n}", self.shown + 1));
            if let Some(r) = &self.report
                && ui.add_enabled(!r.misclassified.is_empty(), egui::Button::new("next misclassified").small()).clicked()
            {
                let next = r.misclassified.iter().copied().filter(|&m| m > self.shown).min().or_else(|| r.misclassified.iter().copied().min());
                if let Some(m) = next {
                    i = m;
                }
            }
        });
        if i != self.shown {
            self.show(i);
        }
        let truth = self.set.as_ref().and_then(|s| s.held_out.get(self.shown)).map_or(0, |s| s.class.label());
        match self.prediction() {
            Some((t, p, prob)) => {
                let ok = t == p;
                let color = if ok { egui::Color32::from_rgb(90, 200, 120) } else { egui::Color32::from_rgb(240, 90, 80) };
                ui.label(egui::RichText::new(format!("true {}, predicted {} ({:.0}%)", names[t], names[p], 100.0 * prob)).color(color).strong());
                if let Some(r) = &self.report {
                    // Two columns of probability bars keep room for the confusion matrix.
                    let w = (ui.available_width() / 2.0 - 8.0).max(60.0);
                    egui::Grid::new("shapes3d-probs").num_columns(2).spacing([6.0, 2.0]).show(ui, |ui| {
                        for (c, &s) in r.scores_of(self.shown).iter().enumerate() {
                            ui.add(egui::ProgressBar::new(s).desired_width(w).desired_height(14.0).text(format!("{} {:.2}", names[c], s)));
                            if c % 2 == 1 {
                                ui.end_row();
                            }
                        }
                    });
                }
            }
            None => {
                ui.label(format!("true {}; train to predict", names[truth]));
            }
        }
        if self.display == Display::Points && self.report_kind == ModelKind::PointNet && !self.critical.is_empty() {
            ui.label(format!("{} critical points (orange) of {}", self.critical.len(), self.set_config.points));
        }
    }
}

impl Lab for Shapes3dLab {
    fn info(&self) -> LabInfo {
        LabInfo { name: "shapes3d", title: "Point cloud & voxel classifiers", section: "3D vision" }
    }

    fn controls(&mut self, ui: &mut egui::Ui) {
        let busy = self.training() || self.generating.is_some();
        ui.add_enabled_ui(!busy, |ui| {
            ui.label(egui::RichText::new("Model").strong());
            let before = self.train_config.model;
            ui.radio_value(&mut self.train_config.model, ModelKind::PointNet, "PointNet: shared MLP 3-64-128-256, max pool, fc 128");
            ui.radio_value(&mut self.train_config.model, ModelKind::VoxelCnn, "Voxel CNN: 3 x (conv3d 3^3, pool 2), fc 64");
            if before != self.train_config.model {
                self.display = if self.train_config.model == ModelKind::VoxelCnn { Display::Voxels } else { Display::Points };
                self.rebuild_scene();
            }
            ui.checkbox(&mut self.train_config.batch_norm, "batch norm");
            ui.label(egui::RichText::new("Shapes (6 classes)").strong());
            let c = &mut self.set_config;
            ui.add(egui::Slider::new(&mut c.train_per_class, 4..=400).logarithmic(true).text("training shapes per class"));
            ui.add(egui::Slider::new(&mut c.held_out_per_class, 2..=200).logarithmic(true).text("held-out shapes per class"));
            ui.add(egui::Slider::new(&mut c.points, 32..=2048).logarithmic(true).text("points"));
            ui.add(egui::Slider::new(&mut c.resolution, 8..=32).step_by(8.0).text("voxel resolution"));
            ui.add(egui::Slider::new(&mut c.noise, 0.0..=0.1).text("jitter (of the radius)"));
            ui.checkbox(&mut c.any_rotation, "any rotation (else about the up axis)");
            ui.add(egui::Slider::new(&mut c.seed, 0..=100).text("seed (shapes and weights)"));
            ui.label(egui::RichText::new("Training").strong());
            let t = &mut self.train_config;
            ui.add(egui::Slider::new(&mut t.epochs, 1..=100).logarithmic(true).text("epochs"));
            ui.add(egui::Slider::new(&mut t.batch_size, 4..=128).logarithmic(true).text("batch size"));
            ui.add(egui::Slider::new(&mut t.lr, 1e-4..=1e-2).logarithmic(true).text("learning rate (Adam)"));
            if ui.button("Generate shapes").clicked() {
                self.generate();
            }
        });
        ui.horizontal(|ui| {
            if ui.add_enabled(!busy, egui::Button::new("Train")).clicked() {
                self.train_now();
            }
            if self.run.is_some() {
                let paused = self.run.as_ref().is_some_and(|r| r.paused);
                if ui.button(if paused { "Resume" } else { "Pause" }).clicked() {
                    self.toggle_pause();
                }
                if ui.button("Stop").clicked() {
                    self.stop();
                }
            }
        });
        if let Some(r) = &self.run {
            ui.add(egui::ProgressBar::new(r.step as f32 / r.total_steps.max(1) as f32).text(format!("step {}/{}, epoch {}", r.step, r.total_steps, r.epoch)));
        }
        let params = match self.train_config.model {
            ModelKind::PointNet => shapes3d::PointNet { batch_norm: self.train_config.batch_norm, ..shapes3d::PointNet::new(self.set_config.points, 6) }.params(),
            ModelKind::VoxelCnn => shapes3d::VoxelCnn { batch_norm: self.train_config.batch_norm, ..shapes3d::VoxelCnn::new(self.set_config.resolution, 6) }.params(),
        };
        ui.label(format!("{params} parameters"));
        if let Some(ms) = self.step_ms {
            ui.label(format!("{ms:.1} ms per step"));
        }
        ui.separator();
        ui.label(egui::RichText::new("View").strong());
        let mut redraw = false;
        ui.horizontal(|ui| {
            redraw |= ui.radio_value(&mut self.display, Display::Points, "points").changed();
            redraw |= ui.radio_value(&mut self.display, Display::Voxels, "voxels").changed();
        });
        redraw |= ui.checkbox(&mut self.show_critical, "highlight PointNet's critical points").changed();
        if redraw {
            self.rebuild_scene();
        }
        self.viewport.controls_ui(ui, &self.scene);
    }

    fn view(&mut self, ui: &mut egui::Ui) {
        self.poll();
        if self.busy() {
            ui.ctx().request_repaint();
        }
        ui.label(self.summary());
        let avail = ui.available_size();
        let below = (avail.y * 0.36).clamp(120.0, 240.0);
        let top = avail.y - below - 8.0;
        let side = (avail.x * 0.42).min(top).max(120.0);
        ui.horizontal_top(|ui| {
            ui.allocate_ui(egui::vec2(avail.x - side - 8.0, top), |ui| {
                self.viewport.show(ui, &self.scene);
            });
            ui.vertical(|ui| {
                ui.set_width(side);
                self.sample_panel(ui);
                let mut jump = None;
                if let (Some(r), Some(set)) = (&self.report, &self.set) {
                    let left = (top - ui.min_rect().height() - 4.0).max(80.0);
                    // A click on a cell shows its first shape.
                    if let Some((t, p)) = confusion_matrix(ui, &r.confusion, &class_names(), left.min(side)) {
                        jump = (0..r.predicted.len()).find(|&i| r.predicted[i] == p && set.held_out.get(i).is_some_and(|s| s.class.label() == t));
                    }
                }
                if let Some(i) = jump {
                    self.show(i);
                }
            });
        });
        let col = (avail.x - 16.0) / 3.0;
        ui.horizontal(|ui| {
            for c in [&self.step_loss, &self.epoch_loss, &self.accuracy] {
                ui.vertical(|ui| {
                    ui.set_width(col);
                    c.show(ui, below - 8.0);
                });
            }
        });
    }

    fn summary(&self) -> String {
        let model = self.train_config.model.title();
        let acc = match self.last_val_acc {
            Some(a) => format!("held-out accuracy {:.2}%", 100.0 * a),
            None => "held-out accuracy not measured yet".into(),
        };
        let epoch = self.run.as_ref().map_or(self.accuracy.series.first().map_or(0, |s| s.points.len()), |r| r.epoch);
        format!("{model}: epoch {epoch}/{}, {acc}; {}", self.train_config.epochs, self.status)
    }

    fn viewport(&self) -> Option<&Viewport3d> {
        Some(&self.viewport)
    }

    fn viewport_mut(&mut self) -> Option<&mut Viewport3d> {
        Some(&mut self.viewport)
    }

    fn busy(&self) -> bool {
        self.training() || self.generating.is_some() || !self.generated_once
    }
}
