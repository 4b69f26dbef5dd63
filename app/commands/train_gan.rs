//! `vislab train --model gan`: the GAN lab's DCGAN on one-channel square
//! images (MNIST-format folders or the built-in digits), headless. Every
//! `--log-every` rounds a row goes to `metrics.csv` (mean D and G losses
//! over those rounds, and the Frechet distance on 28x28 images) and a row of
//! fixed-noise samples to `timeline.png`; at the end `samples.png` (an 8x8
//! grid of the same noise) and `model.safetensors` (the lab loads it).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use vislab_engine::csv_file::CsvLog;
use vislab_engine::gan::{self, ConvShape, GanConfig, GanError, GanLoss, GanShape, GanTrainer, Net, RealDist, frechet};
use vislab_engine::rng::SeededRng;
use vislab_engine::train::checkpoint::Checkpoint;

use super::data_spec::DataSpec;
use super::progress::ProgressBar;
use super::train_args::{RECIPE, TrainArgs};

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
    /// `vislab.train.*` for the checkpoint.
    recipe: BTreeMap<String, String>,
}

/// The GAN's settings from the command line.
fn parse(a: &TrainArgs) -> Result<Args, String> {
    let loss = if a.loss == "ls" { GanLoss::LeastSquares } else { GanLoss::NonSaturating };
    // The side is the data's: checked against it once loaded.
    let shape = GanShape::dcgan(ConvShape { side: 28, g_channels: a.g_channels, d_channels: a.d_channels }, a.noise);
    let config = GanConfig { loss, smoothing: a.smoothing, lr_d: a.lr_d, lr_g: a.lr_g, batch: a.batch.unwrap_or(128), ..GanConfig::new(shape, a.seed.unwrap_or(0)) };
    config.check().map_err(|e| e.to_string())?;
    let (rounds, limit, log_every, fd, classifier) = (a.rounds, a.limit.unwrap_or(10_000), a.log_every, !a.no_fd, a.fd_classifier.clone());
    let recipe = a.recipe(&[("batch", config.batch.to_string()), ("seed", config.seed.to_string()), ("limit", limit.to_string())]);
    Ok(Args { data: a.data()?, config, rounds, limit, log_every, fd, classifier, out: a.out(), recipe })
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
    gan::save(&path, &t, &a.recipe).map_err(|e: GanError| e.to_string())?;
    eprintln!("wrote metrics.csv, samples.png, timeline.png and model.safetensors in {}", a.out.display());
    match failure {
        Some(e) => Err(format!("{e} (the last good weights are in {})", path.display())),
        None => Ok(()),
    }
}

/// Test images D and the FD see at most, and as many seeded fakes.
const EVAL_IMAGES: usize = frechet::FD_IMAGES;

/// What `vislab eval` reports for a GAN checkpoint (the exported train.py's
/// `score` computes the same from the same checkpoint and data).
#[derive(Clone, Debug, PartialEq)]
struct Score {
    /// Mean of D's probability "real" on the first `images` test images and
    /// on as many fakes from G of the FD's seeded noise (pixels through [0, 1],
    /// as the FD sees them).
    p_real: f64,
    p_fake: f64,
    /// D's loss on those (the run's smoothing) and G's on the fakes, as trained.
    d_loss: f64,
    g_loss: f64,
    /// The Frechet distance of the fakes to the held-out reals and real vs
    /// held-out, as training logs them (28x28 images, FD on).
    fd: Option<(f64, f64)>,
    images: usize,
    config: GanConfig,
}

