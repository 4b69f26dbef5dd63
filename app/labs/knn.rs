//! k-nearest neighbours on the built-in 8x8 digits: a seeded train/test
//! split, test accuracy for the chosen k and distance, the k nearest
//! training images of one test image, and a k-fold cross-validation curve
//! over k computed on a worker thread.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, channel};
use std::sync::Arc;
use std::time::{Duration, Instant};

use egui_plot::{FilledArea, Legend, Line, Plot, PlotPoints, Points, VLine};
use vislab_engine::data::{Dataset, digits};
use vislab_engine::knn::{self, CvPoint, Distance, Knn, KnnError, Neighbour};

use super::{Lab, LabInfo};
use crate::render::colormap::Colormap;
use crate::render::image::ScalarImage;
use crate::widgets::gallery;

/// The cross-validation curve covers k = 1..=MAX_K.
const MAX_K: usize = 20;
const RIGHT: egui::Color32 = egui::Color32::from_rgb(60, 180, 90);
const WRONG: egui::Color32 = egui::Color32::from_rgb(220, 60, 60);

enum CvMessage {
    Progress(usize, usize),
    /// The result and how long the worker took.
    Done(Result<Vec<CvPoint>, KnnError>, Duration),
}

/// A cross-validation run on its own thread; dropping it cancels it.
struct CvJob {
    events: Receiver<CvMessage>,
    cancel: Arc<AtomicBool>,
    progress: f32,
}

impl Drop for CvJob {
    fn drop(&mut self) {
        self.cancel.store(true, Ordering::Relaxed);
    }
}

pub struct KnnLab {
    all: Option<Arc<Dataset>>,
    train: Arc<Dataset>,
    test: Arc<Dataset>,
    test_count: usize,
    seed: u64,
    k: usize,
    metric: Distance,
    /// Predicted label of every test image.
    predictions: Vec<usize>,
    fit_time: Duration,
    predict_time: Duration,
    chosen: usize,
    nearest: Vec<Neighbour>,
    /// The chosen test image, then its neighbours, ready to draw.
    images: Vec<Arc<ScalarImage>>,
    folds: usize,
    cv: Vec<CvPoint>,
    /// Folds and distance the curve shown was computed with.
    cv_folds: usize,
    cv_metric: Distance,
    cv_job: Option<CvJob>,
    cv_time: Duration,
    cv_started: bool,
    status: String,
}

impl KnnLab {
    pub fn new() -> Self {
        let empty = || Arc::new(Dataset::new(vec![0.0; 64], vec![8, 8], vec![0], 10).unwrap_or_else(|_| unreachable!()));
        let (all, status) = match digits::load() {
            Ok(d) => (Some(Arc::new(d)), String::new()),
            Err(e) => (None, format!("could not load the digits: {e}")),
        };
        let mut lab = KnnLab {
            all,
            train: empty(),
            test: empty(),
            test_count: 360,
            seed: 1,
            k: 3,
            metric: Distance::L2,
            predictions: Vec::new(),
            fit_time: Duration::ZERO,
            predict_time: Duration::ZERO,
            chosen: 0,
            nearest: Vec::new(),
            images: Vec::new(),
            folds: 5,
            cv: Vec::new(),
            cv_folds: 5,
            cv_metric: Distance::L2,
            cv_job: None,
            cv_time: Duration::ZERO,
            cv_started: false,
            status,
        };
        lab.resplit();
        lab
    }

    fn resplit(&mut self) {
        let Some(all) = &self.all else { return };
        let t0 = Instant::now();
        match all.split(self.test_count, self.seed) {
            Ok((train, test)) => {
                self.train = Arc::new(train);
                self.test = Arc::new(test);
            }
            Err(e) => self.status = format!("could not split: {e}"),
        }
        // "training" kNN is keeping the training images
        self.fit_time = t0.elapsed();
        self.chosen = self.chosen.min(self.test.len().saturating_sub(1));
        self.cv.clear();
        self.cv_job = None;
        self.cv_started = false;
        self.evaluate();
    }

    /// Predict every test image with the current k and distance.
    fn evaluate(&mut self) {
        let knn = Knn::fit(&self.train);
        let t0 = Instant::now();
        let per = self.test.sample_len();
        let predicted: Result<Vec<usize>, KnnError> = self.test.x().chunks(per).map(|x| knn.predict(x, self.k, self.metric)).collect();
        self.predict_time = t0.elapsed();
        match predicted {
            Ok(p) => self.predictions = p,
            Err(e) => {
                self.predictions.clear();
                self.status = format!("prediction failed: {e}");
            }
        }
        self.pick(self.chosen);
    }

    fn accuracy(&self) -> Option<f32> {
        (!self.predictions.is_empty()).then(|| {
            let right = self.predictions.iter().zip(self.test.y()).filter(|(p, y)| p == y).count();
            right as f32 / self.predictions.len() as f32
        })
    }

