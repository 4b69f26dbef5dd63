//! Training a [`DepthModel`]: Adam on the scale-invariant log loss over
//! seeded shuffled mini-batches, then the held-out metrics after every
//! epoch, beside the baseline that predicts the training set's mean depth
//! map for every image. Everything random is a function of (seed, epoch).

use std::sync::Arc;
use std::time::Instant;

use crate::optim::{Adam, Optimizer};
use crate::rng::SeededRng;
use crate::vae::Flow;

use super::DepthError;
use super::data::DepthSet;
use super::metrics::DepthMetrics;
use super::net::{DepthModel, DepthNetShape};

#[derive(Clone, Debug, PartialEq)]
pub struct DepthTrainConfig {
    pub epochs: usize,
    pub batch_size: usize,
    pub lr: f32,
    /// First-level channels of the U-Net.
    pub base: usize,
    pub batch_norm: bool,
    /// The scale-invariant loss's lambda.
    pub lambda: f32,
    pub seed: u64,
}

impl DepthTrainConfig {
    pub fn new(epochs: usize, seed: u64) -> Self {
        DepthTrainConfig { epochs, batch_size: 8, lr: 3e-3, base: 8, batch_norm: true, lambda: 0.5, seed }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepReport {
    /// Steps done so far (1-based).
    pub step: usize,
    /// Epoch being trained (1-based).
    pub epoch: usize,
    pub loss: f32,
    /// Wall time of this step (forward, backward, Adam), milliseconds.
    pub ms: f64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct EpochReport {
    pub epoch: usize,
    pub train_loss: f64,
    /// The held-out set's metrics.
    pub val: DepthMetrics,
    pub seconds: f64,
}

/// A held-out image's predicted depth in metres `[H, W]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Prediction {
    pub index: usize,
    pub depth: Vec<f32>,
}

pub struct DepthTrainer {
    pub model: DepthModel,
    optimizer: Adam,
    train: Arc<DepthSet>,
    val: Arc<DepthSet>,
    config: DepthTrainConfig,
    mean_map: Vec<f32>,
    baseline: DepthMetrics,
    epoch: usize,
    step: usize,
}

/// Metrics of predicting `map` for every image of `set`.
fn constant_metrics(set: &DepthSet, map: &[f32]) -> DepthMetrics {
    let mut m = DepthMetrics::default();
    for i in 0..set.len() {
        m.add(map, set.depth(i).unwrap_or(&[]));
    }
    m
}

impl DepthTrainer {
    pub fn new(train: Arc<DepthSet>, val: Arc<DepthSet>, config: DepthTrainConfig) -> Result<Self, DepthError> {
        train.check()?;
        val.check()?;
        if (train.width, train.height) != (val.width, val.height) || train.width != train.height {
            return Err(DepthError::Input(format!("training {}x{} and held-out {}x{} images must be the same square size", train.width, train.height, val.width, val.height)));
        }
        if config.batch_size == 0 || config.epochs == 0 {
            return Err(DepthError::Input("epochs and batch size must be at least 1".into()));
        }
        if !(config.lr.is_finite() && config.lr > 0.0) {
            return Err(DepthError::Input(format!("learning rate {} must be positive", config.lr)));
        }
        let (sum, n) = train.depths.iter().filter(|&&d| d > 0.0).fold((0.0f64, 0usize), |(s, n), &d| (s + (d as f64).ln(), n + 1));
        if n == 0 {
            return Err(DepthError::Input("the training images have no valid depth".into()));
        }
        let shape = DepthNetShape { size: train.width, base: config.base, batch_norm: config.batch_norm, lambda: config.lambda };
        let model = DepthModel::new(shape, (sum / n as f64) as f32, config.seed)?;
        let mean_map = train.mean_depth_map();
        let baseline = constant_metrics(&val, &mean_map);
        Ok(DepthTrainer { model, optimizer: Adam::new(config.lr), train, val, config, mean_map, baseline, epoch: 0, step: 0 })
    }

    pub fn config(&self) -> &DepthTrainConfig {
        &self.config
    }

    pub fn epoch(&self) -> usize {
        self.epoch
    }

    pub fn done(&self) -> bool {
        self.epoch >= self.config.epochs
    }

    pub fn steps_per_epoch(&self) -> usize {
        self.train.len().div_ceil(self.config.batch_size)
    }

    /// The held-out metrics of the mean-depth-map baseline.
    pub fn baseline(&self) -> &DepthMetrics {
        &self.baseline
    }

    /// The training set's per-pixel mean depth (the baseline's prediction).
    pub fn mean_depth_map(&self) -> &[f32] {
        &self.mean_map
    }

    /// One epoch with `on_step` after every step: the mean training loss, or
    /// None when `on_step` stopped it.
    pub fn train_epoch(&mut self, on_step: &mut dyn FnMut(&mut Self, StepReport) -> Flow) -> Result<Option<f64>, DepthError> {
        let order = SeededRng::stream(self.config.seed, (1 << 40) | self.epoch as u64).permutation(self.train.len());
        let train = Arc::clone(&self.train);
        let (mut sum, mut count) = (0.0f64, 0usize);
        for idx in order.chunks(self.config.batch_size) {
            let t0 = Instant::now();
            let (x, d) = train.batch(idx);
            let loss = self.model.train_step(&x, &d, idx.len())?;
            if !loss.is_finite() {
                return Err(DepthError::Diverged(format!("loss became {loss} at step {}", self.step + 1)));
            }
            self.optimizer.step(self.model.params_mut())?;
            self.step += 1;
            sum += loss as f64 * idx.len() as f64;
            count += idx.len();
            let r = StepReport { step: self.step, epoch: self.epoch + 1, loss, ms: t0.elapsed().as_secs_f64() * 1e3 };
            if on_step(self, r) == Flow::Stop {
                return Ok(None);
            }
        }
        self.epoch += 1;
        Ok(Some(sum / count.max(1) as f64))
    }

    /// Predicted depths of the held-out images at `idx`.
    pub fn predict_val(&mut self, idx: &[usize]) -> Result<Vec<Prediction>, DepthError> {
        let val = Arc::clone(&self.val);
        let px = val.pixels();
        let mut out = Vec::with_capacity(idx.len());
        for chunk in idx.chunks(self.config.batch_size.max(1)) {
            let chunk: Vec<usize> = chunk.iter().copied().filter(|&i| i < val.len()).collect();
            if chunk.is_empty() {
                continue;
            }
            let (x, _) = val.batch(&chunk);
            let pred = self.model.predict(&x, chunk.len())?;
            for (k, &i) in chunk.iter().enumerate() {
                let depth = pred.get(k * px..(k + 1) * px).ok_or_else(|| DepthError::Input("short prediction".into()))?.to_vec();
                out.push(Prediction { index: i, depth });
            }
        }
        Ok(out)
    }

    /// The held-out set's metrics.
    pub fn evaluate(&mut self) -> Result<DepthMetrics, DepthError> {
        let val = Arc::clone(&self.val);
        let idx: Vec<usize> = (0..val.len()).collect();
        let mut m = DepthMetrics::default();
        for p in self.predict_val(&idx)? {
            m.add(&p.depth, val.depth(p.index).unwrap_or(&[]));
        }
        Ok(m)
    }

    /// One epoch and its held-out metrics; None when stopped part way.
    pub fn run_epoch(&mut self, on_step: &mut dyn FnMut(&mut Self, StepReport) -> Flow) -> Result<Option<EpochReport>, DepthError> {
        let t0 = Instant::now();
        let Some(train_loss) = self.train_epoch(on_step)? else { return Ok(None) };
        Ok(Some(EpochReport { epoch: self.epoch, train_loss, val: self.evaluate()?, seconds: t0.elapsed().as_secs_f64() }))
    }

    /// Every remaining epoch.
    pub fn run(&mut self) -> Result<Vec<EpochReport>, DepthError> {
        let mut reports = vec![];
        while !self.done() {
            match self.run_epoch(&mut |_, _| Flow::Continue)? {
                Some(r) => reports.push(r),
                None => break,
            }
        }
        Ok(reports)
    }
}
