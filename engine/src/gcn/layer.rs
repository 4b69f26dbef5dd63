//! One graph convolution: `f'_i = W0 f_i + sum_{j in N(i)} W1 f_j + b`.

use crate::error::EngineError;
use crate::graph::{Graph, Tensor};
use crate::nn::Linear;

/// `{name}.w0` (with the bias) acts on the vertex itself, `{name}.w1` on
/// the sum of its neighbours.
#[derive(Debug, Clone, Copy)]
pub struct GcnLayer {
    pub w0: Linear,
    pub w1: Linear,
}

impl GcnLayer {
    pub fn new(g: &mut Graph, name: &str, in_features: usize, out_features: usize) -> Result<GcnLayer, EngineError> {
        Ok(GcnLayer { w0: Linear::new(g, &format!("{name}.w0"), in_features, out_features, true)?, w1: Linear::new(g, &format!("{name}.w1"), in_features, out_features, false)? })
    }

    /// `x` `[n, in]`, `adj` the 0/1 adjacency `[n, n]` -> `[n, out]`.
    pub fn forward(&self, g: &mut Graph, x: Tensor, adj: Tensor) -> Result<Tensor, EngineError> {
        let own = self.w0.forward(g, x)?;
        let summed = g.matmul(adj, x)?;
        let nb = self.w1.forward(g, summed)?;
        g.add(own, nb)
    }
}
