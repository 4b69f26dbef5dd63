//! Depth prediction: a small U-Net trained live (worker thread) to predict
//! log depth from one shaded image, with the scale-invariant log loss of
//! Eigen et al. (2014), on pairs the engine renders from random
//! arrangements of primitives or built-in shapes seen from random cameras.
//! A held-out example (browseable) shows its input, true depth, predicted
//! depth (one colormap and range, with a legend) and the error
//! |ln predicted - ln true|; the held-out metrics sit beside those of the
//! mean-depth-map baseline, and both depths are back-projected to point
//! clouds side by side in the 3D view.

use super::run::Run;
use std::sync::Arc;

use vislab_engine::depthpred::{DepthEvent, DepthMetrics, DepthSet, DepthTrainConfig, DepthTrainer, DepthWorker, EpochReport, Objects, Prediction, SynthConfig};
use vislab_engine::geometry::{Aabb, PointCloud};
use vislab_engine::job::Task;

use super::{Lab, LabInfo};
use crate::render::colormap::Colormap;
use crate::render::image::{ScalarImage, show_image};
use crate::render::scene::Scene3d;
use crate::render::viewport::{ColorMode, Viewport3d};
use crate::widgets::curves::Curves;
use crate::widgets::legend::{fmt_value, legend};

/// Held-out examples predicted at every view and offered in the browser.
pub const SHOWN: usize = 8;
/// Held-out arrangements (each seen from as many views as the training ones).
pub const VAL_SCENES: usize = 8;
/// The error map's colormap and range of |ln predicted - ln true|.
const ERROR_MAP: Colormap = Colormap::Viridis;
const ERROR_RANGE: [f32; 2] = [0.0, 0.5];

/// The rendered pairs and how they were made.
pub struct Data {
    pub name: String,
    pub train: Arc<DepthSet>,
    pub val: Arc<DepthSet>,
}

/// The training and held-out sets of these settings (the held-out scenes
/// use seed + 1000, so they are other arrangements).
pub fn render_data(objects: Objects, scenes: usize, views: usize, size: usize, seed: u64) -> Result<Data, String> {
    let cfg = SynthConfig { objects, ..SynthConfig::new(scenes, views, size, seed) };
    let train = DepthSet::synthetic(&cfg).map_err(|e| e.to_string())?;
    let val = DepthSet::synthetic(&SynthConfig { scenes: VAL_SCENES, seed: seed + 1000, ..cfg }).map_err(|e| e.to_string())?;
    let name = format!("{} scenes x {views} views of {}, {size}x{size} ({} held out)", scenes, objects.title(), val.len());
    Ok(Data { name, train: Arc::new(train), val: Arc::new(val) })
}

/// What the views show of one held-out example, rebuilt on change.
struct Tiles {
    input: Arc<ScalarImage>,
    truth: Arc<ScalarImage>,
    pred: Option<Arc<ScalarImage>>,
    error: Option<Arc<ScalarImage>>,
}

pub struct DepthPredLab {
    // settings
    objects: Objects,
    scenes: usize,
    views: usize,
    size: usize,
    epochs: usize,
    batch: usize,
    lr: f32,
    lambda: f32,
    base: usize,
    seed: u64,
    // data
    data: Option<Data>,
    rendering: Option<Task<Result<Data, String>>>,
    /// Depth range of the held-out set, shared by the true and predicted maps.
    range: [f32; 2],
    // run
    run: Run<DepthWorker<Vec<Prediction>>>,
    steps: usize,
    steps_per_epoch: usize,
    epoch: usize,
    step_ms: Option<f64>,
    loss: Curves,
    metrics: Curves,
    report: Option<EpochReport>,
    baseline: Option<DepthMetrics>,
    preds: Vec<Prediction>,
    // view
    index: usize,
    tiles: Option<Tiles>,
    scene: Arc<Scene3d>,
    viewport: Viewport3d,
    hover: Option<String>,
    status: String,
}

impl Default for DepthPredLab {
    fn default() -> Self {
        Self::new()
    }
}

