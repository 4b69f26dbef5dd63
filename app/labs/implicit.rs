//! Implicit surfaces: fit an occupancy network (an MLP from a 3D point to
//! P(inside)) to a mesh on a worker thread, watch its level set at 1/2
//! (marching cubes, also on the worker) next to the target, a slice of the
//! predicted occupancy with the true outline, and the IoU against the true
//! occupancy on a fixed grid.

use std::sync::Arc;

use vislab_engine::geometry::{Aabb, Asset, Mesh, scenes, shapes};
use vislab_engine::implicit::data::{self, BOX_HALF};
use vislab_engine::implicit::train::{self, MAX_RESOLUTION};
use vislab_engine::implicit::{FitConfig, FitEvent, FitWorker, NetShape, OccupancyNet, SampleConfig};
use vislab_engine::job::Task;

use super::{Lab, LabInfo};
use crate::render::colormap::Colormap;
use crate::render::image::{ScalarImage, show_image};
use crate::render::scene::{LineVertex, Scene3d};
use crate::render::viewport::Viewport3d;
use crate::widgets::curves::Curves;
use crate::widgets::gallery::UNIT_RANGE;
use crate::widgets::legend::legend;

/// Built-in targets: (name, title).
pub const TARGETS: [(&str, &str); 4] = [("torus", "Torus"), ("sphere", "Sphere"), ("cube", "Cube"), ("teapot", "Utah teapot")];

/// Samples per side of the slice image.
const SLICE_RES: usize = 96;
/// Where the target is drawn, beside the fitted surface (unit-box lengths).
const BESIDE: [f32; 3] = [1.3, 0.0, 0.0];
const SURFACE_RGB: [f32; 3] = [0.95, 0.55, 0.2];
const TARGET_RGB: [f32; 3] = [0.6, 0.62, 0.68];

/// A network of `shape` initialized from `seed`, then given `weights` if any.
fn build_net(shape: NetShape, seed: u64, weights: Option<Vec<Vec<f32>>>) -> Result<OccupancyNet, String> {
    let mut n = OccupancyNet::new(shape, seed).map_err(|e| e.to_string())?;
    if let Some(w) = weights {
        n.set_weights(&w).map_err(|e| e.to_string())?;
    }
    Ok(n)
}

/// The slice plane's square in the 3D view, around the fit and the target.
fn slice_frame(axis: usize, pos: f32, beside: bool) -> Vec<LineVertex> {
    let (u, v) = data::plane_axes(axis);
    let h = BOX_HALF;
    let corner = |a: f32, b: f32, offset: [f32; 3]| {
        let mut p = [pos; 3];
        p[u] = a;
        p[v] = b;
        LineVertex { pos: std::array::from_fn(|k| p[k] + offset[k]), color: [250, 210, 60, 255] }
    };
    let mut out = Vec::new();
    for offset in if beside { vec![[0.0; 3], BESIDE] } else { vec![[0.0; 3]] } {
        let c = [corner(-h, -h, offset), corner(h, -h, offset), corner(h, h, offset), corner(-h, h, offset)];
        for k in 0..4 {
            out.extend([c[k], c[(k + 1) % 4]]);
        }
    }
    out
}

/// A built-in target mesh by name.
pub fn builtin_target(name: &str) -> Option<Mesh> {
    match name {
        "torus" => Some(shapes::torus(0.8, 0.3, 48, 24)),
        "sphere" => Some(shapes::icosphere(3)),
        "cube" => Some(shapes::cube(1.0)),
        "teapot" => scenes::teapot().ok(),
        _ => None,
    }
}

struct Target {
    name: String,
    /// As opened (the worker normalizes it itself).
    mesh: Mesh,
    /// In the unit box: what is drawn and sliced.
    unit: Mesh,
}

/// The last evaluation, as shown.
struct Shown {
    step: usize,
    iou: f64,
    resolution: usize,
    triangles: usize,
}

