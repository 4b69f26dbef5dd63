//! Convolution, pooling and windows: autograd against finite differences, our
//! CPU program against the reference, and hand-worked values.

use std::collections::HashMap;

use vislab_engine::check::{project, verify, Rng};
use vislab_engine::error::EngineError;
use vislab_engine::graph::reference::evaluate;
use vislab_engine::graph::view::DimValues;
use vislab_engine::graph::{batch_dim, Dim, Graph, Tensor};
use vislab_engine::nn::{flatten, Conv2d, Conv2dConfig, ConvTranspose2d, Pool2d};

type Build = dyn Fn(&mut Graph) -> Result<(Tensor, Vec<Tensor>), EngineError>;

fn no_init(_: &str, _: usize, _: &mut Rng) -> Option<Vec<f64>> {
    None
}

fn check(name: &str, build: &Build) {
    verify(name, build, &[(1, 21), (2, 22)], &no_init).unwrap_or_else(|e| panic!("{e}"));
}

fn d(n: usize) -> Dim {
    n.into()
}

fn conv_case(cin: usize, cout: usize, k: (usize, usize), stride: usize, padding: usize, dilation: usize, hw: (usize, usize)) -> Box<Build> {
    Box::new(move |g: &mut Graph| {
        let x = g.input("x", &[batch_dim(), d(cin), d(hw.0), d(hw.1)])?;
        let cfg = Conv2dConfig { in_channels: cin, out_channels: cout, kernel: k, stride, padding, dilation, bias: true };
        let conv = Conv2d::new(g, "conv1", cfg)?;
        let y = conv.forward(g, x)?;
        Ok((project(g, y)?, vec![x, conv.weight, conv.bias.unwrap()]))
    })
}

#[test]
fn conv2d_gradients() {
    check("conv 3x3", &conv_case(2, 3, (3, 3), 1, 0, 1, (5, 6)));
    check("conv stride 2 pad 1", &conv_case(2, 2, (3, 3), 2, 1, 1, (7, 5)));
    check("conv dilation 2", &conv_case(1, 2, (2, 3), 1, 1, 2, (6, 7)));
    check("conv 1x1", &conv_case(3, 2, (1, 1), 1, 0, 1, (3, 4)));
}

fn convt_case(cin: usize, cout: usize, k: usize, stride: usize, padding: usize, dilation: usize, hw: (usize, usize)) -> Box<Build> {
    Box::new(move |g: &mut Graph| {
        let x = g.input("x", &[batch_dim(), d(cin), d(hw.0), d(hw.1)])?;
        let cfg = Conv2dConfig { in_channels: cin, out_channels: cout, kernel: (k, k), stride, padding, dilation, bias: true };
        let conv = ConvTranspose2d::new(g, "up1", cfg)?;
        let y = conv.forward(g, x)?;
        let (oh, ow) = conv.output_size(hw.0, hw.1);
        let s = g.shape(y);
        assert_eq!((s[2].to_usize(), s[3].to_usize()), (Some(oh), Some(ow)));
        Ok((project(g, y)?, vec![x, conv.weight, conv.bias.unwrap()]))
    })
}

#[test]
fn conv_transpose2d_gradients() {
    check("convT 3x3", &convt_case(2, 3, 3, 1, 0, 1, (3, 4)));
    check("convT stride 2 pad 1", &convt_case(2, 2, 3, 2, 1, 1, (3, 3)));
    check("convT stride 2 k2", &convt_case(1, 2, 2, 2, 0, 1, (2, 3)));
    check("convT dilation 2", &convt_case(1, 1, 2, 1, 1, 2, (3, 3)));
}

#[test]
fn pool_gradients() {
    for (name, pool) in [
        ("max 2/2", Pool2d::max(2, 2)),
        ("avg 2/2", Pool2d::avg(2, 2)),
        ("max 3/2", Pool2d::max(3, 2)),
        ("avg 3/1", Pool2d::avg(3, 1)),
    ] {
        check(name, &move |g| {
            let x = g.input("x", &[batch_dim(), d(2), d(6), d(7 - (name.ends_with("2/2") as usize))])?;
            let y = pool.forward(g, x)?;
            let f = flatten(g, y)?;
            Ok((project(g, f)?, vec![x]))
        });
    }
}

