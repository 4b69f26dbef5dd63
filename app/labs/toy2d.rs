//! Neural networks on 2D data: a small MLP trained on the spot (on a worker
//! thread) on spiral, circles, xor or blob data, with its decision regions
//! redrawn every epoch and live loss and accuracy curves.

use std::sync::Arc;

use egui_plot::{Legend, Line, Plot, PlotPoints};
use vislab_engine::data::toy2d::{self, Toy};
use vislab_engine::data::{Batch, Dataset};
use vislab_engine::models::{GraphModel, Mlp};
use vislab_engine::optim::Schedule;
use vislab_engine::registry::{self, OPTIMIZERS, OptimizerKind};
use vislab_engine::train::{Event, Job, TrainConfig, TrainerHandle};

use super::{Lab, LabInfo};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Problem {
    Spiral,
    Circles,
    Xor,
    Blobs,
}

/// Decision regions are evaluated on a GRID x GRID lattice over [-1.2, 1.2]^2.
const GRID: usize = 64;
const EXTENT: f32 = 1.2;
/// Class colors (regions are drawn lighter, points darker).
const COLORS: [[u8; 3]; 4] = [[66, 133, 244], [234, 67, 53], [251, 188, 5], [52, 168, 83]];

pub struct Toy2dLab {
    problem: Problem,
    per_class: usize,
    noise: f32,
    seed: u64,
    hidden: usize,
    /// Hidden layers.
    layers: usize,
    optimizer: &'static OptimizerKind,
    lr: f32,
    epochs: usize,
    batch: usize,
    data: Arc<Dataset>,
    trainer: Option<TrainerHandle<Vec<u8>>>,
    paused: bool,
    /// (step, loss) and its exponential moving average.
    losses: Vec<[f64; 2]>,
    smoothed: Vec<[f64; 2]>,
    /// (epoch, train accuracy).
    accuracy: Vec<[f64; 2]>,
    regions: Option<Vec<u8>>,
    status: String,
}

impl Default for Toy2dLab {
    fn default() -> Self {
        Self::new()
    }
}

impl Toy2dLab {
    pub fn new() -> Self {
        let mut lab = Toy2dLab {
            problem: Problem::Spiral,
            per_class: 150,
            noise: 0.2,
            seed: 1,
            hidden: 32,
            layers: 2,
            optimizer: registry::optimizer("adam").expect("adam is registered"),
            lr: 0.01,
            epochs: 200,
            batch: 32,
            data: Arc::new(Dataset::new(vec![0.0, 0.0], vec![2], vec![0], 2).unwrap_or_else(|_| unreachable!())),
            trainer: None,
            paused: false,
            losses: Vec::new(),
            smoothed: Vec::new(),
            accuracy: Vec::new(),
            regions: None,
            status: String::new(),
        };
        lab.regenerate();
        lab
    }

    fn classes(&self) -> usize {
        match self.problem {
            Problem::Spiral => 3,
            Problem::Circles | Problem::Xor => 2,
            Problem::Blobs => 4,
        }
    }

    fn regenerate(&mut self) {
        self.stop();
        let t = Toy { per_class: self.per_class, noise: self.noise, seed: self.seed };
        let made = match self.problem {
            Problem::Spiral => toy2d::spiral(t, 3),
            Problem::Circles => toy2d::circles(t, 0.5),
            Problem::Xor => toy2d::xor(t),
            Problem::Blobs => toy2d::blobs(t, 4),
        };
        match made {
            Ok(d) => self.data = Arc::new(d),
            Err(e) => self.status = format!("could not make the data: {e}"),
        }
        self.regions = None;
        self.losses.clear();
        self.smoothed.clear();
        self.accuracy.clear();
    }

