//! 2-D convolution (batched, stride, zero padding, dilation) as im2col + GEMM.
//! The im2col matrix is built from primitive ops (see `graph::windows`), so
//! its gradient (col2im) comes from autograd like everything else.

use crate::error::EngineError;
use crate::graph::windows::window_count;
use crate::graph::{Dim, Graph, Tensor};

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
        Some((
            window_count(h + p, self.kernel.0, self.stride, self.dilation)?,
            window_count(w + p, self.kernel.1, self.stride, self.dilation)?,
        ))
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
        conv2d(g, x, self.weight, self.bias, self.config)
    }
}

/// Convolution with a given weight tensor `[Cout, Cin, kH, kW]` (a parameter,
/// or a tensor computed from one as in the transposed convolution).
pub fn conv2d(g: &mut Graph, x: Tensor, weight: Tensor, bias: Option<Tensor>, c: Conv2dConfig) -> Result<Tensor, EngineError> {
    let s = g.shape(x);
    let (h, w) = match (s.len(), s.get(1).and_then(|d| d.to_usize()), s.get(2).and_then(|d| d.to_usize()), s.get(3).and_then(|d| d.to_usize())) {
        (4, Some(ch), Some(h), Some(w)) if ch == c.in_channels => (h, w),
        _ => return Err(EngineError::Shape(format!("conv2d expects [B, {}, H, W], got {s:?}", c.in_channels))),
    };
    let (oh, ow) = c.output_size(h, w).ok_or_else(|| EngineError::Shape(format!("conv kernel does not fit {h}x{w}")))?;
    let b = s[0];
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
    let wm = g.reshape(weight, &[c.out_channels.into(), k.into()])?;
    let wt = g.permute(wm, &[1, 0])?;
    let y = g.matmul(cols, wt)?; // [B*OH*OW, Cout]
    let y = g.split_axis(y, 0, &[b, oh.into(), ow.into()])?;
    let y = g.permute(y, &[0, 3, 1, 2])?;
    match bias {
        Some(bias) => {
            let bb = g.reshape(bias, &[c.out_channels.into(), 1usize.into(), 1usize.into()])?;
            g.add(y, bb)
        }
        None => Ok(y),
    }
}

/// Transposed 2-D convolution (PyTorch `ConvTranspose2d`, weight
/// `[Cin, Cout, kH, kW]`, no output padding): the input gets `stride - 1`
/// zeros between elements and `dilation (k - 1) - padding` zeros around it,
/// then a stride-1 convolution with the kernel flipped and its channel axes
/// swapped. Flipping is a product with a fixed anti-diagonal matrix, so the
/// whole layer stays primitive ops.
#[derive(Debug, Clone, Copy)]
pub struct ConvTranspose2d {
    pub weight: Tensor,
    pub bias: Option<Tensor>,
    pub config: Conv2dConfig,
}

impl ConvTranspose2d {
    pub fn new(g: &mut Graph, name: &str, config: Conv2dConfig) -> Result<ConvTranspose2d, EngineError> {
        let c = config;
        let kmin = c.kernel.0.min(c.kernel.1);
        if kmin == 0 || c.dilation == 0 || c.stride == 0 || c.padding > c.dilation * (kmin - 1) {
            return Err(EngineError::Shape("transposed conv needs kernel, stride, dilation >= 1 and padding <= dilation * (kernel - 1)".into()));
        }
        let weight = g.param(&format!("{name}.weight"), &[c.in_channels, c.out_channels, c.kernel.0, c.kernel.1])?;
        let bias = if c.bias { Some(g.param(&format!("{name}.bias"), &[c.out_channels])?) } else { None };
        Ok(ConvTranspose2d { weight, bias, config })
    }

    /// Output (height, width) for an input of (h, w).
    pub fn output_size(&self, h: usize, w: usize) -> (usize, usize) {
        let c = self.config;
        let f = |n: usize, k: usize| (n - 1) * c.stride + c.dilation * (k - 1) + 1 - 2 * c.padding;
        (f(h, c.kernel.0), f(w, c.kernel.1))
    }

    /// x `[B, Cin, H, W]` -> `[B, Cout, OH, OW]`.
    pub fn forward(&self, g: &mut Graph, x: Tensor) -> Result<Tensor, EngineError> {
        let c = self.config;
        let s = g.shape(x);
        let dims: Option<Vec<usize>> = s.iter().skip(1).map(|d| d.to_usize()).collect();
        let (h, w) = match dims.as_deref() {
            Some(&[ch, h, w]) if s.len() == 4 && ch == c.in_channels => (h, w),
            _ => return Err(EngineError::Shape(format!("conv_transpose2d expects [B, {}, H, W], got {s:?}", c.in_channels))),
        };
        let (kh, kw) = c.kernel;
        let st = c.stride;
        // Zero insertion: [B, C, H, 1, W, 1] padded to [B, C, H, s, W, s].
        let mut xd = x;
        if st > 1 {
            let one = Dim::from(1usize);
            xd = g.reshape(x, &[s[0], s[1], h.into(), one, w.into(), one])?;
            xd = g.pad(xd, 3, 0, st - 1)?;
            xd = g.pad(xd, 5, 0, st - 1)?;
            xd = g.reshape(xd, &[s[0], s[1], (h * st).into(), (w * st).into()])?;
            xd = g.slice(xd, 2, 0, (h - 1) * st + 1)?;
            xd = g.slice(xd, 3, 0, (w - 1) * st + 1)?;
        }
        let (ph, pw) = (c.dilation * (kh - 1) - c.padding, c.dilation * (kw - 1) - c.padding);
        let xd = g.pad(xd, 2, ph, ph)?;
        let xd = g.pad(xd, 3, pw, pw)?;
        // W'[co, ci, i, j] = W[ci, co, kh-1-i, kw-1-j]
        let wt = g.permute(self.weight, &[1, 0, 2, 3])?;
        let jw = anti_identity(g, kw)?;
        let wf = g.matmul(wt, jw)?; // flip kw
        let wf = g.permute(wf, &[0, 1, 3, 2])?;
        let jh = anti_identity(g, kh)?;
        let wf = g.matmul(wf, jh)?; // flip kh
        let wf = g.permute(wf, &[0, 1, 3, 2])?;
        let inner = Conv2dConfig {
            in_channels: c.in_channels,
            out_channels: c.out_channels,
            kernel: c.kernel,
            stride: 1,
            padding: 0,
            dilation: c.dilation,
            bias: c.bias,
        };
        conv2d(g, xd, wf, self.bias, inner)
    }
}

/// Fixed `[n, n]` matrix with ones on the anti-diagonal (reverses an axis).
fn anti_identity(g: &mut Graph, n: usize) -> Result<Tensor, EngineError> {
    let name = format!("__flip{n}_{}", g.leaves().len());
    let data = (0..n * n).map(|i| if i % n == n - 1 - i / n { 1.0 } else { 0.0 }).collect();
    g.fixed(&name, &[n, n], data)
}
