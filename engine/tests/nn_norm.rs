//! Normalization, dropout, upsampling and embedding: gradient checks, CPU
//! program against the reference, and hand-worked values through `Model`.

use vislab_engine::check::{Rng, project, verify};
use vislab_engine::error::EngineError;
use vislab_engine::graph::{Dim, Graph, Tensor, batch_dim};
use vislab_engine::model::{Model, ModelSpec};
use vislab_engine::nn::{self, BatchNorm, Dropout, Embedding, GroupNorm, LayerNorm, Mode};

type Build = dyn Fn(&mut Graph) -> Result<(Tensor, Vec<Tensor>), EngineError>;

fn init(name: &str, n: usize, rng: &mut Rng) -> Option<Vec<f64>> {
    if name.ends_with("running_var") {
        Some((0..n).map(|_| rng.range(0.5, 1.5)).collect())
    } else if name.ends_with(".noise") {
        Some((0..n).map(|_| rng.uniform()).collect())
    } else if name == "idx" {
        Some((0..n).map(|_| rng.below(5) as f64).collect())
    } else {
        None
    }
}

fn check(name: &str, build: &Build, batches: &[usize]) {
    let cases: Vec<(usize, u64)> = batches.iter().enumerate().map(|(i, &b)| (b, 31 + i as u64)).collect();
    verify(name, build, &cases, &init).unwrap_or_else(|e| panic!("{e}"));
}

fn d(n: usize) -> Dim {
    n.into()
}

#[test]
fn batchnorm_train_gradients() {
    check(
        "batchnorm 2d input",
        &|g| {
            let x = g.input("x", &[batch_dim(), d(3)])?;
            let bn = BatchNorm::new(g, "bn1", 3)?;
            let y = bn.forward(g, x, Mode::Train, &mut vec![])?;
            Ok((project(g, y)?, vec![x, bn.weight, bn.bias]))
        },
        &[2, 5],
    );
    check(
        "batchnorm 4d input",
        &|g| {
            let x = g.input("x", &[batch_dim(), d(2), d(3), d(2)])?;
            let bn = BatchNorm::new(g, "bn1", 2)?;
            let y = bn.forward(g, x, Mode::Train, &mut vec![])?;
            Ok((project(g, y)?, vec![x, bn.weight, bn.bias]))
        },
        &[1, 3],
    );
    check(
        "batchnorm eval",
        &|g| {
            let x = g.input("x", &[batch_dim(), d(2), d(2), d(2)])?;
            let bn = BatchNorm::new(g, "bn1", 2)?;
            let y = bn.forward(g, x, Mode::Eval, &mut vec![])?;
            Ok((project(g, y)?, vec![x, bn.weight, bn.bias]))
        },
        &[1, 3],
    );
}

#[test]
fn other_norms_gradients() {
    check(
        "layernorm",
        &|g| {
            let x = g.input("x", &[batch_dim(), d(2), d(5)])?;
            let ln = LayerNorm::new(g, "ln", &[5])?;
            let y = ln.forward(g, x)?;
            Ok((project(g, y)?, vec![x, ln.weight, ln.bias]))
        },
        &[1, 3],
    );
    check(
        "groupnorm",
        &|g| {
            let x = g.input("x", &[batch_dim(), d(4), d(2), d(3)])?;
            let gn = GroupNorm::new(g, "gn", 2, 4)?;
            let y = gn.forward(g, x)?;
            Ok((project(g, y)?, vec![x, gn.weight, gn.bias]))
        },
        &[1, 2],
    );
    check(
        "instancenorm",
        &|g| {
            let x = g.input("x", &[batch_dim(), d(3), d(2), d(3)])?;
            let n = GroupNorm::instance(g, "in", 3)?;
            let y = n.forward(g, x)?;
            Ok((project(g, y)?, vec![x, n.weight, n.bias]))
        },
        &[1, 2],
    );
}

#[test]
fn dropout_upsample_embedding_gradients() {
    check(
        "dropout",
        &|g| {
            let x = g.input("x", &[batch_dim(), d(7)])?;
            let y = Dropout::new(0.3)?.forward(g, "drop1", x, Mode::Train)?;
            Ok((project(g, y)?, vec![x]))
        },
        &[1, 4],
    );
    check(
        "upsample",
        &|g| {
            let x = g.input("x", &[batch_dim(), d(2), d(2), d(3)])?;
            let y = nn::upsample_nearest(g, x, 2)?;
            Ok((project(g, y)?, vec![x]))
        },
        &[1, 2],
    );
    check(
        "embedding",
        &|g| {
            let i = g.input("idx", &[batch_dim()])?;
            let e = Embedding::new(g, "emb", 5, 3)?;
            let y = e.forward(g, i)?;
            Ok((project(g, y)?, vec![e.weight]))
        },
        &[1, 6],
    );
}

#[test]
fn batchnorm_running_stats_and_eval_by_hand() {
    let mut g = Graph::new();
    let x = g.input("x", &[batch_dim(), d(1)]).unwrap();
    let bn = BatchNorm::new(&mut g, "bn1", 1).unwrap();
    let mut updates = vec![];
    let yt = bn.forward(&mut g, x, Mode::Train, &mut updates).unwrap();
    let ye = bn.forward(&mut g, x, Mode::Eval, &mut vec![]).unwrap();
    let loss = g.sum_all(yt).unwrap();
    let spec = ModelSpec { loss, train_outputs: vec![("y_train".into(), yt)], eval_outputs: vec![("y_eval".into(), ye)], state_updates: updates };
    let mut m = Model::compile(g, spec).unwrap();
    m.set_param("bn1.weight", &[1.0]).unwrap();
    assert_eq!(m.state("bn1.running_var").unwrap(), &[1.0]);
    assert_eq!(m.state("bn1.running_mean").unwrap(), &[0.0]);
    m.set_batch(2).unwrap();
    m.set_input("x", &[1.0, 3.0]).unwrap();
    m.train_step().unwrap();
    // batch mean 2, biased var 1 -> y = [-1, 1]; unbiased var 2.
    let y = m.output("y_train").unwrap();
    assert!((y[0] + 1.0).abs() < 1e-4 && (y[1] - 1.0).abs() < 1e-4, "{y:?}");
    assert!((m.state("bn1.running_mean").unwrap()[0] - 0.2).abs() < 1e-6);
    assert!((m.state("bn1.running_var").unwrap()[0] - 1.1).abs() < 1e-6);
    // eval uses running stats: (3 - 0.2) / sqrt(1.1 + 1e-5).
    m.evaluate().unwrap();
    let ye = m.output("y_eval").unwrap();
    assert!((ye[1] - 2.8 / (1.1f32 + 1e-5).sqrt()).abs() < 1e-4, "{ye:?}");
    assert!(m.set_input("x", &[1.0, f32::NAN]).is_err());
    assert!(m.set_input("x", &[1.0]).is_err());
    assert!(m.grad("nope").is_err());
}
