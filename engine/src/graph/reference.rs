//! Naive reference evaluation in f64: every element of every node through the
//! generic view index. Slow and obviously correct; tests compare our fast CPU
//! program against it, and finite differences run on it.

use std::collections::{HashMap, HashSet};

use luminal::op::{Constant, ConstantValue};
use luminal::prelude::petgraph::{self, Direction, stable_graph::NodeIndex};

use super::view::{self, DimEnv, DimValues, View};
use super::{Graph, LeafKind, Prim};
use crate::error::EngineError;

/// Nodes needed to compute `outputs`, in topological order.
pub(crate) fn needed_nodes(g: &Graph, outputs: &[NodeIndex]) -> Result<Vec<NodeIndex>, EngineError> {
    let order = petgraph::algo::toposort(&g.cx.graph, None).map_err(|_| EngineError::Cycle)?;
    let mut need: HashSet<NodeIndex> = outputs.iter().copied().collect();
    for &n in order.iter().rev() {
        if need.contains(&n) {
            need.extend(g.cx.graph.neighbors_directed(n, Direction::Incoming));
        }
    }
    Ok(order.into_iter().filter(|n| need.contains(n)).collect())
}

/// Iterate every multi-index of `shape` in row-major order.
pub(crate) fn for_each_index(shape: &[usize], mut f: impl FnMut(&[usize])) {
    if shape.contains(&0) {
        return;
    }
    let mut idx = vec![0usize; shape.len()];
    loop {
        f(&idx);
        let mut k = shape.len();
        loop {
            if k == 0 {
                return;
            }
            k -= 1;
            idx[k] += 1;
            if idx[k] < shape[k] {
                break;
            }
            idx[k] = 0;
        }
    }
}

fn read(buf: &[f64], v: &View, idx: &[usize]) -> f64 {
    v.index(idx).and_then(|i| buf.get(i).copied()).unwrap_or(0.0)
}

pub(crate) fn dims_of(env: &DimValues, shape: &[super::Dim]) -> Result<Vec<usize>, EngineError> {
    shape.iter().map(|d| env.eval(d).ok_or_else(|| EngineError::MissingDim(format!("{d:?}")))).collect()
}

/// Evaluate `outputs` given leaf values (inputs, params, state). Fixed leaves
/// use their stored data. Returns every computed buffer by node id.
pub fn evaluate(g: &Graph, leaves: &HashMap<NodeIndex, Vec<f64>>, env: &DimValues, outputs: &[NodeIndex]) -> Result<HashMap<NodeIndex, Vec<f64>>, EngineError> {
    let mut bufs: HashMap<NodeIndex, Vec<f64>> = HashMap::new();
    for n in needed_nodes(g, outputs)? {
        let op = g.cx.graph.node_weight(n).ok_or(EngineError::Cycle)?;
        let prim = Prim::of(op.as_ref()).ok_or_else(|| EngineError::Unsupported(format!("{op:?}")))?;
        let srcs = g.cx.get_sources(n);
        let oshape = dims_of(env, g.buffer_shape(n))?;
        let numel: usize = oshape.iter().product();
        let src_view = |i: usize| -> Result<View, EngineError> { view::resolve(&srcs[i].2, env).ok_or_else(|| EngineError::MissingDim(format!("{:?}", srcs[i].2))) };
        let out: Vec<f64> = match prim {
            Prim::Leaf => {
                let leaf = g.leaves.iter().find(|l| l.id == n);
                let data = match leaf.map(|l| &l.kind) {
                    Some(LeafKind::Fixed(d)) => d.iter().map(|&v| v as f64).collect(),
                    _ => leaves.get(&n).cloned().ok_or_else(|| EngineError::UnknownName(leaf.map(|l| l.name.clone()).unwrap_or_default()))?,
                };
                if data.len() != numel {
                    return Err(EngineError::BadInput { name: leaf.map(|l| l.name.clone()).unwrap_or_default(), msg: format!("{} values for {numel}", data.len()) });
                }
                data
            }
            Prim::Constant => {
                let c = op.as_any().downcast_ref::<Constant>().ok_or(EngineError::Cycle)?;
                vec![match &c.0 {
                    ConstantValue::Float(v) => *v as f64,
                    ConstantValue::Expression(e) => view::eval_terms(e.terms.iter(), env).ok_or_else(|| EngineError::MissingDim(format!("{e:?}")))? as f64,
                }]
            }
            p if p.is_unary() => {
                let x = &bufs[&srcs[0].0];
                x.iter()
                    .map(|&v| match p {
                        Prim::Log2 => v.log2(),
                        Prim::Exp2 => v.exp2(),
                        Prim::Sin => v.sin(),
                        Prim::Sqrt => v.sqrt(),
                        _ => 1.0 / v,
                    })
                    .collect()
            }
            p if p.is_binary() => {
                let (va, vb) = (src_view(0)?, src_view(1)?);
                let (a, b) = (&bufs[&srcs[0].0], &bufs[&srcs[1].0]);
                let mut out = Vec::with_capacity(numel);
                for_each_index(&va.shape, |i| {
                    let (x, y) = (read(a, &va, i), read(b, &vb, i));
                    out.push(match p {
                        Prim::Add => x + y,
                        Prim::Mul => x * y,
                        Prim::Mod => x % y,
                        _ => (x < y) as i32 as f64,
                    })
                });
                out
            }
            Prim::Contiguous => {
                let v = src_view(0)?;
                let a = &bufs[&srcs[0].0];
                let mut out = Vec::with_capacity(numel);
                for_each_index(&v.shape, |i| out.push(read(a, &v, i)));
                out
            }
            Prim::SumReduce(ax) | Prim::MaxReduce(ax) => {
                let v = src_view(0)?;
                let a = &bufs[&srcs[0].0];
                let is_max = matches!(prim, Prim::MaxReduce(_));
                let mut out = vec![if is_max { f64::NEG_INFINITY } else { 0.0 }; numel];
                let ostr = view::contiguous_strides(&oshape);
                for_each_index(&v.shape, |i| {
                    let mut o = 0isize;
                    let mut k = 0;
                    for (d, &x) in i.iter().enumerate() {
                        if d != ax {
                            o += x as isize * ostr[k];
                            k += 1;
                        }
                    }
                    let x = read(a, &v, i);
                    let slot = &mut out[o as usize];
                    *slot = if is_max { slot.max(x) } else { *slot + x };
                });
                out
            }
            _ => return Err(EngineError::Unsupported(format!("{prim:?}"))),
        };
        if out.len() != numel.max(if matches!(prim, Prim::Constant) { 1 } else { 0 }) && !prim.is_unary() {
            return Err(EngineError::Shape(format!("node {n:?} ({prim:?}) made {} values, expected {numel}", out.len())));
        }
        bufs.insert(n, out);
    }
    Ok(bufs)
}
