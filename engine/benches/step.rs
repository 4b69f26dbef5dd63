//! Time per training step (forward + backward) of our engine, on one thread
//! and on every core, against PyTorch at its default threads (the main
//! reference: what a user would run instead) and at one thread, and a
//! numpy reference (`step_ref.py`, same models written by hand), all in
//! the same run.
//! Python: `$VISLAB_PYTHON`, else /work/venv-bench/bin/python, else python3.
//! Run: `cargo bench -p vislab-engine --bench step`.

use std::process::Command;
use std::time::Instant;

use vislab_engine::check::Rng;
use vislab_engine::cpu::threads;
use vislab_engine::error::EngineError;
use vislab_engine::graph::{Graph, batch_dim};
use vislab_engine::model::{Model, ModelSpec};
use vislab_engine::nn::{self, BatchNorm, Conv2d, Conv2dConfig, ConvTranspose2d, ConvTranspose2dConfig, Linear, Mode, Pool2d, flatten};

const B: usize = 64;

fn mlp() -> Result<(Graph, ModelSpec), EngineError> {
    let mut g = Graph::new();
    let x = g.input("x", &[batch_dim(), 784usize.into()])?;
    let labels = g.labels("labels", 10)?;
    let fc1 = Linear::new(&mut g, "fc1", 784, 256, true)?;
    let fc2 = Linear::new(&mut g, "fc2", 256, 10, true)?;
    let h = fc1.forward(&mut g, x)?;
    let h = nn::relu(&mut g, h)?;
    let logits = fc2.forward(&mut g, h)?;
    let loss = nn::softmax_cross_entropy(&mut g, logits, labels)?;
    Ok((g, ModelSpec { loss, train_outputs: vec![], eval_outputs: vec![], state_updates: vec![] }))
}

/// LeNet-style: conv 1->6 k5, relu, maxpool 2, conv 6->16 k5, relu, maxpool 2,
/// fc 256-120-84-10 (relu between), softmax cross-entropy.
fn lenet() -> Result<(Graph, ModelSpec), EngineError> {
    let mut g = Graph::new();
    let x = g.input("x", &[batch_dim(), 1usize.into(), 28usize.into(), 28usize.into()])?;
    let labels = g.labels("labels", 10)?;
    let c1 = Conv2d::new(&mut g, "conv1", Conv2dConfig::new(1, 6, 5))?;
    let c2 = Conv2d::new(&mut g, "conv2", Conv2dConfig::new(6, 16, 5))?;
    let f1 = Linear::new(&mut g, "fc1", 256, 120, true)?;
    let f2 = Linear::new(&mut g, "fc2", 120, 84, true)?;
    let f3 = Linear::new(&mut g, "fc3", 84, 10, true)?;
    let pool = Pool2d::max(2, 2);
    let h = c1.forward(&mut g, x)?;
    let h = nn::relu(&mut g, h)?;
    let h = pool.forward(&mut g, h)?;
    let h = c2.forward(&mut g, h)?;
    let h = nn::relu(&mut g, h)?;
    let h = pool.forward(&mut g, h)?;
    let h = flatten(&mut g, h)?;
    let h = f1.forward(&mut g, h)?;
    let h = nn::relu(&mut g, h)?;
    let h = f2.forward(&mut g, h)?;
    let h = nn::relu(&mut g, h)?;
    let logits = f3.forward(&mut g, h)?;
    let loss = nn::softmax_cross_entropy(&mut g, logits, labels)?;
    Ok((g, ModelSpec { loss, train_outputs: vec![], eval_outputs: vec![], state_updates: vec![] }))
}

/// The network `vislab train --model cnn` trains: conv 3x3 1->16 same,
/// relu, maxpool 2, conv 3x3 16->32 same, relu, maxpool 2, fc 1568-128-10.
fn mnist_cnn() -> Result<(Graph, ModelSpec), EngineError> {
    let mut g = Graph::new();
    let x = g.input("x", &[batch_dim(), 1usize.into(), 28usize.into(), 28usize.into()])?;
    let labels = g.labels("labels", 10)?;
    let same = |cin, cout| Conv2dConfig { padding: 1, ..Conv2dConfig::new(cin, cout, 3) };
    let c1 = Conv2d::new(&mut g, "conv1", same(1, 16))?;
    let c2 = Conv2d::new(&mut g, "conv2", same(16, 32))?;
    let f1 = Linear::new(&mut g, "fc1", 32 * 7 * 7, 128, true)?;
    let f2 = Linear::new(&mut g, "fc2", 128, 10, true)?;
    let pool = Pool2d::max(2, 2);
    let mut h = x;
    for c in [&c1, &c2] {
        h = c.forward(&mut g, h)?;
        h = nn::relu(&mut g, h)?;
        h = pool.forward(&mut g, h)?;
    }
    let h = flatten(&mut g, h)?;
    let h = f1.forward(&mut g, h)?;
    let h = nn::relu(&mut g, h)?;
    let logits = f2.forward(&mut g, h)?;
    let loss = nn::softmax_cross_entropy(&mut g, logits, labels)?;
    Ok((g, ModelSpec { loss, train_outputs: vec![], eval_outputs: vec![], state_updates: vec![] }))
}

