//! Losses, each reduced to a scalar mean (over the batch, or over all
//! elements where PyTorch's default `reduction="mean"` does so).

use crate::error::EngineError;
use crate::graph::{Dim, Graph, Tensor};

use super::activation::{log_softmax, relu};

type R = Result<Tensor, EngineError>;

/// One-hot `[B, C]` from float class indices `[B]`, via equality with a fixed ramp.
pub fn one_hot(g: &mut Graph, labels: Tensor, classes: usize) -> R {
    let name = format!("__ramp{classes}_{}", g.leaves().len());
    let ramp = g.fixed(&name, &[classes], (0..classes).map(|c| c as f32).collect())?;
    let l = g.expand(labels, 1, classes.into())?;
    g.equal(l, ramp)
}

fn classes(g: &Graph, logits: Tensor) -> Result<(Dim, usize), EngineError> {
    let s = g.shape(logits);
    match s.as_slice() {
        [b, c] => Ok((*b, c.to_usize().ok_or_else(|| EngineError::Shape("class count must be concrete".into()))?)),
        _ => Err(EngineError::Shape(format!("logits must be [B, C], got {s:?}"))),
    }
}

/// Mean over the batch of `-log softmax(logits)[label]`; labels `[B]` hold class indices.
pub fn softmax_cross_entropy(g: &mut Graph, logits: Tensor, labels: Tensor) -> R {
    let (b, c) = classes(g, logits)?;
    let oh = one_hot(g, labels, c)?;
    let ls = log_softmax(g, logits, 1)?;
    let p = g.mul(ls, oh)?;
    let s = g.sum_all(p)?;
    let n = g.count(&[b]);
    let m = g.div(s, n)?;
    g.neg(m)
}

/// Per-pixel softmax cross-entropy for segmentation: logits `[B, C, H, W]`,
/// labels `[B, H, W]` of class indices; the mean over every pixel of
/// `-log softmax(logits)[label]` along the class axis (PyTorch's
/// `cross_entropy` on the same shapes).
pub fn pixel_softmax_cross_entropy(g: &mut Graph, logits: Tensor, labels: Tensor) -> R {
    let s = g.shape(logits);
    let ls = g.shape(labels);
    let c = match (s.as_slice(), ls.as_slice()) {
        ([b, c, h, w], [lb, lh, lw]) if b == lb && h == lh && w == lw => c.to_usize(),
        _ => None,
    }
    .ok_or_else(|| EngineError::Shape(format!("pixel cross-entropy needs logits [B, C, H, W] and labels [B, H, W], got {s:?} and {ls:?}")))?;
    let name = format!("__ramp{c}x1x1_{}", g.leaves().len());
    let ramp = g.fixed(&name, &[c, 1, 1], (0..c).map(|k| k as f32).collect())?;
    let l = g.expand(labels, 1, c.into())?;
    let oh = g.equal(l, ramp)?;
    let lsm = log_softmax(g, logits, 1)?;
    let p = g.mul(lsm, oh)?;
    let total = g.sum_all(p)?;
    let n = g.count(&[s[0], s[2], s[3]]);
    let m = g.div(total, n)?;
    g.neg(m)
}

/// Multiclass SVM (Weston-Watkins / cs231n): mean over the batch of
/// `sum_{j != y} max(0, s_j - s_y + margin)`.
pub fn multiclass_hinge(g: &mut Graph, scores: Tensor, labels: Tensor, margin: f32) -> R {
    let (b, c) = classes(g, scores)?;
    let oh = one_hot(g, labels, c)?;
    let sy = g.mul(scores, oh)?;
    let sy = g.sum_reduce(sy, 1)?;
    let sy = g.expand(sy, 1, c.into())?;
    let d = g.sub(scores, sy)?;
    let d = g.add_scalar(d, margin)?;
    let h = relu(g, d)?;
    let not_y = g.neg(oh)?;
    let not_y = g.add_scalar(not_y, 1.0)?;
    let h = g.mul(h, not_y)?;
    let s = g.sum_all(h)?;
    let n = g.count(&[b]);
    g.div(s, n)
}

