//! The GAN lab's image views (the MLP on the 8x8 digits, the DCGAN on an
//! MNIST-format folder): G's images for 64 fixed noise vectors, kept at
//! every view as a timeline to scrub; a latent walk between two noise
//! vectors drawn from two seeds (linear or spherical, strip and slider);
//! and the Frechet distance of G's samples to held-out real images on the
//! `cnn` classifier's penultimate features, next to the same figure for
//! real training images (28x28 data only). Everything G computes is asked
//! of the GAN's worker; the classifier is loaded or trained on a thread of
//! its own.

use std::path::PathBuf;
use std::sync::Arc;

use vislab_engine::data::Dataset;
use vislab_engine::gan::frechet::{self, CLASSIFIER_EPOCHS, CLASSIFIER_IMAGES, FEATURES, FrechetRef};
use vislab_engine::gan::worker::GanWorker;
use vislab_engine::job::Task;
use vislab_engine::rng::SeededRng;

use crate::widgets::latent_walk::LatentWalk;
use crate::widgets::mosaic::Mosaic;

/// Fixed noise vectors in the sample grid.
pub const GRID: usize = 64;
/// Snapshots kept; past this every other one is dropped (the timeline
/// keeps its span, at half the density).
const MAX_SNAPSHOTS: usize = 240;
/// Noise seed of the FD's samples (fixed, so two figures differ only by G).
const FD_SEED: u64 = 11;

/// Images in [-1, 1] as a mosaic of [0, 1] tiles.
pub fn mosaic(x: &[f32], side: usize, n: usize, cols: usize) -> Mosaic {
    let per = side * side;
    let v: Vec<f32> = x.iter().take(n * per).map(|p| (p + 1.0) / 2.0).collect();
    Mosaic::new(&v, side, cols)
}

struct Snapshot {
    g_steps: usize,
    grid: Mosaic,
}

/// Held-out data for the Frechet distance.
#[derive(Clone)]
pub struct FdData {
    pub train: Arc<Dataset>,
    pub test: Arc<Dataset>,
}

enum Fd {
    Idle,
    /// Loading or training the classifier, then the reals' features.
    Building(Task<Result<FrechetRef, String>>),
    Ready(Box<FrechetRef>),
    /// The reference is with the GAN's worker.
    Computing,
}

pub struct ImageViews {
    pub side: usize,
    snaps: Vec<Snapshot>,
    /// The snapshot shown; None follows the newest.
    at: Option<usize>,
    real: Option<Mosaic>,
    pub walk: LatentWalk,
    pub seeds: [u64; 2],
    walk_tag: u64,
    walk_pending: bool,
    walk_dirty: bool,
    walk_views: Option<(Mosaic, Mosaic)>,
    fd: Fd,
    fd_wanted: bool,
    pub checkpoint: Option<PathBuf>,
    fd_last: Option<(usize, f64)>,
    real_vs_real: Option<f64>,
    fd_source: String,
    pub fd_message: String,
}

impl ImageViews {
    pub fn new(side: usize) -> Self {
        ImageViews {
            side,
            snaps: vec![],
            at: None,
            real: None,
            walk: LatentWalk::default(),
            seeds: [1, 2],
            walk_tag: 0,
            walk_pending: false,
            walk_dirty: true,
            walk_views: None,
            fd: Fd::Idle,
            fd_wanted: false,
            checkpoint: None,
            fd_last: None,
            real_vs_real: None,
            fd_source: String::new(),
            fd_message: String::new(),
        }
    }

    /// A fresh model: forget its pictures (the classifier stays, unless
    /// the reference was with the old worker).
    pub fn new_model(&mut self, side: usize) {
        if side != self.side {
            self.forget_reference();
        }
        self.side = side;
        self.snaps.clear();
        self.at = None;
        self.real = None;
        self.walk_views = None;
        self.walk_pending = false;
        self.walk_dirty = true;
        self.fd_last = None;
        if matches!(self.fd, Fd::Computing) {
            self.fd = Fd::Idle;
        }
    }

    /// New data or classifier: the reference must be rebuilt.
    pub fn forget_reference(&mut self) {
        self.fd = Fd::Idle;
        self.fd_wanted = false;
        self.real_vs_real = None;
        self.fd_last = None;
        self.fd_source.clear();
    }

