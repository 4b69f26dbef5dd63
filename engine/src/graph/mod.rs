//! Graph building on top of luminal 0.2.0's primitive ops.
//!
//! We build luminal `Graph`s directly with runtime shapes instead of through
//! luminal's type-level `GraphTensor<S>`: layer sizes in Vislab come from the
//! UI at run time. A [`Tensor`] is a node id plus the luminal `ShapeTracker`
//! (the view) through which consumers read that node's buffer.
//!
//! Conventions (shared with autograd and every executor in this crate):
//! - Binary ops, reductions and `Contiguous` write a contiguous buffer of
//!   their logical output shape.
//! - Unary ops (Log2, Exp2, Sin, Sqrt, Recip) map the *physical* source buffer
//!   element by element and pass the input's view on (luminal's own
//!   convention). The builder therefore materializes padded or sliced views
//!   before a unary op, since `f(0) != 0` in general.
//! - View semantics are ours, not luminal's `index_expression` (which is wrong
//!   when a dim has both a slice start and padding): logical index `d` of a
//!   storage dim reads physical `d + slice_start - pad_start`, and reads 0
//!   outside `0..dim`. See [`view`].

pub mod autograd;
mod math;
mod ops;
pub mod reference;
pub mod view;
pub mod windows;

use std::collections::HashMap;

use luminal::op::{Add, Constant, ConstantValue, Contiguous, Exp2, Function, LessThan, Log2, MaxReduce, Mod, Mul, Operator, Recip, Sin, Sqrt, SumReduce};
use luminal::prelude::ShapeTracker;
use luminal::prelude::petgraph::stable_graph::NodeIndex;

pub use luminal::prelude::symbolic::Expression as Dim;

use crate::error::EngineError;

/// A handle to a node's output read through a view. Cheap to copy.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tensor {
    pub id: NodeIndex,
    pub view: ShapeTracker,
}

/// What a leaf node holds.
#[derive(Debug, Clone, PartialEq)]
pub enum LeafKind {
    /// Fed per step (batch data, targets).
    Input,
    /// Fed per step: class indices, each an integer in `0..classes`.
    Labels(usize),
    /// Trainable parameter: kept across steps, gets a gradient.
    Param,
    /// Non-trainable state kept across steps (running statistics), with
    /// the value every element starts at.
    State(f32),
    /// Fixed data baked into the graph (index ramps, masks).
    Fixed(Vec<f32>),
    /// Uniform [0, 1) noise refilled by the model before every train step (dropout).
    Noise,
}

/// A named leaf of the graph.
#[derive(Debug, Clone)]
pub struct Leaf {
    pub name: String,
    pub id: NodeIndex,
    pub shape: Vec<Dim>,
    pub kind: LeafKind,
}

/// A luminal graph plus the bookkeeping we need: buffer shapes of every node
/// and the named leaves.
pub struct Graph {
    /// Boxed so the dyn-map pointer luminal stores in `Constant` stays valid.
    pub(crate) cx: Box<luminal::prelude::Graph>,
    /// Shape of each node's output buffer (contiguous, row-major).
    pub(crate) shapes: HashMap<NodeIndex, Vec<Dim>>,
    pub(crate) leaves: Vec<Leaf>,
}

impl Default for Graph {
    fn default() -> Self {
        Self::new()
    }
}

/// The dynamic batch dimension used by every layer in this crate.
pub fn batch_dim() -> Dim {
    Dim::from('B')
}

/// Product of dims, folded to a number when every dim is concrete (luminal
/// compares expressions structurally, so `1*6*16` would not equal `96`).
pub fn dim_product(dims: &[Dim]) -> Dim {
    let concrete: Option<usize> = dims.iter().map(|d| d.to_usize()).try_fold(1usize, |a, x| Some(a * x?));
    match concrete {
        Some(n) => n.into(),
        None => {
            let mut it = dims.iter().copied().filter(|d| d.to_usize() != Some(1));
            let first = it.next().unwrap_or_else(|| 1usize.into());
            let (c, syms): (Vec<Dim>, Vec<Dim>) = it.partition(|d| d.to_usize().is_some());
            let k: usize = c.iter().filter_map(|d| d.to_usize()).product();
            let p = syms.into_iter().fold(first, |a, d| a * d);
            if k == 1 { p } else { p * k }
        }
    }
}

