//! Views: our reading of luminal's `ShapeTracker`, and its resolution to
//! concrete strides once the dynamic dims are known.
//!
//! Per storage dim `i` a tracker holds `dims[i]`, `fake[i]` (broadcast),
//! `padding[i] = (p0, p1)` and `slices[i] = (s0, s1)`; `indexes` orders the
//! storage dims into logical axes. Our semantics (luminal's own
//! `index_expression` and `shape()` are wrong when a slice has a start and an
//! end or when pad and slice meet on one dim, so we never call them):
//! - logical length = `min(dims + p0 + p1, s1) - s0`
//! - logical index `d` reads physical `d + s0 - p0` of that dim, and reads 0
//!   when that is outside `0..dims`.

use luminal::prelude::ShapeTracker;

use luminal::prelude::symbolic::Term;

use super::Dim;

pub(crate) const NO_END: i32 = i32::MAX;

fn num(e: &Dim) -> Option<usize> {
    e.to_usize()
}

fn slice_end_unset(e: &Dim) -> bool {
    num(e) == Some(NO_END as usize)
}

fn is_zero(e: &Dim) -> bool {
    num(e) == Some(0)
}

/// Logical length of storage dim `i`.
pub fn storage_len(t: &ShapeTracker, i: usize) -> Dim {
    let (p0, p1) = t.padding[i];
    let (s0, s1) = t.slices[i];
    if !slice_end_unset(&s1) {
        // Builders keep s1 <= padded length, so the min is not needed.
        return s1 - s0;
    }
    let mut full = t.dims[i];
    if !is_zero(&p0) {
        full = full + p0;
    }
    if !is_zero(&p1) {
        full = full + p1;
    }
    if is_zero(&s0) { full } else { full - s0 }
}

pub fn logical_shape(t: &ShapeTracker) -> Vec<Dim> {
    t.indexes.iter().map(|&i| storage_len(t, i)).collect()
}

/// Non-fake storage dims in storage order: the shape of the physical buffer.
pub fn physical_shape(t: &ShapeTracker) -> Vec<Dim> {
    (0..t.dims.len()).filter(|&i| !t.fake[i]).map(|i| t.dims[i]).collect()
}

pub fn has_bounds(t: &ShapeTracker) -> bool {
    (0..t.dims.len()).any(|i| {
        let (p0, p1) = t.padding[i];
        let (s0, s1) = t.slices[i];
        !is_zero(&p0) || !is_zero(&p1) || !is_zero(&s0) || !slice_end_unset(&s1)
    })
}

/// True when the view reads its buffer as-is (no permute, broadcast, pad, slice).
pub fn is_plain(t: &ShapeTracker) -> bool {
    t.is_contiguous() && !has_bounds(t)
}

/// A view resolved to integers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct View {
    /// Logical shape.
    pub shape: Vec<usize>,
    /// Element stride per logical axis (0 for broadcast axes).
    pub strides: Vec<isize>,
    /// Physical offset of logical index 0 (may be negative with padding).
    pub offset: isize,
    /// Valid logical index range per axis; reads outside give 0. `None` when unbounded.
    pub bounds: Option<Vec<(usize, usize)>>,
}

impl View {
    pub fn contiguous(shape: &[usize]) -> View {
        View { shape: shape.to_vec(), strides: contiguous_strides(shape), offset: 0, bounds: None }
    }

    pub fn numel(&self) -> usize {
        self.shape.iter().product()
    }

    /// The part with indices `lo..hi` along axis `d` (a piece of a kernel
    /// split across threads).
    pub fn narrowed(&self, d: usize, lo: usize, hi: usize) -> View {
        let mut v = self.clone();
        v.shape[d] = hi - lo;
        v.offset += lo as isize * self.strides[d];
        if let Some(b) = &mut v.bounds {
            let (l, h) = b[d];
            b[d] = (l.clamp(lo, hi) - lo, h.clamp(lo, hi) - lo);
        }
        v
    }

    pub fn is_plain(&self) -> bool {
        self.bounds.is_none() && self.offset == 0 && self.strides == contiguous_strides(&self.shape)
    }

    /// True when every element reads the same physical element.
    pub fn is_scalar(&self) -> bool {
        self.bounds.is_none() && self.strides.iter().all(|&s| s == 0)
    }

    /// Physical index of a logical index, or None for a padded (zero) read.
    #[inline]
    pub fn index(&self, idx: &[usize]) -> Option<usize> {
        if let Some(b) = &self.bounds
            && idx.iter().zip(b).any(|(&d, &(lo, hi))| d < lo || d >= hi)
        {
            return None;
        }
        let mut o = self.offset;
        for (&d, &s) in idx.iter().zip(&self.strides) {
            o += d as isize * s;
        }
        Some(o as usize)
    }

