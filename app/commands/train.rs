//! `vislab train` and `vislab eval`: headless training of the named
//! architectures on any dataset the engine's [`Source`] opens (MNIST,
//! Fashion-MNIST, CIFAR-10/100, image folders, the built-in digits), with a
//! progress bar on stderr,
//! `metrics.csv` and a safetensors checkpoint that `eval` rebuilds the
//! model from.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use vislab_engine::data::image_folder::FolderOptions;
use vislab_engine::data::augment::Augment;
use vislab_engine::data::{DataError, Dataset, Source};
use vislab_engine::models::{Arch, META_ARCH};
use vislab_engine::optim::{AdaGrad, Adam, AdamW, Decay, Momentum, Nesterov, Optimizer, RmsProp, Schedule, Sgd};
use vislab_engine::train::checkpoint;
use vislab_engine::train::{Event, Job, Model, StopReason, TrainConfig, evaluate};

pub const TRAIN_USAGE: &str = "\
usage: vislab train --data SPEC [options]
  --data SPEC            mnist:DIR, fashion-mnist:DIR, cifar10:DIR|FILE, cifar100:DIR|FILE,
                         cifar100-coarse:DIR|FILE, folder:DIR (one sub-folder of images per
                         class) or digits; sources without a test split hold out a
                         stratified 10% (split seed 0) as the test set
  --image-size N         side images of a folder are resized to (default 32)
  --grayscale            read a folder's images as one grey channel
  --model mlp|cnn|vae|pixelcnn|detector|gan  architecture (default mlp; vislab train --model
                         vae --help, pixelcnn --help, detector --help or gan --help for those)
  --epochs N             (default: 8 for mlp, 3 for cnn)
  --batch B              mini-batch size (default 64)
  --optimizer NAME       sgd|momentum|nesterov|adagrad|rmsprop|adam|adamw (default adam)
  --lr X                 base learning rate (default: 0.001 for adam, adamw, rmsprop; 0.01 for
                         adagrad, momentum, nesterov; 0.1 for sgd)
  --schedule S           constant|cosine learning-rate decay over the run (default cosine)
  --seed S               weight init and shuffling seed (default 0)
  --limit N              train on the first N training images only
  --augment SPEC         random augmentation of every training batch, e.g.
                         crop=0.8,flip,shift=2,rotate=15,cutout=4 (default none)
  --out DIR              where metrics.csv and model.safetensors go (default runs/<model>)
  --threads N            CPU threads for every --model (default: VISLAB_THREADS, else every core)
";

pub const EVAL_USAGE: &str = "\
usage: vislab eval --checkpoint FILE --data SPEC [--image-size N] [--grayscale]
  prints the test-split accuracy and loss of a checkpoint written by vislab train
";

/// Test-split batch size of both commands: `eval` reproduces the last
/// `metrics.csv` row exactly only with the same batches.
const EVAL_BATCH: usize = 1000;

/// Checkpoint metadata key naming the dataset the model was trained on.
const META_DATA: &str = "vislab.data";

/// Held-out share and split seed for sources without their own test split
/// (fixed, so `eval` carves out the same test images as `train`).
const TEST_FRACTION: f32 = 0.1;
const SPLIT_SEED: u64 = 0;

/// A `--data` spec, checked to exist.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct DataSpec {
    pub(super) kind: &'static str,
    source: Source,
}

impl DataSpec {
    pub(super) fn parse(s: &str, folder: FolderOptions) -> Result<DataSpec, String> {
        let source = Source::parse(s, folder).map_err(|e| match e {
            DataError::Invalid(m) => m,
            e => e.to_string(),
        })?;
        let path = match &source {
            Source::Digits => None,
            Source::Mnist(p) | Source::FashionMnist(p) | Source::Folder(p, _) | Source::Cifar(p, _) => Some(p),
        };
        if let Some(p) = path.filter(|p| !p.exists()) {
            return Err(format!("data directory {} does not exist", p.display()));
        }
        Ok(DataSpec { kind: source.kind(), source })
    }

