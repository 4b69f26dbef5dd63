//! 3-D convolution (batched, per-axis stride and zero padding) as im2col +
//! GEMM, and 3-D max pooling, on `[B, C, D, H, W]` tensors.
//!
//! Our views hold at most six axes, so the 3-D im2col cannot be one
//! windowing of a rank-8 tensor: it windows one spatial axis at a time (W,
//! then H, then D, each with `graph::windows`), merging axes between the
//! steps so no intermediate passes rank 6. The matrix's columns come out in
//! (Cin, kW, kH, kD) order; the weight `[Cout, Cin, kD, kH, kW]` (PyTorch's
//! layout) is permuted to match instead of the much larger matrix.
//! Gradients (col2im) come from autograd like everything else.

use crate::error::EngineError;
use crate::graph::windows::window_count;
use crate::graph::{Dim, Graph, Tensor, dim_product};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conv3dConfig {
    pub in_channels: usize,
    pub out_channels: usize,
    /// (kD, kH, kW).
    pub kernel: [usize; 3],
    /// Per axis (D, H, W).
    pub stride: [usize; 3],
    /// Zeros on both sides of each axis (D, H, W).
    pub padding: [usize; 3],
    pub bias: bool,
}

impl Conv3dConfig {
    /// Cubic kernel, stride 1, no padding, with bias.
    pub fn new(in_channels: usize, out_channels: usize, kernel: usize) -> Conv3dConfig {
        Conv3dConfig { in_channels, out_channels, kernel: [kernel; 3], stride: [1; 3], padding: [0; 3], bias: true }
    }

    pub fn with_stride(self, stride: usize) -> Conv3dConfig {
        Conv3dConfig { stride: [stride; 3], ..self }
    }

    pub fn with_padding(self, padding: usize) -> Conv3dConfig {
        Conv3dConfig { padding: [padding; 3], ..self }
    }

    /// Output (D, H, W) for an input of `dhw`, or None if the kernel does not fit.
    pub fn output_size(&self, dhw: [usize; 3]) -> Option<[usize; 3]> {
        let mut out = [0; 3];
        for a in 0..3 {
            out[a] = window_count(dhw[a] + 2 * self.padding[a], self.kernel[a], self.stride[a], 1)?;
        }
        Some(out)
    }
}

