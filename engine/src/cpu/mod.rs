//! Our CPU executor: the luminal graph (forward + autograd) is lowered once to
//! a flat program of kernels over our own buffers, then run step after step.
//!
//! Why a program of our own rather than swapping luminal ops for custom
//! `Operator`s: luminal's `execute()` re-walks the graph every step, copies
//! `set` inputs, returns stale outputs unless dropped, renumbers ids on every
//! compile pass and evaluates views through its (buggy) index expressions.
//! Lowering sidesteps all of that: views are resolved to integer strides once
//! per batch size, every buffer is preallocated and reused, parameters and
//! gradients are plain `Vec<f32>`s the optimizer can touch directly, and the
//! program is `Send` (the luminal graph is not), so training can run on a
//! worker thread. A GPU backend lowers the same primitive graph to its own
//! kernels.
//!
//! Lowering recognizes `SumReduce(Mul(a, b))` where the product has no other
//! consumer and both views are unbounded as a (batched) GEMM: that is how
//! both `matmul` and its gradients appear after autograd.

mod fuse;
mod gather;
mod kernels;
mod par;
pub(crate) mod strided;
pub mod threads;

use std::collections::HashMap;

use luminal::op::{Constant, ConstantValue};
use luminal::prelude::ShapeTracker;
use luminal::prelude::petgraph::{Direction, stable_graph::NodeIndex};

use crate::error::EngineError;
use crate::graph::reference::{dims_of, needed_nodes};
use crate::graph::view::{self, DimValues, View};
use crate::graph::{Dim, Graph, LeafKind, Prim};
use kernels::GemmPlan;

/// One lowered node.
#[derive(Debug, Clone)]
struct Step {
    prim: Prim,
    out: usize,
    /// (buffer slot, view) per input.
    inputs: Vec<(usize, ShapeTracker)>,
    shape: Vec<Dim>,
    constant: Option<ConstantValue>,
    /// For a fused GEMM: the product's two inputs, permuted into this
    /// reduction's axis order, and the reduced axis.
    gemm: Option<(usize, ShapeTracker, usize, ShapeTracker)>,
    /// Computed inside another kernel (a product inside its GEMM, an
    /// element-wise op inside a fused group): never runs, has no buffer.
    fused: bool,
    /// Root of a fused element-wise group.
    group: Option<fuse::Group>,
}

/// A step with its views resolved for the current dims.
#[derive(Debug, Clone)]
enum Kernel {
    Nop,
    Const { out: usize, value: f32 },
    Unary { prim: Prim, x: usize, out: usize },
    Binary { prim: Prim, a: usize, va: View, b: usize, vb: View, out: usize },
    Copy { a: usize, va: View, out: usize },
    Reduce { is_max: bool, a: usize, va: View, axis: usize, out: usize },
    Gemm { a: usize, b: usize, plan: GemmPlan, out: usize },
    Fused { group: fuse::Group, n: usize, out: usize },
    Gather { g: gather::Gather, out: usize },
}

/// A compiled program: buffers for every node and the kernels to fill them.
#[derive(Debug, Clone)]
pub struct Program {
    steps: Vec<Step>,
    slot: HashMap<NodeIndex, usize>,
    leaf_slots: Vec<(String, usize, Vec<Dim>, LeafKind)>,
    dims: Option<DimValues>,
    kernels: Vec<Kernel>,
    bufs: Vec<Vec<f32>>,
    /// Slots read from outside (outputs, leaves): never composed away.
    keep: Vec<bool>,
    /// Compose data-movement chains into gathers (on unless a test compares).
    compose: bool,
    /// Slots the current plan reads or writes (sized for its dims).
    uses: Vec<usize>,
    /// What the current kernels were planned for.
    planned: Option<PlanKey>,
    /// Earlier plans (what for, kernels, slots used): a training loop
    /// that alternates batch sizes and schedules (a last partial batch, an
    /// evaluation batch) does not compose its gathers again.
    plans: Vec<(PlanKey, Vec<Kernel>, Vec<usize>)>,
}

/// The dims and schedule a plan is for, how often it ran, and whether its
/// gathers are composed.
#[derive(Debug, Clone)]
struct PlanKey {
    dims: DimValues,
    which: Vec<usize>,
    runs: usize,
    composed: bool,
}

impl PlanKey {
    fn is_for(&self, dims: &DimValues, which: &[usize]) -> bool {
        self.dims == *dims && self.which == which
    }
}

