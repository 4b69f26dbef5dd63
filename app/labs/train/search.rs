//! The hyperparameter search tab: grid or random search over the learning
//! rate and the L2 strength, each point a short run of the lab's current
//! network on a worker thread, shown as a scatter coloured by validation
//! accuracy.

use vislab_engine::csv_file;
use vislab_engine::job::{Ctx, Ended, Job, JobEvent};
use vislab_engine::train::search::{SearchKind, SearchSpace, Trial, run_trial};

use super::{Settings, Splits};
use crate::render::colormap::Colormap;
use crate::widgets::export::PngExport;
use egui_plot::MarkerShape;

use crate::widgets::scatter::value_scatter;

enum Message {
    Trial(Trial),
    Failed(String),
    /// The search ended (with what failed it, if anything did).
    Done(Option<String>),
}

impl JobEvent for Message {
    fn ended(end: Ended) -> Option<Self> {
        Some(Message::Done(end.error))
    }
}

/// The running search; dropping it stops after the current trial.
struct Running {
    job: Job<Message>,
    total: usize,
    kind: SearchKind,
}

pub struct Search {
    kind: SearchKind,
    trials: usize,
    space: SearchSpace,
    epochs: usize,
    seed: u64,
    running: Option<Running>,
    /// The last search of each kind, kept side by side to compare.
    results: Vec<(SearchKind, Trial)>,
    status: String,
    export: PngExport,
    plot: Option<egui::Rect>,
}

impl Search {
    pub fn new() -> Search {
        Search {
            kind: SearchKind::Random,
            trials: 9,
            space: SearchSpace { lr: [1e-4, 1e-1], reg: [1e-6, 1e-1] },
            epochs: 2,
            seed: 0,
            running: None,
            results: Vec::new(),
            status: String::new(),
            export: PngExport::default(),
            plot: None,
        }
    }

    pub fn running(&self) -> bool {
        self.running.is_some()
    }

    fn start(&mut self, d: &Splits, settings: &Settings) {
        let points = match self.space.points(self.kind, self.trials, self.seed) {
            Ok(p) => p,
            Err(e) => {
                self.status = e.to_string();
                return;
            }
        };
        let points_len = points.len();
        let (settings, image, train, val, epochs) = (settings.clone(), d.image, d.train.clone(), d.val.clone(), self.epochs);
        let job = Job::start("vislab-search", move |ctx: &mut Ctx<Message, ()>| {
            for p in points {
                if !ctx.go_on() {
                    break;
                }
                let msg = settings
                    .job_for(image, &train, &val, p.lr, p.reg, epochs)
                    .and_then(|job| run_trial(p, job).map_err(|e| e.to_string()))
                    .map_or_else(Message::Failed, Message::Trial);
                ctx.send(msg);
            }
        });
        let job = match job {
            Ok(j) => j,
            Err(e) => {
                self.status = e;
                return;
            }
        };
        let kind = self.kind;
        self.results.retain(|(k, _)| *k != kind);
        self.status.clear();
        self.running = Some(Running { job, total: points_len, kind });
    }

    fn poll(&mut self) {
        let Some(r) = &self.running else { return };
        let mut done = false;
        while let Ok(m) = r.job.events().try_recv() {
            match m {
                Message::Trial(t) => self.results.push((r.kind, t)),
                Message::Failed(e) => self.status = format!("a trial failed: {e}"),
                Message::Done(error) => {
                    if let Some(e) = error {
                        self.status = format!("the search failed: {e}");
                    }
                    done = true;
                }
            }
        }
        if done {
            self.running = None;
        }
    }

    fn trials(&self, kind: SearchKind) -> impl Iterator<Item = &Trial> {
        self.results.iter().filter(move |(k, _)| *k == kind).map(|(_, t)| t)
    }

    /// Each kind's outcome, once it has one: "Grid search, 9 trials: best
    /// validation accuracy ...; Random search, ...".
    pub fn best_line(&self) -> Option<String> {
        let lines: Vec<String> = [SearchKind::Grid, SearchKind::Random]
            .into_iter()
            .filter_map(|kind| {
                let n = self.trials(kind).count();
                let b = self.trials(kind).fold(None, |b: Option<&Trial>, t| if b.is_none_or(|b| t.val_acc > b.val_acc) { Some(t) } else { b })?;
                Some(format!("{kind:?} search, {n} trials: best validation accuracy {:.2}% at learning rate {:.2e}, L2 {:.2e}", 100.0 * b.val_acc, b.point.lr, b.point.reg))
            })
            .collect();
        (!lines.is_empty()).then(|| lines.join("; "))
    }

