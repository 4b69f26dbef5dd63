//! A trainer that runs epoch by epoch (the VAE's, the PixelCNN's) on its
//! own thread: events out through a channel, pause / resume / stop in. A
//! `view` callback runs on the thread every `view_every` steps and after
//! every epoch, producing whatever the caller wants to display.

use std::sync::mpsc::{Receiver, Sender, TryRecvError, channel};
use std::thread::JoinHandle;

use crate::vae::Flow;

/// What the worker needs from a trainer.
pub trait EpochTrainer: Send + 'static {
    type Step: Copy + Send + 'static;
    type Epoch: Send + 'static;
    type Error: std::fmt::Display;
    /// Thread name, for debuggers and panics.
    const NAME: &'static str;
    fn done(&self) -> bool;
    /// The step count a step report carries (views run on its multiples).
    fn step_of(step: &Self::Step) -> usize;
    /// One epoch with `on_step` after every step, then its report (with the
    /// test figures and `seconds` of wall time); None when stopped part way.
    fn run_epoch(&mut self, on_step: &mut dyn FnMut(&mut Self, Self::Step) -> Flow) -> Result<Option<Self::Epoch>, Self::Error>;
}

#[derive(Debug)]
pub enum WorkerEvent<P, E, S> {
    Step(P),
    Epoch(E),
    View(S),
    /// The run ended: all epochs done (`error: None`, `stopped: false`),
    /// stopped on request, or failed.
    Done {
        stopped: bool,
        error: Option<String>,
    },
}

/// The events of a worker over trainer `T` with views `S`.
pub type EventOf<T, S> = WorkerEvent<<T as EpochTrainer>::Step, <T as EpochTrainer>::Epoch, S>;

enum Command {
    Pause,
    Resume,
    Stop,
}

pub type ViewHook<T, S> = Box<dyn FnMut(&mut T) -> Option<S> + Send>;

pub struct EpochWorker<T: EpochTrainer, S> {
    events: Receiver<EventOf<T, S>>,
    control: Sender<Command>,
    thread: Option<JoinHandle<T>>,
}

impl<T: EpochTrainer, S: Send + 'static> EpochWorker<T, S> {
    pub fn spawn(mut trainer: T, mut view: ViewHook<T, S>, view_every: usize) -> Result<Self, String> {
        let (tx, events) = channel();
        let (control, rx) = channel::<Command>();
        let thread = std::thread::Builder::new()
            .name(T::NAME.into())
            .spawn(move || {
                let mut paused = false;
                // Apply queued commands, blocking while paused; false on stop.
                let mut go_on = move || loop {
                    let cmd = if paused {
                        rx.recv().unwrap_or(Command::Stop)
                    } else {
                        match rx.try_recv() {
                            Ok(c) => c,
                            Err(TryRecvError::Empty) => return true,
                            Err(TryRecvError::Disconnected) => Command::Stop,
                        }
                    };
                    match cmd {
                        Command::Pause => paused = true,
                        Command::Resume => paused = false,
                        Command::Stop => return false,
                    }
                };
                let every = view_every.max(1);
                let mut stopped = false;
                let mut error = None;
                while !trainer.done() && !stopped {
                    let report = trainer.run_epoch(&mut |t, r| {
                        let _ = tx.send(WorkerEvent::Step(r));
                        if T::step_of(&r).is_multiple_of(every)
                            && let Some(s) = view(t)
                        {
                            let _ = tx.send(WorkerEvent::View(s));
                        }
                        stopped = !go_on();
                        if stopped { Flow::Stop } else { Flow::Continue }
                    });
                    match report {
                        Ok(Some(r)) => {
                            let _ = tx.send(WorkerEvent::Epoch(r));
                            if let Some(s) = view(&mut trainer) {
                                let _ = tx.send(WorkerEvent::View(s));
                            }
                        }
                        Ok(None) => {}
                        Err(e) => {
                            error = Some(e.to_string());
                            break;
                        }
                    }
                }
                let _ = tx.send(WorkerEvent::Done { stopped, error });
                trainer
            })
            .map_err(|e| format!("cannot start the training thread: {e}"))?;
        Ok(EpochWorker { events, control, thread: Some(thread) })
    }
}

impl<T: EpochTrainer, S> EpochWorker<T, S> {
    pub fn events(&self) -> &Receiver<EventOf<T, S>> {
        &self.events
    }

    pub fn pause(&self) {
        let _ = self.control.send(Command::Pause);
    }

    pub fn resume(&self) {
        let _ = self.control.send(Command::Resume);
    }

    pub fn stop(&self) {
        let _ = self.control.send(Command::Stop);
    }

    pub fn is_finished(&self) -> bool {
        self.thread.as_ref().is_none_or(|t| t.is_finished())
    }

    /// Wait for the thread and take the trainer back (None if it panicked).
    pub fn join(mut self) -> Option<T> {
        self.thread.take()?.join().ok()
    }
}

impl<T: EpochTrainer, S> Drop for EpochWorker<T, S> {
    fn drop(&mut self) {
        if let Some(t) = self.thread.take() {
            let _ = self.control.send(Command::Stop);
            let _ = t.join();
        }
    }
}