/// Runs after which an occasional schedule's plan is composed: composing
/// an evaluation pass at batch 1000 costs about 35 of its runs (MNIST CNN,
/// 4.6 s against 0.13 s a run), so a short run's evaluation never pays it.
const COMPOSE_AFTER: usize = 64;

/// Plans kept besides the current one: training at two batch sizes,
/// evaluation at two, probes in both modes.
const KEPT_PLANS: usize = 6;

fn missing(d: &dyn std::fmt::Debug) -> EngineError {
    EngineError::MissingDim(format!("{d:?}"))
}

impl Program {
    /// Lower everything needed for `outputs`.
    pub fn new(g: &Graph, outputs: &[NodeIndex]) -> Result<Program, EngineError> {
        let order = needed_nodes(g, outputs)?;
        let gr = &g.cx.graph;
        let mut slot = HashMap::new();
        for (i, &n) in order.iter().enumerate() {
            slot.insert(n, i);
        }
        let consumers = |n: NodeIndex| gr.neighbors_directed(n, Direction::Outgoing).count();
        let mut steps = Vec::with_capacity(order.len());
        let mut fused_muls = vec![];
        for &n in &order {
            let op = gr.node_weight(n).ok_or(EngineError::Cycle)?;
            let prim = Prim::of(op.as_ref()).ok_or_else(|| EngineError::Unsupported(format!("{op:?}")))?;
            let srcs = g.cx.get_sources(n);
            let inputs = srcs.iter().map(|(s, _, t)| (slot[s], *t)).collect();
            let constant = op.as_any().downcast_ref::<Constant>().map(|c| c.0.clone());
            let mut gemm = None;
            if let Prim::SumReduce(_) = prim {
                let (m, _, t) = srcs[0];
                let mop = gr.node_weight(m).ok_or(EngineError::Cycle)?;
                // The reduction must read the product through a pure permutation
                // (not a reshape, broadcast, pad or slice).
                let perm_only = !view::has_bounds(&t) && t.fake.iter().all(|f| !f) && t.dims.iter().copied().eq(g.buffer_shape(m).iter().copied());
                if Prim::of(mop.as_ref()) == Some(Prim::Mul) && consumers(m) == 1 && !outputs.contains(&m) && perm_only {
                    let ms = g.cx.get_sources(m);
                    if ms.iter().all(|s| !view::has_bounds(&s.2)) {
                        let (mut ta, mut tb) = (ms[0].2, ms[1].2);
                        let perm: Vec<usize> = t.indexes.iter().copied().collect();
                        ta.permute(&perm);
                        tb.permute(&perm);
                        gemm = Some((slot[&ms[0].0], ta, slot[&ms[1].0], tb));
                        fused_muls.push(slot[&m]);
                    }
                }
            }
            steps.push(Step { prim, out: slot[&n], inputs, shape: g.buffer_shape(n).to_vec(), constant, gemm, fused: false, group: None });
        }
        // A product consumed only by its GEMM never runs.
        for s in fused_muls {
            steps[s].fused = true;
        }
        fuse_elementwise(g, &order, &mut steps, outputs);
        let leaf_slots = g.leaves().iter().filter_map(|l| slot.get(&l.id).map(|&s| (l.name.clone(), s, l.shape.clone(), l.kind.clone()))).collect();
        let bufs = vec![vec![]; steps.len()];
        let mut keep = vec![false; steps.len()];
        for o in outputs {
            keep[slot[o]] = true;
        }
        for l in &leaf_slots {
            let l: &(String, usize, Vec<Dim>, LeafKind) = l;
            keep[l.1] = true;
        }
        let mut p = Program { steps, slot, leaf_slots, dims: None, kernels: vec![], bufs, keep, compose: true, uses: vec![], planned: None, plans: vec![] };
        for (_, s, shape, kind) in &p.leaf_slots {
            let init = if let LeafKind::State(v) = kind { *v } else { 0.0 };
            if let LeafKind::Fixed(d) = kind {
                p.bufs[*s] = d.clone();
            } else if let Ok(dims) = dims_of(&DimValues::default(), shape) {
                p.bufs[*s] = vec![init; dims.iter().product()];
            }
        }
        Ok(p)
    }

    pub fn has_node(&self, id: NodeIndex) -> bool {
        self.slot.contains_key(&id)
    }

    /// Turn the composition of copy chains into gathers on or off (a
    /// comparison for tests; takes effect at the next run).
    pub fn set_compose(&mut self, on: bool) {
        self.compose = on;
        self.planned = None;
        self.plans.clear();
    }

