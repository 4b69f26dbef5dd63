//! The VAE's graph: an MLP (or convolutional) encoder to (mu, log variance), the
//! reparameterization `z = mu + exp(logvar / 2) * eps` with the noise `eps`
//! fed as an input (so a seeded caller decides it), a mirrored decoder to
//! Bernoulli logits, and the two terms of the negative ELBO per image:
//! reconstruction `sum_pixels BCE(logits, x)` and `KL(q(z|x) || N(0, I))`,
//! each a mean over the batch, in nats.

use crate::error::EngineError;
use crate::graph::{Dim, Graph, Tensor, batch_dim};
use crate::nn::{self, Conv2d, Conv2dConfig, ConvTranspose2d, ConvTranspose2dConfig, Linear};

/// Sizes of a VAE. The decoder mirrors the encoder.
#[derive(Clone, Debug, PartialEq)]
pub struct VaeShape {
    /// Pixels per image (64 for the 8x8 digits, 784 for MNIST).
    pub input: usize,
    /// Encoder hidden sizes of the fully connected part, input side first.
    pub hidden: Vec<usize>,
    pub latent: usize,
    /// Channels of the convolutional stages before the fully connected part
    /// (empty: an MLP VAE). Each stage is a 3x3 stride-2 convolution that
    /// halves the side; the decoder undoes each with a 4x4 stride-2
    /// transposed convolution.
    pub conv: Vec<usize>,
}

impl VaeShape {
    /// An MLP VAE.
    pub fn mlp(input: usize, hidden: Vec<usize>, latent: usize) -> VaeShape {
        VaeShape { input, hidden, latent, conv: vec![] }
    }

    pub fn check(&self) -> Result<(), EngineError> {
        if self.input == 0 || self.latent == 0 || self.hidden.contains(&0) || self.conv.contains(&0) {
            return Err(EngineError::Shape(format!("VAE sizes must be at least 1: {self:?}")));
        }
        if !self.conv.is_empty() {
            let side = self.side().ok_or_else(|| EngineError::Shape(format!("a convolutional VAE needs square images; {} pixels are not a square", self.input)))?;
            let f = 1 << self.conv.len();
            if side % f != 0 {
                return Err(EngineError::Shape(format!("{} stride-2 stages need a side divisible by {f}; the images are {side}x{side}", self.conv.len())));
            }
        }
        Ok(())
    }

    /// "784-conv32-conv64-256-20": the encoder's sizes, input to latent.
    pub fn describe(&self) -> String {
        let mut parts = vec![self.input.to_string()];
        parts.extend(self.conv.iter().map(|c| format!("conv{c}")));
        parts.extend(self.hidden.iter().map(|h| h.to_string()));
        parts.push(self.latent.to_string());
        parts.join("-")
    }

    /// The image side when the input is a square number of pixels.
    pub fn side(&self) -> Option<usize> {
        let s = (self.input as f64).sqrt().round() as usize;
        (s * s == self.input).then_some(s)
    }

    /// Side, channels and values of the last convolutional stage's output.
    fn conv_out(&self) -> (usize, usize, usize) {
        let side = self.side().unwrap_or(1) >> self.conv.len();
        let c = self.conv.last().copied().unwrap_or(1);
        (side, c, side * side * c)
    }

    /// Decoder hidden sizes, latent side first.
    fn decoder_hidden(&self) -> impl Iterator<Item = usize> + '_ {
        self.hidden.iter().rev().copied()
    }
}

/// Names of the output layers (initialized with gain 1, no ReLU after).
pub const HEADS: [&str; 3] = ["enc_mu", "enc_logvar", "dec_out"];

/// `fc` layers with ReLU between them, named `{prefix}{i}` from 1.
fn relu_stack(g: &mut Graph, prefix: &str, x: Tensor, sizes: &[usize]) -> Result<Tensor, EngineError> {
    let mut h = x;
    for (i, w) in sizes.windows(2).enumerate() {
        let fc = Linear::new(g, &format!("{prefix}{}", i + 1), w[0], w[1], true)?;
        h = fc.forward(g, h)?;
        h = nn::relu(g, h)?;
    }
    Ok(h)
}

/// Convolutional stages: x `[B, input]` as `[B, 1, S, S]`, ReLU after each,
/// flattened to `[B, C S' S']`.
fn conv_encoder(g: &mut Graph, s: &VaeShape, x: Tensor) -> Result<Tensor, EngineError> {
    let side = s.side().unwrap_or(1);
    let mut h = g.split_axis(x, 1, &[1.into(), side.into(), side.into()])?;
    let mut cin = 1;
    for (i, &c) in s.conv.iter().enumerate() {
        let cfg = Conv2dConfig { stride: 2, padding: 1, ..Conv2dConfig::new(cin, c, 3) };
        h = Conv2d::new(g, &format!("enc_conv{}", i + 1), cfg)?.forward(g, h)?;
        h = nn::relu(g, h)?;
        cin = c;
    }
    nn::flatten(g, h)
}

