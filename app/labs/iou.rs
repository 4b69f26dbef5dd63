//! Intersection over union: a ground-truth box and a predicted box on a
//! picture; drag a box to move it, drag its edges or corners to resize it
//! (or type its numbers); the intersection is shaded and intersection,
//! union and IoU update live.

use std::sync::Arc;

use vislab_engine::detection::BBox;
use vislab_engine::detection::scene;

use super::{Lab, LabInfo};
use crate::render::image::ScalarImage;
use crate::widgets::boxes::{Canvas, legend_entry};

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 480.0;
/// Boxes never shrink below this many pixels a side.
const MIN_SIDE: f64 = 2.0;
/// How near (screen points) an edge must be to grab it.
const GRAB: f32 = 7.0;

const GT_COLOR: egui::Color32 = egui::Color32::from_rgb(60, 220, 90);
const PRED_COLOR: egui::Color32 = egui::Color32::from_rgb(255, 140, 30);
const UNION_COLOR: egui::Color32 = egui::Color32::from_rgba_premultiplied(40, 40, 40, 40);
const INTER_COLOR: egui::Color32 = egui::Color32::from_rgba_premultiplied(90, 40, 120, 150);

/// Which edges a drag moves: left, top, right, bottom (all four: a move).
#[derive(Clone, Copy, Debug, PartialEq)]
struct Edges([bool; 4]);

impl Edges {
    const MOVE: Edges = Edges([true; 4]);

    fn cursor(self) -> egui::CursorIcon {
        use egui::CursorIcon as C;
        match self.0 {
            [true, true, true, true] => C::Grab,
            [true, true, false, false] | [false, false, true, true] => C::ResizeNwSe,
            [false, true, true, false] | [true, false, false, true] => C::ResizeNeSw,
            [true, false, false, false] | [false, false, true, false] => C::ResizeHorizontal,
            _ => C::ResizeVertical,
        }
    }
}

struct Drag {
    target: usize,
    edges: Edges,
    start: BBox,
    pointer: [f64; 2],
}

pub struct IouLab {
    /// Ground truth (0) and prediction (1).
    boxes: [BBox; 2],
    image: Arc<ScalarImage>,
    drag: Option<Drag>,
}

/// A ground truth on the picture's square and a prediction overlapping it.
fn initial_boxes() -> [BBox; 2] {
    [BBox::new(120.0, 140.0, 200.0, 160.0), BBox::new(190.0, 190.0, 180.0, 150.0)]
}

impl Default for IouLab {
    fn default() -> Self {
        Self::new()
    }
}

impl IouLab {
    pub fn new() -> Self {
        // one object of each kind, the square under the ground-truth box
        let [gt, _] = initial_boxes();
        let objects = vec![
            scene::Object { bbox: gt, category: 2 },
            scene::Object { bbox: BBox::new(430.0, 90.0, 130.0, 130.0), category: 1 },
            scene::Object { bbox: BBox::new(440.0, 300.0, 150.0, 120.0), category: 3 },
        ];
        let s = scene::Scene { width: WIDTH, height: HEIGHT, objects, boxes: Vec::new() };
        let (pw, ph) = (WIDTH as usize, HEIGHT as usize);
        let image = Arc::new(ScalarImage::rgb(pw as u32, ph as u32, scene::picture(&s, pw, ph)));
        IouLab { boxes: initial_boxes(), image, drag: None }
    }

    fn numbers(&self) -> (f64, f64, f64) {
        let [a, b] = &self.boxes;
        (a.intersection_area(b), a.union_area(b), a.iou(b))
    }

    /// The box and edges under a screen point: the prediction first (it is
    /// drawn on top), corners before edges before the inside.
    fn hit(&self, canvas: &Canvas, p: egui::Pos2) -> Option<(usize, Edges)> {
        for i in [1, 0] {
            let r = canvas.screen_rect(&self.boxes[i]);
            if !r.expand(GRAB).contains(p) {
                continue;
            }
            let near = |a: f32, b: f32| (a - b).abs() <= GRAB;
            let e = [near(p.x, r.left()), near(p.y, r.top()), near(p.x, r.right()), near(p.y, r.bottom())];
            // a box too small to tell its edges apart is moved
            if e.iter().any(|&v| v) && !(e[0] && e[2]) && !(e[1] && e[3]) {
                return Some((i, Edges(e)));
            }
            if r.contains(p) {
                return Some((i, Edges::MOVE));
            }
        }
        None
    }

