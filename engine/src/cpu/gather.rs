//! Chains of copies, small sums and adds that only move and add elements of
//! one buffer (im2col and its col2im gradient: pads, slices, repeats,
//! permutes) are composed at plan time into one gather: every output element
//! is the sum of a list of source elements, most often of at most one. One
//! pass over the output replaces one materialized intermediate per view op.
//!
//! Results stay bit-identical to running the chain (up to the sign of a zero
//! sum: the chain adds the padding's +0): a composed row is summed left to
//! right, so a sum or add is only absorbed where the chain's own order was
//! the same left fold (see `Map::add`).

use super::fuse::{Group, Src};
use super::kernels::bounded_rows;
use crate::graph::Prim;
use crate::graph::view::View;

/// Longest reduced axis a gather absorbs: tap sums, not batch sums (those
/// stay contiguous, vectorized reductions, whose 8 accumulators would sum
/// in another order than a gather's left fold from 8 elements on).
const MAX_SUM_AXIS: usize = 7;

/// Sources one gather may read (15, so no entry is `u32::MAX`, the zero).
const MAX_SOURCES: usize = 15;
/// Elements per source a gather can address (the rest of a u32 holds the source).
const INDEX_BITS: u32 = 28;
const INDEX_MASK: u32 = (1 << INDEX_BITS) - 1;

/// Per output element, the source elements summed (CSR). An entry is
/// `slot << 32 | index`.
#[derive(Debug, Clone)]
pub(crate) struct Map {
    start: Vec<u32>,
    idx: Vec<u64>,
    /// Instead of `start`/`idx` while no row sums: one entry per row, NONE
    /// for an empty one (most im2col chains; far cheaper to compose). A map
    /// is CSR exactly when some row has more than one entry.
    one: Option<Vec<u64>>,
    /// Distinct source slots.
    srcs: Vec<usize>,
}

/// The compiled form: entries are `source << 28 | index`, with the sources
/// in `srcs`; a plain gather when no row sums.
#[derive(Debug, Clone)]
pub(crate) struct Gather {
    pub srcs: Vec<usize>,
    kind: Kind,
}

#[derive(Debug, Clone)]
enum Kind {
    /// One entry per output, `u32::MAX` for a zero.
    Single(Vec<u32>),
    Sum {
        start: Vec<u32>,
        idx: Vec<u32>,
    },
    /// Runs of outputs whose entries each step by a constant (one for a
    /// channel vector of a col2im tap or a row of an im2col window, a
    /// channel stride where a gather also transposes, zero for a
    /// broadcast): per run, strided slices are copied or added instead of
    /// looking up every element. `steps` is parallel to `first`.
    Runs {
        runs: Vec<Run>,
        first: Vec<u32>,
        steps: Vec<u32>,
    },
}

/// Outputs `out..out + len` sum, element `j`, the sources' elements
/// `first[e] + j * steps[e]` for e in `ents.0..ents.1` (none: zeros).
#[derive(Debug, Clone, Copy)]
struct Run {
    out: u32,
    len: u32,
    ents: (u32, u32),
    /// Every step is one (slice copies and adds).
    unit: bool,
}

/// Shortest mean run for which runs beat per-element lookups.
const MIN_MEAN_RUN: usize = 12;

impl Map {
    /// An empty map for `rows` rows, built one entry per row until a row
    /// sums (most chains never do: no CSR tables to fill and compact).
    fn new(rows: usize) -> Map {
        Map { start: vec![], idx: vec![], one: Some(Vec::with_capacity(rows)), srcs: vec![] }
    }

    /// Some row sums more than one entry.
    fn multi(&self) -> bool {
        self.one.is_none()
    }

    /// Append the next row: the entries of `head`, then those of `tail`.
    #[inline]
    fn push_row(&mut self, head: &[u64], tail: &[u64]) {
        if let Some(v) = &mut self.one {
            match (head, tail) {
                ([], []) => return v.push(NONE),
                ([e], []) | ([], [e]) => return v.push(*e),
                _ => self.switch_to_csr(),
            }
        }
        self.idx.extend_from_slice(head);
        self.idx.extend_from_slice(tail);
        self.start.push(self.idx.len() as u32);
    }

