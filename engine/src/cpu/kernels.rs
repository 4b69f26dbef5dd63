//! CPU kernels over resolved views. Fast paths for plain and strided views;
//! views with pad bounds go through the per-element fallback.

use crate::graph::Prim;
use crate::graph::reference::for_each_index;
use crate::graph::view::View;

use std::ops::Range;

use super::par::{self, SharedOut};
use super::strided::Loop;

#[inline(always)]
fn bin(p: Prim, x: f32, y: f32) -> f32 {
    match p {
        Prim::Add => x + y,
        Prim::Mul => x * y,
        Prim::Mod => x % y,
        _ => (x < y) as i32 as f32,
    }
}

/// Read through a bounded view, one element at a time.
#[inline]
fn read(buf: &[f32], v: &View, idx: &[usize]) -> f32 {
    v.index(idx).and_then(|i| buf.get(i).copied()).unwrap_or(0.0)
}

/// For views with pad bounds: for each innermost row, `f(out_offset, row)`
/// gets `None` when the whole row is padding, else `(base, lo, hi)`: the
/// valid inner range and the physical offset of inner index 0.
pub(crate) fn bounded_rows(v: &View, mut f: impl FnMut(usize, Option<(isize, usize, usize)>)) {
    let nd = v.shape.len();
    if nd == 0 {
        f(0, v.index(&[]).map(|i| (i as isize, 0, 1)));
        return;
    }
    let inner = v.shape[nd - 1];
    let all = vec![(0, usize::MAX); nd];
    let bounds = v.bounds.as_ref().unwrap_or(&all);
    let lo = bounds[nd - 1].0.min(inner);
    let hi = bounds[nd - 1].1.clamp(lo, inner);
    let mut k = 0;
    for_each_index(&v.shape[..nd - 1], |idx| {
        let valid = idx.iter().zip(bounds).all(|(&d, &(l, h))| d >= l && d < h);
        let base = v.offset + idx.iter().zip(&v.strides).map(|(&d, &st)| d as isize * st).sum::<isize>();
        f(k, valid.then_some((base, lo, hi)));
        k += inner;
    });
}

/// Copy one bounded row into `dst` (zeros outside the valid range).
#[inline]
fn fill_row(a: &[f32], stride: isize, row: Option<(isize, usize, usize)>, dst: &mut [f32]) {
    match row {
        None => dst.fill(0.0),
        Some((base, lo, hi)) => {
            dst[..lo].fill(0.0);
            dst[hi..].fill(0.0);
            if stride == 1 {
                let b = (base + lo as isize) as usize;
                dst[lo..hi].copy_from_slice(&a[b..b + hi - lo]);
            } else {
                for (j, r) in dst[lo..hi].iter_mut().enumerate() {
                    *r = a[(base + (lo + j) as isize * stride) as usize];
                }
            }
        }
    }
}

/// Materialize a bounded view into `out`.
fn copy_bounded(a: &[f32], va: &View, out: &mut [f32]) {
    let inner = va.shape.last().copied().unwrap_or(1);
    let s = va.strides.last().copied().unwrap_or(0);
    bounded_rows(va, |k, row| fill_row(a, s, row, &mut out[k..k + inner]));
}

pub(crate) fn unary(p: Prim, x: &[f32], out: &mut [f32]) {
    macro_rules! map {
        ($f:expr) => {
            for (o, &v) in out.iter_mut().zip(x) {
                *o = $f(v);
            }
        };
    }
    match p {
        Prim::Log2 => map!(f32::log2),
        Prim::Exp2 => map!(f32::exp2),
        Prim::Sin => map!(f32::sin),
        Prim::Sqrt => map!(f32::sqrt),
        _ => map!(|v: f32| 1.0 / v),
    }
}

