//! Networks built from a few choices, as the training lab offers them:
//! MLP, CNN or small ResNet; activation; batch norm; dropout. Each comes
//! with probes on its layer outputs (for activation maps and histograms)
//! and the geometry of its layers (for receptive fields).
//!
//! With ReLU, no batch norm and no dropout the MLP and CNN are the
//! [`super::Mlp`] and [`super::Cnn`] of the same sizes: same parameter
//! names, order and initial values, hence the same training run.

use std::collections::BTreeMap;

use crate::error::EngineError;
use crate::graph::{Graph, Tensor, batch_dim};
use crate::init::Init;
use crate::model::Probe;
use crate::nn::{self, BatchNorm, Conv2d, Conv2dConfig, Dropout, Linear, Mode, Pool2d};

use super::{Classifier, GraphModel, META_ARCH, ModelsError, ResNet};

/// Checkpoint metadata of a network (besides [`META_ARCH`], its family's
/// [`Family::arch`]): its input `C,H,W`, class count and [`NetSpec`] fields.
pub const META_IMAGE: &str = "vislab.image";
pub const META_CLASSES: &str = "vislab.classes";
pub const META_WIDTHS: &str = "vislab.net.widths";
pub const META_HIDDEN: &str = "vislab.net.hidden";
pub const META_ACTIVATION: &str = "vislab.net.activation";
pub const META_BATCH_NORM: &str = "vislab.net.batch_norm";
pub const META_DROPOUT: &str = "vislab.net.dropout";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activation {
    Relu,
    LeakyRelu,
    Tanh,
    Sigmoid,
    Elu,
    Gelu,
}

impl Activation {
    pub const ALL: [Activation; 6] = [Activation::Relu, Activation::LeakyRelu, Activation::Tanh, Activation::Sigmoid, Activation::Elu, Activation::Gelu];

    pub fn name(self) -> &'static str {
        match self {
            Activation::Relu => "ReLU",
            Activation::LeakyRelu => "leaky ReLU (0.01)",
            Activation::Tanh => "tanh",
            Activation::Sigmoid => "sigmoid",
            Activation::Elu => "ELU",
            Activation::Gelu => "GELU",
        }
    }

    /// The name checkpoints record (and the exported model.py reads).
    pub fn key(self) -> &'static str {
        match self {
            Activation::Relu => "relu",
            Activation::LeakyRelu => "leaky_relu",
            Activation::Tanh => "tanh",
            Activation::Sigmoid => "sigmoid",
            Activation::Elu => "elu",
            Activation::Gelu => "gelu",
        }
    }

    pub fn from_key(key: &str) -> Option<Activation> {
        Activation::ALL.into_iter().find(|a| a.key() == key)
    }

    pub fn apply(self, g: &mut Graph, x: Tensor) -> Result<Tensor, EngineError> {
        match self {
            Activation::Relu => nn::relu(g, x),
            Activation::LeakyRelu => nn::leaky_relu(g, x, 0.01),
            Activation::Tanh => nn::tanh(g, x),
            Activation::Sigmoid => nn::sigmoid(g, x),
            Activation::Elu => nn::elu(g, x, 1.0),
            Activation::Gelu => nn::gelu(g, x),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    Mlp,
    Cnn,
    ResNet,
}

impl Family {
    pub const ALL: [Family; 3] = [Family::Mlp, Family::Cnn, Family::ResNet];

    pub fn name(self) -> &'static str {
        match self {
            Family::Mlp => "MLP",
            Family::Cnn => "CNN",
            Family::ResNet => "small ResNet",
        }
    }

    /// Its checkpoints' `vislab.arch`: the command line's `mlp` and `cnn`
    /// are the MLP and CNN families' defaults.
    pub fn arch(self) -> &'static str {
        match self {
            Family::Mlp => "mlp",
            Family::Cnn => "cnn",
            Family::ResNet => "resnet",
        }
    }

    pub fn from_arch(arch: &str) -> Option<Family> {
        Family::ALL.into_iter().find(|f| f.arch() == arch)
    }
}

/// How a layer moves over the image, for receptive fields: a square
/// window of `kernel` with `stride`, or a global layer (fully connected,
/// global pooling) that sees the whole input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LayerGeometry {
    pub name: String,
    pub kernel: Option<usize>,
    pub stride: usize,
}

