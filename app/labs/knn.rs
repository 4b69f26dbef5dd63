//! k-nearest neighbours on the built-in 8x8 digits or any dataset the
//! engine opens (MNIST, CIFAR, image folders): a seeded train/test split
//! (or the source's own test split), test accuracy for the chosen k and
//! distance, the k nearest training images of one test image, and a k-fold
//! cross-validation curve over k. Loading, prediction and cross-validation
//! run on worker threads.

use std::sync::Arc;
use std::time::{Duration, Instant};

use egui_plot::{FilledArea, Legend, Line, Plot, PlotPoints, Points, VLine};
use vislab_engine::data::{Dataset, Loaded, Source};
use vislab_engine::job::{Ctx, Ended, Job, JobEvent, Task};
use vislab_engine::knn::{self, CvPoint, Distance, Knn, KnnError, Neighbour};

use super::{Lab, LabInfo};
use crate::render::image::ScalarImage;
use crate::widgets::data_picker::DataPicker;
use crate::widgets::gallery;

/// The cross-validation curve covers k = 1..=MAX_K.
const MAX_K: usize = 20;
/// Training images kept by default from a large source: kNN compares every
/// test image with each of them (the sliders go up to the whole set).
const DEFAULT_TRAIN: usize = 5000;
const DEFAULT_TEST: usize = 360;
const RIGHT: egui::Color32 = egui::Color32::from_rgb(60, 180, 90);
const WRONG: egui::Color32 = egui::Color32::from_rgb(220, 60, 60);

enum CvMessage {
    Progress(usize, usize),
    /// The result and how long the worker took.
    Done(Result<Vec<CvPoint>, KnnError>, Duration),
    /// The worker died (a panic) without a result.
    Lost(String),
}

impl JobEvent for CvMessage {
    fn ended(end: Ended) -> Option<Self> {
        end.error.map(CvMessage::Lost)
    }
}

/// A cross-validation run in the background; dropping it cancels it.
struct CvJob {
    job: Job<CvMessage>,
    progress: f32,
}

/// Predicted labels of the test images and how long they took.
type Predicted = (Result<Vec<usize>, KnnError>, Duration);

