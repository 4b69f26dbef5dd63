//! Finite-difference gradient checks on the f64 reference evaluator, shared
//! by this crate's tests and by anyone adding layers.

use std::collections::HashMap;

use luminal::prelude::petgraph::stable_graph::NodeIndex;

use crate::error::EngineError;
use crate::graph::reference::{dims_of, evaluate};
use crate::graph::view::DimValues;
use crate::graph::{Graph, LeafKind, Tensor};

/// Small deterministic RNG (xorshift64*) so the library needs no rand crate.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.uniform()
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.uniform() * n as f64) as usize % n.max(1)
    }
    /// Standard normal (Box-Muller).
    pub fn normal(&mut self) -> f64 {
        let u = self.uniform().max(1e-12);
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * self.uniform()).cos()
    }
}

/// Loss that weights every element of `t` differently: `sum(t * w)` with a
/// random input `w`, so a wrong gradient element cannot hide in a sum.
pub fn project(g: &mut Graph, t: Tensor) -> Result<Tensor, EngineError> {
    let name = format!("__proj{}", g.leaves().len());
    let shape = g.shape(t);
    let w = g.input(&name, &shape)?;
    let p = g.mul(t, w)?;
    g.sum_all(p)
}

/// Worst finite-difference disagreement found.
#[derive(Debug, Clone)]
pub struct GradReport {
    pub max_rel_err: f64,
    pub checked: usize,
    pub worst: String,
}

/// Initial values for a leaf: return `Some` to override uniform(-1, 1).
pub type LeafInit<'a> = &'a dyn Fn(&str, usize, &mut Rng) -> Option<Vec<f64>>;

/// Random values for every non-fixed leaf at batch size `batch`.
pub fn random_leaves(g: &Graph, env: &DimValues, rng: &mut Rng, init: LeafInit) -> Result<HashMap<NodeIndex, Vec<f64>>, EngineError> {
    let mut vals = HashMap::new();
    for l in g.leaves() {
        if matches!(l.kind, LeafKind::Fixed(_)) {
            continue;
        }
        let n: usize = dims_of(env, &l.shape)?.iter().product();
        let v = init(&l.name, n, rng).unwrap_or_else(|| (0..n).map(|_| rng.range(-1.0, 1.0)).collect());
        vals.insert(l.id, v);
    }
    Ok(vals)
}

/// Build a graph, differentiate the loss w.r.t. the returned leaves, and
/// compare every gradient element with central differences (f64, h = 1e-6).
/// Relative error is `|a - f| / max(|a|, |f|, 1e-4)`.
pub fn gradcheck(build: &dyn Fn(&mut Graph) -> Result<(Tensor, Vec<Tensor>), EngineError>, batch: usize, seed: u64, init: LeafInit) -> Result<GradReport, EngineError> {
    let mut g = Graph::new();
    let (loss, wrt) = build(&mut g)?;
    let grads = g.backward(loss, &wrt)?;
    let env = DimValues(vec![('B', batch)]);
    let mut rng = Rng::new(seed);
    let mut vals = random_leaves(&g, &env, &mut rng, init)?;
    let outs: Vec<NodeIndex> = grads.iter().flatten().map(|t| t.id).collect();
    let bufs = evaluate(&g, &vals, &env, &outs)?;
    let loss_at = |vals: &HashMap<NodeIndex, Vec<f64>>| -> Result<f64, EngineError> {
        let b = evaluate(&g, vals, &env, &[loss.id])?;
        Ok(b[&loss.id][0])
    };
    let h = 1e-6;
    let mut rep = GradReport { max_rel_err: 0.0, checked: 0, worst: String::new() };
    for (wi, (w, gr)) in wrt.iter().zip(&grads).enumerate() {
        let n = vals[&w.id].len();
        let analytic: Vec<f64> = match gr {
            Some(t) => bufs[&t.id].clone(),
            None => vec![0.0; n],
        };
        if analytic.len() != n {
            return Err(EngineError::Shape(format!("gradient {wi} has {} values, leaf has {n}", analytic.len())));
        }
        for k in 0..n {
            let orig = vals[&w.id][k];
            let probe = vals.get_mut(&w.id).expect("the leaf's own values");
            probe[k] = orig + h;
            let lp = loss_at(&vals)?;
            vals.get_mut(&w.id).expect("the leaf's own values")[k] = orig - h;
            let lm = loss_at(&vals)?;
            vals.get_mut(&w.id).expect("the leaf's own values")[k] = orig;
            let fd = (lp - lm) / (2.0 * h);
            let a = analytic[k];
            let err = (a - fd).abs() / a.abs().max(fd.abs()).max(1e-4);
            rep.checked += 1;
            if err > rep.max_rel_err || err.is_nan() {
                rep.max_rel_err = if err.is_nan() { f64::INFINITY } else { err };
                rep.worst = format!("leaf {wi} element {k}: autograd {a:.6e} vs finite difference {fd:.6e}");
            }
        }
    }
    Ok(rep)
}

