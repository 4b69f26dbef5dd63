//! Point cloud viewer: per-point RGB or a colormap by height, depth or a
//! scalar field, adjustable point size, picking and measuring.

use std::sync::Arc;

use vislab_engine::geometry::{Asset, PointCloud};

use super::{Lab, LabInfo};
use crate::render::scene::Scene3d;
use crate::render::viewport::{ColorMode, Viewport3d};
use crate::widgets::legend::fmt_value;

pub struct PointsLab {
    cloud: Option<PointCloud>,
    source: String,
    scene: Arc<Scene3d>,
    viewport: Viewport3d,
}

impl Default for PointsLab {
    fn default() -> Self {
        Self::new()
    }
}

impl PointsLab {
    pub fn new() -> Self {
        let mut lab = PointsLab { cloud: None, source: String::new(), scene: Arc::new(Scene3d::empty()), viewport: Viewport3d::default() };
        if let Some(a) = super::builtin("points") {
            lab.open(a, &super::builtin_source("points"));
        }
        lab
    }
}

impl Lab for PointsLab {
    fn info(&self) -> LabInfo {
        LabInfo { name: "points", title: "Point clouds", section: "3D vision" }
    }
    fn accepts(&self, asset: &Asset) -> bool {
        matches!(asset, Asset::Points(_))
    }
    fn open(&mut self, asset: Asset, source: &str) {
        if let Asset::Points(pc) = asset {
            self.scene = Arc::new(Scene3d::from_points(&pc));
            self.viewport.new_data();
            // colorless clouds read better colored by height
            let mode = &mut self.viewport.settings.color_mode;
            if pc.colors.is_none() && *mode == ColorMode::Rgb {
                *mode = ColorMode::Height;
            }
            if pc.scalar.is_some() {
                *mode = ColorMode::Scalar;
            }
            self.cloud = Some(pc);
            self.source = source.to_owned();
        }
    }
    fn controls(&mut self, ui: &mut egui::Ui) {
        if let Some((a, source)) = super::builtin_picker(ui, &["points"]) {
            self.open(a, &source);
        }
        ui.separator();
        if let Some(pc) = &self.cloud {
            ui.label(format!("{} points", pc.positions.len()));
            let attrs: Vec<&str> = [(pc.colors.is_some(), "rgb"), (pc.normals.is_some(), "normals")].into_iter().filter_map(|(on, n)| on.then_some(n)).collect();
            if !attrs.is_empty() {
                ui.label(format!("attributes: {}", attrs.join(", ")));
            }
            if let Some((name, _)) = &pc.scalar {
                ui.label(format!("scalar field: {name}"));
            }
            bounds_label(ui, &self.scene);
        }
        ui.separator();
        self.viewport.controls_ui(ui, &self.scene);
    }
    fn view(&mut self, ui: &mut egui::Ui) {
        self.viewport.show(ui, &self.scene);
    }
    fn viewport(&self) -> Option<&Viewport3d> {
        Some(&self.viewport)
    }
    fn viewport_mut(&mut self) -> Option<&mut Viewport3d> {
        Some(&mut self.viewport)
    }
    fn summary(&self) -> String {
        format!("{} · {} points", self.source, self.scene.points.len())
    }
}

/// "bounds: min .. max" under the lab's facts.
pub fn bounds_label(ui: &mut egui::Ui, scene: &Scene3d) {
    if let Some(b) = scene.bounds {
        let f = |p: [f32; 3]| format!("({}, {}, {})", fmt_value(p[0]), fmt_value(p[1]), fmt_value(p[2]));
        ui.label(format!("bounds {} .. {}", f(b.min), f(b.max)));
        let s = b.size();
        ui.label(format!("size {} x {} x {}", fmt_value(s[0]), fmt_value(s[1]), fmt_value(s[2])));
    }
}
