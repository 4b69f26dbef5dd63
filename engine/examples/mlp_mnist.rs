//! MLP 784-256-10 on real MNIST with plain SGD written inline (the proper
//! optimizers live elsewhere). Run: `cargo run -p vislab-engine --example mlp_mnist`
//! (add `-- --cnn` for a LeNet-style CNN instead).
//! Also included by `tests/mnist_mlp.rs`, which asserts the accuracy.

use std::path::PathBuf;

use vislab_engine::check::Rng;
use vislab_engine::error::EngineError;
use vislab_engine::graph::{Graph, batch_dim};
use vislab_engine::model::{Model, ModelSpec};
use vislab_engine::nn::{self, Conv2d, Conv2dConfig, Linear, Pool2d, flatten};

/// `$VISLAB_DATA`, else `<workspace>/.cache/data`.
pub fn data_dir() -> PathBuf {
    match std::env::var_os("VISLAB_DATA") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join(".cache").join("data"),
    }
}

fn read(path: &PathBuf) -> Result<Vec<u8>, EngineError> {
    std::fs::read(path).map_err(|e| EngineError::Io(format!("{}: {e} (run tests/fetch-data.sh to fetch the test data)", path.display())))
}

fn be32(b: &[u8], at: usize) -> Result<usize, EngineError> {
    let s = b.get(at..at + 4).ok_or_else(|| EngineError::Io("truncated IDX header".into()))?;
    Ok(u32::from_be_bytes([s[0], s[1], s[2], s[3]]) as usize)
}

/// Images scaled to [0, 1] (n x 784) and labels, from the IDX files.
pub fn load_mnist(split: &str) -> Result<(Vec<f32>, Vec<f32>), EngineError> {
    let dir = data_dir().join("mnist").join("data");
    let img = read(&dir.join(format!("{split}-images-idx3-ubyte")))?;
    let lab = read(&dir.join(format!("{split}-labels-idx1-ubyte")))?;
    if be32(&img, 0)? != 0x803 || be32(&lab, 0)? != 0x801 {
        return Err(EngineError::Io("not MNIST IDX files (bad magic)".into()));
    }
    let (n, rows, cols) = (be32(&img, 4)?, be32(&img, 8)?, be32(&img, 12)?);
    if rows * cols != 784 || be32(&lab, 4)? != n {
        return Err(EngineError::Io("unexpected MNIST dims".into()));
    }
    let pixels = img.get(16..16 + n * 784).ok_or_else(|| EngineError::Io("truncated image file".into()))?;
    let labels = lab.get(8..8 + n).ok_or_else(|| EngineError::Io("truncated label file".into()))?;
    Ok((pixels.iter().map(|&p| p as f32 / 255.0).collect(), labels.iter().map(|&l| l as f32).collect()))
}

/// Build and compile the MLP; returns the model with Kaiming-uniform weights.
pub fn build_mlp(seed: u64) -> Result<Model, EngineError> {
    let mut g = Graph::new();
    let x = g.input("x", &[batch_dim(), 784usize.into()])?;
    let fc1 = Linear::new(&mut g, "fc1", 784, 256, true)?;
    let fc2 = Linear::new(&mut g, "fc2", 256, 10, true)?;
    let h = fc1.forward(&mut g, x)?;
    let h = nn::relu(&mut g, h)?;
    let logits = fc2.forward(&mut g, h)?;
    finish(g, logits, seed)
}

/// LeNet-style CNN: conv 1->6 k5 pad 2, relu, maxpool 2, conv 6->16 k5,
/// relu, maxpool 2, fc 400-120-84-10.
pub fn build_lenet(seed: u64) -> Result<Model, EngineError> {
    let mut g = Graph::new();
    let x = g.input("x", &[batch_dim(), 1usize.into(), 28usize.into(), 28usize.into()])?;
    let c1 = Conv2d::new(&mut g, "conv1", Conv2dConfig { padding: 2, ..Conv2dConfig::new(1, 6, 5) })?;
    let c2 = Conv2d::new(&mut g, "conv2", Conv2dConfig::new(6, 16, 5))?;
    let f1 = Linear::new(&mut g, "fc1", 400, 120, true)?;
    let f2 = Linear::new(&mut g, "fc2", 120, 84, true)?;
    let f3 = Linear::new(&mut g, "fc3", 84, 10, true)?;
    let pool = Pool2d::max(2, 2);
    let mut h = c1.forward(&mut g, x)?;
    h = nn::relu(&mut g, h)?;
    h = pool.forward(&mut g, h)?;
    h = c2.forward(&mut g, h)?;
    h = nn::relu(&mut g, h)?;
    h = pool.forward(&mut g, h)?;
    h = flatten(&mut g, h)?;
    h = f1.forward(&mut g, h)?;
    h = nn::relu(&mut g, h)?;
    h = f2.forward(&mut g, h)?;
    h = nn::relu(&mut g, h)?;
    let logits = f3.forward(&mut g, h)?;
    finish(g, logits, seed)
}

