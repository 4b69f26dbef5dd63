//! Training batches assembled and augmented on a thread of their own, one
//! step ahead of the trainer, in buffers that go back and forth between the
//! two (no whole-batch allocation per step). The batches are exactly those
//! of `Dataset::shuffled_batches`, augmented from the step-seeded stream, so
//! a run gives the same numbers as without prefetching.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, SyncSender, channel, sync_channel};

use super::TrainConfig;
use crate::data::{Batch, Dataset};

pub struct Prefetch {
    ready: Receiver<Result<Batch, String>>,
    back: Sender<Batch>,
}

impl Prefetch {
    /// The batches of `epoch` from its `skip`-th on, the first of them
    /// optimizer step `first_step` (which seeds its augmentation).
    pub fn epoch(data: Arc<Dataset>, cfg: &TrainConfig, epoch: usize, skip: usize, first_step: usize) -> Result<Prefetch, String> {
        let (tx, ready) = sync_channel(1);
        let (back, spare) = channel();
        let cfg = cfg.clone();
        std::thread::Builder::new()
            .name("vislab-batches".into())
            .spawn(move || produce(&data, &cfg, epoch, skip, first_step, &tx, &spare))
            .map_err(|e| format!("cannot start the batch thread: {e}"))?;
        Ok(Prefetch { ready, back })
    }

    /// The next batch (None when the epoch is done).
    pub fn next_batch(&mut self) -> Option<Result<Batch, String>> {
        self.ready.recv().ok()
    }

    /// Hand a used batch back for its buffers.
    pub fn recycle(&self, b: Batch) {
        let _ = self.back.send(b);
    }
}

/// Dropping the `Prefetch` ends the thread at its next send; nobody waits.
fn produce(data: &Dataset, cfg: &TrainConfig, epoch: usize, skip: usize, first_step: usize, tx: &SyncSender<Result<Batch, String>>, spare: &Receiver<Batch>) {
    let order = data.epoch_order(cfg.seed, epoch as u64);
    let size = cfg.batch_size.max(1);
    for (k, idx) in order.chunks(size).enumerate().skip(skip) {
        if cfg.drop_last && idx.len() < size {
            break;
        }
        let mut b = spare.try_recv().unwrap_or_else(|_| Batch { x: vec![], shape: vec![], y: vec![] });
        let mut made = data.batch_into(idx, &mut b).map_err(|e| e.to_string());
        if let (Ok(()), Some(a)) = (&made, &cfg.augment) {
            let step = first_step + k - skip;
            made = a.apply_batch(&mut b, &mut cfg.augment_rng(step)).map_err(|e| e.to_string());
        }
        if tx.send(made.map(|()| b)).is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::augment::Augment;
    use crate::optim::{Decay, Schedule};

    /// The same batches, augmented the same way, as the plain iterator.
    #[test]
    fn prefetched_batches_equal_the_plain_ones() {
        let x: Vec<f32> = (0..50 * 16).map(|v| (v % 97) as f32 / 97.0).collect();
        let data = Arc::new(Dataset::new(x, vec![1, 4, 4], (0..50).map(|i| i % 3).collect(), 3).unwrap());
        let mut cfg = TrainConfig::new(1, 8, Schedule::new(0.1, Decay::Constant));
        cfg.seed = 5;
        cfg.augment = Some(Augment { flip: true, max_shift: 1, ..Augment::default() });
        let mut want = vec![];
        for (step, mut b) in data.shuffled_batches(8, 5, 2, false).unwrap().enumerate().skip(2) {
            cfg.augment.unwrap().apply_batch(&mut b, &mut cfg.augment_rng(100 + step - 2)).unwrap();
            want.push(b);
        }
        let mut p = Prefetch::epoch(Arc::clone(&data), &cfg, 2, 2, 100).unwrap();
        let mut got = vec![];
        while let Some(b) = p.next_batch() {
            let b = b.unwrap();
            got.push(b.clone());
            p.recycle(b);
        }
        assert_eq!(got.len(), 5, "7 batches, 2 skipped");
        assert_eq!(got, want);
        cfg.drop_last = true;
        let mut p = Prefetch::epoch(data, &cfg, 0, 0, 0).unwrap();
        assert_eq!(std::iter::from_fn(|| p.next_batch()).count(), 6);
    }
}
