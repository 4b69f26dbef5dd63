//! 3-D convolution and max pooling: autograd against central finite
//! differences (and our CPU program against the f64 reference) on odd
//! sizes, and the forward pass against a direct six-fold loop.

use std::collections::HashMap;

use vislab_engine::check::{Rng, project, verify};
use vislab_engine::error::EngineError;
use vislab_engine::graph::reference::evaluate;
use vislab_engine::graph::view::DimValues;
use vislab_engine::graph::{Dim, Graph, Tensor, batch_dim};
use vislab_engine::nn::{Conv3d, Conv3dConfig, MaxPool3d, flatten};

type Build = dyn Fn(&mut Graph) -> Result<(Tensor, Vec<Tensor>), EngineError>;

fn no_init(_: &str, _: usize, _: &mut Rng) -> Option<Vec<f64>> {
    None
}

fn d(n: usize) -> Dim {
    n.into()
}

fn check(name: &str, build: &Build) {
    // Batch 1 and an odd batch of 3.
    verify(name, build, &[(1, 31), (3, 32)], &no_init).unwrap_or_else(|e| panic!("{e}"));
}

fn conv_case(cfg: Conv3dConfig, dhw: [usize; 3]) -> Box<Build> {
    Box::new(move |g: &mut Graph| {
        let x = g.input("x", &[batch_dim(), d(cfg.in_channels), d(dhw[0]), d(dhw[1]), d(dhw[2])])?;
        let conv = Conv3d::new(g, "conv1", cfg)?;
        let y = conv.forward(g, x)?;
        let y = flatten(g, y)?;
        let mut wrt = vec![x, conv.weight];
        wrt.extend(conv.bias);
        Ok((project(g, y)?, wrt))
    })
}

#[test]
fn conv3d_gradients_match_finite_differences() {
    check("conv3d 3x3x3", &conv_case(Conv3dConfig::new(2, 3, 3), [4, 5, 3]));
    check("conv3d stride 2 pad 1", &conv_case(Conv3dConfig::new(1, 2, 3).with_stride(2).with_padding(1), [5, 3, 4]));
    let cfg = Conv3dConfig { kernel: [1, 2, 3], stride: [1, 2, 1], padding: [1, 0, 1], bias: false, ..Conv3dConfig::new(3, 2, 1) };
    check("conv3d 1x2x3 mixed stride and padding, no bias", &conv_case(cfg, [3, 5, 4]));
}

#[test]
fn maxpool3d_gradients_match_finite_differences() {
    for (name, pool, dhw) in [
        ("max 2 on even sizes", MaxPool3d::new(2), [4, 4, 2]),
        ("max 2 crops odd sizes", MaxPool3d::new(2), [5, 3, 4]),
        ("max 3 stride 2 (overlapping)", MaxPool3d::new(3).with_stride(2), [5, 5, 3]),
    ] {
        check(name, &move |g| {
            let x = g.input("x", &[batch_dim(), d(2), d(dhw[0]), d(dhw[1]), d(dhw[2])])?;
            let y = pool.forward(g, x)?;
            let f = flatten(g, y)?;
            Ok((project(g, f)?, vec![x]))
        });
    }
}

/// Direct loop: `y[b, o, z, y, x] = bias[o] + sum over c, i, j, k of
/// w[o, c, i, j, k] * x[b, c, z*s + i - p, y*s + j - p, x*s + k - p]`.
fn conv3d_loop(x: &[f64], w: &[f64], bias: &[f64], b: usize, cfg: Conv3dConfig, dhw: [usize; 3]) -> Vec<f64> {
    let out = cfg.output_size(dhw).unwrap();
    let (ci, co) = (cfg.in_channels, cfg.out_channels);
    let [kd, kh, kw] = cfg.kernel;
    let mut y = vec![0.0; b * co * out.iter().product::<usize>()];
    let mut n = 0;
    for bi in 0..b {
        for o in 0..co {
            for oz in 0..out[0] {
                for oy in 0..out[1] {
                    for ox in 0..out[2] {
                        let mut s = bias.get(o).copied().unwrap_or(0.0);
                        for c in 0..ci {
                            for i in 0..kd {
                                for j in 0..kh {
                                    for k in 0..kw {
                                        let at = [oz * cfg.stride[0] + i, oy * cfg.stride[1] + j, ox * cfg.stride[2] + k];
                                        let p: Vec<isize> = (0..3).map(|a| at[a] as isize - cfg.padding[a] as isize).collect();
                                        if (0..3).any(|a| p[a] < 0 || p[a] >= dhw[a] as isize) {
                                            continue;
                                        }
                                        let xi = (((bi * ci + c) * dhw[0] + p[0] as usize) * dhw[1] + p[1] as usize) * dhw[2] + p[2] as usize;
                                        let wi = (((o * ci + c) * kd + i) * kh + j) * kw + k;
                                        s += w[wi] * x[xi];
                                    }
                                }
                            }
                        }
                        y[n] = s;
                        n += 1;
                    }
                }
            }
        }
    }
    y
}