/// out (contiguous, shape of `va`) = a op b.
pub(crate) fn binary(p: Prim, a: &[f32], va: &View, b: &[f32], vb: &View, out: &mut [f32]) {
    if va.bounds.is_some() || vb.bounds.is_some() {
        // Materialize a into out, then combine with b one row at a time
        // (no operand-sized temporaries).
        copy(a, va, out);
        let inner = vb.shape.last().copied().unwrap_or(1);
        let s = vb.strides.last().copied().unwrap_or(0);
        let mut row = vec![0f32; inner];
        bounded_rows(vb, |k, r| {
            fill_row(b, s, r, &mut row);
            for (o, &y) in out[k..k + inner].iter_mut().zip(&row) {
                *o = bin(p, *o, y);
            }
        });
        return;
    }
    match p {
        Prim::Add => binary_strided(|x, y| x + y, a, va, b, vb, out),
        Prim::Mul => binary_strided(|x, y| x * y, a, va, b, vb, out),
        Prim::Mod => binary_strided(|x, y| x % y, a, va, b, vb, out),
        _ => binary_strided(|x, y| (x < y) as i32 as f32, a, va, b, vb, out),
    }
}

#[inline(always)]
fn binary_strided(f: impl Fn(f32, f32) -> f32 + Copy, a: &[f32], va: &View, b: &[f32], vb: &View, out: &mut [f32]) {
    let os = crate::graph::view::contiguous_strides(&va.shape);
    let lp = Loop::new(&va.shape, [&os, &va.strides, &vb.strides], [0, va.offset, vb.offset]).widen_inner();
    lp.runs(|[o, ia, ib], n, [so, sa, sb]| {
        if so != 1 {
            // A widened loop (see `Loop::widen_inner`) writes with a stride.
            for j in 0..n as isize {
                out[(o + j * so) as usize] = f(a[(ia + j * sa) as usize], b[(ib + j * sb) as usize]);
            }
            return;
        }
        let (o, ia, ib) = (o as usize, ia as usize, ib as usize);
        let out = &mut out[o..o + n];
        match (sa, sb) {
            (1, 1) => {
                for ((r, &x), &y) in out.iter_mut().zip(&a[ia..ia + n]).zip(&b[ib..ib + n]) {
                    *r = f(x, y);
                }
            }
            (1, 0) => {
                let y = b[ib];
                for (r, &x) in out.iter_mut().zip(&a[ia..ia + n]) {
                    *r = f(x, y);
                }
            }
            (0, 0) => out.fill(f(a[ia], b[ib])),
            (0, 1) => {
                let x = a[ia];
                for (r, &y) in out.iter_mut().zip(&b[ib..ib + n]) {
                    *r = f(x, y);
                }
            }
            _ => {
                for (j, r) in out.iter_mut().enumerate() {
                    let j = j as isize;
                    *r = f(a[(ia as isize + j * sa) as usize], b[(ib as isize + j * sb) as usize]);
                }
            }
        }
    });
}

/// out (contiguous) = materialized view of a.
pub(crate) fn copy(a: &[f32], va: &View, out: &mut [f32]) {
    if va.bounds.is_some() {
        copy_bounded(a, va, out);
        return;
    }
    let os = crate::graph::view::contiguous_strides(&va.shape);
    let lp = Loop::new(&va.shape, [&os, &va.strides], [0, va.offset]).widen_inner();
    lp.runs(|[o, ia], n, [so, sa]| {
        let (o, ia) = (o, ia);
        if sa == 1 && so == 1 {
            out[o as usize..o as usize + n].copy_from_slice(&a[ia as usize..ia as usize + n]);
        } else {
            for j in 0..n as isize {
                out[(o + j * so) as usize] = a[(ia + j * sa) as usize];
            }
        }
    });
}

