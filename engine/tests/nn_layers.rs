//! Layers, activations and losses: autograd against finite differences, our
//! CPU program against the reference, plus hand-worked values.

use vislab_engine::check::{Rng, project, verify};
use vislab_engine::error::EngineError;
use vislab_engine::graph::{Dim, Graph, Tensor, batch_dim};
use vislab_engine::nn::{self, Linear, Maxout, PRelu};

type Build = dyn Fn(&mut Graph) -> Result<(Tensor, Vec<Tensor>), EngineError>;

/// Labels get class indices in 0..4, targets values in [0, 1], the rest U(-2, 2).
fn init(name: &str, n: usize, rng: &mut Rng) -> Option<Vec<f64>> {
    match name {
        "labels" => Some((0..n).map(|_| rng.below(4) as f64).collect()),
        "targets" => Some((0..n).map(|_| rng.uniform()).collect()),
        _ if name.starts_with("__proj") => None,
        _ => Some((0..n).map(|_| rng.range(-2.0, 2.0)).collect()),
    }
}

fn check(name: &str, build: &Build) {
    verify(name, build, &[(1, 11), (4, 12), (7, 13)], &init).unwrap_or_else(|e| panic!("{e}"));
}

fn d(n: usize) -> Dim {
    n.into()
}

#[test]
fn linear_with_bias() {
    check("linear", &|g| {
        let x = g.input("x", &[batch_dim(), d(5)])?;
        let fc = Linear::new(g, "fc1", 5, 3, true)?;
        let y = fc.forward(g, x)?;
        Ok((project(g, y)?, vec![x, fc.weight, fc.bias.unwrap()]))
    });
}

#[test]
fn activations() {
    type A = fn(&mut Graph, Tensor) -> Result<Tensor, EngineError>;
    let acts: [(&str, A); 11] = [
        ("sigmoid", nn::sigmoid),
        ("tanh", nn::tanh),
        ("relu", nn::relu),
        ("leaky_relu", |g, x| nn::leaky_relu(g, x, 0.1)),
        ("elu", |g, x| nn::elu(g, x, 1.3)),
        ("selu", nn::selu),
        ("gelu", nn::gelu),
        ("gelu_tanh", nn::gelu_tanh),
        ("erf", nn::erf),
        ("softmax", |g, x| nn::softmax(g, x, 1)),
        ("log_softmax", |g, x| nn::log_softmax(g, x, 1)),
    ];
    for (name, f) in acts {
        check(name, &move |g| {
            let x = g.input("x", &[batch_dim(), d(5)])?;
            let y = f(g, x)?;
            Ok((project(g, y)?, vec![x]))
        });
    }
}

#[test]
fn losses() {
    check("softmax_cross_entropy", &|g| {
        let x = g.input("x", &[batch_dim(), d(4)])?;
        let l = g.input("labels", &[batch_dim()])?;
        Ok((nn::softmax_cross_entropy(g, x, l)?, vec![x]))
    });
    check("pixel_softmax_cross_entropy", &|g| {
        let x = g.input("x", &[batch_dim(), d(4), d(2), d(3)])?;
        let l = g.input("labels", &[batch_dim(), d(2), d(3)])?;
        Ok((nn::pixel_softmax_cross_entropy(g, x, l)?, vec![x]))
    });
    check("multiclass_hinge", &|g| {
        let x = g.input("x", &[batch_dim(), d(4)])?;
        let l = g.input("labels", &[batch_dim()])?;
        Ok((nn::multiclass_hinge(g, x, l, 1.0)?, vec![x]))
    });
    check("bce_with_logits", &|g| {
        let x = g.input("x", &[batch_dim(), d(3)])?;
        let t = g.input("targets", &[batch_dim(), d(3)])?;
        Ok((nn::bce_with_logits(g, x, t)?, vec![x]))
    });
    check("mse", &|g| {
        let x = g.input("x", &[batch_dim(), d(3)])?;
        let t = g.input("t", &[batch_dim(), d(3)])?;
        Ok((nn::mse(g, x, t)?, vec![x, t]))
    });
    check("l1", &|g| {
        let x = g.input("x", &[batch_dim(), d(3)])?;
        let t = g.input("t", &[batch_dim(), d(3)])?;
        Ok((nn::l1(g, x, t)?, vec![x, t]))
    });
    check("gaussian_kl", &|g| {
        let mu = g.input("mu", &[batch_dim(), d(3)])?;
        let lv = g.input("logvar", &[batch_dim(), d(3)])?;
        Ok((nn::gaussian_kl(g, mu, lv)?, vec![mu, lv]))
    });
}

