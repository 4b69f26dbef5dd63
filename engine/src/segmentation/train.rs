//! Training a [`SegModel`]: Adam on the per-pixel cross-entropy over seeded
//! shuffled mini-batches, then the validation set's confusion (per-class
//! IoU, mean IoU, pixel accuracy) after every epoch. Everything random is a
//! function of (seed, epoch), so a run is reproducible.

use std::sync::Arc;

use crate::metrics::PixelConfusion;
use crate::optim::{Adam, Optimizer};
use crate::rng::SeededRng;

use super::net::{SegModel, UNetShape, argmax_pixels};
use super::{SegError, SegSet};

#[derive(Clone, Debug, PartialEq)]
pub struct SegTrainConfig {
    pub epochs: usize,
    pub batch_size: usize,
    pub lr: f32,
    /// First-level channels of the U-Net.
    pub base: usize,
    pub batch_norm: bool,
    pub seed: u64,
}

impl SegTrainConfig {
    pub fn new(epochs: usize, seed: u64) -> Self {
        SegTrainConfig { epochs, batch_size: 16, lr: 3e-3, base: 8, batch_norm: true, seed }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepReport {
    /// Steps done so far (1-based).
    pub step: usize,
    /// Epoch being trained (1-based).
    pub epoch: usize,
    pub loss: f32,
}

#[derive(Clone, Debug, PartialEq)]
pub struct EpochReport {
    pub epoch: usize,
    pub train_loss: f64,
    pub confusion: PixelConfusion,
    pub seconds: f64,
}

impl EpochReport {
    pub fn mean_iou(&self) -> f64 {
        self.confusion.mean_iou().unwrap_or(0.0)
    }
}

/// What the step callback tells the loop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    Continue,
    Stop,
}

/// A validation image's prediction: class probabilities `[classes, H, W]`,
/// the most probable class and its probability per pixel.
#[derive(Clone, Debug, PartialEq)]
pub struct Prediction {
    pub index: usize,
    pub probs: Vec<f32>,
    pub classes: Vec<u8>,
    pub confidence: Vec<f32>,
}

pub struct SegTrainer {
    pub model: SegModel,
    optimizer: Adam,
    train: Arc<SegSet>,
    val: Arc<SegSet>,
    config: SegTrainConfig,
    epoch: usize,
    step: usize,
}

impl SegTrainer {
    /// A fresh U-Net for `train`'s images, initialized from the seed.
    pub fn new(train: Arc<SegSet>, val: Arc<SegSet>, config: SegTrainConfig) -> Result<Self, SegError> {
        train.check()?;
        val.check()?;
        if (train.channels, train.height, train.width) != (val.channels, val.height, val.width) || train.classes != val.classes {
            return Err(SegError::Input("training and validation images differ in size or classes".into()));
        }
        if config.batch_size == 0 || config.epochs == 0 {
            return Err(SegError::Input("epochs and batch size must be at least 1".into()));
        }
        if !(config.lr.is_finite() && config.lr > 0.0) {
            return Err(SegError::Input(format!("learning rate {} must be positive", config.lr)));
        }
        let shape =
            UNetShape { channels: train.channels, classes: train.classes.len(), height: train.height, width: train.width, base: config.base, batch_norm: config.batch_norm };
        let model = SegModel::new(shape, config.seed)?;
        Ok(SegTrainer { model, optimizer: Adam::new(config.lr), train, val, config, epoch: 0, step: 0 })
    }

