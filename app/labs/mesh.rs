//! Mesh viewer: flat or smooth shading, wireframe, per-vertex colors, vertex
//! normals as lines, face count and bounds.

use std::sync::Arc;

use vislab_engine::geometry::{Asset, Mesh};

use super::points::bounds_label;
use super::{Lab, LabInfo};
use crate::render::scene::Scene3d;
use crate::render::viewport::Viewport3d;

pub struct MeshLab {
    mesh: Option<Mesh>,
    source: String,
    scene: Arc<Scene3d>,
    viewport: Viewport3d,
}

impl Default for MeshLab {
    fn default() -> Self {
        Self::new()
    }
}

impl MeshLab {
    pub fn new() -> Self {
        let mut lab = MeshLab { mesh: None, source: String::new(), scene: Arc::new(Scene3d::empty()), viewport: Viewport3d::default() };
        lab.viewport.settings.wireframe = true;
        if let Some(a) = super::builtin("teapot") {
            lab.open(a, &super::builtin_source("teapot"));
        }
        lab
    }
}

impl Lab for MeshLab {
    fn info(&self) -> LabInfo {
        LabInfo { name: "mesh", title: "Meshes", section: "3D vision" }
    }
    fn accepts(&self, asset: &Asset) -> bool {
        matches!(asset, Asset::Mesh(_))
    }
    fn open(&mut self, asset: Asset, source: &str) {
        if let Asset::Mesh(m) = asset {
            self.scene = Arc::new(Scene3d::from_mesh(&m));
            self.viewport.new_data();
            self.mesh = Some(m);
            self.source = source.to_owned();
        }
    }
    fn controls(&mut self, ui: &mut egui::Ui) {
        if let Some((a, source)) = super::builtin_picker(ui, &["teapot", "shapes"]) {
            self.open(a, &source);
        }
        ui.separator();
        if let Some(m) = &self.mesh {
            ui.label(format!("{} faces, {} vertices", m.triangles.len(), m.positions.len()));
            let attrs: Vec<&str> = [(m.colors.is_some(), "vertex colors"), (m.normals.is_some(), "normals")].into_iter().filter_map(|(on, n)| on.then_some(n)).collect();
            if !attrs.is_empty() {
                ui.label(format!("attributes: {}", attrs.join(", ")));
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
        format!("{} · {} faces", self.source, self.scene.triangle_count())
    }
}
