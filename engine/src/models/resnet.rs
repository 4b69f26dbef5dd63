//! A small ResNet for small images (CIFAR-style, He et al. 2016 sec. 4.2):
//! a 3x3 stem `conv1` `bn1` ReLU, one basic block per stage (`layer{i}`,
//! stride 2 from the second stage on), global average pooling, then `fc`.
//! Names follow torchvision, so a checkpoint maps onto its modules.

use crate::error::EngineError;
use crate::graph::{Graph, Tensor, batch_dim};
use crate::nn::{self, AdaptiveAvgPool2d, BatchNorm, Conv2d, Conv2dConfig, Dropout, Linear, Mode, ResidualBlock};

use super::Classifier;
use super::net::{LayerGeometry, Network, ProbeList};

#[derive(Clone, Debug, PartialEq)]
pub struct ResNet {
    /// Input `[channels, height, width]`.
    pub image: [usize; 3],
    /// Output channels of each stage (the stem has the first stage's).
    pub stages: Vec<usize>,
    /// Dropout before `fc` (0 for none).
    pub dropout: f32,
    pub classes: usize,
}

struct Layers {
    stem: Conv2d,
    bn: BatchNorm,
    blocks: Vec<ResidualBlock>,
    fc: Linear,
    dropout: Dropout,
}

impl ResNet {
    /// Two stages of 16 and 32 channels: about 24k parameters.
    pub fn small(image: [usize; 3], classes: usize) -> ResNet {
        ResNet { image, stages: vec![16, 32], dropout: 0.0, classes }
    }

    fn forward(&self, g: &mut Graph, x: Tensor, mode: Mode, l: &Layers, updates: &mut Vec<(Tensor, Tensor)>, probes: &mut ProbeList) -> Result<Tensor, EngineError> {
        let h = l.stem.forward(g, x)?;
        let h = l.bn.forward(g, h, mode, updates)?;
        let mut h = nn::relu(g, h)?;
        probes.push("conv1", h);
        for (i, b) in l.blocks.iter().enumerate() {
            h = b.forward(g, h, mode, updates)?;
            probes.push(&format!("layer{}", i + 1), h);
        }
        let h = AdaptiveAvgPool2d::new(1, 1).forward(g, h)?;
        let h = nn::flatten(g, h)?;
        let h = l.dropout.forward(g, "fc.dropout", h, mode)?;
        let y = l.fc.forward(g, h)?;
        probes.push("fc", y);
        Ok(y)
    }

    /// The network with its layer outputs as probes.
    pub fn network(&self) -> Result<Network, EngineError> {
        let [c, h, w] = self.image;
        let Some(&first) = self.stages.first() else {
            return Err(EngineError::Shape("a ResNet needs at least one stage".into()));
        };
        let mut g = Graph::new();
        let x = g.input("x", &[batch_dim(), c.into(), h.into(), w.into()])?;
        let stem = Conv2d::new(&mut g, "conv1", Conv2dConfig { padding: 1, bias: false, ..Conv2dConfig::new(c, first, 3) })?;
        let bn = BatchNorm::new(&mut g, "bn1", first)?;
        let mut geometry = vec![LayerGeometry::conv("conv1", 3, 1)];
        let (mut blocks, mut cin) = (vec![], first);
        for (i, &cout) in self.stages.iter().enumerate() {
            let stride = if i == 0 { 1 } else { 2 };
            let name = format!("layer{}", i + 1);
            blocks.push(ResidualBlock::new(&mut g, &name, cin, cout, stride)?);
            geometry.push(LayerGeometry::conv(&format!("{name}.conv1"), 3, stride));
            geometry.push(LayerGeometry::conv(&format!("{name}.conv2"), 3, 1));
            cin = cout;
        }
        geometry.push(LayerGeometry::global("avgpool"));
        geometry.push(LayerGeometry::global("fc"));
        let fc = Linear::new(&mut g, "fc", cin, self.classes, true)?;
        let layers = Layers { stem, bn, blocks, fc, dropout: Dropout::new(self.dropout)? };
        let (mut updates, mut train_probes, mut eval_probes) = (vec![], ProbeList::default(), ProbeList::default());
        let train = self.forward(&mut g, x, Mode::Train, &layers, &mut updates, &mut train_probes)?;
        let eval = self.forward(&mut g, x, Mode::Eval, &layers, &mut vec![], &mut eval_probes)?;
        let classifier = Classifier {
            graph: g,
            train_logits: train,
            eval_logits: eval,
            state_updates: updates,
            sample_shape: self.image.to_vec(),
            classes: self.classes,
            output_layer: "fc".into(),
        };
        Ok(Network { classifier, probes: train_probes.pair(eval_probes), geometry })
    }
}
