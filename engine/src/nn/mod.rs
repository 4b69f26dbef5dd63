//! Layers, activations and losses built from the graph's primitive ops. Every
//! layer registers its parameters with PyTorch-style names (`fc1.weight`
//! `[out, in]`, `fc1.bias` `[out]`, `conv1.weight` `[Cout, Cin, kH, kW]`) and
//! builds its forward pass with [`Mode`]: a model calls `forward` once per
//! mode on the same graph, so both branches share the parameter leaves.

pub mod activation;
pub mod adaptive_pool;
pub mod conv;
pub mod conv3d;
pub mod conv_transpose;
pub mod dropout;
pub mod embedding;
pub mod linear;
pub mod loss;
pub mod maxout;
pub mod norm;
pub mod pool;
pub mod prelu;
pub mod resample;
pub mod residual;
pub mod shape;
pub mod unpool;
pub mod upsample;

pub use activation::*;
pub use adaptive_pool::AdaptiveAvgPool2d;
pub use conv::{Conv2d, Conv2dConfig};
pub use conv_transpose::{ConvTranspose2d, ConvTranspose2dConfig};
pub use conv3d::{Conv3d, Conv3dConfig, MaxPool3d};
pub use dropout::Dropout;
pub use embedding::Embedding;
pub use linear::Linear;
pub use loss::*;
pub use maxout::Maxout;
pub use norm::{BatchNorm, GroupNorm, LayerNorm};
pub use pool::{Pool2d, PoolKind, flatten};
pub use prelu::PRelu;
pub use residual::ResidualBlock;
pub use unpool::{Pooled, max_pool_with_switches, max_unpool};
pub use upsample::{upsample_bed_of_nails, upsample_bicubic, upsample_bilinear, upsample_nearest};

/// Which branch of the graph a forward call builds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Batch statistics, dropout on.
    Train,
    /// Running statistics, dropout off.
    Eval,
}