    /// Switch a one-entry-per-row map being built to CSR.
    fn switch_to_csr(&mut self) {
        let Some(v) = self.one.take() else { return };
        // Reserved address space costs nothing until written.
        self.start = Vec::with_capacity(v.capacity() + 1);
        self.idx = Vec::with_capacity(2 * v.capacity());
        self.start.push(0);
        for e in v {
            if e != NONE {
                self.idx.push(e);
            }
            self.start.push(self.idx.len() as u32);
        }
    }

    /// Record the sources; None when there are too many or too large ones.
    fn finish(mut self, inputs: &[(usize, Option<&Map>)]) -> Option<Map> {
        for (slot, m) in inputs {
            match m {
                Some(m) => self.srcs.extend_from_slice(&m.srcs),
                None => self.srcs.push(*slot),
            }
        }
        self.srcs.sort_unstable();
        self.srcs.dedup();
        let small = match &self.one {
            Some(v) => v.iter().all(|&e| e == NONE || (e as u32) <= INDEX_MASK),
            None => self.idx.iter().all(|&e| (e as u32) <= INDEX_MASK),
        };
        (self.srcs.len() <= MAX_SOURCES && small).then_some(self)
    }

    pub fn compile(self) -> Gather {
        let tag = |e: u64| -> u32 {
            let k = self.srcs.binary_search(&((e >> 32) as usize)).unwrap_or(0) as u32;
            k << INDEX_BITS | e as u32
        };
        let rows = self.one.as_ref().map_or(self.start.len().saturating_sub(1), |v| v.len());
        let kind = if let Some((runs, first, steps)) = self.runs(rows) {
            Kind::Runs { runs, first: first.iter().map(|&e| tag(e)).collect(), steps }
        } else {
            match &self.one {
                Some(v) => Kind::Single(v.iter().map(|&e| if e == NONE { u32::MAX } else { tag(e) }).collect()),
                None => Kind::Sum { start: self.start.clone(), idx: self.idx.iter().map(|&e| tag(e)).collect() },
            }
        };
        Gather { srcs: self.srcs, kind }
    }

    /// Split the rows into runs where row `r + 1`'s entries are row `r`'s
    /// plus a step per entry (same sources, same count), fixed by a run's
    /// second row; with each run's first entries and steps. None (stopping
    /// early) once the runs are too short on average.
    #[allow(clippy::type_complexity)]
    fn runs(&self, rows: usize) -> Option<(Vec<Run>, Vec<u64>, Vec<u32>)> {
        let (mut runs, mut first, mut steps): (Vec<Run>, Vec<u64>, Vec<u32>) = (vec![], vec![], vec![]);
        let mut prev: &[u64] = &[];
        for r in 0..rows {
            let cur = self.row(r);
            let extends = match runs.last_mut() {
                Some(run) if cur.len() == prev.len() => {
                    let (e0, e1) = (run.ents.0 as usize, run.ents.1 as usize);
                    if run.len == 1 {
                        // Same source, forward (or zero) steps within it.
                        let ok = cur.iter().zip(prev).all(|(&c, &p)| c >> 32 == p >> 32 && c >= p);
                        if ok {
                            for (d, (&c, &p)) in steps[e0..e1].iter_mut().zip(cur.iter().zip(prev)) {
                                *d = (c - p) as u32;
                            }
                            run.unit = steps[e0..e1].iter().all(|&d| d == 1);
                        }
                        ok
                    } else {
                        cur.iter().zip(prev).zip(&steps[e0..e1]).all(|((&c, &p), &d)| c == p + d as u64)
                    }
                }
                _ => false,
            };
            match runs.last_mut() {
                Some(run) if extends => run.len += 1,
                _ => {
                    if (runs.len() + 1) * MIN_MEAN_RUN > rows {
                        return None;
                    }
                    let e = first.len() as u32;
                    first.extend_from_slice(cur);
                    steps.resize(first.len(), 1);
                    runs.push(Run { out: r as u32, len: 1, ents: (e, first.len() as u32), unit: true });
                }
            }
            prev = cur;
        }
        Some((runs, first, steps))
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

/// The entries of row `i` of element list `l` (physical indices into
/// `slot`, -1 for a zero) read through `inp` (or directly).
#[inline]
fn row<'m>(l: &[i64], i: usize, (slot, inp): (usize, Option<&'m Map>), one: &'m mut [u64; 1]) -> &'m [u64] {
    let j = l[i];
    if j < 0 {
        return &[];
    }
    match inp {
        None => {
            one[0] = (slot as u64) << 32 | j as u64;
            &one[..]
        }
        Some(m) => m.row(j as usize),
    }
}

/// No entry (a zero) in a one-entry-per-row map.
const NONE: u64 = u64::MAX;

impl Map {
    /// Entries of row `j`.
    #[inline]
    fn row(&self, j: usize) -> &[u64] {
        match &self.one {
            Some(v) if v[j] == NONE => &[],
            Some(v) => std::slice::from_ref(&v[j]),
            None => &self.idx[self.start[j] as usize..self.start[j + 1] as usize],
        }
    }