    /// (train, test) sets.
    pub(super) fn load(&self) -> Result<(Dataset, Dataset), String> {
        let gz = matches!(self.source, Source::Mnist(_) | Source::FashionMnist(_));
        let msg = |e: DataError| match e {
            DataError::Missing { what, looked } if gz => format!("{what} (or {what}.gz) not found in {looked}"),
            DataError::Missing { what, looked } => format!("{what} not found in {looked}"),
            e => e.to_string(),
        };
        self.source.load().map_err(msg)?.train_test(TEST_FRACTION, SPLIT_SEED).map_err(msg)
    }
}

/// Folder options from `--image-size` and `--grayscale`.
pub(super) fn folder_options(f: &BTreeMap<String, String>) -> Result<FolderOptions, String> {
    let size = number(f, "--image-size", 32usize)?;
    if !(1..=1024).contains(&size) {
        return Err(format!("--image-size {size} must be in 1..=1024"));
    }
    Ok(FolderOptions { size, grayscale: f.contains_key("--grayscale") })
}

/// `[channels, height, width]` of a dataset's samples (`[H, W]` is one channel).
fn image_shape(d: &Dataset) -> Result<[usize; 3], String> {
    match *d.sample_shape() {
        [c, h, w] => Ok([c, h, w]),
        [h, w] => Ok([1, h, w]),
        ref s => Err(format!("samples of shape {s:?} are not images")),
    }
}

#[derive(Debug)]
struct TrainArgs {
    arch: Arch,
    data: DataSpec,
    epochs: usize,
    batch: usize,
    optimizer: String,
    lr: f32,
    cosine: bool,
    seed: u64,
    limit: Option<usize>,
    augment: Augment,
    out: PathBuf,
}

/// Flags that take no value.
const SWITCHES: [&str; 1] = ["--grayscale"];

/// Pairs of `--flag value` (switches map to ""), checked against `known`.
pub(super) fn flags(args: &[String], known: &[&str]) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if !known.contains(&a.as_str()) {
            return Err(format!("unknown argument '{a}'"));
        }
        if SWITCHES.contains(&a.as_str()) {
            out.insert(a.clone(), String::new());
            continue;
        }
        let v = it.next().ok_or_else(|| format!("{a} needs a value"))?;
        out.insert(a.clone(), v.clone());
    }
    Ok(out)
}

pub(super) fn number<T: std::str::FromStr>(f: &BTreeMap<String, String>, flag: &str, default: T) -> Result<T, String> {
    match f.get(flag) {
        None => Ok(default),
        Some(v) => v.parse().map_err(|_| format!("{flag} '{v}' is not a valid number")),
    }
}

fn default_lr(optimizer: &str) -> f32 {
    match optimizer {
        "sgd" => 0.1,
        "momentum" | "nesterov" | "adagrad" => 0.01,
        _ => 1e-3,
    }
}

fn make_optimizer(name: &str, lr: f32) -> Result<Box<dyn Optimizer>, String> {
    Ok(match name {
        "sgd" => Box::new(Sgd::new(lr)),
        "momentum" => Box::new(Momentum::new(lr, 0.9)),
        "nesterov" => Box::new(Nesterov::new(lr, 0.9)),
        "adagrad" => Box::new(AdaGrad::new(lr)),
        "rmsprop" => Box::new(RmsProp::new(lr, 0.99)),
        "adam" => Box::new(Adam::new(lr)),
        "adamw" => Box::new(AdamW::new(lr, 0.01)),
        other => return Err(format!("unknown optimizer '{other}' (expected sgd, momentum, nesterov, adagrad, rmsprop, adam or adamw)")),
    })
}