    /// Current values of the dynamic dims.
    pub fn dims(&self) -> Option<&DimValues> {
        self.dims.as_ref()
    }

    /// Set the dynamic dims (e.g. `B`) and size the leaves (inputs) for
    /// them. Input buffers keep their contents only if their size did not
    /// change. Kernels are planned, and the buffers they use sized, when a
    /// schedule first runs at these dims (see `use_plan`).
    pub fn set_dims(&mut self, dims: &DimValues) -> Result<(), EngineError> {
        if self.dims.as_ref() == Some(dims) {
            return Ok(());
        }
        self.dims = Some(dims.clone());
        let leaves: Vec<usize> = self.leaf_slots.iter().map(|l| l.1).collect();
        self.size_buffers(&leaves)
    }

    /// Buffers `slots` at their lengths for the current dims. A buffer
    /// keeps its allocation when it shrinks: memory the kernel had to
    /// clear page by page on first touch (a good part of a first step's
    /// time) is reused when batch sizes alternate.
    fn size_buffers(&mut self, slots: &[usize]) -> Result<(), EngineError> {
        let dims = self.dims.clone().unwrap_or_default();
        for &s in slots {
            let st = &self.steps[s];
            let len = if st.fused { 0 } else { st.shape_len(&dims)? };
            self.bufs[st.out].resize(len, 0.0);
        }
        Ok(())
    }

    /// Make the kernels those planned for the current dims and the
    /// schedule `which`. Each schedule (training step, evaluation, probes)
    /// is planned on its own: an evaluation at a large batch plans only
    /// the forward pass, not the backward pass it never runs. Gathers are
    /// composed at once when `hot`, else once the plan has run
    /// `COMPOSE_AFTER` times (the same bits either way).
    fn use_plan(&mut self, which: &[usize], hot: bool) -> Result<(), EngineError> {
        let dims = self.dims.clone().unwrap_or_default();
        let compose_now = |k: &PlanKey| self.compose && !k.composed && (hot || k.runs >= COMPOSE_AFTER);
        if let Some(k) = self.planned.as_ref().filter(|k| k.is_for(&dims, which))
            && !compose_now(k)
        {
            return Ok(());
        }
        if let Some(k) = self.planned.take() {
            let kernels = std::mem::take(&mut self.kernels);
            self.plans.insert(0, (k, kernels, std::mem::take(&mut self.uses)));
        }
        let cached = self.plans.iter().position(|p| p.0.is_for(&dims, which)).map(|i| self.plans.remove(i));
        self.plans.truncate(KEPT_PLANS);
        let (key, kernels, uses) = match cached {
            Some((k, kernels, uses)) if !compose_now(&k) => (k, kernels, uses),
            cached => {
                let runs = cached.map_or(0, |c| c.0.runs);
                let mut kernels = self.plan(&dims, which)?;
                let composed = self.compose && (hot || runs >= COMPOSE_AFTER);
                if composed {
                    compose_gathers(&mut kernels, &self.keep);
                }
                let mut uses: Vec<usize> = kernels.iter().flat_map(|k| k.out().into_iter().chain(k.reads())).collect();
                uses.sort_unstable();
                uses.dedup();
                (PlanKey { dims, which: which.to_vec(), runs, composed }, kernels, uses)
            }
        };
        self.size_buffers(&uses)?;
        self.uses = uses;
        self.kernels = kernels;
        self.planned = Some(key);
        self.validate()
    }

