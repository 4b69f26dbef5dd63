//! Transposed 2-D convolution (PyTorch `ConvTranspose2d`: stride, zero
//! padding, output padding; weight `[Cin, Cout, kH, kW]`).
//!
//! Computed as GEMM + col2im without zero-insertion: one GEMM
//! `[B*H*W, Cin] x [Cin, kH*kW*Cout]` gives every kernel tap `(kh, kw)` on the
//! input grid at once (one large product rather than one small one per tap;
//! the CPU program runs the col2im below as one gather). Writing
//! `kh = s a + r`, tap `(kh, kw)` lands on output phase `(r_h, r_w)` (the
//! output positions `o + padding = s q + r`) shifted by `a` coarse cells, so
//! each phase is a sum of shifted tap results, and the phases interleave
//! into the output. Autograd turns the shifts into slices (im2col of the
//! output gradient) and the GEMMs into their transposes.

use crate::error::EngineError;
use crate::graph::{Dim, Graph, Tensor};

use super::shape::{add_channel_bias, image_input};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConvTranspose2dConfig {
    pub in_channels: usize,
    pub out_channels: usize,
    pub kernel: (usize, usize),
    pub stride: usize,
    pub padding: usize,
    /// Extra rows/columns on the bottom/right of the output (< stride).
    pub output_padding: usize,
    pub bias: bool,
}

impl ConvTranspose2dConfig {
    /// Square kernel, stride 1, no padding, with bias.
    pub fn new(in_channels: usize, out_channels: usize, kernel: usize) -> ConvTranspose2dConfig {
        ConvTranspose2dConfig { in_channels, out_channels, kernel: (kernel, kernel), stride: 1, padding: 0, output_padding: 0, bias: true }
    }

    /// `(len - 1) stride - 2 padding + kernel + output_padding` per axis, or
    /// None when that is not positive.
    pub fn output_size(&self, h: usize, w: usize) -> Option<(usize, usize)> {
        let axis = |len: usize, k: usize| {
            let full = (len.checked_sub(1)?) * self.stride + k + self.output_padding;
            full.checked_sub(2 * self.padding).filter(|&o| o > 0)
        };
        Some((axis(h, self.kernel.0)?, axis(w, self.kernel.1)?))
    }
}

#[derive(Debug, Clone, Copy)]
pub struct ConvTranspose2d {
    pub weight: Tensor,
    pub bias: Option<Tensor>,
    pub config: ConvTranspose2dConfig,
}

/// Per-axis geometry: `taps` coarse shifts per phase, `cells` coarse output cells.
struct Axis {
    kernel: usize,
    taps: usize,
    cells: usize,
}

impl Axis {
    fn new(len: usize, kernel: usize, stride: usize) -> Axis {
        let taps = kernel.div_ceil(stride);
        Axis { kernel, taps, cells: len + taps - 1 }
    }
}

impl ConvTranspose2d {
    /// Registers `{name}.weight` `[Cin, Cout, kH, kW]` and `{name}.bias` `[Cout]`.
    pub fn new(g: &mut Graph, name: &str, config: ConvTranspose2dConfig) -> Result<ConvTranspose2d, EngineError> {
        let c = config;
        if c.stride == 0 || c.kernel.0 == 0 || c.kernel.1 == 0 || c.output_padding >= c.stride {
            return Err(EngineError::Shape(format!("conv transpose: bad config {c:?} (output padding must be < stride)")));
        }
        let weight = g.param(&format!("{name}.weight"), &[c.in_channels, c.out_channels, c.kernel.0, c.kernel.1])?;
        let bias = if c.bias { Some(g.param(&format!("{name}.bias"), &[c.out_channels])?) } else { None };
        Ok(ConvTranspose2d { weight, bias, config })
    }

