//! A way out to PyTorch: `vislab export --pytorch OUT --checkpoint FILE`.
//!
//! From a checkpoint of any model `vislab train` makes, write into `OUT`:
//! - `model.py`: self-contained; `build()` returns the `torch.nn.Module`
//!   with the checkpoint's architecture and parameter names. Its `CONFIG`
//!   is the checkpoint's metadata (architecture and training recipe, the
//!   `vislab.train.*` keys) plus what the exporter reads off the tensors.
//! - `weights.safetensors`: exactly that module's state dict (the model
//!   tensors, bytes and dtypes as stored, without the optimizer's), so
//!   `build().load_state_dict(load_file(...), strict=True)` works.
//! - `train.py`: the same data, optimizer, schedule and augmentation for
//!   `torchrun` and DistributedDataParallel; its result loads back here.
//! - `data.safetensors`, when the caller hands over data vislab makes
//!   itself (the built-in digits, image folders, synthetic shapes).
//!
//! The Python lives in `py/` as plain files: `train.py` is
//! `train_common.py` followed by the model's own loop.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use safetensors::tensor::{Dtype, SafeTensors, TensorView};

use crate::models::{Activation, META_ACTIVATION, META_ARCH, META_DROPOUT};

/// The Python of one kind of model.
struct Kind {
    /// `vislab.arch` values it covers.
    arches: &'static [&'static str],
    model: &'static str,
    train: &'static str,
}

const TRAIN_COMMON: &str = include_str!("py/train_common.py");
const CONFIG_SLOT: &str = "__VISLAB_CONFIG__";

static KINDS: [Kind; 5] = [
    Kind { arches: &["mlp", "cnn", "resnet"], model: include_str!("py/classifier_model.py"), train: include_str!("py/classifier_train.py") },
    Kind { arches: &["vae"], model: include_str!("py/vae_model.py"), train: include_str!("py/vae_train.py") },
    Kind { arches: &["pixelcnn"], model: include_str!("py/pixelcnn_model.py"), train: include_str!("py/pixelcnn_train.py") },
    Kind { arches: &["gan-mlp", "gan-dcgan"], model: include_str!("py/gan_model.py"), train: include_str!("py/gan_train.py") },
    Kind { arches: &["detector"], model: include_str!("py/detector_model.py"), train: include_str!("py/detector_train.py") },
];

/// Metadata the exporter manages itself: optimizer state is not exported.
const OPTIM_META: &str = "vislab.optim.";
const OPTIM_TENSORS: &str = "optim.";

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error("{path}: not a safetensors checkpoint: {msg}")]
    Format { path: PathBuf, msg: String },
    #[error("{0}")]
    Unsupported(String),
}

/// Values of a tensor handed to the exporter.
#[derive(Clone, Debug, PartialEq)]
pub enum Values {
    F32(Vec<f32>),
    I64(Vec<i64>),
}

/// A named tensor for `data.safetensors`.
#[derive(Clone, Debug, PartialEq)]
pub struct Named {
    pub name: String,
    pub shape: Vec<usize>,
    pub values: Values,
}

impl Named {
    pub fn f32(name: &str, shape: Vec<usize>, values: Vec<f32>) -> Named {
        Named { name: name.into(), shape, values: Values::F32(values) }
    }

    pub fn i64(name: &str, shape: Vec<usize>, values: Vec<i64>) -> Named {
        Named { name: name.into(), shape, values: Values::I64(values) }
    }

