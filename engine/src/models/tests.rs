use std::collections::BTreeMap;

use super::*;
use crate::data::Batch;
use crate::model::Model as Compiled;
use crate::optim::{Adam, Optimizer};
use crate::train::{Model, checkpoint};

/// Conv + BatchNorm on 6x6 images: exercises state buffers and both modes.
fn tiny_cnn() -> Cnn {
    Cnn { image: [1, 6, 6], channels: vec![2], kernel: 3, batch_norm: true, hidden: 4, classes: 3 }
}

fn batch(n: usize, per: usize, classes: usize, shift: f32) -> Batch {
    Batch { x: (0..n * per).map(|i| ((i as f32 * 0.37 + shift).sin() + 1.0) / 2.0).collect(), shape: vec![n, per], y: (0..n).map(|i| (i * 7 + 1) % classes).collect() }
}

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

#[test]
fn adapter_matches_the_compiled_graph() {
    let mut gm = GraphModel::new(tiny_cnn().build().unwrap(), 3).unwrap();
    let (g, spec, ..) = tiny_cnn().build().unwrap().into_spec().unwrap();
    let mut raw = Compiled::compile(g, spec).unwrap();
    let names: Vec<&str> = gm.params().iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["conv1.weight", "conv1.bias", "bn1.weight", "bn1.bias", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias", "bn1.running_mean", "bn1.running_var"]);
    let b = batch(5, 36, 3, 0.0);
    raw.set_batch(5).unwrap();
    for p in gm.params() {
        match p.trainable {
            true => raw.set_param(&p.name, &p.value).unwrap(),
            false => raw.state_mut(&p.name).unwrap().copy_from_slice(&p.value),
        }
    }
    raw.set_input("x", &b.x).unwrap();
    raw.set_input("labels", &b.y.iter().map(|&l| l as f32).collect::<Vec<_>>()).unwrap();
    let raw_loss = raw.train_step().unwrap();
    let out = gm.train_step(&b).unwrap();
    assert_eq!(out.loss.to_bits(), raw_loss.to_bits());
    assert_eq!(out.count, 5);
    for p in gm.params() {
        if p.trainable {
            assert_eq!(bits(&p.grad), bits(raw.grad(&p.name).unwrap()), "{}", p.name);
            assert!(p.grad.iter().any(|g| *g != 0.0), "{} has a zero gradient", p.name);
        } else {
            // Running statistics moved away from their start (0 and 1) and came back out.
            assert_eq!(bits(&p.value), bits(raw.state(&p.name).unwrap()), "{}", p.name);
            assert!(p.value.iter().all(|v| *v != 0.0 && *v != 1.0), "{}: {:?}", p.name, p.value);
        }
    }
}

/// Central differences of the training loss through the adapter: also
/// checks that every call reads the current values.
#[test]
fn gradients_match_finite_differences() {
    let mut m = GraphModel::new(Mlp::new(&[6, 5, 3]).build().unwrap(), 1).unwrap();
    let b = batch(4, 6, 3, 0.5);
    m.train_step(&b).unwrap();
    let analytic: Vec<Vec<f32>> = m.params().iter().map(|p| p.grad.clone()).collect();
    let h = 1e-2f32;
    let mut worst = 0f32;
    for pi in 0..m.params().len() {
        for i in 0..m.params()[pi].value.len() {
            let v0 = m.params()[pi].value[i];
            m.params_mut()[pi].value[i] = v0 + h;
            let up = m.train_step(&b).unwrap().loss;
            m.params_mut()[pi].value[i] = v0 - h;
            let down = m.train_step(&b).unwrap().loss;
            m.params_mut()[pi].value[i] = v0;
            let numeric = (up - down) / (2.0 * h);
            let err = (numeric - analytic[pi][i]).abs() / (1e-2 + numeric.abs().max(analytic[pi][i].abs()));
            worst = worst.max(err);
        }
    }
    assert!(worst < 2e-2, "worst relative error {worst}");
}

/// Identity logits: the argmax count and the cross-entropy by hand.
#[test]
fn counts_correct_predictions_and_eval_loss() {
    let mut m = GraphModel::new(Mlp::new(&[2, 2]).build().unwrap(), 0).unwrap();
    m.params_mut()[0].value = vec![1.0, 0.0, 0.0, 1.0];
    m.params_mut()[1].value = vec![0.0, 0.0];
    let x = [1.0f32, 0.0, 0.0, 1.0, 3.0, 2.0, 0.5, 0.7];
    let b = Batch { x: x.to_vec(), shape: vec![4, 2], y: vec![0, 0, 0, 1] };
    let s = m.eval(&b).unwrap();
    assert_eq!((s.correct, s.count), (3, 4));
    let ce: f64 = x.chunks(2).zip(&b.y).map(|(r, &y)| ((r[0] as f64).exp() + (r[1] as f64).exp()).ln() - r[y] as f64).sum::<f64>() / 4.0;
    assert!((s.loss as f64 - ce).abs() < 1e-6, "{} vs {ce}", s.loss);
    assert_eq!(m.predict(&b).unwrap(), x.to_vec());
    assert_eq!(m.train_step(&b).unwrap().correct, 3);
}

#[test]
fn bad_batches_are_errors() {
    let mut m = GraphModel::new(Mlp::new(&[6, 3]).build().unwrap(), 0).unwrap();
    assert!(m.train_step(&batch(2, 5, 3, 0.0)).unwrap_err().to_string().contains("does not fit"));
    let mut b = batch(2, 6, 3, 0.0);
    b.y[1] = 3;
    assert!(m.eval(&b).unwrap_err().to_string().contains("label 3"));
    b.y[1] = 0;
    b.x[0] = f32::NAN;
    assert!(m.train_step(&b).is_err());
}

#[test]
fn checkpoint_round_trip_is_bit_exact() {
    let mut m = GraphModel::new(tiny_cnn().build().unwrap(), 5).unwrap();
    let mut opt = Adam::new(1e-2);
    for k in 0..3 {
        m.train_step(&batch(4, 36, 3, k as f32)).unwrap();
        opt.step(m.params_mut()).unwrap();
    }
    let path = std::env::temp_dir().join(format!("vislab-models-{}.safetensors", std::process::id()));
    let meta = BTreeMap::from([(META_ARCH.to_string(), "tiny".to_string())]);
    checkpoint::save(&path, m.params(), Some(&opt), &meta).unwrap();
    let ck = checkpoint::load(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    assert_eq!(ck.meta, meta);
    let mut fresh = GraphModel::new(tiny_cnn().build().unwrap(), 6).unwrap();
    assert_ne!(fresh.params(), m.params());
    ck.apply(fresh.params_mut()).unwrap();
    for (a, b) in m.params().iter().zip(fresh.params()) {
        assert_eq!((&a.name, &a.shape, bits(&a.value)), (&b.name, &b.shape, bits(&b.value)));
    }
    let b = batch(6, 36, 3, 9.0);
    let (x, y) = (m.eval(&b).unwrap(), fresh.eval(&b).unwrap());
    assert_eq!((x.loss.to_bits(), x.correct), (y.loss.to_bits(), y.correct));
}

#[test]
fn named_architectures() {
    assert!(Arch::parse("resnet").unwrap_err().to_string().contains("unknown model 'resnet'"));
    let shapes = |a: Arch| -> Vec<(String, Vec<usize>)> { a.build(0).unwrap().params().iter().map(|p| (p.name.clone(), p.shape.clone())).collect() };
    let s = |n: &str, v: &[usize]| (n.to_string(), v.to_vec());
    let mlp = shapes(Arch::Mlp);
    assert_eq!(mlp, [s("fc1.weight", &[512, 784]), s("fc1.bias", &[512]), s("fc2.weight", &[256, 512]), s("fc2.bias", &[256]), s("fc3.weight", &[10, 256]), s("fc3.bias", &[10])]);
    let cnn = shapes(Arch::Cnn);
    assert_eq!(cnn[0], s("conv1.weight", &[16, 1, 3, 3]));
    assert_eq!(cnn[2], s("conv2.weight", &[32, 16, 3, 3]));
    assert_eq!(cnn[4], s("fc1.weight", &[128, 32 * 7 * 7]));
    assert_eq!(cnn[7], s("fc2.bias", &[10]));
}

/// Kaiming (gain sqrt 2) for hidden layers, gain 1 for the output layer,
/// zero biases; the same seed gives the same weights.
#[test]
fn seeded_kaiming_init() {
    let a = GraphModel::new(Mlp::new(&[400, 300, 200]).build().unwrap(), 7).unwrap();
    let std = |v: &[f32]| (v.iter().map(|x| (*x as f64).powi(2)).sum::<f64>() / v.len() as f64).sqrt();
    let p = a.params();
    assert!((std(&p[0].value) / (2.0f64 / 400.0).sqrt() - 1.0).abs() < 0.02, "{}", std(&p[0].value));
    assert!((std(&p[2].value) / (1.0f64 / 300.0).sqrt() - 1.0).abs() < 0.02, "{}", std(&p[2].value));
    assert!(p[1].value.iter().chain(&p[3].value).all(|v| *v == 0.0));
    let b = GraphModel::new(Mlp::new(&[400, 300, 200]).build().unwrap(), 7).unwrap();
    let c = GraphModel::new(Mlp::new(&[400, 300, 200]).build().unwrap(), 8).unwrap();
    assert_eq!(a.params(), b.params());
    assert_ne!(a.params()[0].value, c.params()[0].value);
}
