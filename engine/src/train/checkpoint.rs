//! Checkpoints in the safetensors format with PyTorch names and layouts.
//!
//! Model tensors are stored under their own names (`fc1.weight` `[out, in]`,
//! f32 little-endian; `*.num_batches_tracked` as I64 like PyTorch), so the
//! file loads with `model.load_state_dict(safetensors.torch.load_file(p),
//! strict=False)` after dropping the `optim.` keys (see
//! `engine/tests/pytorch_compat.py`). Optimizer buffers are tensors named
//! `optim.<param>.<slot>` (e.g. `optim.fc1.weight.m`); the optimizer kind,
//! step count and learning rate, and the caller's own entries (epoch,
//! step...) go in the string metadata, so training resumes exactly.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use safetensors::tensor::{Dtype, SafeTensors, TensorView};

use super::{Model, Param};
use crate::optim::{OptimError, OptimState, Optimizer, SlotBuffer};

const OPTIM_PREFIX: &str = "optim.";
const META_KIND: &str = "vislab.optim.kind";
const META_STEP: &str = "vislab.optim.step";
const META_LR: &str = "vislab.optim.lr";

#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error("cannot access {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("not a valid safetensors checkpoint: {0}")]
    Format(String),
    #[error("tensor {name}: {msg}")]
    Tensor { name: String, msg: String },
    #[error("checkpoint does not match the model: {0}")]
    Mismatch(String),
    #[error("optimizer state: {0}")]
    Optim(#[from] OptimError),
}

/// A named tensor as stored (f32 values, row-major).
#[derive(Clone, Debug, PartialEq)]
pub struct Tensor {
    pub name: String,
    pub shape: Vec<usize>,
    pub value: Vec<f32>,
}

/// The contents of a checkpoint file.
#[derive(Clone, Debug, PartialEq)]
pub struct Checkpoint {
    /// Model parameters and buffers, sorted by name.
    pub tensors: Vec<Tensor>,
    pub optim: Option<OptimState>,
    /// Free-form string metadata (e.g. "epoch", "step"), without the
    /// entries this module manages.
    pub meta: BTreeMap<String, String>,
}

fn is_counter(name: &str) -> bool {
    name.ends_with(".num_batches_tracked")
}

/// Serialize parameters, optional optimizer state and metadata.
pub fn to_bytes(params: &[Param], optim: Option<&OptimState>, meta: &BTreeMap<String, String>) -> Result<Vec<u8>, CheckpointError> {
    let mut entries: Vec<(String, Dtype, Vec<usize>, Vec<u8>)> = Vec::new();
    for p in params {
        if p.value.len() != p.numel() {
            return Err(CheckpointError::Tensor { name: p.name.clone(), msg: format!("{} values for shape {:?}", p.value.len(), p.shape) });
        }
        if is_counter(&p.name) {
            let bytes = p.value.iter().flat_map(|&v| (v as i64).to_le_bytes()).collect();
            entries.push((p.name.clone(), Dtype::I64, p.shape.clone(), bytes));
        } else {
            entries.push((p.name.clone(), Dtype::F32, p.shape.clone(), f32_bytes(&p.value)));
        }
    }
    let mut info: HashMap<String, String> = meta.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    info.insert("format".into(), "pt".into());
    if let Some(o) = optim {
        for b in &o.buffers {
            let name = format!("{OPTIM_PREFIX}{}.{}", b.param, b.slot);
            // The parameter's shape, as PyTorch keeps optimizer state (flat if
            // the parameter is not in `params`).
            let shape = match params.iter().find(|p| p.name == b.param) {
                Some(p) if p.numel() == b.value.len() => p.shape.clone(),
                _ => vec![b.value.len()],
            };
            entries.push((name, Dtype::F32, shape, f32_bytes(&b.value)));
        }
        info.insert(META_KIND.into(), o.kind.clone());
        info.insert(META_STEP.into(), o.step.to_string());
        info.insert(META_LR.into(), o.lr.to_string());
    }
    let mut views = Vec::with_capacity(entries.len());
    for (name, dtype, shape, bytes) in &entries {
        let v = TensorView::new(*dtype, shape.clone(), bytes).map_err(|e| CheckpointError::Tensor { name: name.clone(), msg: e.to_string() })?;
        views.push((name.as_str(), v));
    }
    safetensors::serialize(views, Some(info)).map_err(|e| CheckpointError::Format(e.to_string()))
}

