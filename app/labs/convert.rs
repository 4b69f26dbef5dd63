//! Convert between representations (mesh, points, voxels, depth) and score
//! two shapes with the 3D metrics. Source and result (or the two compared
//! shapes, coloured by distance to each other) are shown side by side.
//! All conversions and metrics are the engine's; this is only the view.

use std::sync::Arc;
use std::time::Instant;

use vislab_engine::geometry::{Asset, Conversion, Fill};
use vislab_engine::job::Task;
use vislab_engine::metrics::{Comparison, compare};

use super::{Lab, LabInfo};
use crate::render::colormap::Colormap;
use crate::render::image::{ScalarImage, show_image};
use crate::render::scene::{Scene3d, finite_range};
use crate::render::viewport::{ColorMode, Viewport3d};
use crate::widgets::legend::fmt_value;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Convert,
    Compare,
}

/// A shape the compare panel can pick.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pick {
    Source,
    Result,
    Builtin(&'static str),
}

const BUILTINS: [&str; 5] = ["teapot", "shapes", "points", "voxels", "depth"];

// One message per finished job: moved, never stored in bulk.
#[allow(clippy::large_enum_variant)]
enum Done {
    Converted(Result<(Asset, Scene3d), String>, f64),
    Compared(Result<(Comparison, Scene3d, Scene3d), String>, f64),
}

pub struct ConvertLab {
    mode: Mode,
    source: Option<Asset>,
    source_name: String,
    source_scene: Arc<Scene3d>,
    /// Depth maps are shown as an image (metres), not in 3D.
    source_image: Option<(Arc<ScalarImage>, [f32; 2])>,
    conversion: Conversion,
    result: Option<Asset>,
    result_scene: Arc<Scene3d>,
    result_text: String,
    pick_a: Pick,
    pick_b: Pick,
    comparison: Option<Comparison>,
    compare_text: String,
    a_scene: Arc<Scene3d>,
    b_scene: Arc<Scene3d>,
    error: Option<String>,
    job: Option<Task<Done>>,
    left: Viewport3d,
    right: Viewport3d,
    link_cameras: bool,
}

impl Default for ConvertLab {
    fn default() -> Self {
        Self::new()
    }
}

impl ConvertLab {
    pub fn new() -> Self {
        let mut lab = ConvertLab {
            mode: Mode::Convert,
            source: None,
            source_name: String::new(),
            source_scene: Arc::new(Scene3d::empty()),
            source_image: None,
            conversion: Conversion::MeshToVoxels { res: 32, fill: Fill::Solid },
            result: None,
            result_scene: Arc::new(Scene3d::empty()),
            result_text: String::new(),
            pick_a: Pick::Result,
            pick_b: Pick::Source,
            comparison: None,
            compare_text: String::new(),
            a_scene: Arc::new(Scene3d::empty()),
            b_scene: Arc::new(Scene3d::empty()),
            error: None,
            job: None,
            left: Viewport3d::default(),
            right: Viewport3d::default(),
            link_cameras: true,
        };
        if let Some(a) = super::builtin("teapot") {
            lab.open(a, &super::builtin_source("teapot"));
        }
        lab
    }

    /// Start converting the source on a worker thread.
    fn run_conversion(&mut self) {
        let Some(source) = self.source.clone() else { return };
        let conversion = self.conversion;
        self.job = Some(Task::spawn("vislab-convert", move |_| {
            let t0 = Instant::now();
            let out = conversion.apply(&source).map_err(|e| e.to_string()).map(|a| {
                let scene = scene_of(&a);
                (a, scene)
            });
            Done::Converted(out, t0.elapsed().as_secs_f64())
        }));
        self.error = None;
    }

    fn shape(&self, pick: Pick) -> Option<Asset> {
        match pick {
            Pick::Source => self.source.clone(),
            Pick::Result => self.result.clone(),
            Pick::Builtin(name) => super::builtin(name),
        }
    }

    /// Start comparing the two picked shapes on a worker thread.
    fn run_comparison(&mut self) {
        let (Some(a), Some(b)) = (self.shape(self.pick_a), self.shape(self.pick_b)) else {
            self.error = Some("pick two shapes that exist (convert something first to compare the result)".into());
            return;
        };
        self.job = Some(Task::spawn("vislab-compare", move |_| {
            let t0 = Instant::now();
            let out = compare(&a, &b, 0).map_err(|e| e.to_string()).map(|c| {
                let (sa, sb) = (Scene3d::from_points(&c.a_points), Scene3d::from_points(&c.b_points));
                (c, sa, sb)
            });
            Done::Compared(out, t0.elapsed().as_secs_f64())
        }));
        self.error = None;
    }

