//! Reverse-mode autograd as a graph transformation: walks the forward graph
//! in reverse topological order and adds gradient nodes made of the same
//! primitive ops, so any executor of the forward graph (ours, luminal's GPU
//! compilers) can run the backward pass too.
//!
//! A gradient is kept as a [`Tensor`] (node + view) whose logical shape is the
//! *buffer* shape of the node it belongs to. Keeping views lazy matters: the
//! gradient of `sum_k(a*b)` is `expand(g) * b` summed over the broadcast axes
//! of `a`, which our CPU program recognizes as a GEMM again.
//!
//! Rules (x = input, y = output, g = incoming gradient):
//! add: g | mul: g*b, g*a | mod: g to a only | less_than: none |
//! log2: g/(x ln2) | exp2: g*y*ln2 | sin: g*sin(x+pi/2) | sqrt: g*0.5/y |
//! recip: -g*y*y | sum_reduce: expand g | max_reduce: g where x == max (all
//! ties get it) | contiguous: g. Views are undone in `view_backward`.

use std::collections::{HashMap, HashSet};
use std::f32::consts::{FRAC_PI_2, LN_2};

use luminal::op::{Add, LessThan, Mul, Operator, Recip, Sin, SumReduce};
use luminal::prelude::ShapeTracker;
use luminal::prelude::petgraph::{self, Direction, stable_graph::NodeIndex};

use super::view::{self, NO_END};
use super::{Dim, Graph, Prim, Tensor, contiguous_tracker};
use crate::error::EngineError;

