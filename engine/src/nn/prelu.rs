//! PReLU: `max(0, x) + a min(0, x)` with a learnable slope `a`, one per
//! channel (axis 1) or one shared (PyTorch `nn.PReLU(num_parameters)`,
//! parameter `{name}.weight`).

use crate::error::EngineError;
use crate::graph::{Dim, Graph, Tensor};

use super::activation::positive;

#[derive(Debug, Clone, Copy)]
pub struct PRelu {
    pub weight: Tensor,
    /// 1 (shared) or the channel count.
    pub num: usize,
}

impl PRelu {
    /// Registers `{name}.weight` `[num]` (PyTorch initializes it to 0.25).
    pub fn new(g: &mut Graph, name: &str, num: usize) -> Result<PRelu, EngineError> {
        if num == 0 {
            return Err(EngineError::Shape("prelu needs at least one parameter".into()));
        }
        Ok(PRelu { weight: g.param(&format!("{name}.weight"), &[num])?, num })
    }

    /// x `[B, C, ...]` (or any shape when shared).
    pub fn forward(&self, g: &mut Graph, x: Tensor) -> Result<Tensor, EngineError> {
        let s = g.shape(x);
        let a = if self.num == 1 {
            self.weight
        } else {
            if s.len() < 2 || s[1].to_usize() != Some(self.num) {
                return Err(EngineError::Shape(format!("prelu({}) got {s:?}", self.num)));
            }
            let mut ws: Vec<Dim> = vec![self.num.into()];
            ws.extend(std::iter::repeat_n(Dim::from(1usize), s.len() - 2));
            g.reshape(self.weight, &ws)?
        };
        let p = positive(g, x)?;
        let px = g.mul(x, p)?;
        let nx = g.sub(x, px)?;
        let anx = g.mul(nx, a)?;
        g.add(px, anx)
    }
}
