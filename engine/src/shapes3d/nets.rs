//! The two classifiers: a PointNet (Qi et al. 2017, without the input and
//! feature transforms) and a small voxel CNN (VoxNet-like), as graph
//! [`Classifier`]s the trainer drives through [`GraphModel`].

use crate::error::EngineError;
use crate::graph::{Graph, Tensor, batch_dim, dim_product};
use crate::init::Init;
use crate::model::Probe;
use crate::models::{Classifier, GraphModel, ModelsError};
use crate::nn::{self, BatchNorm, Conv3d, Conv3dConfig, Linear, MaxPool3d, Mode};

/// The probe holding PointNet's per-point features (after the last shared
/// layer, before the max pool), `[points, width]` per sample.
pub const POINT_FEATURES: &str = "point_features";

/// PointNet: one MLP shared by every point (a matmul on `[B*N, C]`), a max
/// over the points (symmetric, so the order of the points does not
/// matter), then a fully connected head.
#[derive(Clone, Debug, PartialEq)]
pub struct PointNet {
    pub points: usize,
    /// Widths of the shared per-point layers (`mlp1`, `mlp2`, ...).
    pub widths: Vec<usize>,
    /// Width of the hidden head layer `fc1`.
    pub head: usize,
    /// BatchNorm after every shared layer (statistics over all points of
    /// the batch; none in the head, where a batch of one has no variance).
    pub batch_norm: bool,
    pub classes: usize,
}

impl PointNet {
    /// 3-64-128-256 shared layers, max pool, 256-128-classes head.
    pub fn new(points: usize, classes: usize) -> PointNet {
        PointNet { points, widths: vec![64, 128, 256], head: 128, batch_norm: true, classes }
    }

    /// The graph and the probe on the per-point features.
    pub fn build(&self) -> Result<(Classifier, Vec<Probe>), EngineError> {
        if self.points == 0 || self.widths.is_empty() || self.widths.contains(&0) || self.head == 0 || self.classes < 2 {
            return Err(EngineError::Shape(format!("PointNet needs points, layer widths and 2+ classes: {self:?}")));
        }
        let mut g = Graph::new();
        let x = g.input("x", &[batch_dim(), self.points.into(), 3usize.into()])?;
        let mut shared = vec![];
        let mut cin = 3;
        for (i, &w) in self.widths.iter().enumerate() {
            let lin = Linear::new(&mut g, &format!("mlp{}", i + 1), cin, w, true)?;
            let bn = if self.batch_norm { Some(BatchNorm::new(&mut g, &format!("bn{}", i + 1), w)?) } else { None };
            shared.push((lin, bn));
            cin = w;
        }
        let fc1 = Linear::new(&mut g, "fc1", cin, self.head, true)?;
        let fc2 = Linear::new(&mut g, "fc2", self.head, self.classes, true)?;
        let mut updates = vec![];
        let run = |g: &mut Graph, mode: Mode, updates: &mut Vec<(Tensor, Tensor)>| -> Result<(Tensor, Tensor), EngineError> {
            let b = batch_dim();
            let rows = dim_product(&[b, self.points.into()]);
            let mut h = g.reshape(x, &[rows, 3usize.into()])?;
            for (lin, bn) in &shared {
                h = lin.forward(g, h)?;
                if let Some(bn) = bn {
                    h = bn.forward(g, h, mode, updates)?;
                }
                h = nn::relu(g, h)?;
            }
            let feats = g.reshape(h, &[b, self.points.into(), cin.into()])?;
            let pooled = g.max_reduce(feats, 1)?;
            let h = fc1.forward(g, pooled)?;
            let h = nn::relu(g, h)?;
            Ok((fc2.forward(g, h)?, feats))
        };
        let (train, train_feats) = run(&mut g, Mode::Train, &mut updates)?;
        let (eval, eval_feats) = if self.batch_norm { run(&mut g, Mode::Eval, &mut vec![])? } else { (train, train_feats) };
        let net = Classifier {
            graph: g,
            train_logits: train,
            eval_logits: eval,
            state_updates: updates,
            sample_shape: vec![self.points, 3],
            classes: self.classes,
            output_layer: "fc2".into(),
        };
        Ok((net, vec![Probe { name: POINT_FEATURES.into(), train: train_feats, eval: eval_feats }]))
    }

    /// Compiled, weights drawn from `seed`, with the per-point feature probe.
    pub fn model(&self, seed: u64) -> Result<GraphModel, ModelsError> {
        let (net, probes) = self.build()?;
        GraphModel::with_probes(net, &probes, seed, Init::KAIMING_RELU)
    }

    pub fn params(&self) -> usize {
        let mut n = 0;
        let mut cin = 3;
        for &w in &self.widths {
            n += cin * w + w + if self.batch_norm { 2 * w } else { 0 };
            cin = w;
        }
        n + cin * self.head + self.head + self.head * self.classes + self.classes
    }
}

