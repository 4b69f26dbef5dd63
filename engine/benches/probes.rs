//! What layer probes cost a training step: the command line's CNN for
//! 28x28 images built plainly ([`Arch::Cnn`]) and with a probe on every
//! layer (the training lab's [`NetSpec`], the same network), each trained
//! on the same 64-image batches. Prints both step times and their ratio,
//! and the cost of one `inspect` (forward + backward with every layer's
//! output and gradient kept) relative to a step. Synthetic batches: this
//! measures compute, not data.
//!
//! `cargo bench -p vislab-engine --bench probes --profile dev`

use std::time::Instant;

use vislab_engine::data::Batch;
use vislab_engine::init::Init;
use vislab_engine::models::{Arch, Family, GraphModel, NetSpec};
use vislab_engine::nn::Mode;
use vislab_engine::train::Model;

fn batch(n: usize, shift: f32) -> Batch {
    Batch { x: (0..n * 784).map(|i| ((i as f32 * 0.37 + shift).sin() + 1.0) / 2.0).collect(), shape: vec![n, 1, 28, 28], y: (0..n).map(|i| (i * 7 + 1) % 10).collect() }
}

/// Seconds per call of `f` over `iters` calls.
fn time(iters: usize, f: &mut dyn FnMut()) -> f64 {
    let t = Instant::now();
    for _ in 0..iters {
        f();
    }
    t.elapsed().as_secs_f64() / iters as f64
}

fn main() {
    let b = batch(64, 0.5);
    let mut plain: GraphModel = Arch::Cnn.build(0).expect("cnn builds");
    let mut probed = NetSpec::default_for(Family::Cnn, [1, 28, 28], 10).model(0, Init::KAIMING_RELU).expect("cnn builds");
    assert_eq!(plain.train_step(&b).expect("fits").loss.to_bits(), probed.train_step(&b).expect("fits").loss.to_bits(), "the two builds differ");
    let (reps, iters) = (7, 10);
    // Interleaved rounds, best of each: other work on the machine hits all three alike.
    let (mut t_plain, mut t_probed, mut t_inspect) = (f64::MAX, f64::MAX, f64::MAX);
    for _ in 0..reps {
        t_plain = t_plain.min(time(iters, &mut || {
            plain.train_step(&b).expect("fits");
        }));
        t_probed = t_probed.min(time(iters, &mut || {
            probed.train_step(&b).expect("fits");
        }));
        t_inspect = t_inspect.min(time(iters, &mut || {
            probed.inspect(&b, Mode::Train).expect("fits");
        }));
    }
    println!("CNN 28x28 (16, 32 channels, fc 128), batch 64, forward + backward (best of {reps} x {iters}):");
    println!("  plain           {:8.2} ms", t_plain * 1e3);
    println!("  with probes     {:8.2} ms  ({:.3}x plain)", t_probed * 1e3, t_probed / t_plain);
    println!("  inspect (train) {:8.2} ms  ({:.3}x plain)", t_inspect * 1e3, t_inspect / t_plain);
}