    /// Row-wise `a + b` as one left fold, or None where that changes the
    /// order: `fold(a) + fold(b)` is `fold(a ++ b)` when b has at most one
    /// entry, and (addition commutes exactly) `fold(b ++ a)` when a has.
    fn add(n: usize, a: (&[i64], (usize, Option<&Map>)), b: (&[i64], (usize, Option<&Map>))) -> Option<Map> {
        let mut m = Map::new(n);
        let (mut oa, mut ob) = ([0u64], [0u64]);
        for i in 0..n {
            let ra = row(a.0, i, a.1, &mut oa);
            let rb = row(b.0, i, b.1, &mut ob);
            let (first, second) = if rb.len() <= 1 {
                (ra, rb)
            } else if ra.len() <= 1 {
                (rb, ra)
            } else {
                return None;
            };
            m.push_row(first, second);
        }
        m.finish(&[a.1, b.1])
    }
}

/// A kernel that only moves or adds elements, as the gather pass sees it.
pub(crate) enum Linear<'a> {
    Copy {
        a: usize,
        va: &'a View,
    },
    Sum {
        a: usize,
        va: &'a View,
        axis: usize,
    },
    Add {
        a: usize,
        va: &'a View,
        b: usize,
        vb: &'a View,
    },
    /// A fused tree of adds over `n` elements of plain buffers.
    Adds {
        group: &'a Group,
        n: usize,
    },
}

impl Linear<'_> {
    pub fn inputs(&self) -> Vec<usize> {
        match self {
            Linear::Copy { a, .. } | Linear::Sum { a, .. } => vec![*a],
            Linear::Add { a, b, .. } => vec![*a, *b],
            Linear::Adds { group, n } => {
                let mut v: Vec<usize> = group.reads(*n).into_iter().map(|r| r.0).collect();
                v.sort_unstable();
                v.dedup();
                v
            }
        }
    }

    /// An add of whole contiguous buffers: already one vectorized pass, so
    /// it only joins a chain that feeds it a composed gather (as the start
    /// of one, a transposing consumer would read it through an index table).
    pub fn flat_add(&self) -> bool {
        match self {
            Linear::Add { va, vb, .. } => va.is_plain() && vb.is_plain(),
            Linear::Adds { .. } => true,
            _ => false,
        }
    }

    /// Whether this kernel may take part at all.
    pub fn eligible(&self) -> bool {
        match self {
            Linear::Sum { va, axis, .. } => va.shape[*axis] <= MAX_SUM_AXIS,
            Linear::Adds { group, .. } => group.instrs.iter().all(|i| i.prim == Prim::Add),
            _ => true,
        }
    }

    /// Compose with the maps of its absorbed inputs (None = read directly),
    /// one per `inputs()`. None when the composition would change the
    /// summation order or read too many sources.
    pub fn compose(&self, maps: &[Option<&Map>]) -> Option<Map> {
        let ins: Vec<(usize, Option<&Map>)> = self.inputs().into_iter().zip(maps.iter().copied()).collect();
        match *self {
            Linear::Copy { va, .. } if ins[0].1.is_none_or(|m| !m.multi()) => {
                // One entry per row in, one out: an index lookup per element.
                let (slot, inp) = ins[0];
                let l = view_index(va);
                let v = l
                    .iter()
                    .map(|&j| match (j < 0, inp.and_then(|m| m.one.as_ref())) {
                        (true, _) => NONE,
                        (false, Some(one)) => one[j as usize],
                        (false, None) => (slot as u64) << 32 | j as u64,
                    })
                    .collect();
                Map { start: vec![], idx: vec![], one: Some(v), srcs: vec![] }.finish(&ins)
            }
            Linear::Copy { va, .. } => {
                let l = view_index(va);
                let mut m = Map::new(l.len());
                let mut one = [0u64];
                for i in 0..l.len() {
                    m.push_row(row(&l, i, ins[0], &mut one), &[]);
                }
                m.finish(&ins)
            }
            Linear::Sum { va, axis, .. } => {
                // A fold over t of single entries is one left fold.
                if ins[0].1.is_some_and(Map::multi) {
                    return None;
                }
                let l = view_index(va);
                let n = va.shape[axis];
                let inner: usize = va.shape[axis + 1..].iter().product();
                let outer: usize = va.shape[..axis].iter().product();
                let mut m = Map::new(outer * inner);
                let (mut one, mut row_buf) = ([0u64], vec![]);
                for o in 0..outer {
                    for i in 0..inner {
                        row_buf.clear();
                        for t in 0..n {
                            row_buf.extend_from_slice(row(&l, (o * n + t) * inner + i, ins[0], &mut one));
                        }
                        m.push_row(&row_buf, &[]);
                    }
                }
                m.finish(&ins)
            }
            Linear::Add { va, vb, .. } => {
                let (la, lb) = (view_index(va), view_index(vb));
                Map::add(la.len(), (&la, ins[0]), (&lb, ins[1]))
            }
            Linear::Adds { group, n } => {
                let plain: Vec<i64> = (0..n as i64).collect();
                let mut regs: Vec<Map> = vec![];
                for op in &group.instrs {
                    // An operand: a buffer (its absorbed map or read directly) or an earlier add.
                    let pick = |src: Src| -> Option<(usize, Option<&Map>)> {
                        match src {
                            Src::Buf(x) => ins.iter().find(|i| i.0 == x).copied(),
                            Src::Reg(r) => Some((usize::MAX, Some(regs.get(r)?))),
                            Src::Scalar(_) => None,
                        }
                    };
                    let m = Map::add(n, (&plain, pick(op.a)?), (&plain, pick(op.b?)?))?;
                    regs.push(m);
                }
                regs.pop()
            }
        }
    }
}