/// Sum or max of `a` (view `va`) over `axis` into contiguous `out`.
pub(crate) fn reduce(is_max: bool, a: &[f32], va: &View, axis: usize, out: &mut [f32]) {
    let init = if is_max { f32::NEG_INFINITY } else { 0.0 };
    out.fill(init);
    // Output strides over the input's logical axes, 0 on the reduced axis.
    let mut os = vec![0isize; va.shape.len()];
    let mut acc = 1isize;
    for d in (0..va.shape.len()).rev() {
        if d != axis {
            os[d] = acc;
            acc *= va.shape[d] as isize;
        }
    }
    if va.bounds.is_some() {
        for_each_index(&va.shape, |i| {
            let o: isize = i.iter().zip(&os).map(|(&x, &s)| x as isize * s).sum();
            let x = read(a, va, i);
            let r = &mut out[o as usize];
            *r = if is_max { r.max(x) } else { *r + x };
        });
        return;
    }
    // Innermost dim = smallest input stride, so strided reductions
    // accumulate whole contiguous rows instead of short strided dots.
    let mut order: Vec<usize> = (0..va.shape.len()).collect();
    order.sort_by_key(|&d| std::cmp::Reverse(va.strides[d].unsigned_abs()));
    // A max over a tiny innermost window (a 2x2 pool's 2) runs outermost
    // instead, so the inner loop walks a whole output row; each output
    // still sees its window in the same order, and a max is exact.
    if is_max && order.last() == Some(&axis) && va.shape[axis] < 8 {
        order.pop();
        order.insert(0, axis);
    }
    let shape: Vec<usize> = order.iter().map(|&d| va.shape[d]).collect();
    let (so_p, sa_p): (Vec<isize>, Vec<isize>) = order.iter().map(|&d| (os[d], va.strides[d])).unzip();
    let lp = Loop::new(&shape, [&so_p, &sa_p], [0, va.offset]);
    lp.runs(|[o, ia], n, [so, sa]| {
        let (o, ia) = (o as usize, ia);
        if so == 0 {
            let mut r = out[o];
            if sa == 1 {
                let s = &a[ia as usize..ia as usize + n];
                r = if is_max { s.iter().fold(r, |m, &x| m.max(x)) } else { r + sum_fast(s) };
            } else {
                for j in 0..n as isize {
                    let x = a[(ia + j * sa) as usize];
                    r = if is_max { r.max(x) } else { r + x };
                }
            }
            out[o] = r;
        } else {
            if so == 1 && sa == 1 {
                let (dst, src) = (&mut out[o..o + n], &a[ia as usize..ia as usize + n]);
                if is_max {
                    dst.iter_mut().zip(src).for_each(|(r, &x)| *r = r.max(x));
                } else {
                    dst.iter_mut().zip(src).for_each(|(r, &x)| *r += x);
                }
            } else {
                for j in 0..n {
                    let x = a[(ia + j as isize * sa) as usize];
                    let r = &mut out[(o as isize + j as isize * so) as usize];
                    *r = if is_max { r.max(x) } else { *r + x };
                }
            }
        }
    });
}

/// Sum with 8 independent accumulators (vectorizes, and is more accurate
/// than one running sum).
fn sum_fast(s: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    let chunks = s.chunks_exact(8);
    let rest = chunks.remainder();
    for c in chunks {
        for k in 0..8 {
            acc[k] += c[k];
        }
    }
    acc.iter().sum::<f32>() + rest.iter().sum::<f32>()
}

/// Products with at most this many multiply-adds skip sgemm.
const SMALL_GEMM: usize = 512;

/// matrixmultiply's f32 depth block: up to this k, each element of its C is
/// one fused multiply-add chain over p = 0..k from zero, stored as
/// `1 * chain + 0` (it blocks larger k, adding the blocks' partial sums).
const SGEMM_KC: usize = 256;

mod fma {
    /// Whether matrixmultiply runs its FMA kernels here (AVX2 + FMA, or
    /// AVX-512), so that `run_vector_fma` reproduces its bits.
    pub fn available() -> bool {
        #[cfg(target_arch = "x86_64")]
        {
            std::is_x86_feature_detected!("fma") && std::is_x86_feature_detected!("avx2")
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            false
        }
    }
}

/// A contraction `out[..] = sum_r a[..] * b[..]` planned as batched GEMM.
#[derive(Debug, Clone)]
pub(crate) struct GemmPlan {
    pub m: usize,
    pub n: usize,
    pub k: usize,
    /// (row, col) strides of A (m x k), B (k x n), C (m x n).
    pub a_rc: (isize, isize),
    pub b_rc: (isize, isize),
    pub c_rc: (isize, isize),
    /// Remaining loop dims: sizes and strides of (a, b, c).
    pub batch: Vec<(usize, [isize; 3])>,
    pub offsets: [isize; 3],
    /// Every (a, b, c) base offset of the batch loop, computed once per
    /// plan, in the order that reads memory most sequentially (each
    /// product is independent, so the order changes no bit).
    bases: Vec<[isize; 3]>,
    /// For matrix-vector products run as FMA dot products: the output dim
    /// whose elements are computed side by side (size, strides of a, b,
    /// c), the one read most sequentially; `bases` then spans the rest.
    lanes: Option<(usize, [isize; 3])>,
}

