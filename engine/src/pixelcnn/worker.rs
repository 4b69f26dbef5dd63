//! A [`PixelCnnTrainer`] on its own thread: events out through a channel,
//! pause / resume / stop in. A `view` callback runs on the thread every
//! `view_every` steps and after every epoch, producing whatever the caller
//! wants to display (a copy of the weights to sample from).

use std::sync::mpsc::{Receiver, Sender, TryRecvError, channel};
use std::thread::JoinHandle;

use super::PixelCnnError;
use super::train::{EpochReport, PixelCnnTrainer, StepReport};
use crate::vae::Flow;

#[derive(Debug)]
pub enum PixelCnnEvent<S> {
    Step(StepReport),
    Epoch(EpochReport),
    View(S),
    /// The run ended: all epochs done (`error: None`, `stopped: false`),
    /// stopped on request, or failed.
    Done { stopped: bool, error: Option<String> },
}

enum Command {
    Pause,
    Resume,
    Stop,
}

pub type ViewHook<S> = Box<dyn FnMut(&mut PixelCnnTrainer) -> Option<S> + Send>;

pub struct PixelCnnWorker<S> {
    events: Receiver<PixelCnnEvent<S>>,
    control: Sender<Command>,
    thread: Option<JoinHandle<PixelCnnTrainer>>,
}

impl<S: Send + 'static> PixelCnnWorker<S> {
    pub fn spawn(mut trainer: PixelCnnTrainer, mut view: ViewHook<S>, view_every: usize) -> Result<Self, PixelCnnError> {
        let (tx, events) = channel();
        let (control, rx) = channel::<Command>();
        let thread = std::thread::Builder::new()
            .name("vislab-pixelcnn".into())
            .spawn(move || {
                let mut paused = false;
                // Apply queued commands, blocking while paused; false on stop.
                let mut go_on = move || loop {
                    let cmd = if paused { rx.recv().unwrap_or(Command::Stop) } else {
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
                    let t0 = std::time::Instant::now();
                    let epoch = trainer.train_epoch(|t, r| {
                        let _ = tx.send(PixelCnnEvent::Step(r));
                        if r.step.is_multiple_of(every)
                            && let Some(s) = view(t)
                        {
                            let _ = tx.send(PixelCnnEvent::View(s));
                        }
                        stopped = !go_on();
                        if stopped { Flow::Stop } else { Flow::Continue }
                    });
                    let report = epoch.and_then(|train| match train {
                        Some(train_nll) => Ok(Some(EpochReport { epoch: trainer.epoch(), train_nll, test_nll: trainer.evaluate_test()?, seconds: t0.elapsed().as_secs_f64() })),
                        None => Ok(None),
                    });
                    match report {
                        Ok(Some(r)) => {
                            let _ = tx.send(PixelCnnEvent::Epoch(r));
                            if let Some(s) = view(&mut trainer) {
                                let _ = tx.send(PixelCnnEvent::View(s));
                            }
                        }
                        Ok(None) => {}
                        Err(e) => {
                            error = Some(e.to_string());
                            break;
                        }
                    }
                }
                let _ = tx.send(PixelCnnEvent::Done { stopped, error });
                trainer
            })
            .map_err(|e| PixelCnnError::Input(format!("cannot start the training thread: {e}")))?;
        Ok(PixelCnnWorker { events, control, thread: Some(thread) })
    }
}

impl<S> PixelCnnWorker<S> {
    pub fn events(&self) -> &Receiver<PixelCnnEvent<S>> {
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
    pub fn join(mut self) -> Option<PixelCnnTrainer> {
        self.thread.take()?.join().ok()
    }
}

impl<S> Drop for PixelCnnWorker<S> {
    fn drop(&mut self) {
        if let Some(t) = self.thread.take() {
            let _ = self.control.send(Command::Stop);
            let _ = t.join();
        }
    }
}