impl LayerGeometry {
    pub fn conv(name: &str, kernel: usize, stride: usize) -> LayerGeometry {
        LayerGeometry { name: name.into(), kernel: Some(kernel), stride }
    }

    pub fn global(name: &str) -> LayerGeometry {
        LayerGeometry { name: name.into(), kernel: None, stride: 1 }
    }
}

/// Receptive field side of each layer's outputs, in input pixels:
/// `1 + sum over layers l' <= l of (K_l' - 1) * (product of the strides
/// before l')`. None from the first global layer on (it sees everything).
pub fn receptive_fields(layers: &[LayerGeometry]) -> Vec<Option<usize>> {
    let (mut field, mut jump, mut global) = (1usize, 1usize, false);
    layers
        .iter()
        .map(|l| {
            match l.kernel {
                Some(k) if !global => {
                    field += k.saturating_sub(1) * jump;
                    jump *= l.stride.max(1);
                }
                _ => global = true,
            }
            (!global).then_some(field)
        })
        .collect()
}

/// Layer outputs collected by one forward pass, in order.
#[derive(Default)]
pub(crate) struct ProbeList(Vec<(String, Tensor)>);

impl ProbeList {
    pub(crate) fn push(&mut self, name: &str, t: Tensor) {
        self.0.push((name.to_string(), t));
    }

    /// Pair the train-mode outputs with the eval-mode ones of the same pass.
    pub(crate) fn pair(self, eval: ProbeList) -> Vec<Probe> {
        self.0.into_iter().zip(eval.0).map(|((name, train), (_, eval))| Probe { name, train, eval }).collect()
    }
}

/// A built network: the classifier graph, its probes and layer geometry.
pub struct Network {
    pub classifier: Classifier,
    pub probes: Vec<Probe>,
    pub geometry: Vec<LayerGeometry>,
}