/// Mean of `max(x, 0) - x y + ln(1 + e^-|x|)` (stable BCE on logits).
pub fn bce_with_logits(g: &mut Graph, logits: Tensor, targets: Tensor) -> R {
    let t = bce_with_logits_terms(g, logits, targets)?;
    g.mean_all(t)
}

/// The stable BCE of every element, unreduced (for weighted sums).
pub fn bce_with_logits_terms(g: &mut Graph, logits: Tensor, targets: Tensor) -> R {
    let r = relu(g, logits)?;
    let xy = g.mul(logits, targets)?;
    let a = g.abs(logits)?;
    let na = g.neg(a)?;
    let e = g.exp(na)?;
    let e1 = g.add_scalar(e, 1.0)?;
    let l = g.ln(e1)?;
    let t = g.sub(r, xy)?;
    g.add(t, l)
}

/// Mean squared error over all elements.
pub fn mse(g: &mut Graph, pred: Tensor, target: Tensor) -> R {
    let d = g.sub(pred, target)?;
    let d2 = g.mul(d, d)?;
    g.mean_all(d2)
}

/// Mean absolute error over all elements.
pub fn l1(g: &mut Graph, pred: Tensor, target: Tensor) -> R {
    let d = g.sub(pred, target)?;
    let a = g.abs(d)?;
    g.mean_all(a)
}

/// KL(N(mu, exp(logvar)) || N(0, 1)) summed over latent dims, mean over the
/// batch: `-0.5 sum(1 + logvar - mu^2 - exp(logvar)) / B`. mu, logvar `[B, Z]`.
pub fn gaussian_kl(g: &mut Graph, mu: Tensor, logvar: Tensor) -> R {
    let b = g.shape(mu)[0];
    let m2 = g.mul(mu, mu)?;
    let ev = g.exp(logvar)?;
    let t = g.add_scalar(logvar, 1.0)?;
    let t = g.sub(t, m2)?;
    let t = g.sub(t, ev)?;
    let s = g.sum_all(t)?;
    let n = g.count(&[b]);
    let m = g.div(s, n)?;
    g.mul_scalar(m, -0.5)
}

/// The scale-invariant log loss of Eigen, Puhrsch and Fergus (2014), per
/// image then averaged over the batch: with `d = (pred - target) * mask`
/// over an image's `n` valid pixels (mask 1, others 0),
/// `(1/n) sum d^2 - (lambda / n^2) (sum d)^2`. `pred` and `target` are log
/// depths `[B, ...]`, `mask` the same shape; `lambda = 1` ignores a global
/// scale of the prediction entirely, 0 is the plain mean squared log error,
/// and the paper trains with 0.5. An image with no valid pixel adds 0.
pub fn scale_invariant_log(g: &mut Graph, pred: Tensor, target: Tensor, mask: Tensor, lambda: f32) -> R {
    let (sp, st, sm) = (g.shape(pred), g.shape(target), g.shape(mask));
    if sp.len() < 2 || sp != st || sp != sm {
        return Err(EngineError::Shape(format!("scale-invariant loss needs pred, target and mask of one shape [B, ...], got {sp:?}, {st:?} and {sm:?}")));
    }
    let axes: Vec<usize> = (1..sp.len()).collect();
    let diff = g.sub(pred, target)?;
    let d = g.mul(diff, mask)?;
    let d2 = g.mul(d, d)?;
    let s2 = g.sum_axes(d2, &axes)?;
    let s1 = g.sum_axes(d, &axes)?;
    let n = g.sum_axes(mask, &axes)?;
    // At least 1, so an all-invalid image divides 0 by 1.
    let one = g.scalar(1.0);
    let n = g.maximum(n, one)?;
    let mse = g.div(s2, n)?;
    let mean = g.div(s1, n)?;
    let m2 = g.mul(mean, mean)?;
    let m2 = g.mul_scalar(m2, lambda)?;
    let per_image = g.sub(mse, m2)?;
    g.mean_all(per_image)
}