fn f32_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// Save to `path` (written to a temporary file, then renamed, so a crash
/// never leaves half a checkpoint).
pub fn save(path: &Path, params: &[Param], optim: Option<&dyn Optimizer>, meta: &BTreeMap<String, String>) -> Result<(), CheckpointError> {
    let state = optim.map(|o| o.state());
    let bytes = to_bytes(params, state.as_ref(), meta)?;
    let io = |source| CheckpointError::Io { path: path.to_path_buf(), source };
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, &bytes).map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}

pub fn load(path: &Path) -> Result<Checkpoint, CheckpointError> {
    let bytes = std::fs::read(path).map_err(|source| CheckpointError::Io { path: path.to_path_buf(), source })?;
    from_bytes(&bytes)
}

/// Values of a stored tensor as f32 (F32, F64, I64 and I32 accepted).
fn to_f32(name: &str, v: &TensorView<'_>) -> Result<Vec<f32>, CheckpointError> {
    let d = v.data();
    Ok(match v.dtype() {
        Dtype::F32 => d.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect(),
        Dtype::F64 => d.chunks_exact(8).map(|c| f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]) as f32).collect(),
        Dtype::I64 => d.chunks_exact(8).map(|c| i64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]) as f32).collect(),
        Dtype::I32 => d.chunks_exact(4).map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f32).collect(),
        other => return Err(CheckpointError::Tensor { name: name.into(), msg: format!("unsupported dtype {other:?}") }),
    })
}

pub fn from_bytes(bytes: &[u8]) -> Result<Checkpoint, CheckpointError> {
    let fmt = |e: safetensors::SafeTensorError| CheckpointError::Format(e.to_string());
    let (_, header) = SafeTensors::read_metadata(bytes).map_err(fmt)?;
    let st = SafeTensors::deserialize(bytes).map_err(fmt)?;
    let mut meta: BTreeMap<String, String> = header.metadata().clone().unwrap_or_default().into_iter().collect();
    meta.remove("format");
    let mut tensors = Vec::new();
    let mut buffers = Vec::new();
    for (name, view) in st.iter() {
        let value = to_f32(name, &view)?;
        if let Some(rest) = name.strip_prefix(OPTIM_PREFIX) {
            let (param, slot) =
                rest.rsplit_once('.').ok_or_else(|| CheckpointError::Tensor { name: name.into(), msg: "optimizer tensor name is not optim.<param>.<slot>".into() })?;
            buffers.push(SlotBuffer { param: param.into(), slot: slot.into(), value });
        } else {
            tensors.push(Tensor { name: name.into(), shape: view.shape().to_vec(), value });
        }
    }
    tensors.sort_by(|a, b| a.name.cmp(&b.name));
    buffers.sort_by(|a, b| (&a.param, &a.slot).cmp(&(&b.param, &b.slot)));
    let optim = match meta.remove(META_KIND) {
        None if buffers.is_empty() => None,
        None => return Err(CheckpointError::Format("optimizer tensors without an optimizer kind in the metadata".into())),
        Some(kind) => {
            let mut num = |key: &str| meta.remove(key).ok_or_else(|| CheckpointError::Format(format!("metadata lacks {key}")));
            let step = num(META_STEP)?.parse().map_err(|e| CheckpointError::Format(format!("{META_STEP}: {e}")))?;
            let lr = num(META_LR)?.parse().map_err(|e| CheckpointError::Format(format!("{META_LR}: {e}")))?;
            Some(OptimState { kind, step, lr, buffers })
        }
    };
    Ok(Checkpoint { tensors, optim, meta })
}

impl Checkpoint {
    pub fn tensor(&self, name: &str) -> Option<&Tensor> {
        self.tensors.iter().find(|t| t.name == name)
    }