impl DepthPredLab {
    pub fn new() -> Self {
        let mut viewport = Viewport3d::default();
        viewport.settings.color_mode = ColorMode::Rgb;
        viewport.settings.point_size = 4.0;
        // a little above and to the side of where the cameras stood
        viewport.settings.camera.yaw = 0.25;
        viewport.settings.camera.pitch = 0.3;
        let mut lab = DepthPredLab {
            objects: Objects::Primitives,
            scenes: 48,
            views: 4,
            size: 32,
            epochs: 6,
            batch: 8,
            lr: 3e-3,
            lambda: 0.5,
            base: 8,
            seed: 3,
            data: None,
            rendering: None,
            range: [0.0, 1.0],
            run: Run::default(),
            steps: 0,
            steps_per_epoch: 1,
            epoch: 0,
            step_ms: None,
            loss: Curves::new("depthpred_loss", "epoch", "scale-invariant loss"),
            metrics: Curves::new("depthpred_metrics", "epoch", "held out").unit(),
            report: None,
            baseline: None,
            preds: vec![],
            index: 0,
            tiles: None,
            scene: Arc::new(Scene3d::empty()),
            viewport,
            hover: None,
            status: String::new(),
        };
        lab.render();
        lab
    }

    /// Render the pairs of the current settings on a worker thread.
    pub fn render(&mut self) {
        self.stop();
        let (o, s, v, z, seed) = (self.objects, self.scenes, self.views, self.size, self.seed);
        self.rendering = Some(Task::spawn("vislab-depthpred", move |_| render_data(o, s, v, z, seed)));
        self.status = "rendering".into();
    }

    fn poll_render(&mut self) {
        let Some(t) = &self.rendering else { return };
        let Some(done) = t.poll() else { return };
        self.rendering = None;
        match done {
            Ok(Ok(d)) => {
                self.range = d
                    .val
                    .depths
                    .iter()
                    .copied()
                    .filter(|&v| v > 0.0)
                    .fold(None, |r: Option<[f32; 2]>, v| Some(r.map_or([v, v], |r| [r[0].min(v), r[1].max(v)])))
                    .unwrap_or([0.0, 1.0]);
                self.data = Some(d);
                self.clear_run();
                self.index = 0;
                self.viewport.new_data();
                self.status = "rendered".into();
            }
            Ok(Err(e)) => self.status = format!("cannot render: {e}"),
            Err(e) => self.status = format!("rendering failed: {e}"),
        }
    }

    fn clear_run(&mut self) {
        self.loss.clear();
        self.metrics.clear();
        self.report = None;
        self.baseline = None;
        self.preds.clear();
        self.epoch = 0;
        self.steps = 0;
        self.step_ms = None;
        self.tiles = None;
    }

    pub fn config(&self) -> DepthTrainConfig {
        DepthTrainConfig { batch_size: self.batch, lr: self.lr, lambda: self.lambda, base: self.base, ..DepthTrainConfig::new(self.epochs, self.seed) }
    }

    pub fn data(&self) -> Option<&Data> {
        self.data.as_ref()
    }

    pub fn start(&mut self) {
        self.stop();
        let Some(d) = &self.data else { return };
        let built = DepthTrainer::new(Arc::clone(&d.train), Arc::clone(&d.val), self.config()).map_err(|e| e.to_string()).and_then(|t| {
            let (steps, baseline) = (t.steps_per_epoch(), *t.baseline());
            let shown: Vec<usize> = (0..SHOWN.min(d.val.len())).collect();
            let hook = Box::new(move |t: &mut DepthTrainer| t.predict_val(&shown).ok());
            // Predictions about twice an epoch, and after every epoch.
            Ok((DepthWorker::spawn(t, hook, (steps / 2).max(1))?, steps, baseline))
        });
        match built {
            Ok((w, steps, baseline)) => {
                self.clear_run();
                self.run.start(w);
                self.steps_per_epoch = steps.max(1);
                self.baseline = Some(baseline);
                self.status = "training".into();
            }
            Err(e) => self.status = format!("cannot train: {e}"),
        }
    }

    /// Pause, or resume when paused.
    pub fn pause(&mut self) {
        self.run.toggle_pause();
    }

    pub fn stop(&mut self) {
        if self.run.stop() {
            self.status = "stopping".into();
        }
    }

    /// Apply the worker's and the renderer's results (tests call it in a loop).
    pub fn update(&mut self) {
        self.poll_render();
        let mut run = std::mem::take(&mut self.run);
        run.poll(|w| self.drain(w));
        self.run = run;
    }

