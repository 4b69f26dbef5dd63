//! One background job: a body on its own named thread, commands in (pause,
//! resume, stop and the job's own parameter changes `P`), events `E` out.
//! Every training run, sampler and long computation of the labs and of
//! `vislab train` is one of these.
//!
//! Nothing on the caller's side ever waits for the thread: `stop` and `Drop`
//! only signal, and the body ends on its own after the step under way (it
//! asks [`Ctx::go_on`] between steps, or [`Ctx::stopped`] inside long ones).
//! Only [`Job::join`], for the command line and tests, blocks.
//!
//! When the body returns (or panics) the job sends the event
//! [`JobEvent::ended`] makes of how it ended, so a caller always learns that
//! a run is over, failures and panics included.

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, TryRecvError, channel};
use std::thread::JoinHandle;

/// How a job's body ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ended {
    /// It saw a stop request (or its handle was dropped).
    pub stopped: bool,
    /// The first [`Ctx::fail`] message, or what the panic said.
    pub error: Option<String>,
}

/// The events of a job know how to say it ended (None: nothing to send).
pub trait JobEvent: Send + Sized + 'static {
    fn ended(end: Ended) -> Option<Self>;
}

enum Command<P> {
    Pause,
    Resume,
    Stop,
    Set(P),
}

/// The handle the caller keeps.
pub struct Job<E, P = (), R = ()> {
    events: Receiver<E>,
    control: Sender<Command<P>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<Result<R, Lost>>>,
}

/// Why [`Job::join`] got nothing back: the body panicked.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Lost(pub String);

/// The body's side: send events, check for commands between steps.
pub struct Ctx<E, P> {
    events: Sender<E>,
    control: Receiver<Command<P>>,
    stop: Arc<AtomicBool>,
    paused: bool,
    stop_seen: bool,
    sets: VecDeque<P>,
    error: Option<String>,
}

impl<E: JobEvent, P: Send + 'static, R: Send + 'static> Job<E, P, R> {
    /// Start `body` on a thread called `name`; what it returns comes back
    /// from [`Job::join`].
    pub fn start(name: &str, body: impl FnOnce(&mut Ctx<E, P>) -> R + Send + 'static) -> Result<Self, String> {
        let (tx, events) = channel();
        let (control, rx) = channel();
        let stop = Arc::new(AtomicBool::new(false));
        let mut ctx = Ctx { events: tx, control: rx, stop: stop.clone(), paused: false, stop_seen: false, sets: VecDeque::new(), error: None };
        let thread = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                let out = catch_unwind(AssertUnwindSafe(|| body(&mut ctx)));
                let result = out.map_err(|p| Lost(format!("the {} thread failed: {}", std::thread::current().name().unwrap_or("job"), panic_message(p.as_ref()))));
                let error = ctx.error.take().or(result.as_ref().err().map(|l| l.0.clone()));
                let stopped = ctx.stop_seen || ctx.stop.load(Ordering::Relaxed);
                if let Some(e) = E::ended(Ended { stopped, error }) {
                    ctx.send(e);
                }
                result
            })
            .map_err(|e| format!("cannot start the {name} thread: {e}"))?;
        Ok(Job { events, control, stop, thread: Some(thread) })
    }
}

impl<E, P, R> Job<E, P, R> {
    pub fn events(&self) -> &Receiver<E> {
        &self.events
    }

    pub fn pause(&self) {
        let _ = self.control.send(Command::Pause);
    }

    pub fn resume(&self) {
        let _ = self.control.send(Command::Resume);
    }

    /// Ask the body to end after the step under way; returns at once.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.control.send(Command::Stop);
    }

    /// A parameter change (learning rate, loss weights, a request) for the
    /// body to pick up between steps.
    pub fn set(&self, p: P) {
        let _ = self.control.send(Command::Set(p));
    }

    pub fn is_finished(&self) -> bool {
        self.thread.as_ref().is_none_or(|t| t.is_finished())
    }

    /// Wait for the body to end and take what it returned. Blocks: for the
    /// command line and tests, never the UI.
    pub fn join(mut self) -> Result<R, Lost> {
        let t = self.thread.take().ok_or_else(|| Lost("already joined".into()))?;
        t.join().unwrap_or_else(|p| Err(Lost(panic_message(p.as_ref()))))
    }
}

impl<E, P, R> Drop for Job<E, P, R> {
    /// Signal and go: the body ends on its own after its step.
    fn drop(&mut self) {
        if self.thread.take().is_some() {
            self.stop();
        }
    }
}

impl<E, P> Ctx<E, P> {
    /// Send an event; a caller that went away is not an error (the body
    /// notices the stop that came with it).
    pub fn send(&self, e: E) {
        let _ = self.events.send(e);
    }