/// Add the labels input and loss, compile, and initialize the weights.
fn finish(mut g: Graph, logits: vislab_engine::graph::Tensor, seed: u64) -> Result<Model, EngineError> {
    let labels = g.labels("labels", 10)?;
    let loss = nn::softmax_cross_entropy(&mut g, logits, labels)?;
    let spec = ModelSpec { loss, train_outputs: vec![], eval_outputs: vec![("logits".into(), logits)], state_updates: vec![] };
    let mut model = Model::compile(g, spec)?;
    let mut rng = Rng::new(seed);
    for p in model.params() {
        // fan-in: product of all dims but the first (1 for biases' own size).
        let fan_in = if p.shape.len() > 1 { p.shape[1..].iter().product::<usize>() } else { p.shape[0] }.max(1) as f64;
        let bound = (1.0 / fan_in).sqrt();
        let v: Vec<f32> = (0..p.shape.iter().product()).map(|_| rng.range(-bound, bound) as f32).collect();
        model.set_param(&p.name, &v)?;
    }
    Ok(model)
}

/// One epoch of SGD over `train`, then accuracy on `test`. Returns (mean
/// loss of the last 100 steps, test accuracy, seconds per step).
pub fn train_and_test(model: &mut Model, train: &(Vec<f32>, Vec<f32>), test: &(Vec<f32>, Vec<f32>), batch: usize, lr: f32) -> Result<(f32, f32, f64), EngineError> {
    let n = train.1.len();
    let mut rng = Rng::new(7);
    let mut order: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        order.swap(i, rng.below(i + 1));
    }
    let mut xb = vec![0f32; batch * 784];
    let mut yb = vec![0f32; batch];
    let mut recent = vec![];
    let t0 = std::time::Instant::now();
    let steps = n / batch;
    model.set_batch(batch)?;
    for s in 0..steps {
        for (k, &i) in order[s * batch..(s + 1) * batch].iter().enumerate() {
            xb[k * 784..(k + 1) * 784].copy_from_slice(&train.0[i * 784..(i + 1) * 784]);
            yb[k] = train.1[i];
        }
        model.set_input("x", &xb)?;
        model.set_input("labels", &yb)?;
        let loss = model.train_step()?;
        recent.push(loss);
        model.update_params(|_, w, g| {
            for (w, gv) in w.iter_mut().zip(g) {
                *w -= lr * gv;
            }
            Ok::<(), EngineError>(())
        })?;
    }
    let per_step = t0.elapsed().as_secs_f64() / steps.max(1) as f64;
    let tail = &recent[recent.len().saturating_sub(100)..];
    let mean_loss = tail.iter().sum::<f32>() / tail.len().max(1) as f32;
    // Test accuracy in batches of 1000 (the last batch may be smaller).
    let nt = test.1.len();
    let mut correct = 0usize;
    for start in (0..nt).step_by(1000) {
        let b = (nt - start).min(1000);
        model.set_batch(b)?;
        model.set_input("x", &test.0[start * 784..(start + b) * 784])?;
        model.evaluate()?;
        let logits = model.output("logits")?;
        for k in 0..b {
            let row = &logits[k * 10..(k + 1) * 10];
            let pred = row.iter().enumerate().fold(0, |best, (c, &v)| if v > row[best] { c } else { best });
            correct += (pred as f32 == test.1[start + k]) as usize;
        }
    }
    Ok((mean_loss, correct as f32 / nt as f32, per_step))
}

#[allow(dead_code)]
fn main() -> Result<(), EngineError> {
    let train = load_mnist("train")?;
    let test = load_mnist("t10k")?;
    let cnn = std::env::args().any(|a| a == "--cnn");
    let mut model = if cnn { build_lenet(1)? } else { build_mlp(1)? };
    println!("{}", if cnn { "LeNet-style CNN" } else { "MLP 784-256-10" });
    let (loss, acc, per_step) = train_and_test(&mut model, &train, &test, 64, 0.1)?;
    println!(
        "compile (autograd + lowering): {:.1} ms, {} kernels, {} GEMM",
        model.compile_time().as_secs_f64() * 1e3,
        model.program().kernel_count(),
        model.program().gemm_count()
    );
    println!("1 epoch SGD lr 0.1 batch 64: final loss {loss:.4}, test accuracy {:.2}%, {:.3} ms/step", acc * 100.0, per_step * 1e3);
    Ok(())
}