impl GemmPlan {
    /// `va`, `vb` view the product's logical shape (already permuted to the
    /// reduction's axis order); `axis` is reduced; the output is contiguous.
    pub fn new(va: &View, vb: &View, axis: usize) -> GemmPlan {
        let nd = va.shape.len();
        let mut oshape: Vec<usize> = va.shape.clone();
        oshape.remove(axis);
        let ostr = crate::graph::view::contiguous_strides(&oshape);
        // (size, [sa, sb, sc]) for every dim but the reduced one, merged where possible.
        let mut dims: Vec<(usize, [isize; 3])> = vec![];
        let mut k = 0;
        for d in 0..nd {
            if d == axis {
                continue;
            }
            let s = [va.strides[d], vb.strides[d], ostr[k]];
            k += 1;
            let len = va.shape[d];
            if len == 1 {
                continue;
            }
            if let Some(last) = dims.last_mut()
                && (0..3).all(|i| last.1[i] == s[i] * len as isize)
            {
                last.0 *= len;
                last.1 = s;
                continue;
            }
            dims.push((len, s));
        }
        let pick = |dims: &[(usize, [isize; 3])], want_a: bool| {
            dims.iter().enumerate().filter(|(_, (_, s))| if want_a { s[0] != 0 && s[1] == 0 } else { s[1] != 0 && s[0] == 0 }).max_by_key(|(_, (n, _))| *n).map(|(i, _)| i)
        };
        let mi = pick(&dims, true);
        let ni = pick(&dims, false);
        let (m, am, cm) = mi.map(|i| (dims[i].0, dims[i].1[0], dims[i].1[2])).unwrap_or((1, 0, 0));
        let (n, bn, cn) = ni.map(|i| (dims[i].0, dims[i].1[1], dims[i].1[2])).unwrap_or((1, 0, 0));
        let batch = dims.iter().enumerate().filter(|(i, _)| Some(*i) != mi && Some(*i) != ni).map(|(_, d)| *d).collect();
        let mut plan = GemmPlan {
            m,
            n,
            k: va.shape[axis],
            a_rc: (am, va.strides[axis]),
            b_rc: (vb.strides[axis], bn),
            c_rc: (if m == 1 { n as isize } else { cm }, if n == 1 { 1 } else { cn }),
            batch,
            offsets: [va.offset, vb.offset, 0],
            bases: vec![],
            lanes: None,
        };
        let mut by_reads = plan.batch.clone();
        let vector = m * n * plan.k > SMALL_GEMM && (m == 1) != (n == 1) && plan.k <= SGEMM_KC && fma::available();
        if vector {
            by_reads.push(if n == 1 { (m, [am, 0, plan.c_rc.0]) } else { (n, [0, bn, plan.c_rc.1]) });
        }
        by_reads.sort_by_key(|(_, s)| std::cmp::Reverse(s[0].unsigned_abs().max(s[1].unsigned_abs())));
        if vector {
            plan.lanes = by_reads.pop();
        }
        plan.bases = plan.bases_of(&by_reads);
        plan
    }

    /// Base offsets over the given batch dims only.
    fn bases_of(&self, dims: &[(usize, [isize; 3])]) -> Vec<[isize; 3]> {
        let shape: Vec<usize> = dims.iter().map(|d| d.0).collect();
        let mut out = vec![];
        for_each_index(&shape, |i| {
            let mut o = self.offsets;
            for (x, (_, s)) in i.iter().zip(dims) {
                for q in 0..3 {
                    o[q] += *x as isize * s[q];
                }
            }
            out.push(o);
        });
        out
    }

    /// Largest index read/written per operand, to validate before `run`.
    pub fn extents(&self) -> [(isize, isize); 3] {
        let mut ext = [(isize::MAX, isize::MIN); 3];
        let mats = [[(self.m, self.a_rc.0), (self.k, self.a_rc.1)], [(self.k, self.b_rc.0), (self.n, self.b_rc.1)], [(self.m, self.c_rc.0), (self.n, self.c_rc.1)]];
        for base in self.bases_of(&self.batch) {
            for q in 0..3 {
                let (mut lo, mut hi) = (base[q], base[q]);
                for &(len, s) in &mats[q] {
                    let e = s * (len as isize - 1).max(0);
                    if e < 0 { lo += e } else { hi += e }
                }
                ext[q] = (ext[q].0.min(lo), ext[q].1.max(hi));
            }
        }
        ext
    }

