//! Shape checks and per-channel helpers shared by the `[B, C, H, W]` layers.

use crate::error::EngineError;
use crate::graph::{Dim, Graph, Tensor};

/// (H, W) of a `[B, C, H, W]` tensor.
pub fn spatial(g: &Graph, x: Tensor, what: &str) -> Result<(usize, usize), EngineError> {
    let s = g.shape(x);
    match (s.len(), s.get(2).and_then(|d| d.to_usize()), s.get(3).and_then(|d| d.to_usize())) {
        (4, Some(h), Some(w)) => Ok((h, w)),
        _ => Err(EngineError::Shape(format!("{what} expects [B, C, H, W], got {s:?}"))),
    }
}

/// (B, H, W) of a `[B, channels, H, W]` tensor.
pub fn image_input(g: &Graph, x: Tensor, channels: usize, what: &str) -> Result<(Dim, usize, usize), EngineError> {
    let s = g.shape(x);
    match spatial(g, x, what) {
        Ok((h, w)) if s[1].to_usize() == Some(channels) => Ok((s[0], h, w)),
        _ => Err(EngineError::Shape(format!("{what} expects [B, {channels}, H, W], got {s:?}"))),
    }
}

/// `y [B, C, H, W] + bias [C]` (no-op without a bias).
pub fn add_channel_bias(g: &mut Graph, y: Tensor, bias: Option<Tensor>) -> Result<Tensor, EngineError> {
    match bias {
        Some(b) => {
            let c = g.shape(b)[0];
            let bb = g.reshape(b, &[c, 1usize.into(), 1usize.into()])?;
            g.add(y, bb)
        }
        None => Ok(y),
    }
}
