//! Sliding windows (the im2col building block) from primitive ops only.
//!
//! luminal's trackers cannot express overlapping strides, so windows are made
//! with a skew: repeat each row `taps` times, flatten, pad, and read it back
//! with rows one element longer, so row `q` starts `q` elements further in:
//! `G[q, c] = x[q + c]`. That costs `taps * len` copies per row (luminal's own
//! `pool_last_dim` repeats per *window*, `windows * len`). The gradient is
//! the same graph's autograd: slices become pads, the repeat becomes a sum
//! (col2im). Stride and dilation subsample the result with one more copy.

use luminal::prelude::ShapeTracker;

use super::view;
use super::{Dim, Graph, Tensor};
use crate::error::EngineError;

fn err(msg: String) -> EngineError {
    EngineError::Shape(msg)
}

/// Number of windows of a kernel over `len` elements.
pub fn window_count(len: usize, kernel: usize, stride: usize, dilation: usize) -> Option<usize> {
    let extent = (kernel.checked_sub(1)?) * dilation + 1;
    if stride == 0 || len < extent {
        return None;
    }
    Some((len - extent) / stride + 1)
}

impl Graph {
    /// Split logical `axis` into `sizes` (row-major), keeping the view lazy
    /// when that axis is a plain storage dim.
    pub fn split_axis(&mut self, a: Tensor, axis: usize, sizes: &[Dim]) -> Result<Tensor, EngineError> {
        let s = self.shape(a);
        if axis >= s.len() || s.len() + sizes.len() - 1 > 6 {
            return Err(err(format!("cannot split axis {axis} of {s:?} into {sizes:?}")));
        }
        let i = a.view.indexes[axis];
        let unbounded = {
            let mut one = ShapeTracker::new(&[a.view.dims[i]]);
            one.padding[0] = a.view.padding[i];
            one.slices[0] = a.view.slices[i];
            !view::has_bounds(&one)
        };
        if !unbounded || a.view.fake[i] {
            let c = self.contiguous(a);
            return self.split_axis(c, axis, sizes);
        }
        let m = sizes.len();
        let mut v = a.view;
        for idx in v.indexes.iter_mut() {
            if *idx > i {
                *idx += m - 1;
            }
        }
        v.dims[i] = sizes[0];
        for (k, &d) in sizes.iter().enumerate().skip(1) {
            v.dims.insert(i + k, d);
            v.fake.insert(i + k, false);
            v.slices.insert(i + k, (0usize.into(), view::NO_END.into()));
            v.padding.insert(i + k, (0usize.into(), 0usize.into()));
        }
        for k in 1..m {
            v.indexes.insert(axis + k, i + k);
        }
        Ok(Tensor { id: a.id, view: v })
    }

    /// Windows over the last axis: `[.., len]` -> `[.., kernel, windows]` with
    /// `out[.., t, o] = x[.., o * stride + t * dilation]`.
    pub fn windows_last(&mut self, x: Tensor, kernel: usize, stride: usize, dilation: usize) -> Result<Tensor, EngineError> {
        let shape = self.shape(x);
        let nd = shape.len();
        let len = shape.last().and_then(|d| d.to_usize()).ok_or_else(|| err(format!("windows over {shape:?}")))?;
        let n = window_count(len, kernel, stride, dilation).ok_or_else(|| err(format!("kernel {kernel} dilation {dilation} does not fit {len}")))?;
        let lead: Vec<Dim> = shape[..nd - 1].to_vec();
        let rows = super::dim_product(&lead);
        let simple = stride == 1 && dilation == 1;
        // Taps and positions to generate before subsampling.
        let (taps, pos) = if simple { (kernel, n) } else { (kernel * dilation, n * stride) };
        // Each row gets `extra` zeros so reads past the end stay in its copy.
        let extra = pos.saturating_sub(1 + len.saturating_sub(taps)).max(1);
        let row = len + extra;
        let flat = self.reshape(x, &[rows, len.into()])?;
        let padded = self.pad(flat, 1, 0, extra)?;
        let rep = self.expand(padded, 1, taps.into())?; // [R, taps, row]
        let rep = self.contiguous(rep);
        let rep = self.reshape(rep, &[rows, (taps * row).into()])?;
        let rep = self.pad(rep, 1, 0, taps)?;
        let rep = self.contiguous(rep);
        let skew = self.reshape(rep, &[rows, taps.into(), (row + 1).into()])?; // G[r, q, c] = x[r, q + c]
        let win = self.slice(skew, 2, 0, pos)?;
        let win = if simple {
            win
        } else {
            // Keep every `dilation`-th tap and every `stride`-th position.
            let c = self.contiguous(win);
            let c = self.reshape(c, &[rows, kernel.into(), dilation.into(), n.into(), stride.into()])?;
            let c = self.slice(c, 2, 0, 1)?;
            let c = self.slice(c, 4, 0, 1)?;
            let c = self.contiguous(c);
            self.reshape(c, &[rows, kernel.into(), n.into()])?
        };
        let mut out = lead;
        out.push(kernel.into());
        out.push(n.into());
        if out.len() == 3 && out[0] == rows {
            return Ok(win);
        }
        let sizes: Vec<Dim> = out[..nd - 1].to_vec();
        if sizes.is_empty() {
            return self.reshape(win, &out);
        }
        self.split_axis(win, 0, &sizes)
    }
}
