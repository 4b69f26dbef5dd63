//! The interface between a model and everything that trains it.
//!
//! A model exposes its parameters as plain host buffers with PyTorch-style
//! names and shapes (`fc1.weight` is `[out, in]`, `conv1.weight` is
//! `[Cout, Cin, kH, kW]`, `bn1.running_mean` is a non-trainable buffer).
//! Optimizers, regularizers, checkpoints and the trainer only ever see these
//! buffers, so any model (hand-written here, or a compiled graph) plugs in
//! by implementing [`Model`].

use crate::data::Batch;
use crate::init::{Init, InitError};
use crate::rng::SeededRng;

/// Errors a model reports from its steps. Boxed so that any error type
/// converts with `?`.
pub type ModelError = Box<dyn std::error::Error + Send + Sync>;

/// One named tensor of a model: a trainable parameter or a buffer such as
/// BatchNorm running statistics (`trainable == false`, never updated by
/// optimizers but saved in checkpoints).
#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    pub name: String,
    pub shape: Vec<usize>,
    /// Row-major values, `shape.iter().product()` of them.
    pub value: Vec<f32>,
    /// Gradient of the loss of the last `train_step`, same layout as `value`
    /// (may stay empty for buffers).
    pub grad: Vec<f32>,
    pub trainable: bool,
}

impl Param {
    /// A trainable parameter with a zero gradient.
    pub fn new(name: impl Into<String>, shape: Vec<usize>, value: Vec<f32>) -> Self {
        let grad = vec![0.0; value.len()];
        Param { name: name.into(), shape, value, grad, trainable: true }
    }

    /// A non-trainable buffer (e.g. `bn1.running_mean`).
    pub fn buffer(name: impl Into<String>, shape: Vec<usize>, value: Vec<f32>) -> Self {
        Param { name: name.into(), shape, value, grad: Vec::new(), trainable: false }
    }

    pub fn numel(&self) -> usize {
        self.shape.iter().product()
    }

    /// Weights in the regularization sense: trainable with at least two
    /// dims (linear and conv weights), not biases or norm scales.
    pub fn is_weight_matrix(&self) -> bool {
        self.trainable && self.shape.len() >= 2
    }
}

/// Where every network's parameters start. Parameter `i` of the list draws
/// from its own seeded stream `stream + i`, so adding a layer leaves the
/// others' values alone; `rule` picks each one's initializer from its name
/// and shape ([`relu_rule`] for most networks).
pub fn init_params(named: impl IntoIterator<Item = (String, Vec<usize>)>, seed: u64, stream: u64, rule: impl Fn(&str, &[usize]) -> Init) -> Result<Vec<Param>, InitError> {
    let mut params: Vec<Param> = named.into_iter().map(|(name, shape)| Param::new(name, shape, Vec::new())).collect();
    reinit(&mut params, seed, stream, rule)?;
    Ok(params)
}

/// [`init_params`] on parameters (and buffers) that exist already.
pub fn reinit(params: &mut [Param], seed: u64, stream: u64, rule: impl Fn(&str, &[usize]) -> Init) -> Result<(), InitError> {
    for (i, p) in params.iter_mut().enumerate() {
        p.value = rule(&p.name, &p.shape).sample(&p.shape, &mut SeededRng::stream(seed, stream + i as u64))?;
        if p.trainable {
            p.grad = vec![0.0; p.value.len()];
        }
    }
    Ok(())
}

/// The rule for ReLU networks: `hidden` for the weights (two dims or more)
/// of layers a ReLU follows, Kaiming with gain 1 for the layers `linear`
/// names (outputs and heads: no ReLU after them), 1 for norm scales and
/// running variances, 0 for biases, shifts and running means.
pub fn relu_rule(hidden: Init, linear: impl Fn(&str) -> bool) -> impl Fn(&str, &[usize]) -> Init {
    move |name, shape| {
        let (layer, kind) = name.rsplit_once('.').unwrap_or(("", name));
        match kind {
            _ if shape.len() >= 2 && linear(layer) => Init::KaimingNormal { gain: 1.0 },
            _ if shape.len() >= 2 => hidden,
            "weight" | "running_var" => Init::Constant(1.0),
            _ => Init::Zeros,
        }
    }
}

/// Result of a training or evaluation step on one batch.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepOutput {
    /// Mean loss over the batch (data loss only; the trainer adds any
    /// regularization itself).
    pub loss: f32,
    /// Correctly classified samples (0 for models that do not classify).
    pub correct: usize,
    /// Samples in the batch.
    pub count: usize,
}

