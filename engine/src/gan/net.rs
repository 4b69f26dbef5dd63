//! The two MLPs and their losses as graphs.
//!
//! - D: `x [B, data] -> logit [B, 1]`, layers `d_fc1..`, `d_out`.
//! - G: `z [B, noise] -> x [B, data]`, layers `g_fc1..`, `g_out`: linear for
//!   points (so G can reach any point of the plane), tanh for images scaled
//!   to [-1, 1] (as in DCGAN).
//!
//! Two compiled graphs share these names: the discriminator's own
//! (`x`, target `t`) and the generator through the discriminator (`z`,
//! target `t`), whose gradients are read only for the `g_` parameters.

use crate::error::EngineError;
use crate::graph::{Graph, Tensor, batch_dim};
use crate::models::Activation;
use crate::nn::{self, Linear};

/// Points live in the plane.
pub const POINT_DIM: usize = 2;

/// Sizes of the two convolutional networks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvShape {
    /// Image side (a multiple of 4).
    pub side: usize,
    /// G's channels at side/4 (halved at side/2).
    pub g_channels: usize,
    /// D's channels at side/2 (doubled at side/4).
    pub d_channels: usize,
}

impl ConvShape {
    pub fn mnist() -> ConvShape {
        ConvShape { side: 28, g_channels: 64, d_channels: 32 }
    }

    pub fn check(&self) -> Result<(), EngineError> {
        if self.side < 4 || !self.side.is_multiple_of(4) || self.g_channels < 2 || self.d_channels == 0 {
            return Err(EngineError::Shape(format!("DCGAN needs a side that is a multiple of 4, G channels >= 2 and D channels >= 1: {self:?}")));
        }
        Ok(())
    }
}

pub const INPUT_X: &str = "x";
pub const INPUT_Z: &str = "z";
pub const INPUT_T: &str = "t";
/// Layer name prefixes: a parameter is the generator's iff it starts with `g_`.
pub const G_PREFIX: &str = "g_";
pub const D_PREFIX: &str = "d_";

/// The adversarial objective.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GanLoss {
    /// Goodfellow et al. 2014 with the generator's "non-saturating" loss:
    /// D minimizes `BCE(D(x), 1) + BCE(D(G(z)), 0)` (each a batch mean),
    /// G minimizes `BCE(D(G(z)), 1) = -log sigmoid(D(G(z)))`.
    NonSaturating,
    /// LSGAN (Mao et al. 2017, a=0, b=c=1): D minimizes
    /// `1/2 E[(D(x) - 1)^2] + 1/2 E[D(G(z))^2]`, G minimizes
    /// `1/2 E[(D(G(z)) - 1)^2]`; D's output is a raw score.
    LeastSquares,
}

impl GanLoss {
    pub const ALL: [GanLoss; 2] = [GanLoss::NonSaturating, GanLoss::LeastSquares];

    pub fn name(self) -> &'static str {
        match self {
            GanLoss::NonSaturating => "non-saturating",
            GanLoss::LeastSquares => "least squares",
        }
    }

    pub fn parse(s: &str) -> Option<GanLoss> {
        GanLoss::ALL.into_iter().find(|l| l.name() == s)
    }

    /// Per-element loss of outputs `d` against targets `t`, as a mean.
    pub(super) fn mean(self, g: &mut Graph, d: Tensor, t: Tensor) -> Result<Tensor, EngineError> {
        match self {
            GanLoss::NonSaturating => nn::bce_with_logits(g, d, t),
            GanLoss::LeastSquares => nn::mse(g, d, t),
        }
    }

    /// The D loss is over one batch of reals then fakes of equal size, so
    /// its mean over both is half the sum of the two means: BCE's sum is 2
    /// x the mean, LSGAN's halves is 1 x.
    pub(super) fn d_scale(self) -> f32 {
        match self {
            GanLoss::NonSaturating => 2.0,
            GanLoss::LeastSquares => 1.0,
        }
    }

    pub(super) fn g_scale(self) -> f32 {
        match self {
            GanLoss::NonSaturating => 1.0,
            GanLoss::LeastSquares => 0.5,
        }
    }

    /// D's output read as "probability real": sigmoid of the logit for
    /// BCE, the raw score (targets 0 and 1) clamped to [0, 1] for LSGAN.
    pub fn prob(self, d: f32) -> f32 {
        match self {
            GanLoss::NonSaturating => 1.0 / (1.0 + (-d).exp()),
            GanLoss::LeastSquares => d.clamp(0.0, 1.0),
        }
    }
}

