//! Our forward + autograd graphs are plain luminal primitive graphs: luminal's
//! own executor (the code path its GPU compilers start from) runs them and
//! agrees with our CPU program.

use luminal::prelude::Tensor as LTensor;
use vislab_engine::check::Rng;
use vislab_engine::cpu::Program;
use vislab_engine::graph::view::DimValues;
use vislab_engine::graph::{Graph, LeafKind, batch_dim};
use vislab_engine::nn::{self, Linear};

#[test]
fn luminal_executes_our_gradient_graph() {
    let mut g = Graph::new();
    let x = g.input("x", &[batch_dim(), 5usize.into()]).unwrap();
    let labels = g.labels("labels", 3).unwrap();
    let fc1 = Linear::new(&mut g, "fc1", 5, 4, true).unwrap();
    let fc2 = Linear::new(&mut g, "fc2", 4, 3, true).unwrap();
    let h = fc1.forward(&mut g, x).unwrap();
    let h = nn::sigmoid(&mut g, h).unwrap();
    let logits = fc2.forward(&mut g, h).unwrap();
    let loss = nn::softmax_cross_entropy(&mut g, logits, labels).unwrap();
    let params = [fc1.weight, fc1.bias.unwrap(), fc2.weight, fc2.bias.unwrap()];
    let grads: Vec<_> = g.backward(loss, &params).unwrap().into_iter().map(|t| t.unwrap()).collect();
    let batch = 4;
    let mut rng = Rng::new(5);
    let mut data = vec![];
    for l in g.leaves() {
        let v: Vec<f32> = match &l.kind {
            LeafKind::Fixed(d) => d.clone(),
            LeafKind::Labels(c) => (0..batch).map(|_| rng.below(*c) as f32).collect(),
            _ => {
                let n: usize = l.shape.iter().map(|d| d.to_usize().unwrap_or(batch)).product();
                (0..n).map(|_| rng.range(-1.0, 1.0) as f32).collect()
            }
        };
        data.push((l.id, v));
    }
    let mut outs = vec![loss.id];
    outs.extend(grads.iter().map(|t| t.id));
    // Ours.
    let mut p = Program::new(&g, &outs).unwrap();
    p.set_dims(&DimValues(vec![('B', batch)])).unwrap();
    for (id, v) in &data {
        p.set_leaf(*id, v).unwrap();
    }
    p.run().unwrap();
    // luminal's.
    let cx = g.luminal_mut();
    cx.set_dyn_dim('B', batch);
    for (id, v) in &data {
        cx.set_tensor(*id, 0, LTensor::new(v.clone()));
    }
    for o in &outs {
        cx.to_retrieve.insert(*o);
        cx.no_delete.insert(*o);
    }
    cx.execute();
    for (k, o) in outs.iter().enumerate() {
        let lt = cx.get_tensor_ref(*o, 0).expect("luminal kept the output");
        let lv = lt.data.as_any().downcast_ref::<Vec<f32>>().expect("f32 tensor");
        let ours = p.buffer(*o);
        assert_eq!(lv.len(), ours.len(), "output {k}");
        for (a, b) in lv.iter().zip(ours) {
            assert!((a - b).abs() <= 1e-4 * (1.0 + b.abs()), "output {k}: luminal {a} vs ours {b}");
        }
    }
}
