//! ResNet basic block (He et al. 2016, torchvision `BasicBlock` names):
//! `relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))`, 3x3 convolutions
//! without bias. The shortcut is the identity, or, when the stride or the
//! channel count changes, a 1x1 convolution and BatchNorm (`downsample.0`,
//! `downsample.1`).

use crate::error::EngineError;
use crate::graph::{Graph, Tensor};

use super::{BatchNorm, Conv2d, Conv2dConfig, Mode, relu};

#[derive(Debug, Clone, Copy)]
pub struct ResidualBlock {
    pub conv1: Conv2d,
    pub bn1: BatchNorm,
    pub conv2: Conv2d,
    pub bn2: BatchNorm,
    pub downsample: Option<(Conv2d, BatchNorm)>,
}

impl ResidualBlock {
    /// Parameters are registered as `{name}.conv1.weight`, `{name}.bn1.*`, ...
    /// (`name` empty: no prefix).
    pub fn new(g: &mut Graph, name: &str, in_channels: usize, out_channels: usize, stride: usize) -> Result<ResidualBlock, EngineError> {
        if stride == 0 {
            return Err(EngineError::Shape("residual block stride must be at least 1".into()));
        }
        let p = |s: &str| if name.is_empty() { s.to_string() } else { format!("{name}.{s}") };
        let conv3 = |cin, cout, stride| Conv2dConfig { stride, padding: 1, bias: false, ..Conv2dConfig::new(cin, cout, 3) };
        let conv1 = Conv2d::new(g, &p("conv1"), conv3(in_channels, out_channels, stride))?;
        let bn1 = BatchNorm::new(g, &p("bn1"), out_channels)?;
        let conv2 = Conv2d::new(g, &p("conv2"), conv3(out_channels, out_channels, 1))?;
        let bn2 = BatchNorm::new(g, &p("bn2"), out_channels)?;
        let downsample = if stride != 1 || in_channels != out_channels {
            let cfg = Conv2dConfig { stride, bias: false, ..Conv2dConfig::new(in_channels, out_channels, 1) };
            Some((Conv2d::new(g, &p("downsample.0"), cfg)?, BatchNorm::new(g, &p("downsample.1"), out_channels)?))
        } else {
            None
        };
        Ok(ResidualBlock { conv1, bn1, conv2, bn2, downsample })
    }

    /// x `[B, Cin, H, W]` -> `[B, Cout, ceil(H / stride), ceil(W / stride)]`.
    /// Train mode pushes the BatchNorm running-statistics updates.
    pub fn forward(&self, g: &mut Graph, x: Tensor, mode: Mode, updates: &mut Vec<(Tensor, Tensor)>) -> Result<Tensor, EngineError> {
        let h = self.conv1.forward(g, x)?;
        let h = self.bn1.forward(g, h, mode, updates)?;
        let h = relu(g, h)?;
        let h = self.conv2.forward(g, h)?;
        let h = self.bn2.forward(g, h, mode, updates)?;
        let short = match &self.downsample {
            Some((conv, bn)) => {
                let s = conv.forward(g, x)?;
                bn.forward(g, s, mode, updates)?
            }
            None => x,
        };
        let y = g.add(h, short)?;
        relu(g, y)
    }
}
