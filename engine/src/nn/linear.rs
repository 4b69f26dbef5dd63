//! Fully connected layer: `y = x W^T + b`, W `[out, in]` as in PyTorch.

use crate::error::EngineError;
use crate::graph::{Graph, Tensor};

#[derive(Debug, Clone, Copy)]
pub struct Linear {
    pub weight: Tensor,
    pub bias: Option<Tensor>,
    pub in_features: usize,
    pub out_features: usize,
}

impl Linear {
    /// Registers `{name}.weight` and, with `bias`, `{name}.bias`.
    pub fn new(g: &mut Graph, name: &str, in_features: usize, out_features: usize, bias: bool) -> Result<Linear, EngineError> {
        let weight = g.param(&format!("{name}.weight"), &[out_features, in_features])?;
        let bias = if bias { Some(g.param(&format!("{name}.bias"), &[out_features])?) } else { None };
        Ok(Linear { weight, bias, in_features, out_features })
    }

    /// x `[.., in]` -> `[.., out]`.
    pub fn forward(&self, g: &mut Graph, x: Tensor) -> Result<Tensor, EngineError> {
        let wt = g.permute(self.weight, &[1, 0])?;
        let y = g.matmul(x, wt)?;
        match self.bias {
            Some(b) => g.add(y, b),
            None => Ok(y),
        }
    }
}