/// Sizes and activations of both networks.
#[derive(Clone, Debug, PartialEq)]
pub struct GanShape {
    /// Values per sample: 2 for points, pixels for images.
    pub data: usize,
    /// Squash G's output with tanh (images in [-1, 1]).
    pub tanh_out: bool,
    /// Length of the noise vector z ~ N(0, I).
    pub noise: usize,
    pub g_hidden: Vec<usize>,
    pub d_hidden: Vec<usize>,
    pub g_act: Activation,
    pub d_act: Activation,
    /// DCGAN convolutional networks instead of the MLPs (then `data` is
    /// `side^2`, the output is tanh and the hidden sizes are unused).
    pub conv: Option<ConvShape>,
}

impl GanShape {
    /// The DCGAN networks of `conv` on `noise`-long noise.
    pub fn dcgan(conv: ConvShape, noise: usize) -> GanShape {
        let data = conv.side * conv.side;
        GanShape { data, tanh_out: true, noise, g_hidden: vec![], d_hidden: vec![], g_act: Activation::Relu, d_act: Activation::LeakyRelu, conv: Some(conv) }
    }

    pub fn check(&self) -> Result<(), EngineError> {
        if self.data == 0 || self.noise == 0 || self.g_hidden.contains(&0) || self.d_hidden.contains(&0) {
            return Err(EngineError::Shape(format!("GAN sizes must be at least 1: {self:?}")));
        }
        if let Some(c) = self.conv {
            c.check()?;
            if self.data != c.side * c.side || !self.tanh_out {
                return Err(EngineError::Shape(format!("a DCGAN makes {0}x{0} images in [-1, 1], not {1} values", c.side, self.data)));
            }
        }
        Ok(())
    }
}

/// Hidden layers `{prefix}fc1..` with `act` after each, then a linear `{prefix}out`.
fn mlp(g: &mut Graph, prefix: &str, x: Tensor, input: usize, hidden: &[usize], out: usize, act: Activation) -> Result<Tensor, EngineError> {
    let (mut h, mut width) = (x, input);
    for (i, &w) in hidden.iter().enumerate() {
        h = Linear::new(g, &format!("{prefix}fc{}", i + 1), width, w, true)?.forward(g, h)?;
        h = act.apply(g, h)?;
        width = w;
    }
    Linear::new(g, &format!("{prefix}out"), width, out, true)?.forward(g, h)
}

/// D: samples `[B, data]` -> raw outputs `[B, 1]`.
pub fn discriminator(g: &mut Graph, s: &GanShape, x: Tensor) -> Result<Tensor, EngineError> {
    mlp(g, D_PREFIX, x, s.data, &s.d_hidden, 1, s.d_act)
}

/// G: noise `[B, noise]` -> samples `[B, data]`.
pub fn generator(g: &mut Graph, s: &GanShape, z: Tensor) -> Result<Tensor, EngineError> {
    let x = mlp(g, G_PREFIX, z, s.noise, &s.g_hidden, s.data, s.g_act)?;
    if s.tanh_out { nn::tanh(g, x) } else { Ok(x) }
}

/// The discriminator's training graph: inputs `x [B, data]` and targets
/// `t [B, 1]` (reals first, fakes after, equal halves); returns (D(x), loss).
pub fn d_graph(g: &mut Graph, s: &GanShape, loss: GanLoss) -> Result<(Tensor, Tensor), EngineError> {
    s.check()?;
    let x = g.input(INPUT_X, &[batch_dim(), s.data.into()])?;
    let t = g.input(INPUT_T, &[batch_dim(), 1usize.into()])?;
    let d = discriminator(g, s, x)?;
    let m = loss.mean(g, d, t)?;
    Ok((d, g.mul_scalar(m, loss.d_scale())?))
}

/// The generator's training graph: `z [B, noise]` through G then D, targets
/// `t [B, 1]` (all ones: "call the fakes real"); returns (G(z), D(G(z)), loss).
pub fn g_graph(g: &mut Graph, s: &GanShape, loss: GanLoss) -> Result<(Tensor, Tensor, Tensor), EngineError> {
    s.check()?;
    let z = g.input(INPUT_Z, &[batch_dim(), s.noise.into()])?;
    let t = g.input(INPUT_T, &[batch_dim(), 1usize.into()])?;
    let fake = generator(g, s, z)?;
    let d = discriminator(g, s, fake)?;
    let m = loss.mean(g, d, t)?;
    Ok((fake, d, g.mul_scalar(m, loss.g_scale())?))
}