/// DCGAN generator block: ConvTranspose2d(64 -> 32, k4, s2, p1, no bias)
/// 8x8 -> 16x16, BatchNorm (train), ReLU; MSE against a target.
fn dcgan_block() -> Result<(Graph, ModelSpec), EngineError> {
    let mut g = Graph::new();
    let x = g.input("x", &[batch_dim(), 64usize.into(), 8usize.into(), 8usize.into()])?;
    let target = g.input("target", &[batch_dim(), 32usize.into(), 16usize.into(), 16usize.into()])?;
    let cfg = ConvTranspose2dConfig { stride: 2, padding: 1, bias: false, ..ConvTranspose2dConfig::new(64, 32, 4) };
    let up = ConvTranspose2d::new(&mut g, "deconv", cfg)?;
    let bn = BatchNorm::new(&mut g, "bn", 32)?;
    let h = up.forward(&mut g, x)?;
    let mut state_updates = vec![];
    let h = bn.forward(&mut g, h, Mode::Train, &mut state_updates)?;
    let h = nn::relu(&mut g, h)?;
    let loss = nn::mse(&mut g, h, target)?;
    Ok((g, ModelSpec { loss, train_outputs: vec![], eval_outputs: vec![], state_updates }))
}

fn python() -> String {
    if let Ok(p) = std::env::var("VISLAB_PYTHON") {
        return p;
    }
    let venv = "/work/venv-bench/bin/python";
    if std::path::Path::new(venv).exists() { venv.into() } else { "python3".into() }
}

/// Median ms per step of the numpy reference, or None if it cannot run.
/// `threads` limits OpenBLAS (None: its default, all cores).
fn reference(which: &str, iters: usize, threads: Option<usize>) -> Option<f64> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/step_ref.py");
    let mut cmd = Command::new(python());
    cmd.args([script, which, &iters.to_string()]);
    if let Some(t) = threads {
        cmd.env("OPENBLAS_NUM_THREADS", t.to_string());
    }
    let out = cmd.output().ok()?;
    if !out.status.success() {
        eprintln!("numpy reference failed: {}", String::from_utf8_lossy(&out.stderr));
        return None;
    }
    String::from_utf8_lossy(&out.stdout).split_whitespace().nth(1)?.parse().ok()
}

/// Random data for every input: class indices for `labels`, U(0, 1) otherwise.
fn fill_inputs(model: &Model, rng: &mut Rng) -> Result<Vec<(String, Vec<f32>)>, EngineError> {
    let mut out = vec![];
    for name in model.input_names() {
        let n = model.input_len(&name)?;
        let v = if name == "labels" { (0..n).map(|_| rng.below(10) as f32).collect() } else { (0..n).map(|_| rng.uniform() as f32).collect() };
        out.push((name, v));
    }
    Ok(out)
}

