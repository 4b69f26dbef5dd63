//! The occupancy network: 3D point -> Fourier features -> MLP with ReLU ->
//! one logit, sigmoid(logit) = P(inside). Trained with BCE on logits.
//!
//! The features `[p, sin(2^k pi p), cos(2^k pi p)]` for k < `frequencies`
//! (NeRF's positional encoding) are computed here on the CPU, before the
//! graph: they have no parameters, and a plain MLP on raw coordinates is
//! biased towards overly smooth surfaces.

use luminal::prelude::petgraph::stable_graph::NodeIndex;

use crate::cpu::Program;
use crate::graph::view::{DimValues, is_plain};
use crate::graph::{Dim, Graph, LeafKind, Tensor, batch_dim};
use crate::init::Init;
use crate::model::{Model as Compiled, ModelSpec};
use crate::nn::{self, Linear};
use crate::train::Param;
use crate::train::{init_params, relu_rule};

use super::ImplicitError;

/// Sizes of an occupancy MLP.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NetShape {
    /// Fourier frequencies per coordinate (0: the raw point only).
    pub frequencies: usize,
    /// Units per hidden layer.
    pub hidden: usize,
    /// Hidden layers (at least 1).
    pub depth: usize,
}

impl Default for NetShape {
    fn default() -> Self {
        NetShape { frequencies: 4, hidden: 64, depth: 3 }
    }
}

impl NetShape {
    pub fn inputs(&self) -> usize {
        3 + 6 * self.frequencies
    }

    fn check(&self) -> Result<(), ImplicitError> {
        if self.hidden == 0 || self.depth == 0 || self.frequencies > 12 {
            return Err(ImplicitError::Input(format!("network sizes out of range: {self:?} (hidden and depth at least 1, at most 12 frequencies)")));
        }
        Ok(())
    }

    /// Parameter count.
    pub fn params(&self) -> usize {
        let mut n = (self.inputs() + 1) * self.hidden;
        n += (self.depth - 1) * (self.hidden + 1) * self.hidden;
        n + self.hidden + 1
    }
}

/// Positional features of `points`, `[n, shape.inputs()]` row-major.
pub fn features(points: &[[f32; 3]], frequencies: usize) -> Vec<f32> {
    let mut out = Vec::with_capacity(points.len() * (3 + 6 * frequencies));
    for p in points {
        out.extend_from_slice(p);
        for k in 0..frequencies {
            let w = std::f32::consts::PI * (1u32 << k) as f32;
            out.extend(p.iter().map(|&c| (w * c).sin()));
            out.extend(p.iter().map(|&c| (w * c).cos()));
        }
    }
    out
}

const INPUT_X: &str = "x";
const INPUT_OCC: &str = "occ";
const OUTPUT_LAYER: &str = "fc_out";

/// `fc1 .. fc{depth}` with ReLU, then `fc_out` to one logit: `[B, 1]`.
fn logits(g: &mut Graph, s: &NetShape, x: Tensor) -> Result<Tensor, ImplicitError> {
    let mut h = x;
    let mut width = s.inputs();
    for i in 0..s.depth {
        h = Linear::new(g, &format!("fc{}", i + 1), width, s.hidden, true)?.forward(g, h)?;
        h = nn::relu(g, h)?;
        width = s.hidden;
    }
    Ok(Linear::new(g, OUTPUT_LAYER, width, 1, true)?.forward(g, h)?)
}

/// Points evaluated per run of the forward program; a fixed size keeps it
/// planned once (the last chunk is padded).
pub const EVAL_CHUNK: usize = 4096;

/// The forward-only program: features -> P(inside).
struct Forward {
    program: Program,
    x: NodeIndex,
    probs: NodeIndex,
    params: Vec<(String, NodeIndex)>,
}

impl Forward {
    fn new(shape: &NetShape) -> Result<Forward, ImplicitError> {
        let mut g = Graph::new();
        let x = g.input(INPUT_X, &[batch_dim(), shape.inputs().into()])?;
        let l = logits(&mut g, shape, x)?;
        let p = nn::sigmoid(&mut g, l)?;
        let p = if is_plain(&p.view) { p } else { g.contiguous(p) };
        let mut program = Program::new(&g, &[p.id])?;
        program.set_dims(&DimValues(vec![('B', EVAL_CHUNK)]))?;
        let params = g.leaves().iter().filter(|l| l.kind == LeafKind::Param).map(|l| (l.name.clone(), l.id)).collect();
        Ok(Forward { program, x: x.id, probs: p.id, params })
    }
}