    fn start(&mut self) {
        self.stop();
        self.losses.clear();
        self.smoothed.clear();
        self.accuracy.clear();
        // the engine's graph MLP: autograd and our CPU compiler, as every lab trains
        let mut sizes = vec![2];
        sizes.extend(std::iter::repeat_n(self.hidden, self.layers));
        sizes.push(self.classes());
        let model = match Mlp::new(&sizes).build().map_err(|e| e.to_string()).and_then(|net| GraphModel::new(net, self.seed).map_err(|e| e.to_string())) {
            Ok(m) => m,
            Err(e) => {
                self.status = format!("could not build the model: {e}");
                return;
            }
        };
        let optimizer = self.optimizer.build(self.lr);
        let mut config = TrainConfig::new(self.epochs, self.batch, Schedule::constant(self.lr));
        config.seed = self.seed;
        let grid = grid_batch();
        let hook = Box::new(move |model: &mut dyn vislab_engine::train::Model, _| {
            let scores = model.predict(&grid).ok()?;
            let classes = scores.len() / (GRID * GRID);
            Some(scores.chunks(classes.max(1)).map(|s| argmax(s) as u8).collect())
        });
        match Job::new(Box::new(model), optimizer, self.data.clone(), config).samples(hook).spawn() {
            Ok(h) => {
                self.trainer = Some(h);
                self.paused = false;
                self.status = "training".into();
            }
            Err(e) => self.status = format!("could not start training: {e}"),
        }
    }

    fn stop(&mut self) {
        if let Some(t) = self.trainer.take() {
            t.stop();
        }
    }

    /// Drain the trainer's events into the curves.
    fn poll(&mut self) {
        let Some(t) = &self.trainer else { return };
        let mut ended = None;
        while let Ok(ev) = t.events().try_recv() {
            match ev {
                Event::Step { step, loss, .. } => {
                    let s = step as f64;
                    let ema = self.smoothed.last().map_or(loss as f64, |p| 0.95 * p[1] + 0.05 * loss as f64);
                    self.losses.push([s, loss as f64]);
                    self.smoothed.push([s, ema]);
                }
                Event::Epoch(m) => {
                    self.accuracy.push([m.epoch as f64, m.train_acc as f64]);
                    self.status = format!("epoch {}/{}: loss {:.4}, accuracy {:.1}%", m.epoch, self.epochs, m.train_loss, 100.0 * m.train_acc);
                }
                Event::Samples { data, .. } => self.regions = Some(data),
                Event::Stopped { reason } => ended = Some(format!("{} ({})", self.status, reason)),
                Event::Failed { message } => ended = Some(format!("training failed: {message}")),
            }
        }
        if let Some(msg) = ended {
            self.status = msg;
            self.trainer = None;
        }
    }

    fn plot_regions(&self, ui: &mut egui::Ui, size: f32) {
        let (rect, _) = ui.allocate_exact_size(egui::vec2(size, size), egui::Sense::hover());
        let painter = ui.painter_at(rect);
        painter.rect_filled(rect, 0.0, egui::Color32::from_gray(240));
        let to_screen = |x: f32, y: f32| egui::pos2(rect.left() + (x + EXTENT) / (2.0 * EXTENT) * rect.width(), rect.bottom() - (y + EXTENT) / (2.0 * EXTENT) * rect.height());
        if let Some(regions) = &self.regions {
            let cell = rect.width() / GRID as f32;
            for (i, &c) in regions.iter().enumerate() {
                let (gx, gy) = (i % GRID, i / GRID);
                let [r, g, b] = COLORS[c as usize % COLORS.len()];
                let light = egui::Color32::from_rgb(lighten(r), lighten(g), lighten(b));
                let min = egui::pos2(rect.left() + gx as f32 * cell, rect.bottom() - (gy + 1) as f32 * cell);
                painter.rect_filled(egui::Rect::from_min_size(min, egui::vec2(cell + 0.5, cell + 0.5)), 0.0, light);
            }
        }
        for (x, &y) in self.data.x().chunks(2).zip(self.data.y()) {
            let [r, g, b] = COLORS[y % COLORS.len()];
            painter.circle(to_screen(x[0], x[1]), 3.0, egui::Color32::from_rgb(r, g, b), egui::Stroke::new(0.6, egui::Color32::from_gray(30)));
        }
    }
}

fn lighten(c: u8) -> u8 {
    (c as u16 + (255 - c as u16) * 3 / 5) as u8
}

fn argmax(v: &[f32]) -> usize {
    v.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map_or(0, |(i, _)| i)
}

/// The lattice the decision regions are evaluated on, row by row from the bottom.
fn grid_batch() -> Batch {
    let step = 2.0 * EXTENT / GRID as f32;
    let x = (0..GRID * GRID).flat_map(|i| [-EXTENT + (i % GRID) as f32 * step + step / 2.0, -EXTENT + (i / GRID) as f32 * step + step / 2.0]).collect();
    Batch { x, shape: vec![GRID * GRID, 2], y: vec![0; GRID * GRID] }
}