#[test]
fn conv3d_forward_matches_a_direct_loop() {
    let cases = [
        (Conv3dConfig::new(2, 3, 3).with_padding(1), [5, 4, 3], 2),
        (Conv3dConfig::new(1, 2, 3).with_stride(2), [7, 5, 6], 1),
        (Conv3dConfig { kernel: [2, 1, 3], stride: [2, 1, 3], padding: [0, 2, 1], ..Conv3dConfig::new(3, 4, 1) }, [4, 3, 7], 3),
    ];
    let mut rng = Rng::new(9);
    for (cfg, dhw, b) in cases {
        let mut g = Graph::new();
        let x = g.input("x", &[batch_dim(), d(cfg.in_channels), d(dhw[0]), d(dhw[1]), d(dhw[2])]).unwrap();
        let conv = Conv3d::new(&mut g, "c", cfg).unwrap();
        let y = conv.forward(&mut g, x).unwrap();
        let y = g.contiguous(y);
        let mut vals = |n: usize| (0..n).map(|_| rng.range(-1.0, 1.0)).collect::<Vec<f64>>();
        let xv = vals(b * cfg.in_channels * dhw.iter().product::<usize>());
        let wv = vals(cfg.out_channels * cfg.in_channels * cfg.kernel.iter().product::<usize>());
        let bv = vals(cfg.out_channels);
        let leaves: HashMap<_, _> = [(x.id, xv.clone()), (conv.weight.id, wv.clone()), (conv.bias.unwrap().id, bv.clone())].into();
        let env = DimValues(vec![('B', b)]);
        let got = evaluate(&g, &leaves, &env, &[y.id]).unwrap()[&y.id].clone();
        let want = conv3d_loop(&xv, &wv, &bv, b, cfg, dhw);
        assert_eq!(got.len(), want.len(), "{cfg:?}");
        let worst = got.iter().zip(&want).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
        assert!(worst < 1e-9, "{cfg:?}: max abs difference {worst}");
        // Output shape [B, Cout, OD, OH, OW].
        let out = cfg.output_size(dhw).unwrap();
        assert_eq!(g.shape(y), vec![batch_dim(), d(cfg.out_channels), d(out[0]), d(out[1]), d(out[2])]);
    }
}

#[test]
fn maxpool3d_values_by_hand() {
    // A 4x4x4 ramp pooled by 2: each block's maximum is its far corner.
    let mut g = Graph::new();
    let x = g.input("x", &[batch_dim(), d(1), d(4), d(4), d(4)]).unwrap();
    let p = MaxPool3d::new(2).forward(&mut g, x).unwrap();
    let p = g.contiguous(p);
    let leaves: HashMap<_, _> = [(x.id, (0..64).map(|v| v as f64).collect::<Vec<_>>())].into();
    let got = evaluate(&g, &leaves, &DimValues(vec![('B', 1)]), &[p.id]).unwrap()[&p.id].clone();
    assert_eq!(got, vec![21.0, 23.0, 29.0, 31.0, 53.0, 55.0, 61.0, 63.0]);
    // Overlapping 3/2 windows on 5^3: starts 0 and 2 per axis; the maximum is
    // the window's far corner (z, y, x) = (start + 2) each.
    let mut g = Graph::new();
    let x = g.input("x", &[batch_dim(), d(1), d(5), d(5), d(5)]).unwrap();
    let pool = MaxPool3d::new(3).with_stride(2);
    assert_eq!(pool.output_len(5), Some(2));
    let p = pool.forward(&mut g, x).unwrap();
    let p = g.contiguous(p);
    let leaves: HashMap<_, _> = [(x.id, (0..125).map(|v| v as f64).collect::<Vec<_>>())].into();
    let got = evaluate(&g, &leaves, &DimValues(vec![('B', 1)]), &[p.id]).unwrap()[&p.id].clone();
    let at = |z: usize, y: usize, x: usize| (z * 25 + y * 5 + x) as f64;
    let want: Vec<f64> = [2, 4].iter().flat_map(|&z| [2, 4].iter().flat_map(move |&y| [2, 4].iter().map(move |&x| at(z, y, x)))).collect();
    assert_eq!(got, want);
}

#[test]
fn bad_shapes_are_errors() {
    let mut g = Graph::new();
    let x = g.input("x", &[batch_dim(), d(1), d(2), d(5), d(5)]).unwrap();
    let conv = Conv3d::new(&mut g, "c", Conv3dConfig::new(1, 2, 3)).unwrap();
    assert!(conv.forward(&mut g, x).unwrap_err().to_string().contains("does not fit"));
    let wrong = Conv3d::new(&mut g, "c2", Conv3dConfig::new(2, 2, 1)).unwrap();
    assert!(wrong.forward(&mut g, x).unwrap_err().to_string().contains("expects [B, 2, D, H, W]"));
    assert!(Conv3d::new(&mut g, "c3", Conv3dConfig::new(1, 2, 0)).is_err());
    assert!(MaxPool3d::new(3).forward(&mut g, x).is_err());
}
