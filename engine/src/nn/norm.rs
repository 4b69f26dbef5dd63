//! Normalization layers: BatchNorm (train: batch statistics and running
//! statistics updates; eval: running statistics), LayerNorm, GroupNorm and
//! InstanceNorm (GroupNorm with one channel per group).

use crate::error::EngineError;
use crate::graph::{Dim, Graph, Tensor, dim_product};

use super::Mode;

type R = Result<Tensor, EngineError>;

/// (x - mean) / sqrt(var + eps) with mean and biased var over `axes`; also
/// returns the per-group mean and var (axes removed).
fn normalize(g: &mut Graph, x: Tensor, axes: &[usize], eps: f32) -> Result<(Tensor, Tensor, Tensor), EngineError> {
    let shape = g.shape(x);
    let mean = g.mean_axes(x, axes)?;
    let mut mb = mean;
    for &a in axes {
        mb = g.expand(mb, a, shape[a])?;
    }
    let c = g.sub(x, mb)?;
    let c2 = g.mul(c, c)?;
    let var = g.mean_axes(c2, axes)?;
    let ve = g.add_scalar(var, eps)?;
    let sd = g.sqrt(ve);
    let mut sdb = sd;
    for &a in axes {
        sdb = g.expand(sdb, a, shape[a])?;
    }
    let y = g.div(c, sdb)?;
    Ok((y, mean, var))
}

/// Per-channel scale and shift: `[C]` parameters on axis 1 of `[B, C, ...]`.
fn channel_affine(g: &mut Graph, y: Tensor, weight: Tensor, bias: Tensor) -> R {
    let rank = g.shape(y).len();
    let c = g.shape(weight)[0];
    let mut s: Vec<Dim> = vec![c];
    s.extend(std::iter::repeat_n(Dim::from(1usize), rank - 2));
    let w = g.reshape(weight, &s)?;
    let b = g.reshape(bias, &s)?;
    let y = g.mul(y, w)?;
    g.add(y, b)
}

/// BatchNorm over `[B, C]` or `[B, C, H, W]` (PyTorch BatchNorm1d/2d).
#[derive(Debug, Clone, Copy)]
pub struct BatchNorm {
    pub weight: Tensor,
    pub bias: Tensor,
    pub running_mean: Tensor,
    pub running_var: Tensor,
    pub channels: usize,
    pub eps: f32,
    pub momentum: f32,
}

impl BatchNorm {
    /// Registers `{name}.weight`, `{name}.bias` (params) and
    /// `{name}.running_mean`, `{name}.running_var` (state, starting at 0 and 1).
    pub fn new(g: &mut Graph, name: &str, channels: usize) -> Result<BatchNorm, EngineError> {
        Ok(BatchNorm {
            weight: g.param(&format!("{name}.weight"), &[channels])?,
            bias: g.param(&format!("{name}.bias"), &[channels])?,
            running_mean: g.state(&format!("{name}.running_mean"), &[channels], 0.0)?,
            running_var: g.state(&format!("{name}.running_var"), &[channels], 1.0)?,
            channels,
            eps: 1e-5,
            momentum: 0.1,
        })
    }

