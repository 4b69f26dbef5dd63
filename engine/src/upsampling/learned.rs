//! A learned upsampler: one `ConvTranspose2d` (1 -> 1 channel, kernel
//! `2s`, stride `s`, padding `s / 2`, so an `h x w` map becomes exactly
//! `sh x sw`) trained by autograd and Adam to undo `s x s` max pooling of
//! real images, on the mean squared error to the original. Seeded
//! initialization and batch order, so a run is reproducible.

use std::sync::Arc;
use std::time::Instant;

use crate::error::EngineError;
use crate::graph::{Graph, batch_dim};
use crate::init::Init;
use crate::model::{Model, ModelSpec};
use crate::nn::{self, ConvTranspose2d, ConvTranspose2dConfig};
use crate::optim::{Adam, Optimizer};
use crate::rng::SeededRng;
use crate::train::Param;
use crate::train::epoch_worker::EpochTrainer;
use crate::train::{init_params, relu_rule};
use crate::vae::Flow;

use super::{Downsampled, Plane};

const INPUT_X: &str = "x";
const INPUT_Y: &str = "y";
const OUT_PRED: &str = "pred";
/// The layer's name (its parameters are `deconv.weight`, `deconv.bias`).
pub const LAYER: &str = "deconv";

#[derive(Clone, Debug, PartialEq)]
pub struct DeconvConfig {
    pub scale: usize,
    pub epochs: usize,
    pub batch_size: usize,
    pub lr: f32,
    pub seed: u64,
}

impl DeconvConfig {
    pub fn new(scale: usize, epochs: usize, seed: u64) -> Self {
        DeconvConfig { scale, epochs, batch_size: 32, lr: 0.02, seed }
    }

    pub fn layer(&self) -> ConvTranspose2dConfig {
        let s = self.scale;
        ConvTranspose2dConfig { stride: s, padding: s / 2, ..ConvTranspose2dConfig::new(1, 1, 2 * s) }
    }
}

/// The compiled layer for `in_h x in_w` inputs and its parameters.
pub struct DeconvUpsampler {
    scale: usize,
    input: (usize, usize),
    compiled: Model,
    params: Vec<Param>,
}

impl DeconvUpsampler {
    pub fn new(cfg: &DeconvConfig, in_h: usize, in_w: usize) -> Result<DeconvUpsampler, EngineError> {
        let s = cfg.scale;
        if s == 0 || in_h == 0 || in_w == 0 {
            return Err(EngineError::Shape(format!("learned upsampling of {in_h}x{in_w} by {s}")));
        }
        let mut g = Graph::new();
        let x = g.input(INPUT_X, &[batch_dim(), 1.into(), in_h.into(), in_w.into()])?;
        let y = g.input(INPUT_Y, &[batch_dim(), 1.into(), (s * in_h).into(), (s * in_w).into()])?;
        let layer = ConvTranspose2d::new(&mut g, LAYER, cfg.layer())?;
        let pred = layer.forward(&mut g, x)?;
        let loss = nn::mse(&mut g, pred, y)?;
        let spec = ModelSpec { loss, train_outputs: vec![], eval_outputs: vec![(OUT_PRED.into(), pred)], state_updates: vec![] };
        let compiled = Model::compile(g, spec)?;
        // One linear layer: no ReLU follows it.
        let params = init_params(compiled.params().into_iter().map(|p| (p.name, p.shape)), cfg.seed, 0, relu_rule(Init::KAIMING_RELU, |_| true))
            .map_err(|e| EngineError::Shape(e.to_string()))?;
        Ok(DeconvUpsampler { scale: s, input: (in_h, in_w), compiled, params })
    }

    pub fn params(&self) -> &[Param] {
        &self.params
    }

    /// Take another upsampler's weights (same scale; any input size).
    pub fn set_params(&mut self, params: &[Param]) -> Result<(), EngineError> {
        for p in &mut self.params {
            let src = params.iter().find(|q| q.name == p.name && q.shape == p.shape).ok_or_else(|| EngineError::Shape(format!("no {} of shape {:?}", p.name, p.shape)))?;
            p.value.clone_from(&src.value);
        }
        Ok(())
    }

    /// The learned kernel `[2s, 2s]`, row-major.
    pub fn kernel(&self) -> &[f32] {
        self.params.iter().find(|p| p.name.ends_with(".weight")).map_or(&[], |p| &p.value)
    }