    fn poll(&mut self) {
        let Some(r) = self.job.as_ref().and_then(|t| t.poll()) else { return };
        self.job = None;
        let done = match r {
            Ok(d) => d,
            Err(e) => {
                self.error = Some(e);
                return;
            }
        };
        match done {
            Done::Converted(Ok((asset, scene)), secs) => {
                self.result_text = format!("{}: {} in {:.2} s", self.conversion.label(), describe(&asset), secs);
                self.result_scene = Arc::new(scene);
                self.right.new_data();
                self.result = Some(asset);
            }
            Done::Compared(Ok((c, sa, sb)), secs) => {
                self.compare_text = metrics_line(&c) + &format!(" ({secs:.2} s)");
                self.a_scene = Arc::new(sa);
                self.b_scene = Arc::new(sb);
                self.left.new_data();
                self.right.new_data();
                self.comparison = Some(c);
            }
            Done::Converted(Err(e), _) | Done::Compared(Err(e), _) => self.error = Some(e),
        }
    }

    fn set_mode(&mut self, mode: Mode) {
        self.mode = mode;
        let colors = if mode == Mode::Compare { ColorMode::Scalar } else { ColorMode::Rgb };
        for v in [&mut self.left, &mut self.right] {
            v.settings.color_mode = colors;
            v.new_data();
        }
        if mode == Mode::Compare && self.comparison.is_none() && self.job.is_none() {
            self.run_comparison();
        }
    }

    fn convert_controls(&mut self, ui: &mut egui::Ui) {
        if let Some((a, source)) = super::builtin_picker(ui, &BUILTINS) {
            self.open(a, &source);
        }
        ui.label("Or open a mesh, point cloud, voxel or depth file.");
        ui.separator();
        let Some(source) = &self.source else { return };
        let options = Conversion::available(source);
        let mut changed = false;
        egui::ComboBox::from_label("conversion").selected_text(self.conversion.label()).show_ui(ui, |ui| {
            for c in options {
                let same = c.label() == self.conversion.label();
                if ui.selectable_label(same, c.label()).clicked() && !same {
                    self.conversion = c;
                    changed = true;
                }
            }
        });
        changed |= match &mut self.conversion {
            Conversion::SamplePoints { count, .. } => ui.add(egui::Slider::new(count, 100..=200_000).logarithmic(true).text("points")).drag_stopped(),
            Conversion::MeshToVoxels { res, .. } | Conversion::PointsToVoxels { res } => ui.add(egui::Slider::new(res, 4..=128).text("resolution")).drag_stopped(),
            Conversion::MarchingCubes { level } => ui.add(egui::Slider::new(level, 0.01..=0.99).text("level")).drag_stopped(),
            _ => false,
        };
        ui.horizontal(|ui| {
            if ui.button("Convert").clicked() {
                changed = true;
            }
            if ui.add_enabled(self.result.is_some(), egui::Button::new("Use result as source")).clicked()
                && let Some(r) = self.result.take()
            {
                let name = format!("result of {}", self.conversion.label());
                self.open(r, &name);
            }
        });
        if changed && self.job.is_none() {
            self.run_conversion();
        }
        if !self.result_text.is_empty() {
            ui.label(&self.result_text);
        }
    }

