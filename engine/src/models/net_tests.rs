//! Tests of the configurable networks, the ResNet, probes and receptive fields.

use std::collections::BTreeMap;

use super::*;
use crate::data::Batch;
use crate::init::Init;
use crate::nn::Mode;
use crate::optim::{Adam, Optimizer};
use crate::train::Model;

fn batch(n: usize, per: usize, classes: usize, shift: f32) -> Batch {
    Batch { x: (0..n * per).map(|i| ((i as f32 * 0.37 + shift).sin() + 1.0) / 2.0).collect(), shape: vec![n, per], y: (0..n).map(|i| (i * 7 + 1) % classes).collect() }
}

fn geo(k: Option<usize>, s: usize) -> LayerGeometry {
    LayerGeometry { name: String::new(), kernel: k, stride: s }
}

/// 1 + sum (K - 1) * product of earlier strides, by hand:
/// conv3: 1 + 2 = 3; conv3: 3 + 2 = 5; pool2/2: 5 + 1 = 6 (jump 2);
/// conv3: 6 + 2*2 = 10; conv5/2: 10 + 4*2 = 18 (jump 4); conv3: 18 + 2*4 = 26.
#[test]
fn receptive_fields_by_hand() {
    let layers = [geo(Some(3), 1), geo(Some(3), 1), geo(Some(2), 2), geo(Some(3), 1), geo(Some(5), 2), geo(Some(3), 1), geo(None, 1), geo(Some(3), 1)];
    assert_eq!(receptive_fields(&layers), vec![Some(3), Some(5), Some(6), Some(10), Some(18), Some(26), None, None]);
    // the small ResNet: stem 3; layer1 5, 7; layer2 (stride 2) 9, then 9 + 2*2 = 13
    let net = ResNet::small([1, 8, 8], 3).network().unwrap();
    let names: Vec<&str> = net.geometry.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["conv1", "layer1.conv1", "layer1.conv2", "layer2.conv1", "layer2.conv2", "avgpool", "fc"]);
    assert_eq!(receptive_fields(&net.geometry), vec![Some(3), Some(5), Some(7), Some(9), Some(13), None, None]);
}

/// Probe values and gradients of a 2-2-2 MLP against hand-computed ones:
/// logits' gradient is (softmax - onehot) / B, the hidden layer's is that
/// times W2.
#[test]
fn probes_give_layer_outputs_and_their_gradients() {
    let spec = NetSpec { widths: vec![2], ..NetSpec::default_for(Family::Mlp, [1, 1, 2], 2) };
    let mut m = spec.model(0, Init::KAIMING_RELU).unwrap();
    let (w1, b1, w2, b2) = ([1.0f32, -1.0, 0.5, 2.0], [0.1f32, -0.2], [1.0f32, 0.5, -1.0, 2.0], [0.0f32, 0.3]);
    for (p, v) in m.params_mut().iter_mut().zip([&w1[..], &b1, &w2, &b2]) {
        p.value = v.to_vec();
    }
    let b = Batch { x: vec![1.0, 2.0, -1.0, 0.5], shape: vec![2, 2], y: vec![1, 0] };
    let probes = m.inspect(&b, Mode::Train).unwrap();
    assert_eq!(probes.iter().map(|p| (p.name.as_str(), p.sample_shape.clone())).collect::<Vec<_>>(), [("fc1", vec![2]), ("fc2", vec![2])]);
    for (s, x) in b.x.chunks(2).enumerate() {
        let h: Vec<f32> = (0..2).map(|j| (w1[2 * j] * x[0] + w1[2 * j + 1] * x[1] + b1[j]).max(0.0)).collect();
        let z: Vec<f32> = (0..2).map(|k| w2[2 * k] * h[0] + w2[2 * k + 1] * h[1] + b2[k]).collect();
        let e: Vec<f32> = z.iter().map(|v| v.exp()).collect();
        let dz: Vec<f32> = (0..2).map(|k| (e[k] / (e[0] + e[1]) - (k == b.y[s]) as u8 as f32) / 2.0).collect();
        let dh: Vec<f32> = (0..2).map(|j| dz[0] * w2[j] + dz[1] * w2[2 + j]).collect();
        for j in 0..2 {
            let close = |a: f32, b: f32| (a - b).abs() < 1e-5;
            assert!(close(probes[0].values[2 * s + j], h[j]), "hidden {s} {j}: {:?} vs {h:?}", probes[0].values);
            assert!(close(probes[1].values[2 * s + j], z[j]), "logits {s} {j}");
            assert!(close(probes[1].grads[2 * s + j], dz[j]), "logit grad {s} {j}: {:?} vs {dz:?}", probes[1].grads);
            assert!(close(probes[0].grads[2 * s + j], dh[j]), "hidden grad {s} {j}: {:?} vs {dh:?}", probes[0].grads);
        }
    }
    let eval = m.inspect(&b, Mode::Eval).unwrap();
    assert_eq!(eval[1].values, probes[1].values);
    assert!(eval[1].grads.is_empty());
}