/// Score the GAN at `path` (`ck` its contents) on `data`: D in chunks of the
/// run's batch (its batch norm normalizes each chunk by its own statistics,
/// as in training), everything random from fixed seeds.
fn score(path: &Path, ck: &Checkpoint, data: &DataSpec) -> Result<Score, String> {
    let get = |k: &str| ck.meta.get(&format!("{RECIPE}{k}")).map(String::as_str).filter(|v| !v.is_empty());
    let num = |k: &str, default: f64| get(k).map_or(Ok(default), |v| v.parse::<f64>().map_err(|_| format!("{RECIPE}{k} = '{v}' in the checkpoint is not a number")));
    let (batch, limit, smoothing) = (num("batch", 128.0)? as usize, num("limit", 10_000.0)? as usize, num("smoothing", 0.0)? as f32);
    let base = GanConfig { batch, smoothing, ..GanConfig::new(GanShape::dcgan(ConvShape::mnist(), 1), 0) };
    let config = gan::config_from_meta(&ck.meta, &base).map_err(|e| e.to_string())?;
    let s = &config.shape;
    if s.conv.is_none() && !s.tanh_out {
        return Err("this GAN models points in the plane (the GAN lab's); vislab eval scores image GANs".into());
    }
    let (train, test) = data.load()?;
    let train = train.take(limit);
    let pixels = test.sample_len();
    if pixels != s.data {
        return Err(format!("the {} data has images of {pixels} pixels; this GAN makes {}", data.kind, s.data));
    }
    let mut t = gan::load(path, &base, RealDist::images(test.x(), pixels)).map_err(|e| e.to_string())?;
    let images = EVAL_IMAGES.min(test.len());
    let signed = |v: &[f32]| v.iter().map(|p| 2.0 * p - 1.0).collect::<Vec<f32>>();
    let reals = signed(&test.x()[..images * pixels]);
    let fakes = signed(&frechet::samples(&mut t, images, FD_SEED).map_err(|e| e.to_string())?);
    let mut d_of = |x: &[f32]| -> Result<Vec<f64>, String> {
        let mut out = Vec::with_capacity(x.len() / pixels);
        for chunk in x.chunks(batch * pixels) {
            out.extend(t.discriminate(chunk).map_err(|e| e.to_string())?.into_iter().map(f64::from));
        }
        Ok(out)
    };
    let (dr, df) = (d_of(&reals)?, d_of(&fakes)?);
    let mean = |v: &mut dyn Iterator<Item = f64>| v.sum::<f64>() / images as f64;
    let loss = config.loss;
    let prob = |d: &[f64]| mean(&mut d.iter().map(|&v| loss.prob(v as f32) as f64));
    // GanLoss::mean per element, in f64: stable BCE with logits, or the squared error.
    let each = |d: &[f64], target: f64| match loss {
        GanLoss::NonSaturating => mean(&mut d.iter().map(|&x| x.max(0.0) - x * target + (-x.abs()).exp().ln_1p())),
        GanLoss::LeastSquares => mean(&mut d.iter().map(|&x| (x - target).powi(2))),
    };
    let half = if loss == GanLoss::LeastSquares { 0.5 } else { 1.0 };
    let d_loss = half * (each(&dr, config.real_target() as f64) + each(&df, 0.0));
    let g_loss = half * each(&df, 1.0);
    let side = (pixels as f64).sqrt().round() as usize;
    let fd = if side == 28 && get("no_fd") != Some("true") {
        let classifier = get("fd_classifier").map(PathBuf::from);
        let mut r = frechet::reference(classifier.as_deref(), &train, &test).map_err(|e| e.to_string())?;
        eprintln!("Frechet distance classifier: {}", r.net.source);
        Some((r.distance_of(&mut t, FD_SEED).map_err(|e| e.to_string())?, r.real_vs_real))
    } else {
        None
    };
    Ok(Score { p_real: prob(&dr), p_fake: prob(&df), d_loss, g_loss, fd, images, config })
}