pub struct KnnLab {
    /// What is open: its name, and its samples (with their own test split, if any).
    name: String,
    data: Option<Arc<Loaded>>,
    picker: DataPicker,
    loading: Option<Task<Result<(String, Loaded), String>>>,
    train: Arc<Dataset>,
    test: Arc<Dataset>,
    train_count: usize,
    test_count: usize,
    seed: u64,
    k: usize,
    metric: Distance,
    /// Predicted label of every test image.
    predictions: Vec<usize>,
    predicting: Option<Task<Predicted>>,
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

impl Default for KnnLab {
    fn default() -> Self {
        Self::new()
    }
}

impl KnnLab {
    pub fn new() -> Self {
        let empty = || Arc::new(Dataset::new(vec![0.0; 64], vec![8, 8], vec![0], 10).unwrap_or_else(|_| unreachable!()));
        let (data, status) = match Source::Digits.load() {
            Ok(d) => (Some(Arc::new(d)), String::new()),
            Err(e) => (None, format!("could not load the digits: {e}")),
        };
        let mut lab = KnnLab {
            name: "digits".into(),
            data,
            picker: DataPicker::default(),
            loading: None,
            train: empty(),
            test: empty(),
            train_count: DEFAULT_TRAIN,
            test_count: DEFAULT_TEST,
            seed: 1,
            k: 3,
            metric: Distance::L2,
            predictions: Vec::new(),
            predicting: None,
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

    /// Load a dataset on a worker; what is open stays until it is there.
    fn load(&mut self, source: Source) {
        let name = match &source {
            Source::Digits => "digits".to_string(),
            s => format!("{} ({})", s.kind(), self.picker.path.trim()),
        };
        self.loading = Some(Task::spawn("vislab-knn", move |_| source.load().map(|l| (name, l)).map_err(|e| e.to_string())));
        self.status = "loading".into();
    }

    fn poll_loading(&mut self) {
        let Some(r) = self.loading.as_ref().and_then(Task::poll) else { return };
        self.loading = None;
        match r {
            Ok(Ok((name, l))) => {
                self.name = name;
                self.train_count = DEFAULT_TRAIN.min(l.train.len());
                self.test_count = DEFAULT_TEST.min(l.test.as_ref().map_or(l.train.len() / 2, Dataset::len));
                self.data = Some(Arc::new(l));
                self.status.clear();
                self.chosen = 0;
                self.resplit();
            }
            Ok(Err(e)) => self.status = format!("could not load: {e}"),
            Err(e) => self.status = format!("the loader stopped unexpectedly: {e}"),
        }
    }

    /// Most test images the sliders offer: the source's test split, or
    /// what a split of its samples can spare.
    fn max_test(&self) -> usize {
        self.data.as_ref().map_or(1, |l| l.test.as_ref().map_or(l.train.len().saturating_sub(1), Dataset::len)).max(1)
    }

    fn max_train(&self) -> usize {
        self.data.as_ref().map_or(1, |l| if l.test.is_some() { l.train.len() } else { l.train.len().saturating_sub(self.test_count) }).max(1)
    }

    fn resplit(&mut self) {
        let Some(l) = self.data.clone() else { return };
        let t0 = Instant::now();
        self.test_count = self.test_count.clamp(1, self.max_test());
        let split = match &l.test {
            // the source's own test split: its first test_count images
            Some(test) => Ok((l.train.clone(), test.take(self.test_count))),
            None => l.train.split(self.test_count, self.seed),
        };
        match split {
            Ok((train, test)) => {
                self.train_count = self.train_count.clamp(1, train.len().max(1));
                self.train = Arc::new(if self.train_count < train.len() { train.take(self.train_count) } else { train });
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

    /// Predict every test image with the current k and distance, on a
    /// worker (a replaced request is simply dropped when it ends).
    fn evaluate(&mut self) {
        let (train, test, k, metric) = (self.train.clone(), self.test.clone(), self.k, self.metric);
        self.predictions.clear();
        self.predicting = Some(Task::spawn("vislab-knn", move |_| {
            let knn = Knn::fit(&train);
            let t0 = Instant::now();
            let per = test.sample_len();
            let predicted = test.x().chunks(per).map(|x| knn.predict(x, k, metric)).collect();
            (predicted, t0.elapsed())
        }));
        self.pick(self.chosen);
    }

    fn poll_predictions(&mut self) {
        let Some(r) = self.predicting.as_ref().and_then(Task::poll) else { return };
        self.predicting = None;
        match r {
            Ok((Ok(p), t)) => {
                self.predictions = p;
                self.predict_time = t;
            }
            Ok((Err(e), _)) => self.status = format!("prediction failed: {e}"),
            Err(e) => self.status = format!("the prediction worker stopped unexpectedly: {e}"),
        }
    }

    fn class_name(&self, c: usize) -> String {
        self.data.as_ref().and_then(|l| l.classes.get(c).cloned()).unwrap_or_else(|| c.to_string())
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
        let shape = self.test.sample_shape().to_vec();
        let neighbours = self.nearest.iter().filter_map(|n| self.train.get(n.index).map(|(x, _)| x));
        self.images = std::iter::once(x).chain(neighbours).map(|x| gallery::sample_image(&shape, x)).collect();
    }

    fn start_cv(&mut self) {
        self.cv_started = true;
        self.cv.clear();
        let (train, folds, metric, seed) = (self.train.clone(), self.folds, self.metric, self.seed);
        let ks: Vec<usize> = (1..=MAX_K).collect();
        self.cv_metric = metric;
        self.cv_folds = folds;
        let job = Job::start("vislab-knn-cv", move |ctx: &mut Ctx<CvMessage, ()>| {
            let t0 = Instant::now();
            let mut last = Instant::now();
            let result = knn::cross_validate(&train, folds, &ks, metric, seed, &mut |done, total| {
                // a message every few milliseconds is plenty for a progress bar
                if last.elapsed() > Duration::from_millis(15) {
                    last = Instant::now();
                    ctx.send(CvMessage::Progress(done, total));
                }
                !ctx.stopped()
            });
            ctx.send(CvMessage::Done(result, t0.elapsed()));
        });
        match job {
            Ok(job) => {
                self.cv_job = Some(CvJob { job, progress: 0.0 });
                self.status.clear();
            }
            Err(e) => self.status = format!("cross-validation: {e}"),
        }
    }

    fn poll(&mut self) {
        self.poll_loading();
        self.poll_predictions();
        let Some(job) = &mut self.cv_job else { return };
        let mut done = None;
        while let Ok(m) = job.job.events().try_recv() {
            match m {
                CvMessage::Progress(d, t) => job.progress = d as f32 / t.max(1) as f32,
                CvMessage::Done(r, t) => {
                    self.cv_time = t;
                    done = Some(r.map_err(|e| e.to_string()));
                }
                CvMessage::Lost(e) => done = Some(Err(e)),
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
            Some(p) if p == label => format!("predicted {} (right)", self.class_name(p)),
            Some(p) => format!("predicted {} (wrong)", self.class_name(p)),
            None => "predicting".into(),
        };
        ui.label(egui::RichText::new(format!("test image {}: {}, {verdict}; its {} nearest training images", self.chosen, self.class_name(label), self.k)).strong());
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
                    tile(ui, img, 40.0, color, &format!("{} · {:.2}", self.class_name(n.label), n.distance));
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
        // accuracies are fractions: keep 1.0 in view (and a flat curve from
        // stretching the axis far past it)
        let lowest = self.cv.iter().map(|p| p.min() as f64).fold(1.0, f64::min);
        let plot = Plot::new("cv").legend(Legend::default()).x_axis_label("k").y_axis_label("validation accuracy");
        plot.include_y(1.0).include_y(lowest - 0.01).show(ui, |p| {
            if !self.cv.is_empty() {
                p.add(FilledArea::new("fold min..max", &ks, &lo, &hi).fill_color(egui::Color32::from_rgba_unmultiplied(90, 140, 230, 60)));
                p.points(Points::new("each fold", PlotPoints::from(folds)).radius(2.0).color(egui::Color32::from_gray(150)));
                p.line(Line::new("mean", PlotPoints::from(mean)).width(2.0).color(egui::Color32::from_rgb(90, 140, 230)));
            }
            p.vline(VLine::new("chosen k", self.k as f64).color(egui::Color32::from_rgb(230, 160, 40)));
        });
    }
}

/// A sample image with a colored frame and a caption below.
fn tile(ui: &mut egui::Ui, img: &Arc<ScalarImage>, side: f32, frame: egui::Color32, caption: &str) {
    gallery::sample_tile(ui, img, side, Some(frame), caption);
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

impl Lab for KnnLab {
    fn info(&self) -> LabInfo {
        LabInfo { name: "knn", title: "k-nearest neighbours", section: "Classification" }
    }

    fn claims_file(&self, path: &std::path::Path) -> bool {
        super::is_dataset(path)
    }

    fn open_file(&mut self, path: &std::path::Path) {
        match self.picker.open(path) {
            Ok(source) => self.load(source),
            Err(e) => self.status = format!("could not load: {e}"),
        }
    }

    fn controls(&mut self, ui: &mut egui::Ui) {
        self.poll();
        ui.add_enabled_ui(self.loading.is_none(), |ui| {
            if ui.add_enabled(self.name != "digits", egui::Button::new("Use the built-in 8x8 digits")).clicked() {
                self.load(Source::Digits);
            }
            egui::CollapsingHeader::new("Open a dataset (MNIST, Fashion-MNIST, CIFAR, image folder)").show(ui, |ui| match self.picker.ui(ui) {
                Some(Ok(source)) => self.load(source),
                Some(Err(e)) => self.status = format!("could not load: {e}"),
                None => {}
            });
        });
        if self.loading.is_some() {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("loading");
            });
        }
        ui.label(format!("{}: {} training, {} test images", self.name, self.train.len(), self.test.len()));
        let own_test = self.data.as_ref().is_some_and(|l| l.test.is_some());
        let (max_train, max_test) = (self.max_train(), self.max_test());
        let mut split = ui.add(egui::Slider::new(&mut self.train_count, 1..=max_train).logarithmic(true).text("training images")).changed();
        split |= ui.add(egui::Slider::new(&mut self.test_count, 1..=max_test).logarithmic(true).text("test images")).changed();
        split |= ui.add_enabled(!own_test, egui::Slider::new(&mut self.seed, 0..=100).text("split seed")).changed();
        if own_test {
            ui.label(egui::RichText::new("test images come from the source's own test split").small());
        }
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
        if self.predicting.is_some() {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label(format!("predicting {} test images", self.test.len()));
            });
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
        if self.busy() {
            ui.ctx().request_repaint();
        }
    }

    fn view(&mut self, ui: &mut egui::Ui) {
        // the first look at the lab starts the curve
        if !self.cv_started && self.data.is_some() {
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
        format!("{}, k = {}, {:?}{acc}{cv}", self.name, self.k, self.metric)
    }

    fn busy(&self) -> bool {
        self.cv_job.is_some() || self.loading.is_some() || self.predicting.is_some()
    }
}