fn eval(g: &Graph, x: Tensor, data: Vec<f64>, extra: &[(Tensor, Vec<f64>)], out: Tensor) -> Vec<f64> {
    let mut leaves: HashMap<_, _> = [(x.id, data)].into();
    for (t, v) in extra {
        leaves.insert(t.id, v.clone());
    }
    let env = DimValues(vec![('B', 1)]);
    evaluate(g, &leaves, &env, &[out.id]).unwrap()[&out.id].clone()
}

#[test]
fn windows_and_conv_values_by_hand() {
    // windows of 0..7 with kernel 3, stride 2: starts 0, 2, 4 -> taps x positions.
    let mut g = Graph::new();
    let x = g.input("x", &[d(7)]).unwrap();
    let w = g.windows_last(x, 3, 2, 1).unwrap();
    let c = g.contiguous(w);
    let got = eval(&g, x, (0..7).map(|v| v as f64).collect(), &[], c);
    assert_eq!(got, vec![0.0, 2.0, 4.0, 1.0, 3.0, 5.0, 2.0, 4.0, 6.0]);

    // 3x3 input 1..9, 2x2 kernel [[1,0],[0,-1]], padding 0: x[i][j] - x[i+1][j+1] = -4 everywhere.
    let mut g = Graph::new();
    let x = g.input("x", &[batch_dim(), d(1), d(3), d(3)]).unwrap();
    let conv = Conv2d::new(&mut g, "c", Conv2dConfig { bias: false, ..Conv2dConfig::new(1, 1, 2) }).unwrap();
    let y = conv.forward(&mut g, x).unwrap();
    let y = g.contiguous(y);
    let got = eval(&g, x, (1..10).map(|v| v as f64).collect(), &[(conv.weight, vec![1.0, 0.0, 0.0, -1.0])], y);
    assert_eq!(got, vec![-4.0; 4]);

    // Transposed conv of one pixel stamps the kernel unflipped: x=[[2]], W=[[1,2],[3,4]].
    let mut g = Graph::new();
    let x = g.input("x", &[batch_dim(), d(1), d(1), d(1)]).unwrap();
    let ct = ConvTranspose2d::new(&mut g, "up", Conv2dConfig { bias: false, ..Conv2dConfig::new(1, 1, 2) }).unwrap();
    let y = ct.forward(&mut g, x).unwrap();
    let y = g.contiguous(y);
    let got = eval(&g, x, vec![2.0], &[(ct.weight, vec![1.0, 2.0, 3.0, 4.0])], y);
    assert_eq!(got, vec![2.0, 4.0, 6.0, 8.0]);

    // Stride 2 with a 2x2 ones kernel copies each pixel into a 2x2 block.
    let mut g = Graph::new();
    let x = g.input("x", &[batch_dim(), d(1), d(2), d(2)]).unwrap();
    let cfg = Conv2dConfig { bias: false, stride: 2, ..Conv2dConfig::new(1, 1, 2) };
    let ct = ConvTranspose2d::new(&mut g, "up", cfg).unwrap();
    let y = ct.forward(&mut g, x).unwrap();
    let y = g.contiguous(y);
    let got = eval(&g, x, vec![1.0, 2.0, 3.0, 4.0], &[(ct.weight, vec![1.0; 4])], y);
    let want = [1.0, 1.0, 2.0, 2.0, 1.0, 1.0, 2.0, 2.0, 3.0, 3.0, 4.0, 4.0, 3.0, 3.0, 4.0, 4.0];
    assert_eq!(got, want.to_vec());

    // Max pool 2x2 of a 4x4 ramp picks the bottom-right of each block.
    let mut g = Graph::new();
    let x = g.input("x", &[batch_dim(), d(1), d(4), d(4)]).unwrap();
    let p = Pool2d::max(2, 2).forward(&mut g, x).unwrap();
    let got = eval(&g, x, (0..16).map(|v| v as f64).collect(), &[], p);
    assert_eq!(got, vec![5.0, 7.0, 13.0, 15.0]);
}