/// A contiguous tracker over `shape`.
pub(crate) fn contiguous_tracker(shape: &[Dim]) -> ShapeTracker {
    ShapeTracker::new(shape)
}

/// A primitive op as far as this crate is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prim {
    Leaf,
    Constant,
    Log2,
    Exp2,
    Sin,
    Sqrt,
    Recip,
    Add,
    Mul,
    Mod,
    LessThan,
    Contiguous,
    SumReduce(usize),
    MaxReduce(usize),
}

impl Prim {
    pub(crate) fn of(op: &dyn Operator) -> Option<Prim> {
        let a = op.as_any();
        Some(if a.is::<Function>() {
            Prim::Leaf
        } else if a.is::<Constant>() {
            Prim::Constant
        } else if a.is::<Log2>() {
            Prim::Log2
        } else if a.is::<Exp2>() {
            Prim::Exp2
        } else if a.is::<Sin>() {
            Prim::Sin
        } else if a.is::<Sqrt>() {
            Prim::Sqrt
        } else if a.is::<Recip>() {
            Prim::Recip
        } else if a.is::<Add>() {
            Prim::Add
        } else if a.is::<Mul>() {
            Prim::Mul
        } else if a.is::<Mod>() {
            Prim::Mod
        } else if a.is::<LessThan>() {
            Prim::LessThan
        } else if a.is::<Contiguous>() {
            Prim::Contiguous
        } else if let Some(r) = a.downcast_ref::<SumReduce>() {
            Prim::SumReduce(r.0)
        } else if let Some(r) = a.downcast_ref::<MaxReduce>() {
            Prim::MaxReduce(r.0)
        } else {
            return None;
        })
    }

    pub fn is_unary(self) -> bool {
        matches!(self, Prim::Log2 | Prim::Exp2 | Prim::Sin | Prim::Sqrt | Prim::Recip)
    }

    pub fn is_binary(self) -> bool {
        matches!(self, Prim::Add | Prim::Mul | Prim::Mod | Prim::LessThan)
    }
}

impl Graph {
    pub fn new() -> Self {
        Graph { cx: Box::new(luminal::prelude::Graph::new()), shapes: HashMap::new(), leaves: vec![] }
    }

    /// The underlying luminal graph (for luminal compilers and GPU backends).
    pub fn luminal(&self) -> &luminal::prelude::Graph {
        &self.cx
    }

    /// Mutable luminal graph, e.g. to run luminal's own `execute` on it.
    pub fn luminal_mut(&mut self) -> &mut luminal::prelude::Graph {
        &mut self.cx
    }

    pub fn leaves(&self) -> &[Leaf] {
        &self.leaves
    }

    pub fn leaf(&self, name: &str) -> Option<&Leaf> {
        self.leaves.iter().find(|l| l.name == name)
    }

    /// Buffer shape of a node (what a contiguous read of its output sees).
    pub fn buffer_shape(&self, id: NodeIndex) -> &[Dim] {
        self.shapes.get(&id).map(|v| v.as_slice()).unwrap_or(&[])
    }

    /// Logical shape of a tensor (its view).
    pub fn shape(&self, t: Tensor) -> Vec<Dim> {
        view::logical_shape(&t.view)
    }

    /// Concrete logical shape; `B`-dependent dims are an error.
    pub fn concrete_shape(&self, t: Tensor) -> Result<Vec<usize>, EngineError> {
        self.shape(t).iter().map(|d| d.to_usize().ok_or_else(|| EngineError::Shape(format!("dim {d:?} is not concrete")))).collect()
    }

