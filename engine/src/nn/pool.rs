//! Max and average pooling over the last two axes of `[B, C, H, W]`, with
//! PyTorch's padding and `ceil_mode`. Non-overlapping pools with dividing
//! sizes are a reshape plus two reductions; anything else goes through
//! sliding windows over the zero-padded input. Max pooling masks the padding
//! with a large negative number (PyTorch pads with -inf); average pooling
//! divides each window's sum by its PyTorch divisor.

use crate::error::EngineError;
use crate::graph::{Dim, Graph, Tensor};

use super::shape::spatial;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoolKind {
    Max,
    Avg,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pool2d {
    pub kind: PoolKind,
    pub kernel: usize,
    pub stride: usize,
    /// Implicit padding on every side (at most `kernel / 2`).
    pub padding: usize,
    /// Round the output size up, keeping a last partial window that starts
    /// inside the input or the left padding.
    pub ceil_mode: bool,
    /// Average pooling: count padded zeros in the divisor (PyTorch's default).
    pub count_include_pad: bool,
}

/// What pads a masked position for max pooling (PyTorch uses -inf, which
/// would make 0 * inf in gradients).
const MASKED: f32 = -1e30;

/// One axis' pooling plan: output length and zeros added past the end.
struct AxisPlan {
    out: usize,
    after: usize,
}

impl Pool2d {
    pub fn max(kernel: usize, stride: usize) -> Pool2d {
        Pool2d { kind: PoolKind::Max, kernel, stride, padding: 0, ceil_mode: false, count_include_pad: true }
    }
    pub fn avg(kernel: usize, stride: usize) -> Pool2d {
        Pool2d { kind: PoolKind::Avg, ..Pool2d::max(kernel, stride) }
    }
    pub fn with_padding(self, padding: usize) -> Pool2d {
        Pool2d { padding, ..self }
    }
    pub fn with_ceil_mode(self, ceil_mode: bool) -> Pool2d {
        Pool2d { ceil_mode, ..self }
    }
    pub fn with_count_include_pad(self, count_include_pad: bool) -> Pool2d {
        Pool2d { count_include_pad, ..self }
    }

    /// Output length along an axis of `len`, or None if the pool does not fit.
    pub fn output_len(&self, len: usize) -> Option<usize> {
        self.plan(len).map(|p| p.out)
    }

    fn plan(&self, len: usize) -> Option<AxisPlan> {
        let (k, s, p) = (self.kernel, self.stride, self.padding);
        if k == 0 || s == 0 || 2 * p > k || len + 2 * p < k {
            return None;
        }
        let span = len + 2 * p - k;
        let mut out = if self.ceil_mode { span.div_ceil(s) + 1 } else { span / s + 1 };
        // A window must start inside the input or the left padding.
        if self.ceil_mode && (out - 1) * s >= len + p {
            out -= 1;
        }
        let after = ((out - 1) * s + k).saturating_sub(len + p).max(p);
        Some(AxisPlan { out, after })
    }

    /// PyTorch's average divisor of each output position along one axis.
    fn divisors(&self, len: usize, out: usize) -> Vec<f32> {
        let (k, s, p) = (self.kernel as isize, self.stride as isize, self.padding as isize);
        let (lo, hi) = if self.count_include_pad { (-p, len as isize + p) } else { (0, len as isize) };
        (0..out as isize).map(|o| ((o * s - p + k).min(hi) - (o * s - p).max(lo)) as f32).collect()
    }

    fn reduce(&self, g: &mut Graph, t: Tensor, axis: usize, mean: bool) -> Result<Tensor, EngineError> {
        match (self.kind, mean) {
            (PoolKind::Max, _) => g.max_reduce(t, axis),
            (PoolKind::Avg, true) => g.mean_axes(t, &[axis]),
            (PoolKind::Avg, false) => g.sum_reduce(t, axis),
        }
    }

    pub fn forward(&self, g: &mut Graph, x: Tensor) -> Result<Tensor, EngineError> {
        let s = g.shape(x);
        let (h, w) = spatial(g, x, "pool2d")?;
        let (ph, pw) = match (self.plan(h), self.plan(w)) {
            (Some(a), Some(b)) => (a, b),
            _ => return Err(EngineError::Shape(format!("pool {self:?} does not fit {h}x{w}"))),
        };
        let (k, p) = (self.kernel, self.padding);
        let d = |v: usize| -> Dim { v.into() };
        let padded = p > 0 || ph.after > 0 || pw.after > 0;
        if !padded && k == self.stride && h % k == 0 && w % k == 0 {
            let r = g.reshape(x, &[s[0], s[1], d(h / k), d(k), d(w / k), d(k)])?;
            let r = self.reduce(g, r, 5, true)?;
            return self.reduce(g, r, 3, true);
        }
        let (hp, wp) = (h + p + ph.after, w + p + pw.after);
        let mut xp = x;
        if padded {
            xp = g.pad(xp, 2, p, ph.after)?;
            xp = g.pad(xp, 3, p, pw.after)?;
            if self.kind == PoolKind::Max {
                let mask: Vec<f32> = (0..hp * wp).map(|i| if (p..p + h).contains(&(i / wp)) && (p..p + w).contains(&(i % wp)) { 0.0 } else { MASKED }).collect();
                let name = format!("__pool_mask{hp}x{wp}_{}", g.leaves().len());
                let m = g.fixed(&name, &[hp, wp], mask)?;
                xp = g.add(xp, m)?;
            }
        }
        let w1 = g.windows_last(xp, k, self.stride, 1)?; // [B, C, Hp, k, OW]
        let w1 = g.slice(w1, 4, 0, pw.out)?;
        let r1 = self.reduce(g, w1, 3, !padded)?; // [B, C, Hp, OW]
        let t = g.permute(r1, &[0, 1, 3, 2])?; // [B, C, OW, Hp]
        let w2 = g.windows_last(t, k, self.stride, 1)?; // [B, C, OW, k, OH]
        let w2 = g.slice(w2, 4, 0, ph.out)?;
        let r2 = self.reduce(g, w2, 3, !padded)?; // [B, C, OW, OH]
        let y = g.permute(r2, &[0, 1, 3, 2])?;
        if self.kind == PoolKind::Max || !padded {
            return Ok(y);
        }
        let (dh, dw) = (self.divisors(h, ph.out), self.divisors(w, pw.out));
        let scale: Vec<f32> = dh.iter().flat_map(|a| dw.iter().map(move |b| 1.0 / (a * b))).collect();
        let name = format!("__pool_div{}x{}_{}", ph.out, pw.out, g.leaves().len());
        let sc = g.fixed(&name, &[ph.out, pw.out], scale)?;
        g.mul(y, sc)
    }
}

/// `[B, ...]` -> `[B, prod(...)]`.
pub fn flatten(g: &mut Graph, x: Tensor) -> Result<Tensor, EngineError> {
    let s = g.shape(x);
    let rest = crate::graph::dim_product(&s[1.min(s.len())..]);
    let first = *s.first().ok_or_else(|| EngineError::Shape("flatten of a scalar".into()))?;
    g.reshape(x, &[first, rest])
}