    /// x `[B, Cin, H, W]` -> `[B, Cout, OH, OW]`.
    pub fn forward(&self, g: &mut Graph, x: Tensor) -> Result<Tensor, EngineError> {
        let c = self.config;
        let (b, h, w) = image_input(g, x, c.in_channels, "conv transpose")?;
        let (oh, ow) = c.output_size(h, w).ok_or_else(|| EngineError::Shape(format!("conv transpose of {h}x{w} has no output")))?;
        let d = |v: usize| -> Dim { v.into() };
        let (st, co, ci) = (c.stride, c.out_channels, c.in_channels);
        let (ah, aw) = (Axis::new(h, c.kernel.0, st), Axis::new(w, c.kernel.1, st));
        // x as one contiguous [B*H*W, Cin] matrix times every tap's weights.
        let xm = g.permute(x, &[0, 2, 3, 1])?;
        let xm = g.reshape(xm, &[crate::graph::dim_product(&[b, d(h), d(w)]), d(ci)])?;
        let (kh, kw) = c.kernel;
        let wt = g.permute(self.weight, &[0, 2, 3, 1])?; // [Cin, kH, kW, Cout]
        let wt = g.reshape(wt, &[d(ci), d(kh * kw * co)])?;
        let all = g.matmul(xm, wt)?; // [B*H*W, kH*kW*Cout]
        let all = g.split_axis(all, 0, &[b, d(h), d(w)])?;
        let all = g.split_axis(all, 3, &[d(kh * kw), d(co)])?; // [B, H, W, kH*kW, Cout]
        // Phases are placed at (rh, rw) of each stride x stride cell: first
        // interleaved along W for each rh (half-size adds), then along H.
        let mut rows = vec![];
        for rh in 0..st {
            let mut phases = vec![];
            for rw in 0..st {
                let mut taps = vec![];
                for a in (0..ah.taps).filter(|a| a * st + rh < ah.kernel) {
                    for bw in (0..aw.taps).filter(|bw| bw * st + rw < aw.kernel) {
                        let tap = (a * st + rh) * kw + bw * st + rw;
                        let t = g.slice(all, 3, tap, tap + 1)?; // [B, H, W, 1, Cout]
                        let t = g.pad(t, 1, a, ah.taps - 1 - a)?;
                        taps.push(g.pad(t, 2, bw, aw.taps - 1 - bw)?);
                    }
                }
                if let Some(p) = sum(g, &taps)? {
                    // p: [B, cells, cells, 1, Cout]
                    phases.push(g.pad(p, 3, rw, st - 1 - rw)?);
                }
            }
            if let Some(r) = sum(g, &phases)? {
                let r = g.reshape(r, &[b, d(ah.cells), d(1), d(aw.cells * st), d(co)])?;
                rows.push(g.pad(r, 2, rh, st - 1 - rh)?);
            }
        }
        let y = sum(g, &rows)?.ok_or_else(|| EngineError::Shape("conv transpose without taps".into()))?;
        let full = (ah.cells * st, aw.cells * st);
        let y = g.reshape(y, &[b, d(full.0), d(full.1), d(co)])?;
        let y = crop(g, y, 1, c.padding, oh, full.0)?;
        let y = crop(g, y, 2, c.padding, ow, full.1)?;
        let y = g.permute(y, &[0, 3, 1, 2])?;
        add_channel_bias(g, y, self.bias)
    }
}

fn crop(g: &mut Graph, t: Tensor, axis: usize, start: usize, len: usize, full: usize) -> Result<Tensor, EngineError> {
    let end = (start + len).min(full);
    let t = g.slice(t, axis, start, end)?;
    if end < start + len { g.pad(t, axis, 0, start + len - end) } else { Ok(t) }
}

/// Sum of same-shape tensors (None for none).
fn sum(g: &mut Graph, ts: &[Tensor]) -> Result<Option<Tensor>, EngineError> {
    let mut acc: Option<Tensor> = None;
    for &t in ts {
        acc = Some(match acc {
            Some(a) => g.add(a, t)?,
            None => t,
        });
    }
    Ok(acc)
}
