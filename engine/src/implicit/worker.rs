//! An [`OccupancyFit`] built and trained on its own thread: labelling the
//! points, training and marching cubes all happen there, events come out
//! through a channel, pause / resume / stop / resolution go in.

use std::sync::mpsc::{Receiver, Sender, TryRecvError, channel};
use std::thread::JoinHandle;

use crate::geometry::Mesh;

use super::ImplicitError;
use super::train::{Evaluation, FitConfig, OccupancyFit};

#[derive(Debug)]
pub enum FitEvent {
    /// The points are labelled and the network compiled.
    Ready {
        points: usize,
        inside_fraction: f64,
        test: String,
        seconds: f64,
    },
    Step {
        step: usize,
        loss: f64,
        seconds: f64,
    },
    /// IoU and the extracted surface, every `eval_every` steps and at the end.
    Eval(Box<Evaluation>),
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
    Resolution(usize),
}

pub struct FitWorker {
    events: Receiver<FitEvent>,
    control: Sender<Command>,
    thread: Option<JoinHandle<Option<OccupancyFit>>>,
}

impl FitWorker {
    /// Start fitting `target` (any units: it is normalized on the thread),
    /// evaluating every `eval_every` steps with marching cubes at `resolution`.
    pub fn spawn(target: Mesh, config: FitConfig, eval_every: usize, resolution: usize) -> Result<FitWorker, ImplicitError> {
        let (tx, events) = channel();
        let (control, rx) = channel::<Command>();
        let thread = std::thread::Builder::new()
            .name("vislab-implicit".into())
            .spawn(move || {
                let t0 = std::time::Instant::now();
                let mut fit = match OccupancyFit::new(&target, config) {
                    Ok(f) => f,
                    Err(e) => {
                        let _ = tx.send(FitEvent::Done { stopped: false, error: Some(e.to_string()) });
                        return None;
                    }
                };
                let p = fit.points();
                let _ = tx.send(FitEvent::Ready { points: p.len(), inside_fraction: p.inside_fraction(), test: fit.solid().test_name(), seconds: t0.elapsed().as_secs_f64() });
                let (mut paused, mut resolution) = (false, resolution);
                let every = eval_every.max(1);
                let (mut stopped, mut error) = (false, None);
                'run: while !fit.done() {
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
                            Command::Resolution(r) => resolution = r,
                            Command::Stop => {
                                stopped = true;
                                break 'run;
                            }
                        }
                    }
                    let t = std::time::Instant::now();
                    match fit.train_step() {
                        Ok(loss) => {
                            let _ = tx.send(FitEvent::Step { step: fit.step(), loss, seconds: t.elapsed().as_secs_f64() });
                        }
                        Err(e) => {
                            error = Some(e.to_string());
                            break;
                        }
                    }
                    if fit.step().is_multiple_of(every) || fit.done() {
                        match fit.evaluate(resolution) {
                            Ok(ev) => {
                                let _ = tx.send(FitEvent::Eval(Box::new(ev)));
                            }
                            Err(e) => {
                                error = Some(e.to_string());
                                break;
                            }
                        }
                    }
                }
                let _ = tx.send(FitEvent::Done { stopped, error });
                Some(fit)
            })
            .map_err(|e| ImplicitError::Input(format!("cannot start the training thread: {e}")))?;
        Ok(FitWorker { events, control, thread: Some(thread) })
    }

    pub fn events(&self) -> &Receiver<FitEvent> {
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

    /// Marching-cubes resolution for the next evaluations.
    pub fn set_resolution(&self, resolution: usize) {
        let _ = self.control.send(Command::Resolution(resolution));
    }

    pub fn is_finished(&self) -> bool {
        self.thread.as_ref().is_none_or(|t| t.is_finished())
    }

    /// Wait for the thread and take the fit back (None if it failed to start or panicked).
    pub fn join(mut self) -> Option<OccupancyFit> {
        self.thread.take()?.join().ok().flatten()
    }
}

impl Drop for FitWorker {
    fn drop(&mut self) {
        if let Some(t) = self.thread.take() {
            let _ = self.control.send(Command::Stop);
            let _ = t.join();
        }
    }
}
