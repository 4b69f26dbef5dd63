//! Training a [`Vae`]: Adam on the negative ELBO over seeded mini-batches,
//! binarized pixels, seeded reparameterization noise, and the test-set
//! negative ELBO after each epoch.
//!
//! Everything random is a function of (seed, epoch, batch): the shuffle,
//! the Bernoulli binarization of training images (resampled every epoch,
//! "dynamic binarization"), and the noise `eps`. The test set is binarized
//! once (a fixed sample, "static binarization") and evaluated with fixed
//! noise, so its negative ELBO is comparable between epochs and runs.

use std::sync::Arc;

use crate::data::Dataset;
use crate::optim::{Adam, Decay, Optimizer, Schedule};
use crate::rng::SeededRng;

use super::VaeError;
use super::model::{Elbo, ElboMean, Vae};

/// How [0, 1] pixels become the Bernoulli decoder's targets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Binarize {
    /// Each pixel is 1 with probability equal to its intensity (seeded).
    Sample,
    /// 1 where the intensity is above one half.
    Threshold,
    /// Grey levels used as targets as they are (not a likelihood of binary data).
    Off,
}

impl Binarize {
    pub const ALL: [Binarize; 3] = [Binarize::Sample, Binarize::Threshold, Binarize::Off];

    pub fn name(self) -> &'static str {
        match self {
            Binarize::Sample => "sample",
            Binarize::Threshold => "threshold",
            Binarize::Off => "off",
        }
    }

    pub fn parse(s: &str) -> Option<Binarize> {
        Binarize::ALL.into_iter().find(|b| b.name() == s)
    }

    /// Binarize `x` in place; `rng` is used only by `Sample`.
    pub fn apply(self, x: &mut [f32], rng: &mut SeededRng) {
        match self {
            Binarize::Sample => x.iter_mut().for_each(|v| *v = if (rng.uniform() as f32) < *v { 1.0 } else { 0.0 }),
            Binarize::Threshold => x.iter_mut().for_each(|v| *v = if *v > 0.5 { 1.0 } else { 0.0 }),
            Binarize::Off => {}
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct VaeTrainConfig {
    pub epochs: usize,
    pub batch_size: usize,
    pub lr: f32,
    /// Cosine decay of the learning rate over the run (else constant).
    pub cosine: bool,
    pub seed: u64,
    pub binarize: Binarize,
}

impl VaeTrainConfig {
    pub fn new(epochs: usize, batch_size: usize, seed: u64) -> Self {
        VaeTrainConfig { epochs, batch_size, lr: 1e-3, cosine: false, seed, binarize: Binarize::Sample }
    }
}

/// One optimizer step's report.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepReport {
    /// Steps done so far (1-based).
    pub step: usize,
    /// Epoch being trained (1-based).
    pub epoch: usize,
    pub elbo: Elbo,
}

/// What the step callback tells the loop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    Continue,
    Stop,
}

/// Metrics of one finished epoch (1-based).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EpochReport {
    pub epoch: usize,
    pub train: Elbo,
    pub test: Elbo,
    pub seconds: f64,
}

/// Stream seeds derived from the run seed, one per use, so no two uses
/// share random numbers.
const STREAM_TRAIN_BITS: u64 = 1 << 40;
const STREAM_TRAIN_EPS: u64 = 2 << 40;
const STREAM_TEST: u64 = 3 << 40;

/// A model, its optimizer and data, trained one epoch at a time (a caller
/// on a worker thread can pause or stop between steps).
pub struct VaeTrainer {
    pub vae: Vae,
    optimizer: Adam,
    schedule: Schedule,
    train: Arc<Dataset>,
    test: Arc<Dataset>,
    /// The binarized test images.
    test_x: Vec<f32>,
    config: VaeTrainConfig,
    epoch: usize,
    step: usize,
}

/// Check that a dataset's images fit the model and lie in [0, 1].
fn check_data(what: &str, d: &Dataset, pixels: usize) -> Result<(), VaeError> {
    if d.sample_len() != pixels {
        return Err(VaeError::Input(format!("{what} images have {} pixels, the model takes {pixels}", d.sample_len())));
    }
    if d.is_empty() {
        return Err(VaeError::Input(format!("{what} set is empty")));
    }
    if let Some(i) = d.x().iter().position(|v| !(0.0..=1.0).contains(v)) {
        return Err(VaeError::Input(format!("{what} image {} has a pixel outside [0, 1]", i / pixels)));
    }
    Ok(())
}

