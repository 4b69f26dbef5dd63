//! DCGAN-style networks (Radford et al. 2016) for square grey images whose
//! side is a multiple of 4 (28x28 MNIST, 8x8 digits):
//!
//! - G: `z [B, noise]` -> `g_fc` (linear to `C x s/4 x s/4`) -> `g_bn1` ReLU
//!   -> `g_up1` (transposed conv 4x4 stride 2, `C -> C/2`, to `s/2`) ->
//!   `g_bn2` ReLU -> `g_up2` (transposed conv 4x4 stride 2, `C/2 -> 1`, to
//!   `s`) -> tanh: images `[B, 1, s, s]` in [-1, 1].
//! - D: `x [B, 1, s, s]` -> `d_conv1` (4x4 stride 2, `1 -> c`) LeakyReLU(0.2)
//!   -> `d_conv2` (4x4 stride 2, `c -> 2c`) -> `d_bn2` LeakyReLU(0.2) ->
//!   `d_out` (linear to one logit). No batch norm on D's input layer, as in
//!   the paper.
//!
//! Batch norm sees reals and fakes in separate batches (D is applied to
//! each on its own, as PyTorch's DCGAN example does): a batch mixing both
//! would let D read "real or fake" off the batch statistics. D always uses
//! batch statistics; G uses them while training and its running statistics
//! for the pictures (`fake_eval`), so an image does not depend on which
//! other noise vectors share its batch.

use crate::error::EngineError;
use crate::graph::{Graph, Tensor, batch_dim};
use crate::nn::{self, BatchNorm, Conv2d, Conv2dConfig, ConvTranspose2d, ConvTranspose2dConfig, Linear, Mode};

use super::net::{ConvShape, GanLoss, INPUT_T, INPUT_X, INPUT_Z};

/// Fakes for D's graph (reals go in [`INPUT_X`]) and their targets.
pub const INPUT_XF: &str = "xf";
pub const INPUT_TF: &str = "tf";
/// LeakyReLU slope in D.
const SLOPE: f32 = 0.2;

/// A 4x4, stride 2, padding 1 (transposed) convolution: halves (doubles) the side.
fn down(cin: usize, cout: usize, bias: bool) -> Conv2dConfig {
    Conv2dConfig { stride: 2, padding: 1, bias, ..Conv2dConfig::new(cin, cout, 4) }
}

fn up(cin: usize, cout: usize, bias: bool) -> ConvTranspose2dConfig {
    ConvTranspose2dConfig { stride: 2, padding: 1, bias, ..ConvTranspose2dConfig::new(cin, cout, 4) }
}

pub struct Generator {
    s: ConvShape,
    fc: Linear,
    bn1: BatchNorm,
    up1: ConvTranspose2d,
    bn2: BatchNorm,
    up2: ConvTranspose2d,
}

impl Generator {
    /// Registers G's parameters (batch norm follows, so no biases before it).
    pub fn new(g: &mut Graph, s: ConvShape, noise: usize) -> Result<Generator, EngineError> {
        s.check()?;
        let (c, q) = (s.g_channels, s.side / 4);
        Ok(Generator {
            s,
            fc: Linear::new(g, "g_fc", noise, c * q * q, false)?,
            bn1: BatchNorm::new(g, "g_bn1", c)?,
            up1: ConvTranspose2d::new(g, "g_up1", up(c, c / 2, false))?,
            bn2: BatchNorm::new(g, "g_bn2", c / 2)?,
            up2: ConvTranspose2d::new(g, "g_up2", up(c / 2, 1, true))?,
        })
    }

    /// `z [B, noise]` -> images `[B, 1, side, side]` in [-1, 1].
    pub fn forward(&self, g: &mut Graph, z: Tensor, mode: Mode, updates: &mut Vec<(Tensor, Tensor)>) -> Result<Tensor, EngineError> {
        let q = self.s.side / 4;
        let h = self.fc.forward(g, z)?;
        let h = g.reshape(h, &[batch_dim(), self.s.g_channels.into(), q.into(), q.into()])?;
        let h = self.bn1.forward(g, h, mode, updates)?;
        let h = nn::relu(g, h)?;
        let h = self.up1.forward(g, h)?;
        let h = self.bn2.forward(g, h, mode, updates)?;
        let h = nn::relu(g, h)?;
        let h = self.up2.forward(g, h)?;
        nn::tanh(g, h)
    }
}

