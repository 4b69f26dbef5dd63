//! Activations and (log-)softmax as primitive-op compositions.

use crate::error::EngineError;
use crate::graph::{Graph, Tensor};

type R = Result<Tensor, EngineError>;

/// 1 / (1 + e^-x).
pub fn sigmoid(g: &mut Graph, x: Tensor) -> R {
    let n = g.neg(x)?;
    let e = g.exp(n)?;
    let d = g.add_scalar(e, 1.0)?;
    Ok(g.recip(d))
}

/// tanh x = 2 sigmoid(2x) - 1.
pub fn tanh(g: &mut Graph, x: Tensor) -> R {
    let x2 = g.mul_scalar(x, 2.0)?;
    let s = sigmoid(g, x2)?;
    let s2 = g.mul_scalar(s, 2.0)?;
    g.add_scalar(s2, -1.0)
}

/// 1.0 where x > 0.
pub(crate) fn positive(g: &mut Graph, x: Tensor) -> R {
    let z = g.scalar(0.0);
    g.less_than(z, x)
}

pub fn relu(g: &mut Graph, x: Tensor) -> R {
    let p = positive(g, x)?;
    g.mul(x, p)
}

/// x for x > 0, `slope * x` otherwise.
pub fn leaky_relu(g: &mut Graph, x: Tensor, slope: f32) -> R {
    let p = positive(g, x)?;
    let f = g.mul_scalar(p, 1.0 - slope)?;
    let f = g.add_scalar(f, slope)?;
    g.mul(x, f)
}

/// x for x > 0, `alpha (e^x - 1)` otherwise. The exponent is taken of the
/// negative part only, so large x cannot overflow into inf * 0.
pub fn elu(g: &mut Graph, x: Tensor, alpha: f32) -> R {
    let p = positive(g, x)?;
    let px = g.mul(x, p)?;
    let nx = g.sub(x, px)?;
    let e = g.exp(nx)?;
    let em1 = g.add_scalar(e, -1.0)?;
    let neg = g.mul_scalar(em1, alpha)?;
    g.add(px, neg)
}

pub const SELU_ALPHA: f32 = 1.673_263_2;
pub const SELU_SCALE: f32 = 1.050_701;

pub fn selu(g: &mut Graph, x: Tensor) -> R {
    let e = elu(g, x, SELU_ALPHA)?;
    g.mul_scalar(e, SELU_SCALE)
}

/// sign(x) as 2*(0<x) - 1 (0 maps to -1; only used where it is multiplied by 0).
fn sign(g: &mut Graph, x: Tensor) -> R {
    let p = positive(g, x)?;
    let s = g.mul_scalar(p, 2.0)?;
    g.add_scalar(s, -1.0)
}

/// erf(x) by Abramowitz & Stegun 7.1.26 (absolute error below 1.5e-7):
/// sign(x) (1 - poly(t) e^(-x^2)), t = 1 / (1 + 0.3275911 |x|).
pub fn erf(g: &mut Graph, x: Tensor) -> R {
    const A: [f32; 5] = [0.254_829_6, -0.284_496_74, 1.421_413_7, -1.453_152_1, 1.061_405_4];
    let ax = g.abs(x)?;
    let d = g.mul_scalar(ax, 0.327_591_1)?;
    let d = g.add_scalar(d, 1.0)?;
    let t = g.recip(d);
    // Horner: ((((a5 t + a4) t + a3) t + a2) t + a1) t
    let mut p = g.mul_scalar(t, A[4])?;
    for &a in A[..4].iter().rev() {
        p = g.add_scalar(p, a)?;
        p = g.mul(p, t)?;
    }
    let x2 = g.mul(x, x)?;
    let nx2 = g.neg(x2)?;
    let e = g.exp(nx2)?;
    let pe = g.mul(p, e)?;
    let npe = g.neg(pe)?;
    let one_minus = g.add_scalar(npe, 1.0)?;
    let s = sign(g, x)?;
    g.mul(s, one_minus)
}

/// GELU as in PyTorch's default: 0.5 x (1 + erf(x / sqrt 2)).
pub fn gelu(g: &mut Graph, x: Tensor) -> R {
    let xs = g.mul_scalar(x, std::f32::consts::FRAC_1_SQRT_2)?;
    let e = erf(g, xs)?;
    let e1 = g.add_scalar(e, 1.0)?;
    let h = g.mul_scalar(x, 0.5)?;
    g.mul(h, e1)
}

/// GELU, tanh form (PyTorch `approximate="tanh"`):
/// 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
pub fn gelu_tanh(g: &mut Graph, x: Tensor) -> R {
    let x3 = g.mul(x, x)?;
    let x3 = g.mul(x3, x)?;
    let c = g.mul_scalar(x3, 0.044_715)?;
    let inner = g.add(x, c)?;
    let inner = g.mul_scalar(inner, (2.0 / std::f32::consts::PI).sqrt())?;
    let t = tanh(g, inner)?;
    let t1 = g.add_scalar(t, 1.0)?;
    let h = g.mul_scalar(x, 0.5)?;
    g.mul(h, t1)
}

/// x - max(x) along `axis` (the shift that keeps exp from overflowing).
fn shifted(g: &mut Graph, x: Tensor, axis: usize) -> R {
    let len = g.shape(x)[axis];
    let m = g.max_reduce(x, axis)?;
    let m = g.expand(m, axis, len)?;
    g.sub(x, m)
}

pub fn softmax(g: &mut Graph, x: Tensor, axis: usize) -> R {
    let len = g.shape(x)[axis];
    let z = shifted(g, x, axis)?;
    let e = g.exp(z)?;
    let s = g.sum_reduce(e, axis)?;
    let s = g.expand(s, axis, len)?;
    g.div(e, s)
}

/// log softmax = z - ln(sum(exp(z))) with z = x - max(x): stable for large logits.
pub fn log_softmax(g: &mut Graph, x: Tensor, axis: usize) -> R {
    let len = g.shape(x)[axis];
    let z = shifted(g, x, axis)?;
    let e = g.exp(z)?;
    let s = g.sum_reduce(e, axis)?;
    let l = g.ln(s)?;
    let l = g.expand(l, axis, len)?;
    g.sub(z, l)
}