    fn compare_controls(&mut self, ui: &mut egui::Ui) {
        let mut choices = vec![(Pick::Source, "Source".to_string()), (Pick::Result, "Result".to_string())];
        choices.extend(BUILTINS.iter().filter(|n| **n != "depth").map(|&n| (Pick::Builtin(n), super::builtin_source(n))));
        let name_of = |p: Pick| choices.iter().find(|c| c.0 == p).map_or(String::new(), |c| c.1.clone());
        for (label, pick) in [("A (prediction)", &mut self.pick_a), ("B (ground truth)", &mut self.pick_b)] {
            egui::ComboBox::from_label(label).selected_text(name_of(*pick)).show_ui(ui, |ui| {
                for (p, name) in &choices {
                    ui.selectable_value(pick, *p, name);
                }
            });
        }
        if ui.button("Compare").clicked() && self.job.is_none() {
            self.run_comparison();
        }
        let Some(c) = &self.comparison else { return };
        ui.separator();
        egui::Grid::new("metrics").striped(true).show(ui, |ui| {
            let row = |ui: &mut egui::Ui, name: &str, value: String| {
                ui.label(name);
                ui.monospace(value);
                ui.end_row();
            };
            row(ui, "Chamfer A->B", fmt_value(c.chamfer.a_to_b as f32));
            row(ui, "Chamfer B->A", fmt_value(c.chamfer.b_to_a as f32));
            row(ui, "Chamfer (sum)", fmt_value(c.chamfer.total as f32));
            row(ui, "Normal consistency", c.normal_consistency.map_or("no normals".into(), |n| format!("{n:.4}")));
            row(ui, "Voxel IoU", c.voxel_iou.as_ref().map_or_else(|e| e.to_string(), |v| format!("{:.4} ({} / {})", v.iou, v.intersection, v.union)));
        });
        egui::Grid::new("fscores").striped(true).show(ui, |ui| {
            for h in ["t", "precision", "recall", "F1"] {
                ui.strong(h);
            }
            ui.end_row();
            for f in &c.fscores {
                ui.monospace(format!("{:.1}", f.threshold));
                ui.monospace(format!("{:.3}", f.precision));
                ui.monospace(format!("{:.3}", f.recall));
                ui.monospace(format!("{:.3}", f.f1));
                ui.end_row();
            }
        });
        ui.small("Chamfer: mean squared nearest distance per direction, summed (PyTorch3D). F-score: B scaled to a longest edge of 10, 10k samples per mesh (Mesh R-CNN). Points are coloured by distance to the other shape.");
    }

    /// Keep both views on one camera: whichever moved drives the other.
    fn sync_cameras(&mut self, left_was: crate::render::camera::OrbitCamera, right_was: crate::render::camera::OrbitCamera) {
        if !self.link_cameras {
            return;
        }
        if self.left.settings.camera != left_was {
            self.right.settings.camera = self.left.settings.camera;
        } else if self.right.settings.camera != right_was {
            self.left.settings.camera = self.right.settings.camera;
        }
    }
}

/// The 3D scene for any asset (depth maps as their back-projection).
fn scene_of(asset: &Asset) -> Scene3d {
    match asset {
        Asset::Mesh(m) => Scene3d::from_mesh(m),
        Asset::Points(p) => Scene3d::from_points(p),
        Asset::Voxels(v) => Scene3d::from_voxels(v, 0.5, Colormap::Viridis),
        Asset::Depth(d) => Scene3d::from_points(&d.to_point_cloud(&d.intrinsics, None)),
    }
}

/// "mesh: 1,234 vertices, 2,000 triangles" and the like.
fn describe(asset: &Asset) -> String {
    match asset {
        Asset::Mesh(m) => format!("mesh: {} vertices, {} triangles", m.positions.len(), m.triangles.len()),
        Asset::Points(p) => format!("point cloud: {} points", p.positions.len()),
        Asset::Voxels(v) => {
            let filled = v.values.iter().filter(|&&x| x >= 0.5).count();
            format!("voxel grid: {}x{}x{}, {filled} occupied", v.dims[0], v.dims[1], v.dims[2])
        }
        Asset::Depth(d) => format!("depth map: {}x{}", d.width, d.height),
    }
}

/// One line with every metric, for the status bar (tests read it).
fn metrics_line(c: &Comparison) -> String {
    let f1 = c.fscores.first().map_or(String::new(), |f| format!(", F1@{} {:.4}", f.threshold, f.f1));
    let iou = c.voxel_iou.as_ref().map_or(String::new(), |v| format!(", IoU {:.4}", v.iou));
    let nc = c.normal_consistency.map_or(String::new(), |n| format!(", normal consistency {n:.4}"));
    format!("chamfer {:.6}{f1}{nc}{iou}", c.chamfer.total)
}

