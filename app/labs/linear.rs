//! Linear classifiers: multiclass SVM or softmax loss, L2 / L1 / elastic
//! regularization, trained live by SGD on a worker thread. On images the
//! rows of W are shown as one template per class (the visual viewpoint);
//! on 2D toy sets the decision regions and each class's line
//! w_c . x + b_c = 0 (the geometric viewpoint). Live loss curve, accuracy.

use std::sync::Arc;
use std::time::{Duration, Instant};

use vislab_engine::data::split::ChannelStats;
use vislab_engine::data::toy2d::{self, Toy};
use vislab_engine::data::{Dataset, Loaded, Source};
use vislab_engine::job::{Ctx, Ended, Job, JobEvent, Task};
use vislab_engine::linear::{self, LinearClassifier, LinearConfig, LinearTrainer, Loss, Reg};

use super::{Lab, LabInfo};
use crate::render::image::ScalarImage;
use crate::widgets::curves::Curves;
use crate::widgets::data_picker::DataPicker;
use crate::widgets::gallery;
use crate::widgets::regions::{self, RegionPlot};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Data {
    Digits,
    Blobs,
    Spiral,
    Circles,
    Xor,
    /// Whatever the picker loaded last.
    Disk,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RegKind {
    L2,
    L1,
    Elastic,
}

/// Decision regions are evaluated on a GRID x GRID lattice.
const GRID: usize = 64;
/// Share of an image set held out for testing when it has no test split.
const TEST_FRACTION: f32 = 0.2;

enum Msg {
    Step {
        step: usize,
        data_loss: f32,
        reg_loss: f32,
    },
    Model(LinearClassifier),
    /// Train and test accuracy of the final model, or why it stopped.
    Done(Result<(f32, f32), String>),
}

impl JobEvent for Msg {
    fn ended(end: Ended) -> Option<Self> {
        end.error.map(|e| Msg::Done(Err(e)))
    }
}

/// A training run; dropping it stops the worker.
type Run = Job<Msg>;

pub struct LinearLab {
    data: Data,
    seed: u64,
    loss: Loss,
    reg: RegKind,
    l1_ratio: f32,
    strength: f32,
    lr: f32,
    batch: usize,
    steps: usize,
    picker: DataPicker,
    disk: Option<(String, Arc<Loaded>)>,
    loading: Option<Task<Result<(String, Loaded), String>>>,
    /// Normalized training and test sets, and what a sample looks like.
    train: Arc<Dataset>,
    test: Arc<Dataset>,
    classes: Vec<String>,
    run: Option<Run>,
    model: Option<LinearClassifier>,
    templates: Vec<Arc<ScalarImage>>,
    curves: Curves,
    first_loss: Option<f32>,
    step: usize,
    accuracy: Option<(f32, f32)>,
    status: String,
}

impl Default for LinearLab {
    fn default() -> Self {
        Self::new()
    }
}

impl LinearLab {
    pub fn new() -> Self {
        let empty = Arc::new(Dataset::new(vec![0.0, 0.0], vec![2], vec![0], 2).unwrap_or_else(|_| unreachable!()));
        let mut lab = LinearLab {
            data: Data::Digits,
            seed: 1,
            loss: Loss::Softmax,
            reg: RegKind::L2,
            l1_ratio: 0.5,
            strength: 1e-3,
            lr: 0.5,
            batch: 64,
            steps: 400,
            picker: DataPicker::default(),
            disk: None,
            loading: None,
            train: empty.clone(),
            test: empty,
            classes: Vec::new(),
            run: None,
            model: None,
            templates: Vec::new(),
            curves: Curves::new("linear-loss", "step", "loss").smoothed(0.8),
            first_loss: None,
            step: 0,
            accuracy: None,
            status: String::new(),
        };
        lab.prepare();
        lab
    }

    /// Load a picked or dropped dataset on a worker thread.
    fn load(&mut self, source: vislab_engine::data::Source) {
        let name = format!("{} ({})", source.kind(), self.picker.path.rsplit(['/', '\\']).find(|s| !s.is_empty()).unwrap_or(""));
        self.loading = Some(Task::spawn("vislab-linear", move |_| source.load().map(|l| (name, l)).map_err(|e| e.to_string())));
        self.status = "loading".into();
    }

    fn is_2d(&self) -> bool {
        self.train.sample_shape() == [2]
    }

    fn extent(&self) -> f32 {
        if self.data == Data::Blobs { 3.5 } else { 1.3 }
    }

    /// Build the training and test sets of the chosen data.
    fn prepare(&mut self) {
        self.run = None;
        self.model = None;
        self.templates.clear();
        self.curves.clear();
        self.first_loss = None;
        self.accuracy = None;
        self.step = 0;
        let toy = Toy { per_class: 100, noise: 0.25, seed: self.seed };
        let made: Result<(Dataset, Dataset, Vec<String>), String> = match self.data {
            Data::Blobs | Data::Spiral | Data::Circles | Data::Xor => {
                let d = match self.data {
                    Data::Blobs => toy2d::blobs(Toy { noise: 0.6, ..toy }, 3),
                    Data::Spiral => toy2d::spiral(toy, 3),
                    Data::Circles => toy2d::circles(Toy { noise: 0.1, ..toy }, 0.5),
                    _ => toy2d::xor(Toy { noise: 0.0, ..toy }),
                };
                d.map(|d| {
                    let names = (0..d.num_classes()).map(|c| c.to_string()).collect();
                    (d.clone(), d, names)
                })
                .map_err(|e| e.to_string())
            }
            Data::Digits => Source::Digits.load().map_err(|e| e.to_string()).and_then(|l| self.normalized(&l)),
            Data::Disk => match &self.disk {
                Some((_, l)) => self.normalized(&l.clone()),
                None => Err("load a dataset with the picker first".into()),
            },
        };
        match made {
            Ok((train, test, classes)) => {
                self.train = Arc::new(train);
                self.test = Arc::new(test);
                self.classes = classes;
                self.status.clear();
            }
            Err(e) => self.status = e,
        }
    }

    /// Train / test split of an image set, normalized per channel with the
    /// training split's statistics.
    fn normalized(&self, l: &Loaded) -> Result<(Dataset, Dataset, Vec<String>), String> {
        let (train, test) = l.train_test(TEST_FRACTION, self.seed).map_err(|e| e.to_string())?;
        let stats = ChannelStats::compute(&train).map_err(|e| e.to_string())?;
        Ok((stats.apply(&train).map_err(|e| e.to_string())?, stats.apply(&test).map_err(|e| e.to_string())?, l.classes.clone()))
    }

    fn config(&self) -> LinearConfig {
        let reg = match self.reg {
            RegKind::L2 => Reg::L2,
            RegKind::L1 => Reg::L1,
            RegKind::Elastic => Reg::Elastic { l1_ratio: self.l1_ratio },
        };
        LinearConfig { loss: self.loss, reg, strength: self.strength, lr: self.lr, batch: self.batch, seed: self.seed }
    }

    fn start(&mut self) {
        self.curves.clear();
        self.first_loss = None;
        self.accuracy = None;
        self.step = 0;
        let (train, test, cfg, steps) = (self.train.clone(), self.test.clone(), self.config(), self.steps);
        let job = Job::start("vislab-linear", move |ctx: &mut Ctx<Msg, ()>| {
            let mut t = LinearTrainer::new(&train, cfg);
            let mut shown = Instant::now();
            for _ in 0..steps {
                if !ctx.go_on() {
                    break;
                }
                match t.step(&train) {
                    Ok(s) => {
                        ctx.send(Msg::Step { step: s.step, data_loss: s.data_loss, reg_loss: s.reg_loss });
                    }
                    Err(e) => {
                        ctx.send(Msg::Done(Err(e.to_string())));
                        return;
                    }
                }
                // a fresh picture of W a few times a second is enough
                if shown.elapsed() > Duration::from_millis(60) {
                    shown = Instant::now();
                    ctx.send(Msg::Model(t.model.clone()));
                }
            }
            ctx.send(Msg::Model(t.model.clone()));
            let acc = t.model.accuracy(&train).and_then(|a| Ok((a, t.model.accuracy(&test)?)));
            ctx.send(Msg::Done(acc.map_err(|e| e.to_string())));
        });
        match job {
            Ok(j) => self.run = Some(j),
            Err(e) => {
                self.status = e;
                return;
            }
        }
        self.status = "training".into();
    }

    fn poll(&mut self) {
        if let Some(task) = &self.loading
            && let Some(r) = task.poll()
        {
            self.loading = None;
            match r {
                Ok(Ok((name, l))) => {
                    self.disk = Some((name, Arc::new(l)));
                    self.data = Data::Disk;
                    self.prepare();
                }
                Ok(Err(e)) => self.status = e,
                Err(e) => self.status = format!("the loader stopped unexpectedly: {e}"),
            }
        }
        let Some(run) = &self.run else { return };
        let mut model = None;
        let mut done = None;
        while let Ok(m) = run.events().try_recv() {
            match m {
                Msg::Step { step, data_loss, reg_loss } => {
                    self.first_loss.get_or_insert(data_loss + reg_loss);
                    self.step = step;
                    self.curves.push("total loss", step as f64, (data_loss + reg_loss) as f64);
                    self.curves.push("data loss", step as f64, data_loss as f64);
                }
                Msg::Model(m) => model = Some(m),
                Msg::Done(r) => done = Some(r),
            }
        }
        if let Some(m) = model {
            self.set_model(m);
        }
        match done {
            Some(Ok(acc)) => {
                self.accuracy = Some(acc);
                self.status = if self.step < self.steps { "stopped".into() } else { "finished".into() };
                self.run = None;
            }
            Some(Err(e)) => {
                self.status = format!("training failed: {e}");
                self.run = None;
            }
            None => {}
        }
    }

    fn set_model(&mut self, m: LinearClassifier) {
        if !self.is_2d() {
            let shape = self.train.sample_shape().to_vec();
            self.templates = (0..m.classes).filter_map(|c| m.template(c)).map(|t| gallery::sample_image(&shape, &gallery::stretch(t))).collect();
        }
        self.model = Some(m);
    }

    fn last_loss(&self) -> Option<f64> {
        self.curves.last("total loss")
    }

    fn templates_view(&self, ui: &mut egui::Ui) {
        ui.label(egui::RichText::new("weights W as one template per class (stretched to black..white)").strong());
        let side = if self.templates.len() > 20 { 32.0 } else { 56.0 };
        let items: Vec<(usize, &Arc<ScalarImage>)> = self.templates.iter().enumerate().collect();
        gallery::grid(ui, &items, side, |ui, (c, img)| {
            gallery::sample_tile(ui, img, side, None, self.classes.get(*c).map_or("", |n| n.as_str()));
        });
    }

    fn plane_view(&self, ui: &mut egui::Ui, size: f32) {
        ui.label(egui::RichText::new("decision regions, lines w_c . x + b_c = 0, and the data").strong());
        let e = self.extent();
        let (mut cells, mut lines) = (None, Vec::new());
        if let Some(m) = &self.model {
            let pts = regions::lattice(GRID, e);
            cells = pts.chunks(2).map(|p| m.predict(p).map(|c| c as u8)).collect::<Result<Vec<u8>, _>>().ok();
            for c in 0..m.classes {
                if let (Some(&[w0, w1]), Some(&b)) = (m.template(c), m.b.get(c))
                    && let Some((a, z)) = linear::hyperplane_segment([w0, w1], b, e)
                {
                    lines.push((a, z, c));
                }
            }
        }
        RegionPlot { extent: e, regions: cells.as_deref().map(|c| (c, GRID)), lines, data: &self.train }.show(ui, size);
    }
}

impl Lab for LinearLab {
    fn info(&self) -> LabInfo {
        LabInfo { name: "linear", title: "Linear classifier", section: "Classification" }
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
        let training = self.run.is_some();
        ui.add_enabled_ui(!training, |ui| {
            ui.label("data");
            let mut changed = false;
            ui.horizontal_wrapped(|ui| {
                for (d, name) in
                    [(Data::Digits, "8x8 digits"), (Data::Blobs, "Blobs (2D)"), (Data::Spiral, "Spiral (2D)"), (Data::Circles, "Circles (2D)"), (Data::Xor, "Xor (2D)")]
                {
                    changed |= ui.radio_value(&mut self.data, d, name).changed();
                }
                if let Some((name, _)) = &self.disk {
                    changed |= ui.radio_value(&mut self.data, Data::Disk, name.as_str()).changed();
                }
            });
            changed |= ui.add(egui::Slider::new(&mut self.seed, 0..=100).text("seed")).changed();
            egui::CollapsingHeader::new("open a dataset (MNIST, CIFAR, image folder)").show(ui, |ui| {
                if let Some(r) = self.picker.ui(ui) {
                    match r {
                        Ok(source) => self.load(source),
                        Err(e) => self.status = e,
                    }
                }
            });
            if changed {
                self.prepare();
            }
            ui.separator();
            ui.horizontal(|ui| {
                ui.label("loss");
                ui.radio_value(&mut self.loss, Loss::Softmax, "softmax");
                ui.radio_value(&mut self.loss, Loss::Svm { margin: 1.0 }, "multiclass SVM");
            });
            ui.horizontal(|ui| {
                ui.label("regularization");
                ui.radio_value(&mut self.reg, RegKind::L2, "L2");
                ui.radio_value(&mut self.reg, RegKind::L1, "L1");
                ui.radio_value(&mut self.reg, RegKind::Elastic, "elastic");
            });
            if self.reg == RegKind::Elastic {
                ui.add(egui::Slider::new(&mut self.l1_ratio, 0.0..=1.0).text("L1 share"));
            }
            ui.add(egui::Slider::new(&mut self.strength, 1e-5..=1.0).logarithmic(true).text("strength"));
            ui.add(egui::Slider::new(&mut self.lr, 1e-3..=5.0).logarithmic(true).text("learning rate"));
            ui.add(egui::Slider::new(&mut self.batch, 1..=512).logarithmic(true).text("batch size"));
            ui.add(egui::Slider::new(&mut self.steps, 10..=5000).logarithmic(true).text("steps"));
        });
        ui.horizontal(|ui| {
            if ui.add_enabled(!training && self.loading.is_none(), egui::Button::new("Train")).clicked() {
                self.start();
            }
            if training
                && ui.button("Stop").clicked()
                && let Some(r) = &self.run
            {
                r.stop();
            }
        });
        if training {
            ui.add(egui::ProgressBar::new(self.step as f32 / self.steps.max(1) as f32).text(format!("step {} of {}", self.step, self.steps)));
        }
        if let Some((tr, te)) = self.accuracy {
            ui.label(egui::RichText::new(format!("train accuracy {:.1}%, test accuracy {:.1}%", 100.0 * tr, 100.0 * te)).strong());
        }
        ui.label(format!("{} training, {} test samples, {} classes", self.train.len(), self.test.len(), self.train.num_classes()));
        if !self.status.is_empty() {
            ui.label(&self.status);
        }
        if training || self.loading.is_some() {
            ui.ctx().request_repaint();
        }
    }

    fn view(&mut self, ui: &mut egui::Ui) {
        self.poll();
        if self.is_2d() {
            let side = (ui.available_height() - 24.0).min(ui.available_width() * 0.5).max(64.0);
            ui.horizontal_top(|ui| {
                ui.vertical(|ui| self.plane_view(ui, side));
                ui.vertical(|ui| {
                    ui.label(egui::RichText::new("training loss").strong());
                    self.curves.show(ui, side);
                });
            });
        } else {
            self.templates_view(ui);
            ui.separator();
            ui.label(egui::RichText::new("training loss").strong());
            let h = ui.available_height() - 8.0;
            self.curves.show(ui, h.max(80.0));
        }
    }

    fn summary(&self) -> String {
        let name = match (self.data, &self.disk) {
            (Data::Disk, Some((n, _))) => n.clone(),
            (d, _) => format!("{d:?}"),
        };
        let loss = match self.loss {
            Loss::Softmax => "softmax",
            Loss::Svm { .. } => "SVM",
        };
        let mut s = format!("{name}, {loss}, {:?} {:.0e}", self.reg, self.strength);
        if let (Some(a), Some(b)) = (self.first_loss, self.last_loss()) {
            s += &format!(": step {}/{}, loss {a:.4} -> {b:.4}", self.step, self.steps);
        }
        if let Some((tr, te)) = self.accuracy {
            s += &format!(", train accuracy {:.2}%, test accuracy {:.2}%", 100.0 * tr, 100.0 * te);
        }
        if !self.status.is_empty() {
            s += &format!(" ({})", self.status);
        }
        s
    }

    fn busy(&self) -> bool {
        self.run.is_some() || self.loading.is_some()
    }
}
