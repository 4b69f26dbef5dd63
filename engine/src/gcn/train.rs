//! Fitting an icosphere to a target mesh: each step the vertices are matched
//! to points sampled from the target (k-d tree), the weighted loss is
//! differentiated through the GCN and Adam updates its weights. The quality
//! figure is the engine's Chamfer metric between points sampled from the
//! deformed mesh and from the target.

use crate::geometry::{Mesh, sample_points, shapes};
use crate::metrics::{Chamfer, KdTree, chamfer};
use crate::optim::{Adam, Optimizer};

use super::GcnError;
use super::graph::VertexGraph;
use super::loss::{LossWeights, Matches, Terms};
use super::net::{DeformNet, NetShape};

/// Highest icosphere subdivision: the adjacency and the face-pair matrices
/// are dense, and level 4 (2,562 vertices) is as far as they stay quick.
pub const MAX_LEVEL: usize = 4;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DeformConfig {
    /// Icosphere subdivisions (0: the icosahedron's 12 vertices; 3: 642).
    pub level: usize,
    pub net: NetShape,
    pub lr: f32,
    pub steps: usize,
    /// Seeds the weights and the target's sample points.
    pub seed: u64,
    pub weights: LossWeights,
    /// Points sampled from the target that the vertices are matched to.
    pub target_points: usize,
    /// Points sampled from each mesh for the Chamfer metric.
    pub eval_points: usize,
}

impl Default for DeformConfig {
    fn default() -> Self {
        DeformConfig { level: 3, net: NetShape::default(), lr: 1e-3, steps: 300, seed: 0, weights: LossWeights::default(), target_points: 3000, eval_points: 5000 }
    }
}

/// The target centred on its bounding box and scaled so that its farthest
/// vertex is at distance 1: inside the start sphere, touching it.
pub fn normalize(mesh: &Mesh) -> Result<Mesh, GcnError> {
    let b = mesh.bounds().ok_or_else(|| GcnError::Input("the mesh has no vertices".into()))?;
    let c = b.center();
    let r = mesh.positions.iter().map(|p| (0..3).map(|k| (p[k] - c[k]).powi(2)).sum::<f32>().sqrt()).fold(0.0f32, f32::max);
    if !(r > 0.0 && r.is_finite()) {
        return Err(GcnError::Input("the mesh has no extent".into()));
    }
    let mut m = mesh.clone();
    for p in &mut m.positions {
        *p = std::array::from_fn(|k| (p[k] - c[k]) / r);
    }
    m.compute_vertex_normals();
    Ok(m)
}

/// The deformed mesh at one moment.
#[derive(Clone, Debug)]
pub struct Snapshot {
    pub step: usize,
    pub positions: Vec<[f32; 3]>,
    /// Last hidden layer `[n, width]`, row-major.
    pub hidden: Vec<f32>,
    pub width: usize,
    /// The engine's Chamfer metric, deformed mesh (a) against target (b).
    pub chamfer: Chamfer,
}

const EVAL_SEED: u64 = 0x0C4A_4FE2;

pub struct DeformFit {
    pub net: DeformNet,
    optimizer: Adam,
    start: Mesh,
    target: Mesh,
    target_points: Vec<[f32; 3]>,
    eval_points: Vec<[f32; 3]>,
    tree: KdTree,
    config: DeformConfig,
    step: usize,
}

impl DeformFit {
    pub fn new(target: &Mesh, config: DeformConfig) -> Result<DeformFit, GcnError> {
        if config.steps == 0 || config.target_points == 0 || config.eval_points == 0 {
            return Err(GcnError::Input("steps and point counts must be at least 1".into()));
        }
        if config.level > MAX_LEVEL {
            return Err(GcnError::Input(format!("icosphere level {} (at most {MAX_LEVEL})", config.level)));
        }
        if !(config.lr.is_finite() && config.lr > 0.0) {
            return Err(GcnError::Input(format!("learning rate {} must be positive", config.lr)));
        }
        config.weights.check()?;
        let target = normalize(target)?;
        let target_points = sample_points(&target, config.target_points, config.seed).positions;
        if target_points.is_empty() {
            return Err(GcnError::Input("the target has no surface area to sample".into()));
        }
        let eval_points = sample_points(&target, config.eval_points, config.seed ^ EVAL_SEED).positions;
        let start = shapes::icosphere(config.level);
        let vg = VertexGraph::new(&start)?;
        let net = DeformNet::new(&vg, &start.positions, config.net, config.seed)?;
        Ok(DeformFit { net, optimizer: Adam::new(config.lr), tree: KdTree::new(&target_points), start, target, target_points, eval_points, config, step: 0 })
    }

    pub fn config(&self) -> &DeformConfig {
        &self.config
    }

    /// The icosphere the run starts from.
    pub fn start(&self) -> &Mesh {
        &self.start
    }

    /// The target, normalized.
    pub fn target(&self) -> &Mesh {
        &self.target
    }

    pub fn target_points(&self) -> &[[f32; 3]] {
        &self.target_points
    }

    pub fn step(&self) -> usize {
        self.step
    }

    pub fn done(&self) -> bool {
        self.step >= self.config.steps
    }

    pub fn set_weights(&mut self, w: LossWeights) -> Result<(), GcnError> {
        w.check()?;
        self.config.weights = w;
        Ok(())
    }

    pub fn set_lr(&mut self, lr: f32) {
        if lr.is_finite() && lr > 0.0 {
            self.optimizer.set_lr(lr);
        }
    }

    /// One step: match, forward + backward, Adam. The terms are those of the
    /// positions before the update.
    pub fn train_step(&mut self) -> Result<Terms, GcnError> {
        let (positions, _) = self.net.forward()?;
        let m = Matches::find(&positions, &self.target_points, &self.tree)?;
        let terms = self.net.train_step(&m, &self.config.weights)?;
        if !terms.total.is_finite() {
            return Err(GcnError::Diverged(format!("loss became {} at step {}", terms.total, self.step + 1)));
        }
        self.optimizer.step(self.net.params_mut())?;
        self.step += 1;
        Ok(terms)
    }

    /// The deformed mesh now (icosphere triangles, smooth normals).
    pub fn mesh_of(&self, positions: Vec<[f32; 3]>) -> Mesh {
        let mut m = Mesh { positions, triangles: self.start.triangles.clone(), normals: None, colors: None };
        m.compute_vertex_normals();
        m
    }

    /// Positions, hidden features and the Chamfer metric now.
    pub fn snapshot(&mut self) -> Result<Snapshot, GcnError> {
        let (positions, hidden) = self.net.forward()?;
        let mesh = self.mesh_of(positions.clone());
        let pred = sample_points(&mesh, self.config.eval_points, EVAL_SEED).positions;
        let chamfer = if pred.is_empty() { chamfer(&positions, &self.eval_points)? } else { chamfer(&pred, &self.eval_points)? };
        Ok(Snapshot { step: self.step, positions, hidden, width: self.config.net.width, chamfer })
    }
}
