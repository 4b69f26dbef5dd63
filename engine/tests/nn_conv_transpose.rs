//! Transposed convolution: autograd against finite differences, our CPU
//! program against the reference, adjointness with `Conv2d` (the definition
//! of a transposed convolution), and hand-worked values.

use std::collections::HashMap;

use vislab_engine::check::{Rng, project, verify};
use vislab_engine::graph::reference::evaluate;
use vislab_engine::graph::view::DimValues;
use vislab_engine::graph::{Dim, Graph, batch_dim};
use vislab_engine::nn::{Conv2d, Conv2dConfig, ConvTranspose2d, ConvTranspose2dConfig, flatten};

fn no_init(_: &str, _: usize, _: &mut Rng) -> Option<Vec<f64>> {
    None
}

fn d(n: usize) -> Dim {
    n.into()
}

fn cfg(cin: usize, cout: usize, k: (usize, usize), stride: usize, padding: usize, output_padding: usize) -> ConvTranspose2dConfig {
    ConvTranspose2dConfig { in_channels: cin, out_channels: cout, kernel: k, stride, padding, output_padding, bias: true }
}

/// (config, input H, W): odd sizes, kernels smaller and larger than the stride.
fn cases() -> Vec<(ConvTranspose2dConfig, usize, usize)> {
    vec![
        (cfg(2, 3, (4, 4), 2, 1, 0), 3, 2),
        (cfg(2, 2, (3, 3), 2, 1, 1), 3, 4),
        (cfg(1, 2, (3, 2), 1, 0, 0), 2, 3),
        (cfg(3, 1, (2, 2), 3, 0, 2), 2, 2),
        (cfg(1, 1, (5, 3), 2, 2, 1), 3, 3),
    ]
}

#[test]
fn conv_transpose_gradients() {
    for (c, h, w) in cases() {
        let build = move |g: &mut Graph| {
            let x = g.input("x", &[batch_dim(), d(c.in_channels), d(h), d(w)])?;
            let ct = ConvTranspose2d::new(g, "deconv1", c)?;
            let y = ct.forward(g, x)?;
            let f = flatten(g, y)?;
            Ok((project(g, f)?, vec![x, ct.weight, ct.bias.unwrap()]))
        };
        verify(&format!("{c:?} on {h}x{w}"), &build, &[(1, 61), (2, 62)], &no_init).unwrap_or_else(|e| panic!("{e}"));
    }
}

fn leaves(g: &Graph, vals: Vec<(&str, Vec<f64>)>) -> HashMap<luminal::prelude::petgraph::stable_graph::NodeIndex, Vec<f64>> {
    vals.into_iter().map(|(n, v)| (g.leaf(n).unwrap().id, v)).collect()
}

/// `<convT(x, W), y> == <x, conv(y, W)>` with Conv2d using the same weight
/// tensor read as `[Cout_conv = Cin, Cin_conv = Cout, kH, kW]`.
#[test]
fn adjoint_of_conv2d() {
    let mut rng = Rng::new(7);
    for (c, h, w) in cases() {
        let mut g = Graph::new();
        let x = g.input("x", &[batch_dim(), d(c.in_channels), d(h), d(w)]).unwrap();
        let ct = ConvTranspose2d::new(&mut g, "t", ConvTranspose2dConfig { bias: false, ..c }).unwrap();
        let (oh, ow) = c.output_size(h, w).unwrap();
        let y = g.input("y", &[batch_dim(), d(c.out_channels), d(oh), d(ow)]).unwrap();
        let conv_cfg = Conv2dConfig { stride: c.stride, padding: c.padding, kernel: c.kernel, bias: false, ..Conv2dConfig::new(c.out_channels, c.in_channels, 1) };
        let conv = Conv2d { weight: ct.weight, bias: None, config: conv_cfg };
        let ty = ct.forward(&mut g, x).unwrap();
        let cy = conv.forward(&mut g, y).unwrap();
        assert_eq!(g.shape(cy), g.shape(x), "{c:?}");
        let lhs = g.mul(ty, y).unwrap();
        let lhs = g.sum_all(lhs).unwrap();
        let rhs = g.mul(cy, x).unwrap();
        let rhs = g.sum_all(rhs).unwrap();
        let mut rand = |n: usize| (0..n).map(|_| rng.range(-1.0, 1.0)).collect::<Vec<f64>>();
        let (kh, kw) = c.kernel;
        let vals =
            leaves(&g, vec![("x", rand(2 * c.in_channels * h * w)), ("y", rand(2 * c.out_channels * oh * ow)), ("t.weight", rand(c.in_channels * c.out_channels * kh * kw))]);
        let out = evaluate(&g, &vals, &DimValues(vec![('B', 2)]), &[lhs.id, rhs.id]).unwrap();
        let (l, r) = (out[&lhs.id][0], out[&rhs.id][0]);
        assert!((l - r).abs() < 1e-9 * l.abs().max(1.0), "{c:?}: {l} vs {r}");
    }
}