/// Inspecting in train mode changes no parameter and no running statistic,
/// and the next training step is the same as without it.
#[test]
fn inspection_has_no_side_effects() {
    let spec = NetSpec { widths: vec![3], hidden: 5, batch_norm: true, ..NetSpec::default_for(Family::Cnn, [1, 6, 6], 3) };
    let mut a = spec.model(4, Init::KAIMING_RELU).unwrap();
    let mut b = spec.model(4, Init::KAIMING_RELU).unwrap();
    let x = batch(5, 36, 3, 0.2);
    let before = a.params().to_vec();
    let probes = a.inspect(&x, Mode::Train).unwrap();
    assert_eq!(probes.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["conv1", "pool1", "fc1", "fc2"]);
    assert_eq!(probes[0].sample_shape, vec![3, 6, 6]);
    assert_eq!(probes[1].sample_shape, vec![3, 3, 3]);
    assert_eq!(probes[0].values.len(), 5 * 108);
    assert!(probes.iter().all(|p| p.grads.len() == p.values.len() && p.grads.iter().any(|g| *g != 0.0)), "every layer has a gradient");
    assert_eq!(a.params(), &before[..]);
    let (la, lb) = (a.train_step(&x).unwrap(), b.train_step(&x).unwrap());
    assert_eq!(la.loss.to_bits(), lb.loss.to_bits());
    assert_eq!(a.params(), b.params());
}

/// With the defaults the lab's networks are the command line's: same
/// names, initial values, loss and gradients, bit for bit.
#[test]
fn default_networks_are_the_named_architectures() {
    for (family, arch) in [(Family::Mlp, Arch::Mlp), (Family::Cnn, Arch::Cnn)] {
        let mut ours = NetSpec::default_for(family, [1, 28, 28], 10).model(3, Init::KAIMING_RELU).unwrap();
        let mut named = arch.build(3).unwrap();
        assert_eq!(ours.params(), named.params(), "{family:?}");
        let b = batch(4, 784, 10, 1.0);
        let (x, y) = (ours.train_step(&b).unwrap(), named.train_step(&b).unwrap());
        assert_eq!(x.loss.to_bits(), y.loss.to_bits(), "{family:?}");
        assert_eq!(ours.params(), named.params(), "{family:?} gradients");
    }
}

/// The small ResNet: torchvision names and shapes, per-stage outputs, and
/// it fits a small batch.
#[test]
fn small_resnet_trains() {
    let mut m = ResNet::small([1, 8, 8], 3).network().unwrap().into_model(1, Init::KAIMING_RELU).unwrap();
    let shapes: Vec<(&str, Vec<usize>)> = m.params().iter().map(|p| (p.name.as_str(), p.shape.clone())).collect();
    for want in [
        ("conv1.weight", vec![16, 1, 3, 3]),
        ("layer1.conv2.weight", vec![16, 16, 3, 3]),
        ("layer2.downsample.0.weight", vec![32, 16, 1, 1]),
        ("fc.weight", vec![3, 32]),
        ("layer2.bn2.running_var", vec![32]),
    ] {
        assert!(shapes.contains(&(want.0, want.1.clone())), "missing {want:?} in {shapes:?}");
    }
    assert!(!shapes.iter().any(|(n, _)| n.starts_with("layer1.downsample")), "layer1 keeps the identity shortcut");
    let b = batch(12, 64, 3, 0.0);
    let probes = m.inspect(&b, Mode::Eval).unwrap();
    let got: Vec<(&str, Vec<usize>)> = probes.iter().map(|p| (p.name.as_str(), p.sample_shape.clone())).collect();
    assert_eq!(got, [("conv1", vec![16, 8, 8]), ("layer1", vec![16, 8, 8]), ("layer2", vec![32, 4, 4]), ("fc", vec![3])]);
    let mut opt = Adam::new(1e-2);
    let first = m.train_step(&b).unwrap().loss;
    opt.step(m.params_mut()).unwrap();
    let mut last = first;
    for _ in 0..40 {
        last = m.train_step(&b).unwrap().loss;
        opt.step(m.params_mut()).unwrap();
    }
    assert!(last < first / 4.0, "loss {first} -> {last}");
    assert_eq!(m.eval(&b).unwrap().count, 12);
}

