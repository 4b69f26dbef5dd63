//! Non-maximum suppression step by step: a detector's raw boxes (a seeded
//! scene, or a COCO results JSON file), an IoU threshold, and Step / Run
//! all / Reset. Kept, selected, suppressed and remaining boxes are drawn
//! differently; each suppressed box shows the IoU that removed it.

use std::sync::Arc;

use vislab_engine::detection::scene::{self, SceneSpec};
use vislab_engine::detection::{self as det, BBox, BoxState, Nms, ScoredBox};
use vislab_engine::job::Task;

use super::{Lab, LabInfo};
use crate::render::image::ScalarImage;
use crate::widgets::boxes::{Canvas, legend_entry};

const KEPT: egui::Color32 = egui::Color32::from_rgb(60, 220, 90);
const SELECTED: egui::Color32 = egui::Color32::from_rgb(255, 230, 40);
const SUPPRESSED: egui::Color32 = egui::Color32::from_rgb(235, 70, 60);
const REMAINING: egui::Color32 = egui::Color32::from_rgb(120, 190, 255);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Source {
    Generated,
    File,
}

/// A loaded results file: its name, every box, and the image ids in it.
struct FileBoxes {
    name: String,
    boxes: Vec<ScoredBox>,
    images: Vec<i64>,
}

pub struct NmsLab {
    source: Source,
    spec: SceneSpec,
    threshold: f64,
    class_wise: bool,
    path: String,
    file: Option<FileBoxes>,
    image_id: i64,
    nms: Nms,
    picture: Option<Arc<ScalarImage>>,
    /// The box under the pointer (the smallest one there).
    hovered: Option<usize>,
    /// The part of the image shown.
    view: BBox,
    /// A results file being read and parsed on a worker thread.
    loading: Option<Task<Result<FileBoxes, String>>>,
    status: String,
}

impl Default for NmsLab {
    fn default() -> Self {
        Self::new()
    }
}

impl NmsLab {
    pub fn new() -> Self {
        let mut lab = NmsLab {
            source: Source::Generated,
            spec: SceneSpec::default(),
            threshold: 0.5,
            class_wise: false,
            path: String::new(),
            file: None,
            image_id: 1,
            nms: Nms::new(Vec::new(), 0.5, false),
            picture: None,
            hovered: None,
            view: BBox::new(0.0, 0.0, 640.0, 480.0),
            loading: None,
            status: String::new(),
        };
        lab.rebuild();
        lab
    }

    /// Fresh boxes from the chosen source; NMS starts over.
    fn rebuild(&mut self) {
        let boxes = match (self.source, &self.file) {
            (Source::File, Some(f)) => {
                let boxes: Vec<ScoredBox> = f.boxes.iter().filter(|b| b.image_id == self.image_id).copied().collect();
                // no picture: the canvas spans the boxes, with a margin
                let (x0, y0) = boxes.iter().fold((f64::INFINITY, f64::INFINITY), |(x, y), b| (x.min(b.bbox.x), y.min(b.bbox.y)));
                let (x1, y1) = boxes.iter().fold((f64::NEG_INFINITY, f64::NEG_INFINITY), |(x, y), b| (x.max(b.bbox.x1()), y.max(b.bbox.y1())));
                let m = 0.05 * (x1 - x0).max(y1 - y0).max(1.0);
                self.view = if boxes.is_empty() { BBox::new(0.0, 0.0, 1.0, 1.0) } else { BBox::new(x0 - m, y0 - m, x1 - x0 + 2.0 * m, y1 - y0 + 2.0 * m) };
                self.picture = None;
                boxes
            }
            _ => {
                self.source = Source::Generated;
                let s = scene::generate(&self.spec);
                let (pw, ph) = (s.width as usize, s.height as usize);
                self.picture = Some(Arc::new(ScalarImage::rgb(pw as u32, ph as u32, scene::picture(&s, pw, ph))));
                self.view = BBox::new(0.0, 0.0, s.width, s.height);
                s.boxes
            }
        };
        self.nms = Nms::new(boxes, self.threshold, self.class_wise);
    }

