//! The deformation losses as graph ops of the vertex positions `p` `[n, 3]`,
//! and the nearest-neighbour matches the Chamfer term is fed each step.
//!
//! Chamfer without a gather: the target-to-prediction half,
//! `1/M sum_j |t_j - p_k(j)|^2`, groups the target points by their nearest
//! vertex `i`: with `c_i` points of centroid `m_i` and spread `s_i =
//! sum |t_j - m_i|^2` it equals `1/M sum_i (c_i |p_i - m_i|^2 + s_i)`, so
//! the graph needs only `m`, `c / M` and the constant `sum s / M`.

use crate::error::EngineError;
use crate::graph::{Graph, Tensor};
use crate::metrics::KdTree;

use super::graph::VertexGraph;

pub const IN_FWD_TARGET: &str = "fwd_target";
pub const IN_BWD_TARGET: &str = "bwd_target";
pub const IN_BWD_WEIGHT: &str = "bwd_weight";
pub const IN_BWD_CONST: &str = "bwd_const";
/// Inputs holding the weights of chamfer, edge, Laplacian and normal terms:
/// fed, not baked in, so they can change between steps.
pub const IN_WEIGHTS: [&str; 4] = ["w_chamfer", "w_edge", "w_laplacian", "w_normal"];

/// Keeps square roots differentiable at 0 (a flat spot, a degenerate face).
const EPS: f32 = 1e-12;

/// How much each term counts in the total.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LossWeights {
    pub chamfer: f32,
    pub edge: f32,
    pub laplacian: f32,
    pub normal: f32,
}

impl Default for LossWeights {
    /// PyTorch3D's mesh-deformation tutorial: 1, 1, 0.1, 0.01.
    fn default() -> Self {
        LossWeights { chamfer: 1.0, edge: 1.0, laplacian: 0.1, normal: 0.01 }
    }
}

impl LossWeights {
    pub fn as_array(&self) -> [f32; 4] {
        [self.chamfer, self.edge, self.laplacian, self.normal]
    }

    pub fn check(&self) -> Result<(), super::GcnError> {
        if self.as_array().iter().all(|w| w.is_finite() && *w >= 0.0) { Ok(()) } else { Err(super::GcnError::Input(format!("loss weights must be finite and >= 0: {self:?}"))) }
    }
}

/// Values of the loss terms (unweighted) and the weighted total.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Terms {
    /// Mean squared distance from each vertex to its nearest target point.
    pub chamfer_fwd: f64,
    /// Mean squared distance from each target point to its nearest vertex.
    pub chamfer_bwd: f64,
    pub edge: f64,
    pub laplacian: f64,
    pub normal: f64,
    pub total: f64,
}

impl Terms {
    pub fn chamfer(&self) -> f64 {
        self.chamfer_fwd + self.chamfer_bwd
    }
}

/// The loss terms' tensors (each a scalar `[]`).
#[derive(Clone, Copy, Debug)]
pub struct TermTensors {
    pub chamfer_fwd: Tensor,
    pub chamfer_bwd: Tensor,
    pub edge: Tensor,
    pub laplacian: Tensor,
    pub normal: Tensor,
    pub total: Tensor,
}

impl TermTensors {
    /// Name and tensor of every term, as the model's outputs are named.
    pub fn named(&self) -> Vec<(String, Tensor)> {
        [("chamfer_fwd", self.chamfer_fwd), ("chamfer_bwd", self.chamfer_bwd), ("edge", self.edge), ("laplacian", self.laplacian), ("normal", self.normal), ("total", self.total)]
            .into_iter()
            .map(|(n, t)| (n.to_string(), t))
            .collect()
    }
}

/// Row-major `[rows, n]` matrix with `+1` at `plus[r]` and `-1` at `minus[r]`:
/// times `p` it gives `p[plus] - p[minus]` per row.
fn difference_matrix(n: usize, pairs: &[(u32, u32)]) -> Vec<f32> {
    let mut m = vec![0.0; pairs.len() * n];
    for (r, &(plus, minus)) in pairs.iter().enumerate() {
        m[r * n + plus as usize] += 1.0;
        m[r * n + minus as usize] -= 1.0;
    }
    m
}

/// The mesh's fixed matrices, baked into the graph.
#[derive(Clone, Copy, Debug)]
pub struct MeshTensors {
    /// 0/1 adjacency `[n, n]`.
    pub adj: Tensor,
    degree: Tensor,
    inv_degree: Tensor,
    /// Interior edges: `p_b - p_a`, `p_c - p_a`, `p_d - p_a`, each `[q, n]`.
    edge: Option<[Tensor; 3]>,
    /// `[3, 3]` permutations: `v P1 = (y, z, x)`, `v P2 = (z, x, y)`.
    perm: [Tensor; 2],
    n: usize,
    edges: usize,
    pairs: usize,
}