impl Gather {
    /// For each source (as in `srcs`), one past the largest index read.
    pub fn reads(&self) -> Vec<usize> {
        let mut need = vec![0usize; self.srcs.len()];
        let mut see = |e: u32| {
            if e != u32::MAX {
                let k = (e >> INDEX_BITS) as usize;
                need[k] = need[k].max((e & INDEX_MASK) as usize + 1);
            }
        };
        match &self.kind {
            Kind::Single(idx) => idx.iter().for_each(|&e| see(e)),
            Kind::Sum { idx, .. } => idx.iter().for_each(|&e| see(e)),
            Kind::Runs { runs, first, steps } => {
                for r in runs {
                    // A run's last element reads each first entry + (len - 1)
                    // steps: an entry of its last row, so within INDEX_MASK
                    // (`finish`) and no overflow into the source bits.
                    let ents = r.ents.0 as usize..r.ents.1 as usize;
                    first[ents.clone()].iter().zip(&steps[ents]).for_each(|(&e, &d)| see(e + (r.len - 1) * d));
                }
            }
        }
        need
    }

    pub fn len(&self) -> usize {
        match &self.kind {
            Kind::Single(idx) => idx.len(),
            Kind::Sum { start, .. } => start.len() - 1,
            Kind::Runs { runs, .. } => runs.last().map_or(0, |r| (r.out + r.len) as usize),
        }
    }

    pub fn sums(&self) -> bool {
        match &self.kind {
            Kind::Single(_) => false,
            Kind::Sum { .. } => true,
            Kind::Runs { runs, .. } => runs.iter().any(|r| r.ents.1 - r.ents.0 > 1),
        }
    }

    /// Index entries read (for profiles).
    pub fn entries(&self) -> usize {
        match &self.kind {
            Kind::Single(idx) | Kind::Sum { idx, .. } => idx.len(),
            Kind::Runs { first, .. } => first.len(),
        }
    }

    /// Number of runs, when compiled as runs.
    pub fn run_count(&self) -> Option<usize> {
        match &self.kind {
            Kind::Runs { runs, .. } => Some(runs.len()),
            _ => None,
        }
    }