pub struct ImplicitLab {
    target: Option<Target>,
    frequencies: usize,
    hidden: usize,
    depth: usize,
    lr: f32,
    steps: usize,
    batch: usize,
    seed: u64,
    resolution: usize,
    eval_every: usize,
    worker: Option<FitWorker>,
    paused: bool,
    /// The network the slice is drawn from: its shape and seed, and the
    /// weights of the last evaluation (None: as initialized from the seed).
    net: (NetShape, u64),
    weights: Option<Vec<Vec<f32>>>,
    surface: Option<Mesh>,
    shown: Option<Shown>,
    /// Marching cubes of the finished network at a new resolution.
    remesh: Option<Task<Result<(Mesh, usize), String>>>,
    show_target: bool,
    scene: Arc<Scene3d>,
    viewport: Viewport3d,
    slice_axis: usize,
    slice_pos: f32,
    slice: Option<Arc<ScalarImage>>,
    /// The slice is evaluated off the UI thread (a big network takes a while).
    slice_task: Option<Task<Result<Vec<f32>, String>>>,
    slice_dirty: bool,
    outline: Vec<[[f32; 2]; 2]>,
    loss: Curves,
    iou: Curves,
    last_loss: Option<f64>,
    step: usize,
    step_seconds: f64,
    prepared: Option<String>,
    status: String,
}

impl Default for ImplicitLab {
    fn default() -> Self {
        Self::new()
    }
}

impl ImplicitLab {
    pub fn new() -> Self {
        let mut lab = ImplicitLab {
            target: None,
            frequencies: 4,
            hidden: 64,
            depth: 3,
            lr: 3e-3,
            steps: 300,
            batch: 1024,
            seed: 0,
            resolution: 48,
            eval_every: 50,
            worker: None,
            paused: false,
            net: (NetShape::default(), 0),
            weights: None,
            surface: None,
            shown: None,
            remesh: None,
            show_target: true,
            scene: Arc::new(Scene3d::empty()),
            viewport: Viewport3d::default(),
            slice_axis: 2,
            slice_pos: 0.0,
            slice: None,
            slice_task: None,
            slice_dirty: false,
            outline: Vec::new(),
            loss: Curves::new("implicit_loss", "step", "BCE").smoothed(0.8),
            iou: Curves::new("implicit_iou", "step", "IoU").unit().legend_at(egui_plot::Corner::RightBottom),
            last_loss: None,
            step: 0,
            step_seconds: 0.0,
            prepared: None,
            status: String::new(),
        };
        if let Some(m) = builtin_target("torus") {
            lab.set_target("built-in: Torus".into(), m);
        }
        lab
    }

    /// The configuration the next run uses.
    pub fn fit_config(&self) -> FitConfig {
        FitConfig {
            net: self.net_shape(),
            steps: self.steps,
            batch: self.batch,
            lr: self.lr,
            seed: self.seed,
            samples: SampleConfig { seed: self.seed, ..SampleConfig::default() },
            iou_res: 32,
        }
    }

    fn net_shape(&self) -> NetShape {
        NetShape { frequencies: self.frequencies, hidden: self.hidden, depth: self.depth }
    }

    /// The target as opened.
    pub fn target_mesh(&self) -> Option<&Mesh> {
        self.target.as_ref().map(|t| &t.mesh)
    }

    /// The IoU of the last evaluation and the step it was taken at.
    pub fn iou_value(&self) -> Option<(usize, f64)> {
        self.shown.as_ref().map(|s| (s.step, s.iou))
    }

    /// The extracted surface, if any.
    pub fn surface(&self) -> Option<&Mesh> {
        self.surface.as_ref()
    }

    /// Switch target; on a mesh with no extent keep the current one.
    fn set_target(&mut self, name: String, mesh: Mesh) {
        match data::normalize(&mesh) {
            Ok(unit) => {
                self.abandon();
                self.target = Some(Target { name, mesh, unit });
                self.status.clear();
                self.reset_results();
                self.viewport.new_data();
            }
            Err(e) => self.status = format!("cannot use {name}: {e}"),
        }
    }