impl MeshTensors {
    pub fn new(g: &mut Graph, vg: &VertexGraph) -> Result<MeshTensors, EngineError> {
        let n = vg.vertices;
        let adj = g.fixed("adjacency", &[n, n], vg.adjacency())?;
        let deg = vg.degrees();
        let degree = g.fixed("degree", &[n, 1], deg.clone())?;
        // An isolated vertex has no neighbour mean: its Laplacian is itself.
        let inv_degree = g.fixed("inv_degree", &[n, 1], deg.iter().map(|&d| if d > 0.0 { 1.0 / d } else { 0.0 }).collect())?;
        let q = vg.pairs.len();
        let edge = if q == 0 {
            None
        } else {
            let mk = |sel: fn(&super::graph::EdgePair) -> (u32, u32)| difference_matrix(n, &vg.pairs.iter().map(sel).collect::<Vec<_>>());
            Some([g.fixed("pair_ab", &[q, n], mk(|e| (e.b, e.a)))?, g.fixed("pair_ac", &[q, n], mk(|e| (e.c, e.a)))?, g.fixed("pair_ad", &[q, n], mk(|e| (e.d, e.a)))?])
        };
        let perm_matrix = |shift: usize| {
            let mut m = vec![0.0; 9];
            for k in 0..3 {
                m[((k + shift) % 3) * 3 + k] = 1.0;
            }
            m
        };
        let perm = [g.fixed("perm_yzx", &[3, 3], perm_matrix(1))?, g.fixed("perm_zxy", &[3, 3], perm_matrix(2))?];
        Ok(MeshTensors { adj, degree, inv_degree, edge, perm, n, edges: vg.edges.len(), pairs: q })
    }

    fn cross(&self, g: &mut Graph, a: Tensor, b: Tensor) -> Result<Tensor, EngineError> {
        let (a1, a2) = (g.matmul(a, self.perm[0])?, g.matmul(a, self.perm[1])?);
        let (b1, b2) = (g.matmul(b, self.perm[0])?, g.matmul(b, self.perm[1])?);
        let x = g.mul(a1, b2)?;
        let y = g.mul(a2, b1)?;
        g.sub(x, y)
    }
}

/// Sum over the last axis of `a * b` (`[r, 3]` -> `[r]`).
fn row_dot(g: &mut Graph, a: Tensor, b: Tensor) -> Result<Tensor, EngineError> {
    let p = g.mul(a, b)?;
    g.sum_reduce(p, 1)
}

/// Every loss term of positions `p` `[n, 3]`, reading the match inputs and
/// the weight inputs this function registers.
pub fn build_losses(g: &mut Graph, p: Tensor, m: &MeshTensors) -> Result<TermTensors, EngineError> {
    let n = m.n;
    let fwd_target = g.input(IN_FWD_TARGET, &[n.into(), 3usize.into()])?;
    let bwd_target = g.input(IN_BWD_TARGET, &[n.into(), 3usize.into()])?;
    let bwd_weight = g.input(IN_BWD_WEIGHT, &[n.into(), 1usize.into()])?;
    let bwd_const = g.input(IN_BWD_CONST, &[1usize.into()])?;
    let weights: Vec<Tensor> = IN_WEIGHTS.iter().map(|name| g.input(name, &[1usize.into()])).collect::<Result<_, _>>()?;

    // Chamfer, prediction -> target: mean over vertices.
    let d = g.sub(p, fwd_target)?;
    let d2 = g.square(d)?;
    let s = g.sum_all(d2)?;
    let chamfer_fwd = g.mul_scalar(s, 1.0 / n as f32)?;
    // Target -> prediction, grouped by nearest vertex (module docs).
    let d = g.sub(p, bwd_target)?;
    let d2 = g.square(d)?;
    let w = g.mul(d2, bwd_weight)?;
    let s = g.sum_all(w)?;
    let s = g.add(s, bwd_const)?;
    let chamfer_bwd = g.sum_all(s)?;

    // Edge length: sum over edges |p_a - p_b|^2 = sum_i p_i . (d_i p_i - sum_j p_j).
    let ap = g.matmul(m.adj, p)?;
    let dp = g.mul(p, m.degree)?;
    let lp = g.sub(dp, ap)?;
    let e = g.mul(p, lp)?;
    let e = g.sum_all(e)?;
    let edge = g.mul_scalar(e, 1.0 / m.edges.max(1) as f32)?;

    // Uniform Laplacian: |p_i - mean of neighbours|, averaged.
    let mean_nb = g.mul(ap, m.inv_degree)?;
    let l = g.sub(p, mean_nb)?;
    let l2 = g.square(l)?;
    let l2 = g.sum_reduce(l2, 1)?;
    let l2 = g.add_scalar(l2, EPS)?;
    let norm = g.sqrt(l2);
    let s = g.sum_all(norm)?;
    let laplacian = g.mul_scalar(s, 1.0 / n as f32)?;

    // Normal consistency: n0 = (b - a) x (c - a), n1 = (d - a) x (b - a),
    // both outward for a consistently wound pair; 1 - cos, averaged.
    let normal = match m.edge {
        Some([ab, ac, ad]) => {
            let (e, u, v) = (g.matmul(ab, p)?, g.matmul(ac, p)?, g.matmul(ad, p)?);
            let n0 = m.cross(g, e, u)?;
            let n1 = m.cross(g, v, e)?;
            let dot = row_dot(g, n0, n1)?;
            let l0 = row_dot(g, n0, n0)?;
            let l1 = row_dot(g, n1, n1)?;
            let l0 = g.add_scalar(l0, EPS)?;
            let l1 = g.add_scalar(l1, EPS)?;
            let ll = g.mul(l0, l1)?;
            let ll = g.sqrt(ll);
            let inv = g.recip(ll);
            let cos = g.mul(dot, inv)?;
            let one_minus = g.neg(cos)?;
            let one_minus = g.add_scalar(one_minus, 1.0)?;
            let s = g.sum_all(one_minus)?;
            g.mul_scalar(s, 1.0 / m.pairs as f32)?
        }
        None => g.scalar(0.0),
    };

    let mut total = None;
    for (term, w) in [chamfer_fwd, chamfer_bwd, edge, laplacian, normal].into_iter().zip([0, 0, 1, 2, 3]) {
        let t = g.mul(term, weights[w])?;
        total = Some(match total {
            None => t,
            Some(acc) => g.add(acc, t)?,
        });
    }
    let total = match total {
        Some(t) => g.sum_all(t)?,
        None => g.scalar(0.0),
    };
    Ok(TermTensors { chamfer_fwd, chamfer_bwd, edge, laplacian, normal, total })
}

