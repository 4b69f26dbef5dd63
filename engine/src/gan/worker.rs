//! A [`GanTrainer`] as a background [`Job`] for as long as the model lives.
//! Commands go in (a few steps of D and/or G, a run of rounds, pause,
//! resume, stop, save), step reports and views come out; the caller never
//! waits for the networks.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::mpsc::Receiver;

use crate::job::{Ctx, Ended, Job, JobEvent, Lost};

use super::GanError;
use super::frechet::FrechetRef;
use super::real::RealDist;
use super::train::{GanTrainer, GanView, StepReport, ViewSpec};

#[derive(Debug)]
pub enum GanEvent {
    Step(StepReport),
    View(Box<GanView>),
    /// The thread has done every command up to `command` and waits for more
    /// (a paused run waits too).
    Idle {
        command: u64,
        rounds: usize,
    },
    /// A run finished its rounds (or was stopped).
    RunEnded {
        rounds: usize,
        stopped: bool,
    },
    Saved(Result<PathBuf, String>),
    /// G's images (as shown) for the noise of a [`GanWorker::generate`]
    /// call, `[n, data]`, with the caller's tag and G's step count.
    Generated {
        tag: u64,
        g_steps: usize,
        images: Result<Vec<f32>, String>,
    },
    /// The Frechet distance of G's samples to the held-out reals, after
    /// `steps` steps of both networks; the reference comes back for the
    /// next request.
    Frechet {
        steps: usize,
        fd: Result<f64, String>,
        reference: Box<FrechetRef>,
    },
    /// A step failed (a diverged loss, bad data); the run is stopped and
    /// the weights are those of the last good step.
    Failed(String),
}

#[derive(Debug)]
enum Command {
    Steps {
        d: usize,
        g: usize,
    },
    Run {
        rounds: usize,
    },
    Pause,
    Resume,
    Stop,
    SetStepsPerRound {
        d: usize,
        g: usize,
    },
    SetReal(RealDist),
    /// Save to the path with these extra metadata entries (a recipe).
    Save(PathBuf, BTreeMap<String, String>),
    Generate {
        tag: u64,
        z: Vec<f32>,
    },
    Frechet(Box<FrechetRef>, u64),
}

pub struct GanWorker {
    job: Job<GanEvent, (u64, Option<Command>), GanTrainer>,
    sent: u64,
}

impl JobEvent for GanEvent {
    fn ended(end: Ended) -> Option<Self> {
        end.error.map(GanEvent::Failed)
    }
}

/// The thread's run state.
struct Run {
    left: usize,
    paused: bool,
}

