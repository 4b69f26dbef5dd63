//! [`GraphModel`]: a compiled graph classifier ([`crate::model::Model`])
//! behind the trainer's [`Model`] interface.
//!
//! The trainer's buffers (`Vec<Param>`) are the source of truth: every call
//! copies the values into the compiled program (optimizers, checkpoint
//! loads and the UI may have changed them), and `train_step` copies the
//! gradients and updated running statistics back out.

use crate::data::Batch;
use crate::error::EngineError;
use crate::graph::{Graph, Tensor};
use crate::init::Init;
use crate::model::{Model as Compiled, ModelSpec, Probe};
use crate::nn::{self, Mode};
use crate::train::{LayerProbe, Model, ModelError, Param, StepOutput, reinit, relu_rule};

use super::ModelsError;

/// A classifier graph before compilation: inputs `x` `[B, ...sample_shape]`
/// (or the same values flattened) and `labels` are added by
/// [`GraphModel::new`] (`labels`) and by the builder (`x`).
pub struct Classifier {
    pub graph: Graph,
    /// Logits in training mode (batch statistics, dropout).
    pub train_logits: Tensor,
    /// Logits in evaluation mode (the same tensor when the modes agree).
    pub eval_logits: Tensor,
    /// BatchNorm running statistics: state <- new value after each step.
    pub state_updates: Vec<(Tensor, Tensor)>,
    pub sample_shape: Vec<usize>,
    pub classes: usize,
    /// Name prefix of the layer producing the logits.
    pub output_layer: String,
}

impl Classifier {
    /// A network with no mode-dependent layers.
    pub fn plain(graph: Graph, logits: Tensor, sample_shape: Vec<usize>, classes: usize, output_layer: String) -> Classifier {
        Classifier { graph, train_logits: logits, eval_logits: logits, state_updates: vec![], sample_shape, classes, output_layer }
    }

    /// The spec with softmax cross-entropy losses in both modes.
    pub(super) fn into_spec(mut self) -> Result<(Graph, ModelSpec, Vec<usize>, usize, String), EngineError> {
        let g = &mut self.graph;
        let labels = g.input("labels", &[crate::graph::batch_dim()])?;
        let loss = nn::softmax_cross_entropy(g, self.train_logits, labels)?;
        let eval_loss = nn::softmax_cross_entropy(g, self.eval_logits, labels)?;
        let spec = ModelSpec {
            loss,
            train_outputs: vec![(TRAIN_LOGITS.into(), self.train_logits)],
            eval_outputs: vec![(EVAL_LOGITS.into(), self.eval_logits), (EVAL_LOSS.into(), eval_loss)],
            state_updates: self.state_updates,
        };
        Ok((self.graph, spec, self.sample_shape, self.classes, self.output_layer))
    }
}

const TRAIN_LOGITS: &str = "train_logits";
const EVAL_LOGITS: &str = "logits";
const EVAL_LOSS: &str = "eval_loss";

pub struct GraphModel {
    compiled: Compiled,
    /// Trainable parameters in the compiled model's order, then the state
    /// buffers sorted by name.
    params: Vec<Param>,
    sample_shape: Vec<usize>,
    classes: usize,
}

impl GraphModel {
    /// Compile `net` and initialize its parameters from `seed`.
    pub fn new(net: Classifier, seed: u64) -> Result<GraphModel, ModelsError> {
        GraphModel::with_probes(net, &[], seed, Init::KAIMING_RELU)
    }

    /// Compile `net` keeping the layer outputs `probes` for
    /// [`Model::inspect`], with hidden weights drawn from `hidden_init`
    /// (the output layer keeps Kaiming with gain 1).
    pub fn with_probes(net: Classifier, probes: &[Probe], seed: u64, hidden_init: Init) -> Result<GraphModel, ModelsError> {
        let (graph, spec, sample_shape, classes, output_layer) = net.into_spec()?;
        let compiled = Compiled::compile_with_probes(graph, spec, probes)?;
        let mut params: Vec<Param> = compiled.params().into_iter().map(|p| Param::new(p.name, p.shape.clone(), vec![0.0; p.shape.iter().product()])).collect();
        for name in compiled.state_names() {
            let len = compiled.state(&name)?.len();
            params.push(Param::buffer(name, vec![len], vec![0.0; len]));
        }
        reinit(&mut params, seed, 0, relu_rule(hidden_init, |layer| layer == output_layer))?;
        Ok(GraphModel { compiled, params, sample_shape, classes })
    }

