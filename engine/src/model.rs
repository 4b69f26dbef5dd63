//! A compiled model: graph + autograd + our CPU program, driven by name.
//!
//! Per training step: `set_batch`, `set_input` for each input, `train_step`
//! (forward + backward, returns the loss), then read `grad(name)` and write
//! `param_mut(name)`. `evaluate` runs only what the eval outputs need.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use luminal::prelude::petgraph::stable_graph::NodeIndex;

use crate::check::Rng;
use crate::cpu::Program;
use crate::error::EngineError;
use crate::graph::reference::dims_of;
use crate::graph::view::DimValues;
use crate::graph::{Graph, LeafKind, Tensor};

/// A named parameter and its shape.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamInfo {
    pub name: String,
    pub shape: Vec<usize>,
}

/// What `Model::compile` needs besides the graph.
pub struct ModelSpec {
    /// Scalar training loss (built in `Mode::Train`).
    pub loss: Tensor,
    /// Named outputs computed by `train_step` (e.g. train-mode logits).
    pub train_outputs: Vec<(String, Tensor)>,
    /// Named outputs computed by `evaluate` (e.g. eval-mode logits, eval loss).
    pub eval_outputs: Vec<(String, Tensor)>,
    /// State updates applied after each train step: state leaf <- value
    /// (e.g. BatchNorm running statistics).
    pub state_updates: Vec<(Tensor, Tensor)>,
}

pub struct Model {
    program: Program,
    loss: NodeIndex,
    params: Vec<(ParamInfo, NodeIndex, Option<NodeIndex>)>,
    inputs: HashMap<String, NodeIndex>,
    label_classes: HashMap<String, usize>,
    noise: Vec<NodeIndex>,
    states: HashMap<String, NodeIndex>,
    train_outputs: HashMap<String, NodeIndex>,
    eval_outputs: HashMap<String, NodeIndex>,
    state_updates: Vec<(NodeIndex, NodeIndex)>,
    train_schedule: Vec<usize>,
    eval_schedule: Vec<usize>,
    zero_grads: HashMap<String, Vec<f32>>,
    rng: Rng,
    compile_time: Duration,
    probes: Vec<ProbeNodes>,
    probe_train_schedule: Vec<usize>,
    probe_eval_schedule: Vec<usize>,
}

/// A tensor inside the network to look at (a layer's output), in both
/// modes: `train` is differentiated too, so its gradient can be read.
#[derive(Debug, Clone)]
pub struct Probe {
    pub name: String,
    pub train: Tensor,
    pub eval: Tensor,
}

/// A probe lowered: its nodes in the program and its shape per sample.
#[derive(Debug, Clone)]
struct ProbeNodes {
    name: String,
    sample_shape: Vec<usize>,
    train: NodeIndex,
    grad: Option<NodeIndex>,
    eval: NodeIndex,
}

/// A probe's values after [`Model::run_probes`].
pub struct ProbeValues<'a> {
    /// Shape of one sample's values (the batch dim left out).
    pub sample_shape: &'a [usize],
    /// `[batch, ...sample_shape]` row-major.
    pub values: &'a [f32],
    /// Gradient of the training loss w.r.t. the values (train mode only).
    pub grad: Option<&'a [f32]>,
}

impl Model {
    /// Differentiate the loss w.r.t. every parameter, lower the graph to our
    /// CPU program, and index everything by name.
    pub fn compile(g: Graph, spec: ModelSpec) -> Result<Model, EngineError> {
        Model::compile_with_probes(g, spec, &[])
    }