    fn drain(&mut self, w: &DepthWorker<Vec<Prediction>>) {
        while let Ok(e) = w.events().try_recv() {
            match e {
                DepthEvent::Step(r) => {
                    self.steps = r.step;
                    self.step_ms = Some(self.step_ms.map_or(r.ms, |m| 0.9 * m + 0.1 * r.ms));
                    self.loss.push("train loss", r.step as f64 / self.steps_per_epoch as f64, r.loss as f64);
                }
                DepthEvent::Epoch(r) => {
                    let x = r.epoch as f64;
                    self.loss.push("held-out scale-invariant error", x, r.val.scale_invariant());
                    self.metrics.push("abs rel", x, r.val.abs_rel());
                    self.metrics.push("delta < 1.25", x, r.val.delta1());
                    if let Some(b) = &self.baseline {
                        self.loss.push("baseline scale-invariant error", x, b.scale_invariant());
                        self.metrics.push("baseline abs rel", x, b.abs_rel());
                        self.metrics.push("baseline delta < 1.25", x, b.delta1());
                    }
                    self.epoch = r.epoch;
                    self.report = Some(r);
                }
                DepthEvent::View(p) => {
                    self.preds = p;
                    self.tiles = None;
                }
                DepthEvent::Done { stopped, error } => {
                    self.status = match (error, stopped) {
                        (Some(e), _) => format!("failed: {e}"),
                        (None, true) => "stopped".into(),
                        (None, false) => "finished".into(),
                    };
                }
            }
        }
    }

    pub fn step_count(&self) -> usize {
        self.steps
    }

    pub fn status(&self) -> &str {
        &self.status
    }

    pub fn report(&self) -> Option<&EpochReport> {
        self.report.as_ref()
    }

    pub fn predictions(&self) -> &[Prediction] {
        &self.preds
    }

    pub fn hover_text(&self) -> Option<&str> {
        self.hover.as_deref()
    }

    fn prediction(&self) -> Option<&Prediction> {
        self.preds.iter().find(|p| p.index == self.index)
    }

    fn rebuild(&mut self) {
        let Some(d) = &self.data else { return };
        let v = &d.val;
        let (w, h) = (v.width as u32, v.height as u32);
        let (Some(img), Some(truth)) = (v.image(self.index), v.depth(self.index)) else { return };
        let pred = self.prediction().map(|p| p.depth.clone());
        let error = pred.as_ref().map(|p| p.iter().zip(truth).map(|(&p, &t)| if t > 0.0 { (p.max(1e-3).ln() - t.ln()).abs() } else { 0.0 }).collect());
        self.tiles = Some(Tiles {
            input: Arc::new(ScalarImage::rgb(w, h, img.to_vec())),
            truth: Arc::new(ScalarImage::fresh(w, h, truth.to_vec())),
            pred: pred.clone().map(|p| Arc::new(ScalarImage::fresh(w, h, p))),
            error: error.map(|e| Arc::new(ScalarImage::fresh(w, h, e))),
        });
        self.scene = Arc::new(clouds(v, self.index, pred.as_deref()));
    }

    /// One line about pixel (x, y) of the shown example.
    fn describe(&self, x: u32, y: u32) -> Option<String> {
        let v = &self.data.as_ref()?.val;
        let p = y as usize * v.width + x as usize;
        let t = *v.depth(self.index)?.get(p)?;
        let truth = if t > 0.0 { format!("{} m", fmt_value(t)) } else { "none (sky or beyond range)".into() };
        Some(match self.prediction().and_then(|q| q.depth.get(p).copied()) {
            Some(d) if t > 0.0 => format!("pixel ({x}, {y}): true {truth}, predicted {} m, |ln ratio| {}", fmt_value(d), fmt_value((d.max(1e-3).ln() - t.ln()).abs())),
            Some(d) => format!("pixel ({x}, {y}): true {truth}, predicted {} m", fmt_value(d)),
            None => format!("pixel ({x}, {y}): true {truth} (no prediction yet)"),
        })
    }

    fn metrics_table(&self, ui: &mut egui::Ui) {
        let rows: [(&str, fn(&DepthMetrics) -> f64); 4] =
            [("scale-inv. error", DepthMetrics::scale_invariant), ("abs rel", DepthMetrics::abs_rel), ("RMSE (m)", DepthMetrics::rmse), ("delta < 1.25", DepthMetrics::delta1)];
        egui::Grid::new("depthpred_metrics_table").num_columns(3).spacing([12.0, 2.0]).show(ui, |ui| {
            for h in ["held out", "network", "mean depth"] {
                ui.label(egui::RichText::new(h).small().strong());
            }
            ui.end_row();
            for (name, f) in rows {
                ui.label(name);
                ui.label(self.report.as_ref().map_or("-".into(), |r| format!("{:.4}", f(&r.val))));
                ui.label(self.baseline.as_ref().map_or("-".into(), |b| format!("{:.4}", f(b))));
                ui.end_row();
            }
        });
    }
}

