//! A small U-Net (Ronneberger et al. 2015, shrunk): two 3x3 conv + ReLU per
//! level, 2x2 max pooling down twice, 2x2 stride-2 transposed convolutions
//! up, the encoder's features concatenated to the decoder's at each level
//! (skip connections), and a 1x1 conv to class logits; optionally
//! BatchNorm after every 3x3 conv. Same padding everywhere, so the output is the input's size (a multiple of 4).
//!
//! [`unet`] and [`init_params`] are shared with depth prediction
//! ([`crate::depthpred`]), which uses one output channel (log depth).
//!
//! [`SegModel`] holds the compiled graph (per-pixel cross-entropy as the
//! loss, per-pixel softmax as the eval output) and the weights as plain
//! [`Param`]s, so the optimizers work on it as on any model.

use crate::error::EngineError;
use crate::graph::{Graph, Tensor, batch_dim};
use crate::init::Init;
use crate::model::{Model, ModelSpec};
use crate::nn::{self, BatchNorm, Conv2d, Conv2dConfig, ConvTranspose2d, ConvTranspose2dConfig, Mode, Pool2d};
use crate::train::{Param, relu_rule};

use super::SegError;

#[derive(Clone, Debug, PartialEq)]
pub struct UNetShape {
    pub channels: usize,
    /// Output channels: the classes' logits, or 1 for a regression map.
    pub classes: usize,
    pub height: usize,
    pub width: usize,
    /// Channels of the first level; the next two have 2x and 4x.
    pub base: usize,
    /// BatchNorm after every 3x3 conv (which then has no bias).
    pub batch_norm: bool,
}

impl UNetShape {
    pub fn check(&self) -> Result<(), SegError> {
        if self.channels == 0 || self.classes == 0 || self.base == 0 {
            return Err(SegError::Input(format!("U-Net needs input and output channels and a width: {self:?}")));
        }
        if self.height < 4 || self.width < 4 || !self.height.is_multiple_of(4) || !self.width.is_multiple_of(4) {
            return Err(SegError::Input(format!("U-Net input {}x{} must be a multiple of 4 a side", self.height, self.width)));
        }
        Ok(())
    }
}

pub const INPUT_X: &str = "x";
pub const INPUT_Y: &str = "y";
const OUT_PROBS: &str = "probs";
/// The 1x1 output layer (initialized with gain 1: no ReLU after it).
pub const HEAD: &str = "head";

fn conv3(g: &mut Graph, name: &str, cin: usize, cout: usize, bias: bool) -> Result<Conv2d, EngineError> {
    Conv2d::new(g, name, Conv2dConfig { padding: 1, bias, ..Conv2dConfig::new(cin, cout, 3) })
}

/// How a forward pass is built: the mode and where BatchNorm puts its
/// running-statistics updates.
pub struct Pass<'a> {
    pub mode: Mode,
    pub updates: &'a mut Vec<(Tensor, Tensor)>,
}

/// Two conv [+ BatchNorm] + ReLU layers named `{name}a`, `{name}b` (and
/// `{name}a_bn`, `{name}b_bn`). Layers are registered on the first call
/// and found by name on the second (the other mode).
pub(crate) fn double(g: &mut Graph, batch_norm: bool, pass: &mut Pass, name: &str, x: Tensor, cin: usize, cout: usize) -> Result<Tensor, EngineError> {
    let mut h = x;
    for (k, c_in) in [("a", cin), ("b", cout)] {
        let conv = layer_conv(g, &format!("{name}{k}"), c_in, cout, !batch_norm)?;
        h = conv.forward(g, h)?;
        if batch_norm {
            let bn = layer_bn(g, &format!("{name}{k}_bn"), cout)?;
            h = bn.forward(g, h, pass.mode, pass.updates)?;
        }
        h = nn::relu(g, h)?;
    }
    Ok(h)
}

/// A tensor for an existing leaf.
pub(crate) fn leaf(g: &Graph, name: &str) -> Option<Tensor> {
    g.leaf(name).map(|l| Tensor { id: l.id, view: luminal::prelude::ShapeTracker::new(&l.shape) })
}