    /// Plain loops for tiny products (dot products of the loss, 1x1
    /// contractions), where packing for sgemm costs more than the math.
    ///
    /// # Safety
    /// `extents` checked against the buffers; no other piece writes these outputs.
    unsafe fn run_naive(&self, a: &[f32], b: &[f32], c: SharedOut, [oa, ob, oc]: [isize; 3]) {
        for i in 0..self.m as isize {
            for j in 0..self.n as isize {
                let mut acc = 0f32;
                for p in 0..self.k as isize {
                    acc += a[(oa + i * self.a_rc.0 + p * self.a_rc.1) as usize] * b[(ob + p * self.b_rc.0 + j * self.b_rc.1) as usize];
                }
                unsafe { *c.at(oc + i * self.c_rc.0 + j * self.c_rc.1) = acc };
            }
        }
    }

    /// Matrix-vector products (m or n is 1) as eight dot products at a
    /// time along `lanes`, each the FMA chain sgemm computes for that
    /// element: the same bits without packing panels for a single column
    /// (a batch norm's per-channel sums ran 512 such sgemm calls of 64 x 16
    /// per step). Runs lanes `lanes` of batch entries `bases`.
    ///
    /// # Safety
    /// FMA must be available (`fma::available`); `extents` checked; no
    /// other piece writes these outputs.
    #[cfg_attr(target_arch = "x86_64", target_feature(enable = "fma"))]
    unsafe fn run_vector_fma(&self, a: &[f32], b: &[f32], c: SharedOut, bases: &[[isize; 3]], lanes: Range<usize>) {
        let Some((_, step)) = self.lanes else { return };
        let (ka, kb) = (self.a_rc.1, self.b_rc.0);
        const W: usize = 8;
        let len = lanes.end;
        // SAFETY (every unchecked read and write): the caller validated
        // `extents`, which covers each index below.
        for &[oa, ob, oc] in bases {
            let mut i = lanes.start;
            while i < len {
                let w = W.min(len - i);
                let mut acc = [0f32; W];
                let ra: [isize; W] = std::array::from_fn(|r| oa + (i + r.min(w - 1)) as isize * step[0]);
                let rb: [isize; W] = std::array::from_fn(|r| ob + (i + r.min(w - 1)) as isize * step[1]);
                for t in 0..self.k as isize {
                    for r in 0..W {
                        let (x, y) = unsafe { (*a.get_unchecked((ra[r] + t * ka) as usize), *b.get_unchecked((rb[r] + t * kb) as usize)) };
                        acc[r] = x.mul_add(y, acc[r]);
                    }
                }
                for (r, v) in acc[..w].iter().enumerate() {
                    // sgemm stores 1 * chain + 0 (so -0 becomes +0).
                    unsafe { *c.at(oc + (i + r) as isize * step[2]) = v + 0.0 };
                }
                i += w;
            }
        }
    }

    /// Dot products (m = n = 1) of batch entries `bases`, four at a time:
    /// independent chains overlap in the pipeline, and each keeps its own
    /// left-to-right order.
    ///
    /// # Safety
    /// As `run_naive`.
    unsafe fn run_dots(&self, a: &[f32], b: &[f32], c: SharedOut, bases: &[[isize; 3]]) {
        let (sa, sb) = (self.a_rc.1, self.b_rc.0);
        let quads = bases.chunks_exact(4);
        let k = self.k;
        for q in quads.clone() {
            let mut acc = [0.0f32; 4];
            if sa == 1 && sb == 1 {
                // Contiguous rows: slices of exactly k, so no bounds checks inside.
                let ra: [&[f32]; 4] = std::array::from_fn(|r| &a[q[r][0] as usize..][..k]);
                let rb: [&[f32]; 4] = std::array::from_fn(|r| &b[q[r][1] as usize..][..k]);
                for t in 0..k {
                    for r in 0..4 {
                        acc[r] += ra[r][t] * rb[r][t];
                    }
                }
            } else {
                for t in 0..k as isize {
                    for (r, [oa, ob, _]) in acc.iter_mut().zip(q) {
                        *r += a[(oa + t * sa) as usize] * b[(ob + t * sb) as usize];
                    }
                }
            }
            for (r, [_, _, oc]) in acc.iter().zip(q) {
                unsafe { *c.at(*oc) = *r };
            }
        }
        for &[oa, ob, oc] in quads.remainder() {
            let mut acc = 0.0f32;
            for t in 0..self.k as isize {
                acc += a[(oa + t * sa) as usize] * b[(ob + t * sb) as usize];
            }
            unsafe { *c.at(oc) = acc };
        }
    }