fn parse_train(args: &[String]) -> Result<TrainArgs, String> {
    let known = ["--model", "--data", "--epochs", "--batch", "--optimizer", "--lr", "--schedule", "--seed", "--limit", "--augment", "--out", "--image-size", "--grayscale"];
    let f = flags(args, &known)?;
    let arch = Arch::parse(f.get("--model").map_or("mlp", |s| s.as_str())).map_err(|e| e.to_string())?;
    let optimizer = f.get("--optimizer").cloned().unwrap_or_else(|| "adam".into());
    make_optimizer(&optimizer, 1.0)?;
    let data = DataSpec::parse(f.get("--data").ok_or("--data is required (for example mnist:DIR or cifar10:DIR)")?, folder_options(&f)?)?;
    let epochs = number(&f, "--epochs", if arch == Arch::Cnn { 3 } else { 8 })?;
    let batch = number(&f, "--batch", 64)?;
    let lr = number(&f, "--lr", default_lr(&optimizer))?;
    if epochs == 0 || batch == 0 {
        return Err("--epochs and --batch must be at least 1".into());
    }
    if !(lr.is_finite() && lr > 0.0) {
        return Err(format!("--lr {lr} must be a positive number"));
    }
    let cosine = match f.get("--schedule").map_or("cosine", |s| s.as_str()) {
        "cosine" => true,
        "constant" => false,
        other => return Err(format!("unknown schedule '{other}' (expected constant or cosine)")),
    };
    let limit = f.get("--limit").map(|_| number(&f, "--limit", 0usize)).transpose()?;
    if limit == Some(0) {
        return Err("--limit must be at least 1".into());
    }
    let augment = f.get("--augment").map_or(Ok(Augment::default()), |s| s.parse()).map_err(|e| format!("--augment: {e}"))?;
    let out = f.get("--out").map_or_else(|| PathBuf::from("runs").join(arch.name()), PathBuf::from);
    Ok(TrainArgs { arch, data, epochs, batch, optimizer, lr, cosine, seed: number(&f, "--seed", 0)?, limit, augment, out })
}

pub(super) fn wants_help(args: &[String]) -> bool {
    args.iter().any(|a| a == "-h" || a == "--help")
}

/// A subcommand with its own usage text: `--help` prints it, an error is
/// one `error: ...` line.
pub(super) fn subcommand(args: &[String], usage: &str, go: impl FnOnce(&[String]) -> Result<(), String>) -> ExitCode {
    if wants_help(args) {
        eprint!("{usage}");
        return ExitCode::SUCCESS;
    }
    match go(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(e),
    }
}

/// Print `error: ...` and fail.
pub(super) fn fail(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {msg}");
    ExitCode::FAILURE
}

pub fn train(args: &[String]) -> ExitCode {
    // The VAE and the PixelCNN have their own options (and help), loops and metrics.
    if args.windows(2).any(|w| w[0] == "--model" && w[1] == "vae") {
        return super::train_vae::train(args);
    }
    if args.windows(2).any(|w| w[0] == "--model" && w[1] == "pixelcnn") {
        return super::train_pixelcnn::train(args);
    }
    if args.windows(2).any(|w| w[0] == "--model" && w[1] == "detector") {
        return super::train_detector::train(args);
    }
    if args.windows(2).any(|w| w[0] == "--model" && w[1] == "gan") {
        return super::train_gan::train(args);
    }
    if wants_help(args) {
        eprint!("{TRAIN_USAGE}");
        return ExitCode::SUCCESS;
    }
    match parse_train(args).and_then(|a| run_train(&a)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(e),
    }
}

