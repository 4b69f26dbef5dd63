//! Upsampling of `[B, C, H, W]` by an integer factor. Nearest is a broadcast
//! view reshaped, so its gradient is a sum over each block. Bilinear
//! (PyTorch `align_corners=False`) is a separable linear map.

use crate::error::EngineError;
use crate::graph::{Dim, Graph, Tensor};

use super::resample::{resample_hw, AxisMap};
use super::shape::spatial;

pub fn upsample_nearest(g: &mut Graph, x: Tensor, scale: usize) -> Result<Tensor, EngineError> {
    let s = g.shape(x);
    let (h, w) = spatial(g, x, "upsample")?;
    let e = g.expand(x, 3, scale.into())?; // [B, C, H, s, W]
    let e = g.expand(e, 5, scale.into())?; // [B, C, H, s, W, s]
    let out: Vec<Dim> = vec![s[0], s[1], (h * scale).into(), (w * scale).into()];
    g.reshape(e, &out)
}

/// PyTorch's bilinear taps along one axis of length `len` upsampled by
/// `scale`: source `(o + 0.5) / scale - 0.5`, clamped below at 0, blended
/// between its floor and the next index (clamped to the last).
pub fn bilinear_map(len: usize, scale: usize) -> AxisMap {
    let taps: Vec<Vec<(usize, f32)>> = (0..len * scale)
        .map(|o| {
            let src = ((o as f64 + 0.5) / scale as f64 - 0.5).max(0.0);
            let i0 = (src.floor() as usize).min(len - 1);
            let i1 = (i0 + 1).min(len - 1);
            let l = (src - i0 as f64) as f32;
            vec![(i0, 1.0 - l), (i1, l)]
        })
        .collect();
    AxisMap::from_taps(len, &taps)
}

pub fn upsample_bilinear(g: &mut Graph, x: Tensor, scale: usize) -> Result<Tensor, EngineError> {
    let (h, w) = spatial(g, x, "upsample")?;
    if scale == 0 || h == 0 || w == 0 {
        return Err(EngineError::Shape(format!("bilinear upsample of {h}x{w} by {scale}")));
    }
    resample_hw(g, x, bilinear_map(h, scale), bilinear_map(w, scale), "bilinear")
}
