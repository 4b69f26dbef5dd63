//! Primitive ops and view ops on [`Graph`]. Everything else (activations,
//! losses, layers) is written in terms of these.

use luminal::op::{Add, Contiguous, Exp2, LessThan, Log2, MaxReduce, Mod, Mul, Recip, Sin, Sqrt, SumReduce};
use luminal::prelude::ShapeTracker;

use super::view::{self, NO_END};
use super::{Dim, Graph, Tensor, contiguous_tracker};
use crate::error::EngineError;

fn shape_err(msg: String) -> EngineError {
    EngineError::Shape(msg)
}

fn concrete(d: &Dim, what: &str) -> Result<usize, EngineError> {
    d.to_usize().ok_or_else(|| shape_err(format!("{what}: dim {d:?} must be concrete")))
}

impl Graph {
    // ---- primitive element-wise ops ----

    fn unary<O: luminal::op::Operator + 'static>(&mut self, op: O, a: Tensor) -> Tensor {
        // Unary ops map the physical buffer; a bounded view must be materialized
        // first or padded zeros would stay 0 instead of f(0).
        let a = if view::has_bounds(&a.view) { self.contiguous(a) } else { a };
        let shape = view::physical_shape(&a.view);
        let id = self.node(op, &[a], shape);
        Tensor { id, view: a.view }
    }

    pub fn log2(&mut self, a: Tensor) -> Tensor {
        self.unary(Log2, a)
    }
    pub fn exp2(&mut self, a: Tensor) -> Tensor {
        self.unary(Exp2, a)
    }
    pub fn sin(&mut self, a: Tensor) -> Tensor {
        self.unary(Sin, a)
    }
    pub fn sqrt(&mut self, a: Tensor) -> Tensor {
        self.unary(Sqrt, a)
    }
    pub fn recip(&mut self, a: Tensor) -> Tensor {
        self.unary(Recip, a)
    }

    /// Make two tensors the same logical shape: leading axes are added to the
    /// lower-rank one, and axes of length 1 are broadcast (numpy rules).
    pub fn broadcast_pair(&mut self, a: Tensor, b: Tensor) -> Result<(Tensor, Tensor), EngineError> {
        let (sa, sb) = (self.shape(a), self.shape(b));
        let rank = sa.len().max(sb.len());
        let pad_rank = |t: Tensor, s: &[Dim]| -> Vec<Dim> {
            let mut full: Vec<Dim> = vec![Dim::from(1usize); rank - s.len()];
            full.extend_from_slice(s);
            let _ = t;
            full
        };
        let (fa, fb) = (pad_rank(a, &sa), pad_rank(b, &sb));
        let mut target = Vec::with_capacity(rank);
        for k in 0..rank {
            let one = Dim::from(1usize);
            target.push(if fa[k] == fb[k] || fb[k] == one {
                fa[k]
            } else if fa[k] == one {
                fb[k]
            } else {
                return Err(shape_err(format!("cannot broadcast {sa:?} with {sb:?}")));
            });
        }
        Ok((self.broadcast_to(a, &target)?, self.broadcast_to(b, &target)?))
    }

    fn binary<O: luminal::op::Operator + 'static>(&mut self, op: O, a: Tensor, b: Tensor) -> Result<Tensor, EngineError> {
        let (a, b) = self.broadcast_pair(a, b)?;
        let shape = self.shape(a);
        let id = self.node(op, &[a, b], shape.clone());
        Ok(Tensor { id, view: contiguous_tracker(&shape) })
    }

    pub fn add(&mut self, a: Tensor, b: Tensor) -> Result<Tensor, EngineError> {
        self.binary(Add, a, b)
    }
    pub fn mul(&mut self, a: Tensor, b: Tensor) -> Result<Tensor, EngineError> {
        self.binary(Mul, a, b)
    }
    /// Floating remainder `a % b` (gradient flows to `a` only).
    pub fn modulo(&mut self, a: Tensor, b: Tensor) -> Result<Tensor, EngineError> {
        self.binary(Mod, a, b)
    }
    /// 1.0 where `a < b`, else 0.0 (no gradient).
    pub fn less_than(&mut self, a: Tensor, b: Tensor) -> Result<Tensor, EngineError> {
        self.binary(LessThan, a, b)
    }

    /// Materialize a view into a contiguous buffer.
    pub fn contiguous(&mut self, a: Tensor) -> Tensor {
        let shape = self.shape(a);
        let id = self.node(Contiguous, &[a], shape.clone());
        Tensor { id, view: contiguous_tracker(&shape) }
    }

    fn check_axis(&self, a: Tensor, axis: usize) -> Result<Vec<Dim>, EngineError> {
        let s = self.shape(a);
        if axis >= s.len() {
            return Err(shape_err(format!("axis {axis} out of range for shape {s:?}")));
        }
        Ok(s)
    }

    /// Sum over one axis (the axis is removed).
    pub fn sum_reduce(&mut self, a: Tensor, axis: usize) -> Result<Tensor, EngineError> {
        let mut s = self.check_axis(a, axis)?;
        s.remove(axis);
        let id = self.node(SumReduce(axis), &[a], s.clone());
        Ok(Tensor { id, view: contiguous_tracker(&s) })
    }

    /// Max over one axis (the axis is removed).
    pub fn max_reduce(&mut self, a: Tensor, axis: usize) -> Result<Tensor, EngineError> {
        let mut s = self.check_axis(a, axis)?;
        s.remove(axis);
        let id = self.node(MaxReduce(axis), &[a], s.clone());
        Ok(Tensor { id, view: contiguous_tracker(&s) })
    }

    // ---- view ops (no node, only a new tracker) ----

    /// New axis `k` is old axis `perm[k]`.
    pub fn permute(&mut self, a: Tensor, perm: &[usize]) -> Result<Tensor, EngineError> {
        let n = a.view.len();
        let mut seen = vec![false; n];
        if perm.len() != n || perm.iter().any(|&p| p >= n || std::mem::replace(&mut seen[p], true)) {
            return Err(shape_err(format!("bad permutation {perm:?} for rank {n}")));
        }
        let mut v = a.view;
        v.permute(perm);
        Ok(Tensor { id: a.id, view: v })
    }

    /// Insert a broadcast axis of length `len` at `axis`.
    pub fn expand(&mut self, a: Tensor, axis: usize, len: Dim) -> Result<Tensor, EngineError> {
        if axis > a.view.len() || a.view.len() >= 6 {
            return Err(shape_err(format!("cannot expand rank {} at axis {axis}", a.view.len())));
        }
        let mut v = a.view;
        v.expand(axis, len);
        Ok(Tensor { id: a.id, view: v })
    }

    /// Broadcast to `target` (numpy rules: new leading axes, length-1 axes stretched).
    pub fn broadcast_to(&mut self, a: Tensor, target: &[Dim]) -> Result<Tensor, EngineError> {
        let s = self.shape(a);
        if s.len() > target.len() {
            return Err(shape_err(format!("cannot broadcast {s:?} to {target:?}")));
        }
        let mut t = a;
        let lead = target.len() - s.len();
        for (k, d) in s.iter().enumerate() {
            let want = target[lead + k];
            if *d == want {
                continue;
            }
            if d.to_usize() != Some(1) {
                return Err(shape_err(format!("cannot broadcast {s:?} to {target:?}")));
            }
            // A length-1 storage dim with no pad/slice can simply become a broadcast dim.
            if view::has_bounds(&t.view) {
                t = self.contiguous(t);
            }
            let i = t.view.indexes[k];
            t.view.fake[i] = true;
            t.view.dims[i] = want;
        }
        for k in 0..lead {
            t = self.expand(t, k, target[k])?;
        }
        Ok(t)
    }

    /// Keep `start..end` of `axis` (concrete bounds).
    pub fn slice(&mut self, a: Tensor, axis: usize, start: usize, end: usize) -> Result<Tensor, EngineError> {
        let s = self.check_axis(a, axis)?;
        let len = concrete(&s[axis], "slice")?;
        if start > end || end > len {
            return Err(shape_err(format!("slice {start}..{end} out of range 0..{len}")));
        }
        let mut v = a.view;
        let i = v.indexes[axis];
        let s0 = concrete(&v.slices[i].0, "slice")?;
        v.slices[i] = ((s0 + start).into(), (s0 + end).into());
        Ok(Tensor { id: a.id, view: v })
    }

    /// Zero-pad `axis` with `before` and `after` elements.
    pub fn pad(&mut self, a: Tensor, axis: usize, before: usize, after: usize) -> Result<Tensor, EngineError> {
        self.check_axis(a, axis)?;
        let i = a.view.indexes[axis];
        // Padding composes with an earlier pad, not with a slice or a broadcast: materialize then.
        let sliced = a.view.slices[i].0.to_usize() != Some(0) || a.view.slices[i].1.to_usize() != Some(NO_END as usize);
        let mut t = if sliced || a.view.fake[i] { self.contiguous(a) } else { a };
        let i = t.view.indexes[axis];
        let (p0, p1) = t.view.padding[i];
        let (p0, p1) = (concrete(&p0, "pad")?, concrete(&p1, "pad")?);
        t.view.padding[i] = ((p0 + before).into(), (p1 + after).into());
        Ok(t)
    }

    /// Same elements in row-major order, new shape (materializes non-plain views).
    pub fn reshape(&mut self, a: Tensor, shape: &[Dim]) -> Result<Tensor, EngineError> {
        let old = self.shape(a);
        if !same_numel(&old, shape) {
            return Err(shape_err(format!("cannot reshape {old:?} to {shape:?}")));
        }
        let t = if view::is_plain(&a.view) { a } else { self.contiguous(a) };
        Ok(Tensor { id: t.id, view: ShapeTracker::new(shape) })
    }
}

/// Equal element counts, checked by evaluating both products at several
/// values of the dynamic dims (luminal's expressions do not normalize).
fn same_numel(a: &[Dim], b: &[Dim]) -> bool {
    [1usize, 2, 7, 64].iter().all(|&v| {
        let env = view::DimValues(vec![('B', v)]);
        let prod = |s: &[Dim]| s.iter().map(|d| view::DimEnv::eval(&env, d)).try_fold(1usize, |acc, x| Some(acc * x?));
        matches!((prod(a), prod(b)), (Some(x), Some(y)) if x == y)
    })
}