    fn dragged(&mut self, d: &Drag, to: [f64; 2]) {
        let (dx, dy) = (to[0] - d.pointer[0], to[1] - d.pointer[1]);
        let s = d.start;
        let b = if d.edges == Edges::MOVE {
            // moved whole, kept inside the picture
            let x = (s.x + dx).clamp(0.0, (WIDTH - s.w).max(0.0));
            let y = (s.y + dy).clamp(0.0, (HEIGHT - s.h).max(0.0));
            BBox::new(x, y, s.w, s.h)
        } else {
            let [l, t, r, btm] = d.edges.0;
            let mut x0 = s.x + if l { dx } else { 0.0 };
            let mut y0 = s.y + if t { dy } else { 0.0 };
            let mut x1 = s.x1() + if r { dx } else { 0.0 };
            let mut y1 = s.y1() + if btm { dy } else { 0.0 };
            // an edge stops short of the opposite one
            if l {
                x0 = x0.min(x1 - MIN_SIDE);
            }
            if r {
                x1 = x1.max(x0 + MIN_SIDE);
            }
            if t {
                y0 = y0.min(y1 - MIN_SIDE);
            }
            if btm {
                y1 = y1.max(y0 + MIN_SIDE);
            }
            BBox::from_corners([x0.clamp(0.0, WIDTH), y0.clamp(0.0, HEIGHT)], [x1.clamp(0.0, WIDTH), y1.clamp(0.0, HEIGHT)])
        };
        self.boxes[d.target] = round_box(b);
    }

    fn box_fields(ui: &mut egui::Ui, b: &mut BBox, name: &str) {
        ui.horizontal(|ui| {
            ui.add(egui::DragValue::new(&mut b.x).range(0.0..=WIDTH).speed(1.0).prefix(format!("{name} x ")));
            ui.add(egui::DragValue::new(&mut b.y).range(0.0..=HEIGHT).speed(1.0).prefix(format!("{name} y ")));
        });
        ui.horizontal(|ui| {
            ui.add(egui::DragValue::new(&mut b.w).range(0.0..=WIDTH).speed(1.0).prefix(format!("{name} w ")));
            ui.add(egui::DragValue::new(&mut b.h).range(0.0..=HEIGHT).speed(1.0).prefix(format!("{name} h ")));
        });
    }
}

/// Drags move by whole pixels, so the numbers stay readable.
fn round_box(b: BBox) -> BBox {
    BBox::new(b.x.round(), b.y.round(), b.w.round(), b.h.round())
}