fn run_train(a: &TrainArgs) -> Result<(), String> {
    let (mut train, test) = a.data.load()?;
    if let Some(n) = a.limit {
        train = train.take(n);
    }
    std::fs::create_dir_all(&a.out).map_err(|e| format!("cannot create {}: {e}", a.out.display()))?;
    let model = a.arch.build_for(image_shape(&train)?, train.num_classes(), a.seed).map_err(|e| e.to_string())?;
    let optimizer = make_optimizer(&a.optimizer, a.lr)?;
    let decay = if a.cosine { Decay::Cosine } else { Decay::Constant };
    let mut cfg = TrainConfig::new(a.epochs, a.batch, Schedule::new(a.lr, decay));
    cfg.seed = a.seed;
    cfg.eval_batch_size = EVAL_BATCH;
    cfg.metrics_csv = Some(a.out.join("metrics.csv"));
    cfg.augment = (!a.augment.is_identity()).then_some(a.augment);
    let steps_per_epoch = train.num_batches(a.batch, false);
    eprintln!(
        "training {} on {} ({} images, test {}) for {} epochs: {} lr {} ({}), batch {}, augmentation {}",
        a.arch.name(),
        a.data.kind,
        train.len(),
        test.len(),
        a.epochs,
        a.optimizer,
        a.lr,
        if a.cosine { "cosine" } else { "constant" },
        a.batch,
        a.augment
    );
    let job = Job::new(Box::new(model), optimizer, Arc::new(train), cfg).validate_on(Arc::new(test));
    let mut bar = ProgressBar::new(a.epochs, steps_per_epoch, a.batch);
    let handle = job.spawn().map_err(|e| e.to_string())?;
    for event in handle.events().iter() {
        match event {
            Event::Step { step, epoch, loss, .. } => bar.step(epoch, step - (epoch - 1) * steps_per_epoch, loss),
            Event::Epoch(m) => bar.epoch_done(&format!(
                "epoch {}/{}: train loss {:.4} acc {:.4}, test loss {:.4} acc {:.4}, {:.1} s",
                m.epoch,
                a.epochs,
                m.train_loss,
                m.train_acc,
                m.val_loss.unwrap_or(f32::NAN),
                m.val_acc.unwrap_or(f32::NAN),
                m.seconds
            )),
            Event::Stopped { .. } | Event::Failed { .. } | Event::Samples { .. } => {}
        }
    }
    bar.clear();
    let fin = handle.join().map_err(|e| e.to_string())?;
    match &fin.reason {
        StopReason::Diverged { message, .. } => return Err(format!("training diverged: {message}; try a smaller --lr")),
        StopReason::Failed(m) => return Err(format!("training failed: {m}")),
        _ => {}
    }
    let meta = BTreeMap::from([
        (META_ARCH.to_string(), a.arch.name().to_string()),
        (META_DATA.to_string(), a.data.kind.to_string()),
        ("epoch".to_string(), fin.progress.epoch.to_string()),
        ("step".to_string(), fin.progress.step.to_string()),
    ]);
    let path = a.out.join("model.safetensors");
    checkpoint::save(&path, fin.model.params(), Some(fin.optimizer.as_ref()), &meta).map_err(|e| e.to_string())?;
    eprintln!("time {} ({} threads)", fin.timings, vislab_engine::cpu::threads::current());
    if let Some(m) = fin.history.last() {
        println!("test_acc {} test_loss {}", m.val_acc.unwrap_or(f32::NAN), m.val_loss.unwrap_or(f32::NAN));
    }
    eprintln!("wrote {} and {}", a.out.join("metrics.csv").display(), path.display());
    Ok(())
}

/// A one-line bar redrawn in place on a terminal:
/// `epoch 2/5 [=====>    ] 61% loss 0.123 412 img/s`. Without a terminal
/// only the per-epoch summaries are printed.
pub(super) struct ProgressBar {
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
    pub(super) fn new(epochs: usize, steps: usize, batch: usize) -> Self {
        let live = std::io::stderr().is_terminal();
        ProgressBar { epochs, steps, batch, live, epoch_start: Instant::now(), last_draw: None, loss_sum: 0.0, seen: 0 }
    }