    /// Show test image `i` and its neighbours.
    fn pick(&mut self, i: usize) {
        self.chosen = i;
        self.nearest.clear();
        self.images.clear();
        let Some((x, _)) = self.test.get(i) else { return };
        match Knn::fit(&self.train).neighbours(x, self.k, self.metric) {
            Ok(n) => self.nearest = n,
            Err(e) => self.status = format!("neighbours: {e}"),
        }
        let x = x.to_vec();
        let neighbours = self.nearest.iter().filter_map(|n| self.train.get(n.index).map(|(x, _)| x.to_vec()));
        self.images = std::iter::once(x).chain(neighbours).map(digit_image).collect();
    }

    fn start_cv(&mut self) {
        self.cv_started = true;
        self.cv.clear();
        let (tx, rx) = channel();
        let cancel = Arc::new(AtomicBool::new(false));
        let (train, folds, metric, seed, stop) = (self.train.clone(), self.folds, self.metric, self.seed, cancel.clone());
        let ks: Vec<usize> = (1..=MAX_K).collect();
        self.cv_metric = metric;
        self.cv_folds = folds;
        std::thread::spawn(move || {
            let t0 = Instant::now();
            let mut last = Instant::now();
            let result = knn::cross_validate(&train, folds, &ks, metric, seed, &mut |done, total| {
                // a message every few milliseconds is plenty for a progress bar
                if last.elapsed() > Duration::from_millis(15) {
                    last = Instant::now();
                    let _ = tx.send(CvMessage::Progress(done, total));
                }
                !stop.load(Ordering::Relaxed)
            });
            let _ = tx.send(CvMessage::Done(result, t0.elapsed()));
        });
        self.cv_job = Some(CvJob { events: rx, cancel, progress: 0.0 });
        self.status.clear();
    }

    fn poll(&mut self) {
        let Some(job) = &mut self.cv_job else { return };
        let mut done = None;
        while let Ok(m) = job.events.try_recv() {
            match m {
                CvMessage::Progress(d, t) => job.progress = d as f32 / t.max(1) as f32,
                CvMessage::Done(r, t) => {
                    self.cv_time = t;
                    done = Some(r);
                }
            }
        }
        match done {
            Some(Ok(points)) => {
                self.cv = points;
                self.status.clear();
                self.cv_job = None;
            }
            Some(Err(e)) => {
                self.status = format!("cross-validation: {e}");
                self.cv_job = None;
            }
            None => {}
        }
    }

    fn best_k(&self) -> Option<&CvPoint> {
        // the first k with the highest mean: ties go to the simpler model
        self.cv.iter().fold(None, |best: Option<&CvPoint>, p| if best.is_none_or(|b| p.mean() > b.mean()) { Some(p) } else { best })
    }

    fn neighbours_view(&mut self, ui: &mut egui::Ui) {
        let Some(label) = self.test.get(self.chosen).map(|(_, l)| l) else { return };
        let predicted = self.predictions.get(self.chosen).copied();
        let verdict = match predicted {
            Some(p) if p == label => format!("predicted {p} (right)"),
            Some(p) => format!("predicted {p} (wrong)"),
            None => String::new(),
        };
        ui.label(egui::RichText::new(format!("test image {}: a {label}, {verdict}; its {} nearest training images", self.chosen, self.k)).strong());
        // a fixed band, so the curve below keeps its place whatever k is
        let band = egui::vec2(ui.available_width(), 170.0);
        ui.allocate_ui_with_layout(band, egui::Layout::left_to_right(egui::Align::Min), |ui| {
            ui.set_min_size(band);
            if let Some(query) = self.images.first() {
                let color = if predicted == Some(label) { RIGHT } else { WRONG };
                tile(ui, query, 96.0, color, "query");
            }
            ui.add_space(12.0);
            ui.horizontal_wrapped(|ui| {
                ui.spacing_mut().item_spacing = egui::vec2(8.0, 4.0);
                for (img, n) in self.images.iter().skip(1).zip(&self.nearest) {
                    let color = if n.label == label { RIGHT } else { WRONG };
                    tile(ui, img, 40.0, color, &format!("{} · {:.2}", n.label, n.distance));
                }
            });
        });
    }

    fn cv_plot(&self, ui: &mut egui::Ui) {
        let title = format!("{}-fold cross-validation on the training set ({:?})", self.cv_folds, self.cv_metric);
        ui.label(egui::RichText::new(title).strong());
        if let Some(job) = &self.cv_job {
            ui.add(egui::ProgressBar::new(job.progress).show_percentage().text("cross-validating"));
        }
        let ks: Vec<f64> = self.cv.iter().map(|p| p.k as f64).collect();
        let lo: Vec<f64> = self.cv.iter().map(|p| p.min() as f64).collect();
        let hi: Vec<f64> = self.cv.iter().map(|p| p.max() as f64).collect();
        let mean: Vec<[f64; 2]> = self.cv.iter().map(|p| [p.k as f64, p.mean() as f64]).collect();
        let folds: Vec<[f64; 2]> = self.cv.iter().flat_map(|p| p.fold_accuracy.iter().map(|a| [p.k as f64, *a as f64])).collect();
        Plot::new("cv").legend(Legend::default()).x_axis_label("k").y_axis_label("validation accuracy").show(ui, |p| {
            if !self.cv.is_empty() {
                p.add(FilledArea::new("fold min..max", &ks, &lo, &hi).fill_color(egui::Color32::from_rgba_unmultiplied(90, 140, 230, 60)));
                p.points(Points::new("each fold", PlotPoints::from(folds)).radius(2.0).color(egui::Color32::from_gray(150)));
                p.line(Line::new("mean", PlotPoints::from(mean)).width(2.0).color(egui::Color32::from_rgb(90, 140, 230)));
            }
            p.vline(VLine::new("chosen k", self.k as f64).color(egui::Color32::from_rgb(230, 160, 40)));
        });
    }
}

