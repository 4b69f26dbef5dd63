//! Training the detector: Adam over seeded shuffled mini-batches (targets
//! assigned once per image), then detections on the held-out images and
//! their COCO numbers after every epoch. Everything random is a function of
//! (seed, epoch), so a run is reproducible. [`DetWorker`] runs it on a thread.

use std::sync::Arc;
use std::time::Instant;

use crate::detection::ScoredBox;
use crate::optim::{Adam, Optimizer};
use crate::rng::SeededRng;
use crate::train::epoch_worker::{EpochTrainer, EpochWorker};
use crate::vae::Flow;

use super::DetectorError;
use super::anchors::{AnchorGrid, MatchConfig, Targets, assign};
use super::data::{CLASSES, DetSet};
use super::decode::{DecodeConfig, detections, evaluate};
use super::net::{DetectorModel, DetectorShape, GRID, LossTerms};

#[derive(Clone, Debug, PartialEq)]
pub struct DetTrainConfig {
    pub epochs: usize,
    pub batch_size: usize,
    pub lr: f32,
    pub anchors: usize,
    pub base: usize,
    pub box_weight: f32,
    pub matching: MatchConfig,
    /// How the per-epoch mAP decodes.
    pub decode: DecodeConfig,
    pub seed: u64,
}

impl DetTrainConfig {
    pub fn new(epochs: usize, seed: u64) -> Self {
        DetTrainConfig { epochs, batch_size: 16, lr: 3e-3, anchors: 3, base: 8, box_weight: 2.0, matching: MatchConfig::default(), decode: DecodeConfig::default(), seed }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DetStep {
    /// Steps done so far (1-based).
    pub step: usize,
    /// Epoch being trained (1-based).
    pub epoch: usize,
    pub loss: LossTerms,
}

#[derive(Clone, Debug, PartialEq)]
pub struct DetEpoch {
    pub epoch: usize,
    /// Mean training loss terms of the epoch.
    pub loss: LossTerms,
    /// The twelve COCO numbers on the held-out images (AP, AP50, AP75, ...).
    pub coco: [f64; 12],
    /// Per-class AP at 0.50:0.95, in `CLASSES` order (-1 where a class has no object).
    pub class_ap: Vec<f64>,
    pub seconds: f64,
}

pub struct DetTrainer {
    pub model: DetectorModel,
    optimizer: Adam,
    train: Arc<DetSet>,
    val: Arc<DetSet>,
    targets: Vec<Targets>,
    grid: AnchorGrid,
    config: DetTrainConfig,
    epoch: usize,
    step: usize,
}

impl DetTrainer {
    pub fn new(train: Arc<DetSet>, val: Arc<DetSet>, config: DetTrainConfig) -> Result<Self, DetectorError> {
        if train.is_empty() || val.is_empty() {
            return Err(DetectorError::Input("the training and held-out sets need at least one image each".into()));
        }
        if train.size != val.size {
            return Err(DetectorError::Input(format!("training images are {} px, held-out ones {} px", train.size, val.size)));
        }
        if config.batch_size == 0 || config.epochs == 0 {
            return Err(DetectorError::Input("epochs and batch size must be at least 1".into()));
        }
        if !(config.lr.is_finite() && config.lr > 0.0) {
            return Err(DetectorError::Input(format!("learning rate {} must be positive", config.lr)));
        }
        let shape = DetectorShape { image: train.size, anchors: config.anchors, classes: CLASSES.len(), base: config.base, box_weight: config.box_weight };
        let model = DetectorModel::new(shape, config.seed)?;
        Ok(DetTrainer::with_model(model, train, val, config))
    }

    /// A trainer around an existing model (a checkpoint's, to score it),
    /// its anchors taken from the model's shape.
    pub fn with_model(model: DetectorModel, train: Arc<DetSet>, val: Arc<DetSet>, mut config: DetTrainConfig) -> Self {
        config.anchors = model.shape().anchors;
        let grid = AnchorGrid::new(model.shape().image, GRID, config.anchors);
        let targets = train.objects.iter().map(|o| assign(&grid, o, CLASSES.len(), &config.matching)).collect();
        DetTrainer { model, optimizer: Adam::new(config.lr), train, val, targets, grid, config, epoch: 0, step: 0 }
    }

    pub fn optimizer(&self) -> &Adam {
        &self.optimizer
    }

    pub fn config(&self) -> &DetTrainConfig {
        &self.config
    }

    pub fn grid(&self) -> &AnchorGrid {
        &self.grid
    }

    pub fn epoch(&self) -> usize {
        self.epoch
    }

    pub fn done(&self) -> bool {
        self.epoch >= self.config.epochs
    }

    pub fn train_set(&self) -> &Arc<DetSet> {
        &self.train
    }

    pub fn val_set(&self) -> &Arc<DetSet> {
        &self.val
    }

    pub fn steps_per_epoch(&self) -> usize {
        self.train.len().div_ceil(self.config.batch_size)
    }

    /// Train one epoch, `on_step` after every step. The mean loss terms, or
    /// None when `on_step` stopped the epoch early.
    pub fn train_epoch(&mut self, on_step: &mut dyn FnMut(&mut Self, DetStep) -> Flow) -> Result<Option<LossTerms>, DetectorError> {
        let order = SeededRng::stream(self.config.seed, (1 << 40) | self.epoch as u64).permutation(self.train.len());
        let train = Arc::clone(&self.train);
        let mut sum = [0f64; 4];
        for idx in order.chunks(self.config.batch_size) {
            let x = train.batch(idx);
            let t: Vec<&Targets> = idx.iter().filter_map(|&i| self.targets.get(i)).collect();
            let loss = self.model.train_step(&x, &t)?;
            if !loss.total.is_finite() {
                return Err(DetectorError::Diverged(format!("loss became {} at step {}", loss.total, self.step + 1)));
            }
            self.optimizer.step(self.model.params_mut())?;
            self.step += 1;
            for (s, v) in sum.iter_mut().zip([loss.objectness, loss.class, loss.boxes, loss.total]) {
                *s += v as f64 * idx.len() as f64;
            }
            if on_step(self, DetStep { step: self.step, epoch: self.epoch + 1, loss }) == Flow::Stop {
                return Ok(None);
            }
        }
        self.epoch += 1;
        let m = |k: usize| (sum[k] / train.len() as f64) as f32;
        Ok(Some(LossTerms { objectness: m(0), class: m(1), boxes: m(2), total: m(3) }))
    }

    /// Raw head values of every held-out image, `[n, A * (5 + C), G, G]`.
    pub fn predict_val(&mut self) -> Result<Vec<f32>, DetectorError> {
        let val = Arc::clone(&self.val);
        let mut out = Vec::with_capacity(val.len() * self.model.shape().raw_len());
        let idx: Vec<usize> = (0..val.len()).collect();
        for chunk in idx.chunks(self.config.batch_size.max(1)) {
            out.extend(self.model.predict(&val.batch(chunk), chunk.len())?);
        }
        Ok(out)
    }

    /// Detections per held-out image (image ids 1..) from raw values.
    pub fn detect(&self, raw: &[f32], cfg: &DecodeConfig) -> Vec<Vec<ScoredBox>> {
        let n = self.model.shape().raw_len();
        raw.chunks(n).enumerate().map(|(i, r)| detections(r, &self.grid, CLASSES.len(), cfg, i as i64 + 1)).collect()
    }

    /// COCO numbers and per-class AP on the held-out images.
    pub fn evaluate(&mut self) -> Result<([f64; 12], Vec<f64>), DetectorError> {
        let raw = self.predict_val()?;
        let dets = self.detect(&raw, &self.config.decode);
        let e = evaluate(&self.val.objects, &dets)?;
        let class_ap = (0..CLASSES.len()).map(|k| e.class_ap(k, None).unwrap_or(-1.0)).collect();
        Ok((e.stats, class_ap))
    }
}

impl DetTrainer {
    /// Every remaining epoch, without a thread (the command line, tests).
    pub fn run_all(&mut self) -> Result<Vec<DetEpoch>, DetectorError> {
        let mut out = vec![];
        while !self.done() {
            match self.run_epoch(&mut |_, _| Flow::Continue)? {
                Some(r) => out.push(r),
                None => break,
            }
        }
        Ok(out)
    }
}

impl EpochTrainer for DetTrainer {
    type Step = DetStep;
    type Epoch = DetEpoch;
    type Error = DetectorError;
    const NAME: &'static str = "vislab-detector";

    fn done(&self) -> bool {
        DetTrainer::done(self)
    }

    fn step_of(r: &DetStep) -> usize {
        r.step
    }

    fn run_epoch(&mut self, on_step: &mut dyn FnMut(&mut Self, DetStep) -> Flow) -> Result<Option<DetEpoch>, DetectorError> {
        let t0 = Instant::now();
        let Some(loss) = self.train_epoch(on_step)? else { return Ok(None) };
        let (coco, class_ap) = self.evaluate()?;
        Ok(Some(DetEpoch { epoch: self.epoch, loss, coco, class_ap, seconds: t0.elapsed().as_secs_f64() }))
    }
}

/// The trainer on a thread; views are whatever the caller's hook makes
/// (the lab takes the held-out raw outputs, to re-decode them live).
pub type DetWorker<S> = EpochWorker<DetTrainer, S>;

#[cfg(test)]
mod tests {
    use super::*;

    /// A short seeded run: held-out mAP50 well above the untrained model's.
    #[test]
    fn short_training_run_detects_held_out_shapes() {
        let train = Arc::new(DetSet::synthetic(384, 32, 4, 1));
        let val = Arc::new(DetSet::synthetic(64, 32, 4, 2));
        let mut t = DetTrainer::new(train, val, DetTrainConfig::new(8, 0)).unwrap();
        let (before, _) = t.evaluate().unwrap();
        let t0 = Instant::now();
        let reports = t.run_all().unwrap();
        let last = reports.last().unwrap();
        eprintln!(
            "untrained AP {:.4} AP50 {:.4}; after {} epochs AP {:.4} AP50 {:.4} AP75 {:.4}, loss {:?}, {:.1} s",
            before[0],
            before[1],
            last.epoch,
            last.coco[0],
            last.coco[1],
            last.coco[2],
            last.loss,
            t0.elapsed().as_secs_f64()
        );
        assert!(before[1] < 0.05, "untrained AP50 {}", before[1]);
        assert!(last.coco[1] > 0.35, "AP50 {}", last.coco[1]);
        assert!(reports[0].loss.total > last.loss.total);
    }
}