    /// Resolve the views of the steps in `which` for `dims` into kernels
    /// (the others are `Nop`).
    fn plan(&self, dims: &DimValues, which: &[usize]) -> Result<Vec<Kernel>, EngineError> {
        let mut kernels = Vec::with_capacity(self.steps.len());
        let mut wanted = vec![false; self.steps.len()];
        for &i in which {
            if let Some(w) = wanted.get_mut(i) {
                *w = true;
            }
        }
        for (st, &wanted) in self.steps.iter().zip(&wanted) {
            if st.fused || !wanted {
                kernels.push(Kernel::Nop);
                continue;
            }
            let len = st.shape_len(dims)?;
            let res = |t: &ShapeTracker| view::resolve(t, dims).ok_or_else(|| missing(t));
            if let Some(group) = &st.group {
                kernels.push(Kernel::Fused { group: group.clone(), n: len, out: st.out });
                continue;
            }
            let k = match st.prim {
                Prim::Leaf => Kernel::Nop,
                Prim::Constant => {
                    let value = match &st.constant {
                        Some(ConstantValue::Float(v)) => *v,
                        Some(ConstantValue::Expression(e)) => view::eval_terms(e.terms.iter(), dims).ok_or_else(|| missing(e))? as f32,
                        None => 0.0,
                    };
                    Kernel::Const { out: st.out, value }
                }
                p if p.is_unary() => Kernel::Unary { prim: p, x: st.inputs[0].0, out: st.out },
                p if p.is_binary() => Kernel::Binary { prim: p, a: st.inputs[0].0, va: res(&st.inputs[0].1)?, b: st.inputs[1].0, vb: res(&st.inputs[1].1)?, out: st.out },
                Prim::Contiguous => Kernel::Copy { a: st.inputs[0].0, va: res(&st.inputs[0].1)?, out: st.out },
                Prim::SumReduce(axis) | Prim::MaxReduce(axis) => match &st.gemm {
                    Some((a, ta, b, tb)) => Kernel::Gemm { a: *a, b: *b, plan: GemmPlan::new(&res(ta)?, &res(tb)?, axis), out: st.out },
                    None => Kernel::Reduce { is_max: matches!(st.prim, Prim::MaxReduce(_)), a: st.inputs[0].0, va: res(&st.inputs[0].1)?, axis, out: st.out },
                },
                _ => return Err(EngineError::Unsupported(format!("{:?}", st.prim))),
            };
            kernels.push(k);
        }
        Ok(kernels)
    }

    /// Check every view against its buffer once, so kernels may index freely
    /// and GEMM may use raw pointers.
    fn validate(&self) -> Result<(), EngineError> {
        let bad = |what: &str| Err(EngineError::Shape(format!("internal: {what} reads outside its buffer")));
        let len = |s: usize| self.bufs[s].len();
        for k in &self.kernels {
            match k {
                Kernel::Binary { a, va, b, vb, out, .. } => {
                    if !strided::fits(va, len(*a)) || !strided::fits(vb, len(*b)) || va.numel() > len(*out) {
                        return bad("binary");
                    }
                }
                Kernel::Copy { a, va, out } => {
                    if !strided::fits(va, len(*a)) || va.numel() > len(*out) {
                        return bad("copy");
                    }
                }
                Kernel::Reduce { a, va, .. } => {
                    if !strided::fits(va, len(*a)) {
                        return bad("reduce");
                    }
                }
                Kernel::Gemm { a, b, plan, out } => {
                    let e = plan.extents();
                    for (q, s) in [*a, *b, *out].iter().enumerate() {
                        if e[q].0 <= e[q].1 && (e[q].0 < 0 || e[q].1 as usize >= len(*s)) {
                            return bad("gemm");
                        }
                    }
                }
                Kernel::Unary { x, out, .. } => {
                    if len(*x) > len(*out) {
                        return bad("unary");
                    }
                }
                Kernel::Fused { group, n, out, .. } => {
                    if len(*out) < *n || group.reads(*n).iter().any(|&(s, need)| len(s) < need) {
                        return bad("fused");
                    }
                }
                Kernel::Gather { g, out } => {
                    if g.srcs.iter().zip(g.reads()).any(|(&s, need)| need > len(s)) || g.len() > len(*out) {
                        return bad("gather");
                    }
                }
                Kernel::Nop | Kernel::Const { .. } => {}
            }
        }
        Ok(())
    }

    /// Run every kernel.
    pub fn run(&mut self) -> Result<(), EngineError> {
        let all: Vec<usize> = (0..self.steps.len()).collect();
        self.run_subset(&all)
    }

    /// Kernel indices needed for `outputs` (for forward-only evaluation).
    pub fn schedule_for(&self, outputs: &[NodeIndex]) -> Vec<usize> {
        let mut need = vec![false; self.steps.len()];
        for o in outputs {
            if let Some(&s) = self.slot.get(o) {
                need[s] = true;
            }
        }
        for i in (0..self.steps.len()).rev() {
            if need[i] {
                for (s, _) in &self.steps[i].inputs {
                    need[*s] = true;
                }
                if let Some((a, _, b, _)) = &self.steps[i].gemm {
                    need[*a] = true;
                    need[*b] = true;
                }
            }
        }
        (0..self.steps.len()).filter(|&i| need[i]).collect()
    }