    pub fn config(&self) -> &SegTrainConfig {
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

    pub fn val_set(&self) -> &Arc<SegSet> {
        &self.val
    }

    pub fn steps_per_epoch(&self) -> usize {
        self.train.len().div_ceil(self.config.batch_size)
    }

    /// Train one epoch, calling `on_step` after every step. Returns the mean
    /// training loss, or None when `on_step` stopped the epoch early.
    pub fn train_epoch(&mut self, mut on_step: impl FnMut(&mut Self, StepReport) -> Flow) -> Result<Option<f64>, SegError> {
        let order = SeededRng::stream(self.config.seed, (1 << 40) | self.epoch as u64).permutation(self.train.len());
        let train = Arc::clone(&self.train);
        let (mut sum, mut count) = (0.0f64, 0usize);
        for idx in order.chunks(self.config.batch_size) {
            let b = train.subset(idx);
            let loss = self.model.train_step(&b.images, &b.labels, idx.len())?;
            if !loss.is_finite() {
                return Err(SegError::Diverged(format!("loss became {loss} at step {}", self.step + 1)));
            }
            self.optimizer.step(self.model.params_mut())?;
            self.step += 1;
            sum += loss as f64 * idx.len() as f64;
            count += idx.len();
            if on_step(self, StepReport { step: self.step, epoch: self.epoch + 1, loss }) == Flow::Stop {
                return Ok(None);
            }
        }
        self.epoch += 1;
        Ok(Some(sum / count.max(1) as f64))
    }

    /// Class maps of the images at `idx` of `set`.
    fn predict_set(&mut self, set: &SegSet, idx: &[usize]) -> Result<Vec<Prediction>, SegError> {
        let classes = set.classes.len();
        let pixels = set.pixels();
        let mut out = Vec::with_capacity(idx.len());
        for chunk in idx.chunks(self.config.batch_size.max(1)) {
            let b = set.subset(chunk);
            let probs = self.model.predict(&b.images, chunk.len())?;
            for (k, &i) in chunk.iter().enumerate() {
                let p = probs.get(k * classes * pixels..(k + 1) * classes * pixels).ok_or_else(|| SegError::Input("short prediction".into()))?;
                let (cls, conf) = argmax_pixels(p, classes);
                out.push(Prediction { index: i, probs: p.to_vec(), classes: cls, confidence: conf });
            }
        }
        Ok(out)
    }

    /// The validation set's pixel confusion.
    pub fn evaluate(&mut self) -> Result<PixelConfusion, SegError> {
        let val = Arc::clone(&self.val);
        let idx: Vec<usize> = (0..val.len()).collect();
        let mut conf = PixelConfusion::new(val.classes.len());
        for p in self.predict_set(&val, &idx)? {
            conf.add(val.label(p.index).unwrap_or(&[]), &p.classes)?;
        }
        Ok(conf)
    }

    /// Predictions of the first `n` validation images.
    pub fn predict_val(&mut self, n: usize) -> Result<Vec<Prediction>, SegError> {
        let val = Arc::clone(&self.val);
        let idx: Vec<usize> = (0..n.min(val.len())).collect();
        self.predict_set(&val, &idx)
    }

    /// Class maps of a whole image of any size at least the model's: the
    /// net is fully convolutional but compiled for its crop size, so the
    /// image is cut into tiles of that size overlapping by a quarter of
    /// their side, and every pixel takes the tile in which
    /// it lies farthest from the border, where zero padding matters least.
    pub fn predict_whole(&mut self, image: &SegSet) -> Result<Prediction, SegError> {
        let s = self.model.shape().clone();
        let (h, w, c) = (image.height, image.width, image.channels);
        if c != s.channels || h < s.height || w < s.width || image.image(0).is_none() {
            return Err(SegError::Input(format!("a {c}-channel {w}x{h} image cannot be tiled by {}x{} tiles of {} channels", s.width, s.height, s.channels)));
        }
        let img = image.image(0).unwrap_or(&[]);
        let (rows, cols) = (tiling(h, s.height), tiling(w, s.width));
        let classes = s.classes;
        let tiles: Vec<(usize, usize)> = rows.starts.iter().flat_map(|&y| cols.starts.iter().map(move |&x| (y, x))).collect();
        let tile_px = s.height * s.width;
        let mut probs = vec![0f32; classes * h * w];
        for chunk in tiles.chunks(self.config.batch_size.max(1)) {
            let mut x = Vec::with_capacity(chunk.len() * c * tile_px);
            for &(y0, x0) in chunk {
                for ch in 0..c {
                    for y in y0..y0 + s.height {
                        x.extend_from_slice(&img[ch * h * w + y * w + x0..ch * h * w + y * w + x0 + s.width]);
                    }
                }
            }
            let p = self.model.predict(&x, chunk.len())?;
            for (k, &(y0, x0)) in chunk.iter().enumerate() {
                let tp = &p[k * classes * tile_px..(k + 1) * classes * tile_px];
                for y in y0..y0 + s.height {
                    if rows.owner[y] != y0 {
                        continue;
                    }
                    for xx in x0..x0 + s.width {
                        if cols.owner[xx] != x0 {
                            continue;
                        }
                        for cl in 0..classes {
                            probs[cl * h * w + y * w + xx] = tp[cl * tile_px + (y - y0) * s.width + (xx - x0)];
                        }
                    }
                }
            }
        }
        let (cls, conf) = argmax_pixels(&probs, classes);
        Ok(Prediction { index: 0, probs, classes: cls, confidence: conf })
    }

    /// Train every remaining epoch, evaluating after each.
    pub fn run(&mut self, mut on_epoch: impl FnMut(&mut Self, &EpochReport) -> Flow) -> Result<Vec<EpochReport>, SegError> {
        let mut reports = vec![];
        while !self.done() {
            let t0 = std::time::Instant::now();
            let Some(train_loss) = self.train_epoch(|_, _| Flow::Continue)? else { break };
            let confusion = self.evaluate()?;
            let r = EpochReport { epoch: self.epoch, train_loss, confusion, seconds: t0.elapsed().as_secs_f64() };
            let flow = on_epoch(self, &r);
            reports.push(r);
            if flow == Flow::Stop {
                break;
            }
        }
        Ok(reports)
    }
}

/// Tiles of `tile` covering `len`: their starts, and for each position the
/// start of the tile that owns it.
struct Tiling {
    starts: Vec<usize>,
    owner: Vec<usize>,
}

fn tiling(len: usize, tile: usize) -> Tiling {
    // Overlap of a quarter tile: each owned part keeps an eighth of the
    // tile from the borders inside the image.
    let step = (tile - tile / 4).max(1);
    let mut starts = vec![];
    let mut at = 0;
    while at + tile < len {
        starts.push(at);
        at += step;
    }
    starts.push(len - tile);
    let owner = (0..len)
        .map(|p| {
            let margin = |&st: &usize| if p < st || p >= st + tile { -1 } else { (p - st).min(st + tile - 1 - p) as i64 };
            // The first of the best on ties.
            let best = starts.iter().map(margin).max().unwrap_or(0);
            starts.iter().copied().find(|st| margin(st) == best).unwrap_or(0)
        })
        .collect();
    Tiling { starts, owner }
}

#[cfg(test)]
mod tests {
    use super::tiling;

    #[test]
    fn tiles_cover_the_image_and_own_their_middles() {
        let t = tiling(100, 48);
        assert_eq!(t.starts, [0, 36, 52]);
        // 0..=41 is nearest the middle of tile 0 (ties go first), then tile 36
        // up to where tile 52's margin wins.
        assert_eq!(t.owner[0], 0);
        assert_eq!(t.owner[41], 0);
        assert_eq!(t.owner[42], 36);
        assert_eq!(t.owner[99], 52);
        assert!(t.owner.iter().enumerate().all(|(p, &s)| (s..s + 48).contains(&p)));
        let one = tiling(48, 48);
        assert_eq!((one.starts.clone(), one.owner.iter().all(|&s| s == 0)), (vec![0], true));
    }
}
