//! Convolution, pooling and windows: autograd against finite differences, our
//! CPU program against the reference, and hand-worked values.

use std::collections::HashMap;

use vislab_engine::check::{Rng, project, verify};
use vislab_engine::error::EngineError;
use vislab_engine::graph::reference::evaluate;
use vislab_engine::graph::view::DimValues;
use vislab_engine::graph::{Dim, Graph, Tensor, batch_dim};
use vislab_engine::nn::{Conv2d, Conv2dConfig, Pool2d, flatten};

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

#[test]
fn pool_gradients() {
    for (name, pool) in [("max 2/2", Pool2d::max(2, 2)), ("avg 2/2", Pool2d::avg(2, 2)), ("max 3/2", Pool2d::max(3, 2)), ("avg 3/1", Pool2d::avg(3, 1))] {
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

    // Max pool 2x2 of a 4x4 ramp picks the bottom-right of each block.
    let mut g = Graph::new();
    let x = g.input("x", &[batch_dim(), d(1), d(4), d(4)]).unwrap();
    let p = Pool2d::max(2, 2).forward(&mut g, x).unwrap();
    let got = eval(&g, x, (0..16).map(|v| v as f64).collect(), &[], p);
    assert_eq!(got, vec![5.0, 7.0, 13.0, 15.0]);
}

#[test]
fn padded_and_ceil_pool_gradients() {
    for (name, pool, hw) in [
        ("max 3/2 pad 1", Pool2d::max(3, 2).with_padding(1), (5, 4)),
        ("avg 3/2 pad 1", Pool2d::avg(3, 2).with_padding(1), (5, 4)),
        ("avg 3/2 pad 1 exclude pad", Pool2d::avg(3, 2).with_padding(1).with_count_include_pad(false), (4, 5)),
        ("max 2/2 ceil", Pool2d::max(2, 2).with_ceil_mode(true), (5, 3)),
        ("avg 3/2 ceil", Pool2d::avg(3, 2).with_ceil_mode(true), (6, 5)),
        ("max 2/2 pad 1 ceil", Pool2d::max(2, 2).with_padding(1).with_ceil_mode(true), (4, 3)),
        ("avg 2/1 pad 1 ceil", Pool2d::avg(2, 1).with_padding(1).with_ceil_mode(true), (3, 3)),
    ] {
        check(name, &move |g| {
            let x = g.input("x", &[batch_dim(), d(2), d(hw.0), d(hw.1)])?;
            let y = pool.forward(g, x)?;
            let f = flatten(g, y)?;
            Ok((project(g, f)?, vec![x]))
        });
    }
}

fn pool_eval(pool: Pool2d, hw: (usize, usize), data: Vec<f64>) -> Vec<f64> {
    let mut g = Graph::new();
    let x = g.input("x", &[batch_dim(), d(1), d(hw.0), d(hw.1)]).unwrap();
    let p = pool.forward(&mut g, x).unwrap();
    let p = g.contiguous(p);
    eval(&g, x, data, &[], p)
}

fn assert_close(got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{got:?} vs {want:?}");
    assert!(got.iter().zip(want).all(|(a, b)| (a - b).abs() < 1e-6), "{got:?} vs {want:?}");
}

#[test]
fn padded_and_ceil_pool_values_by_hand() {
    let ramp = |n: usize| (0..n).map(|v| v as f64).collect::<Vec<_>>();
    // k3 s2 p1 on a 4x4 ramp: windows cover rows/cols {0, 1} and {1, 2, 3}.
    let mp = Pool2d::max(3, 2).with_padding(1);
    assert_eq!(mp.output_len(4), Some(2));
    assert_close(&pool_eval(mp, (4, 4), ramp(16)), &[5.0, 7.0, 13.0, 15.0]);
    // All-negative input: padding must not win the max (PyTorch pads with -inf).
    let neg: Vec<f64> = (0..16).map(|v| -(v as f64) - 1.0).collect();
    assert_close(&pool_eval(mp, (4, 4), neg), &[-1.0, -2.0, -5.0, -6.0]);
    // Average: window sums 10, 24, 51, 90 over 9 (padding counted) or over
    // the real element counts 4, 6, 6, 9.
    let ap = Pool2d::avg(3, 2).with_padding(1);
    assert_close(&pool_eval(ap, (4, 4), ramp(16)), &[10.0 / 9.0, 24.0 / 9.0, 51.0 / 9.0, 10.0]);
    let ap = ap.with_count_include_pad(false);
    assert_close(&pool_eval(ap, (4, 4), ramp(16)), &[2.5, 4.0, 8.5, 10.0]);
    // ceil_mode k2 s2 on 5x5: a third, one-wide window [4, 5) on each axis.
    let mc = Pool2d::max(2, 2).with_ceil_mode(true);
    assert_eq!((mc.output_len(5), Pool2d::max(2, 2).output_len(5)), (Some(3), Some(2)));
    assert_close(&pool_eval(mc, (5, 5), ramp(25)), &[6.0, 8.0, 9.0, 16.0, 18.0, 19.0, 21.0, 23.0, 24.0]);
    // Average with ceil_mode: the overhang past the input is not counted
    // (3x3 ramp: (0+1+3+4)/4, (2+5)/2, (6+7)/2, 8/1).
    let ac = Pool2d::avg(2, 2).with_ceil_mode(true);
    assert_close(&pool_eval(ac, (3, 3), ramp(9)), &[2.0, 3.5, 6.5, 8.0]);
    // ceil_mode drops a window that would start in the right padding:
    // len 4, k2 s2 p1 -> ceil(4/2)+1 = 3 windows starting at -1, 1, 3.
    let mpc = Pool2d::max(2, 2).with_padding(1).with_ceil_mode(true);
    assert_eq!(mpc.output_len(4), Some(3));
    assert_eq!(Pool2d::max(2, 2).with_padding(1).with_ceil_mode(true).output_len(3), Some(2));
    // Padding over half the kernel is rejected, as in PyTorch.
    assert_eq!(Pool2d::max(2, 2).with_padding(2).output_len(8), None);
    let mut g = Graph::new();
    let x = g.input("x", &[batch_dim(), d(1), d(4), d(4)]).unwrap();
    assert!(Pool2d::max(3, 1).with_padding(2).forward(&mut g, x).is_err());
}

/// The copy chains of im2col and col2im run as composed gathers, with the
/// very same bits as the chains themselves (and far fewer kernels).
#[test]
fn composed_gathers_change_no_bit() {
    use vislab_engine::check::random_leaves;
    use vislab_engine::cpu::Program;
    use vislab_engine::nn::{ConvTranspose2d, ConvTranspose2dConfig};
    let mut g = Graph::new();
    let x = g.input("x", &[batch_dim(), d(3), d(9), d(9)]).unwrap();
    let c1 = Conv2d::new(&mut g, "c1", Conv2dConfig { padding: 1, ..Conv2dConfig::new(3, 4, 3) }).unwrap();
    let c2 = Conv2d::new(&mut g, "c2", Conv2dConfig { stride: 2, padding: 1, dilation: 2, ..Conv2dConfig::new(4, 5, 3) }).unwrap();
    let up = ConvTranspose2d::new(&mut g, "up", ConvTranspose2dConfig { stride: 2, padding: 1, ..ConvTranspose2dConfig::new(5, 2, 4) }).unwrap();
    let h = c1.forward(&mut g, x).unwrap();
    let h = Pool2d::max(2, 2).forward(&mut g, h).unwrap();
    let h = c2.forward(&mut g, h).unwrap();
    let h = up.forward(&mut g, h).unwrap();
    let loss = project(&mut g, h).unwrap();
    let wrt = [x, c1.weight, c2.weight, up.weight];
    let grads = g.backward(loss, &wrt).unwrap();
    let mut outs = vec![loss.id];
    outs.extend(grads.iter().flatten().map(|t| t.id));
    let env = DimValues(vec![('B', 3)]);
    let vals = random_leaves(&g, &env, &mut Rng::new(7), &no_init).unwrap();
    let run = |compose: bool| {
        let mut p = Program::new(&g, &outs).unwrap();
        p.set_compose(compose);
        // With composition, a detour through another batch size first: the
        // plan for B = 3 then comes back from the program's cache.
        let detour = DimValues(vec![('B', 2)]);
        for dims in if compose { vec![&env, &detour, &env] } else { vec![&env] } {
            p.set_dims(dims).unwrap();
            for (id, v) in &vals {
                if p.has_node(*id) && p.set_leaf(*id, &v.iter().map(|&x| x as f32).collect::<Vec<_>>()).is_err() {
                    // a batch-sized input at the detour's batch size
                    let n = p.leaf_buffer_mut(*id).unwrap().len();
                    p.set_leaf(*id, &v.iter().take(n).map(|&x| x as f32).collect::<Vec<_>>()).unwrap();
                }
            }
            p.run().unwrap();
        }
        let bits: Vec<Vec<u32>> = outs.iter().map(|o| p.buffer(*o).iter().map(|v| v.to_bits()).collect()).collect();
        (bits, p.gather_count(), p.kernel_count())
    };
    let (plain, g0, k0) = run(false);
    let (composed, g1, k1) = run(true);
    assert_eq!(g0, 0);
    assert!(g1 >= 4 && k1 + 10 < k0, "{g1} gathers, {k1} kernels (from {k0})");
    assert!(plain.iter().all(|b| !b.is_empty()));
    assert_eq!(plain, composed);
}
