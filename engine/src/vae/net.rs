//! The VAE's graph: an MLP encoder to (mu, log variance), the
//! reparameterization `z = mu + exp(logvar / 2) * eps` with the noise `eps`
//! fed as an input (so a seeded caller decides it), an MLP decoder to
//! Bernoulli logits, and the two terms of the negative ELBO per image:
//! reconstruction `sum_pixels BCE(logits, x)` and `KL(q(z|x) || N(0, I))`,
//! each a mean over the batch, in nats.

use crate::error::EngineError;
use crate::graph::{Dim, Graph, Tensor, batch_dim};
use crate::nn::{self, Linear};

/// Sizes of an MLP VAE. The decoder mirrors the encoder's hidden sizes.
#[derive(Clone, Debug, PartialEq)]
pub struct VaeShape {
    /// Pixels per image (64 for the 8x8 digits, 784 for MNIST).
    pub input: usize,
    /// Encoder hidden sizes, input side first.
    pub hidden: Vec<usize>,
    pub latent: usize,
}

impl VaeShape {
    pub fn check(&self) -> Result<(), EngineError> {
        if self.input == 0 || self.latent == 0 || self.hidden.contains(&0) {
            return Err(EngineError::Shape(format!("VAE sizes must be at least 1: {self:?}")));
        }
        Ok(())
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

/// The encoder: x `[B, input]` -> (mu, logvar), each `[B, latent]`.
pub fn encoder(g: &mut Graph, s: &VaeShape, x: Tensor) -> Result<(Tensor, Tensor), EngineError> {
    let mut sizes = vec![s.input];
    sizes.extend(&s.hidden);
    let h = relu_stack(g, "enc_fc", x, &sizes)?;
    let last = *sizes.last().unwrap_or(&s.input);
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
    Linear::new(g, HEADS[2], last, s.input, true)?.forward(g, h)
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