    /// Same boxes, new threshold or rule: NMS starts over.
    fn restart(&mut self) {
        self.nms = Nms::new(self.nms.boxes().to_vec(), self.threshold, self.class_wise);
    }

    /// Read the file named in the path field on a worker thread (a big
    /// results file takes a while to parse).
    fn load(&mut self) {
        let path = self.path.trim().to_owned();
        if path.is_empty() {
            self.status = "type or choose a detections JSON file first".into();
            return;
        }
        self.loading = Some(Task::spawn("vislab-nms", move |_| {
            let p = std::path::Path::new(&path);
            let boxes = det::load_detections(p).map_err(|e| format!("{path}: {e}"))?;
            if boxes.is_empty() {
                return Err(format!("{path}: the file has no detections"));
            }
            let mut images: Vec<i64> = boxes.iter().map(|b| b.image_id).collect();
            images.sort_unstable();
            images.dedup();
            let name = p.file_name().map_or_else(|| path.clone(), |n| n.to_string_lossy().into_owned());
            Ok(FileBoxes { name, boxes, images })
        }));
        self.status = "loading".into();
    }

    fn poll(&mut self) {
        let Some(task) = &self.loading else { return };
        let Some(r) = task.poll() else { return };
        self.loading = None;
        match r {
            Ok(Ok(f)) => {
                self.image_id = f.images.first().copied().unwrap_or(1);
                self.status = format!("{}: {} detections on {} images", f.name, f.boxes.len(), f.images.len());
                self.file = Some(f);
                self.source = Source::File;
                self.rebuild();
            }
            // what was open stays open
            Ok(Err(e)) => self.status = e,
            Err(e) => self.status = format!("the loader stopped unexpectedly: {e}"),
        }
    }

    fn describe(&self, i: usize) -> String {
        match self.nms.boxes().get(i) {
            Some(b) => format!("#{i} ({:.3}, {})", b.score, scene::category_name(b.category)),
            None => format!("#{i}"),
        }
    }

    fn steps_list(&self, ui: &mut egui::Ui) {
        ui.label(egui::RichText::new("steps").strong());
        egui::ScrollArea::vertical().id_salt("nms-steps").max_height(220.0).auto_shrink([false, true]).stick_to_bottom(true).show(ui, |ui| {
            if self.nms.steps().is_empty() {
                ui.label("none yet: press Step");
            }
            for (n, s) in self.nms.steps().iter().enumerate() {
                let suppressed = if s.suppressed.is_empty() {
                    "suppressed none".to_owned()
                } else {
                    let list: Vec<String> = s.suppressed.iter().map(|&(j, iou)| format!("#{j} ({iou:.2})")).collect();
                    format!("suppressed {}", list.join(", "))
                };
                ui.label(format!("{}. kept {}; {suppressed}", n + 1, self.describe(s.selected)));
            }
        });
    }
}

impl Lab for NmsLab {
    fn info(&self) -> LabInfo {
        LabInfo { name: "nms", title: "Non-maximum suppression", section: "Detection" }
    }

