//! A [`SegTrainer`] on its own thread: step and epoch events, the
//! predictions of the first validation images and (for an image + mask
//! pair) of the whole image out through a channel after every epoch; pause,
//! resume, stop in. Stopping only signals: the thread ends on its own after
//! the step under way, and nothing waits for it (not even dropping the
//! worker), so a UI that stops never blocks.

use std::sync::mpsc::{Receiver, Sender, TryRecvError, channel};
use std::thread::JoinHandle;

use super::SegError;
use super::train::{EpochReport, Flow, Prediction, SegTrainer, StepReport};

#[derive(Debug)]
pub enum SegEvent {
    Step(StepReport),
    Epoch(EpochReport),
    Predictions(Vec<Prediction>),
    /// The whole image's prediction (only when spawned with one).
    Whole(Prediction),
    /// The run ended: all epochs done (`error: None`, `stopped: false`),
    /// stopped on request, or failed.
    Done {
        stopped: bool,
        error: Option<String>,
    },
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
    pub fn spawn(trainer: SegTrainer, shown: usize) -> Result<Self, SegError> {
        Self::spawn_with_whole(trainer, shown, None)
    }

    /// As [`SegWorker::spawn`], also predicting `whole` (a one-image set of
    /// any size at least the training crops') after every epoch.
    pub fn spawn_with_whole(mut trainer: SegTrainer, shown: usize, whole: Option<std::sync::Arc<super::SegSet>>) -> Result<Self, SegError> {
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
                            // The whole image takes longer than the held-out
                            // tiles: skip it once stopping was asked for.
                            if let Some(img) = whole.as_ref().filter(|_| !stopped) {
                                stopped = !go_on();
                                if !stopped {
                                    match trainer.predict_whole(img) {
                                        Ok(p) => {
                                            let _ = tx.send(SegEvent::Whole(p));
                                        }
                                        Err(e) => {
                                            error = Some(e.to_string());
                                            break;
                                        }
                                    }
                                }
                            }
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
    /// Signal the thread and let it end on its own (the UI thread drops
    /// workers; a join here would block it for the step under way).
    fn drop(&mut self) {
        if self.thread.take().is_some() {
            let _ = self.control.send(Command::Stop);
        }
    }
}