    pub fn bias(&self) -> f32 {
        self.params.iter().find(|p| p.name.ends_with(".bias")).and_then(|p| p.value.first().copied()).unwrap_or(0.0)
    }

    fn load(&mut self, x: &[f32], n: usize) -> Result<(), EngineError> {
        let (h, w) = self.input;
        if n == 0 || x.len() != n * h * w {
            return Err(EngineError::Shape(format!("{} values for {n} maps of {h}x{w}", x.len())));
        }
        self.compiled.set_batch(n)?;
        for p in &self.params {
            self.compiled.set_param(&p.name, &p.value)?;
        }
        self.compiled.set_input(INPUT_X, x)
    }

    /// Forward + backward; overwrites the gradients, returns the batch MSE.
    pub fn train_step(&mut self, x: &[f32], y: &[f32], n: usize) -> Result<f32, EngineError> {
        self.load(x, n)?;
        self.compiled.set_input(INPUT_Y, y)?;
        let loss = self.compiled.train_step()?;
        for p in &mut self.params {
            let g = self.compiled.grad(&p.name)?;
            p.grad.clear();
            p.grad.extend_from_slice(g);
        }
        Ok(loss)
    }

    /// The upsampled maps `[n, sh, sw]` of `n` maps.
    pub fn predict(&mut self, x: &[f32], n: usize) -> Result<Vec<f32>, EngineError> {
        self.load(x, n)?;
        self.compiled.evaluate()?;
        Ok(self.compiled.output(OUT_PRED)?.to_vec())
    }

    /// The upsampled plane of one feature map of this upsampler's input size.
    pub fn upsample(&mut self, d: &Downsampled) -> Result<Plane, EngineError> {
        let values = self.predict(&d.pooled.values, 1)?;
        Plane::new(self.scale * d.pooled.width, self.scale * d.pooled.height, values)
    }
}

/// Pooled inputs and original targets, `n` of each, flat.
#[derive(Clone, Debug)]
pub struct Pairs {
    pub n: usize,
    pub x: Vec<f32>,
    pub y: Vec<f32>,
    pub input: (usize, usize),
}

impl Pairs {
    /// Pool every `h x w` image of `images` by `scale`.
    pub fn new(images: &[f32], h: usize, w: usize, scale: usize) -> Result<Pairs, EngineError> {
        if h * w == 0 || !images.len().is_multiple_of(h * w) || images.is_empty() {
            return Err(EngineError::Shape(format!("{} values are no {h}x{w} images", images.len())));
        }
        let (mut x, mut y) = (vec![], vec![]);
        let mut input = (0, 0);
        for img in images.chunks(h * w) {
            let d = Downsampled::new(Plane::new(w, h, img.to_vec())?, scale)?;
            input = (d.pooled.height, d.pooled.width);
            x.extend_from_slice(&d.pooled.values);
            y.extend_from_slice(img);
        }
        Ok(Pairs { n: images.len() / (h * w), x, y, input })
    }

