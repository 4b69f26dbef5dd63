//! Graph convolution: a GCN on an icosphere's vertex graph predicts
//! per-vertex offsets that deform the sphere into a target mesh, trained on
//! a worker thread with Chamfer plus edge-length, Laplacian and normal
//! consistency terms. The mesh moves in the 3D view as it trains (the
//! target's sample points over it), the terms plot live, their weights
//! change while it runs, and a per-vertex feature can colour the mesh.

use std::sync::Arc;

use vislab_engine::gcn::train::MAX_LEVEL;
use vislab_engine::gcn::{DeformConfig, DeformEvent, DeformWorker, LossWeights, NetShape, Snapshot, Terms, normalize};
use vislab_engine::geometry::{Aabb, Asset, Mesh, sample_points, scenes, shapes};

use super::{Lab, LabInfo};
use crate::render::colormap::Colormap;
use crate::render::scene::{PointVertex, Scene3d, finite_range};
use crate::render::viewport::{Viewport3d, colormap_combo};
use crate::widgets::curves::Curves;
use crate::widgets::legend::legend;

/// Built-in targets: (name, title).
pub const TARGETS: [(&str, &str); 4] = [("teapot", "Utah teapot"), ("ellipsoid", "Ellipsoid"), ("cube", "Cube"), ("torus", "Torus")];

/// Target points drawn over the mesh.
const SHOWN_TARGET_POINTS: usize = 1200;
const MESH_RGB: [f32; 3] = [0.35, 0.62, 0.95];
const TARGET_POINT: [u8; 4] = [250, 170, 60, 255];

/// A built-in target mesh by name.
pub fn builtin_target(name: &str) -> Option<Mesh> {
    match name {
        "teapot" => scenes::teapot().ok(),
        "ellipsoid" => {
            let mut m = shapes::icosphere(4);
            for p in &mut m.positions {
                *p = [p[0], 0.6 * p[1], 0.4 * p[2]];
            }
            m.normals = None;
            Some(m)
        }
        "cube" => Some(shapes::cube(1.0)),
        "torus" => Some(shapes::torus(0.8, 0.3, 48, 24)),
        _ => None,
    }
}

/// What colours the mesh.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Coloring {
    Plain,
    /// Length of each vertex's offset from the sphere.
    Offset,
    /// One channel of the last hidden GCN layer.
    Hidden,
}

struct Target {
    name: String,
    /// As opened (the worker normalizes it itself).
    mesh: Mesh,
    /// Sample points of the normalized target, drawn over the mesh.
    points: Vec<[f32; 3]>,
}

pub struct GcnLab {
    target: Option<Target>,
    level: usize,
    width: usize,
    depth: usize,
    lr: f32,
    steps: usize,
    seed: u64,
    every: usize,
    weights: LossWeights,
    worker: Option<DeformWorker>,
    paused: bool,
    /// The start mesh of the current or last run and its latest positions.
    start: Mesh,
    shown: Option<Snapshot>,
    coloring: Coloring,
    channel: usize,
    colormap: Colormap,
    color_range: Option<[f32; 2]>,
    show_target: bool,
    scene: Arc<Scene3d>,
    viewport: Viewport3d,
    terms: Curves,
    chamfer: Curves,
    last: Option<Terms>,
    step: usize,
    step_seconds: f64,
    status: String,
}

impl Default for GcnLab {
    fn default() -> Self {
        Self::new()
    }
}

impl GcnLab {
    pub fn new() -> Self {
        let c = DeformConfig::default();
        let mut lab = GcnLab {
            target: None,
            level: c.level,
            width: c.net.width,
            depth: c.net.depth,
            lr: 3e-3,
            steps: 120,
            seed: 0,
            every: 10,
            weights: c.weights,
            worker: None,
            paused: false,
            start: shapes::icosphere(c.level),
            shown: None,
            coloring: Coloring::Offset,
            channel: 0,
            colormap: Colormap::Viridis,
            color_range: None,
            show_target: true,
            scene: Arc::new(Scene3d::empty()),
            viewport: Viewport3d::default(),
            terms: Curves::new("gcn_terms", "step", "log10 term"),
            chamfer: Curves::new("gcn_chamfer", "step", "log10 Chamfer"),
            last: None,
            step: 0,
            step_seconds: 0.0,
            status: String::new(),
        };
        if let Some(m) = builtin_target("teapot") {
            lab.set_target("built-in: Utah teapot".into(), m);
        }
        lab
    }