    /// Forget the fit; the slice shows a fresh untrained network.
    fn reset_results(&mut self) {
        self.surface = None;
        self.shown = None;
        self.remesh = None;
        self.loss.clear();
        self.iou.clear();
        self.last_loss = None;
        self.step = 0;
        self.prepared = None;
        self.net = (self.net_shape(), self.seed);
        self.weights = None;
        self.rebuild_scene();
        self.refresh_slice();
    }

    fn start(&mut self) {
        self.abandon();
        let Some(t) = &self.target else { return };
        let cfg = self.fit_config();
        let every = self.eval_every.clamp(1, self.steps.max(1));
        match FitWorker::spawn(t.mesh.clone(), cfg, every, self.resolution) {
            Ok(w) => {
                self.reset_results();
                self.worker = Some(w);
                self.paused = false;
                self.status = "labelling points".into();
            }
            Err(e) => self.status = format!("cannot train: {e}"),
        }
    }

    /// Ask the worker to stop; its Done event ends the run.
    pub fn stop(&mut self) {
        if let Some(w) = &self.worker {
            w.stop();
        }
    }

    /// Drop a running fit at once (new target or new run): waits for its
    /// current step only.
    fn abandon(&mut self) {
        if let Some(w) = self.worker.take() {
            w.stop();
            drop(w);
        }
    }

    /// Apply every event the worker has sent (called each frame).
    pub fn poll(&mut self) {
        self.poll_slice();
        let Some(w) = self.worker.take() else {
            self.poll_remesh();
            return;
        };
        let mut finished = false;
        let mut last_eval = None;
        // Checked before draining: a thread that had ended had sent everything.
        let ended = w.is_finished();
        while let Ok(e) = w.events().try_recv() {
            match e {
                FitEvent::Ready { points, inside_fraction, test, seconds } => {
                    self.prepared = Some(format!("{points} points, {:.0}% inside ({test}, {seconds:.1} s)", 100.0 * inside_fraction));
                    self.status = "training".into();
                }
                FitEvent::Step { step, loss, seconds } => {
                    self.loss.push("train BCE", step as f64, loss);
                    self.last_loss = Some(loss);
                    self.step = step;
                    // Running mean of the step time.
                    self.step_seconds += (seconds - self.step_seconds) / step.max(1) as f64;
                }
                FitEvent::Eval(ev) => {
                    self.iou.push("IoU (32^3 grid)", ev.step as f64, ev.iou.iou);
                    last_eval = Some(ev);
                }
                FitEvent::Done { stopped, error } => {
                    self.status = match (error, stopped) {
                        (Some(e), _) => format!("failed: {e}"),
                        (None, true) => "stopped".into(),
                        (None, false) => "finished".into(),
                    };
                    finished = true;
                }
            }
        }
        // Only the newest surface is worth building a scene for.
        if let Some(ev) = last_eval {
            self.weights = Some(ev.weights);
            self.shown = Some(Shown { step: ev.step, iou: ev.iou.iou, resolution: ev.resolution, triangles: ev.mesh.triangles.len() });
            self.surface = Some(ev.mesh);
            self.rebuild_scene();
            self.refresh_slice();
        }
        if finished || ended {
            if !finished {
                self.status = "the training thread ended without a result".into();
            }
            // Dropping joins the thread, which has sent everything it will.
            drop(w);
        } else {
            self.worker = Some(w);
        }
    }

    fn poll_remesh(&mut self) {
        let Some(t) = &self.remesh else { return };
        let Some(r) = t.poll() else { return };
        self.remesh = None;
        match r {
            Ok(Ok((mesh, res))) => {
                if let Some(s) = &mut self.shown {
                    s.resolution = res;
                    s.triangles = mesh.triangles.len();
                }
                self.surface = Some(mesh);
                self.rebuild_scene();
            }
            Ok(Err(e)) => self.status = format!("marching cubes: {e}"),
            Err(e) => self.status = format!("marching cubes stopped: {e}"),
        }
    }

