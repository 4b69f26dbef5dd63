//! Max pooling that records its switches, and max unpooling that puts each
//! pooled value back where it came from (Zeiler and Fergus' deconvnet;
//! PyTorch's `MaxPool2d(return_indices=True)` with `MaxUnpool2d`). On the
//! CPU, one `[C, H, W]` image: the upsampling lab shows them, nothing
//! trains through them.

use crate::error::EngineError;

/// Non-overlapping `k x k` max pooling of `[channels, h, w]` planes (a last
/// partial row or column of windows is dropped, as PyTorch does).
#[derive(Clone, Debug, PartialEq)]
pub struct Pooled {
    pub channels: usize,
    /// Pooled size.
    pub height: usize,
    pub width: usize,
    /// `[channels, height, width]` maxima.
    pub values: Vec<f32>,
    /// For each pooled value, the flat index `y * w + x` of its maximum in
    /// its input plane (PyTorch's indices): the first one in raster order
    /// on ties.
    pub switches: Vec<usize>,
    /// The input's size, which unpooling restores.
    pub input: (usize, usize),
}

pub fn max_pool_with_switches(x: &[f32], channels: usize, h: usize, w: usize, k: usize) -> Result<Pooled, EngineError> {
    if k == 0 || h < k || w < k || x.len() != channels * h * w {
        return Err(EngineError::Shape(format!("max pool {k}x{k} of {} values as {channels}x{h}x{w}", x.len())));
    }
    let (oh, ow) = (h / k, w / k);
    let mut values = Vec::with_capacity(channels * oh * ow);
    let mut switches = Vec::with_capacity(channels * oh * ow);
    for plane in x.chunks(h * w) {
        for oy in 0..oh {
            for ox in 0..ow {
                let mut best = (f32::NEG_INFINITY, oy * k * w + ox * k);
                for y in oy * k..(oy + 1) * k {
                    for x in ox * k..(ox + 1) * k {
                        let v = plane[y * w + x];
                        // Strictly greater: the first maximum wins.
                        if v > best.0 {
                            best = (v, y * w + x);
                        }
                    }
                }
                values.push(best.0);
                switches.push(best.1);
            }
        }
    }
    Ok(Pooled { channels, height: oh, width: ow, values, switches, input: (h, w) })
}

impl Pooled {
    /// Each value at its switch in a zero `[channels, H, W]` image of the input's size.
    pub fn unpool(&self) -> Vec<f32> {
        max_unpool(&self.values, &self.switches, self.channels, self.input)
    }
}

/// `values` `[channels, n]` placed at `switches` (flat indices into an
/// `h x w` plane) of zero planes; a switch out of range is skipped.
pub fn max_unpool(values: &[f32], switches: &[usize], channels: usize, (h, w): (usize, usize)) -> Vec<f32> {
    let mut out = vec![0f32; channels * h * w];
    let per = values.len() / channels.max(1);
    for (i, (&v, &s)) in values.iter().zip(switches).enumerate() {
        let c = i / per.max(1);
        if s < h * w
            && let Some(o) = out.get_mut(c * h * w + s)
        {
            *o = v;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn switches_are_the_argmax_and_unpooling_puts_values_back() {
        // 4x4, two channels; 2x2 windows.
        #[rustfmt::skip]
        let x = [
            1.0, 5.0,  2.0, 2.0,
            3.0, 4.0,  0.0, 1.0,
            -1.0, -2.0, 7.0, 9.0,
            -3.0, -0.5, 9.0, 8.0,
            // second channel: constant, so every window ties
            2.0, 2.0, 2.0, 2.0,
            2.0, 2.0, 2.0, 2.0,
            2.0, 2.0, 2.0, 2.0,
            2.0, 2.0, 2.0, 2.0f32,
        ];
        let p = max_pool_with_switches(&x, 2, 4, 4, 2).unwrap();
        assert_eq!((p.height, p.width), (2, 2));
        assert_eq!(p.values, [5.0, 2.0, -0.5, 9.0, 2.0, 2.0, 2.0, 2.0]);
        // 5 at (0, 1); the tie 2, 2 at (0, 2) (first); -0.5 at (3, 1); the
        // tie 9, 9 at (2, 3) before (3, 2). Ties elsewhere: each window's top-left.
        assert_eq!(p.switches, [1, 2, 13, 11, 0, 2, 8, 10]);
        #[rustfmt::skip]
        let want = [
            0.0, 5.0, 2.0, 0.0,
            0.0, 0.0, 0.0, 0.0,
            0.0, 0.0, 0.0, 9.0,
            0.0, -0.5, 0.0, 0.0,
            2.0, 0.0, 2.0, 0.0,
            0.0, 0.0, 0.0, 0.0,
            2.0, 0.0, 2.0, 0.0,
            0.0, 0.0, 0.0, 0.0f32,
        ];
        assert_eq!(p.unpool(), want);
    }

    #[test]
    fn odd_sizes_drop_the_partial_window_and_bad_shapes_say_so() {
        // 3x5 with 2x2 windows: 1x2 output from rows 0..2, columns 0..4.
        let x: Vec<f32> = (0..15).map(|v| v as f32).collect();
        let p = max_pool_with_switches(&x, 1, 3, 5, 2).unwrap();
        assert_eq!((p.height, p.width, p.values.clone()), (1, 2, vec![6.0, 8.0]));
        assert_eq!(p.switches, [6, 8]);
        let u = p.unpool();
        assert_eq!(u.len(), 15);
        assert_eq!(u.iter().filter(|&&v| v != 0.0).count(), 2);
        assert_eq!((u[6], u[8]), (6.0, 8.0));
        assert!(max_pool_with_switches(&x, 1, 3, 5, 4).is_err());
        assert!(max_pool_with_switches(&x, 2, 3, 5, 2).is_err());
        assert!(max_pool_with_switches(&x, 1, 3, 5, 0).is_err());
    }
}