/// Worst disagreement between our CPU program (f32) and the reference (f64).
#[derive(Debug, Clone)]
pub struct CpuReport {
    pub max_rel_err: f64,
    pub compared: usize,
    pub worst: String,
    /// Kernels that ran as GEMM.
    pub gemms: usize,
    /// Fused element-wise kernels.
    pub fused: usize,
}

/// Build a graph plus its gradients, run it through our CPU program and the
/// reference evaluator on the same random leaves, and compare the loss and
/// every gradient. Relative error is `|a - r| / max(|a|, |r|, 1e-2)`.
pub fn compare_cpu(build: &dyn Fn(&mut Graph) -> Result<(Tensor, Vec<Tensor>), EngineError>, batch: usize, seed: u64, init: LeafInit) -> Result<CpuReport, EngineError> {
    let mut g = Graph::new();
    let (loss, wrt) = build(&mut g)?;
    let grads = g.backward(loss, &wrt)?;
    let env = DimValues(vec![('B', batch)]);
    let mut rng = Rng::new(seed);
    let vals = random_leaves(&g, &env, &mut rng, init)?;
    let mut outs = vec![loss.id];
    outs.extend(grads.iter().flatten().map(|t| t.id));
    let reference = evaluate(&g, &vals, &env, &outs)?;
    let mut prog = crate::cpu::Program::new(&g, &outs)?;
    prog.set_dims(&env)?;
    for (id, v) in &vals {
        if prog.has_node(*id) {
            prog.set_leaf(*id, &v.iter().map(|&x| x as f32).collect::<Vec<_>>())?;
        }
    }
    prog.run()?;
    let mut rep = CpuReport { max_rel_err: 0.0, compared: 0, worst: String::new(), gemms: prog.gemm_count(), fused: prog.fused_count() };
    for (oi, o) in outs.iter().enumerate() {
        let (a, r) = (prog.buffer(*o), &reference[o]);
        if a.len() != r.len() {
            return Err(EngineError::Shape(format!("output {oi}: cpu {} values, reference {}", a.len(), r.len())));
        }
        for (k, (&x, &y)) in a.iter().zip(r).enumerate() {
            let x = x as f64;
            let err = (x - y).abs() / x.abs().max(y.abs()).max(1e-2);
            rep.compared += 1;
            if err > rep.max_rel_err || err.is_nan() {
                rep.max_rel_err = if err.is_nan() { f64::INFINITY } else { err };
                rep.worst = format!("output {oi} element {k}: cpu {x:.6e} vs reference {y:.6e}");
            }
        }
    }
    Ok(rep)
}

/// Gradient tolerance used by `verify` (relative, vs finite differences).
pub const GRAD_TOL: f64 = 1e-3;
/// CPU program tolerance used by `verify` (relative, f32 vs f64 reference).
pub const CPU_TOL: f64 = 5e-4;

/// The standard check for an op or layer: for each (batch, seed), autograd
/// against finite differences (< `GRAD_TOL`) and our CPU program against the
/// reference (< `CPU_TOL`). Returns a message naming the worst element on failure.
pub fn verify(name: &str, build: &dyn Fn(&mut Graph) -> Result<(Tensor, Vec<Tensor>), EngineError>, cases: &[(usize, u64)], init: LeafInit) -> Result<CpuReport, String> {
    let mut last = None;
    for &(batch, seed) in cases {
        let rep = gradcheck(build, batch, seed, init).map_err(|e| format!("{name}: {e}"))?;
        if rep.checked == 0 || rep.max_rel_err >= GRAD_TOL || rep.max_rel_err.is_nan() {
            return Err(format!("{name} batch {batch}: gradient rel err {:.2e} at {} ({} checked)", rep.max_rel_err, rep.worst, rep.checked));
        }
        let c = compare_cpu(build, batch, seed, init).map_err(|e| format!("{name}: cpu: {e}"))?;
        if c.max_rel_err >= CPU_TOL || c.max_rel_err.is_nan() {
            return Err(format!("{name} batch {batch}: cpu vs reference {:.2e} at {}", c.max_rel_err, c.worst));
        }
        last = Some(c);
    }
    last.ok_or_else(|| format!("{name}: no cases"))
}