impl Graph {
    /// Node with explicit output shape and no broadcasting checks (autograd
    /// builds shapes it already knows to match).
    fn raw<O: Operator + 'static>(&mut self, op: O, inputs: &[Tensor], shape: &[Dim]) -> Tensor {
        let id = self.node(op, inputs, shape.to_vec());
        Tensor { id, view: contiguous_tracker(shape) }
    }

    fn scalar_like(&mut self, v: f32, shape: &[Dim]) -> Tensor {
        let c = self.scalar(v);
        Tensor { id: c.id, view: ShapeTracker::fake(shape) }
    }

    /// Read `t` (logical numel equal to `shape`'s) as a contiguous `shape`.
    fn as_buffer(&mut self, t: Tensor, shape: &[Dim]) -> Tensor {
        let t = if view::is_plain(&t.view) { t } else { self.contiguous(t) };
        Tensor { id: t.id, view: contiguous_tracker(shape) }
    }

    /// Map a gradient in the logical space of view `t` back to the physical
    /// layout of the buffer `t` reads (shape `view::physical_shape(t)`).
    fn view_backward(&mut self, g: Tensor, t: &ShapeTracker) -> Result<Tensor, EngineError> {
        let n = t.dims.len();
        let mut cur = g;
        // 1. undo the permute: logical axis j becomes storage dim j.
        let mut inv = vec![0usize; n];
        for (k, &j) in t.indexes.iter().enumerate() {
            inv[j] = k;
        }
        cur.view.permute(&inv);
        // 2. undo pad (slice the gradient) and slice (pad the gradient).
        if view::has_bounds(t) {
            if view::has_bounds(&cur.view) {
                cur = self.contiguous(cur);
            }
            for j in 0..n {
                let num = |e: &Dim| e.to_usize().ok_or_else(|| EngineError::Shape(format!("symbolic pad/slice {e:?}")));
                let (p0, p1) = (num(&t.padding[j].0)?, num(&t.padding[j].1)?);
                let (s0, s1) = (num(&t.slices[j].0)?, num(&t.slices[j].1)?);
                if p0 == 0 && p1 == 0 && s0 == 0 && s1 == NO_END as usize {
                    continue;
                }
                let dim = num(&t.dims[j])?;
                let glen = num(&view::storage_len(t, j))?;
                // gradient index x (0..dim) reads g at x + p0 - s0
                let (gs0, gp0) = if p0 >= s0 { (p0 - s0, 0) } else { (0, s0 - p0) };
                let i = cur.view.indexes[j];
                if gs0 + dim <= glen + gp0 {
                    cur.view.padding[i] = (gp0.into(), 0usize.into());
                    cur.view.slices[i] = (gs0.into(), (gs0 + dim).into());
                } else {
                    let gp1 = gs0 + dim - (glen + gp0);
                    cur.view.padding[i] = (gp0.into(), gp1.into());
                    cur.view.slices[i] = (gs0.into(), NO_END.into());
                }
            }
        }
        // 3. sum over broadcast dims, highest first.
        for j in (0..n).rev().filter(|&j| t.fake[j]) {
            let mut s = view::logical_shape(&cur.view);
            s.remove(j);
            cur = self.raw(SumReduce(j), &[cur], &s);
        }
        Ok(cur)
    }

    fn accumulate(&mut self, grads: &mut HashMap<NodeIndex, Tensor>, src: NodeIndex, gs: Tensor) {
        let shape = self.buffer_shape(src).to_vec();
        let gs = if view::logical_shape(&gs.view) == shape { gs } else { self.as_buffer(gs, &shape) };
        let acc = match grads.remove(&src) {
            Some(prev) => self.raw(Add, &[prev, gs], &shape),
            None => gs,
        };
        grads.insert(src, acc);
    }

    /// Add gradient nodes of scalar `loss` with respect to each of `wrt`
    /// (leaves). Each gradient is a contiguous tensor of the leaf's shape, or
    /// `None` when the loss does not depend on that leaf.
    pub fn backward(&mut self, loss: Tensor, wrt: &[Tensor]) -> Result<Vec<Option<Tensor>>, EngineError> {
        let ls = self.shape(loss);
        if ls.iter().any(|d| d.to_usize() != Some(1)) {
            return Err(EngineError::Shape(format!("loss must have one element, has shape {ls:?}")));
        }
        if !view::is_plain(&loss.view) {
            return Err(EngineError::Shape("loss must be a plain node output".into()));
        }
        let order = petgraph::algo::toposort(&self.cx.graph, None).map_err(|_| EngineError::Cycle)?;
        let mut reaches_loss: HashSet<NodeIndex> = [loss.id].into();
        for &n in order.iter().rev() {
            if self.cx.graph.neighbors_directed(n, Direction::Outgoing).any(|d| reaches_loss.contains(&d)) {
                reaches_loss.insert(n);
            }
        }
        let mut from_wrt: HashSet<NodeIndex> = wrt.iter().map(|t| t.id).collect();
        for &n in order.iter() {
            if self.cx.graph.neighbors_directed(n, Direction::Incoming).any(|s| from_wrt.contains(&s)) {
                from_wrt.insert(n);
            }
        }
        let active: HashSet<NodeIndex> = reaches_loss.intersection(&from_wrt).copied().collect();

        let mut grads: HashMap<NodeIndex, Tensor> = HashMap::new();
        let lshape = self.buffer_shape(loss.id).to_vec();
        let seed = self.scalar_like(1.0, &lshape);
        grads.insert(loss.id, seed);

        for &n in order.iter().rev() {
            if !active.contains(&n) {
                continue;
            }
            let Some(&g) = grads.get(&n) else { continue };
            let op = self.cx.graph.node_weight(n).ok_or(EngineError::Cycle)?;
            let prim = Prim::of(op.as_ref()).ok_or_else(|| EngineError::Unsupported(format!("{op:?}")))?;
            let srcs = self.cx.get_sources(n);
            let os = self.buffer_shape(n).to_vec();
            let cg = contiguous_tracker(&os);
            let edge = |i: usize| Tensor { id: srcs[i].0, view: srcs[i].2 };
            let mut local: Vec<Option<Tensor>> = vec![None; srcs.len()];
            if prim.is_unary() {
                let x = Tensor { id: srcs[0].0, view: cg };
                let y = Tensor { id: n, view: cg };
                let d = match prim {
                    Prim::Log2 => {
                        let lx = self.scalar_like(LN_2, &os);
                        let xl = self.raw(Mul, &[x, lx], &os);
                        self.raw(Recip, &[xl], &os)
                    }
                    Prim::Exp2 => {
                        let l = self.scalar_like(LN_2, &os);
                        self.raw(Mul, &[y, l], &os)
                    }
                    Prim::Sin => {
                        let h = self.scalar_like(FRAC_PI_2, &os);
                        let xs = self.raw(Add, &[x, h], &os);
                        self.raw(Sin, &[xs], &os)
                    }
                    Prim::Sqrt => {
                        let r = self.raw(Recip, &[y], &os);
                        let h = self.scalar_like(0.5, &os);
                        self.raw(Mul, &[r, h], &os)
                    }
                    _ => {
                        let yy = self.raw(Mul, &[y, y], &os);
                        let m = self.scalar_like(-1.0, &os);
                        self.raw(Mul, &[yy, m], &os)
                    }
                };
                let gl = self.raw(Mul, &[g, d], &os);
                if active.contains(&srcs[0].0) {
                    self.accumulate(&mut grads, srcs[0].0, gl);
                }
                continue;
            }
            match prim {
                Prim::Add => local = vec![Some(g), Some(g)],
                Prim::Mul => local = vec![Some(self.raw(Mul, &[g, edge(1)], &os)), Some(self.raw(Mul, &[g, edge(0)], &os))],
                Prim::Mod => local[0] = Some(g),
                Prim::LessThan | Prim::Leaf | Prim::Constant => {}
                Prim::Contiguous => local[0] = Some(g),
                Prim::SumReduce(d) => {
                    let xs = view::logical_shape(&srcs[0].2);
                    let mut ge = g;
                    ge.view.expand(d, xs[d]);
                    local[0] = Some(ge);
                }
                Prim::MaxReduce(d) => {
                    let xs = view::logical_shape(&srcs[0].2);
                    let mut m = Tensor { id: n, view: cg };
                    m.view.expand(d, xs[d]);
                    let mut ge = g;
                    ge.view.expand(d, xs[d]);
                    let x = edge(0);
                    let l1 = self.raw(LessThan, &[x, m], &xs);
                    let l2 = self.raw(LessThan, &[m, x], &xs);
                    let s = self.raw(Add, &[l1, l2], &xs);
                    let neg = self.scalar_like(-1.0, &xs);
                    let ns = self.raw(Mul, &[s, neg], &xs);
                    let one = self.scalar_like(1.0, &xs);
                    let mask = self.raw(Add, &[ns, one], &xs);
                    local[0] = Some(self.raw(Mul, &[mask, ge], &xs));
                }
                _ => return Err(EngineError::Unsupported(format!("{prim:?}"))),
            }
            for (i, lg) in local.into_iter().enumerate() {
                let Some(lg) = lg else { continue };
                let (src, _, t) = srcs[i];
                if !active.contains(&src) {
                    continue;
                }
                let gs = self.view_backward(lg, &t)?;
                self.accumulate(&mut grads, src, gs);
            }
        }
        let mut out = Vec::with_capacity(wrt.len());
        for w in wrt {
            out.push(match grads.get(&w.id) {
                Some(&gr) => {
                    let shape = self.buffer_shape(w.id).to_vec();
                    let gr = if view::is_plain(&gr.view) { gr } else { self.contiguous(gr) };
                    Some(Tensor { id: gr.id, view: contiguous_tracker(&shape) })
                }
                None => None,
            });
        }
        Ok(out)
    }
}