    /// The configuration the next run uses.
    pub fn deform_config(&self) -> DeformConfig {
        DeformConfig {
            level: self.level,
            net: NetShape { width: self.width, depth: self.depth },
            lr: self.lr,
            steps: self.steps,
            seed: self.seed,
            weights: self.weights,
            ..DeformConfig::default()
        }
    }

    /// Switch target; a mesh with no extent or area keeps the current one.
    fn set_target(&mut self, name: String, mesh: Mesh) {
        let points = normalize(&mesh).map(|u| sample_points(&u, SHOWN_TARGET_POINTS, 1).positions);
        match points {
            Ok(points) if !points.is_empty() => {
                self.abandon();
                self.target = Some(Target { name, mesh, points });
                self.status.clear();
                self.reset_results();
                self.viewport.new_data();
            }
            Ok(_) => self.status = format!("cannot use {name}: it has no surface area"),
            Err(e) => self.status = format!("cannot use {name}: {e}"),
        }
    }

    fn reset_results(&mut self) {
        self.start = shapes::icosphere(self.level.min(MAX_LEVEL));
        self.shown = None;
        self.terms.clear();
        self.chamfer.clear();
        self.last = None;
        self.step = 0;
        self.step_seconds = 0.0;
        self.rebuild_scene();
    }

