//! Inverted dropout: in training, keep each element with probability `1 - p`
//! and scale kept ones by `1 / (1 - p)`; identity in eval. The random mask
//! comes from a noise leaf the model refills every step.

use crate::error::EngineError;
use crate::graph::{Graph, Tensor};

use super::Mode;

#[derive(Debug, Clone, Copy)]
pub struct Dropout {
    pub p: f32,
}

impl Dropout {
    pub fn new(p: f32) -> Result<Dropout, EngineError> {
        if !(0.0..1.0).contains(&p) {
            return Err(EngineError::Shape(format!("dropout probability {p} must be in [0, 1)")));
        }
        Ok(Dropout { p })
    }

    /// `name` names the noise leaf (one per dropout site).
    pub fn forward(&self, g: &mut Graph, name: &str, x: Tensor, mode: Mode) -> Result<Tensor, EngineError> {
        if mode == Mode::Eval || self.p == 0.0 {
            return Ok(x);
        }
        let shape = g.shape(x);
        let u = g.noise(&format!("{name}.noise"), &shape)?;
        let keep = g.scalar(1.0 - self.p);
        let m = g.less_than(u, keep)?;
        let m = g.mul_scalar(m, 1.0 / (1.0 - self.p))?;
        g.mul(x, m)
    }
}
