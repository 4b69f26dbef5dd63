//! Layers, activations and losses built from the graph's primitive ops. Every
//! layer registers its parameters with PyTorch-style names (`fc1.weight`
//! `[out, in]`, `fc1.bias` `[out]`, `conv1.weight` `[Cout, Cin, kH, kW]`) and
//! builds its forward pass with [`Mode`]: a model calls `forward` once per
//! mode on the same graph, so both branches share the parameter leaves.

pub mod activation;
pub mod conv;
pub mod dropout;
pub mod embedding;
pub mod linear;
pub mod loss;
pub mod norm;
pub mod pool;
pub mod upsample;

pub use activation::*;
pub use conv::{conv2d, Conv2d, Conv2dConfig, ConvTranspose2d};
pub use dropout::Dropout;
pub use embedding::Embedding;
pub use linear::Linear;
pub use norm::{BatchNorm, GroupNorm, LayerNorm};
pub use upsample::upsample_nearest;
pub use pool::{flatten, Pool2d, PoolKind};
pub use loss::*;

/// Which branch of the graph a forward call builds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Batch statistics, dropout on.
    Train,
    /// Running statistics, dropout off.
    Eval,
}