    /// Values per sample the input takes.
    pub fn sample_shape(&self) -> &[usize] {
        &self.sample_shape
    }

    pub fn classes(&self) -> usize {
        self.classes
    }

    /// The compiled graph model (kernel counts, or driving it directly).
    pub fn compiled(&self) -> &Compiled {
        &self.compiled
    }

    /// The compiled graph model, to profile or tune its program.
    pub fn compiled_mut(&mut self) -> &mut Compiled {
        &mut self.compiled
    }

    /// Copy the current values and the batch into the program.
    fn load(&mut self, batch: &Batch) -> Result<(), ModelError> {
        let per: usize = self.sample_shape.iter().product();
        if batch.sample_len() != per || batch.x.len() != batch.len() * per {
            return Err(format!("batch of shape {:?} does not fit the model's samples {:?}", batch.shape, self.sample_shape).into());
        }
        self.compiled.set_batch(batch.len())?;
        for p in &self.params {
            if p.trainable {
                self.compiled.set_param(&p.name, &p.value)?;
            } else {
                let dst = self.compiled.state_mut(&p.name)?;
                if dst.len() != p.value.len() {
                    return Err(format!("buffer {} has {} values, expected {}", p.name, p.value.len(), dst.len()).into());
                }
                dst.copy_from_slice(&p.value);
            }
        }
        self.compiled.set_input("x", &batch.x)?;
        if let Some(&l) = batch.y.iter().find(|&&l| l >= self.classes) {
            return Err(format!("label {l} is not below the {} classes", self.classes).into());
        }
        let labels: Vec<f32> = batch.y.iter().map(|&l| l as f32).collect();
        self.compiled.set_input("labels", &labels)?;
        Ok(())
    }

    fn score(&self, logits_name: &str, batch: &Batch, loss: f32) -> Result<StepOutput, ModelError> {
        let logits = self.compiled.output(logits_name)?;
        let correct = argmax_rows(logits, self.classes).zip(&batch.y).filter(|(p, y)| p == *y).count();
        Ok(StepOutput { loss, correct, count: batch.len() })
    }
}

/// Index of the largest value of each row (the first one on ties).
fn argmax_rows(values: &[f32], width: usize) -> impl Iterator<Item = usize> + '_ {
    values.chunks_exact(width.max(1)).map(|row| row.iter().enumerate().fold(0, |best, (i, &v)| if v > row[best] { i } else { best }))
}

impl Model for GraphModel {
    fn params(&self) -> &[Param] {
        &self.params
    }

    fn params_mut(&mut self) -> &mut [Param] {
        &mut self.params
    }

    fn train_step(&mut self, batch: &Batch) -> Result<StepOutput, ModelError> {
        self.load(batch)?;
        let loss = self.compiled.train_step()?;
        for p in &mut self.params {
            let src = if p.trainable { self.compiled.grad(&p.name)? } else { self.compiled.state(&p.name)? };
            let dst = if p.trainable { &mut p.grad } else { &mut p.value };
            dst.clear();
            dst.extend_from_slice(src);
        }
        self.score(TRAIN_LOGITS, batch, loss)
    }

    fn eval(&mut self, batch: &Batch) -> Result<StepOutput, ModelError> {
        self.load(batch)?;
        self.compiled.evaluate()?;
        let loss = self.compiled.output(EVAL_LOSS)?.first().copied().unwrap_or(f32::NAN);
        self.score(EVAL_LOGITS, batch, loss)
    }

    fn predict(&mut self, batch: &Batch) -> Result<Vec<f32>, ModelError> {
        // The eval schedule also computes the loss, which reads the labels:
        // any valid labels do.
        let unlabeled = Batch { y: vec![0; batch.len()], ..batch.clone() };
        self.load(&unlabeled)?;
        self.compiled.evaluate()?;
        Ok(self.compiled.output(EVAL_LOGITS)?.to_vec())
    }

    fn inspect(&mut self, batch: &Batch, mode: Mode) -> Result<Vec<LayerProbe>, ModelError> {
        // As in predict: the train-mode loss needs labels, eval's does not care.
        self.load(batch)?;
        self.compiled.run_probes(mode)?;
        let mut out = Vec::new();
        for name in self.compiled.probe_names() {
            let p = self.compiled.probe(&name, mode)?;
            out.push(LayerProbe { name, sample_shape: p.sample_shape.to_vec(), values: p.values.to_vec(), grads: p.grad.map(<[f32]>::to_vec).unwrap_or_default() });
        }
        Ok(out)
    }
}
