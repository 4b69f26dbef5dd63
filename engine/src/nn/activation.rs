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

/// GELU, tanh form (PyTorch `approximate="tanh"`; erf is not a primitive):
/// 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
pub fn gelu(g: &mut Graph, x: Tensor) -> R {
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
