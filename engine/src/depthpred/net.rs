//! The segmentation lab's U-Net ([`crate::segmentation::net::unet`]) with one
//! output channel, read as log depth, trained with the scale-invariant log
//! loss ([`crate::nn::scale_invariant_log`]) over the valid pixels.

use crate::graph::{Graph, batch_dim};
use crate::model::{Model, ModelSpec};
use crate::nn::{self, Mode};
use crate::segmentation::net::{HEAD, Pass, UNetShape, init_params, unet};
use crate::train::Param;

use super::DepthError;

const INPUT_X: &str = "x";
const INPUT_LOG_DEPTH: &str = "log_depth";
const INPUT_MASK: &str = "mask";
const OUT_LOG_DEPTH: &str = "pred_log_depth";

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DepthNetShape {
    /// Image side (a multiple of 4).
    pub size: usize,
    /// First-level channels; the next two have 2x and 4x.
    pub base: usize,
    pub batch_norm: bool,
    /// The loss's lambda (0.5 in the paper; 1 is fully scale-invariant).
    pub lambda: f32,
}

/// Log depths and the validity mask of stacked depth maps (0 = invalid).
pub fn log_targets(depths: &[f32]) -> (Vec<f32>, Vec<f32>) {
    depths.iter().map(|&d| if d > 0.0 && d.is_finite() { (d.ln(), 1.0) } else { (0.0, 0.0) }).unzip()
}

pub struct DepthModel {
    shape: DepthNetShape,
    compiled: Model,
    params: Vec<Param>,
}

impl DepthModel {
    /// Compile and initialize from `seed`; the head's bias starts at
    /// `mean_log_depth`, so the first prediction is the right scale.
    pub fn new(shape: DepthNetShape, mean_log_depth: f32, seed: u64) -> Result<DepthModel, DepthError> {
        if !shape.lambda.is_finite() || !(0.0..=1.0).contains(&shape.lambda) {
            return Err(DepthError::Input(format!("lambda {} must be in [0, 1]", shape.lambda)));
        }
        let s = UNetShape { channels: 3, classes: 1, height: shape.size, width: shape.size, base: shape.base, batch_norm: shape.batch_norm };
        s.check().map_err(|e| DepthError::Input(e.to_string()))?;
        let mut g = Graph::new();
        let hw = [batch_dim(), 1usize.into(), shape.size.into(), shape.size.into()];
        let x = g.input(INPUT_X, &[batch_dim(), 3usize.into(), shape.size.into(), shape.size.into()])?;
        let target = g.input(INPUT_LOG_DEPTH, &hw)?;
        let mask = g.input(INPUT_MASK, &hw)?;
        let mut updates = vec![];
        let pred = unet(&mut g, &s, &mut Pass { mode: Mode::Train, updates: &mut updates }, x)?;
        let loss = nn::scale_invariant_log(&mut g, pred, target, mask, shape.lambda)?;
        let eval = if shape.batch_norm { unet(&mut g, &s, &mut Pass { mode: Mode::Eval, updates: &mut vec![] }, x)? } else { pred };
        let spec = ModelSpec { loss, train_outputs: vec![], eval_outputs: vec![(OUT_LOG_DEPTH.into(), eval)], state_updates: updates };
        let compiled = Model::compile(g, spec)?;
        let mut params = init_params(&compiled, HEAD, seed)?;
        if let Some(b) = params.iter_mut().find(|p| p.name == format!("{HEAD}.bias")) {
            b.value.fill(mean_log_depth);
        }
        Ok(DepthModel { shape, compiled, params })
    }

    pub fn shape(&self) -> &DepthNetShape {
        &self.shape
    }

    pub fn params_mut(&mut self) -> &mut [Param] {
        &mut self.params
    }

    pub fn param_count(&self) -> usize {
        self.params.iter().map(|p| p.value.len()).sum()
    }

    fn load(&mut self, x: &[f32], n: usize) -> Result<(), DepthError> {
        let s = self.shape.size;
        if n == 0 || x.len() != n * 3 * s * s {
            return Err(DepthError::Input(format!("{} values for {n} RGB images of {s}x{s}", x.len())));
        }
        self.compiled.set_batch(n)?;
        for p in &self.params {
            self.compiled.set_param(&p.name, &p.value)?;
        }
        self.compiled.set_input(INPUT_X, x)?;
        Ok(())
    }

    /// Forward + backward on `n` images and their depth maps (metres, 0 =
    /// invalid): overwrites every gradient, returns the batch's loss.
    pub fn train_step(&mut self, x: &[f32], depths: &[f32], n: usize) -> Result<f32, DepthError> {
        self.load(x, n)?;
        let (logd, mask) = log_targets(depths);
        self.compiled.set_input(INPUT_LOG_DEPTH, &logd)?;
        self.compiled.set_input(INPUT_MASK, &mask)?;
        let loss = self.compiled.train_step()?;
        for p in &mut self.params {
            let g = self.compiled.grad(&p.name)?;
            p.grad.clear();
            p.grad.extend_from_slice(g);
        }
        Ok(loss)
    }

    /// Predicted depth in metres `[n, H, W]` of `n` images (eval mode).
    pub fn predict(&mut self, x: &[f32], n: usize) -> Result<Vec<f32>, DepthError> {
        self.load(x, n)?;
        self.compiled.evaluate()?;
        Ok(self.compiled.output(OUT_LOG_DEPTH)?.iter().map(|v| v.exp()).collect())
    }
}
