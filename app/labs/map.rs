//! COCO mAP: a ground-truth JSON and a detections JSON (or the built-in
//! example pair) evaluated by the engine's pycocotools-exact evaluator on a
//! worker thread; the twelve standard numbers, each class's AP, and each
//! class's precision-recall curves at IoU 0.5, 0.75 and averaged over 0.50:0.95.

use egui_plot::{Corner, Legend, Line, Plot, PlotPoints};
use vislab_engine::detection::scene;
use vislab_engine::job::Task;
use vislab_engine::metrics::coco::{self, Evaluation, STAT_NAMES};

use super::{Lab, LabInfo};
use crate::widgets::curves::palette;

/// Seed and image count of the built-in example pair.
const EXAMPLE: (u64, usize) = (1, 12);

/// What each of the twelve numbers averages over.
const STAT_MEANING: [&str; 12] = [
    "IoU 0.50:0.95, all areas, 100 dets",
    "IoU 0.50",
    "IoU 0.75",
    "small (< 32²)",
    "medium",
    "large (> 96²)",
    "1 detection per image",
    "10 detections",
    "100 detections",
    "small, 100 dets",
    "medium, 100 dets",
    "large, 100 dets",
];

struct Evaluated {
    source: String,
    eval: Evaluation,
    /// Category names by the evaluation's category index.
    names: Vec<String>,
}

type Outcome = Result<Evaluated, String>;

pub struct MapLab {
    gt_path: String,
    dt_path: String,
    task: Option<Task<Outcome>>,
    result: Option<Evaluated>,
    class: usize,
    status: String,
}

fn evaluate_texts(source: String, gt: &str, dt: &str) -> Outcome {
    let gt = coco::parse_ground_truth(gt).map_err(|e| e.to_string())?;
    let dt = coco::parse_detections(dt).map_err(|e| e.to_string())?;
    let eval = coco::evaluate_full(&gt, &dt).map_err(|e| e.to_string())?;
    let names =
        eval.categories.iter().map(|&id| gt.categories.iter().find(|c| c.id == id && !c.name.is_empty()).map_or_else(|| format!("category {id}"), |c| c.name.clone())).collect();
    Ok(Evaluated { source, eval, names })
}

fn read(path: &str, what: &str) -> Result<String, String> {
    if path.trim().is_empty() {
        return Err(format!("choose a {what} file first"));
    }
    std::fs::read_to_string(path.trim()).map_err(|e| format!("{what} {}: {e}", path.trim()))
}

impl Default for MapLab {
    fn default() -> Self {
        Self::new()
    }
}

impl MapLab {
    pub fn new() -> Self {
        let mut lab = MapLab { gt_path: String::new(), dt_path: String::new(), task: None, result: None, class: 0, status: String::new() };
        lab.run_example();
        lab
    }

    fn run_example(&mut self) {
        let (seed, images) = EXAMPLE;
        self.task = Some(Task::spawn("vislab-map", move |_| {
            let (gt, dt) = scene::coco_example_json(seed, images);
            evaluate_texts(format!("built-in example ({images} generated images, seed {seed})"), &gt, &dt)
        }));
        self.status = "evaluating".into();
    }

    fn run_files(&mut self) {
        let (gt, dt) = (self.gt_path.clone(), self.dt_path.clone());
        self.task = Some(Task::spawn("vislab-map", move |_| {
            let gt_text = read(&gt, "ground truth")?;
            let dt_text = read(&dt, "detections")?;
            let name = |p: &str| std::path::Path::new(p.trim()).file_name().map_or_else(|| p.to_owned(), |n| n.to_string_lossy().into_owned());
            evaluate_texts(format!("{} vs {}", name(&dt), name(&gt)), &gt_text, &dt_text)
        }));
        self.status = "evaluating".into();
    }

    fn poll(&mut self) {
        let Some(task) = &self.task else { return };
        let Some(r) = task.poll() else { return };
        self.task = None;
        match r {
            Ok(Ok(res)) => {
                self.class = self.class.min(res.names.len().saturating_sub(1));
                self.status.clear();
                self.result = Some(res);
            }
            // what was shown stays shown
            Ok(Err(e)) => self.status = e,
            Err(e) => self.status = format!("the evaluation stopped unexpectedly: {e}"),
        }
    }