fn layer_conv(g: &mut Graph, name: &str, cin: usize, cout: usize, bias: bool) -> Result<Conv2d, EngineError> {
    match leaf(g, &format!("{name}.weight")) {
        Some(weight) => Ok(Conv2d { weight, bias: leaf(g, &format!("{name}.bias")), config: Conv2dConfig { padding: 1, bias, ..Conv2dConfig::new(cin, cout, 3) } }),
        None => conv3(g, name, cin, cout, bias),
    }
}

fn layer_bn(g: &mut Graph, name: &str, c: usize) -> Result<BatchNorm, EngineError> {
    let found = (leaf(g, &format!("{name}.weight")), leaf(g, &format!("{name}.bias")), leaf(g, &format!("{name}.running_mean")), leaf(g, &format!("{name}.running_var")));
    match found {
        (Some(weight), Some(bias), Some(running_mean), Some(running_var)) => Ok(BatchNorm { weight, bias, running_mean, running_var, channels: c, eps: 1e-5, momentum: 0.1 }),
        _ => BatchNorm::new(g, name, c),
    }
}

/// Channel concatenation of `[B, Ca, H, W]` and `[B, Cb, H, W]`: each padded
/// with zeros where the other's channels go, then added.
fn concat_channels(g: &mut Graph, a: Tensor, b: Tensor) -> Result<Tensor, EngineError> {
    let (ca, cb) = match (g.shape(a)[1].to_usize(), g.shape(b)[1].to_usize()) {
        (Some(x), Some(y)) => (x, y),
        _ => return Err(EngineError::Shape("concat needs concrete channel counts".into())),
    };
    let pa = g.pad(a, 1, 0, cb)?;
    let pb = g.pad(b, 1, ca, 0)?;
    g.add(pa, pb)
}

fn up(g: &mut Graph, name: &str, x: Tensor, cin: usize, cout: usize) -> Result<Tensor, EngineError> {
    let cfg = ConvTranspose2dConfig { stride: 2, ..ConvTranspose2dConfig::new(cin, cout, 2) };
    let layer = match (leaf(g, &format!("{name}.weight")), leaf(g, &format!("{name}.bias"))) {
        (Some(weight), bias) => ConvTranspose2d { weight, bias, config: cfg },
        _ => ConvTranspose2d::new(g, name, cfg)?,
    };
    layer.forward(g, x)
}

/// Logits `[B, classes, H, W]` of the input `[B, channels, H, W]`. Call it
/// once per mode on one graph: the second call reuses the first's weights.
pub fn unet(g: &mut Graph, s: &UNetShape, pass: &mut Pass, x: Tensor) -> Result<Tensor, EngineError> {
    let (c1, c2, c3) = (s.base, 2 * s.base, 4 * s.base);
    let e1 = double(g, s.batch_norm, pass, "enc1", x, s.channels, c1)?; // H
    let p1 = Pool2d::max(2, 2).forward(g, e1)?;
    let e2 = double(g, s.batch_norm, pass, "enc2", p1, c1, c2)?; // H/2
    let p2 = Pool2d::max(2, 2).forward(g, e2)?;
    let m = double(g, s.batch_norm, pass, "mid", p2, c2, c3)?; // H/4
    let u2 = up(g, "up2", m, c3, c2)?; // H/2
    let d2 = concat_channels(g, u2, e2)?;
    let d2 = double(g, s.batch_norm, pass, "dec2", d2, 2 * c2, c2)?;
    let u1 = up(g, "up1", d2, c2, c1)?; // H
    let d1 = concat_channels(g, u1, e1)?;
    let d1 = double(g, s.batch_norm, pass, "dec1", d1, 2 * c1, c1)?;
    let head = match leaf(g, &format!("{HEAD}.weight")) {
        Some(weight) => Conv2d { weight, bias: leaf(g, &format!("{HEAD}.bias")), config: Conv2dConfig::new(c1, s.classes, 1) },
        None => Conv2d::new(g, HEAD, Conv2dConfig::new(c1, s.classes, 1))?,
    };
    head.forward(g, d1)
}

/// Seeded initial weights of a compiled U-Net: Kaiming (gain sqrt 2) before
/// ReLUs, gain 1 for the layer named `head`, biases zero, BatchNorm scales one.
pub fn init_params(compiled: &Model, head: &str, seed: u64) -> Result<Vec<Param>, crate::init::InitError> {
    crate::train::init_params(compiled.params().into_iter().map(|p| (p.name, p.shape)), seed, 0, relu_rule(Init::KAIMING_RELU, |layer| layer == head))
}

