//! Multi-layer perceptron: `fc1 .. fcN` with ReLU between layers.

use crate::error::EngineError;
use crate::graph::{Graph, batch_dim};
use crate::nn::{self, Linear};

use super::Classifier;

#[derive(Clone, Debug, PartialEq)]
pub struct Mlp {
    /// Input size, hidden sizes, number of classes.
    pub sizes: Vec<usize>,
}

impl Mlp {
    pub fn new(sizes: &[usize]) -> Mlp {
        Mlp { sizes: sizes.to_vec() }
    }

    /// Input `x` is `[B, sizes[0]]` (a flattened image works as is).
    pub fn build(&self) -> Result<Classifier, EngineError> {
        let (inputs, classes) = match (self.sizes.first(), self.sizes.last()) {
            (Some(&i), Some(&c)) if self.sizes.len() >= 2 => (i, c),
            _ => return Err(EngineError::Shape(format!("an MLP needs at least input and output sizes, got {:?}", self.sizes))),
        };
        let mut g = Graph::new();
        let x = g.input("x", &[batch_dim(), inputs.into()])?;
        let layers = self.sizes.len() - 1;
        let mut h = x;
        for (i, w) in self.sizes.windows(2).enumerate() {
            let fc = Linear::new(&mut g, &format!("fc{}", i + 1), w[0], w[1], true)?;
            h = fc.forward(&mut g, h)?;
            if i + 1 < layers {
                h = nn::relu(&mut g, h)?;
            }
        }
        Ok(Classifier::plain(g, h, vec![inputs], classes, format!("fc{layers}")))
    }
}