    /// One sgemm over rows `rows` (or, with `by_cols`, columns) of batch
    /// entry `[oa, ob, oc]`: splitting rows or columns changes no bit, as
    /// each element of C is the same chain of multiply-adds over k
    /// whichever tile computes it (matrixmultiply's edge tiles store alpha
    /// * chain + beta * C exactly as its full ones do for alpha 1, beta 0).
    ///
    /// # Safety
    /// As `run_naive`.
    unsafe fn run_sgemm(&self, a: &[f32], b: &[f32], c: SharedOut, [oa, ob, oc]: [isize; 3], part: Range<usize>, by_cols: bool) {
        let (mut oa, mut ob, mut oc) = (oa, ob, oc);
        let (mut m, mut n) = (self.m, self.n);
        let lo = part.start as isize;
        if by_cols {
            ob += lo * self.b_rc.1;
            oc += lo * self.c_rc.1;
            n = part.len();
        } else {
            oa += lo * self.a_rc.0;
            oc += lo * self.c_rc.0;
            m = part.len();
        }
        // SAFETY: Program::validate checked every offset these strides can
        // reach against the three buffers' lengths (`extents`), and C's
        // strides come from a contiguous layout so they never alias.
        unsafe {
            matrixmultiply::sgemm(
                m,
                self.k,
                n,
                1.0,
                a.as_ptr().offset(oa),
                self.a_rc.0,
                self.a_rc.1,
                b.as_ptr().offset(ob),
                self.b_rc.0,
                self.b_rc.1,
                0.0,
                c.at(oc),
                self.c_rc.0,
                self.c_rc.1,
            );
        }
    }