/// `vislab eval` of a GAN checkpoint: D's view of test reals and seeded
/// fakes, and the Frechet distance where training logs one.
pub fn eval(input: &super::eval::EvalInput) -> Result<(), String> {
    let data = input.data()?;
    let s = score(&input.path, &input.ck, &data).map_err(|e| input.err(e))?;
    let fd = s.fd.map_or(String::new(), |(fd, real)| format!(" fd {fd:.6} fd_real {real:.6}"));
    println!(
        "p_real {:.6} p_fake {:.6} d_loss {:.6} g_loss {:.6}{fd} ({} on {}: {} test images, {} seeded fakes, {} loss)",
        s.p_real,
        s.p_fake,
        s.d_loss,
        s.g_loss,
        input.arch,
        data.kind,
        s.images,
        s.images,
        s.config.loss.name()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::Parser;
    use vislab_engine::data::image_folder::FolderOptions;
    use vislab_engine::models::Activation;
    use vislab_engine::train::checkpoint;

    use super::*;
    use crate::cli::{Cli, Command};

    /// An MNIST-format folder: 28x28 images whose class is the row of a bright bar, over faint noise.
    fn tiny_mnist(dir: &Path, train: usize, test: usize) {
        std::fs::create_dir_all(dir).unwrap();
        let mut rng = SeededRng::new(5);
        let idx = |dims: &[u32], data: &[u8]| {
            let mut v = vec![0, 0, 8, dims.len() as u8];
            dims.iter().for_each(|d| v.extend(d.to_be_bytes()));
            v.extend(data);
            v
        };
        for (prefix, n) in [("train", train), ("t10k", test)] {
            let labels: Vec<u8> = (0..n).map(|i| (i % 10) as u8).collect();
            let mut pixels = Vec::with_capacity(n * 784);
            for &c in &labels {
                for i in 0..784 {
                    let bar = i / 28 / 2 == c as usize + 4 && (4..24).contains(&(i % 28));
                    pixels.push(if bar { 255 } else { rng.below(60) as u8 });
                }
            }
            std::fs::write(dir.join(format!("{prefix}-images-idx3-ubyte")), idx(&[n as u32, 28, 28], &pixels)).unwrap();
            std::fs::write(dir.join(format!("{prefix}-labels-idx1-ubyte")), idx(&[n as u32], &labels)).unwrap();
        }
    }

    #[test]
    fn eval_gives_the_frechet_distance_the_run_logged_last() {
        let dir = std::env::temp_dir().join(format!("vislab-gan-eval-{}", std::process::id()));
        let (data, out) = (dir.join("mnist"), dir.join("run"));
        tiny_mnist(&data, 150, 60);
        let line = format!(
            "vislab train --model gan --data mnist:{} --rounds 4 --batch 16 --noise 8 --g-channels 8 --d-channels 4 --log-every 2 --smoothing 0.1 --seed 2 --out {}",
            data.display(),
            out.display()
        );
        let Some(Command::Train(args)) = Cli::try_parse_from(line.split_whitespace()).unwrap().command else { panic!("not a train command") };
        train(&args).unwrap();
        let csv = std::fs::read_to_string(out.join("metrics.csv")).unwrap();
        let last: Vec<&str> = csv.lines().last().unwrap().split(',').collect();
        let fd_real = std::fs::read_to_string(out.join("fd_real.txt")).unwrap();
        let path = out.join("model.safetensors");
        let mut ck = checkpoint::load(&path).unwrap();
        let spec = DataSpec::parse(&format!("mnist:{}", data.display()), FolderOptions::default()).unwrap();
        let s = score(&path, &ck, &spec).unwrap();
        // The same classifier (trained here from the same images), reference and noise as the run's last row.
        let (fd, real) = s.fd.unwrap();
        assert_eq!([last[0], &format!("{fd:.4}"), &format!("{real:.4}")], ["4", last[3], fd_real.trim()]);
        assert_eq!((s.images, s.config.batch, s.config.smoothing, s.config.shape.noise), (60, 16, 0.1, 8));
        assert!([s.p_real, s.p_fake].iter().all(|p| *p > 0.0 && *p < 1.0), "{s:?}");
        // Jensen: the mean of -ln D(fake) is at least -ln of the mean D(fake).
        assert!(s.g_loss >= -s.p_fake.ln() && s.d_loss > 0.0, "{s:?}");
        assert_eq!(score(&path, &ck, &spec).unwrap(), s, "deterministic");
        ck.meta.insert(format!("{RECIPE}no_fd"), "true".into());
        let quick = score(&path, &ck, &spec).unwrap();
        assert_eq!((quick.fd, quick.p_real, quick.g_loss), (None, s.p_real, s.g_loss));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_labs_mlp_gans_score_on_digits_and_points_are_refused() {
        let dir = std::env::temp_dir().join(format!("vislab-gan-eval-lab-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let digits = DataSpec::parse("digits", FolderOptions::default()).unwrap();
        let (train, _) = digits.load().unwrap();
        let shape = |data: usize| GanShape {
            data,
            tanh_out: data > 2,
            noise: 2,
            g_hidden: vec![16],
            d_hidden: vec![16],
            g_act: Activation::Relu,
            d_act: Activation::LeakyRelu,
            conv: None,
        };
        let path = dir.join("digits.safetensors");
        let t = GanTrainer::new(GanConfig::new(shape(64), 1), RealDist::images(train.x(), 64)).unwrap();
        gan::save(&path, &t, &BTreeMap::new()).unwrap();
        let s = score(&path, &checkpoint::load(&path).unwrap(), &digits).unwrap();
        // 179 test digits, no FD for 8x8 images; an untrained D is unsure of both.
        assert_eq!((s.images, s.fd, s.config.batch), (179, None, 128));
        assert!((s.p_real - 0.5).abs() < 0.2 && (s.p_fake - 0.5).abs() < 0.2, "{s:?}");
        let t = GanTrainer::new(GanConfig::new(shape(2), 1), RealDist::ring()).unwrap();
        gan::save(&path, &t, &BTreeMap::new()).unwrap();
        let e = score(&path, &checkpoint::load(&path).unwrap(), &digits).unwrap_err();
        assert!(e.contains("points in the plane"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