/// The mirror of [`conv_encoder`]: `[B, C S' S']` -> logits `[B, input]`.
fn conv_decoder(g: &mut Graph, s: &VaeShape, h: Tensor) -> Result<Tensor, EngineError> {
    let (side, c, _) = s.conv_out();
    let mut h = g.split_axis(h, 1, &[c.into(), side.into(), side.into()])?;
    let n = s.conv.len();
    for i in (0..n).rev() {
        let cout = if i == 0 { 1 } else { s.conv[i - 1] };
        let cfg = ConvTranspose2dConfig { stride: 2, padding: 1, ..ConvTranspose2dConfig::new(s.conv[i], cout, 4) };
        let name = if i == 0 { HEADS[2].to_string() } else { format!("dec_deconv{}", i + 1) };
        h = ConvTranspose2d::new(g, &name, cfg)?.forward(g, h)?;
        if i > 0 {
            h = nn::relu(g, h)?;
        }
    }
    nn::flatten(g, h)
}

/// The encoder: x `[B, input]` -> (mu, logvar), each `[B, latent]`.
pub fn encoder(g: &mut Graph, s: &VaeShape, x: Tensor) -> Result<(Tensor, Tensor), EngineError> {
    let (x, width) = if s.conv.is_empty() { (x, s.input) } else { (conv_encoder(g, s, x)?, s.conv_out().2) };
    let mut sizes = vec![width];
    sizes.extend(&s.hidden);
    let h = relu_stack(g, "enc_fc", x, &sizes)?;
    let last = *sizes.last().unwrap_or(&width);
    let mu = Linear::new(g, HEADS[0], last, s.latent, true)?.forward(g, h)?;
    let logvar = Linear::new(g, HEADS[1], last, s.latent, true)?.forward(g, h)?;
    Ok((mu, logvar))
}

/// The decoder: z `[B, latent]` -> Bernoulli logits `[B, input]`.
pub fn decoder(g: &mut Graph, s: &VaeShape, z: Tensor) -> Result<Tensor, EngineError> {
    let mut sizes = vec![s.latent];
    sizes.extend(s.decoder_hidden());
    let h = relu_stack(g, "dec_fc", z, &sizes)?;
    let last = *sizes.last().unwrap_or(&s.latent);
    if s.conv.is_empty() {
        return Linear::new(g, HEADS[2], last, s.input, true)?.forward(g, h);
    }
    let h = Linear::new(g, "dec_fc_conv", last, s.conv_out().2, true)?.forward(g, h)?;
    let h = nn::relu(g, h)?;
    conv_decoder(g, s, h)
}

/// The tensors of the full VAE graph.
#[derive(Clone, Copy, Debug)]
pub struct ElboGraph {
    pub x: Tensor,
    pub eps: Tensor,
    pub mu: Tensor,
    pub logvar: Tensor,
    pub logits: Tensor,
    /// Reconstruction term: mean over the batch of the summed pixel BCE.
    pub recon: Tensor,
    /// KL term: mean over the batch.
    pub kl: Tensor,
    /// recon + kl: the negative ELBO per image.
    pub loss: Tensor,
}

pub const INPUT_X: &str = "x";
pub const INPUT_EPS: &str = "eps";
pub const INPUT_Z: &str = "z";

/// Build the whole VAE with inputs `x` `[B, input]` and `eps` `[B, latent]`.
pub fn elbo(g: &mut Graph, s: &VaeShape) -> Result<ElboGraph, EngineError> {
    s.check()?;
    let x = g.input(INPUT_X, &[batch_dim(), s.input.into()])?;
    let eps = g.input(INPUT_EPS, &[batch_dim(), s.latent.into()])?;
    let (mu, logvar) = encoder(g, s, x)?;
    let half = g.mul_scalar(logvar, 0.5)?;
    let std = g.exp(half)?;
    let noise = g.mul(std, eps)?;
    let z = g.add(mu, noise)?;
    let logits = decoder(g, s, z)?;
    let recon = bce_sum_per_sample(g, logits, x, s.input)?;
    let kl = nn::gaussian_kl(g, mu, logvar)?;
    let loss = g.add(recon, kl)?;
    Ok(ElboGraph { x, eps, mu, logvar, logits, recon, kl, loss })
}

/// Mean over the batch of the BCE summed over the `pixels` of each sample:
/// the mean over all elements times the pixel count.
fn bce_sum_per_sample(g: &mut Graph, logits: Tensor, x: Tensor, pixels: usize) -> Result<Tensor, EngineError> {
    let mean = nn::bce_with_logits(g, logits, x)?;
    g.mul_scalar(mean, pixels as f32)
}

/// The decoder alone with input `z` `[B, latent]`: pixel probabilities.
pub fn decode_probs(g: &mut Graph, s: &VaeShape) -> Result<(Tensor, Tensor), EngineError> {
    s.check()?;
    let z = g.input(INPUT_Z, &[batch_dim(), Dim::from(s.latent)])?;
    let logits = decoder(g, s, z)?;
    let p = nn::sigmoid(g, logits)?;
    Ok((z, p))
}