    fn batch(&self, idx: &[usize]) -> (Vec<f32>, Vec<f32>) {
        let (a, b) = (self.x.len() / self.n, self.y.len() / self.n);
        let mut x = Vec::with_capacity(idx.len() * a);
        let mut y = Vec::with_capacity(idx.len() * b);
        for &i in idx {
            x.extend_from_slice(&self.x[i * a..(i + 1) * a]);
            y.extend_from_slice(&self.y[i * b..(i + 1) * b]);
        }
        (x, y)
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DeconvStep {
    pub step: usize,
    pub epoch: usize,
    pub loss: f32,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DeconvEpoch {
    pub epoch: usize,
    pub train_mse: f64,
    pub test_mse: f64,
    pub seconds: f64,
}

pub struct DeconvTrainer {
    pub model: DeconvUpsampler,
    optimizer: Adam,
    train: Arc<Pairs>,
    test: Arc<Pairs>,
    config: DeconvConfig,
    epoch: usize,
    step: usize,
}

impl DeconvTrainer {
    pub fn new(train: Arc<Pairs>, test: Arc<Pairs>, config: DeconvConfig) -> Result<DeconvTrainer, EngineError> {
        if config.epochs == 0 || config.batch_size == 0 || !(config.lr.is_finite() && config.lr > 0.0) {
            return Err(EngineError::Shape(format!("epochs, batch size and learning rate must be positive: {config:?}")));
        }
        if train.input != test.input || train.n == 0 || test.n == 0 {
            return Err(EngineError::Shape("training and test maps differ in size, or one set is empty".into()));
        }
        let model = DeconvUpsampler::new(&config, train.input.0, train.input.1)?;
        Ok(DeconvTrainer { model, optimizer: Adam::new(config.lr), train, test, config, epoch: 0, step: 0 })
    }

    pub fn config(&self) -> &DeconvConfig {
        &self.config
    }

    pub fn epoch(&self) -> usize {
        self.epoch
    }

    pub fn steps_per_epoch(&self) -> usize {
        self.train.n.div_ceil(self.config.batch_size)
    }

    /// One epoch in a seeded order; the mean training MSE, or None when stopped.
    pub fn train_epoch(&mut self, on_step: &mut dyn FnMut(&mut Self, DeconvStep) -> Flow) -> Result<Option<f64>, EngineError> {
        let order = SeededRng::stream(self.config.seed, (1 << 40) | self.epoch as u64).permutation(self.train.n);
        let train = Arc::clone(&self.train);
        let (mut sum, mut count) = (0.0f64, 0usize);
        for idx in order.chunks(self.config.batch_size) {
            let (x, y) = train.batch(idx);
            let loss = self.model.train_step(&x, &y, idx.len())?;
            if !loss.is_finite() {
                return Err(EngineError::Shape(format!("the loss became {loss} at step {}", self.step + 1)));
            }
            self.optimizer.step(&mut self.model.params).map_err(|e| EngineError::Shape(e.to_string()))?;
            self.step += 1;
            sum += loss as f64 * idx.len() as f64;
            count += idx.len();
            if on_step(self, DeconvStep { step: self.step, epoch: self.epoch + 1, loss }) == Flow::Stop {
                return Ok(None);
            }
        }
        self.epoch += 1;
        Ok(Some(sum / count.max(1) as f64))
    }

    /// Mean squared error of the test maps' reconstructions.
    pub fn test_mse(&mut self) -> Result<f64, EngineError> {
        let pred = self.model.predict(&self.test.x, self.test.n)?;
        let s: f64 = pred.iter().zip(&self.test.y).map(|(a, b)| ((a - b) as f64).powi(2)).sum();
        Ok(s / pred.len().max(1) as f64)
    }
}

impl EpochTrainer for DeconvTrainer {
    type Step = DeconvStep;
    type Epoch = DeconvEpoch;
    type Error = EngineError;
    const NAME: &'static str = "vislab-deconv";

    fn done(&self) -> bool {
        self.epoch >= self.config.epochs
    }

    fn step_of(r: &DeconvStep) -> usize {
        r.step
    }

    fn run_epoch(&mut self, on_step: &mut dyn FnMut(&mut Self, DeconvStep) -> Flow) -> Result<Option<DeconvEpoch>, EngineError> {
        let t0 = Instant::now();
        let Some(train_mse) = self.train_epoch(on_step)? else { return Ok(None) };
        Ok(Some(DeconvEpoch { epoch: self.epoch, train_mse, test_mse: self.test_mse()?, seconds: t0.elapsed().as_secs_f64() }))
    }
}

/// The built-in digits pooled by `scale`: the first 1,500 (after a fixed
/// shuffle by `seed`) to train on, the other 297 to test.
pub fn digit_pairs(scale: usize, seed: u64) -> Result<(Pairs, Pairs), EngineError> {
    let d = crate::data::digits::load().map_err(|e| EngineError::Shape(e.to_string()))?;
    let side = crate::data::digits::SIDE;
    let per = side * side;
    let order = SeededRng::stream(seed, 0xD161).permutation(d.len());
    let pick = |idx: &[usize]| -> Vec<f32> { idx.iter().flat_map(|&i| d.x()[i * per..(i + 1) * per].iter().copied()).collect() };
    let split = 1500.min(d.len().saturating_sub(1));
    Ok((Pairs::new(&pick(&order[..split]), side, side, scale)?, Pairs::new(&pick(&order[split..]), side, side, scale)?))
}