    /// Copy the stored values into `params`. Strict, like PyTorch's
    /// `load_state_dict`: every name must be present on both sides with the
    /// same shape (BatchNorm's `num_batches_tracked` aside, which a model
    /// without it ignores), else nothing is changed and the error lists the problems.
    pub fn apply(&self, params: &mut [Param]) -> Result<(), CheckpointError> {
        let mut problems = Vec::new();
        for p in params.iter() {
            match self.tensor(&p.name) {
                None => problems.push(format!("missing {}", p.name)),
                Some(t) if t.shape != p.shape => problems.push(format!("{}: shape {:?} in file, {:?} in model", p.name, t.shape, p.shape)),
                Some(_) => {}
            }
        }
        // PyTorch's BatchNorm step counters have no place in vislab's models
        for t in self.tensors.iter().filter(|t| !is_counter(&t.name)) {
            if !params.iter().any(|p| p.name == t.name) {
                problems.push(format!("unexpected {}", t.name));
            }
        }
        if !problems.is_empty() {
            return Err(CheckpointError::Mismatch(problems.join("; ")));
        }
        for p in params.iter_mut() {
            if let Some(t) = self.tensor(&p.name) {
                p.value.copy_from_slice(&t.value);
            }
        }
        Ok(())
    }

    /// Load weights into `model` and, if given, the optimizer state (an
    /// error if the checkpoint has none).
    pub fn restore(&self, model: &mut dyn Model, optim: Option<&mut dyn Optimizer>) -> Result<(), CheckpointError> {
        if let Some(o) = optim {
            let state = self.optim.as_ref().ok_or_else(|| CheckpointError::Mismatch("the checkpoint holds no optimizer state".into()))?;
            o.load_state(state)?;
        }
        self.apply(model.params_mut())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Batch;
    use crate::optim::Adam;
    use crate::train::reference::Mlp;

    fn params() -> Vec<Param> {
        vec![
            Param::new("conv1.weight", vec![2, 1, 2, 2], vec![0.1, -0.2, 1e-30, f32::MAX, 3.0, -0.0, 7.5, 1.0 / 3.0]),
            Param::new("conv1.bias", vec![2], vec![0.5, -0.5]),
            Param::buffer("bn1.running_mean", vec![2], vec![0.25, 2.0]),
            Param::buffer("bn1.num_batches_tracked", vec![], vec![37.0]),
        ]
    }

    fn tmp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("vislab-ckpt-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d.join(name)
    }

    #[test]
    fn round_trip_is_bit_exact_with_optimizer_state() {
        let mut m = Mlp::new(6, 5, 3, 1).unwrap();
        let mut opt = Adam::new(0.0123);
        let b = Batch { x: (0..12).map(|i| (i as f32 * 0.7).sin()).collect(), shape: vec![2, 6], y: vec![0, 2] };
        for _ in 0..3 {
            m.train_step(&b).unwrap();
            opt.step(m.params_mut()).unwrap();
        }
        let meta = BTreeMap::from([("epoch".to_string(), "4".to_string())]);
        let path = tmp("mlp.safetensors");
        save(&path, m.params(), Some(&opt), &meta).unwrap();
        let ck = load(&path).unwrap();
        assert_eq!(ck.meta, meta);
        let st = ck.optim.clone().unwrap();
        assert_eq!(st, opt.state());
        assert_eq!((st.kind.as_str(), st.step, st.lr), ("adam", 3, 0.0123));
        assert_eq!(st.buffers.len(), 8);
        // Stored with the parameter's shape, like PyTorch's optimizer state.
        let raw = SafeTensors::deserialize(&std::fs::read(&path).unwrap()).unwrap().tensor("optim.fc1.weight.m").unwrap().shape().to_vec();
        assert_eq!(raw, vec![5, 6]);
        let mut m2 = Mlp::new(6, 5, 3, 99).unwrap();
        let mut opt2 = Adam::new(1.0);
        ck.restore(&mut m2, Some(&mut opt2)).unwrap();
        for (a, b) in m.params().iter().zip(m2.params()) {
            assert_eq!(a.value.iter().map(|v| v.to_bits()).collect::<Vec<_>>(), b.value.iter().map(|v| v.to_bits()).collect::<Vec<_>>());
        }
        // Both continue identically.
        for (mm, oo) in [(&mut m, &mut opt), (&mut m2, &mut opt2)] {
            mm.train_step(&b).unwrap();
            oo.step(mm.params_mut()).unwrap();
        }
        assert_eq!(m.params(), m2.params());
    }

    #[test]
    fn special_values_counters_and_strictness() {
        let p = params();
        let ck = from_bytes(&to_bytes(&p, None, &BTreeMap::new()).unwrap()).unwrap();
        assert_eq!(ck.optim, None);
        let mut q = params();
        q.iter_mut().for_each(|p| p.value.iter_mut().for_each(|v| *v = 9.0));
        ck.apply(&mut q).unwrap();
        for (a, b) in p.iter().zip(&q) {
            assert_eq!(a.value.iter().map(|v| v.to_bits()).collect::<Vec<_>>(), b.value.iter().map(|v| v.to_bits()).collect::<Vec<_>>(), "{}", a.name);
        }
        // A shape mismatch, a missing and an unexpected name are all listed; nothing changes.
        let mut r = vec![Param::new("conv1.weight", vec![8], vec![0.0; 8]), Param::new("fc.bias", vec![1], vec![0.0])];
        let e = ck.apply(&mut r).unwrap_err().to_string();
        assert!(e.contains("conv1.weight: shape [2, 1, 2, 2] in file, [8] in model"), "{e}");
        assert!(e.contains("missing fc.bias") && e.contains("unexpected bn1.running_mean"), "{e}");
        assert_eq!(r[0].value, vec![0.0; 8]);
    }

    /// Bytes written by hand following the safetensors spec: u64 LE header
    /// length, JSON header, then the data. The counter is I64 as PyTorch
    /// stores it.
    #[test]
    fn loads_hand_made_file() {
        let header = r#"{"__metadata__":{"format":"pt"},"bn.num_batches_tracked":{"dtype":"I64","shape":[],"data_offsets":[0,8]},"fc.weight":{"dtype":"F32","shape":[2,2],"data_offsets":[8,24]},"fc.bias":{"dtype":"F32","shape":[2],"data_offsets":[24,32]}}"#;
        let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
        bytes.extend(header.as_bytes());
        bytes.extend(12i64.to_le_bytes());
        for v in [1.0f32, 2.0, -3.5, 0.25, 10.0, -10.0] {
            bytes.extend(v.to_le_bytes());
        }
        let ck = from_bytes(&bytes).unwrap();
        assert_eq!(ck.tensor("fc.weight").unwrap(), &Tensor { name: "fc.weight".into(), shape: vec![2, 2], value: vec![1.0, 2.0, -3.5, 0.25] });
        assert_eq!(ck.tensor("fc.bias").unwrap().value, vec![10.0, -10.0]);
        assert_eq!(ck.tensor("bn.num_batches_tracked").unwrap().value, vec![12.0]);
        assert!(ck.meta.is_empty());
        // And our writer produces the same layout for these tensors.
        let ours = to_bytes(
            &[
                Param::new("fc.weight", vec![2, 2], vec![1.0, 2.0, -3.5, 0.25]),
                Param::new("fc.bias", vec![2], vec![10.0, -10.0]),
                Param::buffer("bn.num_batches_tracked", vec![], vec![12.0]),
            ],
            None,
            &BTreeMap::new(),
        )
        .unwrap();
        assert_eq!(from_bytes(&ours).unwrap(), ck);
        // a model without the counter takes the rest strictly
        let mut model = vec![Param::new("fc.weight", vec![2, 2], vec![0.0; 4]), Param::new("fc.bias", vec![2], vec![0.0; 2])];
        ck.apply(&mut model).unwrap();
        assert_eq!(model[1].value, vec![10.0, -10.0]);
        model.push(Param::new("fc2.bias", vec![1], vec![0.0]));
        assert!(ck.apply(&mut model).unwrap_err().to_string().contains("missing fc2.bias"));
    }

    #[test]
    fn broken_files_give_errors() {
        let good = to_bytes(&params(), None, &BTreeMap::new()).unwrap();
        for cut in [0, 4, 8, 20, good.len() - 1] {
            assert!(matches!(from_bytes(&good[..cut]), Err(CheckpointError::Format(_))), "cut at {cut}");
        }
        assert!(matches!(from_bytes(b"garbage garbage garbage"), Err(CheckpointError::Format(_))));
        let header = r#"{"x":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}"#;
        let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
        bytes.extend(header.as_bytes());
        bytes.push(1);
        assert!(from_bytes(&bytes).unwrap_err().to_string().contains("unsupported dtype"));
        assert!(matches!(load(&tmp("does-not-exist")), Err(CheckpointError::Io { .. })));
        let mut m = Mlp::new(2, 2, 2, 0).unwrap();
        let ck = from_bytes(&to_bytes(m.params(), None, &BTreeMap::new()).unwrap()).unwrap();
        assert!(ck.restore(&mut m, Some(&mut Adam::new(0.1))).unwrap_err().to_string().contains("no optimizer state"));
    }
}