impl Network {
    /// Compile it, initializing hidden weights with `init` from `seed`.
    pub fn into_model(self, seed: u64, init: Init) -> Result<GraphModel, ModelsError> {
        GraphModel::with_probes(self.classifier, &self.probes, seed, init)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct NetSpec {
    pub family: Family,
    /// Input `[channels, height, width]` (an MLP flattens it).
    pub image: [usize; 3],
    pub classes: usize,
    /// MLP: hidden layer widths. CNN: channels of each conv stage (3x3,
    /// same padding, then 2x2 max pooling). ResNet: channels of each stage.
    pub widths: Vec<usize>,
    /// CNN: width of the hidden fully connected layer.
    pub hidden: usize,
    /// MLP and CNN (the ResNet's blocks use ReLU, as published).
    pub activation: Activation,
    /// MLP and CNN (the ResNet always normalizes).
    pub batch_norm: bool,
    /// Dropout probability before every fully connected layer after the first hidden one.
    pub dropout: f32,
}

impl NetSpec {
    /// The default network of `family` for `image`s in `classes` classes:
    /// the command line's `mlp` (512, 256) and `cnn` (16, 32 channels, fc
    /// 128) for 28x28 images, or a ResNet of 16 and 32 channels.
    pub fn default_for(family: Family, image: [usize; 3], classes: usize) -> NetSpec {
        let widths = match family {
            Family::Mlp => vec![512, 256],
            Family::Cnn | Family::ResNet => vec![16, 32],
        };
        NetSpec { family, image, classes, widths, hidden: 128, activation: Activation::Relu, batch_norm: false, dropout: 0.0 }
    }

    pub fn build(&self) -> Result<Network, EngineError> {
        match self.family {
            Family::Mlp => self.mlp(),
            Family::Cnn => self.cnn(),
            Family::ResNet => ResNet { image: self.image, stages: self.widths.clone(), dropout: self.dropout, classes: self.classes }.network(),
        }
    }

    /// The checkpoint metadata that rebuilds this network ([`NetSpec::from_meta`]).
    pub fn to_meta(&self) -> BTreeMap<String, String> {
        let [c, h, w] = self.image;
        let widths = self.widths.iter().map(usize::to_string).collect::<Vec<_>>().join(",");
        [
            (META_ARCH, self.family.arch().to_string()),
            (META_IMAGE, format!("{c},{h},{w}")),
            (META_CLASSES, self.classes.to_string()),
            (META_WIDTHS, widths),
            (META_HIDDEN, self.hidden.to_string()),
            (META_ACTIVATION, self.activation.key().to_string()),
            (META_BATCH_NORM, self.batch_norm.to_string()),
            (META_DROPOUT, self.dropout.to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    /// The network a checkpoint's metadata describes. `image` and `classes`
    /// (the data it is scored on) stand in where the metadata has none, and
    /// the family's default where it has no `vislab.net.*` keys: what
    /// `vislab train --model mlp|cnn` checkpoints hold.
    pub fn from_meta(meta: &BTreeMap<String, String>, image: [usize; 3], classes: usize) -> Result<NetSpec, ModelsError> {
        let arch = meta.get(META_ARCH).map_or("", String::as_str);
        let family = Family::from_arch(arch).ok_or_else(|| ModelsError::Meta(format!("{META_ARCH} '{arch}' is not a classifier (mlp, cnn or resnet)")))?;
        let bad = |key: &str, v: &str| ModelsError::Meta(format!("{key}: cannot read '{v}'"));
        let list = |key: &str, v: &str| v.split(',').map(|n| n.trim().parse::<usize>().map_err(|_| bad(key, v))).collect::<Result<Vec<_>, _>>();
        let image = match meta.get(META_IMAGE) {
            Some(v) => list(META_IMAGE, v)?.try_into().map_err(|_| bad(META_IMAGE, v))?,
            None => image,
        };
        let classes = meta.get(META_CLASSES).map_or(Ok(classes), |v| v.parse().map_err(|_| bad(META_CLASSES, v)))?;
        let mut spec = NetSpec::default_for(family, image, classes);
        if let Some(v) = meta.get(META_WIDTHS) {
            spec.widths = list(META_WIDTHS, v)?;
        }
        if let Some(v) = meta.get(META_HIDDEN) {
            spec.hidden = v.parse().map_err(|_| bad(META_HIDDEN, v))?;
        }
        if let Some(v) = meta.get(META_ACTIVATION) {
            spec.activation = Activation::from_key(v).ok_or_else(|| bad(META_ACTIVATION, v))?;
        }
        if let Some(v) = meta.get(META_BATCH_NORM) {
            spec.batch_norm = v.parse().map_err(|_| bad(META_BATCH_NORM, v))?;
        }
        if let Some(v) = meta.get(META_DROPOUT) {
            spec.dropout = v.parse().map_err(|_| bad(META_DROPOUT, v))?;
        }
        Ok(spec)
    }

    /// Build and compile with `init` for the hidden weights.
    pub fn model(&self, seed: u64, init: Init) -> Result<GraphModel, ModelsError> {
        self.build()?.into_model(seed, init)
    }

    /// Activation, then dropout where asked (train mode only).
    fn act(&self, g: &mut Graph, h: Tensor, mode: Mode, drop_site: Option<&str>) -> Result<Tensor, EngineError> {
        let h = self.activation.apply(g, h)?;
        match drop_site {
            Some(site) if self.dropout > 0.0 => Dropout::new(self.dropout)?.forward(g, site, h, mode),
            _ => Ok(h),
        }
    }

    /// Run `pass` in train mode, and again in eval mode if the modes differ:
    /// (train logits, eval logits, state updates, probes).
    fn both_modes<F>(&self, g: &mut Graph, pass: F) -> Result<(Tensor, Tensor, Vec<(Tensor, Tensor)>, Vec<Probe>), EngineError>
    where
        F: Fn(&mut Graph, Mode, &mut Vec<(Tensor, Tensor)>, &mut ProbeList) -> Result<Tensor, EngineError>,
    {
        let (mut updates, mut tp, mut ep) = (vec![], ProbeList::default(), ProbeList::default());
        let train = pass(g, Mode::Train, &mut updates, &mut tp)?;
        let eval = if self.batch_norm || self.dropout > 0.0 {
            pass(g, Mode::Eval, &mut vec![], &mut ep)?
        } else {
            ep = ProbeList(tp.0.clone());
            train
        };
        Ok((train, eval, updates, tp.pair(ep)))
    }

    fn mlp(&self) -> Result<Network, EngineError> {
        let inputs: usize = self.image.iter().product();
        let mut sizes = vec![inputs];
        sizes.extend(&self.widths);
        sizes.push(self.classes);
        let mut g = Graph::new();
        let x = g.input("x", &[batch_dim(), inputs.into()])?;
        let n = sizes.len() - 1;
        let mut fcs = vec![];
        let mut norms = vec![];
        for (i, w) in sizes.windows(2).enumerate() {
            fcs.push(Linear::new(&mut g, &format!("fc{}", i + 1), w[0], w[1], true)?);
            if self.batch_norm && i + 1 < n {
                norms.push(BatchNorm::new(&mut g, &format!("bn{}", i + 1), w[1])?);
            }
        }
        let geometry = (1..=n).map(|i| LayerGeometry::global(&format!("fc{i}"))).collect();
        let run = |g: &mut Graph, mode: Mode, updates: &mut Vec<(Tensor, Tensor)>, probes: &mut ProbeList| -> Result<Tensor, EngineError> {
            let mut h = x;
            for (i, fc) in fcs.iter().enumerate() {
                h = fc.forward(g, h)?;
                if i + 1 < n {
                    if let Some(bn) = norms.get(i) {
                        h = bn.forward(g, h, mode, updates)?;
                    }
                    let site = format!("fc{}.dropout", i + 1);
                    h = self.act(g, h, mode, Some(&site))?;
                }
                probes.push(&format!("fc{}", i + 1), h);
            }
            Ok(h)
        };
        let (train, eval, updates, probes) = self.both_modes(&mut g, run)?;
        let classifier = Classifier {
            graph: g,
            train_logits: train,
            eval_logits: eval,
            state_updates: updates,
            sample_shape: vec![inputs],
            classes: self.classes,
            output_layer: format!("fc{n}"),
        };
        Ok(Network { classifier, probes, geometry })
    }

    fn cnn(&self) -> Result<Network, EngineError> {
        let [c, mut h, mut w] = self.image;
        let mut g = Graph::new();
        let x = g.input("x", &[batch_dim(), c.into(), h.into(), w.into()])?;
        let (mut convs, mut norms, mut geometry) = (vec![], vec![], vec![]);
        let mut cin = c;
        for (i, &cout) in self.widths.iter().enumerate() {
            let cfg = Conv2dConfig { padding: 1, ..Conv2dConfig::new(cin, cout, 3) };
            convs.push(Conv2d::new(&mut g, &format!("conv{}", i + 1), cfg)?);
            if self.batch_norm {
                norms.push(BatchNorm::new(&mut g, &format!("bn{}", i + 1), cout)?);
            }
            if h < 2 || w < 2 {
                return Err(EngineError::Shape(format!("a {}x{} image is too small for {} pooling stages", self.image[1], self.image[2], self.widths.len())));
            }
            geometry.push(LayerGeometry::conv(&format!("conv{}", i + 1), 3, 1));
            geometry.push(LayerGeometry::conv(&format!("pool{}", i + 1), 2, 2));
            (h, w, cin) = (h / 2, w / 2, cout);
        }
        geometry.push(LayerGeometry::global("fc1"));
        geometry.push(LayerGeometry::global("fc2"));
        let fc1 = Linear::new(&mut g, "fc1", cin * h * w, self.hidden, true)?;
        let fc2 = Linear::new(&mut g, "fc2", self.hidden, self.classes, true)?;
        let run = |g: &mut Graph, mode: Mode, updates: &mut Vec<(Tensor, Tensor)>, probes: &mut ProbeList| -> Result<Tensor, EngineError> {
            let mut h = x;
            for (i, conv) in convs.iter().enumerate() {
                h = conv.forward(g, h)?;
                if let Some(bn) = norms.get(i) {
                    h = bn.forward(g, h, mode, updates)?;
                }
                h = self.act(g, h, mode, None)?;
                probes.push(&format!("conv{}", i + 1), h);
                h = Pool2d::max(2, 2).forward(g, h)?;
                probes.push(&format!("pool{}", i + 1), h);
            }
            let h = nn::flatten(g, h)?;
            let h = fc1.forward(g, h)?;
            let h = self.act(g, h, mode, Some("fc1.dropout"))?;
            probes.push("fc1", h);
            let y = fc2.forward(g, h)?;
            probes.push("fc2", y);
            Ok(y)
        };
        let (train, eval, updates, probes) = self.both_modes(&mut g, run)?;
        let classifier = Classifier {
            graph: g,
            train_logits: train,
            eval_logits: eval,
            state_updates: updates,
            sample_shape: self.image.to_vec(),
            classes: self.classes,
            output_layer: "fc2".into(),
        };
        Ok(Network { classifier, probes, geometry })
    }
}