/// The compiled U-Net and its weights.
pub struct SegModel {
    shape: UNetShape,
    compiled: Model,
    params: Vec<Param>,
}

impl SegModel {
    /// Compile and initialize from `seed` ([`init_params`]).
    pub fn new(shape: UNetShape, seed: u64) -> Result<SegModel, SegError> {
        shape.check()?;
        if shape.classes < 2 {
            return Err(SegError::Input(format!("segmentation needs 2+ classes, got {}", shape.classes)));
        }
        let mut g = Graph::new();
        let x = g.input(INPUT_X, &[batch_dim(), shape.channels.into(), shape.height.into(), shape.width.into()])?;
        let y = g.pixel_labels(INPUT_Y, shape.classes, shape.height, shape.width)?;
        let mut updates = vec![];
        let logits = unet(&mut g, &shape, &mut Pass { mode: Mode::Train, updates: &mut updates }, x)?;
        let loss = nn::pixel_softmax_cross_entropy(&mut g, logits, y)?;
        // Without BatchNorm both modes are the same graph.
        let eval = if shape.batch_norm { unet(&mut g, &shape, &mut Pass { mode: Mode::Eval, updates: &mut vec![] }, x)? } else { logits };
        let probs = nn::softmax(&mut g, eval, 1)?;
        let spec = ModelSpec { loss, train_outputs: vec![], eval_outputs: vec![(OUT_PROBS.into(), probs)], state_updates: updates };
        let compiled = Model::compile(g, spec)?;
        let params = init_params(&compiled, HEAD, seed)?;
        Ok(SegModel { shape, compiled, params })
    }

    pub fn shape(&self) -> &UNetShape {
        &self.shape
    }

    pub fn params(&self) -> &[Param] {
        &self.params
    }

    pub fn params_mut(&mut self) -> &mut [Param] {
        &mut self.params
    }

    /// Number of trainable values.
    pub fn param_count(&self) -> usize {
        self.params.iter().map(|p| p.value.len()).sum()
    }

    fn load(&mut self, x: &[f32], n: usize) -> Result<(), SegError> {
        let s = &self.shape;
        if n == 0 || x.len() != n * s.channels * s.height * s.width {
            return Err(SegError::Input(format!("{} values for {n} images of {}x{}x{}", x.len(), s.channels, s.height, s.width)));
        }
        self.compiled.set_batch(n)?;
        for p in &self.params {
            self.compiled.set_param(&p.name, &p.value)?;
        }
        self.compiled.set_input(INPUT_X, x)?;
        Ok(())
    }

    /// Forward + backward on `n` images and their class maps: overwrites
    /// every parameter's gradient, returns the mean per-pixel loss.
    pub fn train_step(&mut self, x: &[f32], labels: &[u8], n: usize) -> Result<f32, SegError> {
        self.load(x, n)?;
        let y: Vec<f32> = labels.iter().map(|&l| l as f32).collect();
        self.compiled.set_input(INPUT_Y, &y)?;
        let loss = self.compiled.train_step()?;
        for p in &mut self.params {
            let g = self.compiled.grad(&p.name)?;
            p.grad.clear();
            p.grad.extend_from_slice(g);
        }
        Ok(loss)
    }

    /// Class probabilities `[n, classes, H, W]` of `n` images.
    pub fn predict(&mut self, x: &[f32], n: usize) -> Result<Vec<f32>, SegError> {
        self.load(x, n)?;
        self.compiled.evaluate()?;
        Ok(self.compiled.output(OUT_PROBS)?.to_vec())
    }
}

/// The most probable class per pixel of `[classes, pixels]` probabilities
/// (the first on ties), with its probability.
pub fn argmax_pixels(probs: &[f32], classes: usize) -> (Vec<u8>, Vec<f32>) {
    let n = probs.len() / classes.max(1);
    let mut cls = vec![0u8; n];
    let mut best = vec![f32::NEG_INFINITY; n];
    for c in 0..classes {
        for (&v, (b, k)) in probs[c * n..(c + 1) * n].iter().zip(best.iter_mut().zip(cls.iter_mut())) {
            if v > *b {
                *b = v;
                *k = c as u8;
            }
        }
    }
    (cls, best)
}
