//! Maxout (Goodfellow et al. 2013): a linear layer with `out * pieces`
//! outputs, then the max over each group of `pieces`. Output unit `j` uses
//! rows `j * pieces .. (j + 1) * pieces` of `{name}.weight` `[out * pieces, in]`.

use crate::error::EngineError;
use crate::graph::{Graph, Tensor};

use super::Linear;

#[derive(Debug, Clone, Copy)]
pub struct Maxout {
    pub linear: Linear,
    pub out_features: usize,
    pub pieces: usize,
}

impl Maxout {
    pub fn new(g: &mut Graph, name: &str, in_features: usize, out_features: usize, pieces: usize) -> Result<Maxout, EngineError> {
        if pieces == 0 || out_features == 0 {
            return Err(EngineError::Shape(format!("maxout with {out_features} outputs of {pieces} pieces")));
        }
        let linear = Linear::new(g, name, in_features, out_features * pieces, true)?;
        Ok(Maxout { linear, out_features, pieces })
    }

    /// x `[.., in]` -> `[.., out]`.
    pub fn forward(&self, g: &mut Graph, x: Tensor) -> Result<Tensor, EngineError> {
        let z = self.linear.forward(g, x)?;
        let rank = g.shape(z).len();
        let z = g.split_axis(z, rank - 1, &[self.out_features.into(), self.pieces.into()])?;
        g.max_reduce(z, rank)
    }
}
