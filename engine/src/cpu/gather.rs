//! Chains of copies, small sums and adds that only move and add elements of
//! one buffer (im2col and its col2im gradient: pads, slices, repeats,
//! permutes) are composed at plan time into one gather: every output element
//! is the sum of a list of source elements, most often of at most one. One
//! pass over the output replaces one materialized intermediate per view op.
//!
//! Results stay bit-identical to running the chain: a composed row is summed
//! left to right, so a sum is only absorbed where the chain also summed left
//! to right (see `Map::multi`).

use super::kernels::bounded_rows;
use crate::graph::view::View;

/// Longest reduced axis a gather absorbs: tap sums, not batch sums (those
/// stay contiguous, vectorized reductions, whose 8 accumulators would sum
/// in another order than a gather's left fold from 8 elements on).
const MAX_SUM_AXIS: usize = 7;

/// Per output element, the source elements summed (CSR).
#[derive(Debug, Clone)]
pub(crate) struct Map {
    start: Vec<u32>,
    idx: Vec<u32>,
    /// Some row has more than one entry.
    multi: bool,
}

/// The compiled form: a plain gather when no row sums.
#[derive(Debug, Clone)]
pub(crate) enum Gather {
    /// Source index per output, -1 for a zero.
    Single(Vec<i32>),
    Sum { start: Vec<u32>, idx: Vec<u32> },
}

impl Map {
    fn new(rows: usize) -> Map {
        let mut start = Vec::with_capacity(rows + 1);
        start.push(0);
        Map { start, idx: vec![], multi: false }
    }

    /// Append element `j` of the input (read directly when `inp` is None).
    #[inline]
    fn push(&mut self, j: i64, inp: Option<&Map>) {
        if j < 0 {
            return;
        }
        match inp {
            None => self.idx.push(j as u32),
            Some(m) => {
                let j = j as usize;
                self.idx.extend_from_slice(&m.idx[m.start[j] as usize..m.start[j + 1] as usize]);
            }
        }
    }

    #[inline]
    fn end_row(&mut self) {
        let s = *self.start.last().unwrap_or(&0) as usize;
        self.multi |= self.idx.len() - s > 1;
        self.start.push(self.idx.len() as u32);
    }

    pub fn compile(self) -> Gather {
        if self.multi {
            return Gather::Sum { start: self.start, idx: self.idx };
        }
        let rows = self.start.len() - 1;
        let mut out = vec![-1i32; rows];
        for (r, o) in out.iter_mut().enumerate() {
            if self.start[r + 1] > self.start[r] {
                *o = self.idx[self.start[r] as usize] as i32;
            }
        }
        Gather::Single(out)
    }
}

/// Physical index of every logical element of `v` (row-major), -1 for padding.
fn view_index(v: &View) -> Vec<i64> {
    let s = v.strides.last().copied().unwrap_or(0) as i64;
    let mut out = vec![-1i64; v.numel()];
    bounded_rows(v, |k, row| {
        if let Some((base, lo, hi)) = row {
            for j in lo..hi {
                out[k + j] = base as i64 + j as i64 * s;
            }
        }
    });
    out
}

/// A kernel that only moves or adds elements, as the gather pass sees it.
pub(crate) enum Linear<'a> {
    Copy { a: usize, va: &'a View },
    Sum { a: usize, va: &'a View, axis: usize },
    Add { a: usize, va: &'a View, b: usize, vb: &'a View },
}

impl Linear<'_> {
    pub fn inputs(&self) -> Vec<usize> {
        match self {
            Linear::Copy { a, .. } | Linear::Sum { a, .. } => vec![*a],
            Linear::Add { a, b, .. } => vec![*a, *b],
        }
    }

    /// Whether this kernel may take part at all.
    pub fn eligible(&self) -> bool {
        match self {
            Linear::Sum { va, axis, .. } => va.shape[*axis] <= MAX_SUM_AXIS,
            _ => true,
        }
    }

    /// Compose with the maps of its absorbed inputs (None = read directly).
    /// Returns None when the composition would change the summation order.
    pub fn compose(&self, ins: &[Option<&Map>]) -> Option<Map> {
        let multi = |m: Option<&Map>| m.is_some_and(|m| m.multi);
        match *self {
            Linear::Copy { va, .. } => {
                let l = view_index(va);
                let mut m = Map::new(l.len());
                for &j in &l {
                    m.push(j, ins[0]);
                    m.end_row();
                }
                Some(m)
            }
            Linear::Sum { va, axis, .. } => {
                if multi(ins[0]) {
                    return None;
                }
                let l = view_index(va);
                let n = va.shape[axis];
                let inner: usize = va.shape[axis + 1..].iter().product();
                let outer: usize = va.shape[..axis].iter().product();
                let mut m = Map::new(outer * inner);
                for o in 0..outer {
                    for i in 0..inner {
                        for t in 0..n {
                            m.push(l[(o * n + t) * inner + i], ins[0]);
                        }
                        m.end_row();
                    }
                }
                Some(m)
            }
            Linear::Add { va, vb, .. } => {
                // a + b is exact as one left fold when at most the first
                // operand sums (addition commutes exactly, so swap if needed).
                let (first, second) = match (multi(ins[0]), multi(ins[1])) {
                    (true, true) => return None,
                    (false, true) => ((vb, ins[1]), (va, ins[0])),
                    _ => ((va, ins[0]), (vb, ins[1])),
                };
                let (la, lb) = (view_index(first.0), view_index(second.0));
                let mut m = Map::new(la.len());
                for (&ja, &jb) in la.iter().zip(&lb) {
                    m.push(ja, first.1);
                    m.push(jb, second.1);
                    m.end_row();
                }
                Some(m)
            }
        }
    }
}

impl Gather {
    /// One past the largest source index read.
    pub fn reads(&self) -> usize {
        match self {
            Gather::Single(idx) => idx.iter().map(|&j| j + 1).max().unwrap_or(0).max(0) as usize,
            Gather::Sum { idx, .. } => idx.iter().map(|&j| j as usize + 1).max().unwrap_or(0),
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Gather::Single(idx) => idx.len(),
            Gather::Sum { start, .. } => start.len() - 1,
        }
    }

    pub fn run(&self, src: &[f32], out: &mut [f32]) {
        match self {
            Gather::Single(idx) => {
                for (o, &j) in out.iter_mut().zip(idx) {
                    *o = if j < 0 { 0.0 } else { src[j as usize] };
                }
            }
            Gather::Sum { start, idx } => {
                for (r, o) in out.iter_mut().enumerate() {
                    let mut s = 0.0;
                    for &j in &idx[start[r] as usize..start[r + 1] as usize] {
                        s += src[j as usize];
                    }
                    *o = s;
                }
            }
        }
    }
}