impl VaeTrainer {
    pub fn new(vae: Vae, train: Arc<Dataset>, test: Arc<Dataset>, config: VaeTrainConfig) -> Result<Self, VaeError> {
        let pixels = vae.shape().input;
        check_data("training", &train, pixels)?;
        check_data("test", &test, pixels)?;
        if config.batch_size == 0 || config.epochs == 0 {
            return Err(VaeError::Input("epochs and batch size must be at least 1".into()));
        }
        if !(config.lr.is_finite() && config.lr > 0.0) {
            return Err(VaeError::Input(format!("learning rate {} must be positive", config.lr)));
        }
        let mut test_x = test.x().to_vec();
        config.binarize.apply(&mut test_x, &mut SeededRng::stream(config.seed, STREAM_TEST));
        let decay = if config.cosine { Decay::Cosine } else { Decay::Constant };
        let schedule = Schedule::new(config.lr, decay);
        Ok(VaeTrainer { vae, optimizer: Adam::new(config.lr), schedule, train, test, test_x, config, epoch: 0, step: 0 })
    }

    pub fn config(&self) -> &VaeTrainConfig {
        &self.config
    }

    /// Epochs completed.
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

    pub fn test_set(&self) -> &Dataset {
        &self.test
    }

    /// The binarized test images, `[N, pixels]`.
    pub fn test_images(&self) -> &[f32] {
        &self.test_x
    }

    fn steps_per_epoch(&self) -> usize {
        self.train.num_batches(self.config.batch_size, false)
    }

    /// Train one epoch, calling `on_step` after every step. Returns the mean
    /// training terms, or None when `on_step` stopped the epoch early.
    pub fn train_epoch(&mut self, mut on_step: impl FnMut(&mut Self, StepReport) -> Flow) -> Result<Option<Elbo>, VaeError> {
        let (seed, epoch) = (self.config.seed, self.epoch as u64);
        let total = self.steps_per_epoch() * self.config.epochs;
        let z = self.vae.latent();
        let mut bits = SeededRng::stream(seed, STREAM_TRAIN_BITS + epoch);
        let mut noise = SeededRng::stream(seed, STREAM_TRAIN_EPS + epoch);
        let mut mean = ElboMean::default();
        let train = Arc::clone(&self.train);
        for batch in train.shuffled_batches(self.config.batch_size, seed, epoch, false)? {
            let n = batch.len();
            let mut x = batch.x;
            self.config.binarize.apply(&mut x, &mut bits);
            let eps: Vec<f32> = (0..n * z).map(|_| noise.normal() as f32).collect();
            let e = self.vae.train_step(&x, &eps, n)?;
            if !(e.recon.is_finite() && e.kl.is_finite()) {
                return Err(VaeError::Diverged(format!("negative ELBO became {} at step {}", e.nelbo(), self.step + 1)));
            }
            self.optimizer.set_lr(self.schedule.lr_at(self.step, total));
            self.optimizer.step(self.vae.params_mut())?;
            self.step += 1;
            mean.add(e, n);
            if on_step(self, StepReport { step: self.step, epoch: self.epoch + 1, elbo: e }) == Flow::Stop {
                return Ok(None);
            }
        }
        self.epoch += 1;
        Ok(Some(mean.mean()))
    }

    /// The negative ELBO terms on the binarized test set with fixed noise.
    pub fn evaluate_test(&mut self) -> Result<Elbo, VaeError> {
        let (d, z) = (self.vae.shape().input, self.vae.latent());
        let mut noise = SeededRng::stream(self.config.seed, STREAM_TEST + 1);
        let mut mean = ElboMean::default();
        let bsz = 1000;
        for chunk in self.test_x.chunks(bsz * d) {
            let n = chunk.len() / d;
            let eps: Vec<f32> = (0..n * z).map(|_| noise.normal() as f32).collect();
            mean.add(self.vae.evaluate(chunk, &eps, n)?, n);
        }
        Ok(mean.mean())
    }

    /// Train every remaining epoch, evaluating the test set after each.
    pub fn run(&mut self, mut on_step: impl FnMut(&mut Self, StepReport) -> Flow, mut on_epoch: impl FnMut(&mut Self, EpochReport) -> Flow) -> Result<(), VaeError> {
        while !self.done() {
            let t0 = std::time::Instant::now();
            let Some(train) = self.train_epoch(&mut on_step)? else { return Ok(()) };
            let test = self.evaluate_test()?;
            let r = EpochReport { epoch: self.epoch, train, test, seconds: t0.elapsed().as_secs_f64() };
            if on_epoch(self, r) == Flow::Stop {
                return Ok(());
            }
        }
        Ok(())
    }
}
