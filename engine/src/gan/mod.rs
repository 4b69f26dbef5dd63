//! Generative adversarial networks (Goodfellow et al. 2014) with MLPs: a
//! generator mapping noise to samples (2D points, or small images scaled
//! to [-1, 1]) and a discriminator scoring them, trained in alternation
//! with the non-saturating or the least-squares loss and optional
//! one-sided label smoothing.
//!
//! - [`net`]: the two MLPs and the two training graphs (D alone, G through D).
//! - [`conv`]: the DCGAN networks (transposed convolutions, batch norm) and
//!   their graphs, for MNIST-sized images.
//! - [`frechet`]: the Frechet distance of generated images to held-out
//!   reals on a trained classifier's features.
//! - [`real`]: seeded samples of the real distributions (ring, gaussians,
//!   line, drawn points, a set of images).
//! - [`train`]: [`GanTrainer`], the alternating steps and the views
//!   (fakes, D on a lattice, G's image of a noise lattice).
//! - [`worker`]: the trainer on a thread driven by commands.

pub mod conv;
pub mod frechet;
pub mod net;
pub mod real;
pub mod train;
pub mod worker;

pub use net::ConvShape;
pub use net::{GanLoss, GanShape};
pub use real::RealDist;
pub use train::{GanConfig, GanTrainer, GanView, Net, StepReport, ViewSpec};

use std::collections::BTreeMap;

use crate::error::EngineError;
use crate::models::Activation;
use crate::train::Param;
use crate::train::checkpoint;