    fn controls(&mut self, ui: &mut egui::Ui) {
        self.poll();
        if self.loading.is_some() {
            ui.ctx().request_repaint();
        }
        let mut rebuild = false;
        ui.horizontal(|ui| {
            ui.label("boxes");
            rebuild |= ui.radio_value(&mut self.source, Source::Generated, "generated").changed();
            if self.file.is_some() {
                rebuild |= ui.radio_value(&mut self.source, Source::File, "from file").changed();
            }
        });
        if self.source == Source::Generated {
            rebuild |= ui.add(egui::Slider::new(&mut self.spec.seed, 0..=999).text("seed")).changed();
            rebuild |= ui.add(egui::Slider::new(&mut self.spec.objects, 0..=8).text("objects")).changed();
            rebuild |= ui.add(egui::Slider::new(&mut self.spec.boxes, 1..=200).text("box count")).changed();
        } else if let Some(f) = &self.file {
            let mut id = self.image_id;
            egui::ComboBox::from_label("image id").selected_text(id.to_string()).show_ui(ui, |ui| {
                for &i in &f.images {
                    ui.selectable_value(&mut id, i, i.to_string());
                }
            });
            if id != self.image_id {
                self.image_id = id;
                rebuild = true;
            }
        }
        egui::CollapsingHeader::new("open a COCO results JSON").default_open(self.file.is_some()).show(ui, |ui| {
            ui.horizontal(|ui| {
                let l = ui.label("detections file");
                ui.add(egui::TextEdit::singleline(&mut self.path).desired_width(ui.available_width().min(180.0))).labelled_by(l.id);
            });
            ui.horizontal(|ui| {
                // headless the dialog returns None at once: nothing changes
                if ui.button("File...").clicked()
                    && let Some(p) = rfd::FileDialog::new().add_filter("COCO results", &["json"]).add_filter("all files", &["*"]).pick_file()
                {
                    self.path = p.display().to_string();
                    self.load();
                }
                if ui.add_enabled(self.loading.is_none(), egui::Button::new("Load")).clicked() {
                    self.load();
                }
            });
        });
        if rebuild {
            self.rebuild();
        }
        ui.separator();
        let mut restart = ui.add(egui::Slider::new(&mut self.threshold, 0.0..=1.0).step_by(0.01).text("IoU threshold")).changed();
        restart |= ui.checkbox(&mut self.class_wise, "class-wise (a box suppresses its own class only)").changed();
        if restart {
            self.restart();
        }
        ui.horizontal(|ui| {
            let done = self.nms.is_done();
            if ui.add_enabled(!done, egui::Button::new("Step")).clicked() {
                self.nms.step();
            }
            if ui.add_enabled(!done, egui::Button::new("Run all")).clicked() {
                self.nms.run();
            }
            if ui.button("Reset").clicked() {
                self.restart();
            }
        });
        let kept = self.nms.steps().len();
        let suppressed = self.nms.states().iter().filter(|s| matches!(s, BoxState::Suppressed { .. })).count();
        ui.label(format!("{} boxes: kept {kept}, suppressed {suppressed}, remaining {}", self.nms.boxes().len(), self.nms.remaining()));
        ui.separator();
        legend_entry(ui, egui::Stroke::new(2.0, KEPT), false, None, "kept");
        legend_entry(ui, egui::Stroke::new(3.0, SELECTED), false, None, "selected this step (kept)");
        legend_entry(ui, egui::Stroke::new(1.5, SUPPRESSED.gamma_multiply(0.7)), true, None, "suppressed now, by the IoU shown");
        legend_entry(ui, egui::Stroke::new(1.5, SUPPRESSED.gamma_multiply(0.38)), true, None, "suppressed before (hover: its IoU)");
        legend_entry(ui, egui::Stroke::new(1.0, REMAINING), false, None, "remaining, with its score");
        ui.separator();
        self.steps_list(ui);
        if !self.status.is_empty() {
            ui.separator();
            ui.label(&self.status);
        }
    }

