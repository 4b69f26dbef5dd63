//! A quality figure for generated images: the Frechet distance
//! ([`crate::metrics::frechet`]) between Gaussians fitted to classifier
//! features of generated and of held-out real images, next to the same
//! figure for real training images against the same held-out ones.
//!
//! The features are the penultimate layer of the `cnn` classifier (the
//! 128 ReLU units of `fc1` in [`crate::models::Cnn::mnist`]), the network
//! `vislab train --model cnn` and the training lab build: loaded from such
//! a checkpoint, or trained here for a few epochs when there is none. Only
//! 28x28 grey images (MNIST, Fashion-MNIST) fit it.

use std::sync::Arc;

use crate::data::Dataset;
use crate::graph::Graph;
use crate::metrics::frechet::{Gaussian, frechet_distance};
use crate::model::{Model, ModelSpec};
use crate::models::{Arch, Cnn, META_ARCH};
use crate::optim::{Adam, Decay, Schedule};
use crate::rng::SeededRng;
use crate::train::{Job, Param, StopReason, TrainConfig, checkpoint, evaluate};

use super::{GanError, GanTrainer};

/// What the features are, for labels and reports.
pub const FEATURES: &str = "penultimate layer (fc1, 128 ReLU units) of the 28x28 cnn classifier, trained on the same dataset";
const OUT: &str = "features";
const BATCH: usize = 250;
/// Images per side of the lab's and the CLI's distances.
pub const FD_IMAGES: usize = 1000;
/// Without a checkpoint, the classifier trains on this many training
/// images for this many epochs (seed 0).
pub const CLASSIFIER_IMAGES: usize = 5000;
pub const CLASSIFIER_EPOCHS: usize = 1;

/// The classifier's penultimate layer as a compiled graph.
pub struct FeatureNet {
    model: Model,
    dim: usize,
    /// Where the weights came from (a path, or "trained here ...").
    pub source: String,
}

fn input(msg: impl std::fmt::Display) -> GanError {
    GanError::Input(msg.to_string())
}

impl FeatureNet {
    /// The network with weights `params` (by name; every `cnn` parameter
    /// must be there with its shape).
    pub fn from_params(params: &[Param], source: String) -> Result<FeatureNet, GanError> {
        let cnn = Cnn::mnist();
        let (mut g, h): (Graph, _) = cnn.features()?;
        let loss = g.mean_all(h)?;
        let mut model = Model::compile(g, ModelSpec { loss, train_outputs: vec![], eval_outputs: vec![(OUT.into(), h)], state_updates: vec![] })?;
        for info in model.params() {
            let p = params.iter().find(|p| p.name == info.name).ok_or_else(|| input(format!("{source}: no {} (not a cnn classifier)", info.name)))?;
            if p.shape != info.shape {
                return Err(input(format!("{source}: {} has shape {:?}, the 28x28 cnn needs {:?}", info.name, p.shape, info.shape)));
            }
            model.set_param(&info.name, &p.value)?;
        }
        Ok(FeatureNet { model, dim: cnn.hidden, source })
    }

    /// From a `vislab train --model cnn` checkpoint (MNIST or Fashion-MNIST).
    pub fn load(path: &std::path::Path) -> Result<FeatureNet, GanError> {
        let ck = checkpoint::load(path)?;
        let arch = ck.meta.get(META_ARCH).map_or("unknown", String::as_str);
        if arch != Arch::Cnn.name() {
            return Err(input(format!("{} holds a '{arch}' model; the Frechet distance needs a cnn classifier (vislab train --model cnn)", path.display())));
        }
        let params: Vec<Param> = ck.tensors.iter().map(|t| Param::new(t.name.clone(), t.shape.clone(), t.value.clone())).collect();
        FeatureNet::from_params(&params, path.display().to_string())
    }

    /// Train the `cnn` on `train` (Adam 1e-3, cosine decay, batch 64) for
    /// `epochs`; returns the network and its accuracy on `test`.
    pub fn train(train: Arc<Dataset>, test: &Dataset, epochs: usize, seed: u64) -> Result<(FeatureNet, f32), GanError> {
        let model = Arch::Cnn.build(seed).map_err(input)?;
        let mut cfg = TrainConfig::new(epochs.max(1), 64, Schedule::new(1e-3, Decay::Cosine));
        cfg.seed = seed;
        let fin = Job::new(Box::new(model), Box::new(Adam::new(1e-3)), Arc::clone(&train), cfg).spawn().map_err(input)?.join().map_err(input)?;
        match &fin.reason {
            StopReason::Finished => {}
            r => return Err(input(format!("training the classifier ended early: {r:?}"))),
        }
        let mut model = fin.model;
        let s = evaluate(model.as_mut(), test, BATCH).map_err(input)?;
        let acc = s.correct as f32 / s.count.max(1) as f32;
        let source = format!("cnn trained here ({} images, {epochs} epochs, seed {seed}; test accuracy {:.4})", train.len(), acc);
        Ok((FeatureNet::from_params(model.params(), source)?, acc))
    }

    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Features `[n, dim]` of 28x28 images `[n, 784]` with pixels in [0, 1].
    pub fn features(&mut self, images: &[f32]) -> Result<Vec<f32>, GanError> {
        let per = 28 * 28;
        if images.is_empty() || !images.len().is_multiple_of(per) {
            return Err(input(format!("{} values are not a whole number of 28x28 images", images.len())));
        }
        let mut out = Vec::with_capacity(images.len() / per * self.dim);
        for chunk in images.chunks(BATCH * per) {
            self.model.set_batch(chunk.len() / per)?;
            self.model.set_input("x", chunk)?;
            self.model.evaluate()?;
            out.extend_from_slice(self.model.output(OUT)?);
        }
        Ok(out)
    }