impl Lab for Toy2dLab {
    fn info(&self) -> LabInfo {
        LabInfo { name: "toy2d", title: "Neural network on 2D data", section: "Neural networks" }
    }

    fn controls(&mut self, ui: &mut egui::Ui) {
        self.poll();
        let training = self.trainer.is_some();
        ui.add_enabled_ui(!training, |ui| {
            let mut changed = false;
            egui::ComboBox::from_label("data").selected_text(format!("{:?}", self.problem)).show_ui(ui, |ui| {
                for p in [Problem::Spiral, Problem::Circles, Problem::Xor, Problem::Blobs] {
                    changed |= ui.selectable_value(&mut self.problem, p, format!("{p:?}")).changed();
                }
            });
            changed |= ui.add(egui::Slider::new(&mut self.per_class, 20..=500).text("points per class")).changed();
            changed |= ui.add(egui::Slider::new(&mut self.noise, 0.0..=1.0).text("noise")).changed();
            changed |= ui.add(egui::Slider::new(&mut self.seed, 0..=100).text("seed")).changed();
            if changed {
                self.regenerate();
            }
            ui.separator();
            ui.add(egui::Slider::new(&mut self.layers, 1..=4).text("hidden layers"));
            ui.add(egui::Slider::new(&mut self.hidden, 2..=256).logarithmic(true).text("units per layer"));
            egui::ComboBox::from_label("optimizer").selected_text(self.optimizer.title).show_ui(ui, |ui| {
                for o in &OPTIMIZERS {
                    ui.selectable_value(&mut self.optimizer, o, o.title);
                }
            });
            ui.add(egui::Slider::new(&mut self.epochs, 1..=1000).logarithmic(true).text("epochs"));
            ui.add(egui::Slider::new(&mut self.batch, 1..=256).logarithmic(true).text("batch size"));
        });
        // the learning rate can change while training
        if ui.add(egui::Slider::new(&mut self.lr, 1e-4..=1.0).logarithmic(true).text("learning rate")).changed()
            && let Some(t) = &self.trainer
        {
            t.set_lr(self.lr);
        }
        ui.horizontal(|ui| {
            if ui.add_enabled(!training, egui::Button::new("Train")).clicked() {
                self.start();
            }
            if let Some(t) = &self.trainer {
                if ui.button(if self.paused { "Resume" } else { "Pause" }).clicked() {
                    if self.paused {
                        t.resume()
                    } else {
                        t.pause()
                    }
                    self.paused = !self.paused;
                }
                if ui.button("Stop").clicked() {
                    self.stop();
                    self.status += " (stopped)";
                }
            }
        });
        ui.label(&self.status);
        if training {
            ui.ctx().request_repaint();
        }
    }

    fn view(&mut self, ui: &mut egui::Ui) {
        self.poll();
        let side = ui.available_height().min(ui.available_width() * 0.5) - 8.0;
        ui.horizontal_top(|ui| {
            ui.vertical(|ui| {
                ui.label(egui::RichText::new("decision regions and training data").strong());
                self.plot_regions(ui, side.max(64.0));
            });
            ui.vertical(|ui| {
                let h = (ui.available_height() - 40.0) / 2.0;
                ui.label(egui::RichText::new("training loss").strong());
                Plot::new("loss").height(h).legend(Legend::default()).show(ui, |p| {
                    p.line(Line::new("loss", PlotPoints::from(self.losses.clone())).color(egui::Color32::from_gray(120)));
                    p.line(Line::new("EMA", PlotPoints::from(self.smoothed.clone())).width(2.0));
                });
                ui.label(egui::RichText::new("training accuracy per epoch").strong());
                Plot::new("accuracy").height(h).include_y(0.0).include_y(1.0).show(ui, |p| {
                    p.line(Line::new("accuracy", PlotPoints::from(self.accuracy.clone())).width(2.0));
                });
            });
        });
    }

    fn summary(&self) -> String {
        let data = format!("{:?}: {} points, {} classes", self.problem, self.data.len(), self.classes());
        if self.status.is_empty() { data } else { format!("{data} · {}", self.status) }
    }

    fn busy(&self) -> bool {
        self.trainer.is_some()
    }
}
