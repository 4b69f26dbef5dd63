//! Strided n-d loops: the core of every element-wise and reduction kernel.
//! Dims are coalesced first (a contiguous tensor becomes one long run), so
//! the common cases run as plain slice loops the compiler vectorizes.

use crate::graph::view::View;

/// Shape plus per-operand strides after merging mergeable adjacent dims and
/// dropping length-1 dims. Operand 0 is usually the output.
#[derive(Debug, Clone)]
pub(crate) struct Loop<const N: usize> {
    pub shape: Vec<usize>,
    pub strides: Vec<[isize; N]>,
    pub offsets: [isize; N],
}

impl<const N: usize> Loop<N> {
    pub fn new(shape: &[usize], strides: [&[isize]; N], offsets: [isize; N]) -> Loop<N> {
        let mut sh: Vec<usize> = vec![];
        let mut st: Vec<[isize; N]> = vec![];
        for (d, &len) in shape.iter().enumerate() {
            if len == 1 {
                continue;
            }
            let s: [isize; N] = std::array::from_fn(|k| strides[k][d]);
            if let (Some(pl), Some(ps)) = (sh.last_mut(), st.last_mut())
                && (0..N).all(|k| ps[k] == s[k] * len as isize)
            {
                *pl *= len;
                *ps = s;
                continue;
            }
            sh.push(len);
            st.push(s);
        }
        if sh.is_empty() {
            sh.push(1);
            st.push([0; N]);
        }
        Loop { shape: sh, strides: st, offsets }
    }

    /// For element-wise loops (any order gives the same result): when the
    /// innermost run is tiny (a 2-wide pool window) and the next dim is
    /// longer, swap them, so each call covers a long strided run.
    pub fn widen_inner(mut self) -> Loop<N> {
        let nd = self.shape.len();
        if nd >= 2 && self.shape[nd - 1] < 8 && self.shape[nd - 2] > self.shape[nd - 1] {
            self.shape.swap(nd - 1, nd - 2);
            self.strides.swap(nd - 1, nd - 2);
        }
        self
    }

    /// Call `f(base_offsets, inner_len, inner_strides)` for each innermost run.
    #[inline]
    pub fn runs(&self, mut f: impl FnMut([isize; N], usize, [isize; N])) {
        let nd = self.shape.len();
        let inner = self.shape[nd - 1];
        let istr = self.strides[nd - 1];
        if self.shape.contains(&0) {
            return;
        }
        if nd == 1 {
            f(self.offsets, inner, istr);
            return;
        }
        // The second-innermost dim runs as a plain loop, so short rows (a
        // 2x2 pool window, a 5-tap im2col row) do not pay the odometer.
        let (n2, s2) = (self.shape[nd - 2], self.strides[nd - 2]);
        let mut idx = vec![0usize; nd - 2];
        let mut base = self.offsets;
        loop {
            let mut b = base;
            for _ in 0..n2 {
                f(b, inner, istr);
                for (x, s) in b.iter_mut().zip(&s2) {
                    *x += s;
                }
            }
            // increment the outer counter
            let mut k = nd - 2;
            loop {
                if k == 0 {
                    return;
                }
                k -= 1;
                idx[k] += 1;
                for (b, s) in base.iter_mut().zip(&self.strides[k]) {
                    *b += s;
                }
                if idx[k] < self.shape[k] {
                    break;
                }
                for (b, s) in base.iter_mut().zip(&self.strides[k]) {
                    *b -= s * self.shape[k] as isize;
                }
                idx[k] = 0;
            }
        }
    }
}

/// Smallest and largest physical index a view can read (unbounded views only).
pub(crate) fn span(v: &View) -> (isize, isize) {
    let (mut lo, mut hi) = (v.offset, v.offset);
    for (&n, &s) in v.shape.iter().zip(&v.strides) {
        if n == 0 {
            return (0, -1);
        }
        let e = s * (n as isize - 1);
        if e < 0 { lo += e } else { hi += e }
    }
    (lo, hi)
}

/// True when every valid read of `v` lies inside a buffer of `len` elements.
pub(crate) fn fits(v: &View, len: usize) -> bool {
    match &v.bounds {
        None => {
            let (lo, hi) = span(v);
            hi < lo || (lo >= 0 && (hi as usize) < len)
        }
        Some(b) => {
            // Check the corners of the valid box.
            let mut lo = v.offset;
            let mut hi = v.offset;
            for ((&(l, h), &s), _) in b.iter().zip(&v.strides).zip(&v.shape) {
                if h <= l {
                    return true; // nothing valid
                }
                let (a, c) = (s * l as isize, s * (h as isize - 1));
                lo += a.min(c);
                hi += a.max(c);
            }
            lo >= 0 && (hi as usize) < len
        }
    }
}