/// The true depth's points (left) and the predicted depth's (right, where
/// the truth is valid), back-projected through the camera's intrinsics and
/// coloured by the input image, in the viewer's y-up frame.
fn clouds(v: &DepthSet, i: usize, pred: Option<&[f32]>) -> Scene3d {
    let (Some(cam), Some(img), Some(truth)) = (v.cameras.get(i), v.image(i), v.depth(i)) else { return Scene3d::empty() };
    let px = v.pixels();
    let colors: Vec<[f32; 3]> = (0..px).map(|p| [img[p], img[px + p], img[2 * px + p]]).collect();
    let cloud = |d: Vec<f32>| vislab_engine::depthpred::render::depth_map(cam, &d).to_point_cloud(&cam.intrinsics, Some(&colors));
    let mut all = PointCloud { colors: Some(vec![]), ..Default::default() };
    let t = cloud(truth.to_vec());
    let width = Aabb::from_points(&t.positions).map_or(1.0, |b| b.size()[0]);
    let mut bounds = Aabb::from_points(&t.positions);
    let mut parts = vec![(t, 0.0)];
    if let Some(p) = pred {
        let masked = p.iter().zip(truth).map(|(&p, &t)| if t > 0.0 { p } else { 0.0 }).collect();
        parts.push((cloud(masked), 1.2 * width));
    }
    for (c, dx) in parts {
        // camera frame (x right, y down, z forward) to y up, looking down -z
        all.positions.extend(c.positions.iter().map(|p| [p[0] + dx, -p[1], -p[2]]));
        all.colors.get_or_insert_with(Vec::new).extend(c.colors.unwrap_or_default());
    }
    // Frame both slots whether or not there is a prediction yet, so the
    // camera fitted on new data already shows where it will appear.
    if let Some(b) = bounds.as_mut() {
        let (lo, hi) = (b.min, b.max);
        *b = Aabb { min: [lo[0], -hi[1], -hi[2]], max: [hi[0] + 1.2 * width, -lo[1], -lo[2]] };
    }
    let mut scene = Scene3d::from_points(&all);
    scene.bounds = bounds.or(scene.bounds);
    scene
}

impl Lab for DepthPredLab {
    fn info(&self) -> LabInfo {
        LabInfo { name: "depthpred", title: "Depth prediction", section: "3D vision" }
    }

    fn controls(&mut self, ui: &mut egui::Ui) {
        let training = self.run.training();
        ui.add_enabled_ui(!training && self.rendering.is_none(), |ui| {
            ui.label(format!("Data: {}", self.data.as_ref().map_or("none", |d| d.name.as_str())));
            egui::ComboBox::from_label("objects").selected_text(self.objects.title()).show_ui(ui, |ui| {
                for o in Objects::ALL {
                    ui.selectable_value(&mut self.objects, o, o.title());
                }
            });
            ui.add(egui::Slider::new(&mut self.scenes, 4..=512).logarithmic(true).text("scenes"));
            ui.add(egui::Slider::new(&mut self.views, 1..=16).text("images per scene"));
            egui::ComboBox::from_label("size").selected_text(format!("{0}x{0}", self.size)).show_ui(ui, |ui| {
                for s in [32, 48, 64] {
                    ui.selectable_value(&mut self.size, s, format!("{s}x{s}"));
                }
            });
            if ui.button("Render scenes").clicked() {
                self.render();
            }
            ui.separator();
            ui.add(egui::Slider::new(&mut self.epochs, 1..=100).logarithmic(true).text("epochs"));
            ui.add(egui::Slider::new(&mut self.batch, 1..=64).logarithmic(true).text("batch size"));
            ui.add(egui::Slider::new(&mut self.lr, 1e-4..=3e-2).logarithmic(true).text("learning rate"));
            ui.add(egui::Slider::new(&mut self.lambda, 0.0..=1.0).text("lambda (1 = scale-invariant)"));
            ui.add(egui::Slider::new(&mut self.base, 2..=32).text("width (first level)"));
            ui.add(egui::Slider::new(&mut self.seed, 0..=100).text("seed"));
        });
        ui.horizontal(|ui| {
            if ui.add_enabled(!training && self.data.is_some() && self.rendering.is_none(), egui::Button::new("Train")).clicked() {
                self.start();
            }
            if self.run.training() {
                if ui.button(if self.run.paused() { "Resume" } else { "Pause" }).clicked() {
                    self.pause();
                }
                if ui.button("Stop").clicked() {
                    self.stop();
                }
            }
        });
        let total = (self.epochs * self.steps_per_epoch).max(1);
        if self.run.training() || self.steps > 0 {
            // the step time only while it runs: a finished run's view stays reproducible
            let ms = self.step_ms.filter(|_| self.run.training()).map_or(String::new(), |m| format!(", {m:.0} ms a step"));
            let text = format!("step {} of {total}{ms}", self.steps);
            ui.add(egui::ProgressBar::new(self.steps as f32 / total as f32).text(text));
        }
        ui.separator();
        let max = SHOWN.min(self.data.as_ref().map_or(1, |d| d.val.len())).max(1) - 1;
        if ui.add(egui::Slider::new(&mut self.index, 0..=max).text("held-out example")).changed() {
            self.tiles = None;
        }
        ui.separator();
        ui.heading("Point clouds");
        self.viewport.controls_ui(ui, &self.scene);
    }