    /// Run the given kernels in order, each split across the thread pool
    /// where it is big enough (see `par`), composed at once (for schedules
    /// run again and again: training steps).
    pub fn run_subset(&mut self, which: &[usize]) -> Result<(), EngineError> {
        self.run_schedule(which, true)
    }

    /// `run_subset` for a schedule run now and then (evaluation, probes):
    /// composed only once it has run `COMPOSE_AFTER` times.
    pub fn run_occasional(&mut self, which: &[usize]) -> Result<(), EngineError> {
        self.run_schedule(which, false)
    }

    fn run_schedule(&mut self, which: &[usize], hot: bool) -> Result<(), EngineError> {
        if self.dims.is_none() {
            self.set_dims(&DimValues::default())?;
        }
        self.use_plan(which, hot)?;
        if let Some(k) = &mut self.planned {
            k.runs += 1;
        }
        self.run_planned(which);
        Ok(())
    }

    /// Run kernels `which` of the current plan.
    fn run_planned(&mut self, which: &[usize]) {
        let (kernels, bufs) = (&self.kernels, &mut self.bufs);
        // Run on a pool thread, so each kernel's pieces are handed out by
        // work stealing instead of waking the pool from outside per kernel.
        rayon::scope(|_| {
            for &i in which {
                let Some(k) = kernels.get(i) else { continue };
                let Some(out_slot) = k.out() else { continue };
                let mut out = std::mem::take(&mut bufs[out_slot]);
                k.run(bufs, &mut out);
                bufs[out_slot] = out;
            }
        });
    }

    /// A node's buffer (empty if the node is not part of this program).
    pub fn buffer(&self, id: NodeIndex) -> &[f32] {
        self.slot.get(&id).map(|&s| self.bufs[s].as_slice()).unwrap_or(&[])
    }

    /// Mutable buffer of leaf `write` and shared buffer of node `read` at
    /// once (a parameter and its gradient). None if either is missing or
    /// they are the same buffer.
    pub fn leaf_and_node_mut(&mut self, write: NodeIndex, read: NodeIndex) -> Option<(&mut [f32], &[f32])> {
        let (w, r) = (*self.slot.get(&write)?, *self.slot.get(&read)?);
        if w == r || !self.leaf_slots.iter().any(|l| l.1 == w) {
            return None;
        }
        if w < r {
            let (lo, hi) = self.bufs.split_at_mut(r);
            Some((lo[w].as_mut_slice(), hi[0].as_slice()))
        } else {
            let (lo, hi) = self.bufs.split_at_mut(w);
            Some((hi[0].as_mut_slice(), lo[r].as_slice()))
        }
    }

    /// A leaf's buffer for writing (parameters, inputs, state).
    /// A slice, not the Vec: buffer lengths are fixed between `set_dims`
    /// calls (GEMM relies on the lengths validated there).
    pub fn leaf_buffer_mut(&mut self, id: NodeIndex) -> Option<&mut [f32]> {
        let s = *self.slot.get(&id)?;
        self.leaf_slots.iter().any(|l| l.1 == s).then(|| self.bufs[s].as_mut_slice())
    }

    /// Copy `data` into a leaf, checking its length against the current dims.
    pub fn set_leaf(&mut self, id: NodeIndex, data: &[f32]) -> Result<(), EngineError> {
        let dims = self.dims.clone().unwrap_or_default();
        let Some(&s) = self.slot.get(&id) else { return Ok(()) };
        let Some((name, _, shape, _)) = self.leaf_slots.iter().find(|l| l.1 == s) else {
            return Err(EngineError::UnknownName(format!("{id:?}")));
        };
        let n: usize = dims_of(&dims, shape)?.iter().product();
        if data.len() != n {
            return Err(EngineError::BadInput { name: name.clone(), msg: format!("{} values, expected {n}", data.len()) });
        }
        self.bufs[s].clear();
        self.bufs[s].extend_from_slice(data);
        Ok(())
    }
}

impl Step {
    fn shape_len(&self, dims: &DimValues) -> Result<usize, EngineError> {
        Ok(dims_of(dims, &self.shape)?.iter().product())
    }
}

impl Program {
    /// Number of kernels that run as GEMM (for tests and reports).
    pub fn gemm_count(&self) -> usize {
        self.kernels.iter().filter(|k| matches!(k, Kernel::Gemm { .. })).count()
    }
    /// Number of fused element-wise kernels.
    pub fn fused_count(&self) -> usize {
        self.kernels.iter().filter(|k| matches!(k, Kernel::Fused { .. })).count()
    }
    /// Number of composed gathers.
    pub fn gather_count(&self) -> usize {
        self.kernels.iter().filter(|k| matches!(k, Kernel::Gather { .. })).count()
    }
    /// Number of kernels that do work.
    pub fn kernel_count(&self) -> usize {
        self.kernels.iter().filter(|k| !matches!(k, Kernel::Nop)).count()
    }
}