fn run(c: ConvTranspose2dConfig, hw: (usize, usize), x: Vec<f64>, wt: Vec<f64>) -> Vec<f64> {
    let mut g = Graph::new();
    let xt = g.input("x", &[batch_dim(), d(c.in_channels), d(hw.0), d(hw.1)]).unwrap();
    let ct = ConvTranspose2d::new(&mut g, "t", ConvTranspose2dConfig { bias: false, ..c }).unwrap();
    let y = ct.forward(&mut g, xt).unwrap();
    let y = g.contiguous(y);
    let vals = leaves(&g, vec![("x", x), ("t.weight", wt)]);
    evaluate(&g, &vals, &DimValues(vec![('B', 1)]), &[y.id]).unwrap()[&y.id].clone()
}

#[test]
fn values_by_hand() {
    // k2 s2: every input pixel stamps x[i, j] * W at (2i, 2j), no overlap.
    let got = run(cfg(1, 1, (2, 2), 2, 0, 0), (2, 2), vec![1.0, 2.0, 3.0, 4.0], vec![1.0, 10.0, 100.0, 1000.0]);
    #[rustfmt::skip]
    let want = vec![
        1.0, 10.0, 2.0, 20.0,
        100.0, 1000.0, 200.0, 2000.0,
        3.0, 30.0, 4.0, 40.0,
        300.0, 3000.0, 400.0, 4000.0,
    ];
    assert_eq!(got, want);
    // k3 s2 p1 with ones: input i covers full positions 2i..2i+2, cropped by
    // 1, so per axis input 0 covers {0, 1} and input 1 covers {1, 2, 3};
    // output padding 1 keeps position 3. x = [[1, 2], [3, 4]].
    let x = vec![1.0, 2.0, 3.0, 4.0];
    let got = run(cfg(1, 1, (3, 3), 2, 1, 1), (2, 2), x.clone(), vec![1.0; 9]);
    #[rustfmt::skip]
    let want = vec![
        1.0, 3.0, 2.0, 2.0,
        4.0, 10.0, 6.0, 6.0,
        3.0, 7.0, 4.0, 4.0,
        3.0, 7.0, 4.0, 4.0,
    ];
    assert_eq!(got, want);
    let got = run(cfg(1, 1, (3, 3), 2, 1, 0), (2, 2), x, vec![1.0; 9]);
    assert_eq!(got, vec![1.0, 3.0, 2.0, 4.0, 10.0, 6.0, 3.0, 7.0, 4.0]);
    // Output padding past the kernel's reach adds a zero row and column.
    let got = run(cfg(1, 1, (1, 1), 2, 0, 1), (1, 2), vec![5.0, 6.0], vec![2.0]);
    assert_eq!(got, vec![10.0, 0.0, 12.0, 0.0, 0.0, 0.0, 0.0, 0.0]);
}

#[test]
fn rejects_bad_configs_and_shapes() {
    let mut g = Graph::new();
    assert!(ConvTranspose2d::new(&mut g, "a", cfg(1, 1, (3, 3), 2, 0, 2)).is_err());
    assert!(ConvTranspose2d::new(&mut g, "b", cfg(1, 1, (3, 3), 0, 0, 0)).is_err());
    let ct = ConvTranspose2d::new(&mut g, "c", cfg(2, 1, (3, 3), 1, 0, 0)).unwrap();
    let x = g.input("x", &[batch_dim(), d(3), d(4), d(4)]).unwrap();
    assert!(ct.forward(&mut g, x).is_err());
    // Padding that eats the whole output.
    let ct = ConvTranspose2d::new(&mut g, "e", cfg(1, 1, (1, 1), 1, 1, 0)).unwrap();
    let x = g.input("x1", &[batch_dim(), d(1), d(1), d(1)]).unwrap();
    assert!(ct.forward(&mut g, x).is_err());
}
