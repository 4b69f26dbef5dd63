//! The DCGAN on the built-in 8x8 digits (side 8: 2x2 -> 4x4 -> 8x8), small
//! enough to train in a test: losses at initialization, batch norm modes,
//! a short run and a checkpoint round trip.

use super::*;
use crate::rng::SeededRng;

fn digits() -> RealDist {
    let d = crate::data::digits::load().unwrap();
    RealDist::images(d.x(), 64)
}

fn small(loss: GanLoss, seed: u64) -> GanConfig {
    let shape = GanShape::dcgan(ConvShape { side: 8, g_channels: 32, d_channels: 16 }, 16);
    GanConfig { loss, lr_d: 2e-4, lr_g: 2e-4, batch: 64, ..GanConfig::new(shape, seed) }
}

fn noise(n: usize, k: usize, seed: u64) -> Vec<f32> {
    let mut rng = SeededRng::new(seed);
    (0..n * k).map(|_| rng.normal() as f32).collect()
}

#[test]
fn dcgan_starts_at_the_losses_of_an_undecided_d() {
    // Weights N(0, 0.02^2): D's outputs start near 0 (std about 0.15 over
    // its 128 inputs), so the NS D loss is near 2 ln 2 and G's near ln 2;
    // LSGAN's D loss near (1 + 0) / 2, G's near 1/2. Measured NS: D 1.443, G 0.666.
    for (loss, d_want, g_want) in [(GanLoss::NonSaturating, 2.0 * 2f32.ln(), 2f32.ln()), (GanLoss::LeastSquares, 0.5, 0.5)] {
        let mut t = GanTrainer::new(small(loss, 0), digits()).unwrap();
        let d = t.step_d().unwrap().loss;
        let g = t.step_g().unwrap().loss;
        assert!((d - d_want).abs() < 0.1 && (g - g_want).abs() < 0.1, "{loss:?}: D {d} (want {d_want}), G {g} (want {g_want})");
    }
    // One-sided smoothing moves the real targets to 0.9: the NS D loss at
    // logits 0 is unchanged (BCE(0, t) = ln 2 for every t), LSGAN's drops
    // to (0.81 + 0) / 2.
    let mut t = GanTrainer::new(GanConfig { smoothing: 0.1, ..small(GanLoss::LeastSquares, 0) }, digits()).unwrap();
    let d = t.step_d().unwrap().loss;
    assert!((d - 0.405).abs() < 0.1, "LSGAN smoothed D {d}");
    // A bad shape is a message.
    let bad = GanShape::dcgan(ConvShape { side: 10, g_channels: 8, d_channels: 8 }, 4);
    assert!(GanTrainer::new(GanConfig::new(bad, 0), digits()).is_err());
}

#[test]
fn shown_images_depend_only_on_their_own_noise() {
    let mut t = GanTrainer::new(small(GanLoss::NonSaturating, 1), digits()).unwrap();
    for _ in 0..20 {
        t.round(&mut |_| {}).unwrap();
    }
    let z = noise(8, 16, 5);
    let all = t.generate(&z).unwrap();
    let first = t.generate(&z[..16]).unwrap();
    assert_eq!(all.len(), 8 * 64);
    assert!(all.iter().all(|v| v.abs() < 1.0), "tanh output");
    for (a, b) in all[..64].iter().zip(&first) {
        assert!((a - b).abs() < 1e-5, "running statistics: the batch does not matter ({a} vs {b})");
    }
    // With batch statistics (training) a single image normalizes against
    // itself: a different picture.
    let train_all = t.generate_train(&z).unwrap();
    let train_first = t.generate_train(&z[..16]).unwrap();
    let diff: f32 = train_all[..64].iter().zip(&train_first).map(|(a, b)| (a - b).abs()).sum();
    assert!(diff > 1.0, "batch statistics differ by batch: {diff}");
    // G's running statistics moved away from (0, 1) in training.
    let state = t.g_state().unwrap();
    assert_eq!(state.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["g_bn1.running_mean", "g_bn1.running_var", "g_bn2.running_mean", "g_bn2.running_var"]);
    assert!(state[0].value.iter().any(|v| v.abs() > 1e-3));
}

#[test]
fn dcgan_learns_the_digits_and_round_trips() {
    let real = digits();
    let mut t = GanTrainer::new(small(GanLoss::NonSaturating, 2), real.clone()).unwrap();
    let spec = ViewSpec { noise_grid: 2, shown: 200, ..ViewSpec::default() };
    let before = t.view(&spec).unwrap();
    for _ in 0..300 {
        t.round(&mut |_| {}).unwrap();
    }
    let after = t.view(&spec).unwrap();
    eprintln!("DCGAN digits: distance {} -> {}", before.distance, after.distance);
    // Measured: 6.22 -> 4.41 (reals to their nearest other real: 1.86).
    assert!(after.distance < 0.8 * before.distance, "distance {} -> {}", before.distance, after.distance);
    let path = std::env::temp_dir().join(format!("vislab-dcgan-{}.safetensors", std::process::id()));
    save(&path, &t, &BTreeMap::new()).unwrap();
    let ck = crate::train::checkpoint::load(&path).unwrap();
    assert_eq!(ck.meta.get("vislab.gan.conv").map(String::as_str), Some("8,32,16"));
    assert!(ck.tensor("g_bn2.running_var").is_some() && ck.tensor("g_up1.weight").unwrap().shape == vec![32, 16, 4, 4]);
    // The base config's seed picks the shown noise: the same seed as the run.
    let mut back = load(&path, &GanConfig::new(GanShape::dcgan(ConvShape::mnist(), 100), 2), real).unwrap();
    assert_eq!(back.config().shape.conv, Some(ConvShape { side: 8, g_channels: 32, d_channels: 16 }));
    assert_eq!(back.counts(), t.counts());
    let again = back.view(&spec).unwrap();
    assert_eq!(again.fake, after.fake, "the reloaded G (weights and running statistics) draws the same pictures");
    assert_eq!(again.distance, after.distance);
    let _ = std::fs::remove_file(&path);
}