/// The weight-initialization demo: with tanh and N(0, 0.01^2) weights the
/// activations shrink by about 0.01 * sqrt(64) = 0.08 per layer; with
/// Xavier they keep their scale.
#[test]
fn small_init_collapses_tanh_activations() {
    let std_of = |v: &[f32]| (v.iter().map(|x| (*x as f64).powi(2)).sum::<f64>() / v.len() as f64).sqrt();
    let spec = NetSpec { widths: vec![64; 6], activation: Activation::Tanh, ..NetSpec::default_for(Family::Mlp, [1, 8, 8], 10) };
    let b = batch(32, 64, 10, 0.3);
    let ratio = |init: Init| {
        let mut m = spec.model(2, init).unwrap();
        let p = m.inspect(&b, Mode::Eval).unwrap();
        std_of(&p[5].values) / std_of(&p[0].values)
    };
    let small = ratio(Init::SMALL);
    let xavier = ratio(Init::XAVIER_NORMAL);
    assert!(small < 1e-4, "small init ratio {small}");
    assert!(xavier > 0.1, "xavier ratio {xavier}");
}

/// Every family's spec, with every field off its default, comes back from
/// the metadata it writes; the image and classes passed in are only used
/// where the metadata has none.
#[test]
fn specs_round_trip_through_checkpoint_metadata() {
    let specs = [
        NetSpec { widths: vec![40, 20, 10], hidden: 7, activation: Activation::Gelu, batch_norm: true, dropout: 0.3, ..NetSpec::default_for(Family::Mlp, [1, 8, 8], 10) },
        NetSpec { widths: vec![4], hidden: 9, activation: Activation::LeakyRelu, dropout: 0.125, ..NetSpec::default_for(Family::Cnn, [3, 9, 7], 4) },
        NetSpec { widths: vec![8, 16, 32], dropout: 0.5, ..NetSpec::default_for(Family::ResNet, [3, 32, 32], 100) },
    ];
    for spec in specs {
        let meta = spec.to_meta();
        assert_eq!(meta[META_ARCH], spec.family.arch());
        assert_eq!(NetSpec::from_meta(&meta, [5, 5, 5], 2).unwrap(), spec);
    }
    let meta = NetSpec::default_for(Family::Cnn, [3, 9, 7], 4).to_meta();
    let want = [("vislab.arch", "cnn"), ("vislab.image", "3,9,7"), ("vislab.classes", "4"), ("vislab.net.widths", "16,32"), ("vislab.net.hidden", "128")];
    for (k, v) in want {
        assert_eq!(meta[k], v, "{k}");
    }
    assert_eq!((meta[META_ACTIVATION].as_str(), meta[META_BATCH_NORM].as_str(), meta[META_DROPOUT].as_str()), ("relu", "false", "0"));
    for a in Activation::ALL {
        assert_eq!(Activation::from_key(a.key()), Some(a));
    }
}

/// A `vislab train --model mlp|cnn` checkpoint records only `vislab.arch`
/// (older ones) or also the image and classes: it reads as the family's
/// default, the command line's network, parameter for parameter.
#[test]
fn command_line_checkpoints_read_as_their_architecture() {
    for arch in Arch::ALL {
        let only_arch = BTreeMap::from([(META_ARCH.to_string(), arch.name().to_string())]);
        let spec = NetSpec::from_meta(&only_arch, [3, 12, 12], 7).unwrap();
        let named = arch.build_for([3, 12, 12], 7, 1).unwrap();
        let ours = spec.model(1, Init::KAIMING_RELU).unwrap();
        assert_eq!(ours.params(), named.params(), "{}", arch.name());
        let with_shape = BTreeMap::from([(META_ARCH.to_string(), arch.name().to_string()), (META_IMAGE.to_string(), "1,28,28".into()), (META_CLASSES.to_string(), "10".into())]);
        assert_eq!(NetSpec::from_meta(&with_shape, [3, 12, 12], 7).unwrap().image, [1, 28, 28]);
    }
    let meta = |k: &str, v: &str| BTreeMap::from([(META_ARCH.to_string(), "mlp".to_string()), (k.to_string(), v.to_string())]);
    let err = |m: BTreeMap<String, String>| NetSpec::from_meta(&m, [1, 8, 8], 10).unwrap_err().to_string();
    assert_eq!(err(meta(META_ARCH, "vae")), "vislab.arch 'vae' is not a classifier (mlp, cnn or resnet)");
    assert_eq!(err(meta(META_ACTIVATION, "swish")), "vislab.net.activation: cannot read 'swish'");
    assert_eq!(err(meta(META_IMAGE, "28,28")), "vislab.image: cannot read '28,28'");
}
