//! `vislab train --model gan`: the GAN lab's DCGAN on one-channel square
//! images (MNIST-format folders or the built-in digits), headless. Every
//! `--log-every` rounds a row goes to `metrics.csv` (mean D and G losses
//! over those rounds, and the Frechet distance on 28x28 images) and a row of
//! fixed-noise samples to `timeline.png`; at the end `samples.png` (an 8x8
//! grid of the same noise) and `model.safetensors` (the lab loads it).

use std::path::{Path, PathBuf};

use vislab_engine::csv_file::CsvLog;
use vislab_engine::gan::{self, ConvShape, GanConfig, GanError, GanLoss, GanShape, GanTrainer, Net, RealDist, frechet};
use vislab_engine::rng::SeededRng;

use super::data_spec::DataSpec;
use super::progress::ProgressBar;
use super::train_args::TrainArgs;

pub const HEADER: [&str; 5] = ["round", "d_loss", "g_loss", "fd", "seconds"];
/// Samples per timeline row, and the final grid's side.
const TIMELINE: usize = 8;
const GRID: usize = 8;
/// Noise seed of the FD's samples (the lab's).
const FD_SEED: u64 = 11;
/// The shown noise's stream (distinct from the trainer's).
const STREAM_SHOWN: u64 = 9 << 40;

struct Args {
    data: DataSpec,
    config: GanConfig,
    rounds: usize,
    limit: usize,
    log_every: usize,
    fd: bool,
    classifier: Option<PathBuf>,
    out: PathBuf,
}

/// The GAN's settings from the command line.
fn parse(a: &TrainArgs) -> Result<Args, String> {
    let loss = if a.loss == "ls" { GanLoss::LeastSquares } else { GanLoss::NonSaturating };
    // The side is the data's: checked against it once loaded.
    let shape = GanShape::dcgan(ConvShape { side: 28, g_channels: a.g_channels, d_channels: a.d_channels }, a.noise);
    let config = GanConfig { loss, smoothing: a.smoothing, lr_d: a.lr_d, lr_g: a.lr_g, batch: a.batch.unwrap_or(128), ..GanConfig::new(shape, a.seed.unwrap_or(0)) };
    config.check().map_err(|e| e.to_string())?;
    let (rounds, limit, log_every, fd, classifier) = (a.rounds, a.limit.unwrap_or(10_000), a.log_every, !a.no_fd, a.fd_classifier.clone());
    Ok(Args { data: a.data()?, config, rounds, limit, log_every, fd, classifier, out: a.out() })
}

pub fn train(args: &TrainArgs) -> Result<(), String> {
    parse(args).and_then(run)
}

