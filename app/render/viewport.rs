//! The 3D viewport widget: camera input, display settings, hover picking, the
//! two-point measuring tool, and the colormap legend. Labs give it a scene.

use std::sync::Arc;

use eframe::egui_wgpu;
use serde::{Deserialize, Serialize};

use super::camera::OrbitCamera;
use super::colormap::Colormap;
use super::gpu::FrameUniform;
use super::lines::grid_and_axes;
use super::pick::{self, Pick};
use super::renderer3d::{Layers, View3dCallback};
use super::scene::{LineVertex, Scene3d};
use crate::widgets::legend::{fmt_value, legend};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ColorMode {
    /// The data's own colors.
    Rgb,
    Height,
    Depth,
    Scalar,
}

impl ColorMode {
    fn index(self) -> f32 {
        match self {
            ColorMode::Rgb => 0.0,
            ColorMode::Height => 1.0,
            ColorMode::Depth => 2.0,
            ColorMode::Scalar => 3.0,
        }
    }
}

/// Everything about how a view looks; persisted with the app.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ViewSettings {
    pub camera: OrbitCamera,
    pub point_size: f32,
    pub color_mode: ColorMode,
    pub colormap: Colormap,
    pub flat: bool,
    pub wireframe: bool,
    pub normals: bool,
    pub grid: bool,
    pub axes: bool,
    /// Draw a subset of big clouds while the camera moves.
    pub preview: bool,
}

impl Default for ViewSettings {
    fn default() -> Self {
        ViewSettings {
            camera: OrbitCamera::default(),
            point_size: 3.0,
            color_mode: ColorMode::Rgb,
            colormap: Colormap::Turbo,
            flat: false,
            wireframe: false,
            normals: false,
            grid: true,
            axes: true,
            preview: true,
        }
    }
}

#[derive(Default)]
pub struct Viewport3d {
    pub settings: ViewSettings,
    pub hover: Option<Pick>,
    pub measuring: bool,
    pub measure: Vec<Pick>,
    /// Line segments (vertex pairs) a lab adds over its scene, such as the
    /// outline of a slice plane.
    pub extra_lines: Vec<LineVertex>,
    /// Frame the next scene shown (set when a lab opens new data).
    fit_pending: bool,
    /// When the camera last moved: big clouds draw a preview until it rests.
    moved_at: Option<f64>,
    last_camera: Option<OrbitCamera>,
}

const BACKGROUND: [f64; 3] = [0.075, 0.078, 0.09];

impl Viewport3d {
    /// New data: frame it on the next frame and forget old measurements.
    pub fn new_data(&mut self) {
        self.fit_pending = true;
        self.measure.clear();
        self.hover = None;
    }

    /// One line on what is under the cursor and the measurement, if any.
    pub fn pick_text(&self) -> Option<String> {
        let f = |p: [f32; 3]| format!("({}, {}, {})", fmt_value(p[0]), fmt_value(p[1]), fmt_value(p[2]));
        let mut parts = Vec::new();
        if let Some(p) = &self.hover {
            let value = p.value.map(|v| format!(" value {}", fmt_value(v))).unwrap_or_default();
            parts.push(format!("{} {} at {}{value}", p.what, p.index, f(p.pos)));
        }
        if let [a, b] = self.measure.as_slice() {
            parts.push(format!("distance {}", fmt_value(pick::distance(a.pos, b.pos))));
        } else if self.measuring {
            parts.push(format!("measuring: click point {} of 2", self.measure.len() + 1));
        }
        (!parts.is_empty()).then(|| parts.join(" · "))
    }