impl Program {
    /// Run every kernel of the last plan run (all kernels if none ran
    /// yet) `reps` times, timing each: (description, mean seconds per
    /// run), slowest first.
    pub fn profile(&mut self, reps: usize) -> Result<Vec<(String, f64)>, EngineError> {
        if self.planned.is_none() {
            self.run()?;
        }
        let mut out: Vec<(String, f64)> = vec![];
        let mut times = vec![0f64; self.kernels.len()];
        for _ in 0..reps.max(1) {
            for (i, t) in times.iter_mut().enumerate() {
                let t0 = std::time::Instant::now();
                self.run_planned(&[i]);
                *t += t0.elapsed().as_secs_f64() / reps.max(1) as f64;
            }
        }
        for i in 0..self.kernels.len() {
            let desc = match &self.kernels[i] {
                Kernel::Nop => continue,
                Kernel::Const { .. } => "const".to_string(),
                Kernel::Unary { prim, x, .. } => format!("{prim:?} n={}", self.bufs[*x].len()),
                Kernel::Binary { prim, va, vb, .. } => format!(
                    "{prim:?} {:?} a{:?}{} b{:?}{}",
                    va.shape,
                    va.strides,
                    if va.bounds.is_some() { "B" } else { "" },
                    vb.strides,
                    if vb.bounds.is_some() { "B" } else { "" }
                ),
                Kernel::Copy { va, .. } => format!("copy {:?} {:?}{}", va.shape, va.strides, if va.bounds.is_some() { " bounded" } else { "" }),
                Kernel::Reduce { is_max, va, axis, .. } => {
                    format!("{} {:?} {:?} axis {axis}{}", if *is_max { "max" } else { "sum" }, va.shape, va.strides, if va.bounds.is_some() { " bounded" } else { "" })
                }
                Kernel::Gemm { plan, .. } => format!("gemm m{} n{} k{} batch {:?}", plan.m, plan.n, plan.k, plan.batch),
                Kernel::Fused { group, n, .. } => format!("fused {:?} n={n}", group.instrs.iter().map(|i| i.prim).collect::<Vec<_>>()),
                Kernel::Gather { g, .. } => {
                    let runs = g.run_count().map(|r| format!(" in {r} runs")).unwrap_or_default();
                    format!("gather{} n={} from {}, {} entries{runs}", if g.sums() { "-sum" } else { "" }, g.len(), g.srcs.len(), g.entries())
                }
            };
            out.push((desc, times[i]));
        }
        out.sort_by(|a, b| b.1.total_cmp(&a.1));
        Ok(out)
    }
}

/// A step whose output is a flat element-wise function of flat inputs.
fn is_flat(steps: &[Step], s: usize) -> bool {
    let st = &steps[s];
    if st.fused || st.gemm.is_some() {
        return false;
    }
    if st.prim.is_unary() {
        return true;
    }
    st.prim.is_binary() && st.inputs.iter().all(|(src, t)| view::is_plain(t) || (steps[*src].shape.is_empty() && t.fake.iter().all(|&f| f) && !view::has_bounds(t)))
}

/// Mark flat element-wise steps with one consumer that is itself flat as
/// members of the consumer's fused group, and build each group's program.
fn fuse_elementwise(g: &Graph, order: &[NodeIndex], steps: &mut [Step], outputs: &[NodeIndex]) {
    let gr = &g.cx.graph;
    let n = steps.len();
    let mut member = vec![false; n];
    for s in 0..n {
        let node = order[s];
        if !is_flat(steps, s) || outputs.contains(&node) || gr.edges_directed(node, Direction::Outgoing).count() != 1 {
            continue;
        }
        let Some(c) = gr.neighbors_directed(node, Direction::Outgoing).next() else { continue };
        let Some(cs) = order.iter().position(|&o| o == c) else { continue };
        let edge_plain = steps[cs].prim.is_unary() || steps[cs].inputs.iter().any(|(src, t)| *src == s && view::is_plain(t));
        if is_flat(steps, cs) && edge_plain {
            member[s] = true;
        }
    }
    for root in 0..n {
        if member[root] || !is_flat(steps, root) || !steps[root].inputs.iter().any(|(src, _)| member[*src]) {
            continue;
        }
        let mut instrs = vec![];
        let mut reg_of = std::collections::HashMap::new();
        emit(steps, &member, root, &mut instrs, &mut reg_of);
        steps[root].group = Some(fuse::Group { instrs });
    }
    for (s, m) in member.iter().enumerate() {
        if *m {
            steps[s].fused = true;
        }
    }
}

