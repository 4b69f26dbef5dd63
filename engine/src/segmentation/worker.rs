//! A [`SegTrainer`] on its own thread: step and epoch events and the
//! predictions of the first validation images out through a channel
//! (after every epoch), pause / resume / stop in.

use std::sync::mpsc::{Receiver, Sender, TryRecvError, channel};
use std::thread::JoinHandle;

use super::SegError;
use super::train::{EpochReport, Flow, Prediction, SegTrainer, StepReport};

#[derive(Debug)]
pub enum SegEvent {
    Step(StepReport),
    Epoch(EpochReport),
    Predictions(Vec<Prediction>),
    /// The run ended: all epochs done (`error: None`, `stopped: false`),
    /// stopped on request, or failed.
    Done { stopped: bool, error: Option<String> },
}

enum Command {
    Pause,
    Resume,
    Stop,
}

pub struct SegWorker {
    events: Receiver<SegEvent>,
    control: Sender<Command>,
    thread: Option<JoinHandle<SegTrainer>>,
}

impl SegWorker {
    /// Start training; after each epoch the first `shown` validation images
    /// are predicted and sent.
    pub fn spawn(mut trainer: SegTrainer, shown: usize) -> Result<Self, SegError> {
        let (tx, events) = channel();
        let (control, rx) = channel::<Command>();
        let thread = std::thread::Builder::new()
            .name("vislab-segment".into())
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
                let mut stopped = false;
                let mut error = None;
                while !trainer.done() && !stopped {
                    let t0 = std::time::Instant::now();
                    let epoch = trainer.train_epoch(|_, r| {
                        let _ = tx.send(SegEvent::Step(r));
                        stopped = !go_on();
                        if stopped { Flow::Stop } else { Flow::Continue }
                    });
                    let report = epoch.and_then(|loss| match loss {
                        Some(train_loss) => {
                            let confusion = trainer.evaluate()?;
                            let preds = trainer.predict_val(shown)?;
                            Ok(Some((EpochReport { epoch: trainer.epoch(), train_loss, confusion, seconds: t0.elapsed().as_secs_f64() }, preds)))
                        }
                        None => Ok(None),
                    });
                    match report {
                        Ok(Some((r, preds))) => {
                            let _ = tx.send(SegEvent::Epoch(r));
                            let _ = tx.send(SegEvent::Predictions(preds));
                        }
                        Ok(None) => {}
                        Err(e) => {
                            error = Some(e.to_string());
                            break;
                        }
                    }
                }
                let _ = tx.send(SegEvent::Done { stopped, error });
                trainer
            })
            .map_err(|e| SegError::Input(format!("cannot start the training thread: {e}")))?;
        Ok(SegWorker { events, control, thread: Some(thread) })
    }

    pub fn events(&self) -> &Receiver<SegEvent> {
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
    pub fn join(mut self) -> Option<SegTrainer> {
        self.thread.take()?.join().ok()
    }
}

impl Drop for SegWorker {
    fn drop(&mut self) {
        if let Some(t) = self.thread.take() {
            let _ = self.control.send(Command::Stop);
            let _ = t.join();
        }
    }
}