    /// Record a failure for the end event (the first one counts).
    pub fn fail(&mut self, message: impl Into<String>) {
        self.error.get_or_insert(message.into());
    }

    /// Whether a stop was asked for: cheap, for long loops inside a step.
    pub fn stopped(&self) -> bool {
        self.stop_seen || self.stop.load(Ordering::Relaxed)
    }

    /// Between steps: apply the queued commands, waiting while paused;
    /// false once a stop was asked for (or the handle dropped). Parameter
    /// changes wait in [`Ctx::next_set`].
    pub fn go_on(&mut self) -> bool {
        while !self.stopped() {
            let cmd = if self.paused {
                self.control.recv().unwrap_or(Command::Stop)
            } else {
                match self.control.try_recv() {
                    Ok(c) => c,
                    Err(TryRecvError::Empty) => return true,
                    Err(TryRecvError::Disconnected) => Command::Stop,
                }
            };
            self.apply(cmd);
        }
        false
    }

    /// The oldest parameter change not yet taken.
    pub fn next_set(&mut self) -> Option<P> {
        self.sets.pop_front()
    }

    /// For a body that serves requests: the next parameter change, waiting
    /// for one (and while paused); None once stopped.
    pub fn wait(&mut self) -> Option<P> {
        loop {
            if self.stopped() {
                return None;
            }
            if !self.paused
                && let Some(p) = self.sets.pop_front()
            {
                return Some(p);
            }
            let cmd = self.control.recv().unwrap_or(Command::Stop);
            self.apply(cmd);
        }
    }

    fn apply(&mut self, cmd: Command<P>) {
        match cmd {
            Command::Pause => self.paused = true,
            Command::Resume => self.paused = false,
            Command::Stop => self.stop_seen = true,
            Command::Set(p) => self.sets.push_back(p),
        }
    }
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>().map(|s| s.to_string()).or_else(|| p.downcast_ref::<String>().cloned()).unwrap_or_else(|| "panicked".into())
}

/// A one-shot computation's single event: its result, or why none came.
#[derive(Debug)]
pub enum Outcome<T> {
    Done(T),
    Lost(String),
}

impl<T: Send + 'static> JobEvent for Outcome<T> {
    fn ended(end: Ended) -> Option<Self> {
        end.error.map(Outcome::Lost)
    }
}

/// A one-shot computation (loading a dataset, a cross-validation) whose
/// result the caller polls; dropping it lets the thread finish unheard.
pub struct Task<T>(Job<Outcome<T>>);

