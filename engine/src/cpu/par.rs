//! Splitting kernels across the shared thread pool (rayon's: the global one,
//! or whichever pool the caller runs the program in with `install`).
//!
//! Every kernel splits along its outputs only, never along a reduced axis:
//! each output element is computed by exactly the code, in exactly the
//! order, that computes it unsplit. A seeded run therefore gives the same
//! bits at any thread count.

use rayon::prelude::*;

/// Work (elements read or multiply-adds) below which a piece is not worth
/// handing to another thread: a few microseconds of kernel time, a few
/// times what handing a job to a busy pool costs (LeNet's step on 2
/// threads: 1.2x its 1-thread speed at 2^15, 1.4-1.7x at 2^13).
pub(crate) const MIN_WORK: usize = 1 << 13;

/// How many pieces to cut `work` into: at most one per thread of the
/// current pool, each at least `MIN_WORK`.
pub(crate) fn pieces(work: usize) -> usize {
    let threads = rayon::current_num_threads();
    if threads <= 1 {
        return 1;
    }
    (work / MIN_WORK).clamp(1, threads)
}

/// Boundaries `0 = c0 < c1 < ... = n` of `k` near-equal ranges, interior
/// ones rounded to multiples of `unit` (fewer ranges if `n` is short).
pub(crate) fn cuts(n: usize, k: usize, unit: usize) -> Vec<usize> {
    let unit = unit.max(1);
    let per = n.div_ceil(k.max(1)).div_ceil(unit) * unit;
    let mut c: Vec<usize> = (0..n).step_by(per.max(1)).collect();
    c.push(n);
    c
}

/// Run `f(lo, &mut out[lo..hi])` for each range `lo..hi` between
/// consecutive `cuts`, in parallel.
pub(crate) fn for_ranges(out: &mut [f32], cuts: &[usize], f: impl Fn(usize, &mut [f32]) + Sync) {
    if cuts.len() <= 2 {
        let (lo, hi) = (cuts.first().copied().unwrap_or(0), cuts.last().copied().unwrap_or(0));
        f(lo, &mut out[lo..hi]);
        return;
    }
    let mut parts = Vec::with_capacity(cuts.len() - 1);
    let mut rest = &mut out[cuts[0]..];
    for w in cuts.windows(2) {
        let (part, tail) = rest.split_at_mut(w[1] - w[0]);
        parts.push((w[0], part));
        rest = tail;
    }
    parts.into_par_iter().for_each(|(lo, part)| f(lo, part));
}

/// Run `f(range)` for each range between consecutive `cuts`, in parallel
/// (for kernels whose pieces write disjoint outputs through raw pointers).
pub(crate) fn for_each_range(cuts: &[usize], f: impl Fn(std::ops::Range<usize>) + Sync) {
    if cuts.len() <= 2 {
        f(cuts.first().copied().unwrap_or(0)..cuts.last().copied().unwrap_or(0));
        return;
    }
    cuts.par_windows(2).for_each(|w| f(w[0]..w[1]));
}

/// `rows` rows of `row_len` contiguous outputs, each row costing `row_work`:
/// `f(first_row, last_row, out_rows)` on near-equal pieces in parallel.
pub(crate) fn rows(out: &mut [f32], rows: usize, row_len: usize, row_work: usize, f: impl Fn(usize, usize, &mut [f32]) + Sync) {
    let k = pieces(rows.saturating_mul(row_work)).min(rows);
    if k <= 1 || row_len == 0 {
        f(0, rows, out);
        return;
    }
    let c: Vec<usize> = cuts(rows, k, 1).iter().map(|r| r * row_len).collect();
    for_ranges(&mut out[..rows * row_len], &c, |lo, part| f(lo / row_len, lo / row_len + part.len() / row_len, part));
}

/// A pointer that pieces share to write disjoint parts of one output.
#[derive(Clone, Copy)]
pub(crate) struct SharedOut(pub *mut f32);
// SAFETY: users write disjoint elements from each piece (documented at
// each use) and the buffer outlives the parallel call that borrows it.
unsafe impl Send for SharedOut {}
unsafe impl Sync for SharedOut {}

impl SharedOut {
    /// The element `i` places on (a method, so closures capture the whole
    /// `Sync` wrapper rather than its raw pointer field).
    #[inline(always)]
    pub(crate) fn at(self, i: isize) -> *mut f32 {
        self.0.wrapping_offset(i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_cover_the_range_in_units() {
        assert_eq!(cuts(10, 3, 1), vec![0, 4, 8, 10]);
        assert_eq!(cuts(100, 2, 16), vec![0, 64, 100]);
        assert_eq!(cuts(5, 8, 1), vec![0, 1, 2, 3, 4, 5]);
        assert_eq!(cuts(0, 2, 1), vec![0]);
    }

    #[test]
    fn ranges_write_each_element_once() {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(3).build().unwrap();
        let mut out = vec![0f32; 1000];
        pool.install(|| {
            for_ranges(&mut out, &cuts(1000, 3, 7), |lo, part| {
                for (j, o) in part.iter_mut().enumerate() {
                    *o += (lo + j) as f32;
                }
            })
        });
        assert!(out.iter().enumerate().all(|(i, &v)| v == i as f32));
        let got = std::sync::Mutex::new(vec![]);
        pool.install(|| {
            rows(&mut out, 100, 10, MIN_WORK, |a, b, part| {
                assert_eq!(part.len(), (b - a) * 10);
                got.lock().unwrap().push((a, b));
            })
        });
        let mut got = got.into_inner().unwrap();
        got.sort();
        assert_eq!(got, vec![(0, 34), (34, 68), (68, 100)]);
    }
}