    fn to_csv(&self) -> String {
        let rows = self.results.iter().map(|(k, t)| [format!("{k:?}"), t.point.lr.to_string(), t.point.reg.to_string(), t.val_acc.to_string(), t.val_loss.to_string()]);
        csv_file::to_string(&["search", "learning_rate", "l2", "val_acc", "val_loss"], rows)
    }

    pub fn view(&mut self, ui: &mut egui::Ui, d: &Splits, settings: &Settings, idle: bool) {
        self.poll();
        self.export.poll(ui.ctx());
        let busy = self.running.is_some();
        ui.add_enabled_ui(!busy, |ui| {
            ui.spacing_mut().slider_width = 110.0;
            ui.horizontal(|ui| {
                ui.radio_value(&mut self.kind, SearchKind::Random, "random search");
                ui.radio_value(&mut self.kind, SearchKind::Grid, "grid search");
                ui.add(egui::Slider::new(&mut self.trials, 1..=49).text("trials"));
            });
            let sci = |v: f64, _: std::ops::RangeInclusive<usize>| format!("{v:.1e}");
            for (name, range, lo) in [("learning rate", &mut self.space.lr, 1e-6f32), ("L2 strength", &mut self.space.reg, 1e-9)] {
                ui.horizontal(|ui| {
                    ui.add(egui::Slider::new(&mut range[0], lo..=1.0).logarithmic(true).custom_formatter(sci).text(format!("{name} from")));
                    ui.add(egui::Slider::new(&mut range[1], lo..=1.0).logarithmic(true).custom_formatter(sci).text("to"));
                });
            }
        });
        ui.horizontal(|ui| {
            ui.spacing_mut().slider_width = 80.0;
            ui.add_enabled(!busy, egui::Slider::new(&mut self.epochs, 1..=10).text("epochs each"));
            ui.add_enabled(!busy, egui::Slider::new(&mut self.seed, 0..=100).text("seed"));
        });
        ui.horizontal(|ui| {
            if ui.add_enabled(!busy && idle, egui::Button::new("Run search")).clicked() {
                self.start(d, settings);
            }
            if busy && ui.button("Cancel search").clicked() {
                self.running = None;
                self.status = "search cancelled".into();
            }
            if !self.results.is_empty() && !busy {
                if ui.button("CSV").clicked() {
                    let csv = self.to_csv();
                    super::save_text(&mut self.status, "search.csv", &csv);
                }
                if let Some(rect) = self.plot
                    && ui.button("PNG").clicked()
                {
                    self.export.request(ui.ctx(), rect, "search.png");
                }
            }
        });
        if let Some(r) = &self.running {
            let done = self.trials(r.kind).count();
            let text = format!("trial {}/{} (each {} epochs of the network set on the right)", done + 1, r.total, self.epochs);
            ui.add(egui::ProgressBar::new(done as f32 / r.total.max(1) as f32).text(text));
            ui.ctx().request_repaint();
        }
        let line = self.best_line().unwrap_or_else(|| "Each trial trains the current network briefly; the scatter shows where validation accuracy is high.".into());
        ui.label(line);
        for m in [&self.status, self.export.message.as_deref().unwrap_or("")] {
            if !m.is_empty() {
                ui.label(m);
            }
        }
        let series: Vec<(&str, MarkerShape, Vec<[f64; 3]>)> =
            [(SearchKind::Grid, "grid (squares)", MarkerShape::Square), (SearchKind::Random, "random (circles)", MarkerShape::Circle)]
                .into_iter()
                .map(|(kind, name, shape)| (name, shape, self.trials(kind).map(|t| [(t.point.lr as f64).log10(), (t.point.reg as f64).log10(), t.val_acc as f64]).collect()))
                .collect();
        let accs = || self.results.iter().map(|(_, t)| t.val_acc);
        let lo = accs().fold(1.0f32, f32::min).min(0.9);
        let hi = accs().fold(0.0f32, f32::max).max(lo + 0.01);
        self.plot = Some(value_scatter(ui, "search-scatter", &series, ["log10 learning rate", "log10 L2 strength"], Colormap::Viridis, [lo, hi], "validation accuracy"));
    }
}