/// (B, [D, H, W]) of a `[B, channels, D, H, W]` tensor.
pub fn volume_input(g: &Graph, x: Tensor, channels: usize, what: &str) -> Result<(Dim, [usize; 3]), EngineError> {
    let s = g.shape(x);
    let dims: Option<Vec<usize>> = s.iter().skip(2).map(|d| d.to_usize()).collect();
    match dims {
        Some(d) if s.len() == 5 && s[1].to_usize() == Some(channels) => Ok((s[0], [d[0], d[1], d[2]])),
        _ => Err(EngineError::Shape(format!("{what} expects [B, {channels}, D, H, W], got {s:?}"))),
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Conv3d {
    pub weight: Tensor,
    pub bias: Option<Tensor>,
    pub config: Conv3dConfig,
}

impl Conv3d {
    /// Registers `{name}.weight` `[Cout, Cin, kD, kH, kW]` and `{name}.bias` `[Cout]`.
    pub fn new(g: &mut Graph, name: &str, config: Conv3dConfig) -> Result<Conv3d, EngineError> {
        let c = config;
        if c.kernel.contains(&0) || c.stride.contains(&0) || c.in_channels == 0 || c.out_channels == 0 {
            return Err(EngineError::Shape(format!("conv3d {name}: sizes must be at least 1 ({c:?})")));
        }
        let [kd, kh, kw] = c.kernel;
        let weight = g.param(&format!("{name}.weight"), &[c.out_channels, c.in_channels, kd, kh, kw])?;
        let bias = if c.bias { Some(g.param(&format!("{name}.bias"), &[c.out_channels])?) } else { None };
        Ok(Conv3d { weight, bias, config })
    }

    /// x `[B, Cin, D, H, W]` -> `[B, Cout, OD, OH, OW]`.
    pub fn forward(&self, g: &mut Graph, x: Tensor) -> Result<Tensor, EngineError> {
        let c = self.config;
        let (b, dhw) = volume_input(g, x, c.in_channels, "conv3d")?;
        let [od, oh, ow] = c.output_size(dhw).ok_or_else(|| EngineError::Shape(format!("conv3d kernel {:?} does not fit {dhw:?} padded by {:?}", c.kernel, c.padding)))?;
        let mut xp = x;
        for (a, &p) in c.padding.iter().enumerate() {
            if p > 0 {
                xp = g.pad(xp, 2 + a, p, p)?;
            }
        }
        let [kd, kh, kw] = c.kernel;
        let [dp, hp] = [dhw[0] + 2 * c.padding[0], dhw[1] + 2 * c.padding[1]];
        let d = |v: usize| -> Dim { v.into() };
        let cin = c.in_channels;
        // W: [B, C, Dp, Hp, kw, OW]
        let w1 = g.windows_last(xp, kw, c.stride[2], 1)?;
        // H: [B, OW, C, kw, Dp, Hp] merged to [B*OW, C*kw, Dp, Hp] -> [B*OW, C*kw, Dp, kh, OH]
        let t = g.permute(w1, &[0, 5, 1, 4, 2, 3])?;
        let bow = dim_product(&[b, d(ow)]);
        let t = g.reshape(t, &[bow, d(cin * kw), d(dp), d(hp)])?;
        let w2 = g.windows_last(t, kh, c.stride[1], 1)?;
        // D: [B*OW, OH, C*kw, kh, Dp] -> [B*OW, OH, C*kw, kh, kd, OD]
        let t = g.permute(w2, &[0, 4, 1, 3, 2])?;
        let w3 = g.windows_last(t, kd, c.stride[0], 1)?;
        // rows (b, ow, oh, od), columns (c, kw, kh, kd)
        let cols = g.permute(w3, &[0, 1, 5, 2, 3, 4])?;
        let k = cin * kw * kh * kd;
        let rows = dim_product(&[b, d(ow * oh * od)]);
        let cols = g.reshape(cols, &[rows, d(k)])?;
        let wp = g.permute(self.weight, &[0, 1, 4, 3, 2])?;
        let wm = g.reshape(wp, &[d(c.out_channels), d(k)])?;
        let wt = g.permute(wm, &[1, 0])?;
        let y = g.matmul(cols, wt)?; // [B*OW*OH*OD, Cout]
        let y = g.split_axis(y, 0, &[b, d(ow), d(oh), d(od)])?;
        let y = g.permute(y, &[0, 4, 3, 2, 1])?;
        match self.bias {
            Some(bias) => {
                let bb = g.reshape(bias, &[d(c.out_channels), d(1), d(1), d(1)])?;
                g.add(y, bb)
            }
            None => Ok(y),
        }
    }
}

/// Max pooling over the last three axes of `[B, C, D, H, W]` with a cubic
/// window, no padding and PyTorch's floor rounding (a partial window at
/// the end is dropped).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MaxPool3d {
    pub kernel: usize,
    pub stride: usize,
}

impl MaxPool3d {
    /// PyTorch's `MaxPool3d(kernel)`: stride equal to the kernel.
    pub fn new(kernel: usize) -> MaxPool3d {
        MaxPool3d { kernel, stride: kernel }
    }

    pub fn with_stride(self, stride: usize) -> MaxPool3d {
        MaxPool3d { stride, ..self }
    }

    pub fn output_len(&self, len: usize) -> Option<usize> {
        window_count(len, self.kernel, self.stride, 1)
    }

    pub fn forward(&self, g: &mut Graph, x: Tensor) -> Result<Tensor, EngineError> {
        let s = g.shape(x);
        let dims: Option<Vec<usize>> = s.iter().skip(2).map(|d| d.to_usize()).collect();
        let Some(dhw) = dims.filter(|v| s.len() == 5 && v.len() == 3) else {
            return Err(EngineError::Shape(format!("maxpool3d expects [B, C, D, H, W], got {s:?}")));
        };
        let out: Option<Vec<usize>> = dhw.iter().map(|&l| self.output_len(l)).collect();
        let Some(out) = out else {
            return Err(EngineError::Shape(format!("maxpool3d kernel {} stride {} does not fit {dhw:?}", self.kernel, self.stride)));
        };
        let k = self.kernel;
        let d = |v: usize| -> Dim { v.into() };
        if k == self.stride {
            // Non-overlapping: crop to whole windows, then a reshape and a max per axis.
            let mut t = x;
            for a in 0..3 {
                if out[a] * k != dhw[a] {
                    t = g.slice(t, 2 + a, 0, out[a] * k)?;
                }
            }
            let [od, oh, ow] = [out[0], out[1], out[2]];
            let t = g.reshape(t, &[s[0], s[1], d(od * k), d(oh * k), d(ow), d(k)])?;
            let t = g.max_reduce(t, 5)?; // [B, C, D, H, OW]
            let t = g.reshape(t, &[s[0], s[1], d(od * k), d(oh), d(k), d(ow)])?;
            let t = g.max_reduce(t, 4)?; // [B, C, D, OH, OW]
            let t = g.reshape(t, &[s[0], s[1], d(od), d(k), d(oh * ow)])?;
            let t = g.max_reduce(t, 3)?; // [B, C, OD, OH*OW]
            return g.reshape(t, &[s[0], s[1], d(od), d(oh), d(ow)]);
        }
        // Overlapping windows: one axis at a time, the pooled axis last.
        let w = g.windows_last(x, k, self.stride, 1)?; // [B, C, D, H, k, OW]
        let t = g.max_reduce(w, 4)?;
        let t = g.permute(t, &[0, 1, 2, 4, 3])?; // [B, C, D, OW, H]
        let w = g.windows_last(t, k, self.stride, 1)?;
        let t = g.max_reduce(w, 4)?; // [B, C, D, OW, OH]
        let t = g.permute(t, &[0, 1, 3, 4, 2])?; // [B, C, OW, OH, D]
        let w = g.windows_last(t, k, self.stride, 1)?;
        let t = g.max_reduce(w, 4)?; // [B, C, OW, OH, OD]
        g.permute(t, &[0, 1, 4, 3, 2])
    }
}