    /// A view from the worker: a new snapshot, and the walk is stale.
    pub fn push_view(&mut self, g_steps: usize, fake: &[f32], real: &[f32]) {
        if self.snaps.last().is_some_and(|s| s.g_steps == g_steps) {
            self.snaps.pop();
        }
        self.snaps.push(Snapshot { g_steps, grid: mosaic(fake, self.side, GRID, 8) });
        if self.snaps.len() > MAX_SNAPSHOTS {
            // Keep the first and the newest, thin the rest.
            let last = self.snaps.pop();
            let mut k = 0;
            self.snaps.retain(|_| {
                k += 1;
                k % 2 == 1
            });
            self.snaps.extend(last);
            self.at = self.at.map(|i| (i / 2).min(self.snaps.len() - 1));
        }
        if self.real.is_none() {
            self.real = Some(mosaic(real, self.side, 16, 8));
        }
        self.walk_dirty = true;
    }

    pub fn snapshots(&self) -> usize {
        self.snaps.len()
    }

    fn shown(&self) -> Option<&Snapshot> {
        self.at.and_then(|i| self.snaps.get(i)).or(self.snaps.last())
    }

    /// Ask the worker for the walk's images when they are stale.
    pub fn request_walk(&mut self, worker: &mut GanWorker, noise: usize) {
        if !self.walk_dirty || self.walk_pending {
            return;
        }
        let ends: Vec<Vec<f32>> = self
            .seeds
            .iter()
            .map(|&s| {
                let mut rng = SeededRng::new(s);
                (0..noise).map(|_| rng.normal() as f32).collect()
            })
            .collect();
        self.walk_tag += 1;
        worker.generate(self.walk_tag, self.walk.codes(&ends[0], &ends[1]));
        self.walk_pending = true;
        self.walk_dirty = false;
    }

    pub fn walk_changed(&mut self) {
        self.walk_dirty = true;
    }

    /// The worker's answer to a walk request.
    pub fn generated(&mut self, tag: u64, images: Result<Vec<f32>, String>) {
        if tag != self.walk_tag {
            return;
        }
        self.walk_pending = false;
        match images {
            Ok(x) => {
                let per = self.side * self.side;
                let frames = (x.len() / per.max(1)).saturating_sub(1);
                let (strip, one) = x.split_at((frames * per).min(x.len()));
                self.walk_views = Some((mosaic(strip, self.side, frames, frames), mosaic(one, self.side, 1, 1)));
            }
            Err(e) => self.fd_message = format!("latent walk: {e}"),
        }
    }

    /// Start the Frechet distance: build the reference first if needed
    /// (from the checkpoint, or a classifier trained here), then hand it
    /// to the worker.
    pub fn compute_fd(&mut self, worker: &mut GanWorker, data: Option<&FdData>) {
        match std::mem::replace(&mut self.fd, Fd::Idle) {
            Fd::Ready(r) => {
                worker.frechet(r, FD_SEED);
                self.fd = Fd::Computing;
                self.fd_message = "computing the Frechet distance".into();
            }
            Fd::Idle => {
                let Some(d) = data.cloned() else {
                    self.fd_message = "the Frechet distance needs an MNIST-format folder (28x28 images)".into();
                    return;
                };
                let ck = self.checkpoint.clone();
                self.fd = Fd::Building(Task::spawn("vislab-fd", move |_| frechet::reference(ck.as_deref(), &d.train, &d.test).map_err(|e| e.to_string())));
                self.fd_wanted = true;
                self.fd_message = match &self.checkpoint {
                    Some(p) => format!("loading the classifier {}", p.display()),
                    None => format!("no classifier checkpoint: training the cnn on {CLASSIFIER_IMAGES} images ({CLASSIFIER_EPOCHS} epoch) on a worker"),
                };
            }
            other => self.fd = other,
        }
    }

    /// Collect a finished reference; starts the distance if one was asked for.
    pub fn poll(&mut self, worker: Option<&mut GanWorker>) {
        let Fd::Building(task) = &self.fd else { return };
        let Some(r) = task.poll() else { return };
        let r = r.and_then(|r| r);
        self.fd = Fd::Idle;
        match r {
            Ok(reference) => {
                self.real_vs_real = Some(reference.real_vs_real);
                self.fd_source = reference.net.source.clone();
                self.fd_message.clear();
                self.fd = Fd::Ready(Box::new(reference));
                if self.fd_wanted
                    && let Some(w) = worker
                {
                    self.fd_wanted = false;
                    self.compute_fd(w, None);
                }
            }
            Err(e) => {
                self.fd_wanted = false;
                self.fd_message = format!("Frechet distance: {e}");
            }
        }
    }

    /// The worker's Frechet distance; the reference comes back.
    pub fn frechet_done(&mut self, steps: usize, fd: Result<f64, String>, reference: Box<FrechetRef>) {
        self.fd = Fd::Ready(reference);
        match fd {
            Ok(v) => {
                self.fd_last = Some((steps, v));
                self.fd_message.clear();
            }
            Err(e) => self.fd_message = format!("Frechet distance: {e}"),
        }
    }

