//! Bilinear upsampling and adaptive average pooling: autograd against finite
//! differences, our CPU program against the reference, and values worked by
//! hand from PyTorch's formulas.

use std::collections::HashMap;

use vislab_engine::check::{project, verify, Rng};
use vislab_engine::error::EngineError;
use vislab_engine::graph::reference::evaluate;
use vislab_engine::graph::view::DimValues;
use vislab_engine::graph::{batch_dim, Dim, Graph, Tensor};
use vislab_engine::nn::{self, flatten, AdaptiveAvgPool2d};

type Build = dyn Fn(&mut Graph) -> Result<(Tensor, Vec<Tensor>), EngineError>;

fn no_init(_: &str, _: usize, _: &mut Rng) -> Option<Vec<f64>> {
    None
}

fn check(name: &str, build: &Build) {
    verify(name, build, &[(1, 41), (2, 42), (3, 43)], &no_init).unwrap_or_else(|e| panic!("{e}"));
}

fn d(n: usize) -> Dim {
    n.into()
}

/// One `[1, C, H, W]` input through `f`, evaluated on the reference.
fn eval(shape: [usize; 3], data: Vec<f64>, f: impl Fn(&mut Graph, Tensor) -> Result<Tensor, EngineError>) -> Vec<f64> {
    let mut g = Graph::new();
    let x = g.input("x", &[batch_dim(), d(shape[0]), d(shape[1]), d(shape[2])]).unwrap();
    let y = f(&mut g, x).unwrap();
    let y = g.contiguous(y);
    let leaves: HashMap<_, _> = [(x.id, data)].into();
    evaluate(&g, &leaves, &DimValues(vec![('B', 1)]), &[y.id]).unwrap()[&y.id].clone()
}

fn assert_close(got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{got:?} vs {want:?}");
    for (a, b) in got.iter().zip(want) {
        assert!((a - b).abs() < 1e-6, "{got:?} vs {want:?}");
    }
}

#[test]
fn bilinear_gradients() {
    for (c, h, w, s) in [(2, 3, 5, 2), (1, 1, 4, 3), (3, 2, 2, 2), (1, 4, 3, 1)] {
        check(&format!("bilinear {c}x{h}x{w} x{s}"), &move |g| {
            let x = g.input("x", &[batch_dim(), d(c), d(h), d(w)])?;
            let y = nn::upsample_bilinear(g, x, s)?;
            let f = flatten(g, y)?;
            Ok((project(g, f)?, vec![x]))
        });
    }
}

#[test]
fn bilinear_values_by_hand() {
    // PyTorch, align_corners=False, 2x2 [[1, 2], [3, 4]] scaled by 2: source
    // coordinates (o + 0.5) / 2 - 0.5 = -0.25 (clamped to 0), 0.25, 0.75, 1.25
    // (upper neighbour clamped), so rows and columns blend 1, 0.75/0.25, 0.25/0.75, 1.
    let got = eval([1, 2, 2], vec![1.0, 2.0, 3.0, 4.0], |g, x| nn::upsample_bilinear(g, x, 2));
    #[rustfmt::skip]
    let want = [
        1.0, 1.25, 1.75, 2.0,
        1.5, 1.75, 2.25, 2.5,
        2.5, 2.75, 3.25, 3.5,
        3.0, 3.25, 3.75, 4.0,
    ];
    assert_close(&got, &want);
    // 1x3 row [0, 3, 6] by 3: column sources -1/3 (0), 0, 1/3, 2/3, 1, 4/3,
    // 5/3, 2, 7/3 (2); the single row is repeated 3 times.
    let got = eval([1, 1, 3], vec![0.0, 3.0, 6.0], |g, x| nn::upsample_bilinear(g, x, 3));
    let row = [0.0, 0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 6.0];
    assert_close(&got, &row.repeat(3));
    // Scale 1 is the identity; a 1x1 image is constant.
    let got = eval([1, 2, 2], vec![5.0, -1.0, 2.0, 7.0], |g, x| nn::upsample_bilinear(g, x, 1));
    assert_close(&got, &[5.0, -1.0, 2.0, 7.0]);
    let got = eval([1, 1, 1], vec![2.5], |g, x| nn::upsample_bilinear(g, x, 2));
    assert_close(&got, &[2.5; 4]);
}

#[test]
fn adaptive_avg_gradients() {
    for (h, w, oh, ow) in [(5, 7, 3, 2), (6, 4, 3, 2), (4, 5, 1, 1), (3, 3, 3, 3), (2, 3, 4, 5)] {
        check(&format!("adaptive {h}x{w} -> {oh}x{ow}"), &move |g| {
            let x = g.input("x", &[batch_dim(), d(2), d(h), d(w)])?;
            let y = AdaptiveAvgPool2d::new(oh, ow).forward(g, x)?;
            let f = flatten(g, y)?;
            Ok((project(g, f)?, vec![x]))
        });
    }
}

#[test]
fn adaptive_avg_values_by_hand() {
    let ramp = |n: usize| (0..n).map(|v| v as f64).collect::<Vec<_>>();
    // 3x3 ramp 0..9 to 2x2: windows [0, 2) and [1, 3) on both axes (overlapping).
    let got = eval([1, 3, 3], ramp(9), |g, x| AdaptiveAvgPool2d::new(2, 2).forward(g, x));
    assert_close(&got, &[2.0, 3.0, 5.0, 6.0]);
    // Global pooling: per-channel means.
    let got = eval([2, 2, 2], ramp(8), |g, x| AdaptiveAvgPool2d::new(1, 1).forward(g, x));
    assert_close(&got, &[1.5, 5.5]);
    // 1x5 row to 1x3: windows [0, 2), [1, 4), [3, 5) -> 0.5, 2, 3.5.
    let got = eval([1, 1, 5], ramp(5), |g, x| AdaptiveAvgPool2d::new(1, 3).forward(g, x));
    assert_close(&got, &[0.5, 2.0, 3.5]);
    // 4x4 to 2x2 divides evenly: plain 2x2 average pooling.
    let got = eval([1, 4, 4], ramp(16), |g, x| AdaptiveAvgPool2d::new(2, 2).forward(g, x));
    assert_close(&got, &[2.5, 4.5, 10.5, 12.5]);
    // Upsizing 1x2 to 1x4 repeats each input twice (windows of one element).
    let got = eval([1, 1, 2], vec![3.0, -1.0], |g, x| AdaptiveAvgPool2d::new(1, 4).forward(g, x));
    assert_close(&got, &[3.0, 3.0, -1.0, -1.0]);
}

#[test]
fn resample_rejects_bad_shapes() {
    let mut g = Graph::new();
    let x = g.input("x", &[batch_dim(), d(3)]).unwrap();
    assert!(nn::upsample_bilinear(&mut g, x, 2).is_err());
    assert!(AdaptiveAvgPool2d::new(2, 2).forward(&mut g, x).is_err());
    let x = g.input("x4", &[batch_dim(), d(1), d(3), d(3)]).unwrap();
    assert!(nn::upsample_bilinear(&mut g, x, 0).is_err());
    assert!(AdaptiveAvgPool2d::new(0, 2).forward(&mut g, x).is_err());
}