    fn path_field(ui: &mut egui::Ui, path: &mut String, label: &str) {
        ui.horizontal(|ui| {
            let l = ui.label(label);
            ui.add(egui::TextEdit::singleline(path).desired_width(ui.available_width().min(150.0))).labelled_by(l.id);
            // headless the dialog returns None at once: nothing changes
            if ui.small_button("File...").clicked()
                && let Some(p) = rfd::FileDialog::new().add_filter("COCO JSON", &["json"]).add_filter("all files", &["*"]).pick_file()
            {
                *path = p.display().to_string();
            }
        });
    }

    fn write_example(&mut self) {
        let Some(dir) = rfd::FileDialog::new().set_title("Folder for example_gt.json and example_dt.json").pick_folder() else { return };
        let (gt, dt) = scene::coco_example_json(EXAMPLE.0, EXAMPLE.1);
        let (gp, dp) = (dir.join("example_gt.json"), dir.join("example_dt.json"));
        self.status = match std::fs::write(&gp, gt).and_then(|()| std::fs::write(&dp, dt)) {
            Ok(()) => format!("wrote {} and {}", gp.display(), dp.display()),
            Err(e) => format!("{}: {e}", dir.display()),
        };
    }

    /// AP numbers and AR numbers side by side; what each averages over on hover.
    fn stats_table(ui: &mut egui::Ui, stats: &[f64; 12]) {
        egui::Grid::new("map-stats").num_columns(4).striped(true).show(ui, |ui| {
            for row in 0..6 {
                for i in [row, row + 6] {
                    let v = stats[i];
                    ui.label(egui::RichText::new(STAT_NAMES[i]).strong()).on_hover_text(STAT_MEANING[i]);
                    ui.label(if v < 0.0 { "-1".to_owned() } else { format!("{v:.3}") }).on_hover_text(if v < 0.0 {
                        "undefined: no ground truth in this area range"
                    } else {
                        STAT_MEANING[i]
                    });
                }
                ui.end_row();
            }
        });
    }

    fn class_table(&mut self, ui: &mut egui::Ui) {
        let Some(r) = &self.result else { return };
        let mut chosen = None;
        egui::Grid::new("map-classes").num_columns(5).striped(true).show(ui, |ui| {
            for h in ["class", "AP", "AP50", "AP75", "recall@0.5"] {
                ui.label(egui::RichText::new(h).strong());
            }
            ui.end_row();
            let fmt = |v: Option<f64>| v.map_or("-".to_owned(), |v| format!("{v:.3}"));
            for (k, name) in r.names.iter().enumerate() {
                if ui.selectable_label(k == self.class, name).clicked() {
                    chosen = Some(k);
                }
                ui.label(fmt(r.eval.class_ap(k, None)));
                ui.label(fmt(r.eval.class_ap(k, Some(0))));
                ui.label(fmt(r.eval.class_ap(k, Some(5))));
                ui.label(fmt(r.eval.recall(0, k)));
                ui.end_row();
            }
        });
        if let Some(k) = chosen {
            self.class = k;
        }
    }

    fn curves(&self, ui: &mut egui::Ui, height: f32) {
        let Some(r) = &self.result else { return };
        let k = self.class;
        let recall = Evaluation::recall_thresholds();
        let name = r.names.get(k).map_or("", |n| n.as_str());
        ui.label(egui::RichText::new(format!("precision-recall, {name} (interpolated, 101 recall points)")).strong());
        let at = |t: usize| r.eval.precision_curve(t, k);
        // the 0.50:0.95 curve: at each recall point the mean over the ten thresholds
        let mean: Option<Vec<f64>> =
            (0..10).map(at).collect::<Option<Vec<_>>>().map(|cs| (0..recall.len()).map(|i| cs.iter().map(|c| c[i]).sum::<f64>() / cs.len() as f64).collect());
        let series = [("IoU 0.50", at(0)), ("IoU 0.75", at(5)), ("IoU 0.50:0.95 (mean)", mean)];
        Plot::new("map-pr")
            .height(height)
            .legend(Legend::default().position(Corner::LeftBottom))
            .x_axis_label("recall")
            .y_axis_label("precision")
            .include_x(0.0)
            .include_x(1.0)
            .include_y(0.0)
            .include_y(1.05)
            .show(ui, |p| {
                for (i, (label, curve)) in series.into_iter().enumerate() {
                    if let Some(c) = curve {
                        let pts: Vec<[f64; 2]> = recall.iter().zip(c).map(|(&x, y)| [x, y]).collect();
                        p.line(Line::new(label, PlotPoints::from(pts)).color(palette(i)).width(2.0));
                    }
                }
            });
        if series_missing(&r.eval, k) {
            ui.label("this class has no ground truth: its curves are undefined");
        }
    }
}