impl Lab for ConvertLab {
    fn info(&self) -> LabInfo {
        LabInfo { name: "convert", title: "Convert & compare", section: "3D vision" }
    }
    fn accepts(&self, _asset: &Asset) -> bool {
        true
    }
    fn open(&mut self, asset: Asset, source: &str) {
        self.source_image = match &asset {
            Asset::Depth(d) => {
                let metres: Vec<f32> = (0..d.height).flat_map(|y| (0..d.width).map(move |x| (x, y))).map(|(x, y)| d.metres(x, y).unwrap_or(0.0)).collect();
                let range = finite_range(metres.iter().copied().filter(|&v| v > 0.0)).unwrap_or([0.0, 1.0]);
                Some((Arc::new(ScalarImage::fresh(d.width as u32, d.height as u32, metres)), range))
            }
            _ => None,
        };
        self.source_scene = Arc::new(scene_of(&asset));
        let options = Conversion::available(&asset);
        if !options.iter().any(|c| c.label() == self.conversion.label()) {
            self.conversion = options.first().copied().unwrap_or(Conversion::BackProject);
        }
        self.source_name = format!("{source} ({})", describe(&asset));
        self.source = Some(asset);
        self.result = None;
        self.result_scene = Arc::new(Scene3d::empty());
        self.result_text.clear();
        self.comparison = None;
        self.left.new_data();
        self.right.new_data();
        if self.job.is_none() {
            self.run_conversion();
        }
    }
    fn controls(&mut self, ui: &mut egui::Ui) {
        self.poll();
        ui.horizontal(|ui| {
            for (m, name) in [(Mode::Convert, "Convert"), (Mode::Compare, "Metrics")] {
                if ui.selectable_label(self.mode == m, name).clicked() && self.mode != m {
                    self.set_mode(m);
                }
            }
        });
        ui.separator();
        match self.mode {
            Mode::Convert => self.convert_controls(ui),
            Mode::Compare => self.compare_controls(ui),
        }
        if self.job.is_some() {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("working...");
            });
        }
        if let Some(e) = &self.error {
            ui.colored_label(egui::Color32::from_rgb(240, 110, 100), e);
        }
        ui.separator();
        ui.checkbox(&mut self.link_cameras, "Link the two cameras");
        let scene = if self.mode == Mode::Convert { self.source_scene.clone() } else { self.a_scene.clone() };
        self.left.controls_ui(ui, &scene);
        self.right.settings.color_mode = self.left.settings.color_mode;
        self.right.settings.colormap = self.left.settings.colormap;
    }
    fn view(&mut self, ui: &mut egui::Ui) {
        self.poll();
        if self.job.is_some() {
            ui.ctx().request_repaint();
        }
        let (left_was, right_was) = (self.left.settings.camera, self.right.settings.camera);
        let (left_title, right_title) = match self.mode {
            Mode::Convert => (format!("Source: {}", self.source_name), format!("Result: {}", if self.result_text.is_empty() { "-" } else { &self.result_text })),
            Mode::Compare => ("A, coloured by distance to B".to_string(), "B, coloured by distance to A".to_string()),
        };
        let (left_scene, right_scene) = match self.mode {
            Mode::Convert => (self.source_scene.clone(), self.result_scene.clone()),
            Mode::Compare => (self.a_scene.clone(), self.b_scene.clone()),
        };
        let depth_image = if self.mode == Mode::Convert { self.source_image.clone() } else { None };
        ui.columns(2, |cols| {
            cols[0].label(left_title);
            match &depth_image {
                Some((img, range)) => {
                    show_image(&mut cols[0], img, *range, Colormap::Turbo);
                }
                None => {
                    self.left.show(&mut cols[0], &left_scene);
                }
            }
            cols[1].label(right_title);
            self.right.show(&mut cols[1], &right_scene);
        });
        self.sync_cameras(left_was, right_was);
    }
    fn viewport(&self) -> Option<&Viewport3d> {
        Some(&self.right)
    }
    fn viewport_mut(&mut self) -> Option<&mut Viewport3d> {
        Some(&mut self.right)
    }
    fn summary(&self) -> String {
        match self.mode {
            Mode::Convert => format!("{} -> {}", self.source_name, if self.result_text.is_empty() { "(no result)" } else { &self.result_text }),
            Mode::Compare => format!("metrics: {}", if self.compare_text.is_empty() { "(none yet)" } else { &self.compare_text }),
        }
    }
    fn busy(&self) -> bool {
        self.job.is_some()
    }
}