    /// Colormap range for the current mode.
    pub fn color_range<'a>(&self, scene: &'a Scene3d) -> Option<([f32; 2], &'a str)> {
        let b = scene.bounds?;
        let axis = self.settings.camera.up_axis;
        match self.settings.color_mode {
            ColorMode::Rgb => None,
            ColorMode::Height => Some(([b.min[axis], b.max[axis]], "height")),
            ColorMode::Depth => {
                let eye = self.settings.camera.eye();
                let d = pick::distance(eye, b.center());
                let r = 0.5 * b.diagonal();
                Some(([(d - r).max(0.0), d + r], "distance to camera"))
            }
            ColorMode::Scalar => scene.scalar_range.map(|r| (r, if scene.scalar_name.is_empty() { "scalar" } else { scene.scalar_name.as_str() })),
        }
    }

    /// Camera and display controls, for a lab's side panel.
    pub fn controls_ui(&mut self, ui: &mut egui::Ui, scene: &Scene3d) {
        let s = &mut self.settings;
        ui.horizontal(|ui| {
            if ui.button("Fit").on_hover_text("Frame everything (double-click the view)").clicked()
                && let Some(b) = scene.bounds
            {
                s.camera.fit(&b);
            }
            if ui.button("Reset").on_hover_text("Back to the starting view").clicked() {
                s.camera.reset();
            }
            ui.toggle_value(&mut s.camera.orthographic, "Ortho");
        });
        ui.horizontal(|ui| {
            ui.label("Up");
            ui.radio_value(&mut s.camera.up_axis, 1, "Y");
            ui.radio_value(&mut s.camera.up_axis, 2, "Z");
            ui.checkbox(&mut s.grid, "Grid");
            ui.checkbox(&mut s.axes, "Axes");
        });
        if !scene.points.is_empty() {
            ui.add(egui::Slider::new(&mut s.point_size, 1.0..=12.0).text("point size"));
        }
        if !scene.points_preview.is_empty() {
            ui.checkbox(&mut s.preview, "Fast preview while moving").on_hover_text(format!(
                "Draw {} of the {} points while the camera moves",
                scene.points_preview.len(),
                scene.points.len()
            ));
        }
        if !scene.points.is_empty() || !scene.mesh_vertices.is_empty() {
            egui::ComboBox::from_label("color").selected_text(format!("{:?}", s.color_mode)).show_ui(ui, |ui| {
                ui.selectable_value(&mut s.color_mode, ColorMode::Rgb, "RGB");
                ui.selectable_value(&mut s.color_mode, ColorMode::Height, "Height");
                ui.selectable_value(&mut s.color_mode, ColorMode::Depth, "Depth");
                if scene.scalar_range.is_some() {
                    ui.selectable_value(&mut s.color_mode, ColorMode::Scalar, "Scalar");
                }
            });
        }
        colormap_combo(ui, &mut s.colormap);
        if !scene.mesh_vertices.is_empty() {
            ui.horizontal(|ui| {
                ui.radio_value(&mut s.flat, false, "Smooth");
                ui.radio_value(&mut s.flat, true, "Flat");
            });
            ui.horizontal(|ui| {
                ui.checkbox(&mut s.wireframe, "Wireframe");
                ui.checkbox(&mut s.normals, "Normals");
            });
        }
        ui.horizontal(|ui| {
            if ui.toggle_value(&mut self.measuring, "Measure").on_hover_text("Click two points to measure their distance").changed() {
                self.measure.clear();
            }
            if !self.measure.is_empty() && ui.button("Clear").clicked() {
                self.measure.clear();
            }
        });
        if let [a, b] = self.measure.as_slice() {
            ui.label(format!("distance: {}", fmt_value(pick::distance(a.pos, b.pos))));
        }
    }

    /// Draw the view filling the available space, and handle its input.
    pub fn show(&mut self, ui: &mut egui::Ui, scene: &Arc<Scene3d>) -> egui::Response {
        if self.fit_pending {
            if let Some(b) = scene.bounds {
                self.settings.camera.fit(&b);
            }
            self.fit_pending = false;
        }
        let (rect, response) = ui.allocate_exact_size(ui.available_size(), egui::Sense::click_and_drag());
        let (w, h) = (rect.width().max(1.0), rect.height().max(1.0));
        self.handle_input(ui, &response, rect, scene);

        let ppp = ui.ctx().pixels_per_point();
        let cam = &self.settings.camera;
        let (range, _) = self.color_range(scene).unwrap_or(([0.0, 1.0], ""));
        let frame = FrameUniform {
            view_proj: cam.view_proj(w, h),
            view: cam.view(w, h),
            eye: {
                let e = cam.eye();
                [e[0], e[1], e[2], 1.0]
            },
            params: [self.settings.point_size * ppp, w * ppp, h * ppp, self.settings.color_mode.index()],
            range: [range[0], range[1], if self.settings.flat { 1.0 } else { 0.0 }, cam.up_axis as f32],
        };
        let mut overlay = grid_and_axes(scene.bounds.as_ref(), cam.up_axis, self.settings.grid, self.settings.axes);
        overlay.extend_from_slice(&self.extra_lines);
        if let [a, b] = self.measure.as_slice() {
            let c = [255, 220, 60, 255];
            overlay.push(LineVertex { pos: a.pos, color: c });
            overlay.push(LineVertex { pos: b.pos, color: c });
        }
        // full quality 0.2 s after the last camera move, whatever moved it
        let now = ui.input(|i| i.time);
        if self.last_camera.is_some_and(|c| c != self.settings.camera) {
            self.moved_at = Some(now);
        }
        self.last_camera = Some(self.settings.camera);
        let preview = self.settings.preview && self.moved_at.is_some_and(|t| now - t < 0.2);
        if preview {
            ui.ctx().request_repaint_after(std::time::Duration::from_millis(200));
        } else {
            self.moved_at = None;
        }
        let s = &self.settings;
        let callback = View3dCallback {
            key: response.id.value(),
            size: [(w * ppp).round() as u32, (h * ppp).round() as u32],
            scene: scene.clone(),
            frame,
            colormap: s.colormap,
            layers: Layers { points: true, preview, mesh: true, wireframe: s.wireframe, normals: s.normals, voxels: true },
            overlay,
            background: BACKGROUND,
        };
        ui.painter().add(egui_wgpu::Callback::new_paint_callback(rect, callback));
        self.draw_overlays(ui, rect, scene);
        response
    }

    fn handle_input(&mut self, ui: &egui::Ui, response: &egui::Response, rect: egui::Rect, scene: &Scene3d) {
        let cam = &mut self.settings.camera;
        let d = response.drag_delta();
        let pan = ui.input(|i| i.modifiers.shift) || response.dragged_by(egui::PointerButton::Secondary) || response.dragged_by(egui::PointerButton::Middle);
        if response.dragged() && d != egui::Vec2::ZERO {
            if pan {
                cam.pan(d.x, d.y, rect.height());
            } else {
                cam.orbit(d.x, d.y);
            }
        }
        if response.hovered() {
            let scroll = ui.input(|i| i.smooth_scroll_delta.y);
            if scroll != 0.0 {
                cam.zoom(scroll / 40.0);
            }
        }
        if response.double_clicked()
            && let Some(b) = scene.bounds
        {
            cam.fit(&b);
        }
        let cam = &self.settings.camera;
        let pick_at = |pos: egui::Pos2| {
            let p = pos - rect.min;
            pick::pick(scene, cam, p.x, p.y, rect.width(), rect.height(), 8.0)
        };
        self.hover = if response.dragged() { None } else { response.hover_pos().and_then(pick_at) };
        if self.measuring
            && response.clicked()
            && let Some(p) = response.interact_pointer_pos().and_then(pick_at)
        {
            if self.measure.len() == 2 {
                self.measure.clear();
            }
            self.measure.push(p);
        }
    }

    fn draw_overlays(&self, ui: &mut egui::Ui, rect: egui::Rect, scene: &Scene3d) {
        let painter = ui.painter_at(rect);
        let vp = self.settings.camera.view_proj(rect.width(), rect.height());
        let mark = |p: &Pick, color: egui::Color32| {
            if let Some((x, y, _)) = OrbitCamera::project(&vp, p.pos, rect.width(), rect.height()) {
                painter.circle_stroke(rect.min + egui::vec2(x, y), 5.0, egui::Stroke::new(2.0, color));
            }
        };
        for p in &self.measure {
            mark(p, egui::Color32::from_rgb(255, 220, 60));
        }
        if let Some(p) = &self.hover {
            mark(p, egui::Color32::WHITE);
            let mut text = format!("{} {}\n({}, {}, {})", p.what, p.index, fmt_value(p.pos[0]), fmt_value(p.pos[1]), fmt_value(p.pos[2]));
            if let Some(v) = p.value {
                text += &format!("\nvalue {}", fmt_value(v));
            }
            painter.text(rect.left_top() + egui::vec2(8.0, 8.0), egui::Align2::LEFT_TOP, text, egui::FontId::monospace(12.0), egui::Color32::from_gray(230));
        }
        if let [a, b] = self.measure.as_slice() {
            let text = format!("distance {}", fmt_value(pick::distance(a.pos, b.pos)));
            painter.text(rect.left_bottom() + egui::vec2(8.0, -8.0), egui::Align2::LEFT_BOTTOM, text, egui::FontId::monospace(13.0), egui::Color32::from_rgb(255, 220, 60));
        }
        if let Some((range, label)) = self.color_range(scene) {
            let area = egui::Rect::from_min_size(rect.right_bottom() - egui::vec2(190.0, 56.0), egui::vec2(180.0, 50.0));
            let mut child = ui.new_child(egui::UiBuilder::new().max_rect(area));
            legend(&mut child, self.settings.colormap, range, label, 170.0);
        }
    }
}

pub fn colormap_combo(ui: &mut egui::Ui, map: &mut Colormap) {
    egui::ComboBox::from_label("colormap").selected_text(map.name()).show_ui(ui, |ui| {
        for m in Colormap::ALL {
            ui.selectable_value(map, m, m.name());
        }
    });
}