    fn bytes(&self) -> Vec<u8> {
        match &self.values {
            Values::F32(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
            Values::I64(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        }
    }

    fn dtype(&self) -> Dtype {
        match self.values {
            Values::F32(_) => Dtype::F32,
            Values::I64(_) => Dtype::I64,
        }
    }
}

/// What an export wrote.
#[derive(Clone, Debug, PartialEq)]
pub struct Exported {
    pub arch: String,
    pub files: Vec<PathBuf>,
    /// The recipe's `--data`, or empty.
    pub data: String,
}

/// The checkpoint's metadata (as `model.py` sees it) and its model tensors.
pub struct Source {
    pub meta: BTreeMap<String, String>,
    /// (name, dtype, shape, bytes), sorted by name.
    tensors: Vec<(String, Dtype, Vec<usize>, Vec<u8>)>,
}

impl Source {
    pub fn read(path: &Path) -> Result<Source, ExportError> {
        let bytes = std::fs::read(path).map_err(|source| ExportError::Read { path: path.into(), source })?;
        let format = |msg: String| ExportError::Format { path: path.into(), msg };
        let (_, header) = SafeTensors::read_metadata(&bytes).map_err(|e| format(e.to_string()))?;
        let st = SafeTensors::deserialize(&bytes).map_err(|e| format(e.to_string()))?;
        let mut meta: BTreeMap<String, String> = header.metadata().clone().unwrap_or_default().into_iter().filter(|(k, _)| !k.starts_with(OPTIM_META)).collect();
        let mut tensors: Vec<_> =
            st.tensors().into_iter().filter(|(name, _)| !name.starts_with(OPTIM_TENSORS)).map(|(name, v)| (name, v.dtype(), v.shape().to_vec(), v.data().to_vec())).collect();
        // PyTorch's BatchNorm keeps a step counter vislab does not: give each
        // one (as the optimizer's step count), so the state dict is complete.
        let steps: i64 = header.metadata().as_ref().and_then(|m| m.get("vislab.optim.step")).and_then(|s| s.parse().ok()).unwrap_or(0);
        let counters: Vec<String> = tensors.iter().filter_map(|(n, ..)| n.strip_suffix(".running_mean")).map(|p| format!("{p}.num_batches_tracked")).collect();
        for name in counters {
            if !tensors.iter().any(|(n, ..)| *n == name) {
                tensors.push((name, Dtype::I64, vec![], steps.to_le_bytes().to_vec()));
            }
        }
        tensors.sort_by(|a, b| a.0.cmp(&b.0));
        let arch = meta.get(META_ARCH).cloned().ok_or_else(|| format(format!("no {META_ARCH} metadata: not written by vislab train")))?;
        let shapes: BTreeMap<&str, &[usize]> = tensors.iter().map(|(n, _, s, _)| (n.as_str(), s.as_slice())).collect();
        let derived = derive(&arch, &shapes, &meta).map_err(format)?;
        meta.extend(derived);
        Ok(Source { meta, tensors })
    }

    pub fn arch(&self) -> &str {
        self.meta.get(META_ARCH).map_or("", String::as_str)
    }

    /// Model tensor names and shapes.
    pub fn shapes(&self) -> impl Iterator<Item = (&str, &[usize])> {
        self.tensors.iter().map(|(n, _, s, _)| (n.as_str(), s.as_slice()))
    }
}

/// The image shape a dataset kind implies, for checkpoints that predate
/// `vislab.image`.
fn image_of_data(kind: &str) -> Option<&'static str> {
    match kind {
        "mnist" | "fashion-mnist" => Some("1,28,28"),
        k if k.starts_with("cifar") => Some("3,32,32"),
        "digits" => Some("1,8,8"),
        _ => None,
    }
}

/// Architecture keys read off the tensors, for `model.py`. A classifier's
/// activation and dropout are not in its tensors: they come from the
/// network's metadata, which `vislab train --model mlp|cnn` checkpoints
/// lack (ReLU, no dropout).
fn derive(arch: &str, shapes: &BTreeMap<&str, &[usize]>, meta: &BTreeMap<String, String>) -> Result<BTreeMap<String, String>, String> {
    let dim = |name: &str, axis: usize| shapes.get(name).and_then(|s| s.get(axis).copied()).ok_or_else(|| format!("no tensor {name} with axis {axis} in a {arch} checkpoint"));
    let join = |v: &[usize]| v.iter().map(usize::to_string).collect::<Vec<_>>().join(",");
    let count = |pattern: &str| (1..).take_while(|i| shapes.contains_key(pattern.replace('#', &i.to_string()).as_str())).count();
    let mut out = BTreeMap::new();
    match arch {
        "mlp" => {
            let layers = count("fc#.weight");
            let mut sizes = vec![dim("fc1.weight", 1)?];
            for i in 1..=layers {
                sizes.push(dim(&format!("fc{i}.weight"), 0)?);
            }
            out.insert("vislab.mlp.sizes".into(), join(&sizes));
            out.insert("vislab.mlp.batch_norm".into(), shapes.contains_key("bn1.weight").to_string());
            out.insert("vislab.classes".into(), sizes[layers].to_string());
        }
        "cnn" => {
            let channels = (1..=count("conv#.weight")).map(|i| dim(&format!("conv{i}.weight"), 0)).collect::<Result<Vec<_>, _>>()?;
            out.insert("vislab.cnn.channels".into(), join(&channels));
            out.insert("vislab.cnn.kernel".into(), dim("conv1.weight", 2)?.to_string());
            out.insert("vislab.cnn.batch_norm".into(), shapes.contains_key("bn1.weight").to_string());
            out.insert("vislab.cnn.hidden".into(), dim("fc1.weight", 0)?.to_string());
            out.insert("vislab.classes".into(), dim("fc2.weight", 0)?.to_string());
            if !meta.contains_key("vislab.image") {
                let data = meta.get("vislab.data").map_or("", String::as_str);
                let image = image_of_data(data).ok_or_else(|| format!("no vislab.image metadata and data '{data}' does not imply an image size"))?;
                out.insert("vislab.image".into(), image.into());
            }
        }
        "resnet" => {
            let stages = (1..=count("layer#.conv1.weight")).map(|i| dim(&format!("layer{i}.conv1.weight"), 0)).collect::<Result<Vec<_>, _>>()?;
            out.insert("vislab.resnet.stages".into(), join(&stages));
            out.insert("vislab.resnet.input_channels".into(), dim("conv1.weight", 1)?.to_string());
            out.insert("vislab.classes".into(), dim("fc.weight", 0)?.to_string());
        }
        _ => return Ok(out),
    }
    let activation = meta.get(META_ACTIVATION).map_or("relu", String::as_str);
    if Activation::from_key(activation).is_none() {
        return Err(format!("unknown {META_ACTIVATION} '{activation}'"));
    }
    let dropout = meta.get(META_DROPOUT).map_or("0", String::as_str);
    if !dropout.parse::<f32>().is_ok_and(|p| (0.0..1.0).contains(&p)) {
        return Err(format!("{META_DROPOUT} '{dropout}' is not a probability below 1"));
    }
    out.insert(META_ACTIVATION.into(), activation.into());
    out.insert(META_DROPOUT.into(), dropout.into());
    Ok(out)
}

/// Write `model.py`, `weights.safetensors`, `train.py` (and
/// `data.safetensors` when `data` is given) into `out`.
pub fn pytorch(source: &Source, out: &Path, data: Option<&[Named]>) -> Result<Exported, ExportError> {
    let arch = source.arch();
    let kind = KINDS.iter().find(|k| k.arches.contains(&arch)).ok_or_else(|| {
        let known: Vec<&str> = KINDS.iter().flat_map(|k| k.arches.iter().copied()).collect();
        ExportError::Unsupported(format!("cannot export a '{arch}' checkpoint (exportable: {})", known.join(", ")))
    })?;
    std::fs::create_dir_all(out).map_err(|source| ExportError::Write { path: out.into(), source })?;
    let config = serde_json::to_string_pretty(&source.meta).unwrap_or_default();
    let mut files = vec![];
    let mut write = |name: &str, bytes: &[u8]| -> Result<(), ExportError> {
        let path = out.join(name);
        std::fs::write(&path, bytes).map_err(|source| ExportError::Write { path: path.clone(), source })?;
        files.push(path);
        Ok(())
    };
    write("model.py", kind.model.replacen(CONFIG_SLOT, &config, 1).as_bytes())?;
    let weights: Vec<(&str, Dtype, &[usize], &[u8])> = source.tensors.iter().map(|(n, d, s, b)| (n.as_str(), *d, s.as_slice(), b.as_slice())).collect();
    write("weights.safetensors", &serialize(&weights, Some(&source.meta))?)?;
    write("train.py", format!("{TRAIN_COMMON}{}", kind.train).as_bytes())?;
    if let Some(data) = data {
        let bytes: Vec<Vec<u8>> = data.iter().map(Named::bytes).collect();
        let views: Vec<(&str, Dtype, &[usize], &[u8])> = data.iter().zip(&bytes).map(|(t, b)| (t.name.as_str(), t.dtype(), t.shape.as_slice(), b.as_slice())).collect();
        write("data.safetensors", &serialize(&views, None)?)?;
    }
    Ok(Exported { arch: arch.into(), files, data: source.meta.get("vislab.train.data").cloned().unwrap_or_default() })
}

fn serialize(tensors: &[(&str, Dtype, &[usize], &[u8])], meta: Option<&BTreeMap<String, String>>) -> Result<Vec<u8>, ExportError> {
    let bad = |e: safetensors::SafeTensorError| ExportError::Unsupported(format!("cannot encode tensors: {e}"));
    let views = tensors.iter().map(|(n, d, s, b)| Ok((n.to_string(), TensorView::new(*d, s.to_vec(), b).map_err(bad)?))).collect::<Result<Vec<_>, ExportError>>()?;
    let meta = meta.map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect::<std::collections::HashMap<_, _>>());
    safetensors::tensor::serialize(views, meta).map_err(bad)
}

#[cfg(test)]
mod tests;
