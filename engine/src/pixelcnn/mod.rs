//! PixelCNN (van den Oord, Kalchbrenner & Kavukcuoglu 2016) on binarized
//! one-channel images: an autoregressive model p(x) = prod_ij p(x_ij | the
//! pixels before ij in raster order) built from masked convolutions, its
//! exact negative log-likelihood in nats per image and bits per dimension,
//! and sampling one pixel at a time.
//!
//! - [`net`]: masks (type A / B), the masked convolution, the graph.
//! - [`model`]: [`PixelCnn`], compiled, with NLL, logits and probabilities.
//! - [`train`]: seeded epochs with Adam and the test-set NLL.
//! - [`worker`]: the same on a thread that can be paused and stopped.
//! - [`sample`]: [`Sampler`], raster-order sampling with a step API.
//! - [`sample_worker`]: the same on a thread, for the UI.

pub mod model;
pub mod net;
pub mod sample;
pub mod sample_worker;
pub mod train;
pub mod worker;

use std::collections::BTreeMap;

pub use model::PixelCnn;
pub use net::{MaskType, PixelCnnShape, mask};
pub use sample::Sampler;
pub use sample_worker::{SampleEvent, SampleWorker};
pub use train::{EpochReport, PixelCnnTrainConfig, PixelCnnTrainer, StepReport, bits_per_dim};

use crate::error::EngineError;

/// Checkpoint metadata keys written with the weights.
pub const META_SIDE: &str = "vislab.pixelcnn.side";
pub const META_CHANNELS: &str = "vislab.pixelcnn.channels";
pub const META_LAYERS: &str = "vislab.pixelcnn.layers";

#[derive(Debug, thiserror::Error)]
pub enum PixelCnnError {
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Init(#[from] crate::init::InitError),
    #[error(transparent)]
    Data(#[from] crate::data::DataError),
    #[error(transparent)]
    Optim(#[from] crate::optim::OptimError),
    #[error(transparent)]
    Checkpoint(#[from] crate::train::checkpoint::CheckpointError),
    #[error("{0}")]
    Input(String),
    #[error("training diverged: {0}")]
    Diverged(String),
}

/// Checkpoint metadata describing `shape`.
pub fn shape_meta(shape: &PixelCnnShape) -> BTreeMap<String, String> {
    BTreeMap::from([
        (crate::models::META_ARCH.to_string(), "pixelcnn".to_string()),
        (META_SIDE.to_string(), shape.side.to_string()),
        (META_CHANNELS.to_string(), shape.channels.to_string()),
        (META_LAYERS.to_string(), shape.layers.to_string()),
    ])
}

/// The shape stored by [`shape_meta`].
pub fn shape_from_meta(meta: &BTreeMap<String, String>) -> Result<PixelCnnShape, PixelCnnError> {
    let num = |k: &str| -> Result<usize, PixelCnnError> {
        let v = meta.get(k).ok_or_else(|| PixelCnnError::Input(format!("checkpoint metadata lacks {k}; not a PixelCNN checkpoint")))?;
        v.trim().parse().map_err(|_| PixelCnnError::Input(format!("checkpoint metadata {k} = '{v}' is not a size")))
    };
    let shape = PixelCnnShape { side: num(META_SIDE)?, channels: num(META_CHANNELS)?, layers: num(META_LAYERS)? };
    shape.check()?;
    Ok(shape)
}

/// Save the weights (and optimizer state, if given) with the shape and `extra` metadata.
pub fn save(path: &std::path::Path, model: &PixelCnn, optimizer: Option<&dyn crate::optim::Optimizer>, extra: &BTreeMap<String, String>) -> Result<(), PixelCnnError> {
    let mut meta = shape_meta(model.shape());
    meta.extend(extra.iter().map(|(k, v)| (k.clone(), v.clone())));
    crate::train::checkpoint::save(path, model.params(), optimizer, &meta)?;
    Ok(())
}

/// Rebuild a PixelCNN from a checkpoint written by [`save`].
pub fn load(path: &std::path::Path) -> Result<PixelCnn, PixelCnnError> {
    let ck = crate::train::checkpoint::load(path)?;
    let mut model = PixelCnn::new(shape_from_meta(&ck.meta)?, 0)?;
    ck.apply(model.params_mut())?;
    Ok(model)
}

#[cfg(test)]
mod tests;