    pub fn busy(&self) -> bool {
        matches!(self.fd, Fd::Building(_) | Fd::Computing) || self.walk_pending
    }

    /// "FD 123.4 at step N (real vs real 5.6)" or what is missing.
    pub fn fd_line(&self) -> String {
        match (self.fd_last, self.real_vs_real) {
            (Some((steps, fd)), Some(rr)) => format!("FD {fd:.2} after {steps} steps (real vs real {rr:.2})"),
            (None, Some(rr)) => format!("FD not computed yet (real vs real {rr:.2})"),
            _ => "FD not computed yet".into(),
        }
    }

    /// The Frechet distance controls (for 28x28 data).
    pub fn fd_controls(&mut self, ui: &mut egui::Ui, worker: Option<&mut GanWorker>, data: Option<&FdData>) {
        ui.label(egui::RichText::new("Frechet distance to held-out reals").strong());
        ui.horizontal(|ui| {
            let name = self.checkpoint.as_ref().map_or("none: train one here".to_string(), |p| p.file_name().map_or(p.display().to_string(), |n| n.to_string_lossy().into_owned()));
            ui.label(format!("classifier: {name}"));
        });
        let building = matches!(self.fd, Fd::Building(_) | Fd::Computing);
        ui.horizontal(|ui| {
            if ui.add_enabled(!building, egui::Button::new("Classifier checkpoint...")).clicked()
                && let Some(p) = rfd::FileDialog::new().add_filter("safetensors", &["safetensors"]).pick_file()
            {
                self.checkpoint = Some(p);
                self.forget_reference();
            }
            let can = !building && data.is_some() && worker.is_some();
            if ui.add_enabled(can, egui::Button::new("Compute FD")).clicked()
                && let Some(w) = worker
            {
                self.compute_fd(w, data);
            }
        });
        ui.label(egui::RichText::new(format!("features: {FEATURES}")).small());
        if !self.fd_source.is_empty() {
            ui.label(egui::RichText::new(format!("classifier: {}", self.fd_source)).small());
        }
    }

    /// The walk's controls: the two seeds and the path.
    pub fn walk_controls(&mut self, ui: &mut egui::Ui) {
        ui.label(egui::RichText::new("Latent walk between two noise vectors").strong());
        let mut changed = false;
        ui.horizontal(|ui| {
            changed |= ui.add(egui::DragValue::new(&mut self.seeds[0]).range(0..=9999).prefix("A: noise seed ")).changed();
            changed |= ui.add(egui::DragValue::new(&mut self.seeds[1]).range(0..=9999).prefix("B: noise seed ")).changed();
        });
        changed |= self.walk.controls(ui);
        if changed {
            self.walk_dirty = true;
        }
    }

    /// The sample grid with its timeline, the walk and a few reals;
    /// returns the rects of the grid and the strip (for export).
    pub fn show(&mut self, ui: &mut egui::Ui, width: f32, height: f32) -> (Option<egui::Rect>, Option<egui::Rect>) {
        let n = self.snaps.len();
        let Some(s) = self.shown() else {
            ui.label("no images yet");
            return (None, None);
        };
        let (steps, grid) = (s.g_steps, s.grid.clone());
        let newest = self.at.is_none_or(|i| i + 1 >= n);
        ui.label(egui::RichText::new(format!("G(z) for {GRID} fixed z after {steps} G steps{}", if newest { "" } else { " (timeline)" })).strong());
        let grid_h = (height * 0.52).min(width).max(60.0);
        let grid_rect = grid.show(ui, grid_h).0;
        let mut i = self.at.unwrap_or(n.saturating_sub(1));
        ui.horizontal(|ui| {
            ui.spacing_mut().slider_width = (width - 150.0).max(60.0);
            let r = ui.add_enabled(n > 1, egui::Slider::new(&mut i, 0..=n.saturating_sub(1)).text("timeline"));
            if r.changed() {
                // Back at the end follows the newest again.
                self.at = if i + 1 >= n { None } else { Some(i) };
            }
        });
        let mut strip_rect = None;
        if let Some((strip, frame)) = &self.walk_views {
            ui.label(format!("Latent walk A to B ({}), seeds {} and {}", self.walk.path_name(), self.seeds[0], self.seeds[1]));
            let frames = self.walk.frames.max(1) as f32;
            let strip_h = ((width - 60.0) / frames).clamp(12.0, 48.0);
            let (r, moved) = self.walk.show(ui, strip, frame, strip_h, strip_h * 1.5);
            strip_rect = Some(r);
            if moved {
                self.walk_dirty = true;
            }
        }
        if let Some(real) = &self.real {
            ui.label("real images");
            real.show(ui, (width / 8.0 * 2.0).min(64.0));
        }
        (Some(grid_rect), strip_rect)
    }
}