impl GanWorker {
    /// Start the thread; it sends a first view of the untrained networks.
    /// During a run a view follows every `view_every` rounds and the last.
    pub fn spawn(mut trainer: GanTrainer, spec: ViewSpec, view_every: usize) -> Result<Self, GanError> {
        let every = view_every.max(1);
        let job = Job::start("vislab-gan", move |ctx: &mut Ctx<GanEvent, (u64, Option<Command>)>| {
            let send_view = |ctx: &Ctx<GanEvent, _>, t: &mut GanTrainer| {
                ctx.send(match t.view(&spec) {
                    Ok(v) => GanEvent::View(Box::new(v)),
                    Err(e) => GanEvent::Failed(e.to_string()),
                });
            };
            send_view(ctx, &mut trainer);
            let mut run = Run { left: 0, paused: false };
            let mut done = 0u64;
            loop {
                let running = run.left > 0 && !run.paused;
                if !ctx.go_on() {
                    break;
                }
                let next = match ctx.next_set() {
                    Some(c) => Some(c),
                    None if running => None,
                    None => {
                        ctx.send(GanEvent::Idle { command: done, rounds: trainer.counts().2 });
                        match ctx.wait() {
                            Some(c) => Some(c),
                            None => break,
                        }
                    }
                };
                if let Some((id, cmd)) = next {
                    done = id;
                    let Some(cmd) = cmd else { break };
                    match cmd {
                        Command::Steps { d, g } => {
                            let r = trainer.steps(d, g, &mut |s| {
                                ctx.send(GanEvent::Step(s));
                            });
                            match r {
                                Ok(()) => send_view(ctx, &mut trainer),
                                Err(e) => {
                                    ctx.send(GanEvent::Failed(e.to_string()));
                                }
                            }
                        }
                        Command::Run { rounds } => run = Run { left: rounds, paused: false },
                        Command::Pause => run.paused = true,
                        Command::Resume => run.paused = false,
                        Command::Stop => {
                            if run.left > 0 {
                                run.left = 0;
                                send_view(ctx, &mut trainer);
                                ctx.send(GanEvent::RunEnded { rounds: trainer.counts().2, stopped: true });
                            }
                        }
                        Command::SetStepsPerRound { d, g } => trainer.set_steps_per_round(d, g),
                        Command::SetReal(r) => {
                            if let Err(e) = trainer.set_real(r) {
                                ctx.send(GanEvent::Failed(e.to_string()));
                            } else if run.left == 0 || run.paused {
                                send_view(ctx, &mut trainer);
                            }
                        }
                        Command::Save(path, extra) => {
                            let r = super::save(&path, &trainer, &extra).map(|()| path).map_err(|e| e.to_string());
                            ctx.send(GanEvent::Saved(r));
                        }
                        Command::Generate { tag, z } => {
                            let images = trainer.generate(&z).map_err(|e| e.to_string());
                            ctx.send(GanEvent::Generated { tag, g_steps: trainer.counts().1, images });
                        }
                        Command::Frechet(mut reference, seed) => {
                            let fd = reference.distance_of(&mut trainer, seed).map_err(|e| e.to_string());
                            let (d, g, _) = trainer.counts();
                            ctx.send(GanEvent::Frechet { steps: d + g, fd, reference });
                        }
                    }
                    continue;
                }
                // Running, no command waiting: one round.
                let r = trainer.round(&mut |s| {
                    ctx.send(GanEvent::Step(s));
                });
                if let Err(e) = r {
                    run.left = 0;
                    ctx.send(GanEvent::Failed(e.to_string()));
                    send_view(ctx, &mut trainer);
                    continue;
                }
                run.left -= 1;
                let rounds = trainer.counts().2;
                if run.left == 0 || rounds.is_multiple_of(every) {
                    send_view(ctx, &mut trainer);
                }
                if run.left == 0 {
                    ctx.send(GanEvent::RunEnded { rounds, stopped: false });
                }
            }
            trainer
        });
        Ok(GanWorker { job: job.map_err(GanError::Input)?, sent: 0 })
    }

    fn send(&mut self, c: Option<Command>) {
        self.sent += 1;
        self.job.set((self.sent, c));
    }

    pub fn events(&self) -> &Receiver<GanEvent> {
        self.job.events()
    }

    /// Id of the last command sent; the thread has done it once an
    /// [`GanEvent::Idle`] carries this id.
    pub fn last_command(&self) -> u64 {
        self.sent
    }

    /// `d` D steps then `g` G steps, then a view.
    pub fn steps(&mut self, d: usize, g: usize) {
        self.send(Some(Command::Steps { d, g }));
    }

    /// Train `rounds` rounds (replacing any run in progress).
    pub fn run(&mut self, rounds: usize) {
        self.send(Some(Command::Run { rounds }));
    }

    pub fn pause(&mut self) {
        self.send(Some(Command::Pause));
    }

    pub fn resume(&mut self) {
        self.send(Some(Command::Resume));
    }

    /// End the run in progress (the model stays, steps can go on).
    pub fn stop(&mut self) {
        self.send(Some(Command::Stop));
    }

    pub fn set_steps_per_round(&mut self, d: usize, g: usize) {
        self.send(Some(Command::SetStepsPerRound { d, g }));
    }

    /// Train on another real distribution from the next step on.
    pub fn set_real(&mut self, real: RealDist) {
        self.send(Some(Command::SetReal(real)));
    }

    pub fn save(&mut self, path: PathBuf, extra: BTreeMap<String, String>) {
        self.send(Some(Command::Save(path, extra)));
    }

    /// G's images for noise `z` `[n, noise]` (answered between rounds).
    pub fn generate(&mut self, tag: u64, z: Vec<f32>) {
        self.send(Some(Command::Generate { tag, z }));
    }

    /// The Frechet distance of G's samples (noise from `seed`) to the
    /// reference's held-out reals.
    pub fn frechet(&mut self, reference: Box<FrechetRef>, seed: u64) {
        self.send(Some(Command::Frechet(reference, seed)));
    }

    /// End the thread once it has done every command sent, and take the
    /// trainer back (Err if it panicked). Blocks: not for the UI thread,
    /// which just drops the worker.
    pub fn join(mut self) -> Result<GanTrainer, Lost> {
        self.send(None);
        self.job.join()
    }
}