/// Grey images in [-1, 1] (`side x side` each) as a PNG of `cols` columns
/// with a 1-pixel gap.
fn write_grid(path: &Path, images: &[f32], side: usize, cols: usize) -> Result<(), String> {
    let n = images.len() / (side * side);
    let rows = n.div_ceil(cols);
    let (w, h) = (cols * (side + 1) + 1, rows * (side + 1) + 1);
    let mut img = image::GrayImage::from_pixel(w as u32, h as u32, image::Luma([128]));
    for (k, pic) in images.chunks(side * side).enumerate() {
        let (x0, y0) = ((k % cols) * (side + 1) + 1, (k / cols) * (side + 1) + 1);
        for (i, v) in pic.iter().enumerate() {
            let byte = (((v + 1.0) / 2.0).clamp(0.0, 1.0) * 255.0).round() as u8;
            img.put_pixel((x0 + i % side) as u32, (y0 + i / side) as u32, image::Luma([byte]));
        }
    }
    img.save(path).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// metrics.csv and timeline.png, a row at a time (both rewritten as they
/// grow, so an interrupted run keeps what it logged).
struct Log {
    csv: CsvLog,
    timeline: Vec<f32>,
    timeline_path: PathBuf,
    side: usize,
    noise: usize,
}

impl Log {
    fn create(out: &Path, side: usize, noise: usize) -> Result<Log, String> {
        let csv = CsvLog::create(&out.join("metrics.csv"), &HEADER)?;
        Ok(Log { csv, timeline: Vec::new(), timeline_path: out.join("timeline.png"), side, noise })
    }

    /// A metrics row (losses are means over the rounds since the last row)
    /// and G's first `TIMELINE` shown samples.
    fn row(&mut self, t: &mut GanTrainer, shown: &[f32], round: usize, losses: Option<(f64, f64)>, fd: Option<f64>, secs: f64) -> Result<(), String> {
        let (d, g) = losses.map_or((String::new(), String::new()), |(d, g)| (format!("{d:.5}"), format!("{g:.5}")));
        let fd = fd.map_or(String::new(), |f| format!("{f:.4}"));
        self.csv.row([round.to_string(), d, g, fd, format!("{secs:.3}")])?;
        let row = t.generate(&shown[..TIMELINE * self.noise]).map_err(|e| e.to_string())?;
        self.timeline.extend(row);
        write_grid(&self.timeline_path, &self.timeline, self.side, TIMELINE)
    }
}

fn run(mut a: Args) -> Result<(), String> {
    let (train, test) = a.data.load()?;
    let train = train.take(a.limit);
    let pixels = train.sample_len();
    let side = (pixels as f64).sqrt().round() as usize;
    if side * side != pixels || !side.is_multiple_of(4) {
        return Err(format!("the DCGAN takes square one-channel images whose side is a multiple of 4; these have shape {:?}", train.sample_shape()));
    }
    if let Some(c) = &mut a.config.shape.conv {
        c.side = side;
    }
    a.config.shape.data = pixels;
    std::fs::create_dir_all(&a.out).map_err(|e| format!("cannot create {}: {e}", a.out.display()))?;
    let mut reference = if a.fd && side == 28 {
        eprintln!("Frechet distance features: {}", frechet::FEATURES);
        let r = frechet::reference(a.classifier.as_deref(), &train, &test).map_err(|e| e.to_string())?;
        eprintln!("classifier: {}; real vs held-out FD {:.2} ({} images each)", r.net.source, r.real_vs_real, r.count);
        std::fs::write(a.out.join("fd_real.txt"), format!("{:.4}\n", r.real_vs_real)).map_err(|e| format!("cannot write fd_real.txt: {e}"))?;
        Some(r)
    } else {
        None
    };
    let c = &a.config;
    let k = c.shape.conv.expect("a DCGAN shape");
    eprintln!(
        "training a DCGAN {side}x{side} (G {} / D {} channels, noise {}) on {} ({} images) for {} rounds: {} loss, adam lr D {} G {}, batch {}, smoothing {}",
        k.g_channels,
        k.d_channels,
        c.shape.noise,
        a.data.kind,
        train.len(),
        a.rounds,
        c.loss.name(),
        c.lr_d,
        c.lr_g,
        c.batch,
        c.smoothing
    );
    let mut t = GanTrainer::new(a.config.clone(), RealDist::images(train.x(), pixels)).map_err(|e| e.to_string())?;
    let mut rng = SeededRng::stream(a.config.seed, STREAM_SHOWN);
    let shown: Vec<f32> = (0..GRID * GRID * a.config.shape.noise).map(|_| rng.normal() as f32).collect();
    let mut log = Log::create(&a.out, side, a.config.shape.noise)?;
    let mut fd = |t: &mut GanTrainer| reference.as_mut().map(|r| r.distance_of(t, FD_SEED).map_err(|e| e.to_string())).transpose();
    // Round 0: the untrained G.
    let fd0 = fd(&mut t)?;
    log.row(&mut t, &shown, 0, None, fd0, 0.0)?;
    let blocks = a.rounds.div_ceil(a.log_every);
    let mut bar = ProgressBar::new(blocks, a.log_every, a.config.batch);
    let start = std::time::Instant::now();
    let (mut d_sum, mut g_sum, mut d_n, mut g_n) = (0.0f64, 0.0f64, 0usize, 0usize);
    let mut failure = None;
    for round in 1..=a.rounds {
        let block = (round - 1) / a.log_every + 1;
        let in_block = (round - 1) % a.log_every + 1;
        let r = t.round(&mut |s| match s.net {
            Net::D => (d_sum, d_n) = (d_sum + s.loss as f64, d_n + 1),
            Net::G => (g_sum, g_n) = (g_sum + s.loss as f64, g_n + 1),
        });
        if let Err(e) = r {
            failure = Some(e);
            break;
        }
        bar.step(block, in_block, (g_sum / g_n.max(1) as f64) as f32);
        if in_block != a.log_every && round != a.rounds {
            continue;
        }
        let f = fd(&mut t)?;
        let (d, g) = (d_sum / d_n.max(1) as f64, g_sum / g_n.max(1) as f64);
        (d_sum, g_sum, d_n, g_n) = (0.0, 0.0, 0, 0);
        let secs = start.elapsed().as_secs_f64();
        let fd_text = f.map_or(String::new(), |f| format!(", FD {f:.2}"));
        bar.epoch_done(&format!("round {round}/{}: D loss {d:.4}, G loss {g:.4}{fd_text}, {secs:.1} s", a.rounds));
        log.row(&mut t, &shown, round, Some((d, g)), f, secs)?;
    }
    bar.clear();
    // Divergence stops before the update: what is saved are the last good weights.
    let samples = t.generate(&shown).map_err(|e| e.to_string())?;
    write_grid(&a.out.join("samples.png"), &samples, side, GRID)?;
    let path = a.out.join("model.safetensors");
    gan::save(&path, &t).map_err(|e: GanError| e.to_string())?;
    eprintln!("wrote metrics.csv, samples.png, timeline.png and model.safetensors in {}", a.out.display());
    match failure {
        Some(e) => Err(format!("{e} (the last good weights are in {})", path.display())),
        None => Ok(()),
    }
}