    /// New marching-cubes resolution: the worker uses it from its next
    /// evaluation; a finished network is re-extracted on a task.
    fn resolution_changed(&mut self) {
        if let Some(w) = &self.worker {
            w.set_resolution(self.resolution);
            return;
        }
        let (Some(weights), Some(_)) = (&self.weights, &self.shown) else { return };
        let ((shape, seed), weights, res) = (self.net, Some(weights.clone()), self.resolution);
        self.remesh = Some(Task::spawn("vislab-implicit", move |_| -> Result<(Mesh, usize), String> {
            let mut n = build_net(shape, seed, weights)?;
            train::extract(&mut n, res).map(|m| (m, res)).map_err(|e| e.to_string())
        }));
    }

    /// The fitted surface, and the target beside it when asked.
    fn rebuild_scene(&mut self) {
        let mut all = Mesh::default();
        if let Some(s) = &self.surface {
            let mut m = s.clone();
            m.colors = Some(vec![SURFACE_RGB; m.positions.len()]);
            all.append(&m, [0.0; 3]);
        }
        if let Some(t) = self.target.as_ref().filter(|_| self.show_target || self.surface.is_none()) {
            let mut m = t.unit.clone();
            m.colors = Some(vec![TARGET_RGB; m.positions.len()]);
            all.append(&m, BESIDE);
        }
        let mut scene = Scene3d::from_mesh(&all);
        // Frame both slots whatever is in them, so the camera fits once.
        let beside = self.show_target || self.surface.is_none();
        let hi = if beside { BESIDE.map(|o| o + BOX_HALF) } else { [BOX_HALF; 3] };
        scene.bounds = Some(Aabb { min: [-BOX_HALF; 3], max: hi });
        self.scene = Arc::new(scene);
    }

    /// The true outline now; the predicted occupancy on a task.
    fn refresh_slice(&mut self) {
        let (axis, pos) = (self.slice_axis, self.slice_pos);
        self.outline = self.target.as_ref().map(|t| data::slice_outline(&t.unit, axis, pos)).unwrap_or_default();
        self.slice_dirty = true;
        self.viewport.extra_lines = slice_frame(axis, pos, self.show_target);
        self.poll_slice();
    }

    /// Take a finished slice; start the next one when something changed
    /// (one at a time, so dragging the slider never queues up work).
    fn poll_slice(&mut self) {
        if let Some(t) = &self.slice_task {
            match t.poll() {
                None => return,
                Some(Ok(Ok(p))) => {
                    // Image rows run downwards; the plane's second axis upwards.
                    let mut values = vec![0.0; SLICE_RES * SLICE_RES];
                    for (k, v) in p.iter().enumerate().take(values.len()) {
                        let (i, j) = (k % SLICE_RES, k / SLICE_RES);
                        values[(SLICE_RES - 1 - j) * SLICE_RES + i] = 1.0 + v.clamp(0.0, 1.0);
                    }
                    self.slice = Some(Arc::new(ScalarImage::fresh(SLICE_RES as u32, SLICE_RES as u32, values)));
                }
                Some(Ok(Err(e))) => self.status = format!("slice: {e}"),
                Some(Err(e)) => self.status = format!("slice: {e}"),
            }
            self.slice_task = None;
        }
        if self.slice_dirty {
            self.slice_dirty = false;
            let ((shape, seed), weights, axis, pos) = (self.net, self.weights.clone(), self.slice_axis, self.slice_pos);
            self.slice_task = Some(Task::spawn("vislab-implicit", move |_| {
                let mut n = build_net(shape, seed, weights)?;
                n.predict(&data::slice_points(axis, pos, SLICE_RES)).map_err(|e| e.to_string())
            }));
        }
    }

    fn slice_view(&self, ui: &mut egui::Ui, side: f32) {
        let axes = ["x", "y", "z"];
        let (u, v) = data::plane_axes(self.slice_axis);
        ui.label(egui::RichText::new(format!("P(inside) on {} = {:.2} ({} right, {} up), true outline white", axes[self.slice_axis], self.slice_pos, axes[u], axes[v])).small());
        let Some(img) = &self.slice else { return };
        let r = ui.allocate_ui(egui::vec2(side, side), |ui| {
            show_image(ui, img, UNIT_RANGE, Colormap::Viridis);
        });
        let rect = r.response.rect;
        let to_screen = |p: [f32; 2]| {
            let t = [(p[0] + BOX_HALF) / (2.0 * BOX_HALF), (p[1] + BOX_HALF) / (2.0 * BOX_HALF)];
            egui::pos2(rect.left() + t[0] * rect.width(), rect.bottom() - t[1] * rect.height())
        };
        let painter = ui.painter_at(rect);
        let stroke = egui::Stroke::new(1.5, egui::Color32::WHITE);
        for s in &self.outline {
            painter.line_segment([to_screen(s[0]), to_screen(s[1])], stroke);
        }
        legend(ui, Colormap::Viridis, [0.0, 1.0], "", side);
    }