fn series_missing(e: &Evaluation, k: usize) -> bool {
    e.precision_curve(0, k).is_none()
}

impl Lab for MapLab {
    fn info(&self) -> LabInfo {
        LabInfo { name: "map", title: "COCO mAP", section: "Detection" }
    }

    fn controls(&mut self, ui: &mut egui::Ui) {
        self.poll();
        ui.label(
            "A COCO ground-truth file (images, categories, annotations) and a results file (a list of image_id, category_id, bbox, score), scored as pycocotools' COCOeval does.",
        );
        Self::path_field(ui, &mut self.gt_path, "ground truth");
        Self::path_field(ui, &mut self.dt_path, "detections");
        let idle = self.task.is_none();
        ui.horizontal(|ui| {
            if ui.add_enabled(idle, egui::Button::new("Evaluate")).clicked() {
                self.run_files();
            }
            if ui.add_enabled(idle, egui::Button::new("Built-in example")).clicked() {
                self.run_example();
            }
        });
        if ui.button("Write the example's JSON files...").on_hover_text("to check them with pycocotools or `vislab metrics coco-map`").clicked() {
            self.write_example();
        }
        if let Some(r) = &self.result {
            ui.separator();
            ui.label(format!("showing: {}", r.source));
            ui.label(format!("{} categories", r.names.len()));
        }
        if !idle {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("evaluating");
            });
            ui.ctx().request_repaint();
        } else if !self.status.is_empty() {
            ui.separator();
            ui.colored_label(egui::Color32::from_rgb(255, 150, 120), &self.status);
        }
    }

    fn view(&mut self, ui: &mut egui::Ui) {
        self.poll();
        let Some(r) = &self.result else {
            ui.label("nothing evaluated yet");
            return;
        };
        let stats = r.eval.stats;
        ui.horizontal_top(|ui| {
            ui.vertical(|ui| {
                ui.label(egui::RichText::new("COCO metrics").strong());
                Self::stats_table(ui, &stats);
            });
            ui.add_space(24.0);
            ui.vertical(|ui| {
                ui.label(egui::RichText::new("per class (click one for its curves)").strong());
                self.class_table(ui);
            });
        });
        ui.label(
            egui::RichText::new("AP: mean over IoU 0.50:0.95; s, m, l: areas below 32², up to 96², above; AR1, AR10, AR100: that many detections per image; -1: no ground truth")
                .small(),
        );
        ui.separator();
        let h = (ui.available_height() - 24.0).max(120.0);
        self.curves(ui, h);
    }

    fn summary(&self) -> String {
        let mut s = match &self.result {
            Some(r) => {
                let nums: Vec<String> = STAT_NAMES.iter().zip(r.eval.stats).map(|(n, v)| format!("{n} {v:.4}")).collect();
                format!("{}: {}", r.source, nums.join(", "))
            }
            None => "nothing evaluated".into(),
        };
        if !self.status.is_empty() {
            s += &format!(" ({})", self.status);
        }
        s
    }

    fn busy(&self) -> bool {
        self.task.is_some()
    }

    fn claims_file(&self, path: &std::path::Path) -> bool {
        super::is_json(path)
    }

    /// A JSON object is a ground truth, a list is detections; once both
    /// are set, evaluate.
    fn open_file(&mut self, path: &std::path::Path) {
        use std::io::Read;
        let mut head = [0u8; 256];
        let n = std::fs::File::open(path).and_then(|mut f| f.read(&mut head));
        let first = n.map(|n| head[..n].iter().copied().find(|b| !b.is_ascii_whitespace()));
        let shown = path.display().to_string();
        match first {
            Ok(Some(b'{')) => self.gt_path = shown,
            Ok(Some(b'[')) => self.dt_path = shown,
            Ok(_) => {
                self.status = format!("{shown}: neither a COCO ground truth (an object) nor detections (a list)");
                return;
            }
            Err(e) => {
                self.status = format!("{shown}: {e}");
                return;
            }
        }
        if self.gt_path.trim().is_empty() || self.dt_path.trim().is_empty() {
            self.status = format!("now open the {} file", if self.gt_path.trim().is_empty() { "ground-truth" } else { "detections" });
        } else if self.task.is_none() {
            self.run_files();
        }
    }
}