/// An occupancy network with its training program and its forward program,
/// sharing one set of parameters held as plain [`Param`]s.
pub struct OccupancyNet {
    shape: NetShape,
    train: Compiled,
    forward: Forward,
    params: Vec<Param>,
}

impl OccupancyNet {
    /// Compile both programs and draw the weights from `seed`: Kaiming
    /// (gain sqrt 2) before ReLUs, gain 1 for the output layer, zero biases.
    pub fn new(shape: NetShape, seed: u64) -> Result<OccupancyNet, ImplicitError> {
        shape.check()?;
        let mut g = Graph::new();
        let x = g.input(INPUT_X, &[batch_dim(), shape.inputs().into()])?;
        let occ = g.input(INPUT_OCC, &[batch_dim(), Dim::from(1usize)])?;
        let l = logits(&mut g, &shape, x)?;
        let loss = nn::bce_with_logits(&mut g, l, occ)?;
        let spec = ModelSpec { loss, train_outputs: vec![], eval_outputs: vec![], state_updates: vec![] };
        let train = Compiled::compile(g, spec)?;
        let forward = Forward::new(&shape)?;
        let params = init_params(train.params().into_iter().map(|p| (p.name, p.shape)), seed, 0, relu_rule(Init::KAIMING_RELU, |layer| layer == OUTPUT_LAYER))?;
        Ok(OccupancyNet { shape, train, forward, params })
    }

    pub fn shape(&self) -> NetShape {
        self.shape
    }

    pub fn params(&self) -> &[Param] {
        &self.params
    }

    pub fn params_mut(&mut self) -> &mut [Param] {
        &mut self.params
    }

    /// Copy weights in (from a worker's snapshot); lengths must match.
    pub fn set_weights(&mut self, weights: &[Vec<f32>]) -> Result<(), ImplicitError> {
        if weights.len() != self.params.len() || self.params.iter().zip(weights).any(|(p, w)| p.value.len() != w.len()) {
            return Err(ImplicitError::Input("weights do not fit this network".into()));
        }
        for (p, w) in self.params.iter_mut().zip(weights) {
            p.value.clone_from(w);
        }
        Ok(())
    }

    pub fn weights(&self) -> Vec<Vec<f32>> {
        self.params.iter().map(|p| p.value.clone()).collect()
    }

    /// Forward + backward on `points` with 0/1 `labels`: the mean BCE, and
    /// every parameter's `grad` overwritten.
    pub fn train_step(&mut self, points: &[[f32; 3]], labels: &[f32]) -> Result<f64, ImplicitError> {
        let n = points.len();
        if n == 0 || labels.len() != n {
            return Err(ImplicitError::Input(format!("{n} points and {} labels", labels.len())));
        }
        self.train.set_batch(n)?;
        for p in &self.params {
            self.train.set_param(&p.name, &p.value)?;
        }
        self.train.set_input(INPUT_X, &features(points, self.shape.frequencies))?;
        self.train.set_input(INPUT_OCC, labels)?;
        let loss = self.train.train_step()? as f64;
        for p in &mut self.params {
            let g = self.train.grad(&p.name)?;
            p.grad.clear();
            p.grad.extend_from_slice(g);
        }
        Ok(loss)
    }

    /// P(inside) at every point, in chunks of [`EVAL_CHUNK`].
    pub fn predict(&mut self, points: &[[f32; 3]]) -> Result<Vec<f32>, ImplicitError> {
        if let Some(i) = points.iter().position(|p| !p.iter().all(|v| v.is_finite())) {
            return Err(ImplicitError::Input(format!("point {i} is not finite")));
        }
        let f = &mut self.forward;
        for (name, id) in &f.params {
            let p = self.params.iter().find(|p| &p.name == name).ok_or_else(|| ImplicitError::Input(format!("no parameter {name}")))?;
            f.program.set_leaf(*id, &p.value)?;
        }
        let width = self.shape.inputs();
        let mut out = Vec::with_capacity(points.len());
        for chunk in points.chunks(EVAL_CHUNK) {
            let mut x = features(chunk, self.shape.frequencies);
            x.resize(EVAL_CHUNK * width, 0.0);
            f.program.set_leaf(f.x, &x)?;
            f.program.run()?;
            out.extend_from_slice(f.program.buffer(f.probs).get(..chunk.len()).unwrap_or(&[]));
        }
        if out.len() != points.len() {
            return Err(ImplicitError::Input("the forward program returned too few values".into()));
        }
        Ok(out)
    }
}
