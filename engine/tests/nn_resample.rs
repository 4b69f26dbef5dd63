//! Bilinear, bicubic and bed-of-nails upsampling and adaptive average
//! pooling: autograd against finite differences, our CPU program against the
//! reference, the CPU plane resampler against the graph ops, and values
//! worked by hand from PyTorch's formulas.

use std::collections::HashMap;

use vislab_engine::check::{Rng, project, verify};
use vislab_engine::error::EngineError;
use vislab_engine::graph::reference::evaluate;
use vislab_engine::graph::view::DimValues;
use vislab_engine::graph::{Dim, Graph, Tensor, batch_dim};
use vislab_engine::nn::{self, AdaptiveAvgPool2d, flatten};

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
fn bicubic_and_bed_of_nails_gradients() {
    for (c, h, w, s) in [(2, 3, 5, 2), (1, 1, 4, 3), (1, 4, 3, 1), (1, 2, 2, 4)] {
        check(&format!("bicubic {c}x{h}x{w} x{s}"), &move |g| {
            let x = g.input("x", &[batch_dim(), d(c), d(h), d(w)])?;
            let y = nn::upsample_bicubic(g, x, s)?;
            let f = flatten(g, y)?;
            Ok((project(g, f)?, vec![x]))
        });
        check(&format!("bed of nails {c}x{h}x{w} x{s}"), &move |g| {
            let x = g.input("x", &[batch_dim(), d(c), d(h), d(w)])?;
            let y = nn::upsample_bed_of_nails(g, x, s)?;
            let f = flatten(g, y)?;
            Ok((project(g, f)?, vec![x]))
        });
    }
}

#[test]
fn bicubic_values_by_hand() {
    // Keys' kernel, a = -0.75: w(x) = 1.25|x|^3 - 2.25|x|^2 + 1 on [0, 1],
    // -0.75|x|^3 + 3.75|x|^2 - 6|x| + 3 on [1, 2]. Row [0, 1] by 2: output 0
    // has source -0.25 (not clamped), floor -1, t = 0.75: taps -2, -1, 0, 1
    // (the first three clamped to 0) weighted w(1.75) = -0.03515625,
    // w(0.75) = 0.26171875, w(0.25) = 0.87890625, w(1.25) = -0.10546875, so
    // it is -0.10546875 (below the data: cubic overshoot). Output 1: source
    // 0.25, taps -1, 0, 1, 2 weighted w(1.25), w(0.25), w(0.75), w(1.75):
    // index 1 gets 0.26171875 - 0.03515625 = 0.2265625. The rest by symmetry.
    let row = [-0.10546875, 0.2265625, 0.7734375, 1.10546875];
    let got = eval([1, 1, 2], vec![0.0, 1.0], |g, x| nn::upsample_bicubic(g, x, 2));
    assert_close(&got, &row.repeat(2));
    // 2x2 [[0, 1], [2, 3]] = column + 2 row; weights sum to 1 on each axis,
    // so the output is row[c] + 2 row[r].
    let got = eval([1, 2, 2], vec![0.0, 1.0, 2.0, 3.0], |g, x| nn::upsample_bicubic(g, x, 2));
    let want: Vec<f64> = (0..16).map(|i| row[i % 4] + 2.0 * row[i / 4]).collect();
    assert_close(&got, &want);
    // With a = -0.75 (unlike Keys' a = -0.5) a ramp is not reproduced: inside
    // a 0..6 ramp by 2 (outputs 3..=8, all four taps in range) the output is
    // floor(src) + sum_k k w(t - k), which for t = 0.25 is 0.10546875 +
    // 0.26171875 - 2 0.03515625 = 0.296875 (not 0.25), and 0.703125 for t = 0.75.
    let got = eval([1, 1, 6], (0..6).map(|v| v as f64).collect(), |g, x| nn::upsample_bicubic(g, x, 2));
    for o in 3..=8 {
        let src = o as f64 / 2.0 - 0.25;
        let want = src.floor() + if src.fract() < 0.5 { 0.296875 } else { 0.703125 };
        assert!((got[o] - want).abs() < 1e-6, "{o}: {got:?}");
    }
    // A constant stays constant, even at the clamped borders.
    let got = eval([1, 3, 2], vec![0.5; 6], |g, x| nn::upsample_bicubic(g, x, 3));
    assert_close(&got, &[0.5; 54]);
}

#[test]
fn bed_of_nails_values_by_hand() {
    let got = eval([1, 2, 2], vec![1.0, 2.0, 3.0, 4.0], |g, x| nn::upsample_bed_of_nails(g, x, 2));
    #[rustfmt::skip]
    let want = [
        1.0, 0.0, 2.0, 0.0,
        0.0, 0.0, 0.0, 0.0,
        3.0, 0.0, 4.0, 0.0,
        0.0, 0.0, 0.0, 0.0,
    ];
    assert_close(&got, &want);
    let got = eval([1, 1, 2], vec![5.0, -1.0], |g, x| nn::upsample_bed_of_nails(g, x, 3));
    let mut want = vec![0.0; 18];
    want[0] = 5.0;
    want[3] = -1.0;
    assert_close(&got, &want);
}

/// The CPU resampler with each method's axis maps equals the graph op.
#[test]
fn plane_resampler_matches_the_graph_ops() {
    use vislab_engine::nn::resample::resample_plane;
    use vislab_engine::nn::upsample::{bed_of_nails_map, bicubic_map, bilinear_map, nearest_map};
    type Op = fn(&mut Graph, Tensor, usize) -> Result<Tensor, EngineError>;
    type Map = fn(usize, usize) -> vislab_engine::nn::resample::AxisMap;
    let methods: [(&str, Op, Map); 4] = [
        ("nearest", nn::upsample_nearest, nearest_map),
        ("bed of nails", nn::upsample_bed_of_nails, bed_of_nails_map),
        ("bilinear", nn::upsample_bilinear, bilinear_map),
        ("bicubic", nn::upsample_bicubic, bicubic_map),
    ];
    let mut rng = Rng::new(5);
    for (h, w, s) in [(3, 5, 2), (4, 4, 4), (1, 3, 3)] {
        let x: Vec<f64> = (0..h * w).map(|_| rng.range(-1.0, 1.0)).collect();
        let xf: Vec<f32> = x.iter().map(|&v| v as f32).collect();
        for (name, op, map) in methods {
            let want = eval([1, h, w], x.clone(), |g, t| op(g, t, s));
            let got = resample_plane(&map(h, s), &map(w, s), &xf).unwrap();
            let got: Vec<f64> = got.iter().map(|&v| v as f64).collect();
            assert_eq!(got.len(), h * w * s * s, "{name}");
            for (a, b) in got.iter().zip(&want) {
                assert!((a - b).abs() < 1e-5, "{name} {h}x{w} x{s}: {got:?} vs {want:?}");
            }
        }
    }
    assert!(resample_plane(&nearest_map(2, 2), &nearest_map(2, 2), &[0.0; 3]).is_err());
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
    assert!(nn::upsample_bicubic(&mut g, x, 0).is_err());
    assert!(nn::upsample_bed_of_nails(&mut g, x, 0).is_err());
    assert!(AdaptiveAvgPool2d::new(0, 2).forward(&mut g, x).is_err());
}