    /// `bufs` are all the program's buffers; the sources are read from it.
    /// The caller has checked `reads()` against the sources' lengths.
    /// Split across the pool along outputs (whole runs for `Runs`).
    pub fn run(&self, bufs: &[Vec<f32>], out: &mut [f32]) {
        let n = self.len().min(out.len());
        let entries = match &self.kind {
            Kind::Single(idx) => idx.len(),
            Kind::Sum { idx, .. } => idx.len(),
            Kind::Runs { runs, first, .. } => runs.iter().map(|r| r.len as usize * (r.ents.1 - r.ents.0).max(1) as usize).sum::<usize>().max(first.len()),
        };
        let k = super::par::pieces(entries.max(n));
        let cuts = match &self.kind {
            _ if k <= 1 => vec![0, n],
            Kind::Runs { runs, .. } => {
                // Cut at the run starting nearest each even split.
                let mut c: Vec<usize> = super::par::cuts(n, k, 1).iter().map(|&o| runs.get(runs.partition_point(|r| (r.out as usize) < o)).map_or(n, |r| r.out as usize)).collect();
                c[0] = 0;
                *c.last_mut().unwrap_or(&mut 0) = n;
                c.dedup();
                c
            }
            _ => super::par::cuts(n, k, 1),
        };
        super::par::for_ranges(&mut out[..n], &cuts, |lo, part| self.run_part(bufs, lo, part));
    }

    /// Outputs `lo..lo + out.len()` (for `Runs`, a range of whole runs).
    fn run_part(&self, bufs: &[Vec<f32>], lo: usize, out: &mut [f32]) {
        let hi = lo + out.len();
        let src: Vec<&[f32]> = self.srcs.iter().map(|&s| bufs[s].as_slice()).collect();
        // SAFETY: every entry's source is < srcs.len() by construction
        // (`compile`) and its index < that source's length (`reads`,
        // checked by Program::validate before any run).
        let get = |e: u32| unsafe { *src.get_unchecked((e >> INDEX_BITS) as usize).get_unchecked((e & INDEX_MASK) as usize) };
        match &self.kind {
            Kind::Single(idx) if src.len() == 1 => {
                let s = src[0];
                for (o, &e) in out.iter_mut().zip(&idx[lo..hi]) {
                    // SAFETY: as above.
                    *o = if e == u32::MAX { 0.0 } else { unsafe { *s.get_unchecked((e & INDEX_MASK) as usize) } };
                }
            }
            Kind::Single(idx) => {
                for (o, &e) in out.iter_mut().zip(&idx[lo..hi]) {
                    *o = if e == u32::MAX { 0.0 } else { get(e) };
                }
            }
            Kind::Sum { start, idx } => {
                for (o, w) in out.iter_mut().zip(start[lo..=hi].windows(2)) {
                    let mut s = 0.0;
                    for &e in &idx[w[0] as usize..w[1] as usize] {
                        s += get(e);
                    }
                    *o = s;
                }
            }
            Kind::Runs { runs, first, steps } => {
                // SAFETY: as above, each run's slices end within their sources (`reads`).
                let slice = |e: u32, len: usize| unsafe {
                    let s = src.get_unchecked((e >> INDEX_BITS) as usize);
                    s.get_unchecked((e & INDEX_MASK) as usize..(e & INDEX_MASK) as usize + len)
                };
                // Element j of a strided run; SAFETY: as above (`reads` covers the last j).
                let at = |e: u32, d: u32, j: usize| unsafe { *src.get_unchecked((e >> INDEX_BITS) as usize).get_unchecked((e & INDEX_MASK) as usize + j * d as usize) };
                let (r0, r1) = (runs.partition_point(|r| (r.out as usize) < lo), runs.partition_point(|r| (r.out as usize) < hi));
                for r in &runs[r0..r1] {
                    let (len, o) = (r.len as usize, r.out as usize - lo);
                    let out = &mut out[o..o + len];
                    let ents = r.ents.0 as usize..r.ents.1 as usize;
                    let (ents, steps) = (&first[ents.clone()], &steps[ents]);
                    // Element-wise, the same left fold from +0 as `Sum`.
                    if ents.is_empty() {
                        out.fill(0.0);
                    } else if r.unit {
                        out.copy_from_slice(slice(ents[0], len));
                        for &e in &ents[1..] {
                            out.iter_mut().zip(slice(e, len)).for_each(|(o, x)| *o += x);
                        }
                    } else {
                        out.iter_mut().enumerate().for_each(|(j, o)| *o = at(ents[0], steps[0], j));
                        for (&e, &d) in ents[1..].iter().zip(&steps[1..]) {
                            out.iter_mut().enumerate().for_each(|(j, o)| *o += at(e, d, j));
                        }
                    }
                }
            }
        }
    }
}