    fn start(&mut self) {
        self.abandon();
        let Some(t) = &self.target else { return };
        match DeformWorker::spawn(t.mesh.clone(), self.deform_config(), self.every.max(1)) {
            Ok(w) => {
                self.reset_results();
                self.worker = Some(w);
                self.paused = false;
                self.status = "compiling".into();
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

    fn abandon(&mut self) {
        if let Some(w) = self.worker.take() {
            w.stop();
        }
    }

    /// Apply every event the worker has sent (called each frame).
    pub fn poll(&mut self) {
        let Some(w) = self.worker.take() else { return };
        let ended = w.is_finished();
        let mut finished = false;
        let mut snapshot = None;
        while let Ok(e) = w.events().try_recv() {
            match e {
                DeformEvent::Ready { start, seconds, .. } => {
                    self.start = *start;
                    self.status = format!("training (compiled in {seconds:.1} s)");
                }
                DeformEvent::Step { step, terms, seconds } => {
                    for (name, v) in [("chamfer", terms.chamfer()), ("edge", terms.edge), ("laplacian", terms.laplacian), ("normal", terms.normal), ("total", terms.total)] {
                        if v > 0.0 {
                            self.terms.push(name, step as f64, v.log10());
                        }
                    }
                    self.last = Some(terms);
                    self.step = step;
                    self.step_seconds += (seconds - self.step_seconds) / step.max(1) as f64;
                }
                DeformEvent::Snapshot(s) => {
                    if s.chamfer.total > 0.0 {
                        self.chamfer.push("Chamfer (5k samples)", s.step as f64, s.chamfer.total.log10());
                    }
                    snapshot = Some(s);
                }
                DeformEvent::Done { stopped, error } => {
                    self.status = match (error, stopped) {
                        (Some(e), _) => format!("failed: {e}"),
                        (None, true) => "stopped".into(),
                        (None, false) => "finished".into(),
                    };
                    finished = true;
                }
            }
        }
        // Only the newest mesh is worth a new scene.
        if let Some(s) = snapshot {
            self.shown = Some(*s);
            self.rebuild_scene();
        }
        if finished || ended {
            if !finished {
                self.status = "the training thread ended without a result".into();
            }
            drop(w);
        } else {
            self.worker = Some(w);
        }
    }

    /// The per-vertex values the colouring shows, if any.
    fn feature(&self) -> Option<(Vec<f32>, String)> {
        let s = self.shown.as_ref()?;
        match self.coloring {
            Coloring::Plain => None,
            Coloring::Offset => {
                let v = s.positions.iter().zip(&self.start.positions).map(|(p, q)| (0..3).map(|k| (p[k] - q[k]).powi(2)).sum::<f32>().sqrt()).collect();
                Some((v, "offset length".into()))
            }
            Coloring::Hidden => {
                let c = self.channel.min(s.width.saturating_sub(1));
                let v = s.hidden.chunks_exact(s.width.max(1)).map(|row| row.get(c).copied().unwrap_or(0.0)).collect();
                Some((v, format!("hidden channel {c} (last GCN layer)")))
            }
        }
    }

    fn rebuild_scene(&mut self) {
        let positions = self.shown.as_ref().map_or_else(|| self.start.positions.clone(), |s| s.positions.clone());
        let mut mesh = Mesh { positions, triangles: self.start.triangles.clone(), normals: None, colors: None };
        mesh.compute_vertex_normals();
        self.color_range = None;
        mesh.colors = Some(match self.feature() {
            Some((v, _)) if v.len() == mesh.positions.len() => {
                let r = finite_range(v.iter().copied()).unwrap_or([0.0, 1.0]);
                self.color_range = Some(r);
                let span = (r[1] - r[0]).max(1e-12);
                v.iter().map(|&x| self.colormap.sample((x - r[0]) / span).map(|c| c as f32 / 255.0)).collect()
            }
            _ => vec![MESH_RGB; mesh.positions.len()],
        });
        let mut scene = Scene3d::from_mesh(&mesh);
        if let Some(t) = self.target.as_ref().filter(|_| self.show_target) {
            scene.points = t.points.iter().map(|&pos| PointVertex { pos, color: TARGET_POINT, scalar: 0.0 }).collect();
        }
        // Target and sphere both lie in the unit ball; framing a little less
        // than all of it keeps the fitted target large (fitted once per target).
        scene.bounds = Some(Aabb { min: [-0.75; 3], max: [0.75; 3] });
        self.scene = Arc::new(scene);
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

    /// Level, steps and snapshot interval of the next run (tests keep runs short).
    pub fn configure(&mut self, level: usize, steps: usize, every: usize) {
        self.level = level.min(MAX_LEVEL);
        self.steps = steps.max(1);
        self.every = every.max(1);
        if self.worker.is_none() {
            self.reset_results();
        }
    }

    /// New loss weights; a running fit uses them from its next step.
    pub fn set_weights(&mut self, w: LossWeights) {
        self.weights = w;
        if let Some(wk) = &self.worker {
            wk.set_weights(w);
        }
    }

    pub fn set_coloring(&mut self, c: Coloring, channel: usize) {
        self.coloring = c;
        self.channel = channel;
        self.rebuild_scene();
    }

    /// The Chamfer metric shown and the step it was measured at.
    pub fn chamfer_value(&self) -> Option<(usize, f64)> {
        self.shown.as_ref().map(|s| (s.step, s.chamfer.total))
    }

    /// The mesh's vertex positions shown.
    pub fn positions(&self) -> &[[f32; 3]] {
        self.shown.as_ref().map_or(&self.start.positions, |s| &s.positions)
    }

    /// The loss terms of the last step.
    pub fn last_terms(&self) -> Option<Terms> {
        self.last
    }

    pub fn steps_done(&self) -> usize {
        self.step
    }

    /// The colours of the mesh vertices drawn, for tests.
    pub fn vertex_colors(&self) -> Vec<[u8; 4]> {
        self.scene.mesh_vertices.iter().map(|v| v.color).collect()
    }
}

impl Lab for GcnLab {
    fn info(&self) -> LabInfo {
        LabInfo { name: "gcn", title: "GCN mesh deformation", section: "3D vision" }
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
            ui.label(egui::RichText::new("or open any mesh (File > Open)").small());
            if ui.add(egui::Slider::new(&mut self.level, 0..=MAX_LEVEL).text("icosphere level")).changed() {
                self.reset_results();
            }
            ui.add(egui::Slider::new(&mut self.width, 4..=128).logarithmic(true).text("GCN width"));
            ui.add(egui::Slider::new(&mut self.depth, 1..=6).text("GCN hidden layers"));
            ui.add(egui::Slider::new(&mut self.lr, 1e-4..=3e-2).logarithmic(true).text("learning rate"));
            ui.add(egui::Slider::new(&mut self.steps, 10..=2000).logarithmic(true).text("steps"));
            ui.add(egui::Slider::new(&mut self.seed, 0..=100).text("seed"));
        });
        ui.label(egui::RichText::new("Loss weights (live while training)").strong());
        let mut w = self.weights;
        let mut changed = false;
        changed |= ui.add(egui::Slider::new(&mut w.chamfer, 0.0..=10.0).logarithmic(true).smallest_positive(1e-3).text("Chamfer")).changed();
        changed |= ui.add(egui::Slider::new(&mut w.edge, 0.0..=10.0).logarithmic(true).smallest_positive(1e-3).text("edge length")).changed();
        changed |= ui.add(egui::Slider::new(&mut w.laplacian, 0.0..=10.0).logarithmic(true).smallest_positive(1e-3).text("Laplacian")).changed();
        changed |= ui.add(egui::Slider::new(&mut w.normal, 0.0..=10.0).logarithmic(true).smallest_positive(1e-3).text("normal consistency")).changed();
        if changed {
            self.set_weights(w);
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
        let shape = NetShape { width: self.width, depth: self.depth };
        ui.label(format!("{} vertices, {} parameters", self.start.positions.len(), shape.params()));
        match &self.shown {
            Some(s) => {
                ui.label(egui::RichText::new(format!("Chamfer {:.5}", s.chamfer.total)).strong().size(16.0));
                ui.label(egui::RichText::new(format!("at step {}: mesh to target {:.5}, target to mesh {:.5}", s.step, s.chamfer.a_to_b, s.chamfer.b_to_a)).small());
            }
            None => {
                ui.label("Chamfer: not measured yet");
            }
        }
        if self.step > 0 {
            ui.label(format!("{:.1} ms per step", 1e3 * self.step_seconds));
        }
        ui.separator();
        ui.label("Mesh colour");
        let mut recolor = false;
        ui.horizontal(|ui| {
            recolor |= ui.radio_value(&mut self.coloring, Coloring::Plain, "plain").changed();
            recolor |= ui.radio_value(&mut self.coloring, Coloring::Offset, "offset length").changed();
            recolor |= ui.radio_value(&mut self.coloring, Coloring::Hidden, "hidden channel").changed();
        });
        if self.coloring == Coloring::Hidden {
            recolor |= ui.add(egui::Slider::new(&mut self.channel, 0..=self.width.saturating_sub(1)).text("channel")).changed();
        }
        if self.coloring != Coloring::Plain {
            let before = self.colormap;
            // The view's own colormap box below has the same label: its own id.
            ui.push_id("gcn_feature_colormap", |ui| colormap_combo(ui, &mut self.colormap));
            recolor |= before != self.colormap;
        }
        if let (Some(r), Some((_, label))) = (self.color_range, self.feature()) {
            legend(ui, self.colormap, r, &label, 200.0);
        }
        recolor |= ui.checkbox(&mut self.show_target, "target points over the mesh").changed();
        if recolor {
            self.rebuild_scene();
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
        let avail = ui.available_size();
        let below = (avail.y * 0.36).clamp(120.0, 260.0);
        ui.allocate_ui(egui::vec2(avail.x, avail.y - below - 8.0), |ui| {
            self.viewport.show(ui, &self.scene);
        });
        let col = (avail.x - 8.0) / 2.0;
        ui.horizontal(|ui| {
            ui.vertical(|ui| {
                ui.set_width(col);
                self.terms.show(ui, below - 8.0);
            });
            ui.vertical(|ui| {
                ui.set_width(col);
                self.chamfer.show(ui, below - 8.0);
            });
        });
    }

    fn summary(&self) -> String {
        let name = self.target.as_ref().map_or("no target", |t| t.name.as_str());
        let chamfer = match &self.shown {
            Some(s) => format!("Chamfer {:.5} at step {}", s.chamfer.total, s.step),
            None => "Chamfer not measured yet".into(),
        };
        let loss = self.last.map_or(String::new(), |t| format!(", loss {:.5}", t.total));
        let status = if self.status.is_empty() { String::new() } else { format!("; {}", self.status) };
        format!("{name}: step {}/{}{loss}, {chamfer}{status}", self.step, self.steps)
    }

    fn viewport(&self) -> Option<&Viewport3d> {
        Some(&self.viewport)
    }

    fn viewport_mut(&mut self) -> Option<&mut Viewport3d> {
        Some(&mut self.viewport)
    }

    fn busy(&self) -> bool {
        self.worker.is_some()
    }
}