/// An 8x8 digit (ink in [0, 1]) as an image.
fn digit_image(x: Vec<f32>) -> Arc<ScalarImage> {
    gallery::unit_image(digits::SIDE, digits::SIDE, &x)
}

/// A digit image with a colored frame and a caption below.
fn tile(ui: &mut egui::Ui, img: &Arc<ScalarImage>, side: f32, frame: egui::Color32, caption: &str) {
    gallery::tile(ui, img, side, gallery::UNIT_RANGE, Colormap::Gray, Some(frame), caption);
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

impl Lab for KnnLab {
    fn info(&self) -> LabInfo {
        LabInfo { name: "knn", title: "k-nearest neighbours", section: "Classification" }
    }

    fn controls(&mut self, ui: &mut egui::Ui) {
        self.poll();
        ui.label(format!("8x8 digits: {} training, {} test images", self.train.len(), self.test.len()));
        let mut split = ui.add(egui::Slider::new(&mut self.test_count, 100..=900).text("test images")).changed();
        split |= ui.add(egui::Slider::new(&mut self.seed, 0..=100).text("split seed")).changed();
        if split {
            self.resplit();
        }
        ui.separator();
        let mut changed = ui.add(egui::Slider::new(&mut self.k, 1..=MAX_K).text("k")).changed();
        ui.horizontal(|ui| {
            ui.label("distance");
            changed |= ui.radio_value(&mut self.metric, Distance::L1, "L1").changed();
            changed |= ui.radio_value(&mut self.metric, Distance::L2, "L2").changed();
        });
        if changed {
            self.evaluate();
        }
        if let Some(acc) = self.accuracy() {
            let wrong = self.predictions.iter().zip(self.test.y()).filter(|(p, y)| p != y).count();
            ui.label(egui::RichText::new(format!("test accuracy {:.2}% ({wrong} wrong)", 100.0 * acc)).strong());
        }
        egui::CollapsingHeader::new("timings").show(ui, |ui| {
            ui.label(format!("train (keep {} images): {}", self.train.len(), ms(self.fit_time)));
            let each = self.predict_time / self.test.len().max(1) as u32;
            ui.label(format!("predict {} images: {} ({} each)", self.test.len(), ms(self.predict_time), ms(each)));
            if !self.cv.is_empty() {
                ui.label(format!("cross-validation: {}", ms(self.cv_time)));
            }
        });
        ui.separator();
        let mut chosen = self.chosen;
        let last = self.test.len().saturating_sub(1);
        if ui.add(egui::Slider::new(&mut chosen, 0..=last).text("test image")).changed() {
            self.pick(chosen);
        }
        if ui.button("Next mistake").clicked() {
            let n = self.predictions.len().max(1);
            let next = (1..=n).map(|d| (self.chosen + d) % n).find(|&i| self.predictions.get(i) != self.test.y().get(i));
            if let Some(i) = next {
                self.pick(i);
            }
        }
        ui.separator();
        ui.add(egui::Slider::new(&mut self.folds, 2..=10).text("folds"));
        let running = self.cv_job.is_some();
        ui.horizontal(|ui| {
            if ui.add_enabled(!running, egui::Button::new("Run cross-validation")).clicked() {
                self.start_cv();
            }
            if running && ui.button("Cancel").clicked() {
                self.cv_job = None;
                self.status = "cross-validation cancelled".into();
            }
        });
        if let Some(b) = self.best_k() {
            ui.label(format!("best k by CV: {} (mean {:.2}%)", b.k, 100.0 * b.mean()));
        }
        if !self.status.is_empty() {
            ui.label(&self.status);
        }
        if running {
            ui.ctx().request_repaint();
        }
    }

    fn view(&mut self, ui: &mut egui::Ui) {
        // the first look at the lab starts the curve
        if !self.cv_started && self.all.is_some() {
            self.start_cv();
        }
        self.poll();
        self.neighbours_view(ui);
        ui.separator();
        self.cv_plot(ui);
    }

    fn summary(&self) -> String {
        let acc = self.accuracy().map_or(String::new(), |a| format!(": test accuracy {:.2}%", 100.0 * a));
        let cv = self.best_k().map_or(String::new(), |b| format!(" · CV best k {} ({:.2}%)", b.k, 100.0 * b.mean()));
        format!("digits, k = {}, {:?}{acc}{cv}", self.k, self.metric)
    }

    fn busy(&self) -> bool {
        self.cv_job.is_some()
    }
}