/// Evaluate a one-input scalar graph on the reference at fixed values.
fn eval1(build: impl Fn(&mut Graph, Tensor, Tensor) -> Result<Tensor, EngineError>, x: &[f64], y: &[f64], shape: [usize; 2]) -> f64 {
    use std::collections::HashMap;
    use vislab_engine::graph::reference::evaluate;
    use vislab_engine::graph::view::DimValues;
    let mut g = Graph::new();
    let xs: Vec<Dim> = shape.iter().map(|&v| v.into()).collect();
    let xt = g.input("x", &xs).unwrap();
    let yt = g.input("y", &if y.len() == shape[0] { vec![xs[0]] } else { xs.clone() }).unwrap();
    let out = build(&mut g, xt, yt).unwrap();
    let leaves: HashMap<_, _> = [(xt.id, x.to_vec()), (yt.id, y.to_vec())].into();
    evaluate(&g, &leaves, &DimValues::default(), &[out.id]).unwrap()[&out.id][0]
}

#[test]
fn erf_and_gelu_values() {
    // erf(0.5) = 0.5204998778, erf(-1.5) = -0.9661051465; GELU(1) = 0.8413447461.
    // Tolerance: the approximation (1.5e-7) plus its constants stored as f32.
    let e = eval1(|g, x, _| nn::erf(g, x).and_then(|t| g.sum_all(t)), &[0.5], &[0.0], [1, 1]);
    assert!((e - 0.520_499_877_8).abs() < 5e-7, "{e}");
    let e = eval1(|g, x, _| nn::erf(g, x).and_then(|t| g.sum_all(t)), &[-1.5], &[0.0], [1, 1]);
    assert!((e + 0.966_105_146_5).abs() < 5e-7, "{e}");
    let v = eval1(|g, x, _| nn::gelu(g, x).and_then(|t| g.sum_all(t)), &[1.0], &[0.0], [1, 1]);
    assert!((v - 0.841_344_746_1).abs() < 5e-7, "{v}");
}

#[test]
fn loss_values_by_hand() {
    // Cross-entropy of logits [0, ln 3] with label 1: -ln(3/4).
    let ce = eval1(nn::softmax_cross_entropy, &[0.0, 3f64.ln()], &[1.0], [1, 2]);
    assert!((ce - (4.0f64 / 3.0).ln()).abs() < 1e-6, "{ce}");
    // Huge logits stay finite (stable log-softmax): label 0 of [1000, 0] costs ~0.
    let ce = eval1(nn::softmax_cross_entropy, &[1000.0, 0.0], &[0.0], [1, 2]);
    assert!(ce.abs() < 1e-6, "{ce}");
    // Per-pixel: a 1x2 image with 2 classes, planes [c0: 0 0, c1: ln 3, 0],
    // labels [1, 0]: pixel costs ln(4/3) and ln 2, mean of the two.
    let ce = {
        use std::collections::HashMap;
        use vislab_engine::graph::reference::evaluate;
        use vislab_engine::graph::view::DimValues;
        let mut g = Graph::new();
        let x = g.input("x", &[d(1), d(2), d(1), d(2)]).unwrap();
        let y = g.input("y", &[d(1), d(1), d(2)]).unwrap();
        let out = nn::pixel_softmax_cross_entropy(&mut g, x, y).unwrap();
        let leaves: HashMap<_, _> = [(x.id, vec![0.0, 0.0, 3f64.ln(), 0.0]), (y.id, vec![1.0, 0.0])].into();
        evaluate(&g, &leaves, &DimValues::default(), &[out.id]).unwrap()[&out.id][0]
    };
    let want = ((4.0f64 / 3.0).ln() + 2f64.ln()) / 2.0;
    assert!((ce - want).abs() < 1e-6, "{ce} vs {want}");
    // Hinge: scores [3, 1, 2.5], label 0, margin 1: max(0, 1-3+1) + max(0, 2.5-3+1) = 0.5.
    let h = eval1(|g, x, y| nn::multiclass_hinge(g, x, y, 1.0), &[3.0, 1.0, 2.5], &[0.0], [1, 3]);
    assert!((h - 0.5).abs() < 1e-6, "{h}");
    // MSE of [1, 2] vs [0, 0] = 2.5; L1 = 1.5.
    let m = eval1(nn::mse, &[1.0, 2.0], &[0.0, 0.0], [1, 2]);
    assert!((m - 2.5).abs() < 1e-9);
    let l = eval1(nn::l1, &[1.0, -2.0], &[0.0, 0.0], [1, 2]);
    assert!((l - 1.5).abs() < 1e-9);
    // BCE with logit 0 is ln 2 whatever the target.
    let b = eval1(nn::bce_with_logits, &[0.0, 0.0], &[1.0, 0.0], [1, 2]);
    assert!((b - 2f64.ln()).abs() < 1e-6, "{b}");
    // KL of mu=1, logvar=0: -0.5 (1 + 0 - 1 - 1) = 0.5.
    let k = eval1(nn::gaussian_kl, &[1.0], &[0.0], [1, 1]);
    assert!((k - 0.5).abs() < 1e-6, "{k}");
}