/// Post-order emission of a group's instructions; returns the result's register.
fn emit(steps: &[Step], member: &[bool], s: usize, instrs: &mut Vec<fuse::Instr>, reg_of: &mut std::collections::HashMap<usize, usize>) -> usize {
    let st = &steps[s];
    let mut srcs = vec![];
    for (src, _) in &st.inputs {
        srcs.push(if member[*src] {
            let r = match reg_of.get(src) {
                Some(&r) => r,
                None => emit(steps, member, *src, instrs, reg_of),
            };
            fuse::Src::Reg(r)
        } else if steps[*src].shape.is_empty() {
            fuse::Src::Scalar(*src)
        } else {
            fuse::Src::Buf(*src)
        });
    }
    instrs.push(fuse::Instr { prim: st.prim, a: srcs[0], b: srcs.get(1).copied() });
    reg_of.insert(s, instrs.len() - 1);
    instrs.len() - 1
}

impl Kernel {
    /// Fill `out` (this kernel's output buffer) from `b`, the program's buffers.
    fn run(&self, b: &[Vec<f32>], out: &mut [f32]) {
        match self {
            Kernel::Nop => {}
            Kernel::Const { value, .. } => out.fill(*value),
            Kernel::Unary { prim, x, .. } => {
                let x = &b[*x];
                let n = x.len().min(out.len());
                par::rows(&mut out[..n], n, 1, 1, |lo, hi, part| kernels::unary(*prim, &x[lo..hi], part));
            }
            Kernel::Binary { prim, a, va, b: bb, vb, .. } => {
                let (a, bb) = (&b[*a], &b[*bb]);
                split_view(va, None, out, |d, lo, hi, part| match d {
                    Some(d) => kernels::binary(*prim, a, &va.narrowed(d, lo, hi), bb, &vb.narrowed(d, lo, hi), part),
                    None => kernels::binary(*prim, a, va, bb, vb, part),
                });
            }
            Kernel::Copy { a, va, .. } => {
                let a = &b[*a];
                split_view(va, None, out, |d, lo, hi, part| match d {
                    Some(d) => kernels::copy(a, &va.narrowed(d, lo, hi), part),
                    None => kernels::copy(a, va, part),
                });
            }
            Kernel::Reduce { is_max, a, va, axis, .. } => {
                let a = &b[*a];
                split_view(va, Some(*axis), out, |d, lo, hi, part| match d {
                    Some(d) => kernels::reduce(*is_max, a, &va.narrowed(d, lo, hi), *axis, part),
                    None => kernels::reduce(*is_max, a, va, *axis, part),
                });
            }
            Kernel::Gemm { a, b: bb, plan, .. } => plan.run(&b[*a], &b[*bb], out),
            Kernel::Fused { group, n, .. } => {
                let per = group.instrs.len();
                par::rows(&mut out[..*n], *n, 1, per, |lo, _, part| group.run(b, lo, part));
            }
            Kernel::Gather { g, .. } => g.run(b, out),
        }
    }

    /// The kernel as a pure data movement (copy, small sum, add), if it is one.
    fn linear(&self) -> Option<gather::Linear<'_>> {
        let l = match self {
            Kernel::Copy { a, va, .. } => gather::Linear::Copy { a: *a, va },
            Kernel::Reduce { is_max: false, a, va, axis, .. } => gather::Linear::Sum { a: *a, va, axis: *axis },
            Kernel::Binary { prim: Prim::Add, a, va, b, vb, .. } => gather::Linear::Add { a: *a, va, b: *b, vb },
            Kernel::Fused { group, n, .. } => gather::Linear::Adds { group, n: *n },
            _ => return None,
        };
        l.eligible().then_some(l)
    }

    fn out(&self) -> Option<usize> {
        match self {
            Kernel::Nop => None,
            Kernel::Const { out, .. }
            | Kernel::Unary { out, .. }
            | Kernel::Binary { out, .. }
            | Kernel::Copy { out, .. }
            | Kernel::Reduce { out, .. }
            | Kernel::Gemm { out, .. }
            | Kernel::Fused { out, .. }
            | Kernel::Gather { out, .. } => Some(*out),
        }
    }

    /// Buffer slots this kernel reads.
    fn reads(&self) -> Vec<usize> {
        match self {
            Kernel::Nop | Kernel::Const { .. } => vec![],
            Kernel::Unary { x, .. } => vec![*x],
            Kernel::Binary { a, b, .. } | Kernel::Gemm { a, b, .. } => vec![*a, *b],
            Kernel::Copy { a, .. } | Kernel::Reduce { a, .. } => vec![*a],
            Kernel::Gather { g, .. } => g.srcs.clone(),
            Kernel::Fused { group, n, .. } => group.reads(*n).into_iter().map(|r| r.0).collect(),
        }
    }
}