    /// Reorder axes: new axis k is old axis `perm[k]`.
    pub fn permuted(&self, perm: &[usize]) -> View {
        View {
            shape: perm.iter().map(|&p| self.shape[p]).collect(),
            strides: perm.iter().map(|&p| self.strides[p]).collect(),
            offset: self.offset,
            bounds: self.bounds.as_ref().map(|b| perm.iter().map(|&p| b[p]).collect()),
        }
    }
}

pub fn contiguous_strides(shape: &[usize]) -> Vec<isize> {
    let mut s = vec![0isize; shape.len()];
    let mut acc = 1isize;
    for i in (0..shape.len()).rev() {
        s[i] = acc;
        acc *= shape[i] as isize;
    }
    s
}

/// Something that gives values to the dynamic dims.
pub trait DimEnv {
    fn eval(&self, d: &Dim) -> Option<usize>;
}

/// Resolve a tracker. Fails only when a dynamic dim has no value.
pub fn resolve(t: &ShapeTracker, env: &dyn DimEnv) -> Option<View> {
    let n = t.dims.len();
    let mut dims = Vec::with_capacity(n);
    for i in 0..n {
        dims.push(env.eval(&t.dims[i])?);
    }
    // Storage strides over the non-fake dims.
    let mut sstr = vec![0isize; n];
    let mut acc = 1isize;
    for i in (0..n).rev() {
        if !t.fake[i] {
            sstr[i] = acc;
            acc *= dims[i] as isize;
        }
    }
    let mut view = View { shape: vec![], strides: vec![], offset: 0, bounds: None };
    let mut bounds = vec![];
    let mut bounded = false;
    for &i in t.indexes.iter() {
        let len = env.eval(&storage_len(t, i))?;
        let p0 = env.eval(&t.padding[i].0)? as isize;
        let p1 = env.eval(&t.padding[i].1)?;
        let s0 = env.eval(&t.slices[i].0)? as isize;
        let shift = s0 - p0;
        view.shape.push(len);
        view.strides.push(sstr[i]);
        view.offset += shift * sstr[i];
        // valid iff 0 <= d + shift < dims[i]
        let lo = (-shift).max(0) as usize;
        let hi = (dims[i] as isize - shift).clamp(0, len as isize) as usize;
        if lo > 0 || hi < len || p1 > 0 {
            bounded = true;
        }
        bounds.push((lo.min(len), hi));
    }
    if bounded {
        view.bounds = Some(bounds);
    }
    Some(view)
}

/// Values of the dynamic dims, e.g. `[('B', 64)]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DimValues(pub Vec<(char, usize)>);

impl DimValues {
    pub fn get(&self, c: char) -> Option<usize> {
        self.0.iter().find(|(k, _)| *k == c).map(|&(_, v)| v)
    }
    pub fn set(&mut self, c: char, v: usize) {
        match self.0.iter_mut().find(|(k, _)| *k == c) {
            Some(e) => e.1 = v,
            None => self.0.push((c, v)),
        }
    }
}

/// Evaluate luminal's postfix expression terms (same stack order as luminal).
pub fn eval_terms<'a>(terms: impl IntoIterator<Item = &'a Term>, vals: &DimValues) -> Option<usize> {
    let mut st: Vec<i64> = Vec::with_capacity(8);
    for t in terms {
        match *t {
            Term::Num(n) => st.push(n as i64),
            Term::Var(c) => st.push(vals.get(c)? as i64),
            op => {
                let a = st.pop()?;
                let b = st.pop()?;
                st.push(match op {
                    Term::Add => a + b,
                    Term::Sub => a - b,
                    Term::Mul => a * b,
                    Term::Div => a.checked_div(b)?,
                    Term::Mod => a.checked_rem(b)?,
                    Term::Max => a.max(b),
                    Term::Min => a.min(b),
                    Term::And => (a != 0 && b != 0) as i64,
                    Term::Or => (a != 0 || b != 0) as i64,
                    Term::Gte => (a >= b) as i64,
                    Term::Lt => (a < b) as i64,
                    Term::Num(_) | Term::Var(_) => return None,
                });
            }
        }
    }
    let v = st.pop()?;
    usize::try_from(v).ok()
}

impl DimEnv for DimValues {
    fn eval(&self, d: &Dim) -> Option<usize> {
        eval_terms(d.terms.iter(), self)
    }
}
