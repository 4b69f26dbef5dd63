//! Training a [`PixelCnn`]: Adam on the NLL of binarized images over seeded
//! mini-batches, and the test-set NLL after each epoch.
//!
//! Binarization is the VAE's [`Binarize`]: `Threshold` (pixel > 1/2, fixed
//! data, the default here) or `Sample` (training images resampled every
//! epoch from (seed, epoch); the test set sampled once from the seed), so
//! the test NLL is comparable between epochs and runs either way.

use std::sync::Arc;

use crate::data::Dataset;
use crate::optim::{Adam, Optimizer};
use crate::rng::SeededRng;
use crate::vae::{Binarize, Flow};

use super::PixelCnnError;
use super::model::PixelCnn;

#[derive(Clone, Debug, PartialEq)]
pub struct PixelCnnTrainConfig {
    pub epochs: usize,
    pub batch_size: usize,
    pub lr: f32,
    pub seed: u64,
    pub binarize: Binarize,
}

impl PixelCnnTrainConfig {
    pub fn new(epochs: usize, batch_size: usize, seed: u64) -> Self {
        PixelCnnTrainConfig { epochs, batch_size, lr: 3e-3, seed, binarize: Binarize::Threshold }
    }
}

/// Bits per dimension of an NLL of `nats` per image of `pixels` pixels.
pub fn bits_per_dim(nats: f64, pixels: usize) -> f64 {
    nats / (pixels.max(1) as f64 * std::f64::consts::LN_2)
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepReport {
    /// Steps done so far (1-based).
    pub step: usize,
    /// Epoch being trained (1-based).
    pub epoch: usize,
    /// Batch NLL, nats per image.
    pub nll: f64,
}

/// Metrics of one finished epoch (1-based), NLL in nats per image.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EpochReport {
    pub epoch: usize,
    pub train_nll: f64,
    pub test_nll: f64,
    pub seconds: f64,
}

const STREAM_TRAIN_BITS: u64 = 1 << 40;
const STREAM_TEST: u64 = 3 << 40;

pub struct PixelCnnTrainer {
    pub model: PixelCnn,
    optimizer: Adam,
    train: Arc<Dataset>,
    test_x: Vec<f32>,
    test_len: usize,
    config: PixelCnnTrainConfig,
    epoch: usize,
    step: usize,
}

fn check_data(what: &str, d: &Dataset, pixels: usize) -> Result<(), PixelCnnError> {
    if d.sample_len() != pixels {
        return Err(PixelCnnError::Input(format!("{what} images have {} pixels, the model takes {pixels}", d.sample_len())));
    }
    if d.is_empty() {
        return Err(PixelCnnError::Input(format!("{what} set is empty")));
    }
    if let Some(i) = d.x().iter().position(|v| !(0.0..=1.0).contains(v)) {
        return Err(PixelCnnError::Input(format!("{what} image {} has a pixel outside [0, 1]", i / pixels)));
    }
    Ok(())
}

impl PixelCnnTrainer {
    pub fn new(model: PixelCnn, train: Arc<Dataset>, test: Arc<Dataset>, config: PixelCnnTrainConfig) -> Result<Self, PixelCnnError> {
        let pixels = model.pixels();
        check_data("training", &train, pixels)?;
        check_data("test", &test, pixels)?;
        if config.batch_size == 0 || config.epochs == 0 {
            return Err(PixelCnnError::Input("epochs and batch size must be at least 1".into()));
        }
        if !(config.lr.is_finite() && config.lr > 0.0) {
            return Err(PixelCnnError::Input(format!("learning rate {} must be positive", config.lr)));
        }
        if config.binarize == Binarize::Off {
            return Err(PixelCnnError::Input("a PixelCNN models binary pixels: binarize by sample or threshold".into()));
        }
        let mut test_x = test.x().to_vec();
        config.binarize.apply(&mut test_x, &mut SeededRng::stream(config.seed, STREAM_TEST));
        Ok(PixelCnnTrainer { model, optimizer: Adam::new(config.lr), train, test_x, test_len: test.len(), config, epoch: 0, step: 0 })
    }

    pub fn config(&self) -> &PixelCnnTrainConfig {
        &self.config
    }

    pub fn epoch(&self) -> usize {
        self.epoch
    }

    pub fn step(&self) -> usize {
        self.step
    }

    pub fn done(&self) -> bool {
        self.epoch >= self.config.epochs
    }

    pub fn optimizer(&self) -> &dyn Optimizer {
        &self.optimizer
    }

    pub fn test_len(&self) -> usize {
        self.test_len
    }

    /// The binarized test images, `[N, pixels]`.
    pub fn test_images(&self) -> &[f32] {
        &self.test_x
    }

    pub fn steps_per_epoch(&self) -> usize {
        self.train.num_batches(self.config.batch_size, false)
    }

    /// Train one epoch, calling `on_step` after every step. Returns the mean
    /// training NLL, or None when `on_step` stopped the epoch early.
    pub fn train_epoch(&mut self, mut on_step: impl FnMut(&mut Self, StepReport) -> Flow) -> Result<Option<f64>, PixelCnnError> {
        let (seed, epoch) = (self.config.seed, self.epoch as u64);
        let mut bits = SeededRng::stream(seed, STREAM_TRAIN_BITS + epoch);
        let (mut sum, mut count) = (0.0, 0usize);
        let train = Arc::clone(&self.train);
        for batch in train.shuffled_batches(self.config.batch_size, seed, epoch, false)? {
            let n = batch.len();
            let mut x = batch.x;
            self.config.binarize.apply(&mut x, &mut bits);
            let nll = self.model.train_step(&x, n)?;
            if !nll.is_finite() {
                return Err(PixelCnnError::Diverged(format!("NLL became {nll} at step {}", self.step + 1)));
            }
            self.optimizer.step(self.model.params_mut())?;
            self.step += 1;
            sum += nll * n as f64;
            count += n;
            if on_step(self, StepReport { step: self.step, epoch: self.epoch + 1, nll }) == Flow::Stop {
                return Ok(None);
            }
        }
        self.epoch += 1;
        Ok(Some(sum / count.max(1) as f64))
    }

    /// The NLL of the binarized test set, nats per image.
    pub fn evaluate_test(&mut self) -> Result<f64, PixelCnnError> {
        let d = self.model.pixels();
        let (mut sum, mut count) = (0.0, 0usize);
        for chunk in self.test_x.chunks(500 * d) {
            let n = chunk.len() / d;
            sum += self.model.evaluate(chunk, n)? * n as f64;
            count += n;
        }
        Ok(sum / count.max(1) as f64)
    }

    /// Train every remaining epoch, evaluating the test set after each.
    pub fn run(&mut self, mut on_step: impl FnMut(&mut Self, StepReport) -> Flow, mut on_epoch: impl FnMut(&mut Self, EpochReport) -> Flow) -> Result<(), PixelCnnError> {
        while !self.done() {
            let t0 = std::time::Instant::now();
            let Some(train_nll) = self.train_epoch(&mut on_step)? else { return Ok(()) };
            let test_nll = self.evaluate_test()?;
            let r = EpochReport { epoch: self.epoch, train_nll, test_nll, seconds: t0.elapsed().as_secs_f64() };
            if on_epoch(self, r) == Flow::Stop {
                return Ok(());
            }
        }
        Ok(())
    }
}
