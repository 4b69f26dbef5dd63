//! Separable linear resampling of `[B, C, H, W]`: a fixed `[Out, In]` matrix
//! applied along H and one along W, both as GEMMs. Bilinear upsampling and
//! adaptive average pooling are such maps; their gradients are the
//! transposed matrices, which autograd gets from the matmuls.

use crate::error::EngineError;
use crate::graph::{Graph, Tensor};

use super::shape::spatial;

/// A row-major `[rows, cols]` matrix (`rows` output positions, `cols` input ones).
pub struct AxisMap {
    pub rows: usize,
    pub cols: usize,
    pub data: Vec<f32>,
}

impl AxisMap {
    /// Build from each output position's (input index, weight) taps.
    pub fn from_taps(cols: usize, taps: &[Vec<(usize, f32)>]) -> AxisMap {
        let mut data = vec![0.0; taps.len() * cols];
        for (r, row) in taps.iter().enumerate() {
            for &(c, w) in row {
                data[r * cols + c] += w;
            }
        }
        AxisMap { rows: taps.len(), cols, data }
    }
}

/// `mh x mw^T` of one `[h, w]` plane, on the CPU (what the graph version
/// computes, for views that need no gradient).
pub fn resample_plane(mh: &AxisMap, mw: &AxisMap, plane: &[f32]) -> Result<Vec<f32>, EngineError> {
    let (h, w) = (mh.cols, mw.cols);
    if plane.len() != h * w {
        return Err(EngineError::Shape(format!("resample: {} values for a {h}x{w} plane", plane.len())));
    }
    // Rows first: t = x mw^T is [h, ow].
    let mut t = vec![0f32; h * mw.rows];
    for i in 0..h {
        for c in 0..mw.rows {
            t[i * mw.rows + c] = (0..w).map(|j| plane[i * w + j] * mw.data[c * w + j]).sum();
        }
    }
    let mut out = vec![0f32; mh.rows * mw.rows];
    for r in 0..mh.rows {
        for i in 0..h {
            let a = mh.data[r * h + i];
            if a != 0.0 {
                for c in 0..mw.rows {
                    out[r * mw.rows + c] += a * t[i * mw.rows + c];
                }
            }
        }
    }
    Ok(out)
}

fn fixed_map(g: &mut Graph, what: &str, m: AxisMap) -> Result<Tensor, EngineError> {
    let name = format!("__{what}{}x{}_{}", m.rows, m.cols, g.leaves().len());
    let t = g.fixed(&name, &[m.rows, m.cols], m.data)?;
    g.permute(t, &[1, 0])
}

/// `y[b, c] = mh x[b, c] mw^T`; `what` names the fixed matrices.
pub fn resample_hw(g: &mut Graph, x: Tensor, mh: AxisMap, mw: AxisMap, what: &str) -> Result<Tensor, EngineError> {
    let (h, w) = spatial(g, x, what)?;
    if mh.cols != h || mw.cols != w {
        return Err(EngineError::Shape(format!("{what}: maps for {}x{} applied to {h}x{w}", mh.cols, mw.cols)));
    }
    let mwt = fixed_map(g, what, mw)?;
    let y = g.matmul(x, mwt)?; // [B, C, H, OW]
    let yt = g.permute(y, &[0, 1, 3, 2])?;
    let mht = fixed_map(g, what, mh)?;
    let z = g.matmul(yt, mht)?; // [B, C, OW, OH]
    g.permute(z, &[0, 1, 3, 2])
}