    fn view(&mut self, ui: &mut egui::Ui) {
        let canvas = Canvas::show(ui, self.picture.as_ref(), self.view, "picture with detections");
        self.hovered = canvas.response.hover_pos().and_then(|p| {
            let p = canvas.to_image(p);
            let under = self.nms.boxes().iter().enumerate().filter(|(_, b)| b.bbox.contains(p));
            under.min_by(|a, b| a.1.bbox.area().total_cmp(&b.1.bbox.area())).map(|(i, _)| i)
        });
        let painter = ui.painter_at(canvas.rect);
        let current = self.nms.current();
        let boxes = self.nms.boxes();
        let states = self.nms.states();
        // drawn back to front: suppressed, remaining, kept, the selected one
        let layer = |s: &BoxState, i: usize| match s {
            BoxState::Suppressed { .. } => 0,
            BoxState::Remaining => 1,
            BoxState::Kept if Some(i) == current => 3,
            BoxState::Kept => 2,
        };
        let mut order: Vec<usize> = (0..boxes.len()).collect();
        order.sort_by_key(|&i| (layer(&states[i], i), std::cmp::Reverse((boxes[i].score * 1e6) as i64)));
        for i in order {
            let b = &boxes[i].bbox;
            match states[i] {
                BoxState::Suppressed { by, iou } => {
                    // this step's suppressions bright and captioned, earlier ones
                    // faded (their IoU shows on hover and in the steps list)
                    let now = Some(by) == current;
                    let fade = if now { 1.0 } else { 0.55 };
                    canvas.outline(&painter, b, egui::Stroke::new(1.5, SUPPRESSED.gamma_multiply(0.7 * fade)), true);
                    if now || self.hovered == Some(i) {
                        canvas.caption(&painter, b, &format!("IoU {iou:.2}"), SUPPRESSED, true);
                    }
                }
                BoxState::Remaining => {
                    canvas.outline(&painter, b, egui::Stroke::new(1.0, REMAINING), false);
                    canvas.caption(&painter, b, &format!("{:.2}", boxes[i].score), REMAINING, false);
                }
                BoxState::Kept => {
                    let selected = Some(i) == current;
                    let (w, c) = if selected { (3.0, SELECTED) } else { (2.0, KEPT) };
                    canvas.outline(&painter, b, egui::Stroke::new(w, c), false);
                    canvas.caption(&painter, b, &format!("{:.2} {}", boxes[i].score, scene::category_name(boxes[i].category)), c, false);
                }
            }
        }
        if let Some(b) = self.hovered.and_then(|i| boxes.get(i)) {
            canvas.outline(&painter, &b.bbox, egui::Stroke::new(1.0, egui::Color32::WHITE), false);
        }
    }

    fn busy(&self) -> bool {
        self.loading.is_some()
    }

    fn claims_file(&self, path: &std::path::Path) -> bool {
        super::is_json(path)
    }

    fn open_file(&mut self, path: &std::path::Path) {
        self.path = path.display().to_string();
        self.load();
    }

    fn pick_info(&self) -> Option<String> {
        let i = self.hovered?;
        let b = self.nms.boxes().get(i)?;
        let state = match self.nms.states().get(i)? {
            BoxState::Remaining => "remaining".to_owned(),
            BoxState::Kept => "kept".to_owned(),
            BoxState::Suppressed { by, iou } => format!("suppressed by #{by} at IoU {iou:.3}"),
        };
        let [x, y, w, h] = b.bbox.as_array();
        Some(format!("box {}: [{x}, {y}, {w}, {h}], {state}", self.describe(i)))
    }

    fn summary(&self) -> String {
        let from = match (self.source, &self.file) {
            (Source::File, Some(f)) => format!("{} image {}", f.name, self.image_id),
            _ => format!("generated seed {}, {} objects", self.spec.seed, self.spec.objects),
        };
        let suppressed = self.nms.states().iter().filter(|s| matches!(s, BoxState::Suppressed { .. })).count();
        let mut s = format!(
            "{from}: {} boxes, IoU threshold {:.2}{}: step {}, kept {}, suppressed {suppressed}, remaining {}",
            self.nms.boxes().len(),
            self.threshold,
            if self.class_wise { " class-wise" } else { "" },
            self.nms.steps().len(),
            self.nms.steps().len(),
            self.nms.remaining()
        );
        if self.nms.is_done() {
            s += " (done)";
        }
        if !self.status.is_empty() {
            s += &format!("; {}", self.status);
        }
        s
    }
}
