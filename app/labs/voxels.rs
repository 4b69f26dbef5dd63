//! Voxel grid viewer: instanced cubes, with an occupancy threshold for
//! scalar grids.

use std::sync::Arc;

use vislab_engine::geometry::{Asset, VoxelGrid};

use super::points::bounds_label;
use super::{Lab, LabInfo};
use crate::render::scene::{Scene3d, finite_range};
use crate::render::viewport::Viewport3d;

pub struct VoxelLab {
    grid: Option<VoxelGrid>,
    source: String,
    threshold: f32,
    scene: Arc<Scene3d>,
    viewport: Viewport3d,
}

impl Default for VoxelLab {
    fn default() -> Self {
        Self::new()
    }
}

impl VoxelLab {
    pub fn new() -> Self {
        let mut lab = VoxelLab { grid: None, source: String::new(), threshold: 0.5, scene: Arc::new(Scene3d::empty()), viewport: Viewport3d::default() };
        if let Some(a) = super::builtin("voxels") {
            lab.open(a, &super::builtin_source("voxels"));
        }
        lab
    }

    fn rebuild(&mut self) {
        if let Some(g) = &self.grid {
            self.scene = Arc::new(Scene3d::from_voxels(g, self.threshold, self.viewport.settings.colormap));
        }
    }
}

impl Lab for VoxelLab {
    fn info(&self) -> LabInfo {
        LabInfo { name: "voxels", title: "Voxel grids", section: "3D vision" }
    }
    fn accepts(&self, asset: &Asset) -> bool {
        matches!(asset, Asset::Voxels(_))
    }
    fn open(&mut self, asset: Asset, source: &str) {
        if let Asset::Voxels(g) = asset {
            // binary grids need no threshold; scalar ones start at their midpoint
            self.threshold = match finite_range(g.values.iter().copied()) {
                Some([lo, hi]) if !g.is_binary() => 0.5 * (lo + hi),
                _ => 0.5,
            };
            self.grid = Some(g);
            self.viewport.new_data();
            self.source = source.to_owned();
            self.rebuild();
        }
    }
    fn controls(&mut self, ui: &mut egui::Ui) {
        if let Some((a, source)) = super::builtin_picker(ui, &["voxels"]) {
            self.open(a, &source);
        }
        ui.separator();
        let mut changed = false;
        if let Some(g) = &self.grid {
            ui.label(format!("grid {} x {} x {}", g.dims[0], g.dims[1], g.dims[2]));
            let occupied = g.values.iter().filter(|&&v| v >= self.threshold).count();
            ui.label(format!("{occupied} occupied, {} drawn", self.scene.voxels.len()));
            if !g.is_binary()
                && let Some([lo, hi]) = finite_range(g.values.iter().copied())
            {
                changed |= ui.add(egui::Slider::new(&mut self.threshold, lo..=hi).text("occupancy threshold")).changed();
            }
            bounds_label(ui, &self.scene);
        }
        ui.separator();
        let before = self.viewport.settings.colormap;
        self.viewport.controls_ui(ui, &self.scene);
        if changed || before != self.viewport.settings.colormap {
            self.rebuild();
        }
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
        format!("{} · {} voxels drawn", self.source, self.scene.voxels.len())
    }
}