    /// Train mode pushes (state, new value) pairs onto `updates`:
    /// `running = (1 - momentum) running + momentum batch_stat`, with the
    /// unbiased batch variance as PyTorch does.
    pub fn forward(&self, g: &mut Graph, x: Tensor, mode: Mode, updates: &mut Vec<(Tensor, Tensor)>) -> R {
        let shape = g.shape(x);
        if shape.len() < 2 || shape[1].to_usize() != Some(self.channels) {
            return Err(EngineError::Shape(format!("batchnorm({}) got {shape:?}", self.channels)));
        }
        let axes: Vec<usize> = (0..shape.len()).filter(|&a| a != 1).collect();
        let y = match mode {
            Mode::Train => {
                let (y, mean, var) = normalize(g, x, &axes, self.eps)?;
                let n = dim_product(&axes.iter().map(|&a| shape[a]).collect::<Vec<_>>());
                let nt = g.count(&[n]);
                let n1 = g.add_scalar(nt, -1.0)?;
                let unbias = g.div(nt, n1)?;
                let uvar = g.mul(var, unbias)?;
                for (state, stat) in [(self.running_mean, mean), (self.running_var, uvar)] {
                    let old = g.mul_scalar(state, 1.0 - self.momentum)?;
                    let new = g.mul_scalar(stat, self.momentum)?;
                    updates.push((state, g.add(old, new)?));
                }
                y
            }
            Mode::Eval => {
                let mut s: Vec<Dim> = vec![self.channels.into()];
                s.extend(std::iter::repeat_n(Dim::from(1usize), shape.len() - 2));
                let m = g.reshape(self.running_mean, &s)?;
                let v = g.reshape(self.running_var, &s)?;
                let c = g.sub(x, m)?;
                let ve = g.add_scalar(v, self.eps)?;
                let sd = g.sqrt(ve);
                g.div(c, sd)?
            }
        };
        channel_affine(g, y, self.weight, self.bias)
    }
}

/// LayerNorm over the last `normalized.len()` axes with elementwise affine.
#[derive(Debug, Clone)]
pub struct LayerNorm {
    pub weight: Tensor,
    pub bias: Tensor,
    pub normalized: Vec<usize>,
    pub eps: f32,
}

impl LayerNorm {
    pub fn new(g: &mut Graph, name: &str, normalized: &[usize]) -> Result<LayerNorm, EngineError> {
        Ok(LayerNorm { weight: g.param(&format!("{name}.weight"), normalized)?, bias: g.param(&format!("{name}.bias"), normalized)?, normalized: normalized.to_vec(), eps: 1e-5 })
    }

    pub fn forward(&self, g: &mut Graph, x: Tensor) -> R {
        let rank = g.shape(x).len();
        let k = self.normalized.len();
        if rank < k {
            return Err(EngineError::Shape("layernorm: input rank too small".into()));
        }
        let axes: Vec<usize> = (rank - k..rank).collect();
        let (y, _, _) = normalize(g, x, &axes, self.eps)?;
        let y = g.mul(y, self.weight)?;
        g.add(y, self.bias)
    }
}

/// GroupNorm over `[B, C, H, W]`: statistics per sample and group of
/// channels; per-channel affine. InstanceNorm is `groups == channels`.
#[derive(Debug, Clone, Copy)]
pub struct GroupNorm {
    pub weight: Tensor,
    pub bias: Tensor,
    pub groups: usize,
    pub channels: usize,
    pub eps: f32,
}

impl GroupNorm {
    pub fn new(g: &mut Graph, name: &str, groups: usize, channels: usize) -> Result<GroupNorm, EngineError> {
        if groups == 0 || !channels.is_multiple_of(groups) {
            return Err(EngineError::Shape(format!("{channels} channels do not split into {groups} groups")));
        }
        Ok(GroupNorm { weight: g.param(&format!("{name}.weight"), &[channels])?, bias: g.param(&format!("{name}.bias"), &[channels])?, groups, channels, eps: 1e-5 })
    }

    /// InstanceNorm with affine parameters.
    pub fn instance(g: &mut Graph, name: &str, channels: usize) -> Result<GroupNorm, EngineError> {
        GroupNorm::new(g, name, channels, channels)
    }

    pub fn forward(&self, g: &mut Graph, x: Tensor) -> R {
        let s = g.shape(x);
        if s.len() != 4 || s[1].to_usize() != Some(self.channels) {
            return Err(EngineError::Shape(format!("groupnorm({}) got {s:?}", self.channels)));
        }
        let per = self.channels / self.groups;
        let xg = g.split_axis(x, 1, &[self.groups.into(), per.into()])?; // [B, G, C/G, H, W]
        let (y, _, _) = normalize(g, xg, &[2, 3, 4], self.eps)?;
        let y = g.reshape(y, &s)?;
        channel_affine(g, y, self.weight, self.bias)
    }
}
