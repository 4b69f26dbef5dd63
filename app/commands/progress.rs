//! The progress bar every `vislab train` draws on stderr.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// A one-line bar redrawn in place on a terminal:
/// `epoch 2/5 [=====>    ] 61% loss 0.123 412 img/s`. Without a terminal
/// only the per-epoch summaries are printed.
pub struct ProgressBar {
    epochs: usize,
    steps: usize,
    batch: usize,
    live: bool,
    epoch_start: Instant,
    last_draw: Option<Instant>,
    loss_sum: f64,
    seen: usize,
}

impl ProgressBar {
    pub fn new(epochs: usize, steps: usize, batch: usize) -> Self {
        let live = std::io::stderr().is_terminal();
        ProgressBar { epochs, steps, batch, live, epoch_start: Instant::now(), last_draw: None, loss_sum: 0.0, seen: 0 }
    }

    pub fn step(&mut self, epoch: usize, step_in_epoch: usize, loss: f32) {
        if step_in_epoch <= 1 {
            (self.loss_sum, self.seen) = (0.0, 0);
        }
        self.loss_sum += loss as f64;
        self.seen += 1;
        let due = self.last_draw.is_none_or(|t| t.elapsed() >= Duration::from_millis(100)) || step_in_epoch == self.steps;
        if !self.live || !due {
            return;
        }
        self.last_draw = Some(Instant::now());
        let frac = step_in_epoch as f64 / self.steps.max(1) as f64;
        let rate = (self.seen * self.batch) as f64 / self.epoch_start.elapsed().as_secs_f64().max(1e-9);
        let line = format!("epoch {epoch}/{} [{}] {:3.0}% loss {:.4} {rate:.0} img/s", self.epochs, bar(frac, 30), frac * 100.0, self.loss_sum / self.seen.max(1) as f64);
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r{line}\x1b[K");
        let _ = err.flush();
    }

    /// Also starts the clock of the next epoch (validation is done).
    pub fn epoch_done(&mut self, summary: &str) {
        self.epoch_start = Instant::now();
        self.clear();
        eprintln!("{summary}");
    }

    pub fn clear(&mut self) {
        if self.live {
            eprint!("\r\x1b[K");
        }
    }
}

/// `=====>    ` filled to `frac` of `width`.
fn bar(frac: f64, width: usize) -> String {
    let filled = ((frac.clamp(0.0, 1.0) * width as f64).round() as usize).min(width);
    let mut s = "=".repeat(filled.saturating_sub(1));
    if filled > 0 {
        s.push(if filled == width { '=' } else { '>' });
    }
    s.push_str(&" ".repeat(width - filled));
    s
}

#[cfg(test)]
mod tests {
    use super::bar;

    #[test]
    fn bar_fills_proportionally() {
        assert_eq!(bar(0.0, 4), "    ");
        assert_eq!(bar(0.5, 4), "=>  ");
        assert_eq!(bar(1.0, 4), "====");
    }
}