    /// As [`Model::compile`], keeping the values of `probes` (per-sample
    /// shapes must be static: the batch dim first, then fixed sizes) and
    /// the gradients of the train-mode ones for [`Model::run_probes`].
    /// `train_step` and `evaluate` compute the same values as without
    /// probes; only the probes' buffers are kept unfused (no slowdown
    /// measured by `benches/probes.rs`).
    pub fn compile_with_probes(mut g: Graph, spec: ModelSpec, probes: &[Probe]) -> Result<Model, EngineError> {
        let t0 = Instant::now();
        let param_leaves: Vec<_> = g.leaves().iter().filter(|l| l.kind == LeafKind::Param).cloned().collect();
        let mut wrt: Vec<Tensor> = param_leaves.iter().map(|l| Tensor { id: l.id, view: luminal::prelude::ShapeTracker::new(&l.shape) }).collect();
        // A gradient is of a node's whole buffer: only plain outputs have one.
        let probe_grads: Vec<bool> = probes.iter().map(|p| crate::graph::view::is_plain(&p.train.view)).collect();
        wrt.extend(probes.iter().zip(&probe_grads).filter(|(_, g)| **g).map(|(p, _)| p.train));
        let mut grads = g.backward(spec.loss, &wrt)?;
        let mut probe_grad_ids = grads.split_off(param_leaves.len()).into_iter();
        let mut params = vec![];
        for (l, gr) in param_leaves.iter().zip(&grads) {
            let shape = dims_of(&DimValues::default(), &l.shape)?;
            params.push((ParamInfo { name: l.name.clone(), shape }, l.id, gr.map(|t| t.id)));
        }
        let mut train_nodes = vec![spec.loss.id];
        train_nodes.extend(grads.iter().flatten().map(|t| t.id));
        train_nodes.extend(spec.train_outputs.iter().map(|o| o.1.id));
        train_nodes.extend(spec.state_updates.iter().map(|u| u.1.id));
        // Eval outputs read from plain buffers; materialize views.
        let plain = |g: &mut Graph, t: Tensor| if crate::graph::view::is_plain(&t.view) { t } else { g.contiguous(t) };
        let eval_outputs: Vec<(String, NodeIndex)> = spec.eval_outputs.iter().map(|(n, t)| (n.clone(), plain(&mut g, *t).id)).collect();
        let train_outputs: Vec<(String, NodeIndex)> = spec.train_outputs.iter().map(|(n, t)| (n.clone(), plain(&mut g, *t).id)).collect();
        train_nodes.extend(train_outputs.iter().map(|o| o.1));
        let mut probe_nodes = Vec::with_capacity(probes.len());
        for (p, has_grad) in probes.iter().zip(&probe_grads) {
            let shape = g.shape(p.train);
            let sample_shape = shape
                .iter()
                .skip(1)
                .map(|d| d.to_usize())
                .collect::<Option<Vec<usize>>>()
                .ok_or_else(|| EngineError::Shape(format!("probe {} has a dynamic dim besides the batch: {shape:?}", p.name)))?;
            let grad = if *has_grad { probe_grad_ids.next().flatten().map(|t| t.id) } else { None };
            let (train, eval) = (plain(&mut g, p.train).id, plain(&mut g, p.eval).id);
            probe_nodes.push(ProbeNodes { name: p.name.clone(), sample_shape, train, grad, eval });
        }
        let mut all = train_nodes.clone();
        all.extend(eval_outputs.iter().map(|o| o.1));
        for p in &probe_nodes {
            all.extend([p.train, p.eval]);
            all.extend(p.grad);
        }
        // Params and state must exist in the program even if unused.
        all.extend(g.leaves().iter().map(|l| l.id));
        let program = Program::new(&g, &all)?;
        let train_schedule = program.schedule_for(&train_nodes);
        let eval_ids: Vec<NodeIndex> = eval_outputs.iter().map(|o| o.1).collect();
        let eval_schedule = program.schedule_for(&eval_ids);
        let mut probe_train: Vec<NodeIndex> = train_nodes.clone();
        probe_train.extend(probe_nodes.iter().flat_map(|p| std::iter::once(p.train).chain(p.grad)));
        let probe_train_schedule = program.schedule_for(&probe_train);
        let mut probe_eval = eval_ids.clone();
        probe_eval.extend(probe_nodes.iter().map(|p| p.eval));
        let probe_eval_schedule = program.schedule_for(&probe_eval);
        let by_kind = |k: fn(&LeafKind) -> bool| -> HashMap<String, NodeIndex> { g.leaves().iter().filter(|l| k(&l.kind)).map(|l| (l.name.clone(), l.id)).collect() };
        let inputs = by_kind(|k| matches!(k, LeafKind::Input | LeafKind::Labels(_)));
        let label_classes = g.leaves().iter().filter_map(|l| if let LeafKind::Labels(c) = l.kind { Some((l.name.clone(), c)) } else { None }).collect();
        let states = by_kind(|k| matches!(k, LeafKind::State(_)));
        let noise = g.leaves().iter().filter(|l| l.kind == LeafKind::Noise).map(|l| l.id).collect();
        let zero_grads = params.iter().filter(|p| p.2.is_none()).map(|p| (p.0.name.clone(), vec![0.0; p.0.shape.iter().product()])).collect();
        Ok(Model {
            program,
            loss: spec.loss.id,
            params,
            inputs,
            label_classes,
            noise,
            states,
            train_outputs: train_outputs.into_iter().collect(),
            eval_outputs: eval_outputs.into_iter().collect(),
            state_updates: spec.state_updates.iter().map(|(s, v)| (s.id, v.id)).collect(),
            train_schedule,
            eval_schedule,
            zero_grads,
            rng: Rng::new(0x5EED),
            compile_time: t0.elapsed(),
            probes: probe_nodes,
            probe_train_schedule,
            probe_eval_schedule,
        })
    }

