//! The CPU program splits kernels along outputs only, so a seeded run gives
//! the same bits at any thread count: 20 Adam steps of the MNIST CNN (and
//! its batch-norm variant) at 1, 2 and 3 threads, compared to the last bit.

use vislab_engine::check::Rng;
use vislab_engine::data::Batch;
use vislab_engine::models::{Arch, Cnn, GraphModel};
use vislab_engine::optim::{Adam, Optimizer};
use vislab_engine::train::Model;

/// Losses of 20 steps and the final weights and gradients, as bits.
fn run(mut model: GraphModel, threads: usize) -> (Vec<u32>, Vec<u32>) {
    vislab_engine::cpu::threads::with(threads, || {
        let mut rng = Rng::new(3);
        let mut opt = Adam::new(1e-3);
        let mut losses = vec![];
        for _ in 0..20 {
            let x: Vec<f32> = (0..64 * 784).map(|_| rng.normal() as f32).collect();
            let y: Vec<usize> = (0..64).map(|i| (i * 7 + losses.len()) % 10).collect();
            let out = model.train_step(&Batch { x, shape: vec![1, 28, 28], y }).unwrap();
            opt.step(model.params_mut()).unwrap();
            losses.push(out.loss.to_bits());
        }
        let state = model.params().iter().flat_map(|p| p.value.iter().chain(&p.grad)).map(|v| v.to_bits()).collect();
        (losses, state)
    })
    .unwrap()
}

fn same_bits_at_any_thread_count(build: impl Fn() -> GraphModel) {
    let one = run(build(), 1);
    let first = f32::from_bits(one.0[0]);
    let last = f32::from_bits(one.0[19]);
    assert!(first.is_finite() && last.is_finite() && last != first, "the run trains: {first} -> {last}");
    for threads in [2, 3] {
        let other = run(build(), threads);
        assert_eq!(other.0, one.0, "losses at {threads} threads");
        assert!(other.1 == one.1, "weights and gradients at {threads} threads");
    }
}

#[test]
fn cnn_gives_the_same_bits_at_1_2_and_3_threads() {
    same_bits_at_any_thread_count(|| Arch::Cnn.build(0).unwrap());
}

#[test]
fn batch_norm_cnn_gives_the_same_bits_at_1_2_and_3_threads() {
    same_bits_at_any_thread_count(|| GraphModel::new(Cnn { batch_norm: true, ..Cnn::mnist() }.build().unwrap(), 0).unwrap());
}
