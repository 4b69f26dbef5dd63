//! Variational autoencoder (Kingma & Welling 2014) on flattened images: an
//! MLP encoder and decoder built with the graph API and differentiated by
//! our autograd, a Bernoulli decoder on binarized pixels, and the negative
//! ELBO reported as its reconstruction and KL terms in nats per image.
//!
//! - [`net`]: the graph (reparameterization with fed noise, the two terms).
//! - [`model`]: [`Vae`], compiled, with encode / decode / reconstruct.
//! - [`train`]: seeded epochs with Adam and the test-set negative ELBO.
//! - [`worker`]: the same on a thread that can be paused and stopped.
//! - [`latent`]: PCA plane, grids and linear / spherical interpolation.

pub mod latent;
pub mod model;
pub mod net;
pub mod train;
pub mod worker;

pub use model::{Elbo, ElboMean, Vae};
pub use net::VaeShape;
pub use train::{Binarize, EpochReport, Flow, StepReport, VaeTrainConfig, VaeTrainer};

use crate::error::EngineError;

/// Checkpoint metadata keys written with a VAE's weights.
pub const META_LATENT: &str = "vislab.vae.latent";
pub const META_HIDDEN: &str = "vislab.vae.hidden";
pub const META_INPUT: &str = "vislab.vae.input";
/// Channels of the convolutional stages; absent or empty for an MLP VAE.
pub const META_CONV: &str = "vislab.vae.conv";

#[derive(Debug, thiserror::Error)]
pub enum VaeError {
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
pub fn shape_meta(shape: &VaeShape) -> std::collections::BTreeMap<String, String> {
    let list = |v: &[usize]| v.iter().map(|h| h.to_string()).collect::<Vec<_>>().join(",");
    std::collections::BTreeMap::from([
        (crate::models::META_ARCH.to_string(), "vae".to_string()),
        (META_INPUT.to_string(), shape.input.to_string()),
        (META_HIDDEN.to_string(), list(&shape.hidden)),
        (META_CONV.to_string(), list(&shape.conv)),
        (META_LATENT.to_string(), shape.latent.to_string()),
    ])
}

/// The shape stored by [`shape_meta`].
pub fn shape_from_meta(meta: &std::collections::BTreeMap<String, String>) -> Result<VaeShape, VaeError> {
    let get = |k: &str| meta.get(k).ok_or_else(|| VaeError::Input(format!("checkpoint metadata lacks {k}; not a VAE checkpoint")));
    let num = |k: &str, v: &str| v.trim().parse::<usize>().map_err(|_| VaeError::Input(format!("checkpoint metadata {k} = '{v}' is not a size")));
    let sizes = |k: &str, text: &str| text.split(',').filter(|s| !s.is_empty()).map(|s| num(k, s)).collect::<Result<Vec<_>, _>>();
    let hidden = sizes(META_HIDDEN, get(META_HIDDEN)?)?;
    let conv = sizes(META_CONV, meta.get(META_CONV).map_or("", |s| s.as_str()))?;
    let shape = VaeShape { input: num(META_INPUT, get(META_INPUT)?)?, hidden, latent: num(META_LATENT, get(META_LATENT)?)?, conv };
    shape.check()?;
    Ok(shape)
}

/// Save the weights (and optimizer state, if given) with the shape and `extra` metadata.
pub fn save(path: &std::path::Path, vae: &Vae, optimizer: Option<&dyn crate::optim::Optimizer>, extra: &std::collections::BTreeMap<String, String>) -> Result<(), VaeError> {
    let mut meta = shape_meta(vae.shape());
    meta.extend(extra.iter().map(|(k, v)| (k.clone(), v.clone())));
    crate::train::checkpoint::save(path, vae.params(), optimizer, &meta)?;
    Ok(())
}

/// Rebuild a VAE from a checkpoint written by [`save`].
pub fn load(path: &std::path::Path) -> Result<Vae, VaeError> {
    let ck = crate::train::checkpoint::load(path)?;
    let mut vae = Vae::new(shape_from_meta(&ck.meta)?, 0)?;
    ck.apply(vae.params_mut())?;
    Ok(vae)
}

#[cfg(test)]
mod tests;