    /// Time spent in autograd + lowering.
    pub fn compile_time(&self) -> Duration {
        self.compile_time
    }

    pub fn params(&self) -> Vec<ParamInfo> {
        self.params.iter().map(|p| p.0.clone()).collect()
    }

    pub fn input_names(&self) -> Vec<String> {
        let mut v: Vec<String> = self.inputs.keys().cloned().collect();
        v.sort();
        v
    }

    /// Set the batch size (the `B` dim). Cheap when unchanged; when it
    /// changes, inputs are reallocated (zeros) and must be set again.
    pub fn set_batch(&mut self, batch: usize) -> Result<(), EngineError> {
        if batch == 0 {
            return Err(EngineError::BadInput { name: "batch".into(), msg: "batch size must be at least 1".into() });
        }
        let mut d = DimValues::default();
        d.set('B', batch);
        self.program.set_dims(&d)
    }

    pub fn batch(&self) -> Option<usize> {
        self.program.dims().and_then(|d| d.get('B'))
    }

    /// Copy one input (length must match the current batch). Non-finite
    /// values are rejected.
    pub fn set_input(&mut self, name: &str, data: &[f32]) -> Result<(), EngineError> {
        let id = *self.inputs.get(name).ok_or_else(|| EngineError::UnknownName(name.into()))?;
        if let Some(i) = data.iter().position(|v| !v.is_finite()) {
            return Err(EngineError::BadInput { name: name.into(), msg: format!("non-finite value at {i}") });
        }
        if let Some(&c) = self.label_classes.get(name)
            && let Some(i) = data.iter().position(|&v| v < 0.0 || v.fract() != 0.0 || v >= c as f32)
        {
            return Err(EngineError::BadInput { name: name.into(), msg: format!("label {} at {i} is not a class index in 0..{c}", data[i]) });
        }
        if self.program.dims().is_none() {
            self.program.set_dims(&DimValues::default())?;
        }
        self.program.set_leaf(id, data)
    }

    fn fill_noise(&mut self) {
        for &id in &self.noise {
            if let Some(b) = self.program.leaf_buffer_mut(id) {
                for v in b.iter_mut() {
                    *v = self.rng.uniform() as f32;
                }
            }
        }
    }

    /// Forward + backward. Returns the loss.
    pub fn train_step(&mut self) -> Result<f32, EngineError> {
        self.fill_noise();
        self.program.run_subset(&self.train_schedule)?;
        for &(s, v) in &self.state_updates {
            let val = self.program.buffer(v).to_vec();
            if let Some(b) = self.program.leaf_buffer_mut(s) {
                if b.len() != val.len() {
                    return Err(EngineError::Shape(format!("state update of {} values for {}", val.len(), b.len())));
                }
                b.copy_from_slice(&val);
            }
        }
        Ok(self.loss())
    }

    /// Eval-mode forward for the eval outputs only.
    pub fn evaluate(&mut self) -> Result<(), EngineError> {
        self.program.run_occasional(&self.eval_schedule)
    }

    /// Eval-mode forward for some of the eval outputs only (what they need).
    pub fn evaluate_outputs(&mut self, names: &[&str]) -> Result<(), EngineError> {
        let ids = names.iter().map(|n| self.eval_outputs.get(*n).copied().ok_or_else(|| EngineError::UnknownName((*n).into()))).collect::<Result<Vec<_>, _>>()?;
        let schedule = self.program.schedule_for(&ids);
        self.program.run_occasional(&schedule)
    }

    /// Names of the probes, in the order given at compile time.
    pub fn probe_names(&self) -> Vec<String> {
        self.probes.iter().map(|p| p.name.clone()).collect()
    }

    /// Compute every probe at the current batch: in train mode the forward
    /// and backward pass (no state update, parameters untouched), in eval
    /// mode the forward pass. Read them with [`Model::probe`].
    pub fn run_probes(&mut self, mode: crate::nn::Mode) -> Result<(), EngineError> {
        match mode {
            crate::nn::Mode::Train => {
                self.fill_noise();
                self.program.run_occasional(&self.probe_train_schedule)
            }
            crate::nn::Mode::Eval => self.program.run_occasional(&self.probe_eval_schedule),
        }
    }

