//! What the Trainer costs on top of a bare training loop: the same MLP
//! (784-100-10, Adam, batch 32) for one epoch over 10k MNIST images, run
//! (a) as a plain loop of `train_step` + `optimizer.step` and (b) through
//! the threaded Trainer (events, finiteness checks, weight snapshot per
//! step). Prints both times and their ratio; both runs are seeded and must
//! end with bit-identical weights.
//!
//! `cargo bench -p vislab-engine --bench trainer_overhead --profile dev`

use std::sync::Arc;
use std::time::Instant;

use vislab_engine::data::locate;
use vislab_engine::data::mnist::{self, Split};
use vislab_engine::optim::{Adam, Optimizer, Schedule};
use vislab_engine::train::reference::Mlp;
use vislab_engine::train::{Job, Model, TrainConfig};

fn main() {
    let dir = match locate("mnist/data") {
        Ok(d) => d,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    let train = match mnist::load(&dir, Split::Train) {
        Ok(d) => Arc::new(d.take(10_000)),
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    let reps = 3;
    let (mut bare, mut trainer) = (f64::MAX, f64::MAX);
    for _ in 0..reps {
        let mut m = Mlp::new(784, 100, 10, 1).expect("valid sizes");
        let mut o = Adam::new(1e-3);
        let t = Instant::now();
        for b in train.shuffled_batches(32, 0, 0, false).expect("batch size > 0") {
            m.train_step(&b).expect("fits");
            o.step(m.params_mut()).expect("fits");
        }
        bare = bare.min(t.elapsed().as_secs_f64());

        let cfg = TrainConfig::new(1, 32, Schedule::constant(1e-3));
        let job = Job::new(Box::new(Mlp::new(784, 100, 10, 1).expect("valid sizes")), Box::new(Adam::new(1e-3)), train.clone(), cfg);
        let t = Instant::now();
        let h = job.spawn().expect("valid setup");
        let steps = h.events().iter().count();
        let fin = h.join().expect("no panic");
        trainer = trainer.min(t.elapsed().as_secs_f64());
        assert!(steps >= 313);
        assert_eq!(fin.model.params(), m.params(), "trainer and bare loop disagree");
    }
    println!("one epoch, 10k MNIST, MLP 784-100-10, batch 32 (best of {reps}):");
    println!("  bare loop {:8.1} ms", bare * 1e3);
    println!("  trainer   {:8.1} ms  ({:.3}x the bare loop)", trainer * 1e3, trainer / bare);
}
