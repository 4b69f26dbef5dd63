//! Nearest-neighbour upsampling of `[B, C, H, W]` by an integer factor: a
//! broadcast view reshaped, so its gradient is a sum over each block.

use crate::error::EngineError;
use crate::graph::{Dim, Graph, Tensor};

pub fn upsample_nearest(g: &mut Graph, x: Tensor, scale: usize) -> Result<Tensor, EngineError> {
    let s = g.shape(x);
    let (h, w) = match (s.len(), s.get(2).and_then(|d| d.to_usize()), s.get(3).and_then(|d| d.to_usize())) {
        (4, Some(h), Some(w)) => (h, w),
        _ => return Err(EngineError::Shape(format!("upsample expects [B, C, H, W], got {s:?}"))),
    };
    let e = g.expand(x, 3, scale.into())?; // [B, C, H, s, W]
    let e = g.expand(e, 5, scale.into())?; // [B, C, H, s, W, s]
    let out: Vec<Dim> = vec![s[0], s[1], (h * scale).into(), (w * scale).into()];
    g.reshape(e, &out)
}