pub struct Discriminator {
    conv1: Conv2d,
    conv2: Conv2d,
    bn2: BatchNorm,
    out: Linear,
}

impl Discriminator {
    pub fn new(g: &mut Graph, s: ConvShape) -> Result<Discriminator, EngineError> {
        s.check()?;
        let (c, q) = (s.d_channels, s.side / 4);
        Ok(Discriminator {
            conv1: Conv2d::new(g, "d_conv1", down(1, c, true))?,
            conv2: Conv2d::new(g, "d_conv2", down(c, 2 * c, false))?,
            bn2: BatchNorm::new(g, "d_bn2", 2 * c)?,
            out: Linear::new(g, "d_out", 2 * c * q * q, 1, true)?,
        })
    }

    /// Images `[B, 1, side, side]` -> raw outputs `[B, 1]`, with batch statistics.
    pub fn forward(&self, g: &mut Graph, x: Tensor) -> Result<Tensor, EngineError> {
        let h = self.conv1.forward(g, x)?;
        let h = nn::leaky_relu(g, h, SLOPE)?;
        let h = self.conv2.forward(g, h)?;
        // D's running statistics are never used: drop their updates.
        let h = self.bn2.forward(g, h, Mode::Train, &mut vec![])?;
        let h = nn::leaky_relu(g, h, SLOPE)?;
        let h = nn::flatten(g, h)?;
        self.out.forward(g, h)
    }
}

fn image_input(g: &mut Graph, name: &str, s: ConvShape) -> Result<Tensor, EngineError> {
    g.input(name, &[batch_dim(), 1usize.into(), s.side.into(), s.side.into()])
}

/// D's training graph: reals `x` with targets `t`, fakes `xf` with targets
/// `tf` (`[B, 1]` each, equal batches); returns (D(x), loss). The loss is
/// the MLP graph's: the two BCE means summed, or half the two squared
/// error means for LSGAN.
pub fn d_graph(g: &mut Graph, s: ConvShape, loss: GanLoss) -> Result<(Tensor, Tensor), EngineError> {
    let x = image_input(g, INPUT_X, s)?;
    let xf = image_input(g, INPUT_XF, s)?;
    let t = g.input(INPUT_T, &[batch_dim(), 1usize.into()])?;
    let tf = g.input(INPUT_TF, &[batch_dim(), 1usize.into()])?;
    let d = Discriminator::new(g, s)?;
    let dr = d.forward(g, x)?;
    let df = d.forward(g, xf)?;
    let lr = loss.mean(g, dr, t)?;
    let lf = loss.mean(g, df, tf)?;
    let sum = g.add(lr, lf)?;
    Ok((dr, g.mul_scalar(sum, loss.d_scale() / 2.0)?))
}

/// What the generator's graph computes.
pub struct GGraph {
    /// G(z) with batch statistics (trained through D, and D's fakes).
    pub fake: Tensor,
    /// G(z) with running statistics (the pictures).
    pub fake_eval: Tensor,
    /// D(G(z)).
    pub d: Tensor,
    pub loss: Tensor,
    /// G's running statistics, updated by each G step.
    pub updates: Vec<(Tensor, Tensor)>,
}

/// G through D: `z [B, noise]`, targets `t [B, 1]` (all ones).
pub fn g_graph(g: &mut Graph, s: ConvShape, noise: usize, loss: GanLoss) -> Result<GGraph, EngineError> {
    let z = g.input(INPUT_Z, &[batch_dim(), noise.into()])?;
    let t = g.input(INPUT_T, &[batch_dim(), 1usize.into()])?;
    let net = Generator::new(g, s, noise)?;
    let mut updates = vec![];
    let fake = net.forward(g, z, Mode::Train, &mut updates)?;
    let fake_eval = net.forward(g, z, Mode::Eval, &mut vec![])?;
    let d = Discriminator::new(g, s)?.forward(g, fake)?;
    let m = loss.mean(g, d, t)?;
    let loss = g.mul_scalar(m, loss.g_scale())?;
    Ok(GGraph { fake, fake_eval, d, loss, updates })
}