impl<T: Send + 'static> Task<T> {
    /// Run `work` on a thread called `name`; it may ask `ctx.stopped()` to
    /// end early. A thread that cannot start is the task's result (an Err).
    pub fn spawn(name: &str, work: impl FnOnce(&Ctx<Outcome<T>, ()>) -> T + Send + 'static) -> Self {
        let job = Job::start(name, move |ctx: &mut Ctx<Outcome<T>, ()>| {
            let v = work(ctx);
            ctx.send(Outcome::Done(v));
        });
        Task(job.unwrap_or_else(|e| {
            let (tx, events) = channel();
            let _ = tx.send(Outcome::Lost(e));
            Job { events, control: channel().0, stop: Arc::default(), thread: None }
        }))
    }

    /// The result once it is there; `Err` with the reason if the thread
    /// ended without one.
    pub fn poll(&self) -> Option<Result<T, String>> {
        match self.0.events().try_recv() {
            Ok(Outcome::Done(v)) => Some(Ok(v)),
            Ok(Outcome::Lost(e)) => Some(Err(e)),
            Err(TryRecvError::Empty) => None,
            Err(TryRecvError::Disconnected) => Some(Err("the job ended without a result".into())),
        }
    }

    /// Ask the work to end early (if it checks); returns at once.
    pub fn cancel(&self) {
        self.0.stop()
    }

    /// Wait for the result (command line and tests only).
    pub fn wait(self) -> Result<T, String> {
        match self.0.events().recv() {
            Ok(Outcome::Done(v)) => Ok(v),
            Ok(Outcome::Lost(e)) => Err(e),
            Err(_) => Err("the job ended without a result".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[derive(Debug, PartialEq)]
    enum Ev {
        Step(usize),
        Lr(f32),
        End(Ended),
    }

    impl JobEvent for Ev {
        fn ended(end: Ended) -> Option<Self> {
            Some(Ev::End(end))
        }
    }

    /// Steps until stopped, applying learning-rate changes between steps.
    fn stepper(steps: usize, sleep_ms: u64) -> Job<Ev, f32, usize> {
        Job::start("test-job", move |ctx: &mut Ctx<Ev, f32>| {
            let mut done = 0;
            while done < steps && ctx.go_on() {
                while let Some(lr) = ctx.next_set() {
                    ctx.send(Ev::Lr(lr));
                }
                std::thread::sleep(Duration::from_millis(sleep_ms));
                done += 1;
                ctx.send(Ev::Step(done));
            }
            done
        })
        .unwrap()
    }

    #[test]
    fn runs_to_the_end_and_says_so() {
        let job = stepper(3, 0);
        let events: Vec<Ev> = job.events().iter().take(4).collect();
        assert_eq!(events, vec![Ev::Step(1), Ev::Step(2), Ev::Step(3), Ev::End(Ended { stopped: false, error: None })]);
        assert_eq!(job.join(), Ok(3));
    }

    #[test]
    fn parameter_changes_arrive_between_steps_in_order() {
        let job = stepper(1000, 1);
        assert_eq!(job.events().recv().unwrap(), Ev::Step(1));
        job.set(0.5);
        job.set(0.25);
        let lrs: Vec<Ev> = job.events().iter().filter(|e| matches!(e, Ev::Lr(_))).take(2).collect();
        assert_eq!(lrs, vec![Ev::Lr(0.5), Ev::Lr(0.25)]);
        job.stop();
        assert!(job.join().unwrap() < 1000);
    }

    /// Stopping and dropping return at once, even with a long step under
    /// way; the body still ends on its own.
    #[test]
    fn stop_and_drop_never_wait_for_the_step() {
        let job = stepper(10, 2000);
        assert_eq!(job.events().recv_timeout(Duration::from_secs(30)), Ok(Ev::Step(1)));
        let t = Instant::now();
        job.stop();
        drop(job);
        assert!(t.elapsed() < Duration::from_millis(500), "{:?}", t.elapsed());
    }

    #[test]
    fn pause_blocks_between_steps_until_resumed() {
        let job = stepper(1000, 1);
        job.pause();
        // Steps sent before the pause was seen, then none.
        std::thread::sleep(Duration::from_millis(100));
        let before = job.events().try_iter().count();
        std::thread::sleep(Duration::from_millis(100));
        assert_eq!(job.events().try_iter().count(), 0, "stepped while paused (after {before})");
        job.resume();
        assert!(matches!(job.events().recv_timeout(Duration::from_secs(30)), Ok(Ev::Step(_))));
        job.stop();
        let end = job.events().iter().find(|e| matches!(e, Ev::End(_)));
        assert_eq!(end, Some(Ev::End(Ended { stopped: true, error: None })));
    }

    #[test]
    fn failures_and_panics_end_with_their_message() {
        let failing: Job<Ev> = Job::start("test-fail", |ctx: &mut Ctx<Ev, ()>| ctx.fail("loss is NaN")).unwrap();
        assert_eq!(failing.events().recv().unwrap(), Ev::End(Ended { stopped: false, error: Some("loss is NaN".into()) }));
        let panicking: Job<Ev, (), u8> = Job::start("test-panic", |_: &mut Ctx<Ev, ()>| panic!("index out of range")).unwrap();
        assert_eq!(panicking.events().recv().unwrap(), Ev::End(Ended { stopped: false, error: Some("the test-panic thread failed: index out of range".into()) }));
        assert_eq!(panicking.join(), Err(Lost("the test-panic thread failed: index out of range".into())));
    }

    #[test]
    fn a_server_waits_for_requests_and_ends_on_stop() {
        let job: Job<Ev, f32> = Job::start("test-server", |ctx: &mut Ctx<Ev, f32>| {
            while let Some(x) = ctx.wait() {
                ctx.send(Ev::Lr(x * 2.0));
            }
        })
        .unwrap();
        job.set(1.5);
        assert_eq!(job.events().recv().unwrap(), Ev::Lr(3.0));
        job.stop();
        assert_eq!(job.events().recv().unwrap(), Ev::End(Ended { stopped: true, error: None }));
    }

    #[test]
    fn a_task_gives_its_result_or_why_not() {
        let t = Task::spawn("test-task", |_| 6 * 7);
        assert_eq!(t.wait(), Ok(42));
        let p: Task<u8> = Task::spawn("test-task", |_| panic!("bad file"));
        let started = Instant::now();
        let r = loop {
            if let Some(r) = p.poll() {
                break r;
            }
            assert!(started.elapsed() < Duration::from_secs(30));
            std::thread::sleep(Duration::from_millis(1));
        };
        assert_eq!(r, Err("the test-task thread failed: bad file".into()));
    }
}
