//! Residual block: gradients of a tiny instance (identity and projection
//! shortcuts) against finite differences, our CPU program against the
//! reference, PyTorch parameter names, and values worked by hand.

use std::collections::HashMap;

use vislab_engine::check::{Rng, project, verify};
use vislab_engine::graph::reference::evaluate;
use vislab_engine::graph::view::DimValues;
use vislab_engine::graph::{Dim, Graph, LeafKind, batch_dim};
use vislab_engine::nn::{Mode, ResidualBlock, flatten};

fn d(n: usize) -> Dim {
    n.into()
}

fn init(name: &str, n: usize, rng: &mut Rng) -> Option<Vec<f64>> {
    name.ends_with("running_var").then(|| (0..n).map(|_| rng.range(0.5, 1.5)).collect())
}

fn check_block(name: &str, cin: usize, cout: usize, stride: usize, hw: (usize, usize), mode: Mode, batches: &[usize]) {
    let build = move |g: &mut Graph| {
        let x = g.input("x", &[batch_dim(), d(cin), d(hw.0), d(hw.1)])?;
        let b = ResidualBlock::new(g, "layer1.0", cin, cout, stride)?;
        let y = b.forward(g, x, mode, &mut vec![])?;
        let f = flatten(g, y)?;
        let mut wrt = vec![x, b.conv1.weight, b.bn1.weight, b.bn1.bias, b.conv2.weight, b.bn2.weight, b.bn2.bias];
        if let Some((c, n)) = b.downsample {
            wrt.extend([c.weight, n.weight, n.bias]);
        }
        Ok((project(g, f)?, wrt))
    };
    let cases: Vec<(usize, u64)> = batches.iter().enumerate().map(|(i, &b)| (b, 51 + i as u64)).collect();
    verify(name, &build, &cases, &init).unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn identity_block_gradients() {
    check_block("identity train", 2, 2, 1, (3, 3), Mode::Train, &[1, 2]);
    check_block("identity eval", 2, 2, 1, (3, 4), Mode::Eval, &[1]);
}

#[test]
fn projection_block_gradients() {
    check_block("projection stride 2 train", 2, 3, 2, (5, 4), Mode::Train, &[1, 2]);
    check_block("projection channels only eval", 1, 2, 1, (3, 3), Mode::Eval, &[2]);
}

#[test]
fn pytorch_names_and_shapes() {
    let mut g = Graph::new();
    ResidualBlock::new(&mut g, "layer2.0", 4, 8, 2).unwrap();
    let params: Vec<(String, Vec<Option<usize>>)> =
        g.leaves().iter().filter(|l| l.kind == LeafKind::Param).map(|l| (l.name.clone(), l.shape.iter().map(|s| s.to_usize()).collect())).collect();
    let want: Vec<(&str, Vec<usize>)> = vec![
        ("layer2.0.conv1.weight", vec![8, 4, 3, 3]),
        ("layer2.0.bn1.weight", vec![8]),
        ("layer2.0.bn1.bias", vec![8]),
        ("layer2.0.conv2.weight", vec![8, 8, 3, 3]),
        ("layer2.0.bn2.weight", vec![8]),
        ("layer2.0.bn2.bias", vec![8]),
        ("layer2.0.downsample.0.weight", vec![8, 4, 1, 1]),
        ("layer2.0.downsample.1.weight", vec![8]),
        ("layer2.0.downsample.1.bias", vec![8]),
    ];
    assert_eq!(params.len(), want.len(), "{params:?}");
    for ((n, s), (wn, ws)) in params.iter().zip(&want) {
        assert_eq!(n, wn);
        assert_eq!(s, &ws.iter().map(|&v| Some(v)).collect::<Vec<_>>());
    }
    assert!(g.leaf("layer2.0.downsample.1.running_mean").is_some());
    // Same channels and stride 1: identity shortcut, no downsample parameters.
    let mut g = Graph::new();
    let b = ResidualBlock::new(&mut g, "", 4, 4, 1).unwrap();
    assert!(b.downsample.is_none() && g.leaf("conv1.weight").is_some() && g.leaf("downsample.0.weight").is_none());
    assert!(ResidualBlock::new(&mut g, "bad", 4, 4, 0).is_err());
}

/// Reference output of a block on a `[1, cin, h, w]` input with every leaf set by name.
fn run_block(cin: usize, cout: usize, stride: usize, h: usize, w: usize, mode: Mode, x: Vec<f64>, val: &dyn Fn(&str, usize) -> Vec<f64>) -> Vec<f64> {
    let mut g = Graph::new();
    let xt = g.input("x", &[batch_dim(), d(cin), d(h), d(w)]).unwrap();
    let b = ResidualBlock::new(&mut g, "", cin, cout, stride).unwrap();
    let y = b.forward(&mut g, xt, mode, &mut vec![]).unwrap();
    let y = g.contiguous(y);
    let env = DimValues(vec![('B', 1)]);
    let mut leaves: HashMap<_, _> = [(xt.id, x)].into();
    for l in g.leaves().iter().filter(|l| matches!(l.kind, LeafKind::Param | LeafKind::State(_))) {
        let n: usize = l.shape.iter().map(|s| s.to_usize().unwrap()).product();
        leaves.insert(l.id, val(&l.name, n));
    }
    evaluate(&g, &leaves, &env, &[y.id]).unwrap()[&y.id].clone()
}

#[test]
fn block_values_by_hand() {
    // Zero convolutions make each main-path BatchNorm output its bias, so an
    // identity block computes relu(x + bn2.bias).
    let x = vec![-1.0, 0.5, 2.0, -3.0];
    let got = run_block(1, 1, 1, 2, 2, Mode::Train, x.clone(), &|n, k| match n {
        "bn2.bias" => vec![0.75; k],
        "bn1.weight" | "bn2.weight" | "bn1.running_var" | "bn2.running_var" => vec![1.0; k],
        _ => vec![0.0; k],
    });
    let want: Vec<f64> = x.iter().map(|v| (v + 0.75f64).max(0.0)).collect();
    for (a, b) in got.iter().zip(&want) {
        assert!((a - b).abs() < 1e-9, "{got:?} vs {want:?}");
    }
    // Projection in eval mode (running mean 0, var 1): the 1x1 stride-2
    // shortcut with weights [1, -1] picks x[0::2, 0::2] and its negation,
    // scaled by 1 / sqrt(1 + eps); relu keeps the first channel only.
    let ramp: Vec<f64> = (0..16).map(|v| v as f64).collect();
    let got = run_block(1, 2, 2, 4, 4, Mode::Eval, ramp, &|n, k| match n {
        "downsample.0.weight" => vec![1.0, -1.0],
        n if n.ends_with(".weight") && !n.starts_with("conv") => vec![1.0; k],
        n if n.ends_with("running_var") => vec![1.0; k],
        _ => vec![0.0; k],
    });
    let s = 1.0 / (1.0f64 + 1e-5).sqrt();
    let want = [0.0, 2.0 * s, 8.0 * s, 10.0 * s, 0.0, 0.0, 0.0, 0.0];
    assert_eq!(got.len(), 8);
    for (a, b) in got.iter().zip(&want) {
        assert!((a - b).abs() < 1e-9, "{got:?} vs {want:?}");
    }
}