/// Run `f(axis, lo, hi, out_part)` on pieces of a kernel whose contiguous
/// output spans `v`'s logical shape (without `reduced`): split along the
/// outermost axis longer than one, whose pieces own contiguous outputs
/// (`None`: one piece, the whole view).
fn split_view(v: &View, reduced: Option<usize>, out: &mut [f32], f: impl Fn(Option<usize>, usize, usize, &mut [f32]) + Sync) {
    let Some(d) = (0..v.shape.len()).find(|&d| Some(d) != reduced && v.shape[d] > 1) else {
        return f(None, 0, 0, out);
    };
    let inner: usize = (d + 1..v.shape.len()).filter(|&e| Some(e) != reduced).map(|e| v.shape[e]).product();
    let work = reduced.map_or(1, |r| v.shape[r]) * inner;
    if par::pieces(v.shape[d] * work) <= 1 {
        return f(None, 0, 0, out);
    }
    par::rows(out, v.shape[d], inner, work, |lo, hi, part| f(Some(d), lo, hi, part));
}

/// Replace chains of data-movement kernels whose intermediates have one
/// reader by one gather each (see `gather`).
fn compose_gathers(kernels: &mut [Kernel], keep: &[bool]) {
    let n = kernels.len();
    let mut producer = HashMap::new();
    let mut readers: HashMap<usize, Vec<usize>> = HashMap::new();
    for (k, kern) in kernels.iter().enumerate() {
        if let Some(o) = kern.out() {
            producer.insert(o, k);
        }
        for r in kern.reads() {
            let v = readers.entry(r).or_default();
            if v.last() != Some(&k) {
                v.push(k);
            }
        }
    }
    let linear: Vec<bool> = kernels.iter().map(|k| k.linear().is_some()).collect();
    // Slot x may be absorbed into kernel k: a data-movement kernel made it
    // for k alone.
    let absorbable = |x: usize, k: usize| !keep[x] && readers.get(&x).is_some_and(|r| r.as_slice() == [k]) && producer.get(&x).is_some_and(|&p| linear[p]);
    // Composed so far: kernel -> (map, whether it absorbed another).
    let mut maps: HashMap<usize, (gather::Map, bool)> = HashMap::new();
    let mut absorbed = vec![false; n];
    for k in 0..n {
        let Some(lin) = kernels[k].linear() else { continue };
        let ins = lin.inputs();
        let take: Vec<bool> = ins.iter().map(|&x| absorbable(x, k) && maps.contains_key(&producer[&x])).collect();
        let feeds_next = kernels[k].out().is_some_and(|o| readers.get(&o).is_some_and(|r| r.len() == 1 && absorbable(o, r[0])));
        if !take.contains(&true) && (!feeds_next || lin.flat_add()) {
            continue;
        }
        let in_maps: Vec<Option<&gather::Map>> = ins.iter().zip(&take).map(|(x, &t)| t.then(|| &maps[&producer[x]].0)).collect();
        let Some(m) = lin.compose(&in_maps) else { continue };
        for (x, &t) in ins.iter().zip(&take) {
            if t {
                absorbed[producer[x]] = true;
                maps.remove(&producer[x]);
            }
        }
        maps.insert(k, (m, take.contains(&true)));
    }
    for (k, a) in absorbed.iter().enumerate() {
        if *a {
            kernels[k] = Kernel::Nop;
        }
    }
    for (k, (m, chain)) in maps {
        // A lone kernel is faster as it was (strided loops, no index table).
        if let (true, Some(out)) = (chain, kernels[k].out()) {
            kernels[k] = Kernel::Gather { g: m.compile(), out };
        }
    }
}