/// At most two decimals, no trailing zeros (typed sides like 0.1 would
/// otherwise print float noise such as 12.300000000000001).
fn num(v: f64) -> String {
    let s = format!("{v:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.to_owned() }
}

fn fmt_box(b: &BBox) -> String {
    format!("[{}, {}, {}, {}]", num(b.x), num(b.y), num(b.w), num(b.h))
}

impl Lab for IouLab {
    fn info(&self) -> LabInfo {
        LabInfo { name: "iou", title: "IoU of two boxes", section: "Detection" }
    }

    fn controls(&mut self, ui: &mut egui::Ui) {
        ui.label("Drag a box to move it, its edges or corners to resize it, or type its numbers (COCO x, y, width, height in pixels).");
        ui.separator();
        ui.colored_label(GT_COLOR, "A: ground truth");
        Self::box_fields(ui, &mut self.boxes[0], "A");
        ui.colored_label(PRED_COLOR, "B: prediction");
        Self::box_fields(ui, &mut self.boxes[1], "B");
        ui.horizontal_wrapped(|ui| {
            if ui.button("Reset").clicked() {
                self.boxes = initial_boxes();
            }
            if ui.button("Identical").clicked() {
                self.boxes[1] = self.boxes[0];
            }
            if ui.button("Half shifted").clicked() {
                let a = self.boxes[0];
                self.boxes[1] = BBox::new((a.x + a.w / 2.0).min(WIDTH - a.w).max(0.0), a.y, a.w, a.h);
            }
        });
        ui.separator();
        let (inter, union, iou) = self.numbers();
        egui::Grid::new("iou-numbers").num_columns(2).show(ui, |ui| {
            ui.label("area A");
            ui.label(num(self.boxes[0].area()));
            ui.end_row();
            ui.label("area B");
            ui.label(num(self.boxes[1].area()));
            ui.end_row();
            ui.label("intersection");
            ui.label(num(inter));
            ui.end_row();
            ui.label("union = A + B - intersection");
            ui.label(num(union));
            ui.end_row();
            ui.label(egui::RichText::new("IoU = intersection / union").strong());
            ui.label(egui::RichText::new(format!("{iou:.4}")).strong());
            ui.end_row();
        });
        ui.separator();
        legend_entry(ui, egui::Stroke::new(2.0, GT_COLOR), false, None, "A, ground truth");
        legend_entry(ui, egui::Stroke::new(2.0, PRED_COLOR), false, None, "B, prediction");
        legend_entry(ui, egui::Stroke::NONE, false, Some(INTER_COLOR), "intersection");
        legend_entry(ui, egui::Stroke::NONE, false, Some(UNION_COLOR), "union (lightened)");
    }

    fn view(&mut self, ui: &mut egui::Ui) {
        let (inter, union, iou) = self.numbers();
        ui.label(egui::RichText::new(format!("intersection {} px², union {} px², IoU {iou:.4}", num(inter), num(union))).strong());
        let canvas = Canvas::show(ui, Some(&self.image), BBox::new(0.0, 0.0, WIDTH, HEIGHT), "picture with two boxes");
        let resp = &canvas.response;
        if let Some(p) = resp.hover_pos() {
            let grab = self.drag.as_ref().map(|d| d.edges).or_else(|| self.hit(&canvas, p).map(|h| h.1));
            if let Some(e) = grab {
                ui.ctx().set_cursor_icon(if self.drag.is_some() && e == Edges::MOVE { egui::CursorIcon::Grabbing } else { e.cursor() });
            }
        }
        // grab what was under the press, not where the drag was first noticed
        if resp.drag_started()
            && let Some(p) = ui.input(|i| i.pointer.press_origin())
            && let Some((target, edges)) = self.hit(&canvas, p)
        {
            self.drag = Some(Drag { target, edges, start: self.boxes[target], pointer: canvas.to_image(p) });
        }
        if let Some(d) = self.drag.take() {
            if let Some(p) = resp.interact_pointer_pos() {
                self.dragged(&d, canvas.to_image(p));
            }
            if !resp.drag_stopped() {
                self.drag = Some(d);
            }
        }

        let painter = ui.painter_at(canvas.rect);
        let [a, b] = self.boxes;
        // the union lightened, the intersection shaded over it
        for bx in [a, b] {
            painter.rect_filled(canvas.screen_rect(&bx), 0.0, UNION_COLOR);
        }
        if let Some(i) = a.intersection(&b) {
            painter.rect_filled(canvas.screen_rect(&i), 0.0, INTER_COLOR);
        }
        for (bx, color, name) in [(a, GT_COLOR, "A"), (b, PRED_COLOR, "B")] {
            canvas.outline(&painter, &bx, egui::Stroke::new(2.0, color), false);
            let r = canvas.screen_rect(&bx);
            for c in [r.left_top(), r.right_top(), r.left_bottom(), r.right_bottom()] {
                painter.rect_filled(egui::Rect::from_center_size(c, egui::vec2(6.0, 6.0)), 0.0, color);
            }
            canvas.caption(&painter, &bx, name, color, false);
        }
        if let Some(i) = a.intersection(&b) {
            let r = canvas.screen_rect(&i);
            painter.text(r.center(), egui::Align2::CENTER_CENTER, format!("IoU {iou:.3}"), egui::FontId::proportional(13.0), egui::Color32::WHITE);
        }
    }

    fn summary(&self) -> String {
        let (inter, union, iou) = self.numbers();
        format!("A {}, B {}: intersection {}, union {}, IoU {iou:.4}", fmt_box(&self.boxes[0]), fmt_box(&self.boxes[1]), num(inter), num(union))
    }
}
