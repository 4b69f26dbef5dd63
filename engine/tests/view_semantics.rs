//! Hand-worked view values (the cases luminal 0.2.0's own trackers get wrong),
//! through the reference evaluator and our CPU program.

use std::collections::HashMap;

use vislab_engine::cpu::Program;
use vislab_engine::graph::reference::evaluate;
use vislab_engine::graph::view::DimValues;
use vislab_engine::graph::{Graph, Tensor};

fn run_both(g: &Graph, x: Tensor, data: &[f32], out: Tensor) -> (Vec<f64>, Vec<f32>) {
    let env = DimValues::default();
    let leaves: HashMap<_, _> = [(x.id, data.iter().map(|&v| v as f64).collect())].into();
    let r = evaluate(g, &leaves, &env, &[out.id]).unwrap()[&out.id].clone();
    let mut p = Program::new(g, &[out.id]).unwrap();
    p.set_dims(&env).unwrap();
    p.set_leaf(x.id, data).unwrap();
    p.run().unwrap();
    (r, p.buffer(out.id).to_vec())
}

#[test]
fn slice_with_start_and_end_sums_the_right_elements() {
    let mut g = Graph::new();
    let x = g.input("x", &[9usize.into()]).unwrap();
    let s = g.slice(x, 0, 2, 5).unwrap();
    let y = g.sum_reduce(s, 0).unwrap();
    let data: Vec<f32> = (0..9).map(|v| v as f32).collect();
    let (r, c) = run_both(&g, x, &data, y);
    assert_eq!(r, vec![9.0]); // 2 + 3 + 4 (luminal's shape() gives 14)
    assert_eq!(c, vec![9.0]);
}

#[test]
fn pad_then_slice_on_one_dim() {
    let mut g = Graph::new();
    let x = g.input("x", &[3usize.into()]).unwrap();
    // [0, 0, 1, 2, 3, 0] then keep 1..5 -> [0, 1, 2, 3]
    let p = g.pad(x, 0, 2, 1).unwrap();
    let s = g.slice(p, 0, 1, 5).unwrap();
    let y = g.contiguous(s);
    let (r, c) = run_both(&g, x, &[1.0, 2.0, 3.0], y);
    assert_eq!(r, vec![0.0, 1.0, 2.0, 3.0]);
    assert_eq!(c, vec![0.0, 1.0, 2.0, 3.0]);
}

#[test]
fn permuted_slice_and_broadcast() {
    let mut g = Graph::new();
    let x = g.input("x", &[2usize.into(), 3usize.into()]).unwrap();
    // x = [[1,2,3],[4,5,6]]; x^T = [[1,4],[2,5],[3,6]]; rows 1..3 -> [[2,5],[3,6]]
    let t = g.permute(x, &[1, 0]).unwrap();
    let s = g.slice(t, 0, 1, 3).unwrap();
    let e = g.expand(s, 0, 2usize.into()).unwrap();
    let y = g.contiguous(e);
    let (r, c) = run_both(&g, x, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], y);
    let want = [2.0, 5.0, 3.0, 6.0, 2.0, 5.0, 3.0, 6.0];
    assert_eq!(r, want.to_vec());
    assert_eq!(c, want.iter().map(|&v| v as f32).collect::<Vec<_>>());
}
