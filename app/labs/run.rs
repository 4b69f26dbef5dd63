//! A lab's training run on an engine worker thread: pause and resume, and a
//! Stop that only signals. The step under way ends on the worker while the
//! lab keeps reading its last events ("stopped" among them), so the UI
//! thread never waits for it.

use vislab_engine::job::Job;

pub struct Run<W> {
    worker: Option<W>,
    /// Told to stop, still finishing its step.
    stopping: Option<W>,
    paused: bool,
}

impl<W> Default for Run<W> {
    fn default() -> Self {
        Run { worker: None, stopping: None, paused: false }
    }
}

impl<E, P, R> Run<Job<E, P, R>> {
    /// A new run replaces any other (whose remaining events no longer matter).
    pub fn start(&mut self, w: Job<E, P, R>) {
        *self = Run { worker: Some(w), stopping: None, paused: false };
    }

    /// Training (not stopping).
    pub fn training(&self) -> bool {
        self.worker.is_some()
    }

    pub fn stopping(&self) -> bool {
        self.stopping.is_some()
    }

    /// A worker is still running, stopping or not.
    pub fn busy(&self) -> bool {
        self.worker.is_some() || self.stopping.is_some()
    }

    pub fn paused(&self) -> bool {
        self.paused
    }

    /// Pause, or resume when paused.
    pub fn toggle_pause(&mut self) {
        if let Some(w) = &self.worker {
            if self.paused {
                w.resume()
            } else {
                w.pause()
            }
            self.paused = !self.paused;
        }
    }

    /// Signal the worker and return at once; true if one was training.
    pub fn stop(&mut self) -> bool {
        let Some(w) = self.worker.take() else { return false };
        w.stop();
        self.paused = false;
        self.stopping = Some(w);
        true
    }

    /// Drop any run without waiting.
    pub fn abandon(&mut self) {
        *self = Run::default();
    }

    /// Hand each worker to `drain`; finished ones are dropped after their
    /// last events were read (finished is read first, so nothing is missed).
    pub fn poll(&mut self, drain: impl FnMut(&Job<E, P, R>)) {
        self.poll_results(drain, |_| {});
    }

    /// [`Run::poll`], handing what each finished worker returns (the
    /// trained model) to `done`; a finished thread joins at once.
    pub fn poll_results(&mut self, mut drain: impl FnMut(&Job<E, P, R>), mut done: impl FnMut(R)) {
        for slot in [&mut self.worker, &mut self.stopping] {
            if let Some(w) = slot.take() {
                let finished = w.is_finished();
                drain(&w);
                if !finished {
                    *slot = Some(w);
                } else if let Ok(r) = w.join() {
                    done(r);
                }
            }
        }
    }
}