/// The Chamfer term's inputs for the current positions.
#[derive(Clone, Debug, PartialEq)]
pub struct Matches {
    /// `[n, 3]`: each vertex's nearest target point.
    pub fwd_target: Vec<f32>,
    /// `[n, 3]`: centroid of the target points whose nearest vertex this is (0 if none).
    pub bwd_target: Vec<f32>,
    /// `[n]`: how many target points that is, over the target's size.
    pub bwd_weight: Vec<f32>,
    /// Spread of those groups about their centroids, summed, over the target's size.
    pub bwd_const: f32,
}

impl Matches {
    /// Nearest neighbours both ways between `positions` and `target`
    /// (`tree` built over `target`). Sums in f64.
    pub fn find(positions: &[[f32; 3]], target: &[[f32; 3]], tree: &KdTree) -> Result<Matches, super::GcnError> {
        if target.is_empty() || positions.is_empty() || tree.len() != target.len() {
            return Err(super::GcnError::Input(format!("cannot match {} vertices with {} target points", positions.len(), target.len())));
        }
        if positions.iter().any(|p| !p.iter().all(|v| v.is_finite())) {
            return Err(super::GcnError::Diverged("a vertex position is not finite".into()));
        }
        let n = positions.len();
        let mut fwd_target = Vec::with_capacity(n * 3);
        for (i, (j, _)) in tree.nearest_all(positions).into_iter().enumerate() {
            let t = target.get(j).ok_or_else(|| super::GcnError::Input(format!("no target point {j} for vertex {i}")))?;
            fwd_target.extend_from_slice(t);
        }
        let back = KdTree::new(positions).nearest_all(target);
        let mut sum = vec![[0f64; 3]; n];
        let mut count = vec![0usize; n];
        for (t, &(i, _)) in target.iter().zip(&back) {
            count[i] += 1;
            for k in 0..3 {
                sum[i][k] += t[k] as f64;
            }
        }
        let centroid: Vec<[f64; 3]> = sum.iter().zip(&count).map(|(s, &c)| if c > 0 { s.map(|v| v / c as f64) } else { [0.0; 3] }).collect();
        let spread: f64 = target.iter().zip(&back).map(|(t, &(i, _))| (0..3).map(|k| (t[k] as f64 - centroid[i][k]).powi(2)).sum::<f64>()).sum();
        let m = target.len() as f64;
        Ok(Matches {
            fwd_target,
            bwd_target: centroid.iter().flat_map(|c| c.map(|v| v as f32)).collect(),
            bwd_weight: count.iter().map(|&c| (c as f64 / m) as f32).collect(),
            bwd_const: (spread / m) as f32,
        })
    }
}
