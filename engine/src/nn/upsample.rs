//! Upsampling of `[B, C, H, W]` by an integer factor. Nearest is a broadcast
//! view reshaped, so its gradient is a sum over each block. Bed of nails is
//! a zero-padded view reshaped (each value at the top-left of its block).
//! Bilinear and bicubic (PyTorch `align_corners=False`) are separable linear
//! maps; every method here also has its [`AxisMap`], which
//! [`super::resample::resample_plane`] applies on the CPU for display.

use crate::error::EngineError;
use crate::graph::{Dim, Graph, Tensor};

use super::resample::{AxisMap, resample_hw};
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
/// Nearest neighbour along one axis: output `o` copies input `o / scale`.
pub fn nearest_map(len: usize, scale: usize) -> AxisMap {
    let taps: Vec<Vec<(usize, f32)>> = (0..len * scale).map(|o| vec![(o / scale, 1.0)]).collect();
    AxisMap::from_taps(len, &taps)
}

/// Bed of nails along one axis: input `i` lands at `i * scale`, zeros between.
/// Its outer product with itself puts each value at its block's top-left.
pub fn bed_of_nails_map(len: usize, scale: usize) -> AxisMap {
    let taps: Vec<Vec<(usize, f32)>> = (0..len * scale).map(|o| if o % scale == 0 { vec![(o / scale, 1.0)] } else { vec![] }).collect();
    AxisMap::from_taps(len, &taps)
}

/// `[B, C, H, W]` -> `[B, C, sH, sW]` with `x[i, j]` at `(s i, s j)` and zeros
/// elsewhere: a view of `x` padded by `s - 1` after each row and column.
pub fn upsample_bed_of_nails(g: &mut Graph, x: Tensor, scale: usize) -> Result<Tensor, EngineError> {
    let s = g.shape(x);
    let (h, w) = spatial(g, x, "upsample")?;
    if scale == 0 {
        return Err(EngineError::Shape("bed of nails upsample by 0".into()));
    }
    let one: Dim = 1.into();
    let r = g.reshape(x, &[s[0], s[1], h.into(), one, w.into(), one])?;
    let r = g.pad(r, 3, 0, scale - 1)?;
    let r = g.pad(r, 5, 0, scale - 1)?;
    g.reshape(r, &[s[0], s[1], (h * scale).into(), (w * scale).into()])
}

/// Keys' cubic convolution weight with PyTorch's `a = -0.75`.
pub fn cubic_weight(x: f64) -> f64 {
    const A: f64 = -0.75;
    let x = x.abs();
    if x <= 1.0 {
        ((A + 2.0) * x - (A + 3.0)) * x * x + 1.0
    } else if x < 2.0 {
        ((A * x - 5.0 * A) * x + 8.0 * A) * x - 4.0 * A
    } else {
        0.0
    }
}

/// PyTorch's bicubic taps (`align_corners=False`): source
/// `(o + 0.5) / scale - 0.5` (not clamped, unlike bilinear), the four inputs
/// `floor - 1 ..= floor + 2` weighted by [`cubic_weight`] of their distance, indices past
/// the border clamped to it (so the border pixel takes their weight).
pub fn bicubic_map(len: usize, scale: usize) -> AxisMap {
    let taps: Vec<Vec<(usize, f32)>> = (0..len * scale)
        .map(|o| {
            let src = (o as f64 + 0.5) / scale as f64 - 0.5;
            let f = src.floor();
            let t = src - f;
            (-1..=2)
                .map(|k: i64| {
                    let i = (f as i64 + k).clamp(0, len as i64 - 1) as usize;
                    (i, cubic_weight(t - k as f64) as f32)
                })
                .collect()
        })
        .collect();
    AxisMap::from_taps(len, &taps)
}

pub fn upsample_bicubic(g: &mut Graph, x: Tensor, scale: usize) -> Result<Tensor, EngineError> {
    let (h, w) = spatial(g, x, "upsample")?;
    if scale == 0 || h == 0 || w == 0 {
        return Err(EngineError::Shape(format!("bicubic upsample of {h}x{w} by {scale}")));
    }
    resample_hw(g, x, bicubic_map(h, scale), bicubic_map(w, scale), "bicubic")
}

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