/// The points that win PointNet's max pool: for each feature channel, the
/// point with the largest value (channels that are zero everywhere after
/// the ReLU pick nothing). `features` is `[points, width]` row-major.
/// Sorted, without repeats.
pub fn critical_points(features: &[f32], width: usize) -> Vec<usize> {
    if width == 0 {
        return vec![];
    }
    let n = features.len() / width;
    let mut out = vec![];
    for c in 0..width {
        let mut best: Option<(usize, f32)> = None;
        for p in 0..n {
            let v = features[p * width + c];
            if v > 0.0 && best.is_none_or(|(_, b)| v > b) {
                best = Some((p, v));
            }
        }
        out.extend(best.map(|b| b.0));
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// A small 3-D CNN on `[1, R, R, R]` occupancy grids: per stage a 3x3x3
/// convolution with same padding (`conv{i}`), optional BatchNorm, ReLU and
/// a 2x2x2 max pool; then `fc1` ReLU `fc2`.
#[derive(Clone, Debug, PartialEq)]
pub struct VoxelCnn {
    pub resolution: usize,
    pub channels: Vec<usize>,
    pub hidden: usize,
    pub batch_norm: bool,
    pub classes: usize,
}

impl VoxelCnn {
    /// 8, 16 and 32 channels (three stages), fc 64.
    pub fn new(resolution: usize, classes: usize) -> VoxelCnn {
        VoxelCnn { resolution, channels: vec![8, 16, 32], hidden: 64, batch_norm: true, classes }
    }

    pub fn build(&self) -> Result<Classifier, EngineError> {
        let r0 = self.resolution;
        if self.channels.is_empty() || self.channels.contains(&0) || self.hidden == 0 || self.classes < 2 {
            return Err(EngineError::Shape(format!("voxel CNN needs channels, a hidden width and 2+ classes: {self:?}")));
        }
        if r0 >> self.channels.len() == 0 {
            return Err(EngineError::Shape(format!("a {r0}^3 grid is too small for {} pooling stages", self.channels.len())));
        }
        let mut g = Graph::new();
        let x = g.input("x", &[batch_dim(), 1usize.into(), r0.into(), r0.into(), r0.into()])?;
        let (mut convs, mut norms) = (vec![], vec![]);
        let (mut cin, mut r) = (1, r0);
        for (i, &cout) in self.channels.iter().enumerate() {
            convs.push(Conv3d::new(&mut g, &format!("conv{}", i + 1), Conv3dConfig::new(cin, cout, 3).with_padding(1))?);
            if self.batch_norm {
                norms.push(BatchNorm::new(&mut g, &format!("bn{}", i + 1), cout)?);
            }
            (cin, r) = (cout, r / 2);
        }
        let fc1 = Linear::new(&mut g, "fc1", cin * r * r * r, self.hidden, true)?;
        let fc2 = Linear::new(&mut g, "fc2", self.hidden, self.classes, true)?;
        let run = |g: &mut Graph, mode: Mode, updates: &mut Vec<(Tensor, Tensor)>| -> Result<Tensor, EngineError> {
            let mut h = x;
            for (i, conv) in convs.iter().enumerate() {
                h = conv.forward(g, h)?;
                if let Some(bn) = norms.get(i) {
                    h = bn.forward(g, h, mode, updates)?;
                }
                h = nn::relu(g, h)?;
                h = MaxPool3d::new(2).forward(g, h)?;
            }
            let h = nn::flatten(g, h)?;
            let h = fc1.forward(g, h)?;
            let h = nn::relu(g, h)?;
            fc2.forward(g, h)
        };
        let mut updates = vec![];
        let train = run(&mut g, Mode::Train, &mut updates)?;
        let eval = if self.batch_norm { run(&mut g, Mode::Eval, &mut vec![])? } else { train };
        Ok(Classifier {
            graph: g,
            train_logits: train,
            eval_logits: eval,
            state_updates: updates,
            sample_shape: vec![1, r0, r0, r0],
            classes: self.classes,
            output_layer: "fc2".into(),
        })
    }

    pub fn model(&self, seed: u64) -> Result<GraphModel, ModelsError> {
        GraphModel::new(self.build()?, seed)
    }

    pub fn params(&self) -> usize {
        let (mut n, mut cin, mut r) = (0, 1, self.resolution);
        for &c in &self.channels {
            n += c * cin * 27 + c + if self.batch_norm { 2 * c } else { 0 };
            (cin, r) = (c, r / 2);
        }
        let flat = cin * r * r * r;
        n + flat * self.hidden + self.hidden + self.hidden * self.classes + self.classes
    }
}
