//! Max and average pooling over the last two axes of `[B, C, H, W]`.
//! Non-overlapping pools with dividing sizes are a reshape plus two
//! reductions; anything else goes through sliding windows.

use crate::error::EngineError;
use crate::graph::{Dim, Graph, Tensor};

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
}

impl Pool2d {
    pub fn max(kernel: usize, stride: usize) -> Pool2d {
        Pool2d { kind: PoolKind::Max, kernel, stride }
    }
    pub fn avg(kernel: usize, stride: usize) -> Pool2d {
        Pool2d { kind: PoolKind::Avg, kernel, stride }
    }

    fn reduce(&self, g: &mut Graph, t: Tensor, axis: usize) -> Result<Tensor, EngineError> {
        match self.kind {
            PoolKind::Max => g.max_reduce(t, axis),
            PoolKind::Avg => g.mean_axes(t, &[axis]),
        }
    }

    pub fn forward(&self, g: &mut Graph, x: Tensor) -> Result<Tensor, EngineError> {
        let s = g.shape(x);
        let dims: Option<Vec<usize>> = s.iter().skip(1).map(|d| d.to_usize()).collect();
        let (c, h, w) = match dims.as_deref() {
            Some(&[c, h, w]) if s.len() == 4 => (c, h, w),
            _ => return Err(EngineError::Shape(format!("pool2d expects [B, C, H, W], got {s:?}"))),
        };
        let k = self.kernel;
        if k == self.stride && k > 0 && h % k == 0 && w % k == 0 {
            let d = |v: usize| -> Dim { v.into() };
            let r = g.reshape(x, &[s[0], d(c), d(h / k), d(k), d(w / k), d(k)])?;
            let r = self.reduce(g, r, 5)?;
            return self.reduce(g, r, 3);
        }
        let w1 = g.windows_last(x, k, self.stride, 1)?; // [B, C, H, k, OW]
        let r1 = self.reduce(g, w1, 3)?; // [B, C, H, OW]
        let t = g.permute(r1, &[0, 1, 3, 2])?; // [B, C, OW, H]
        let w2 = g.windows_last(t, k, self.stride, 1)?; // [B, C, OW, k, OH]
        let r2 = self.reduce(g, w2, 3)?; // [B, C, OW, OH]
        g.permute(r2, &[0, 1, 3, 2])
    }
}

/// `[B, ...]` -> `[B, prod(...)]`.
pub fn flatten(g: &mut Graph, x: Tensor) -> Result<Tensor, EngineError> {
    let s = g.shape(x);
    let rest = crate::graph::dim_product(&s[1.min(s.len())..]);
    let first = *s.first().ok_or_else(|| EngineError::Shape("flatten of a scalar".into()))?;
    g.reshape(x, &[first, rest])
}