    /// Pause and Resume, for tests driving the lab directly.
    pub fn toggle_pause(&mut self) {
        if let Some(w) = &self.worker {
            if self.paused {
                w.resume()
            } else {
                w.pause()
            }
            self.paused = !self.paused;
        }
    }

    /// Start training with the current settings.
    pub fn train_now(&mut self) {
        self.start();
    }

    /// Choose a built-in target.
    pub fn choose(&mut self, name: &str) {
        if let Some(m) = builtin_target(name) {
            let title = TARGETS.iter().find(|t| t.0 == name).map_or(name, |t| t.1);
            self.set_target(format!("built-in: {title}"), m);
        }
    }

    pub fn status(&self) -> &str {
        &self.status
    }

    /// Steps and evaluation interval of the next run (tests keep runs short).
    pub fn configure(&mut self, steps: usize, eval_every: usize) {
        self.steps = steps.max(1);
        self.eval_every = eval_every.max(1);
    }

    /// Change the marching-cubes resolution as the slider does.
    pub fn set_resolution(&mut self, resolution: usize) {
        self.resolution = resolution.clamp(8, MAX_RESOLUTION);
        self.resolution_changed();
    }

    /// Grid edge and triangle count of the surface shown.
    pub fn surface_info(&self) -> Option<(usize, usize)> {
        self.shown.as_ref().map(|s| (s.resolution, s.triangles))
    }

    /// Optimizer steps the current or last run has done.
    pub fn steps_done(&self) -> usize {
        self.step
    }
}

impl Lab for ImplicitLab {
    fn info(&self) -> LabInfo {
        LabInfo { name: "implicit", title: "Implicit surfaces", section: "3D vision" }
    }

    fn accepts(&self, asset: &Asset) -> bool {
        matches!(asset, Asset::Mesh(_))
    }

    fn open(&mut self, asset: Asset, source: &str) {
        if let Asset::Mesh(m) = asset {
            self.set_target(source.to_owned(), m);
        }
    }