/// A trainable model.
///
/// Contract:
/// - `params()` always returns the same names in the same order.
/// - `train_step` runs forward and backward in training mode at the current
///   `value`s and OVERWRITES every trainable `grad` (no accumulation); it
///   may update buffers (BatchNorm running statistics).
/// - `eval` and `predict` run in evaluation mode, change no value and need
///   no gradient.
/// - Values may be changed between calls (optimizer steps, checkpoint
///   loads): every call must read the current `value`s.
pub trait Model: Send {
    fn params(&self) -> &[Param];
    fn params_mut(&mut self) -> &mut [Param];
    fn train_step(&mut self, batch: &Batch) -> Result<StepOutput, ModelError>;
    fn eval(&mut self, batch: &Batch) -> Result<StepOutput, ModelError>;
    /// Evaluation-mode outputs, row-major `[batch, ...]` (class scores for
    /// a classifier).
    fn predict(&mut self, batch: &Batch) -> Result<Vec<f32>, ModelError>;
    /// The outputs of the model's layers on `batch` (with their gradients
    /// in train mode), for inspection; changes no value or buffer. Models
    /// that cannot look inside themselves return none.
    fn inspect(&mut self, _batch: &Batch, _mode: crate::nn::Mode) -> Result<Vec<LayerProbe>, ModelError> {
        Ok(Vec::new())
    }
}

/// One layer's output on a batch, from [`Model::inspect`].
#[derive(Clone, Debug, PartialEq)]
pub struct LayerProbe {
    pub name: String,
    /// Shape of one sample's output (e.g. `[C, H, W]` or `[features]`).
    pub sample_shape: Vec<usize>,
    /// `[batch, ...sample_shape]` row-major.
    pub values: Vec<f32>,
    /// Gradient of the training loss w.r.t. `values` (train mode; empty in
    /// eval mode or where the layer has none).
    pub grads: Vec<f32>,
}

/// Copies of every parameter value, in `params()` order.
pub fn snapshot(params: &[Param]) -> Vec<Vec<f32>> {
    params.iter().map(|p| p.value.clone()).collect()
}

/// Write back values taken by [`snapshot`] from the same model.
pub fn restore(params: &mut [Param], values: &[Vec<f32>]) {
    for (p, v) in params.iter_mut().zip(values) {
        if p.value.len() == v.len() {
            p.value.copy_from_slice(v);
        }
    }
}

/// Name of the first trainable parameter whose value or gradient holds a
/// NaN or infinity.
pub fn first_non_finite(params: &[Param]) -> Option<&str> {
    params.iter().find(|p| !all_finite(&p.value) || (p.trainable && !all_finite(&p.grad))).map(|p| p.name.as_str())
}

/// Branch-free so it vectorizes, and across the pool for big tensors: the
/// trainer runs it on every step.
fn all_finite(v: &[f32]) -> bool {
    use rayon::prelude::*;
    let finite = |c: &[f32]| c.iter().fold(true, |ok, x| ok & x.is_finite());
    if v.len() < PIECE { finite(v) } else { v.par_chunks(PIECE).all(finite) }
}

/// Elements per piece of the per-step scans and copies split across the pool.
const PIECE: usize = 1 << 16;

/// `dst` = `src` (same length), across the pool for big tensors.
pub(crate) fn copy_values(dst: &mut Vec<f32>, src: &[f32]) {
    use rayon::prelude::*;
    if dst.len() != src.len() || src.len() < PIECE {
        dst.clear();
        dst.extend_from_slice(src);
        return;
    }
    dst.par_chunks_mut(PIECE).zip(src.par_chunks(PIECE)).for_each(|(d, s)| d.copy_from_slice(s));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_non_finite_values_and_gradients() {
        let mut ps = vec![Param::new("a", vec![20], vec![1.0; 20]), Param::buffer("b", vec![2], vec![0.0; 2])];
        ps[1].grad = vec![f32::NAN];
        assert_eq!(first_non_finite(&ps), None, "a buffer's gradient is ignored");
        ps[0].grad[17] = f32::NEG_INFINITY;
        assert_eq!(first_non_finite(&ps), Some("a"));
        ps[0].grad[17] = 0.0;
        ps[1].value[1] = f32::NAN;
        assert_eq!(first_non_finite(&ps), Some("b"));
        let snap = snapshot(&ps);
        ps[0].value[0] = 5.0;
        restore(&mut ps, &snap);
        assert_eq!(ps[0].value[0], 1.0);
    }
}