    pub(super) fn step(&mut self, epoch: usize, step_in_epoch: usize, loss: f32) {
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
        let line = format!(
            "epoch {epoch}/{} [{}] {:3.0}% loss {:.4} {rate:.0} img/s",
            self.epochs,
            bar(frac, 30),
            frac * 100.0,
            self.loss_sum / self.seen.max(1) as f64
        );
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r{line}\x1b[K");
        let _ = err.flush();
    }

    /// Also starts the clock of the next epoch (validation is done).
    pub(super) fn epoch_done(&mut self, summary: &str) {
        self.epoch_start = Instant::now();
        self.clear();
        eprintln!("{summary}");
    }

    pub(super) fn clear(&mut self) {
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

pub fn eval(args: &[String]) -> ExitCode {
    if wants_help(args) {
        eprint!("{EVAL_USAGE}");
        return ExitCode::SUCCESS;
    }
    match run_eval(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(e),
    }
}

fn run_eval(args: &[String]) -> Result<(), String> {
    let f = flags(args, &["--checkpoint", "--data", "--image-size", "--grayscale"])?;
    let path = Path::new(f.get("--checkpoint").ok_or("--checkpoint is required")?);
    let data = DataSpec::parse(f.get("--data").ok_or("--data is required (for example mnist:DIR or cifar10:DIR)")?, folder_options(&f)?)?;
    let ck = checkpoint::load(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let arch = ck.meta.get(META_ARCH).ok_or_else(|| format!("{}: no {META_ARCH} metadata; not written by vislab train", path.display()))?;
    let (_, test) = data.load()?;
    let image = image_shape(&test)?;
    let mut model = Arch::parse(arch).and_then(|a| a.build_for(image, test.num_classes(), 0)).map_err(|e| e.to_string())?;
    ck.apply(model.params_mut()).map_err(|e| format!("{}: {e}", path.display()))?;
    let s = evaluate(&mut model, &test, EVAL_BATCH).map_err(|e| format!("evaluation failed: {e}"))?;
    let acc = s.correct as f32 / s.count.max(1) as f32;
    println!("test_acc {acc} test_loss {} ({}/{} correct, {arch} on {})", s.loss, s.correct, s.count, data.kind);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bar_fills_proportionally() {
        assert_eq!(bar(0.0, 4), "    ");
        assert_eq!(bar(0.5, 4), "=>  ");
        assert_eq!(bar(1.0, 4), "====");
    }

    #[test]
    fn data_spec_kinds_and_errors() {
        let dir = std::env::temp_dir();
        let o = FolderOptions::default();
        let fashion = DataSpec::parse(&format!("fashion-mnist:{}", dir.display()), o).unwrap();
        assert_eq!((fashion.kind, fashion.source), ("fashion-mnist", Source::FashionMnist(dir.clone())));
        assert_eq!(DataSpec::parse(&format!("cifar100:{}", dir.display()), o).unwrap().kind, "cifar100");
        let folder = DataSpec::parse(&format!("folder:{}", dir.display()), FolderOptions { size: 8, grayscale: true }).unwrap();
        assert_eq!(folder.source, Source::Folder(dir, FolderOptions { size: 8, grayscale: true }));
        assert_eq!(DataSpec::parse("digits", o).unwrap().kind, "digits");
        assert!(DataSpec::parse("mnist", o).unwrap_err().contains("mnist:DIR"));
        assert!(DataSpec::parse("cifar:/tmp", o).unwrap_err().contains("unknown dataset 'cifar'"));
        assert!(DataSpec::parse("mnist:/no/such/dir", o).unwrap_err().contains("does not exist"));
        let args: Vec<String> = ["--data", "digits", "--grayscale", "--image-size", "9"].iter().map(|s| s.to_string()).collect();
        let f = flags(&args, &["--data", "--grayscale", "--image-size"]).unwrap();
        assert_eq!(folder_options(&f).unwrap(), FolderOptions { size: 9, grayscale: true });
    }

    #[test]
    fn augment_flag() {
        let args = |extra: &[&str]| -> Vec<String> { ["--data", "digits"].iter().chain(extra).map(|s| s.to_string()).collect() };
        assert_eq!(parse_train(&args(&[])).unwrap().augment, Augment::default());
        let a = parse_train(&args(&["--augment", "flip,shift=2"])).unwrap().augment;
        assert_eq!(a, Augment { flip: true, max_shift: 2, ..Augment::default() });
        let e = parse_train(&args(&["--augment", "zoom"])).unwrap_err();
        assert!(e.starts_with("--augment: unknown augmentation 'zoom'"), "{e}");
    }
}
