//! Adaptive average pooling of `[B, C, H, W]` to a fixed output size with
//! PyTorch's windows: output `i` of `Out` averages inputs
//! `floor(i In / Out) .. ceil((i + 1) In / Out)`. A window's mean is the
//! product of per-axis means, so this is a separable linear map.

use crate::error::EngineError;
use crate::graph::{Graph, Tensor};

use super::resample::{AxisMap, resample_hw};
use super::shape::spatial;

/// The averaging taps along one axis.
pub fn adaptive_avg_map(len: usize, out: usize) -> AxisMap {
    let taps: Vec<Vec<(usize, f32)>> = (0..out)
        .map(|i| {
            let start = i * len / out;
            let end = ((i + 1) * len).div_ceil(out);
            let n = (end - start) as f32;
            (start..end).map(|j| (j, 1.0 / n)).collect()
        })
        .collect();
    AxisMap::from_taps(len, &taps)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdaptiveAvgPool2d {
    pub out: (usize, usize),
}

impl AdaptiveAvgPool2d {
    pub fn new(out_h: usize, out_w: usize) -> AdaptiveAvgPool2d {
        AdaptiveAvgPool2d { out: (out_h, out_w) }
    }

    pub fn forward(&self, g: &mut Graph, x: Tensor) -> Result<Tensor, EngineError> {
        let (h, w) = spatial(g, x, "adaptive avg pool")?;
        let (oh, ow) = self.out;
        if oh == 0 || ow == 0 || h == 0 || w == 0 {
            return Err(EngineError::Shape(format!("adaptive avg pool of {h}x{w} to {oh}x{ow}")));
        }
        // Global pooling is a plain mean (no matrices, no GEMM).
        if (oh, ow) == (1, 1) {
            let s = g.shape(x);
            let m = g.mean_axes(x, &[2, 3])?;
            return g.reshape(m, &[s[0], s[1], 1usize.into(), 1usize.into()]);
        }
        resample_hw(g, x, adaptive_avg_map(h, oh), adaptive_avg_map(w, ow), "adaptive_avg")
    }
}
