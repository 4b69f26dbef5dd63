//! 2-D convolution (batched, stride, zero padding, dilation) as im2col + GEMM.
//! The im2col matrix is built from primitive ops (see `graph::windows`), so
//! its gradient (col2im) comes from autograd like everything else.

use crate::error::EngineError;
use crate::graph::windows::window_count;
use crate::graph::{Graph, Tensor};

use super::shape::{add_channel_bias, image_input};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conv2dConfig {
    pub in_channels: usize,
    pub out_channels: usize,
    pub kernel: (usize, usize),
    pub stride: usize,
    pub padding: usize,
    pub dilation: usize,
    pub bias: bool,
}

impl Conv2dConfig {
    /// Square kernel, stride 1, no padding, no dilation, with bias.
    pub fn new(in_channels: usize, out_channels: usize, kernel: usize) -> Conv2dConfig {
        Conv2dConfig { in_channels, out_channels, kernel: (kernel, kernel), stride: 1, padding: 0, dilation: 1, bias: true }
    }

    /// Output (height, width) for an input of (h, w), or None if the kernel does not fit.
    pub fn output_size(&self, h: usize, w: usize) -> Option<(usize, usize)> {
        let p = 2 * self.padding;
        Some((window_count(h + p, self.kernel.0, self.stride, self.dilation)?, window_count(w + p, self.kernel.1, self.stride, self.dilation)?))
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Conv2d {
    pub weight: Tensor,
    pub bias: Option<Tensor>,
    pub config: Conv2dConfig,
}

impl Conv2d {
    /// Registers `{name}.weight` `[Cout, Cin, kH, kW]` and `{name}.bias` `[Cout]`.
    pub fn new(g: &mut Graph, name: &str, config: Conv2dConfig) -> Result<Conv2d, EngineError> {
        let c = config;
        let weight = g.param(&format!("{name}.weight"), &[c.out_channels, c.in_channels, c.kernel.0, c.kernel.1])?;
        let bias = if c.bias { Some(g.param(&format!("{name}.bias"), &[c.out_channels])?) } else { None };
        Ok(Conv2d { weight, bias, config })
    }

    /// x `[B, Cin, H, W]` -> `[B, Cout, OH, OW]`.
    pub fn forward(&self, g: &mut Graph, x: Tensor) -> Result<Tensor, EngineError> {
        let c = self.config;
        let (b, h, w) = image_input(g, x, c.in_channels, "conv2d")?;
        let (oh, ow) = c.output_size(h, w).ok_or_else(|| EngineError::Shape(format!("conv kernel does not fit {h}x{w}")))?;
        let mut xp = x;
        if c.padding > 0 {
            xp = g.pad(xp, 2, c.padding, c.padding)?;
            xp = g.pad(xp, 3, c.padding, c.padding)?;
        }
        let (kh, kw) = c.kernel;
        let w1 = g.windows_last(xp, kw, c.stride, c.dilation)?; // [B, C, Hp, kw, OW]
        let t = g.permute(w1, &[0, 1, 3, 4, 2])?; // [B, C, kw, OW, Hp]
        let w2 = g.windows_last(t, kh, c.stride, c.dilation)?; // [B, C, kw, OW, kh, OH]
        let cols = g.permute(w2, &[0, 5, 3, 1, 4, 2])?; // [B, OH, OW, C, kh, kw]
        let k = c.in_channels * kh * kw;
        let rows = crate::graph::dim_product(&[b, oh.into(), ow.into()]);
        let cols = g.reshape(cols, &[rows, k.into()])?;
        let wm = g.reshape(self.weight, &[c.out_channels.into(), k.into()])?;
        let wt = g.permute(wm, &[1, 0])?;
        let y = g.matmul(cols, wt)?; // [B*OH*OW, Cout]
        let y = g.split_axis(y, 0, &[b, oh.into(), ow.into()])?;
        let y = g.permute(y, &[0, 3, 1, 2])?;
        add_channel_bias(g, y, self.bias)
    }
}