    /// C = A B for every batch entry, split across the pool's threads
    /// along batch entries, then rows or columns of C (never along k). The
    /// caller has checked `extents` against the buffer lengths.
    pub fn run(&self, a: &[f32], b: &[f32], c: &mut [f32]) {
        if self.k == 0 {
            c.fill(0.0);
            return;
        }
        let out = SharedOut(c.as_mut_ptr());
        let entries = self.bases.len();
        let work = self.m * self.n * self.k;
        // SAFETY (every call below): `extents` was checked by the caller,
        // and the pieces write disjoint outputs: distinct batch entries,
        // rows, columns or lanes of a contiguous C.
        if self.m == 1 && self.n == 1 {
            // Summing over an outer axis (a batch norm's sum over the batch):
            // run along the batch's contiguous inner dim instead, so the
            // reads are sequential and the loop vectorizes.
            let (sa, sb) = (self.a_rc.1, self.b_rc.0);
            if let Some((&(len, [1, 1, 1]), outer)) = self.batch.split_last()
                && (sa.unsigned_abs() >= len || sb.unsigned_abs() >= len)
            {
                let outer = self.bases_of(outer);
                let cuts = par::cuts(len, par::pieces(len * self.k * outer.len()), 16);
                par::for_each_range(&cuts, |part| {
                    for &[oa, ob, oc] in &outer {
                        let (oa, ob, oc) = (oa as usize + part.start, ob as usize + part.start, oc + part.start as isize);
                        // SAFETY: as above; this piece alone writes C[oc..oc + part.len()].
                        let out = unsafe { std::slice::from_raw_parts_mut(out.at(oc), part.len()) };
                        out.fill(0.0);
                        for t in 0..self.k as isize {
                            let (ra, rb) = ((oa as isize + t * sa) as usize, (ob as isize + t * sb) as usize);
                            for ((o, x), y) in out.iter_mut().zip(&a[ra..ra + part.len()]).zip(&b[rb..rb + part.len()]) {
                                *o += x * y;
                            }
                        }
                    }
                });
                return;
            }
            let cuts = par::cuts(entries, par::pieces(entries * self.k), 4);
            par::for_each_range(&cuts, |r| unsafe { self.run_dots(a, b, out, &self.bases[r]) });
            return;
        }
        if let Some((lanes, _)) = self.lanes {
            let k = par::pieces(work * entries);
            if entries >= k {
                let cuts = par::cuts(entries, k, 1);
                par::for_each_range(&cuts, |r| unsafe { self.run_vector_fma(a, b, out, &self.bases[r], 0..lanes) });
            } else {
                for base in &self.bases {
                    let cuts = par::cuts(lanes, par::pieces(work), 8);
                    par::for_each_range(&cuts, |r| unsafe { self.run_vector_fma(a, b, out, std::slice::from_ref(base), r) });
                }
            }
            return;
        }
        if work <= SMALL_GEMM {
            let cuts = par::cuts(entries, par::pieces(work * entries), 1);
            par::for_each_range(&cuts, |r| {
                for base in &self.bases[r] {
                    unsafe { self.run_naive(a, b, out, *base) };
                }
            });
            return;
        }
        let k = par::pieces(work * entries);
        if entries >= k {
            let cuts = par::cuts(entries, k, 1);
            par::for_each_range(&cuts, |r| {
                for base in &self.bases[r] {
                    unsafe { self.run_sgemm(a, b, out, *base, 0..self.m, false) };
                }
            });
            return;
        }
        // Fewer entries than pieces: cut each product's longer side of C
        // into tiles of whole microkernel panels.
        let by_cols = self.n > self.m;
        let side = if by_cols { self.n } else { self.m };
        let per_entry = k.div_ceil(entries);
        let cuts = par::cuts(side, per_entry, 16);
        let tasks: Vec<(usize, Range<usize>)> = (0..entries).flat_map(|e| cuts.windows(2).map(move |w| (e, w[0]..w[1]))).collect();
        let tcuts: Vec<usize> = (0..=tasks.len()).collect();
        par::for_each_range(&tcuts, |r| {
            for (e, part) in &tasks[r] {
                unsafe { self.run_sgemm(a, b, out, self.bases[*e], part.clone(), by_cols) };
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::view::contiguous_strides;

    fn view(shape: &[usize], strides: &[isize]) -> View {
        View { shape: shape.to_vec(), strides: strides.to_vec(), offset: 0, bounds: None }
    }

    /// The matrix-vector path gives sgemm's bits: random products of
    /// m x k times k x 1 (and 1 x k times k x n), odd sizes, strided A.
    #[test]
    fn vector_path_matches_sgemm_bit_for_bit() {
        if !fma::available() {
            return;
        }
        let mut rng = crate::check::Rng::new(7);
        for &(m, n, k) in &[(64, 1, 16), (37, 1, 23), (1, 45, 17), (1, 200, 256), (130, 1, 5), (9, 1, 255)] {
            // Logical [m, k, n] product; A is [m, k] stored transposed.
            let a: Vec<f32> = (0..m * k).map(|_| rng.normal() as f32).collect();
            let b: Vec<f32> = (0..k * n).map(|_| rng.normal() as f32).collect();
            let va = view(&[m, k, n], &[1, m as isize, 0]);
            let vb = view(&[m, k, n], &[0, n as isize, 1]);
            let plan = GemmPlan::new(&va, &vb, 1);
            assert!(m * n * k > SMALL_GEMM && (plan.m == 1 || plan.n == 1), "{m} {n} {k} takes the vector path");
            let mut got = vec![f32::NAN; m * n];
            plan.run(&a, &b, &mut got);
            let mut want = vec![f32::NAN; m * n];
            let cs = contiguous_strides(&[m, n]);
            // SAFETY: the strides address exactly the three buffers.
            unsafe {
                matrixmultiply::sgemm(m, k, n, 1.0, a.as_ptr(), 1, m as isize, b.as_ptr(), n as isize, 1, 0.0, want.as_mut_ptr(), cs[0], cs[1]);
            }
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&got), bits(&want), "{m} x {k} x {n}");
        }
    }
}
