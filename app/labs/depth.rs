//! Depth maps: the image through a colormap with its range and units, and
//! its back-projection to a point cloud with editable pinhole intrinsics.

use std::sync::Arc;

use vislab_engine::geometry::{Asset, DepthMap, Intrinsics};

use super::{Lab, LabInfo};
use crate::render::image::{ScalarImage, show_image};
use crate::render::scene::{Scene3d, finite_range};
use crate::render::viewport::{ColorMode, Viewport3d};
use crate::widgets::legend::{fmt_value, legend};

pub struct DepthLab {
    depth: Option<DepthMap>,
    intrinsics: Intrinsics,
    source: String,
    /// Depth in metres, for the image view.
    image: Arc<ScalarImage>,
    /// Full range of valid depths, and the range shown.
    data_range: [f32; 2],
    range: [f32; 2],
    scene: Arc<Scene3d>,
    viewport: Viewport3d,
    hover: Option<(u32, u32)>,
}

impl Default for DepthLab {
    fn default() -> Self {
        Self::new()
    }
}

impl DepthLab {
    pub fn new() -> Self {
        let mut viewport = Viewport3d::default();
        viewport.settings.color_mode = ColorMode::Scalar;
        viewport.settings.point_size = 2.0;
        // a little above and to the side of where the depth camera stood
        viewport.settings.camera.yaw = 0.5;
        viewport.settings.camera.pitch = 0.3;
        let mut lab = DepthLab {
            depth: None,
            intrinsics: Intrinsics::default_for(1, 1, 1.0),
            source: String::new(),
            image: Arc::new(ScalarImage { generation: 0, width: 1, height: 1, values: vec![0.0], channels: 1 }),
            data_range: [0.0, 1.0],
            range: [0.0, 1.0],
            scene: Arc::new(Scene3d::empty()),
            viewport,
            hover: None,
        };
        if let Some(a) = super::builtin("depth") {
            lab.open(a, &super::builtin_source("depth"));
        }
        lab
    }

    /// Metres per pixel for the image, and the back-projected cloud.
    fn rebuild(&mut self) {
        let Some(d) = &self.depth else { return };
        let mut d = d.clone();
        d.intrinsics = self.intrinsics;
        let metres: Vec<f32> = (0..d.height).flat_map(|y| (0..d.width).map(move |x| (x, y))).map(|(x, y)| d.metres(x, y).unwrap_or(0.0)).collect();
        self.data_range = finite_range(metres.iter().copied().filter(|&v| v > 0.0)).unwrap_or([0.0, 1.0]);
        if self.range.iter().any(|v| v.is_nan()) {
            self.range = self.data_range;
        }
        self.image = Arc::new(ScalarImage { generation: self.image.generation + 1, width: d.width as u32, height: d.height as u32, values: metres, channels: 1 });
        let mut cloud = d.to_point_cloud(&self.intrinsics, None);
        // color the cloud by depth, exactly as the image
        let z: Vec<f32> = cloud.positions.iter().map(|p| p[2]).collect();
        // camera frame (x right, y down, z forward) to the viewer's y-up frame,
        // so the default view looks at the cloud the way the camera saw it
        for p in &mut cloud.positions {
            *p = [p[0], -p[1], -p[2]];
        }
        cloud.scalar = Some(("depth (m)".into(), z));
        let mut scene = Scene3d::from_points(&cloud);
        scene.scalar_range = Some(self.range);
        self.scene = Arc::new(scene);
    }
}

