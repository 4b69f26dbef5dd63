//! The PixelCNN graph (van den Oord et al. 2016): masked convolutions over
//! a one-channel binary image, one logit per pixel for p(x_ij = 1 | the
//! pixels before it in raster order).
//!
//! A masked convolution multiplies its weight by a constant 0/1 mask inside
//! the graph, so autograd differentiates through it and the masked taps get
//! exactly zero gradient. Type A (first layer) hides the centre pixel, type
//! B (later layers) shows it: after an A layer, position (i, j) of every
//! feature map already depends only on pixels strictly before (i, j), so B
//! layers may look at their own position without leaking x_ij. With one
//! input channel there are no colour groups to mask.

use crate::error::EngineError;
use crate::graph::{Graph, Tensor, batch_dim};
use crate::nn::{self, Conv2d, Conv2dConfig};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MaskType {
    /// Taps strictly before the centre in raster order.
    A,
    /// Those and the centre.
    B,
}

/// The `k x k` mask, row-major: 1 above the centre row, and left of the
/// centre on its row (the centre itself for type B), 0 elsewhere.
pub fn mask(kind: MaskType, k: usize) -> Vec<f32> {
    let c = k / 2;
    let mut m = vec![0.0; k * k];
    for r in 0..k {
        for col in 0..k {
            let open = r < c || (r == c && (col < c || (col == c && kind == MaskType::B)));
            m[r * k + col] = if open { 1.0 } else { 0.0 };
        }
    }
    m
}

/// A same-size (odd kernel, stride 1, padding k/2) convolution whose weight
/// is masked. Its parameters are `{name}.weight` and `{name}.bias` as for a
/// plain [`Conv2d`]; the mask is a fixed leaf `{name}.mask`.
pub struct MaskedConv2d {
    conv: Conv2d,
    masked: Tensor,
}

impl MaskedConv2d {
    pub fn new(g: &mut Graph, name: &str, cin: usize, cout: usize, k: usize, kind: MaskType) -> Result<Self, EngineError> {
        if k == 0 || k.is_multiple_of(2) {
            return Err(EngineError::Shape(format!("masked conv {name}: kernel {k} must be odd")));
        }
        let config = Conv2dConfig { padding: k / 2, ..Conv2dConfig::new(cin, cout, k) };
        let conv = Conv2d::new(g, name, config)?;
        let m = mask(kind, k);
        let full: Vec<f32> = (0..cout * cin).flat_map(|_| m.iter().copied()).collect();
        let mask = g.fixed(&format!("{name}.mask"), &[cout, cin, k, k], full)?;
        let masked = g.mul(conv.weight, mask)?;
        Ok(MaskedConv2d { conv, masked })
    }

    /// x `[B, cin, H, W]` -> `[B, cout, H, W]`.
    pub fn forward(&self, g: &mut Graph, x: Tensor) -> Result<Tensor, EngineError> {
        Conv2d { weight: self.masked, ..self.conv }.forward(g, x)
    }
}

/// Sizes of a PixelCNN on `side x side` binary images.
#[derive(Clone, Debug, PartialEq)]
pub struct PixelCnnShape {
    /// Image side (8 for the built-in digits, 28 for MNIST).
    pub side: usize,
    /// Feature maps of every hidden layer.
    pub channels: usize,
    /// 3x3 type-B layers after the 7x7 type-A one.
    pub layers: usize,
}

/// Kernel of the first (type A) layer and of the B layers.
pub const KERNEL_A: usize = 7;
pub const KERNEL_B: usize = 3;
/// Layer names: `conv_a`, `conv_b1`..`conv_bN`, `out` (1x1, one logit).
pub const LAYER_A: &str = "conv_a";
pub const LAYER_OUT: &str = "out";
pub const INPUT_X: &str = "x";

impl PixelCnnShape {
    pub fn check(&self) -> Result<(), EngineError> {
        if self.side == 0 || self.channels == 0 {
            return Err(EngineError::Shape(format!("PixelCNN sizes must be at least 1: {self:?}")));
        }
        Ok(())
    }

    pub fn pixels(&self) -> usize {
        self.side * self.side
    }
}

/// The tensors of the graph.
#[derive(Clone, Copy, Debug)]
pub struct NllGraph {
    pub x: Tensor,
    /// `[B, 1, side, side]`.
    pub logits: Tensor,
    /// Mean over the batch of the BCE summed over each image's pixels:
    /// -log p(x) in nats per image.
    pub nll: Tensor,
}

/// Build the PixelCNN on input `x` `[B, 1, side, side]` (0/1 pixels).
pub fn build(g: &mut Graph, s: &PixelCnnShape) -> Result<NllGraph, EngineError> {
    s.check()?;
    let x = g.input(INPUT_X, &[batch_dim(), 1usize.into(), s.side.into(), s.side.into()])?;
    let mut h = MaskedConv2d::new(g, LAYER_A, 1, s.channels, KERNEL_A, MaskType::A)?.forward(g, x)?;
    h = nn::relu(g, h)?;
    for i in 1..=s.layers {
        h = MaskedConv2d::new(g, &format!("conv_b{i}"), s.channels, s.channels, KERNEL_B, MaskType::B)?.forward(g, h)?;
        h = nn::relu(g, h)?;
    }
    let logits = Conv2d::new(g, LAYER_OUT, Conv2dConfig::new(s.channels, 1, 1))?.forward(g, h)?;
    // The mean over all B * pixels elements times the pixel count.
    let mean = nn::bce_with_logits(g, logits, x)?;
    let nll = g.mul_scalar(mean, s.pixels() as f32)?;
    Ok(NllGraph { x, logits, nll })
}