    fn view(&mut self, ui: &mut egui::Ui) {
        self.update();
        if self.busy() {
            ui.ctx().request_repaint();
        }
        if self.tiles.is_none() {
            self.rebuild();
        }
        ui.label(self.summary());
        let Some(tiles) = self.tiles.take() else {
            ui.label(if self.rendering.is_some() { "Rendering the scenes..." } else { "No data." });
            return;
        };
        let cmap = self.viewport.settings.colormap;
        let side = ((ui.available_width() - 36.0) / 4.0).clamp(80.0, 170.0);
        let mut hovered = None;
        ui.horizontal_top(|ui| {
            let entries = [
                // RGB values are already in [0, 1].
                ("input image", Some(&tiles.input), [0.0, 1.0], cmap),
                ("true depth", Some(&tiles.truth), self.range, cmap),
                ("predicted depth", tiles.pred.as_ref(), self.range, cmap),
                ("error |ln ratio|", tiles.error.as_ref(), ERROR_RANGE, ERROR_MAP),
            ];
            for (title, img, range, map) in entries {
                ui.vertical(|ui| {
                    ui.set_width(side);
                    ui.label(egui::RichText::new(title).strong());
                    match img {
                        Some(img) => {
                            let r = ui.allocate_ui(egui::vec2(side, side), |ui| show_image(ui, img, range, map)).inner;
                            hovered = hovered.or(r);
                        }
                        None => {
                            ui.allocate_ui(egui::vec2(side, side), |ui| ui.label("not trained yet"));
                        }
                    }
                });
            }
        });
        ui.horizontal(|ui| {
            legend(ui, cmap, self.range, "depth (m), true and predicted", 2.0 * side);
            ui.add_space(side - 8.0);
            legend(ui, ERROR_MAP, ERROR_RANGE, "|ln predicted - ln true|", side);
        });
        if let Some((x, y)) = hovered {
            self.hover = self.describe(x, y);
        }
        ui.label(self.hover.clone().unwrap_or_else(|| "hover an image for a pixel's true and predicted depth".into()));
        let rest = ui.available_height();
        let top = (rest * 0.5).max(120.0);
        ui.horizontal_top(|ui| {
            ui.vertical(|ui| {
                ui.set_width(260.0);
                self.metrics_table(ui);
                ui.label(egui::RichText::new("3D view: true depth left, predicted right").small());
            });
            ui.allocate_ui(egui::vec2(ui.available_width(), top), |ui| {
                self.viewport.show(ui, &self.scene);
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
                self.metrics.show(ui, h);
            });
        });
        self.tiles = Some(tiles);
    }

    fn pick_info(&self) -> Option<String> {
        self.hover.clone().or_else(|| self.viewport.pick_text())
    }

    fn viewport(&self) -> Option<&Viewport3d> {
        Some(&self.viewport)
    }

    fn viewport_mut(&mut self) -> Option<&mut Viewport3d> {
        Some(&mut self.viewport)
    }

    fn summary(&self) -> String {
        let data = self.data.as_ref().map_or("no data".to_string(), |d| d.name.clone());
        let score = match (&self.report, &self.baseline) {
            (Some(r), Some(b)) => format!(
                "held-out scale-invariant error {:.4}, abs rel {:.4}, RMSE {:.4} m, delta1 {:.4} (mean depth map: {:.4}, {:.4}, {:.4} m, {:.4})",
                r.val.scale_invariant(),
                r.val.abs_rel(),
                r.val.rmse(),
                r.val.delta1(),
                b.scale_invariant(),
                b.abs_rel(),
                b.rmse(),
                b.delta1()
            ),
            _ => "not trained yet".into(),
        };
        format!("{data}: epoch {}/{}, {score}; {}", self.epoch, self.epochs, self.status)
    }

    fn busy(&self) -> bool {
        self.run.busy() || self.rendering.is_some()
    }
}