    fn controls(&mut self, ui: &mut egui::Ui) {
        let training = self.worker.is_some();
        ui.label(format!("Target: {}", self.target.as_ref().map_or("none", |t| t.name.as_str())));
        ui.add_enabled_ui(!training, |ui| {
            ui.horizontal_wrapped(|ui| {
                for (name, title) in TARGETS {
                    if ui.small_button(title).clicked() {
                        self.choose(name);
                    }
                }
            });
            ui.label(egui::RichText::new("or open any closed mesh (File > Open)").small());
            let mut net_changed = false;
            net_changed |= ui.add(egui::Slider::new(&mut self.frequencies, 0..=8).text("Fourier frequencies")).changed();
            net_changed |= ui.add(egui::Slider::new(&mut self.hidden, 8..=256).logarithmic(true).text("hidden units")).changed();
            net_changed |= ui.add(egui::Slider::new(&mut self.depth, 1..=6).text("hidden layers")).changed();
            ui.add(egui::Slider::new(&mut self.lr, 1e-4..=3e-2).logarithmic(true).text("learning rate"));
            ui.add(egui::Slider::new(&mut self.steps, 50..=5000).logarithmic(true).text("steps"));
            ui.add(egui::Slider::new(&mut self.batch, 64..=4096).logarithmic(true).text("batch (points)"));
            net_changed |= ui.add(egui::Slider::new(&mut self.seed, 0..=100).text("seed")).changed();
            ui.add(egui::Slider::new(&mut self.eval_every, 10..=500).logarithmic(true).text("surface every N steps"));
            if net_changed {
                self.reset_results();
            }
        });
        if ui.add(egui::Slider::new(&mut self.resolution, 8..=MAX_RESOLUTION).text("marching cubes res")).changed() {
            self.resolution_changed();
        }
        ui.horizontal(|ui| {
            if ui.add_enabled(!training && self.target.is_some(), egui::Button::new("Train")).clicked() {
                self.start();
            }
            if training {
                if ui.button(if self.paused { "Resume" } else { "Pause" }).clicked() {
                    self.toggle_pause();
                }
                if ui.button("Stop").clicked() {
                    self.stop();
                }
            }
        });
        ui.label(format!("{} parameters", self.net_shape().params()));
        if let Some(p) = &self.prepared {
            ui.label(egui::RichText::new(p).small());
        }
        match &self.shown {
            Some(s) => {
                ui.label(egui::RichText::new(format!("IoU {:.4}", s.iou)).strong().size(16.0));
                ui.label(format!("at step {}, on a 32^3 grid; surface {} triangles at {}^3", s.step, s.triangles, s.resolution));
            }
            None => {
                ui.label("IoU: not measured yet");
            }
        }
        if self.step > 0 {
            ui.label(format!("{:.1} ms per step", 1e3 * self.step_seconds));
        }
        ui.separator();
        ui.label("Slice");
        let mut slice_changed = false;
        ui.horizontal(|ui| {
            for (k, a) in ["x", "y", "z"].into_iter().enumerate() {
                slice_changed |= ui.radio_value(&mut self.slice_axis, k, a).changed();
            }
        });
        slice_changed |= ui.add(egui::Slider::new(&mut self.slice_pos, -BOX_HALF..=BOX_HALF).text("position")).changed();
        if slice_changed {
            self.refresh_slice();
        }
        if ui.checkbox(&mut self.show_target, "target beside the fit").changed() {
            self.rebuild_scene();
            self.viewport.extra_lines = slice_frame(self.slice_axis, self.slice_pos, self.show_target);
        }
        ui.separator();
        self.viewport.controls_ui(ui, &self.scene);
    }

    fn view(&mut self, ui: &mut egui::Ui) {
        self.poll();
        if self.busy() {
            ui.ctx().request_repaint();
        }
        ui.label(self.summary());
        // The 3D view across the top (the fit and the target side by side
        // want width), the slice and the two curves in a row below it.
        let avail = ui.available_size();
        let below = (avail.y * 0.4).clamp(120.0, avail.x / 3.0 + 40.0);
        ui.allocate_ui(egui::vec2(avail.x, avail.y - below - 8.0), |ui| {
            self.viewport.show(ui, &self.scene);
        });
        let col = (avail.x - 16.0) / 3.0;
        ui.horizontal(|ui| {
            ui.vertical(|ui| {
                ui.set_width(col);
                self.slice_view(ui, (below - 60.0).min(col));
            });
            ui.vertical(|ui| {
                ui.set_width(col);
                self.loss.show(ui, below - 8.0);
            });
            ui.vertical(|ui| {
                ui.set_width(col);
                self.iou.show(ui, below - 8.0);
            });
        });
    }

    fn summary(&self) -> String {
        let name = self.target.as_ref().map_or("no target", |t| t.name.as_str());
        let iou = match &self.shown {
            Some(s) => format!("IoU {:.4} at step {}", s.iou, s.step),
            None => "IoU not measured yet".into(),
        };
        let loss = self.last_loss.map_or(String::new(), |l| format!(", loss {l:.4}"));
        let status = if self.status.is_empty() { String::new() } else { format!("; {}", self.status) };
        format!("{name}: step {}/{}{loss}, {iou}{status}", self.step, self.steps)
    }

    fn viewport(&self) -> Option<&Viewport3d> {
        Some(&self.viewport)
    }

    fn viewport_mut(&mut self) -> Option<&mut Viewport3d> {
        Some(&mut self.viewport)
    }

    fn busy(&self) -> bool {
        self.worker.is_some() || self.remesh.is_some() || self.slice_task.is_some() || self.slice_dirty
    }
}