    fn new_leaf(&mut self, name: &str, shape: &[Dim], kind: LeafKind) -> Result<Tensor, EngineError> {
        if self.leaf(name).is_some() {
            return Err(EngineError::Shape(format!("duplicate leaf name `{name}`")));
        }
        let label = name.to_string();
        let id = self
            .cx
            // Our executors own leaf data; if luminal's own `execute` ever runs
            // this graph, the leaf yields an empty tensor rather than aborting.
            .add_op(Function(label, Box::new(|_| vec![luminal::prelude::Tensor::new(Vec::<f32>::new())])))
            .finish();
        self.shapes.insert(id, shape.to_vec());
        self.leaves.push(Leaf { name: name.into(), id, shape: shape.to_vec(), kind });
        Ok(Tensor { id, view: contiguous_tracker(shape) })
    }

    /// A per-step input, e.g. `[B, 784]`.
    pub fn input(&mut self, name: &str, shape: &[Dim]) -> Result<Tensor, EngineError> {
        self.new_leaf(name, shape, LeafKind::Input)
    }

    /// Per-step class labels `[B]` as float-coded integers in `0..classes`;
    /// the model rejects anything else.
    pub fn labels(&mut self, name: &str, classes: usize) -> Result<Tensor, EngineError> {
        self.new_leaf(name, &[batch_dim()], LeafKind::Labels(classes))
    }

    /// Per-pixel class labels `[B, height, width]` (segmentation), checked
    /// like [`Graph::labels`].
    pub fn pixel_labels(&mut self, name: &str, classes: usize, height: usize, width: usize) -> Result<Tensor, EngineError> {
        self.new_leaf(name, &[batch_dim(), height.into(), width.into()], LeafKind::Labels(classes))
    }

    /// A trainable parameter with a concrete shape.
    pub fn param(&mut self, name: &str, shape: &[usize]) -> Result<Tensor, EngineError> {
        let s: Vec<Dim> = shape.iter().map(|&d| d.into()).collect();
        self.new_leaf(name, &s, LeafKind::Param)
    }

    /// Non-trainable persistent state (e.g. BatchNorm running mean), every
    /// element starting at `init`.
    pub fn state(&mut self, name: &str, shape: &[usize], init: f32) -> Result<Tensor, EngineError> {
        let s: Vec<Dim> = shape.iter().map(|&d| d.into()).collect();
        self.new_leaf(name, &s, LeafKind::State(init))
    }

    /// Fresh uniform [0, 1) values every training step, e.g. `[B, 256]`.
    pub fn noise(&mut self, name: &str, shape: &[Dim]) -> Result<Tensor, EngineError> {
        self.new_leaf(name, shape, LeafKind::Noise)
    }

    /// Fixed data stored in the graph.
    pub fn fixed(&mut self, name: &str, shape: &[usize], data: Vec<f32>) -> Result<Tensor, EngineError> {
        let n: usize = shape.iter().product();
        if n != data.len() {
            return Err(EngineError::Shape(format!("fixed `{name}`: {} values for shape {shape:?}", data.len())));
        }
        let s: Vec<Dim> = shape.iter().map(|&d| d.into()).collect();
        self.new_leaf(name, &s, LeafKind::Fixed(data))
    }

    /// A scalar constant (shape `[]`).
    pub fn scalar(&mut self, v: f32) -> Tensor {
        let dm = &self.cx.dyn_map as *const _;
        let id = self.cx.add_op(Constant(ConstantValue::Float(v), dm)).finish();
        self.shapes.insert(id, vec![]);
        Tensor { id, view: contiguous_tracker(&[]) }
    }

    /// A scalar whose value is a dimension (e.g. the batch size, for means).
    pub fn dim_scalar(&mut self, d: Dim) -> Tensor {
        let dm = &self.cx.dyn_map as *const _;
        let id = self.cx.add_op(Constant(ConstantValue::Expression(d.into()), dm)).finish();
        self.shapes.insert(id, vec![]);
        Tensor { id, view: contiguous_tracker(&[]) }
    }

    /// Add a primitive node reading `inputs`, whose buffer has `shape`.
    pub(crate) fn node<O: Operator + 'static>(&mut self, op: O, inputs: &[Tensor], shape: Vec<Dim>) -> NodeIndex {
        let mut b = self.cx.add_op(op);
        for t in inputs {
            b = b.input(t.id, 0, t.view);
        }
        let id = b.finish();
        self.shapes.insert(id, shape);
        id
    }
}
