//! A one-shot computation on a worker thread whose result a lab polls each
//! frame (loading a dataset, computing split statistics), so the UI never
//! waits for it.

use std::sync::mpsc::{Receiver, TryRecvError, channel};

pub struct Task<T> {
    result: Receiver<T>,
}

impl<T: Send + 'static> Task<T> {
    pub fn spawn(work: impl FnOnce() -> T + Send + 'static) -> Self {
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            let _ = tx.send(work());
        });
        Task { result: rx }
    }

    /// The result once it is there; `Err(())` if the worker died without one.
    pub fn poll(&self) -> Option<Result<T, ()>> {
        match self.result.try_recv() {
            Ok(v) => Some(Ok(v)),
            Err(TryRecvError::Empty) => None,
            Err(TryRecvError::Disconnected) => Some(Err(())),
        }
    }
}