#[test]
fn prelu_and_maxout_gradients() {
    check("prelu shared", &|g| {
        let x = g.input("x", &[batch_dim(), d(5)])?;
        let p = PRelu::new(g, "act", 1)?;
        let y = p.forward(g, x)?;
        Ok((project(g, y)?, vec![x, p.weight]))
    });
    check("prelu per channel", &|g| {
        let x = g.input("x", &[batch_dim(), d(3), d(2), d(3)])?;
        let p = PRelu::new(g, "act", 3)?;
        let y = p.forward(g, x)?;
        Ok((project(g, y)?, vec![x, p.weight]))
    });
    for (inp, out, k) in [(5, 3, 2), (4, 1, 3), (3, 2, 1)] {
        check(&format!("maxout {inp}->{out} x{k}"), &move |g| {
            let x = g.input("x", &[batch_dim(), d(inp)])?;
            let m = Maxout::new(g, "mo", inp, out, k)?;
            let y = m.forward(g, x)?;
            let l = m.linear;
            Ok((project(g, y)?, vec![x, l.weight, l.bias.unwrap()]))
        });
    }
}

/// Evaluate `f(x)` on the reference with the given leaf values by name.
fn eval_named(g: &mut Graph, out: Tensor, vals: &[(&str, Vec<f64>)]) -> Vec<f64> {
    use std::collections::HashMap;
    use vislab_engine::graph::reference::evaluate;
    use vislab_engine::graph::view::DimValues;
    let out = g.contiguous(out);
    let leaves: HashMap<_, _> = vals.iter().map(|(n, v)| (g.leaf(n).unwrap().id, v.clone())).collect();
    evaluate(g, &leaves, &DimValues(vec![('B', 1)]), &[out.id]).unwrap()[&out.id].clone()
}

#[test]
fn prelu_and_maxout_values_by_hand() {
    // Shared slope 0.25: [-2, 3, 0, -0.4] -> [-0.5, 3, 0, -0.1].
    let mut g = Graph::new();
    let x = g.input("x", &[batch_dim(), d(4)]).unwrap();
    let y = PRelu::new(&mut g, "act", 1).unwrap().forward(&mut g, x).unwrap();
    let got = eval_named(&mut g, y, &[("x", vec![-2.0, 3.0, 0.0, -0.4]), ("act.weight", vec![0.25])]);
    assert_eq!(got, vec![-0.5, 3.0, 0.0, -0.1]);
    // Per channel, [1, 2, 1, 2]: channel 0 slope 0.5, channel 1 slope -1.
    let mut g = Graph::new();
    let x = g.input("x", &[batch_dim(), d(2), d(1), d(2)]).unwrap();
    let y = PRelu::new(&mut g, "act", 2).unwrap().forward(&mut g, x).unwrap();
    let got = eval_named(&mut g, y, &[("x", vec![-4.0, 1.0, -3.0, 2.0]), ("act.weight", vec![0.5, -1.0])]);
    assert_eq!(got, vec![-2.0, 1.0, 3.0, 2.0]);
    // Maxout 2 -> 2 with 2 pieces; pieces are rows (0, 1) and (2, 3):
    // x = [1, -2]: rows give x0 = 1, x1 = -2, x0 + x1 = -1, -x0 = -1, plus bias [0, 0, 0, 0.5].
    let mut g = Graph::new();
    let x = g.input("x", &[batch_dim(), d(2)]).unwrap();
    let y = Maxout::new(&mut g, "mo", 2, 2, 2).unwrap().forward(&mut g, x).unwrap();
    let w = vec![1.0, 0.0, 0.0, 1.0, 1.0, 1.0, -1.0, 0.0];
    let got = eval_named(&mut g, y, &[("x", vec![1.0, -2.0]), ("mo.weight", w), ("mo.bias", vec![0.0, 0.0, 0.0, 0.5])]);
    assert_eq!(got, vec![1.0, -0.5]);
    // Bad shapes are errors.
    let mut g = Graph::new();
    let x = g.input("x", &[batch_dim(), d(3), d(2)]).unwrap();
    assert!(PRelu::new(&mut g, "act", 2).unwrap().forward(&mut g, x).is_err());
    assert!(PRelu::new(&mut g, "act0", 0).is_err());
    assert!(Maxout::new(&mut g, "mo", 3, 2, 0).is_err());
}