    /// The Gaussian of the features of `images` (pixels in [0, 1]).
    pub fn fit(&mut self, images: &[f32]) -> Result<Gaussian, GanError> {
        let f = self.features(images)?;
        Gaussian::fit(&f, self.dim).ok_or_else(|| input("the Frechet distance needs at least 2 images"))
    }
}

/// Images in [-1, 1] (a GAN's) as pixels in [0, 1].
pub fn to_unit(images: &[f32]) -> Vec<f32> {
    images.iter().map(|v| ((v + 1.0) / 2.0).clamp(0.0, 1.0)).collect()
}

/// The held-out reals' Gaussian and the real-vs-real figure.
pub struct FrechetRef {
    pub net: FeatureNet,
    held_out: Gaussian,
    /// FD of `count` training images to `count` held-out images.
    pub real_vs_real: f64,
    /// Images per side of every distance.
    pub count: usize,
}

impl FrechetRef {
    /// `count` of each: the first training images and the first held-out
    /// ones (pixels in [0, 1]).
    pub fn new(mut net: FeatureNet, train: &Dataset, held_out: &Dataset, count: usize) -> Result<FrechetRef, GanError> {
        let per = train.sample_len();
        let n = count.min(train.len()).min(held_out.len());
        if per != 28 * 28 || held_out.sample_len() != per || n < 2 {
            return Err(input(format!("the Frechet distance needs 28x28 images and at least 2 of each ({n} here, {per} pixels)")));
        }
        let held = net.fit(&held_out.x()[..n * per])?;
        let real = net.fit(&train.x()[..n * per])?;
        Ok(FrechetRef { real_vs_real: frechet_distance(&real, &held), held_out: held, net, count: n })
    }

    /// FD of images (pixels in [0, 1]) to the held-out reals.
    pub fn distance(&mut self, images: &[f32]) -> Result<f64, GanError> {
        let g = self.net.fit(images)?;
        Ok(frechet_distance(&g, &self.held_out))
    }

    /// FD of `count` fresh samples of `gan` (noise from `seed`) to the held-out reals.
    pub fn distance_of(&mut self, gan: &mut GanTrainer, seed: u64) -> Result<f64, GanError> {
        let images = samples(gan, self.count, seed)?;
        self.distance(&images)
    }
}

/// The reference the lab and `vislab train --model gan` use: the classifier
/// from `checkpoint` (or trained here on the first [`CLASSIFIER_IMAGES`]
/// training images), with the features of [`FD_IMAGES`] training and
/// held-out images.
pub fn reference(checkpoint: Option<&std::path::Path>, train: &Dataset, held_out: &Dataset) -> Result<FrechetRef, GanError> {
    let net = match checkpoint {
        Some(p) => FeatureNet::load(p)?,
        None => FeatureNet::train(Arc::new(train.take(CLASSIFIER_IMAGES)), held_out, CLASSIFIER_EPOCHS, 0)?.0,
    };
    FrechetRef::new(net, train, held_out, FD_IMAGES)
}

/// `n` samples of G (as shown: running statistics) for noise drawn from
/// `seed`, pixels in [0, 1].
pub fn samples(gan: &mut GanTrainer, n: usize, seed: u64) -> Result<Vec<f32>, GanError> {
    let k = gan.config().shape.noise;
    let mut rng = SeededRng::stream(seed, 7 << 40);
    let mut out = Vec::with_capacity(n * gan.config().shape.data);
    let mut left = n;
    while left > 0 {
        let b = left.min(BATCH);
        let z: Vec<f32> = (0..b * k).map(|_| rng.normal() as f32).collect();
        out.extend(to_unit(&gan.generate(&z)?));
        left -= b;
    }
    Ok(out)
}

impl std::fmt::Debug for FrechetRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FrechetRef").field("features", &self.net.source).field("real_vs_real", &self.real_vs_real).field("count", &self.count).finish()
    }
}
