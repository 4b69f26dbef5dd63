//! Embedding lookup as one-hot times the table (`{name}.weight` `[num, dim]`),
//! so it stays primitive ops and its gradient is a GEMM.

use crate::error::EngineError;
use crate::graph::{Graph, Tensor};

use super::loss::one_hot;

#[derive(Debug, Clone, Copy)]
pub struct Embedding {
    pub weight: Tensor,
    pub num: usize,
    pub dim: usize,
}

impl Embedding {
    pub fn new(g: &mut Graph, name: &str, num: usize, dim: usize) -> Result<Embedding, EngineError> {
        Ok(Embedding { weight: g.param(&format!("{name}.weight"), &[num, dim])?, num, dim })
    }

    /// indices `[B]` (float-coded integers) -> `[B, dim]`.
    pub fn forward(&self, g: &mut Graph, indices: Tensor) -> Result<Tensor, EngineError> {
        let oh = one_hot(g, indices, self.num)?;
        g.matmul(oh, self.weight)
    }
}
