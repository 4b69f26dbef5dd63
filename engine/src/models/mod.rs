//! Named architectures for image classification, built with the graph API
//! and wrapped as [`crate::train::Model`]s, so the trainer, optimizers and
//! checkpoints drive them like any other model.
//!
//! Parameter names follow PyTorch (`fc1.weight` `[out, in]`,
//! `conv1.weight` `[Cout, Cin, kH, kW]`, `bn1.running_mean`), so a
//! checkpoint loads into the equivalent `torch.nn` module. Weights are
//! initialized from a seed: Kaiming (gain sqrt 2) for layers followed by a
//! ReLU, gain 1 for the output layer, biases zero, BatchNorm scale one.

pub mod cnn;
mod graph_model;
pub mod mlp;
pub mod net;
pub mod resnet;

pub use cnn::Cnn;
pub use graph_model::{Classifier, GraphModel};
pub use mlp::Mlp;
pub use net::{
    Activation, Family, LayerGeometry, META_ACTIVATION, META_BATCH_NORM, META_CLASSES, META_DROPOUT, META_HIDDEN, META_IMAGE, META_WIDTHS, NetSpec, Network, receptive_fields,
};
pub use resnet::ResNet;

use crate::error::EngineError;
use crate::init::InitError;

/// Checkpoint metadata key naming the architecture (an [`Arch::name`]).
pub const META_ARCH: &str = "vislab.arch";

#[derive(Debug, thiserror::Error)]
pub enum ModelsError {
    #[error("unknown model '{0}' (expected one of: mlp, cnn, vae)")]
    UnknownArch(String),
    /// A checkpoint's metadata that describes no network.
    #[error("{0}")]
    Meta(String),
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Init(#[from] InitError),
}

/// The architectures the command line and the app offer by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arch {
    /// 784-512-256-10 MLP with ReLU.
    Mlp,
    /// conv(1->16, 3x3) relu pool, conv(16->32, 3x3) relu pool, fc 128, fc 10.
    Cnn,
}

impl Arch {
    pub const ALL: [Arch; 2] = [Arch::Mlp, Arch::Cnn];

    pub fn name(self) -> &'static str {
        match self {
            Arch::Mlp => "mlp",
            Arch::Cnn => "cnn",
        }
    }

    pub fn parse(name: &str) -> Result<Arch, ModelsError> {
        Arch::ALL.into_iter().find(|a| a.name() == name).ok_or_else(|| ModelsError::UnknownArch(name.into()))
    }

    /// The network for 28x28 grey images in 10 classes (MNIST and
    /// Fashion-MNIST), initialized from `seed`.
    pub fn build(self, seed: u64) -> Result<GraphModel, ModelsError> {
        self.build_for([1, 28, 28], 10, seed)
    }

    /// The same architecture for `[channels, height, width]` images in
    /// `classes` classes (CIFAR, image folders).
    pub fn build_for(self, image: [usize; 3], classes: usize, seed: u64) -> Result<GraphModel, ModelsError> {
        let net = match self {
            Arch::Mlp => Mlp::new(&[image.iter().product(), 512, 256, classes]).build()?,
            Arch::Cnn => Cnn { image, classes, ..Cnn::mnist() }.build()?,
        };
        GraphModel::new(net, seed)
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod net_tests;
