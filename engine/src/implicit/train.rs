//! Fitting an [`OccupancyNet`] to a target: Adam on the BCE of seeded
//! mini-batches drawn (with replacement) from a fixed labelled point set,
//! and evaluation as IoU against the true occupancy on a fixed grid plus
//! the level set at 1/2 extracted by marching cubes.

use crate::geometry::{Mesh, VoxelGrid, marching_cubes};
use crate::metrics::{VoxelIou, voxel_iou};
use crate::optim::{Adam, Optimizer};
use crate::rng::SeededRng;

use super::ImplicitError;
use super::data::{PointSet, SampleConfig, box_grid, grid_centres, normalize, sample_training, true_grid};
use super::inside::Solid;
use super::net::{NetShape, OccupancyNet};

/// Largest marching-cubes grid (voxels per edge).
pub const MAX_RESOLUTION: usize = 160;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FitConfig {
    pub net: NetShape,
    pub steps: usize,
    pub batch: usize,
    pub lr: f32,
    /// Seeds the weights, the training points and the batches.
    pub seed: u64,
    pub samples: SampleConfig,
    /// Voxels per edge of the grid IoU is measured on.
    pub iou_res: usize,
}

impl Default for FitConfig {
    fn default() -> Self {
        FitConfig { net: NetShape::default(), steps: 400, batch: 1024, lr: 3e-3, seed: 0, samples: SampleConfig::default(), iou_res: 32 }
    }
}

/// What an evaluation measured.
#[derive(Clone, Debug)]
pub struct Evaluation {
    /// Optimizer steps done when it was taken.
    pub step: usize,
    pub iou: VoxelIou,
    /// The level set P(inside) = 1/2, in the target's unit box.
    pub mesh: Mesh,
    /// Marching-cubes grid edge it was extracted at.
    pub resolution: usize,
    /// The weights it was taken with, for views that query the network.
    pub weights: Vec<Vec<f32>>,
    /// Seconds spent evaluating the grid and extracting the mesh.
    pub seconds: f64,
}

const STREAM_BATCH: u64 = 21;

pub struct OccupancyFit {
    pub net: OccupancyNet,
    optimizer: Adam,
    solid: Solid,
    data: PointSet,
    /// True occupancy on the IoU grid, and that grid's voxel centres.
    truth: VoxelGrid,
    truth_points: Vec<[f32; 3]>,
    config: FitConfig,
    rng: SeededRng,
    step: usize,
}

impl OccupancyFit {
    /// Normalize `target` into the unit box, label the training points and
    /// the IoU grid (the slow part: one inside test per point), compile the net.
    pub fn new(target: &Mesh, config: FitConfig) -> Result<OccupancyFit, ImplicitError> {
        if config.batch == 0 || config.steps == 0 {
            return Err(ImplicitError::Input("steps and batch size must be at least 1".into()));
        }
        if !(config.lr.is_finite() && config.lr > 0.0) {
            return Err(ImplicitError::Input(format!("learning rate {} must be positive", config.lr)));
        }
        if !(4..=128).contains(&config.iou_res) {
            return Err(ImplicitError::Input(format!("IoU grid of {} voxels per edge (4 to 128)", config.iou_res)));
        }
        let solid = Solid::new(normalize(target)?)?;
        let samples = SampleConfig { seed: config.seed, ..config.samples };
        let data = sample_training(&solid, &samples)?;
        let spec = box_grid(config.iou_res);
        let truth = true_grid(&solid, &spec);
        if !truth.values.iter().any(|&v| v >= 0.5) {
            return Err(ImplicitError::Input("no point of the IoU grid is inside the target: is the mesh closed?".into()));
        }
        let net = OccupancyNet::new(config.net, config.seed)?;
        Ok(OccupancyFit {
            net,
            optimizer: Adam::new(config.lr),
            solid,
            data,
            truth,
            truth_points: grid_centres(&spec),
            config,
            rng: SeededRng::stream(config.seed, STREAM_BATCH),
            step: 0,
        })
    }

    pub fn config(&self) -> &FitConfig {
        &self.config
    }

    /// The target in the unit box and its inside test.
    pub fn solid(&self) -> &Solid {
        &self.solid
    }

    pub fn points(&self) -> &PointSet {
        &self.data
    }

    /// True occupancy on the IoU grid.
    pub fn truth(&self) -> &VoxelGrid {
        &self.truth
    }

    pub fn step(&self) -> usize {
        self.step
    }

    pub fn done(&self) -> bool {
        self.step >= self.config.steps
    }

    pub fn set_lr(&mut self, lr: f32) {
        if lr.is_finite() && lr > 0.0 {
            self.optimizer.set_lr(lr);
        }
    }

    /// One optimizer step on a fresh seeded batch; returns its mean BCE.
    pub fn train_step(&mut self) -> Result<f64, ImplicitError> {
        let n = self.data.len();
        let idx: Vec<usize> = (0..self.config.batch).map(|_| self.rng.below(n)).collect();
        let points: Vec<[f32; 3]> = idx.iter().map(|&i| self.data.points[i]).collect();
        let labels: Vec<f32> = idx.iter().map(|&i| self.data.labels[i]).collect();
        let loss = self.net.train_step(&points, &labels)?;
        if !loss.is_finite() {
            return Err(ImplicitError::Diverged(format!("loss became {loss} at step {}", self.step + 1)));
        }
        self.optimizer.step(self.net.params_mut())?;
        self.step += 1;
        Ok(loss)
    }

    /// IoU of P(inside) >= 1/2 against the truth on the fixed grid.
    pub fn iou(&mut self) -> Result<VoxelIou, ImplicitError> {
        let p = self.net.predict(&self.truth_points)?;
        let pred = VoxelGrid { values: p, ..self.truth.clone() };
        Ok(voxel_iou(&pred, &self.truth)?)
    }

    /// The IoU and the level set at 1/2 on a `resolution`^3 grid.
    pub fn evaluate(&mut self, resolution: usize) -> Result<Evaluation, ImplicitError> {
        let t0 = std::time::Instant::now();
        let iou = self.iou()?;
        let mesh = extract(&mut self.net, resolution)?;
        Ok(Evaluation { step: self.step, iou, mesh, resolution, weights: self.net.weights(), seconds: t0.elapsed().as_secs_f64() })
    }
}

/// P(inside) of `net` at the voxel centres of a `resolution`^3 grid over the box.
pub fn predict_grid(net: &mut OccupancyNet, resolution: usize) -> Result<VoxelGrid, ImplicitError> {
    if !(2..=MAX_RESOLUTION).contains(&resolution) {
        return Err(ImplicitError::Input(format!("marching-cubes resolution {resolution} (2 to {MAX_RESOLUTION})")));
    }
    let spec = box_grid(resolution);
    let values = net.predict(&grid_centres(&spec))?;
    Ok(VoxelGrid { dims: spec.dims, values, origin: spec.origin, voxel_size: spec.voxel_size })
}

/// The surface P(inside) = 1/2 of `net` by marching cubes on a `resolution`^3 grid.
pub fn extract(net: &mut OccupancyNet, resolution: usize) -> Result<Mesh, ImplicitError> {
    Ok(marching_cubes(&predict_grid(net, resolution)?, 0.5)?)
}