impl Lab for DepthLab {
    fn info(&self) -> LabInfo {
        LabInfo { name: "depth", title: "Depth maps", section: "3D vision" }
    }
    fn accepts(&self, asset: &Asset) -> bool {
        matches!(asset, Asset::Depth(_))
    }
    fn open(&mut self, asset: Asset, source: &str) {
        if let Asset::Depth(d) = asset {
            self.intrinsics = d.intrinsics;
            self.depth = Some(d);
            self.source = source.to_owned();
            // a new map starts on its own full range (set in rebuild)
            self.range = [f32::NAN; 2];
            self.rebuild();
            self.viewport.new_data();
        }
    }
    fn controls(&mut self, ui: &mut egui::Ui) {
        if let Some((a, source)) = super::builtin_picker(ui, &["depth"]) {
            self.open(a, &source);
        }
        ui.separator();
        let Some(d) = &self.depth else {
            ui.label("No depth map open.");
            return;
        };
        ui.label(format!("{} x {} pixels", d.width, d.height));
        let valid = self.scene.points.len();
        ui.label(format!("{valid} valid ({:.1}%)", 100.0 * valid as f32 / (d.width * d.height).max(1) as f32));
        ui.label(format!("depth {} .. {} m", fmt_value(self.data_range[0]), fmt_value(self.data_range[1])));

        ui.heading("Image");
        let mut changed = false;
        ui.horizontal(|ui| {
            let speed = (self.data_range[1] - self.data_range[0]).max(1e-3) / 200.0;
            let [lo, hi] = &mut self.range;
            for (name, v) in [("min (m)", lo), ("max (m)", hi)] {
                let l = ui.label(name);
                changed |= ui.add(egui::DragValue::new(v).speed(speed)).labelled_by(l.id).changed();
            }
            if ui.small_button("auto").clicked() {
                self.range = self.data_range;
                changed = true;
            }
        });
        legend(ui, self.viewport.settings.colormap, self.range, "depth (m)", 200.0);

        ui.heading("Intrinsics");
        let i = &mut self.intrinsics;
        let mut edited = false;
        egui::Grid::new("intrinsics").num_columns(2).show(ui, |ui| {
            for (label, v, speed) in [("fx", &mut i.fx, 1.0), ("fy", &mut i.fy, 1.0), ("cx", &mut i.cx, 0.5), ("cy", &mut i.cy, 0.5), ("depth scale", &mut i.depth_scale, 1.0)] {
                let l = ui.label(label);
                edited |= ui.add(egui::DragValue::new(v).speed(speed).range(1e-3..=1e7)).labelled_by(l.id).changed();
                ui.end_row();
            }
        });
        ui.label(egui::RichText::new("metres = stored value / depth scale").small());
        if edited || changed {
            self.rebuild();
        }
        ui.separator();
        ui.heading("Back-projection");
        self.viewport.controls_ui(ui, &self.scene);
    }
    fn view(&mut self, ui: &mut egui::Ui) {
        let cmap = self.viewport.settings.colormap;
        let half = ui.available_width() * 0.5;
        ui.horizontal_top(|ui| {
            ui.allocate_ui(egui::vec2(half - 4.0, ui.available_height()), |ui| {
                ui.vertical(|ui| {
                    ui.label(egui::RichText::new("depth image").strong());
                    self.hover = show_image(ui, &self.image, self.range, cmap);
                    if let Some((x, y)) = self.hover {
                        let v = self.image.value(x, y).filter(|v| *v > 0.0);
                        ui.label(match v {
                            Some(v) => format!("pixel ({x}, {y}): {} m", fmt_value(v)),
                            None => format!("pixel ({x}, {y}): invalid"),
                        });
                    }
                });
            });
            ui.vertical(|ui| {
                ui.label(egui::RichText::new("back-projected point cloud").strong());
                self.viewport.show(ui, &self.scene);
            });
        });
    }
    fn pick_info(&self) -> Option<String> {
        if let Some((x, y)) = self.hover {
            let v = self.image.value(x, y).filter(|v| *v > 0.0);
            return Some(v.map_or_else(|| format!("pixel ({x}, {y}): invalid"), |v| format!("pixel ({x}, {y}): {} m", fmt_value(v))));
        }
        self.viewport.pick_text()
    }
    fn viewport(&self) -> Option<&Viewport3d> {
        Some(&self.viewport)
    }
    fn viewport_mut(&mut self) -> Option<&mut Viewport3d> {
        Some(&mut self.viewport)
    }
    fn summary(&self) -> String {
        format!("{} · {} x {}", self.source, self.image.width, self.image.height)
    }
}