    /// A probe's values from the last [`Model::run_probes`] in `mode`.
    pub fn probe(&self, name: &str, mode: crate::nn::Mode) -> Result<ProbeValues<'_>, EngineError> {
        let p = self.probes.iter().find(|p| p.name == name).ok_or_else(|| EngineError::UnknownName(name.into()))?;
        Ok(match mode {
            crate::nn::Mode::Train => ProbeValues { sample_shape: &p.sample_shape, values: self.program.buffer(p.train), grad: p.grad.map(|g| self.program.buffer(g)) },
            crate::nn::Mode::Eval => ProbeValues { sample_shape: &p.sample_shape, values: self.program.buffer(p.eval), grad: None },
        })
    }

    /// Loss of the last `train_step`.
    pub fn loss(&self) -> f32 {
        self.program.buffer(self.loss).first().copied().unwrap_or(f32::NAN)
    }

    /// A named output from the last `train_step` or `evaluate`.
    pub fn output(&self, name: &str) -> Result<&[f32], EngineError> {
        let id = self.eval_outputs.get(name).or_else(|| self.train_outputs.get(name));
        id.map(|&i| self.program.buffer(i)).ok_or_else(|| EngineError::UnknownName(name.into()))
    }

    fn param_entry(&self, name: &str) -> Result<&(ParamInfo, NodeIndex, Option<NodeIndex>), EngineError> {
        self.params.iter().find(|p| p.0.name == name).ok_or_else(|| EngineError::UnknownName(name.into()))
    }

    pub fn param(&self, name: &str) -> Result<&[f32], EngineError> {
        Ok(self.program.buffer(self.param_entry(name)?.1))
    }

    pub fn param_mut(&mut self, name: &str) -> Result<&mut [f32], EngineError> {
        let id = self.param_entry(name)?.1;
        self.program.leaf_buffer_mut(id).ok_or_else(|| EngineError::UnknownName(name.into()))
    }

    /// Overwrite a parameter (length must match its shape).
    pub fn set_param(&mut self, name: &str, data: &[f32]) -> Result<(), EngineError> {
        let dst = self.param_mut(name)?;
        if dst.len() != data.len() {
            return Err(EngineError::BadInput { name: name.into(), msg: format!("{} values, expected {}", data.len(), dst.len()) });
        }
        dst.copy_from_slice(data);
        Ok(())
    }

    /// Gradient of the loss w.r.t. a parameter from the last `train_step`
    /// (zeros when the loss does not depend on it).
    pub fn grad(&self, name: &str) -> Result<&[f32], EngineError> {
        match self.param_entry(name)?.2 {
            Some(g) => Ok(self.program.buffer(g)),
            None => Ok(self.zero_grads.get(name).map(|v| v.as_slice()).unwrap_or(&[])),
        }
    }

    /// Visit every parameter with its values (mutable) and gradient, e.g.
    /// for an optimizer step without copying gradients.
    pub fn update_params<E>(&mut self, mut f: impl FnMut(&ParamInfo, &mut [f32], &[f32]) -> Result<(), E>) -> Result<(), E>
    where
        E: From<EngineError>,
    {
        for (info, id, grad) in &self.params {
            match grad {
                Some(gid) => {
                    let (p, g) = self.program.leaf_and_node_mut(*id, *gid).ok_or_else(|| EngineError::UnknownName(info.name.clone()))?;
                    f(info, p, g)?;
                }
                None => {
                    let zeros = self.zero_grads.get(&info.name).map(|v| v.as_slice()).unwrap_or(&[]);
                    let p = self.program.leaf_buffer_mut(*id).ok_or_else(|| EngineError::UnknownName(info.name.clone()))?;
                    f(info, p, zeros)?;
                }
            }
        }
        Ok(())
    }

    /// Non-trainable state (e.g. `bn1.running_mean`).
    pub fn state(&self, name: &str) -> Result<&[f32], EngineError> {
        self.states.get(name).map(|&i| self.program.buffer(i)).ok_or_else(|| EngineError::UnknownName(name.into()))
    }

    pub fn state_mut(&mut self, name: &str) -> Result<&mut [f32], EngineError> {
        let id = *self.states.get(name).ok_or_else(|| EngineError::UnknownName(name.into()))?;
        self.program.leaf_buffer_mut(id).ok_or_else(|| EngineError::UnknownName(name.into()))
    }

    pub fn state_names(&self) -> Vec<String> {
        let mut v: Vec<String> = self.states.keys().cloned().collect();
        v.sort();
        v
    }

    /// The CPU program (kernel counts for reports).
    pub fn program(&self) -> &Program {
        &self.program
    }

    pub fn program_mut(&mut self) -> &mut Program {
        &mut self.program
    }

    /// Reseed the noise used by dropout.
    pub fn seed(&mut self, seed: u64) {
        self.rng = Rng::new(seed);
    }

    /// Number of values an input takes at the current batch size.
    pub fn input_len(&self, name: &str) -> Result<usize, EngineError> {
        let id = *self.inputs.get(name).ok_or_else(|| EngineError::UnknownName(name.into()))?;
        Ok(self.program.buffer(id).len())
    }
}
