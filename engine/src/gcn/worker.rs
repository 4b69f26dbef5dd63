//! A [`DeformFit`] built and trained on its own thread: events out through
//! a channel; pause / resume / stop and new loss weights (used from the next
//! step) in.

use std::sync::mpsc::{Receiver, Sender, TryRecvError, channel};
use std::thread::JoinHandle;

use crate::geometry::Mesh;

use super::GcnError;
use super::loss::{LossWeights, Terms};
use super::train::{DeformConfig, DeformFit, Snapshot};

#[derive(Debug)]
pub enum DeformEvent {
    /// The network is compiled; the start mesh and the normalized target.
    Ready {
        start: Box<Mesh>,
        target: Box<Mesh>,
        params: usize,
        seconds: f64,
    },
    Step {
        step: usize,
        terms: Terms,
        seconds: f64,
    },
    /// Positions, features and the Chamfer metric: before the first step,
    /// every `every` steps and at the end.
    Snapshot(Box<Snapshot>),
    /// The run ended: every step done, stopped on request, or failed.
    Done {
        stopped: bool,
        error: Option<String>,
    },
}

enum Command {
    Pause,
    Resume,
    Stop,
    Weights(LossWeights),
}

pub struct DeformWorker {
    events: Receiver<DeformEvent>,
    control: Sender<Command>,
    thread: Option<JoinHandle<Option<DeformFit>>>,
}

impl DeformWorker {
    /// Start fitting `target` (any units: it is normalized on the thread).
    pub fn spawn(target: Mesh, config: DeformConfig, every: usize) -> Result<DeformWorker, GcnError> {
        let (tx, events) = channel();
        let (control, rx) = channel::<Command>();
        let thread = std::thread::Builder::new()
            .name("vislab-gcn".into())
            .spawn(move || {
                let t0 = std::time::Instant::now();
                let mut fit = match DeformFit::new(&target, config) {
                    Ok(f) => f,
                    Err(e) => {
                        let _ = tx.send(DeformEvent::Done { stopped: false, error: Some(e.to_string()) });
                        return None;
                    }
                };
                let params = config.net.params();
                let _ = tx.send(DeformEvent::Ready { start: Box::new(fit.start().clone()), target: Box::new(fit.target().clone()), params, seconds: t0.elapsed().as_secs_f64() });
                let every = every.max(1);
                let (mut paused, mut stopped, mut error) = (false, false, None);
                let snap = |fit: &mut DeformFit| fit.snapshot().map(|s| DeformEvent::Snapshot(Box::new(s)));
                match snap(&mut fit) {
                    Ok(e) => {
                        let _ = tx.send(e);
                    }
                    Err(e) => error = Some(e.to_string()),
                }
                'run: while error.is_none() && !fit.done() {
                    // Apply queued commands, blocking while paused.
                    loop {
                        let cmd = if paused {
                            rx.recv().unwrap_or(Command::Stop)
                        } else {
                            match rx.try_recv() {
                                Ok(c) => c,
                                Err(TryRecvError::Empty) => break,
                                Err(TryRecvError::Disconnected) => Command::Stop,
                            }
                        };
                        match cmd {
                            Command::Pause => paused = true,
                            Command::Resume => paused = false,
                            Command::Weights(w) => {
                                if let Err(e) = fit.set_weights(w) {
                                    error = Some(e.to_string());
                                    break 'run;
                                }
                            }
                            Command::Stop => {
                                stopped = true;
                                break 'run;
                            }
                        }
                    }
                    let t = std::time::Instant::now();
                    match fit.train_step() {
                        Ok(terms) => {
                            let _ = tx.send(DeformEvent::Step { step: fit.step(), terms, seconds: t.elapsed().as_secs_f64() });
                        }
                        Err(e) => {
                            error = Some(e.to_string());
                            break;
                        }
                    }
                    if fit.step().is_multiple_of(every) || fit.done() {
                        match snap(&mut fit) {
                            Ok(e) => {
                                let _ = tx.send(e);
                            }
                            Err(e) => {
                                error = Some(e.to_string());
                                break;
                            }
                        }
                    }
                }
                let _ = tx.send(DeformEvent::Done { stopped, error });
                Some(fit)
            })
            .map_err(|e| GcnError::Input(format!("cannot start the training thread: {e}")))?;
        Ok(DeformWorker { events, control, thread: Some(thread) })
    }

    pub fn events(&self) -> &Receiver<DeformEvent> {
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

    /// Loss weights from the next step on.
    pub fn set_weights(&self, w: LossWeights) {
        let _ = self.control.send(Command::Weights(w));
    }

    pub fn is_finished(&self) -> bool {
        self.thread.as_ref().is_none_or(|t| t.is_finished())
    }

    /// Wait for the thread and take the fit back (None if it failed to start or panicked).
    pub fn join(mut self) -> Option<DeformFit> {
        self.thread.take()?.join().ok().flatten()
    }
}

impl Drop for DeformWorker {
    fn drop(&mut self) {
        if let Some(t) = self.thread.take() {
            let _ = self.control.send(Command::Stop);
            let _ = t.join();
        }
    }
}