/// Median ms per step of the same model in PyTorch on the CPU, at
/// `threads` threads (None: torch's default, every core), when a Python
/// with torch is at `$VISLAB_TORCH_PYTHON` or /work/venv-torch; None otherwise.
fn torch(which: &str, iters: usize, threads: Option<usize>) -> Option<f64> {
    let python = std::env::var("VISLAB_TORCH_PYTHON").unwrap_or_else(|_| "/work/venv-torch/bin/python".into());
    if !std::path::Path::new(&python).exists() {
        return None;
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/step_ref_torch.py");
    let mut cmd = Command::new(python);
    cmd.args([script, which, &iters.to_string()]);
    if let Some(t) = threads {
        cmd.env("TORCH_THREADS", t.to_string());
    }
    let out = cmd.output().ok()?;
    if !out.status.success() {
        eprintln!("PyTorch reference failed: {}", String::from_utf8_lossy(&out.stderr));
        return None;
    }
    String::from_utf8_lossy(&out.stdout).split_whitespace().nth(1)?.parse().ok()
}

/// Median ms of `iters` steps (inputs copied in each time, as a trainer does).
fn median_step(model: &mut Model, inputs: &[(String, Vec<f32>)], iters: usize) -> Result<f64, EngineError> {
    for _ in 0..10 {
        model.train_step()?;
    }
    let mut ts = Vec::with_capacity(iters);
    for _ in 0..iters {
        let t = Instant::now();
        for (n, v) in inputs {
            model.set_input(n, v)?;
        }
        model.train_step()?;
        ts.push(t.elapsed().as_secs_f64() * 1e3);
    }
    ts.sort_by(|a, b| a.total_cmp(b));
    Ok(ts[ts.len() / 2])
}

fn bench(name: &str, build: fn() -> Result<(Graph, ModelSpec), EngineError>, iters: usize) -> Result<f64, EngineError> {
    let t0 = Instant::now();
    let (g, spec) = build()?;
    let t_build = t0.elapsed();
    let mut model = Model::compile(g, spec)?;
    let mut rng = Rng::new(3);
    for p in model.params() {
        let bound = 1.0 / (p.shape.iter().skip(1).product::<usize>().max(1) as f64).sqrt();
        let v: Vec<f32> = (0..p.shape.iter().product()).map(|_| rng.range(-bound, bound) as f32).collect();
        model.set_param(&p.name, &v)?;
    }
    model.set_batch(B)?;
    let inputs = fill_inputs(&model, &mut rng)?;
    for (n, v) in &inputs {
        model.set_input(n, v)?;
    }
    // The first step plans the training schedule for B (views resolved,
    // gathers composed, buffers sized and first touched).
    let t1 = Instant::now();
    model.train_step()?;
    let t_plan = t1.elapsed();
    let one = threads::with(1, || median_step(&mut model, &inputs, iters)).map_err(EngineError::Unsupported)??;
    let ours = median_step(&mut model, &inputs, iters)?;
    // VISLAB_PROFILE=N prints the N slowest kernels (15 if not a number).
    if let Some(v) = std::env::var_os("VISLAB_PROFILE") {
        let top = v.to_str().and_then(|v| v.parse().ok()).unwrap_or(15);
        let prof = model.program_mut().profile(20)?;
        let total: f64 = prof.iter().map(|p| p.1).sum();
        for (d, t) in prof.iter().take(top) {
            println!("  {:6.3} ms {:4.1}%  {d}", t * 1e3, 100.0 * t / total);
        }
    }
    println!(
        "{name}: graph build {:.2} ms, autograd + lowering {:.2} ms, first step at B={B} (plan) {:.2} ms ({} kernels, {} GEMM, {} fused)",
        t_build.as_secs_f64() * 1e3,
        model.compile_time().as_secs_f64() * 1e3,
        t_plan.as_secs_f64() * 1e3,
        model.program().kernel_count(),
        model.program().gemm_count(),
        model.program().fused_count()
    );
    // OpenBLAS' threads sometimes stall for tens of ms on a loaded 2-core
    // machine, so numpy runs both with its default threads and with one; the
    // ratio is against the faster.
    let (r_all, r_one) = (reference(name, iters, None), reference(name, iters, Some(1)));
    let best = [r_all, r_one].into_iter().flatten().min_by(|a, b| a.total_cmp(b));
    let show = |r: Option<f64>| r.map(|v| format!("{v:.3} ms")).unwrap_or_else(|| "n/a".into());
    let cores = threads::current();
    println!("{name}: ours {ours:.3} ms on {cores} threads, {one:.3} ms on 1 ({:.2}x faster on {cores})", one / ours);
    match (torch(name, iters, None), torch(name, iters, Some(1))) {
        (Some(t), Some(t1)) => {
            println!("{name}: PyTorch (CPU) {t:.3} ms at its default threads, {t1:.3} ms at 1; ratio ours/PyTorch {:.2}x (all cores), {:.2}x (1 thread each)", ours / t, one / t1)
        }
        _ => println!("{name}: PyTorch reference unavailable"),
    }
    match best {
        Some(r) => println!("{name}: step {ours:.3} ms; numpy {} (default threads), {} (1 thread); ratio ours/best numpy {:.2}x", show(r_all), show(r_one), ours / r),
        None => println!("{name}: step {ours:.3} ms (numpy reference unavailable)"),
    }
    Ok(model.compile_time().as_secs_f64() * 1e3)
}

fn main() -> Result<(), EngineError> {
    let mut compile = vec![];
    // VISLAB_BENCH=name runs that graph only.
    let only = std::env::var("VISLAB_BENCH").ok();
    for (name, build, iters) in [("mlp", mlp as fn() -> _, 300), ("cnn", lenet, 50), ("dcgan", dcgan_block, 50), ("cnn28", mnist_cnn, 50)] {
        if only.as_deref().is_some_and(|o| o != name) {
            continue;
        }
        compile.push((name, bench(name, build, iters)?));
    }
    let list: Vec<String> = compile.iter().map(|(n, t)| format!("{n} {t:.2} ms")).collect();
    println!("autograd + lowering per graph: {}", list.join(", "));
    Ok(())
}
