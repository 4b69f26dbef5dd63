//! The deformation network: vertex positions of the start mesh -> GCN
//! layers with ReLU -> a last GCN layer to 3 channels, the per-vertex
//! offsets; `p = p0 + offsets`, compiled with the loss terms of [`super::loss`].

use crate::error::EngineError;
use crate::graph::{Graph, Tensor};
use crate::init::Init;
use crate::model::{Model as Compiled, ModelSpec};
use crate::nn;
use crate::train::Param;
use crate::train::init_params;

use super::GcnError;
use super::graph::VertexGraph;
use super::layer::GcnLayer;
use super::loss::{self, IN_BWD_CONST, IN_BWD_TARGET, IN_BWD_WEIGHT, IN_FWD_TARGET, IN_WEIGHTS, LossWeights, Matches, MeshTensors, TermTensors, Terms};

/// Sizes of the GCN.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NetShape {
    /// Channels per hidden layer.
    pub width: usize,
    /// Hidden GCN layers (at least 1); one more maps to the 3 offsets.
    pub depth: usize,
}

impl Default for NetShape {
    fn default() -> Self {
        NetShape { width: 64, depth: 3 }
    }
}

impl NetShape {
    /// Parameter count (each layer: W0, bias, W1).
    pub fn params(&self) -> usize {
        let layer = |i: usize, o: usize| 2 * i * o + o;
        layer(3, self.width) + (self.depth - 1) * layer(self.width, self.width) + layer(self.width, 3)
    }

    fn check(&self) -> Result<(), GcnError> {
        if self.width == 0 || self.depth == 0 || self.width > 512 || self.depth > 8 {
            return Err(GcnError::Input(format!("GCN sizes out of range: {self:?} (width 1 to 512, depth 1 to 8)")));
        }
        Ok(())
    }
}

const OUT_POSITIONS: &str = "positions";
const OUT_HIDDEN: &str = "hidden";
const OUTPUT_LAYER: &str = "gcn_out";

/// The network's tensors in a graph.
#[derive(Clone, Copy, Debug)]
pub struct Built {
    pub positions: Tensor,
    /// Last hidden layer, after its ReLU.
    pub hidden: Tensor,
    pub terms: TermTensors,
}

/// Build the GCN and its losses into `g` (no batch dim: one mesh).
pub fn build(g: &mut Graph, vg: &VertexGraph, p0: &[[f32; 3]], shape: NetShape) -> Result<Built, EngineError> {
    let n = vg.vertices;
    let mt = MeshTensors::new(g, vg)?;
    let x0 = g.fixed("p0", &[n, 3], p0.iter().flatten().copied().collect())?;
    let mut h = x0;
    let mut width = 3;
    for i in 0..shape.depth {
        let layer = GcnLayer::new(g, &format!("gcn{}", i + 1), width, shape.width)?;
        let y = layer.forward(g, h, mt.adj)?;
        h = nn::relu(g, y)?;
        width = shape.width;
    }
    let offsets = GcnLayer::new(g, OUTPUT_LAYER, width, 3)?.forward(g, h, mt.adj)?;
    let positions = g.add(x0, offsets)?;
    let terms = loss::build_losses(g, positions, &mt)?;
    Ok(Built { positions, hidden: h, terms })
}

/// The GCN compiled with its losses; parameters held as plain [`Param`]s.
pub struct DeformNet {
    shape: NetShape,
    compiled: Compiled,
    params: Vec<Param>,
    vertices: usize,
}

impl DeformNet {
    /// Compile for the graph `vg` with start positions `p0`, weights from `seed`.
    ///
    /// Initialization: the neighbour sum adds up about `mean degree` similar
    /// features, so W1 gets Kaiming's std divided by that degree and both
    /// halves by sqrt 2, keeping activations from growing layer by layer;
    /// the output layer starts 100x smaller, so the first mesh is about the start mesh.
    pub fn new(vg: &VertexGraph, p0: &[[f32; 3]], shape: NetShape, seed: u64) -> Result<DeformNet, GcnError> {
        shape.check()?;
        let n = vg.vertices;
        if p0.len() != n {
            return Err(GcnError::Input(format!("{} start positions for {n} vertices", p0.len())));
        }
        let mut g = Graph::new();
        let b = build(&mut g, vg, p0, shape)?;
        let spec = ModelSpec {
            loss: b.terms.total,
            train_outputs: b.terms.named(),
            eval_outputs: vec![(OUT_POSITIONS.into(), b.positions), (OUT_HIDDEN.into(), b.hidden)],
            state_updates: vec![],
        };
        let compiled = Compiled::compile(g, spec)?;
        let deg = vg.mean_degree().max(1.0);
        let params = init_params(compiled.params().into_iter().map(|p| (p.name, p.shape)), seed, 0, |name, shape| {
            // Kaiming's ReLU gain sqrt 2, over sqrt 2 for the two halves: 1.
            let gain = if name.contains(".w1.") { 1.0 / deg } else { 1.0 } * if name.starts_with(OUTPUT_LAYER) { 0.01 } else { 1.0 };
            if shape.len() < 2 { Init::Zeros } else { Init::KaimingNormal { gain } }
        })?;
        Ok(DeformNet { shape, compiled, params, vertices: n })
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

    pub fn vertices(&self) -> usize {
        self.vertices
    }

    fn load_params(&mut self) -> Result<(), GcnError> {
        for p in &self.params {
            self.compiled.set_param(&p.name, &p.value)?;
        }
        Ok(())
    }

    /// Positions `p0 + offsets` and the last hidden layer `[n, width]`
    /// (after its ReLU) with the current parameters.
    pub fn forward(&mut self) -> Result<(Vec<[f32; 3]>, Vec<f32>), GcnError> {
        self.load_params()?;
        self.compiled.evaluate()?;
        let p = self.compiled.output(OUT_POSITIONS)?;
        let positions: Vec<[f32; 3]> = p.chunks_exact(3).map(|c| [c[0], c[1], c[2]]).collect();
        if positions.len() != self.vertices {
            return Err(GcnError::Input(format!("the network gave {} positions for {} vertices", positions.len(), self.vertices)));
        }
        Ok((positions, self.compiled.output(OUT_HIDDEN)?.to_vec()))
    }

    /// Forward + backward with these matches and weights: every term, and
    /// each parameter's `grad` overwritten with d total / d parameter.
    pub fn train_step(&mut self, m: &Matches, w: &LossWeights) -> Result<Terms, GcnError> {
        self.load_params()?;
        let c = &mut self.compiled;
        c.set_input(IN_FWD_TARGET, &m.fwd_target)?;
        c.set_input(IN_BWD_TARGET, &m.bwd_target)?;
        c.set_input(IN_BWD_WEIGHT, &m.bwd_weight)?;
        c.set_input(IN_BWD_CONST, &[m.bwd_const])?;
        for (name, v) in IN_WEIGHTS.iter().zip(w.as_array()) {
            c.set_input(name, &[v])?;
        }
        c.train_step()?;
        let get = |name: &str| -> Result<f64, GcnError> { Ok(c.output(name)?.first().copied().unwrap_or(f32::NAN) as f64) };
        let terms = Terms {
            chamfer_fwd: get("chamfer_fwd")?,
            chamfer_bwd: get("chamfer_bwd")?,
            edge: get("edge")?,
            laplacian: get("laplacian")?,
            normal: get("normal")?,
            total: get("total")?,
        };
        for p in &mut self.params {
            let g = c.grad(&p.name)?;
            p.grad.clear();
            p.grad.extend_from_slice(g);
        }
        Ok(terms)
    }
}