#[derive(Debug, thiserror::Error)]
pub enum GanError {
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Init(#[from] crate::init::InitError),
    #[error(transparent)]
    Optim(#[from] crate::optim::OptimError),
    #[error(transparent)]
    Checkpoint(#[from] checkpoint::CheckpointError),
    #[error("{0}")]
    Input(String),
    #[error("training diverged: {0}")]
    Diverged(String),
}

/// Checkpoint metadata keys.
const META_DATA: &str = "vislab.gan.data";
const META_TANH: &str = "vislab.gan.tanh_out";
const META_NOISE: &str = "vislab.gan.noise";
const META_G_HIDDEN: &str = "vislab.gan.g_hidden";
const META_D_HIDDEN: &str = "vislab.gan.d_hidden";
const META_G_ACT: &str = "vislab.gan.g_activation";
const META_D_ACT: &str = "vislab.gan.d_activation";
const META_LOSS: &str = "vislab.gan.loss";
const META_STEPS: &str = "vislab.gan.steps";
/// DCGAN sizes: `side,g_channels,d_channels` (absent for MLPs).
const META_CONV: &str = "vislab.gan.conv";

fn sizes(v: &[usize]) -> String {
    v.iter().map(|h| h.to_string()).collect::<Vec<_>>().join(",")
}

/// Save both networks' weights (PyTorch-style names, `g_*` and `d_*`) with
/// their shapes, the loss and the step counts in the metadata, with the
/// caller's `extra` entries (the training recipe).
pub fn save(path: &std::path::Path, t: &GanTrainer, extra: &BTreeMap<String, String>) -> Result<(), GanError> {
    let c = t.config();
    let (d, g, r) = t.counts();
    let arch = if c.shape.conv.is_some() { "gan-dcgan" } else { "gan-mlp" };
    let mut meta = BTreeMap::from([
        (crate::models::META_ARCH.to_string(), arch.to_string()),
        (META_DATA.to_string(), c.shape.data.to_string()),
        (META_TANH.to_string(), c.shape.tanh_out.to_string()),
        (META_NOISE.to_string(), c.shape.noise.to_string()),
        (META_G_HIDDEN.to_string(), sizes(&c.shape.g_hidden)),
        (META_D_HIDDEN.to_string(), sizes(&c.shape.d_hidden)),
        (META_G_ACT.to_string(), c.shape.g_act.name().to_string()),
        (META_D_ACT.to_string(), c.shape.d_act.name().to_string()),
        (META_LOSS.to_string(), c.loss.name().to_string()),
        (META_STEPS.to_string(), format!("{d},{g},{r}")),
    ]);
    meta.extend(extra.iter().map(|(k, v)| (k.clone(), v.clone())));
    if let Some(k) = c.shape.conv {
        meta.insert(META_CONV.to_string(), format!("{},{},{}", k.side, k.g_channels, k.d_channels));
    }
    let params: Vec<Param> = t.g_params().iter().cloned().chain(t.g_state()?).chain(t.d_params().iter().cloned()).collect();
    checkpoint::save(path, &params, None, &meta)?;
    Ok(())
}

/// The architecture and loss stored by [`save`], over `base` (the rest of
/// the training settings are the caller's).
pub fn config_from_meta(meta: &BTreeMap<String, String>, base: &GanConfig) -> Result<GanConfig, GanError> {
    let get = |k: &str| meta.get(k).ok_or_else(|| GanError::Input(format!("checkpoint metadata lacks {k}; not a GAN checkpoint")));
    let num = |k: &str, v: &str| v.trim().parse::<usize>().map_err(|_| GanError::Input(format!("checkpoint metadata {k} = '{v}' is not a size")));
    let list = |k: &str| -> Result<Vec<usize>, GanError> { get(k)?.split(',').filter(|s| !s.is_empty()).map(|s| num(k, s)).collect() };
    let act = |k: &str| -> Result<Activation, GanError> {
        let v = get(k)?;
        Activation::ALL.into_iter().find(|a| a.name() == v).ok_or_else(|| GanError::Input(format!("unknown activation '{v}' in {k}")))
    };
    let loss_name = get(META_LOSS)?;
    let loss = GanLoss::parse(loss_name).ok_or_else(|| GanError::Input(format!("unknown GAN loss '{loss_name}'")))?;
    let tanh_out = match get(META_TANH)?.as_str() {
        "true" => true,
        "false" => false,
        v => return Err(GanError::Input(format!("checkpoint metadata {META_TANH} = '{v}' is not true or false"))),
    };
    let shape = GanShape {
        data: num(META_DATA, get(META_DATA)?)?,
        tanh_out,
        noise: num(META_NOISE, get(META_NOISE)?)?,
        g_hidden: list(META_G_HIDDEN)?,
        d_hidden: list(META_D_HIDDEN)?,
        g_act: act(META_G_ACT)?,
        d_act: act(META_D_ACT)?,
        conv: match meta.get(META_CONV) {
            None => None,
            Some(v) => match v.split(',').map(|x| num(META_CONV, x)).collect::<Result<Vec<_>, _>>()?[..] {
                [side, g_channels, d_channels] => Some(ConvShape { side, g_channels, d_channels }),
                _ => return Err(GanError::Input(format!("checkpoint metadata {META_CONV} = '{v}' is not side,G channels,D channels"))),
            },
        },
    };
    shape.check()?;
    Ok(GanConfig { shape, loss, ..base.clone() })
}

/// Rebuild a trainer from a checkpoint written by [`save`]: its networks
/// and step counts, `base`'s other settings, training on `real`. Adam
/// starts afresh (its state is not saved).
pub fn load(path: &std::path::Path, base: &GanConfig, real: RealDist) -> Result<GanTrainer, GanError> {
    let ck = checkpoint::load(path)?;
    let config = config_from_meta(&ck.meta, base)?;
    let mut t = GanTrainer::new(config, real)?;
    let (ng, ns) = (t.g_params().len(), t.g_state()?.len());
    let mut params: Vec<Param> = t.g_params().iter().cloned().chain(t.g_state()?).chain(t.d_params().iter().cloned()).collect();
    ck.apply(&mut params)?;
    for (dst, src) in t.g_params_mut().iter_mut().zip(&params[..ng]) {
        dst.value.clone_from(&src.value);
    }
    t.set_g_state(&params[ng..ng + ns])?;
    for (dst, src) in t.d_params_mut().iter_mut().zip(&params[ng + ns..]) {
        dst.value.clone_from(&src.value);
    }
    if let Some(s) = ck.meta.get(META_STEPS) {
        let v: Vec<usize> = s.split(',').filter_map(|x| x.trim().parse().ok()).collect();
        if let [d, g, r] = v[..] {
            t.set_counts(d, g, r);
        }
    }
    Ok(t)
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod dcgan_tests;
