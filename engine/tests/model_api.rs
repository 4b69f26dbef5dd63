//! The `Model` API the trainer uses: names, batch changes without recompiling,
//! gradients against the reference, errors on bad input.

use std::collections::HashMap;

use vislab_engine::graph::reference::evaluate;
use vislab_engine::graph::view::DimValues;
use vislab_engine::graph::{Graph, batch_dim};
use vislab_engine::model::{Model, ModelSpec, ParamInfo};
use vislab_engine::nn::{self, Linear};

fn assert_send<T: Send>() {}

fn build() -> (Graph, ModelSpec) {
    let mut g = Graph::new();
    let x = g.input("x", &[batch_dim(), 3usize.into()]).unwrap();
    let labels = g.labels("labels", 4).unwrap();
    let fc = Linear::new(&mut g, "fc1", 3, 4, true).unwrap();
    let _unused = g.param("unused.weight", &[2]).unwrap();
    let logits = fc.forward(&mut g, x).unwrap();
    let loss = nn::softmax_cross_entropy(&mut g, logits, labels).unwrap();
    (g, ModelSpec { loss, train_outputs: vec![("logits".into(), logits)], eval_outputs: vec![], state_updates: vec![] })
}

#[test]
fn model_is_send_and_named_like_pytorch() {
    assert_send::<Model>();
    let (g, spec) = build();
    let m = Model::compile(g, spec).unwrap();
    let p = m.params();
    assert!(p.contains(&ParamInfo { name: "fc1.weight".into(), shape: vec![4, 3] }));
    assert!(p.contains(&ParamInfo { name: "fc1.bias".into(), shape: vec![4] }));
    assert_eq!(m.input_names(), vec!["labels".to_string(), "x".to_string()]);
}

#[test]
fn batch_sizes_change_without_recompiling_and_match_the_reference() {
    let (g, spec) = build();
    // Keep a reference copy of the same graph for checking.
    let (g_ref, spec_ref) = build();
    let mut m = Model::compile(g, spec).unwrap();
    let w: Vec<f32> = (0..12).map(|i| (i as f32 * 0.37).sin()).collect();
    let b = [0.1f32, -0.2, 0.3, 0.0];
    m.set_param("fc1.weight", &w).unwrap();
    m.set_param("fc1.bias", &b).unwrap();
    for batch in [5usize, 1, 3] {
        m.set_batch(batch).unwrap();
        let x: Vec<f32> = (0..batch * 3).map(|i| (i as f32 * 0.71).cos()).collect();
        let y: Vec<f32> = (0..batch).map(|i| (i % 4) as f32).collect();
        m.set_input("x", &x).unwrap();
        m.set_input("labels", &y).unwrap();
        let loss = m.train_step().unwrap();
        // Reference forward in f64.
        let leaf = |n: &str| g_ref.leaf(n).unwrap().id;
        let vals: HashMap<_, _> = [
            (leaf("x"), x.iter().map(|&v| v as f64).collect::<Vec<_>>()),
            (leaf("labels"), y.iter().map(|&v| v as f64).collect()),
            (leaf("fc1.weight"), w.iter().map(|&v| v as f64).collect()),
            (leaf("fc1.bias"), b.iter().map(|&v| v as f64).collect()),
        ]
        .into();
        let r = evaluate(&g_ref, &vals, &DimValues(vec![('B', batch)]), &[spec_ref.loss.id]).unwrap();
        assert!((loss as f64 - r[&spec_ref.loss.id][0]).abs() < 1e-5, "batch {batch}");
        assert_eq!(m.output("logits").unwrap().len(), batch * 4);
        // Bias gradient of mean cross-entropy: mean over batch of softmax - onehot; sums to 0.
        let gb: f32 = m.grad("fc1.bias").unwrap().iter().sum();
        assert!(gb.abs() < 1e-5, "{gb}");
        assert_eq!(m.grad("unused.weight").unwrap(), &[0.0, 0.0]);
        // update_params sees the same gradients as grad().
        let gw = m.grad("fc1.weight").unwrap().to_vec();
        let mut seen = vec![];
        m.update_params(|info, p, g| {
            assert_eq!(p.len(), info.shape.iter().product::<usize>());
            assert_eq!(p.len(), g.len());
            seen.push(info.name.clone());
            if info.name == "fc1.weight" {
                assert_eq!(g, gw.as_slice());
            }
            Ok::<(), vislab_engine::error::EngineError>(())
        })
        .unwrap();
        seen.sort();
        assert_eq!(seen, ["fc1.bias", "fc1.weight", "unused.weight"]);
    }
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let (g, spec) = build();
    let mut m = Model::compile(g, spec).unwrap();
    assert!(m.set_batch(0).is_err());
    m.set_batch(2).unwrap();
    assert!(m.set_input("x", &[0.0; 5]).is_err());
    assert!(m.set_input("x", &[0.0, 1.0, f32::INFINITY, 0.0, 0.0, 0.0]).is_err());
    assert!(m.set_input("nope", &[0.0]).is_err());
    assert!(m.set_input("labels", &[0.0, 4.0]).is_err(), "label out of range");
    assert!(m.set_input("labels", &[0.5, 1.0]).is_err(), "fractional label");
    assert!(m.set_input("labels", &[-1.0, 1.0]).is_err(), "negative label");
    assert!(m.set_input("labels", &[3.0, 0.0]).is_ok());
    assert!(m.set_param("fc1.bias", &[0.0; 3]).is_err());
    assert!(m.param("fc9.weight").is_err());
    assert!(m.output("nope").is_err());
    let mut g = Graph::new();
    let x = g.input("x", &[batch_dim(), 3usize.into()]).unwrap();
    assert!(g.input("x", &[1usize.into()]).is_err(), "duplicate names are rejected");
    let w = g.param("w", &[4, 5]).unwrap();
    assert!(g.matmul(x, w).is_err(), "shape mismatch is an error");
    assert!(g.slice(x, 1, 2, 9).is_err());
    assert!(g.permute(x, &[0, 0]).is_err());
}
