//! Small convolutional network: `conv{i}` (same padding) [+ `bn{i}`] ReLU
//! 2x2 max pool per stage, then `fc1` ReLU `fc2`.

use crate::error::EngineError;
use crate::graph::{Graph, Tensor, batch_dim};
use crate::nn::{self, BatchNorm, Conv2d, Conv2dConfig, Linear, Mode, Pool2d};

use super::Classifier;

#[derive(Clone, Debug, PartialEq)]
pub struct Cnn {
    /// Input `[channels, height, width]`.
    pub image: [usize; 3],
    /// Output channels of each conv stage.
    pub channels: Vec<usize>,
    /// Square kernel size (odd: padding keeps the size before pooling).
    pub kernel: usize,
    pub batch_norm: bool,
    pub hidden: usize,
    pub classes: usize,
}

impl Cnn {
    /// The default for 28x28 grey images: 16 and 32 channels of 3x3, fc 128
    /// (3x3 kernels train twice as fast as 5x5 here for the same accuracy).
    pub fn mnist() -> Cnn {
        Cnn { image: [1, 28, 28], channels: vec![16, 32], kernel: 3, batch_norm: false, hidden: 128, classes: 10 }
    }

    /// (the ReLU'd `fc1` output, the logits).
    fn forward(&self, g: &mut Graph, x: Tensor, mode: Mode, layers: &Layers, updates: &mut Vec<(Tensor, Tensor)>) -> Result<(Tensor, Tensor), EngineError> {
        let mut h = x;
        for (i, conv) in layers.convs.iter().enumerate() {
            h = conv.forward(g, h)?;
            if let Some(bn) = layers.norms.get(i) {
                h = bn.forward(g, h, mode, updates)?;
            }
            h = nn::relu(g, h)?;
            h = Pool2d::max(2, 2).forward(g, h)?;
        }
        let h = nn::flatten(g, h)?;
        let h = layers.fc1.forward(g, h)?;
        let h = nn::relu(g, h)?;
        Ok((h, layers.fc2.forward(g, h)?))
    }

    pub fn build(&self) -> Result<Classifier, EngineError> {
        let (mut g, x, layers) = self.layers()?;
        let mut updates = vec![];
        let (_, train) = self.forward(&mut g, x, Mode::Train, &layers, &mut updates)?;
        let eval = if self.batch_norm { self.forward(&mut g, x, Mode::Eval, &layers, &mut vec![])?.1 } else { train };
        Ok(Classifier {
            graph: g,
            train_logits: train,
            eval_logits: eval,
            state_updates: updates,
            sample_shape: self.image.to_vec(),
            classes: self.classes,
            output_layer: "fc2".into(),
        })
    }

    /// The same network (every parameter, named as in [`Cnn::build`], so a
    /// checkpoint loads strictly) with input `x` and, in eval mode, its
    /// penultimate layer: the `hidden` ReLU'd `fc1` units, `[B, hidden]`.
    pub fn features(&self) -> Result<(Graph, Tensor), EngineError> {
        let (mut g, x, layers) = self.layers()?;
        let (h, _) = self.forward(&mut g, x, Mode::Eval, &layers, &mut vec![])?;
        Ok((g, h))
    }

    /// The graph with its input `x` and every layer registered.
    fn layers(&self) -> Result<(Graph, Tensor, Layers), EngineError> {
        let [c, mut h, mut w] = self.image;
        if self.kernel.is_multiple_of(2) {
            return Err(EngineError::Shape(format!("kernel {} must be odd", self.kernel)));
        }
        let mut g = Graph::new();
        let x = g.input("x", &[batch_dim(), c.into(), h.into(), w.into()])?;
        let (mut convs, mut norms) = (vec![], vec![]);
        let mut cin = c;
        for (i, &cout) in self.channels.iter().enumerate() {
            let cfg = Conv2dConfig { padding: self.kernel / 2, ..Conv2dConfig::new(cin, cout, self.kernel) };
            convs.push(Conv2d::new(&mut g, &format!("conv{}", i + 1), cfg)?);
            if self.batch_norm {
                norms.push(BatchNorm::new(&mut g, &format!("bn{}", i + 1), cout)?);
            }
            if h < 2 || w < 2 {
                return Err(EngineError::Shape(format!("image too small for {} pooling stages", self.channels.len())));
            }
            (h, w, cin) = (h / 2, w / 2, cout);
        }
        // Max pooling with stride 2 floors odd sizes, as PyTorch does.
        let flat = cin * h * w;
        let fc1 = Linear::new(&mut g, "fc1", flat, self.hidden, true)?;
        let fc2 = Linear::new(&mut g, "fc2", self.hidden, self.classes, true)?;
        Ok((g, x, Layers { convs, norms, fc1, fc2 }))
    }
}

struct Layers {
    convs: Vec<Conv2d>,
    norms: Vec<BatchNorm>,
    fc1: Linear,
    fc2: Linear,
}
