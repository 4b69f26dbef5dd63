use std::sync::Arc;

use super::latent::{Path, Plane, interpolate, path_codes};
use super::net::{self, VaeShape};
use super::worker::{VaeEvent, VaeWorker};
use super::*;
use crate::check::{self, Rng};
use crate::data::{Dataset, digits};
use crate::graph::{Graph, LeafKind, Tensor};

fn tiny() -> VaeShape {
    VaeShape::mlp(5, vec![3], 2)
}

fn param(vae: &Vae, name: &str) -> Vec<f64> {
    vae.params().iter().find(|p| p.name == name).unwrap().value.iter().map(|&v| v as f64).collect()
}

/// `x W^T + b` for one row, in f64.
fn linear(vae: &Vae, layer: &str, x: &[f64]) -> Vec<f64> {
    let (w, b) = (param(vae, &format!("{layer}.weight")), param(vae, &format!("{layer}.bias")));
    b.iter().enumerate().map(|(o, bo)| bo + x.iter().enumerate().map(|(i, xi)| w[o * x.len() + i] * xi).sum::<f64>()).collect()
}

fn relu(v: Vec<f64>) -> Vec<f64> {
    v.into_iter().map(|x| x.max(0.0)).collect()
}

#[test]
fn elbo_terms_match_a_hand_computation() {
    let mut vae = Vae::new(tiny(), 7).unwrap();
    // Non-zero biases so they are checked too.
    let mut rng = Rng::new(3);
    for p in vae.params_mut() {
        p.value.iter_mut().for_each(|v| *v += rng.range(-0.3, 0.3) as f32);
    }
    let n = 3;
    let x: Vec<f32> = (0..n * 5).map(|i| ((i * 7) % 3 == 0) as u8 as f32).collect();
    let eps: Vec<f32> = (0..n * 2).map(|_| rng.normal() as f32).collect();
    let got = vae.evaluate(&x, &eps, n).unwrap();
    let (mut recon, mut kl) = (0.0, 0.0);
    for s in 0..n {
        let xs: Vec<f64> = x[s * 5..(s + 1) * 5].iter().map(|&v| v as f64).collect();
        let h = relu(linear(&vae, "enc_fc1", &xs));
        let mu = linear(&vae, "enc_mu", &h);
        let lv = linear(&vae, "enc_logvar", &h);
        let z: Vec<f64> = (0..2).map(|k| mu[k] + (lv[k] / 2.0).exp() * eps[s * 2 + k] as f64).collect();
        let logits = linear(&vae, "dec_out", &relu(linear(&vae, "dec_fc1", &z)));
        // -log p(x|z) for a Bernoulli with p = sigmoid(logit).
        for (l, t) in logits.iter().zip(&xs) {
            let p = 1.0 / (1.0 + (-l).exp());
            recon -= t * p.ln() + (1.0 - t) * (1.0 - p).ln();
        }
        kl += (0..2).map(|k| 0.5 * (mu[k] * mu[k] + lv[k].exp() - 1.0 - lv[k])).sum::<f64>();
    }
    let (recon, kl) = (recon / n as f64, kl / n as f64);
    assert!((got.recon - recon).abs() < 1e-5 * recon.abs().max(1.0), "recon {} vs {recon}", got.recon);
    assert!((got.kl - kl).abs() < 1e-5 * kl.abs().max(1.0), "kl {} vs {kl}", got.kl);
    assert!(kl > 0.01 && recon > 1.0, "a case where both terms matter: recon {recon} kl {kl}");
    assert!((got.nelbo() - (recon + kl)).abs() < 1e-5 * (recon + kl));
}

/// The ELBO graph with every parameter as a gradient target.
fn elbo_for_check(g: &mut Graph) -> Result<(Tensor, Vec<Tensor>), crate::error::EngineError> {
    let e = net::elbo(g, &tiny())?;
    let wrt = g.leaves().iter().filter(|l| l.kind == LeafKind::Param).map(|l| Tensor { id: l.id, view: luminal::prelude::ShapeTracker::new(&l.shape) }).collect();
    Ok((e.loss, wrt))
}

#[test]
fn elbo_gradients_match_finite_differences_and_the_cpu_program() {
    // Binary pixels, standard-normal noise, small weights.
    let init: check::LeafInit = &|name, n, rng| match name {
        net::INPUT_X => Some((0..n).map(|_| (rng.uniform() < 0.5) as u8 as f64).collect()),
        net::INPUT_EPS => Some((0..n).map(|_| rng.normal()).collect()),
        _ => Some((0..n).map(|_| rng.range(-0.8, 0.8)).collect()),
    };
    let rep = check::verify("vae elbo", &elbo_for_check, &[(1, 1), (4, 2)], init).unwrap();
    assert!(rep.gemms >= 4, "linear layers run as GEMM: {rep:?}");
}

#[test]
fn train_step_gradients_are_those_of_the_nelbo() {
    // A finite difference on the compiled f32 model itself, through
    // `evaluate` with the same noise: the step reports the same terms and a
    // gradient that predicts the change.
    let mut vae = Vae::new(tiny(), 1).unwrap();
    let n = 4;
    let mut rng = Rng::new(9);
    let x: Vec<f32> = (0..n * 5).map(|_| (rng.uniform() < 0.4) as u8 as f32).collect();
    let eps: Vec<f32> = (0..n * 2).map(|_| rng.normal() as f32).collect();
    let e = vae.train_step(&x, &eps, n).unwrap();
    assert_eq!(e, vae.evaluate(&x, &eps, n).unwrap());
    let i = vae.params().iter().position(|p| p.name == "dec_out.bias").unwrap();
    let g = vae.params()[i].grad[2] as f64;
    let h = 1e-2;
    vae.params_mut()[i].value[2] += h as f32;
    let up = vae.evaluate(&x, &eps, n).unwrap().nelbo();
    vae.params_mut()[i].value[2] -= 2.0 * h as f32;
    let down = vae.evaluate(&x, &eps, n).unwrap().nelbo();
    let fd = (up - down) / (2.0 * h);
    assert!((fd - g).abs() < 2e-3 * g.abs().max(0.1), "dec_out.bias[2]: grad {g} vs fd {fd}");
}

#[test]
fn decoder_program_matches_the_full_model_and_rejects_bad_input() {
    let mut vae = Vae::new(tiny(), 4).unwrap();
    let x = [1.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 1.0];
    let (mu, logvar) = vae.encode(&x, 2).unwrap();
    assert_eq!((mu.len(), logvar.len()), (4, 4));
    let rec = vae.reconstruct(&x, 2).unwrap();
    let dec = vae.decode(&mu, 2).unwrap();
    assert_eq!(rec.len(), 10);
    for (a, b) in rec.iter().zip(&dec) {
        assert!((a - b).abs() < 1e-6 && *a > 0.0 && *a < 1.0, "{rec:?} vs {dec:?}");
    }
    assert!(matches!(vae.decode(&[0.0; 3], 2), Err(VaeError::Input(_))));
    assert!(matches!(vae.decode(&[f32::NAN, 0.0], 1), Err(VaeError::Input(_))));
    assert!(matches!(vae.evaluate(&x, &[0.0; 3], 2), Err(VaeError::Input(_))));
    assert!(vae.evaluate(&[f32::NAN; 10], &[0.0; 4], 2).is_err(), "NaN pixels are rejected");
}

fn digit_split() -> (Arc<Dataset>, Arc<Dataset>) {
    let d = digits::load().unwrap();
    let (train, test) = d.split(300, 5).unwrap();
    (Arc::new(train), Arc::new(test))
}

/// Digits VAE used by the training tests: 64-128-2 with a 2-D latent.
fn digits_trainer(epochs: usize, seed: u64) -> VaeTrainer {
    let (train, test) = digit_split();
    let vae = Vae::new(VaeShape::mlp(64, vec![128], 2), seed).unwrap();
    let cfg = VaeTrainConfig { lr: 3e-3, ..VaeTrainConfig::new(epochs, 32, seed) };
    VaeTrainer::new(vae, train, test, cfg).unwrap()
}

#[test]
fn training_on_the_digits_lowers_the_test_nelbo() {
    let mut t = digits_trainer(8, 11);
    let before = t.evaluate_test().unwrap();
    let mut reports = vec![];
    t.run(
        |_, _| Flow::Continue,
        |_, r| {
            reports.push(r);
            Flow::Continue
        },
    )
    .unwrap();
    assert_eq!(reports.len(), 8);
    let after = reports.last().unwrap().test;
    // 64 binary pixels: an untrained decoder (p about 1/2) costs about
    // 64 ln 2 = 44 nats; the trained one needs under 60% of the start.
    assert!(before.nelbo() > 35.0, "before {before:?}");
    assert!(after.nelbo() < 0.6 * before.nelbo(), "before {before:?} after {after:?}");
    assert!(after.kl > 1.0, "the code carries information: {after:?}");
    assert!(reports[7].train.nelbo() < reports[0].train.nelbo());
    // Same seed, same numbers.
    let mut again = digits_trainer(1, 11);
    let first = again.train_epoch(|_, _| Flow::Continue).unwrap().unwrap();
    assert_eq!(first, reports[0].train);
}

#[test]
fn worker_streams_steps_views_and_epochs_and_stops() {
    let t = digits_trainer(2, 3);
    let steps = t.test_set().len();
    let w = VaeWorker::spawn(t, Box::new(|t: &mut VaeTrainer| Some(t.step())), 10).unwrap();
    let (mut n_steps, mut views, mut epochs) = (0, vec![], 0);
    let mut done = None;
    for e in w.events().iter() {
        match e {
            VaeEvent::Step(_) => n_steps += 1,
            VaeEvent::View(s) => views.push(s),
            VaeEvent::Epoch(r) => {
                epochs += 1;
                assert!(r.test.nelbo().is_finite());
            }
            VaeEvent::Done { stopped, error } => {
                done = Some((stopped, error));
                break;
            }
        }
    }
    assert_eq!(done, Some((false, None)));
    // 1497 training images in batches of 32: 47 steps per epoch.
    assert_eq!((n_steps, epochs), (94, 2), "{steps}");
    assert_eq!(views.iter().filter(|s| **s % 10 == 0).count(), 9);
    assert!(views.contains(&47) && views.contains(&94), "a view after each epoch: {views:?}");
    let t = w.join().unwrap();
    assert!(t.done());

    // Stop after a few steps.
    let w = VaeWorker::spawn(digits_trainer(50, 3), Box::new(|_: &mut VaeTrainer| None::<()>), 1).unwrap();
    let mut seen = 0;
    for e in w.events().iter() {
        if let VaeEvent::Step(_) = e {
            seen += 1;
            if seen == 3 {
                w.stop();
            }
        }
        if let VaeEvent::Done { stopped, .. } = e {
            assert!(stopped);
            break;
        }
    }
    let t = w.join().unwrap();
    assert!(t.step() < 47 && !t.done(), "stopped at step {}", t.step());
}

#[test]
fn trainer_rejects_data_that_does_not_fit() {
    let (train, test) = digit_split();
    let wrong = Vae::new(VaeShape::mlp(784, vec![8], 2), 0).unwrap();
    let e = VaeTrainer::new(wrong, Arc::clone(&train), Arc::clone(&test), VaeTrainConfig::new(1, 8, 0)).err().unwrap();
    assert!(e.to_string().contains("64 pixels, the model takes 784"), "{e}");
    let big = Arc::new(Dataset::new(vec![2.0; 64], vec![8, 8], vec![0], 10).unwrap());
    let vae = Vae::new(VaeShape::mlp(64, vec![8], 2), 0).unwrap();
    let e = VaeTrainer::new(vae, big, test, VaeTrainConfig::new(1, 8, 0)).err().unwrap();
    assert!(e.to_string().contains("outside [0, 1]"), "{e}");
    assert!(Vae::new(VaeShape::mlp(64, vec![0], 2), 0).is_err());
}

#[test]
fn checkpoint_round_trip_rebuilds_the_same_decoder() {
    let mut vae = Vae::new(VaeShape::mlp(64, vec![16, 8], 3), 21).unwrap();
    let path = std::env::temp_dir().join(format!("vislab-vae-{}.safetensors", std::process::id()));
    save(&path, &vae, None, &Default::default()).unwrap();
    let mut back = load(&path).unwrap();
    assert_eq!(back.shape(), vae.shape());
    let z = [0.5, -1.0, 2.0, 0.0, 0.1, -0.2];
    assert_eq!(vae.decode(&z, 2).unwrap(), back.decode(&z, 2).unwrap());
    std::fs::write(&path, b"garbage").unwrap();
    assert!(load(&path).is_err());
    let _ = std::fs::remove_file(&path);
    let mut meta = shape_meta(vae.shape());
    meta.insert(META_HIDDEN.into(), "16,x".into());
    assert!(shape_from_meta(&meta).unwrap_err().to_string().contains("'x' is not a size"));
}

#[test]
fn binarization_modes() {
    let mut rng = crate::rng::SeededRng::new(1);
    let mut x = vec![0.25f32; 10_000];
    Binarize::Sample.apply(&mut x, &mut rng);
    let ones = x.iter().filter(|v| **v == 1.0).count();
    assert!(x.iter().all(|v| *v == 0.0 || *v == 1.0));
    assert!((2300..2700).contains(&ones), "{ones} ones for p = 0.25");
    let mut y = vec![0.2, 0.5, 0.51, 1.0];
    Binarize::Threshold.apply(&mut y, &mut rng);
    assert_eq!(y, [0.0, 0.0, 1.0, 1.0]);
    assert_eq!(Binarize::parse("threshold"), Some(Binarize::Threshold));
    assert_eq!(Binarize::parse("nope"), None);
}

#[test]
fn pca_plane_finds_the_spread_axes() {
    // Codes spread along (1, 1, 0)/sqrt2 (std 3) and (0, 0, 1) (std 1).
    let mut rng = Rng::new(2);
    let mut codes = vec![];
    for _ in 0..2000 {
        let (a, b) = (3.0 * rng.normal(), rng.normal());
        codes.extend([(a / 2f64.sqrt() + 1.0) as f32, (a / 2f64.sqrt()) as f32, b as f32]);
    }
    let p = Plane::fit(&codes, 3);
    let s = 0.5f32.sqrt();
    for (got, want) in p.axes[0].iter().zip([s, s, 0.0]) {
        assert!((got - want).abs() < 0.02, "{:?}", p.axes);
    }
    assert!((p.axes[1][2].abs() - 1.0).abs() < 0.02, "{:?}", p.axes);
    assert!((p.mean[0] - 1.0).abs() < 0.2);
    // Lifting a projection returns the in-plane part.
    let z = p.lift([2.0, -1.0]);
    let back = p.project(&z);
    assert!((back[0] - 2.0).abs() < 1e-5 && (back[1] + 1.0).abs() < 1e-5, "{back:?}");
    // A 2-D latent is shown as it is.
    assert_eq!(Plane::fit(&[1.0, 2.0, 3.0, 4.0], 2), Plane::identity(2));
    let g = Plane::identity(2).grid(3, 2.0);
    assert_eq!(&g[..2], &[-2.0, 2.0], "top-left corner");
    assert_eq!(&g[16..], &[2.0, -2.0], "bottom-right corner");
}

#[test]
fn linear_and_spherical_interpolation() {
    let (a, b) = ([2.0f32, 0.0], [0.0f32, 2.0]);
    assert_eq!(interpolate(&a, &b, 0.5, Path::Linear), vec![1.0, 1.0]);
    let mid = interpolate(&a, &b, 0.5, Path::Spherical);
    let r = 2f32.sqrt();
    assert!((mid[0] - r).abs() < 1e-5 && (mid[1] - r).abs() < 1e-5, "{mid:?} keeps the norm 2");
    for t in [0.0, 0.3, 1.0] {
        let p = interpolate(&a, &b, t, Path::Spherical);
        assert!((p[0].hypot(p[1]) - 2.0).abs() < 1e-5);
    }
    let s = path_codes(&a, &b, 5, Path::Linear);
    assert_eq!(s.len(), 10);
    assert_eq!((&s[..2], &s[8..]), (&a[..], &b[..]));
    // Parallel codes fall back to the straight line.
    assert_eq!(interpolate(&[1.0, 0.0], &[3.0, 0.0], 0.5, Path::Spherical), vec![2.0, 0.0]);
}

/// A convolutional VAE on 4x4 images: one stride-2 conv stage of 2 channels.
fn tiny_conv() -> VaeShape {
    VaeShape { conv: vec![2], ..VaeShape::mlp(16, vec![3], 2) }
}

#[test]
fn conv_elbo_gradients_match_finite_differences() {
    let build = |g: &mut Graph| -> Result<(Tensor, Vec<Tensor>), crate::error::EngineError> {
        let e = net::elbo(g, &tiny_conv())?;
        let wrt = g.leaves().iter().filter(|l| l.kind == LeafKind::Param).map(|l| Tensor { id: l.id, view: luminal::prelude::ShapeTracker::new(&l.shape) }).collect();
        Ok((e.loss, wrt))
    };
    let init: check::LeafInit = &|name, n, rng| match name {
        net::INPUT_X => Some((0..n).map(|_| (rng.uniform() < 0.5) as u8 as f64).collect()),
        net::INPUT_EPS => Some((0..n).map(|_| rng.normal()).collect()),
        _ => Some((0..n).map(|_| rng.range(-0.8, 0.8)).collect()),
    };
    check::verify("conv vae elbo", &build, &[(1, 1), (3, 2)], init).unwrap();
}

#[test]
fn conv_vae_shapes_checkpoints_and_bad_sizes() {
    let mut vae = Vae::new(tiny_conv(), 2).unwrap();
    let names: Vec<&str> = vae.params().iter().map(|p| p.name.as_str()).collect();
    // PyTorch layouts: Conv2d [Cout, Cin, 3, 3], ConvTranspose2d [Cin, Cout, 4, 4]
    let shape_of = |n: &str| vae.params().iter().find(|p| p.name == n).unwrap().shape.clone();
    assert_eq!(shape_of("enc_conv1.weight"), vec![2, 1, 3, 3], "{names:?}");
    assert_eq!(shape_of("dec_out.weight"), vec![2, 1, 4, 4], "{names:?}");
    assert_eq!(shape_of("dec_fc_conv.weight"), vec![8, 3], "{names:?}");
    let x: Vec<f32> = (0..32).map(|i| (i % 3 == 0) as u8 as f32).collect();
    assert_eq!(vae.reconstruct(&x, 2).unwrap().len(), 32);
    let path = std::env::temp_dir().join("vislab-conv-vae.safetensors");
    save(&path, &vae, None, &Default::default()).unwrap();
    let mut back = load(&path).unwrap();
    assert_eq!(back.shape(), vae.shape());
    let z = [0.3, -0.7];
    assert_eq!(back.decode(&z, 1).unwrap(), vae.decode(&z, 1).unwrap());
    let _ = std::fs::remove_file(path);
    assert!(Vae::new(VaeShape { conv: vec![4], ..VaeShape::mlp(15, vec![3], 2) }, 0).is_err(), "15 pixels are no square");
    assert!(Vae::new(VaeShape { conv: vec![4, 4, 4], ..VaeShape::mlp(36, vec![3], 2) }, 0).is_err(), "6 is not divisible by 8");
}

#[test]
fn conv_vae_trains_on_the_digits() {
    let (train, test) = digit_split();
    let vae = Vae::new(VaeShape { conv: vec![16, 32], ..VaeShape::mlp(64, vec![128], 2) }, 11).unwrap();
    let cfg = VaeTrainConfig { lr: 3e-3, ..VaeTrainConfig::new(8, 32, 11) };
    let mut t = VaeTrainer::new(vae, train, test, cfg).unwrap();
    let before = t.evaluate_test().unwrap();
    let mut last = None;
    t.run(
        |_, _| Flow::Continue,
        |_, r| {
            last = Some(r.test);
            Flow::Continue
        },
    )
    .unwrap();
    let after = last.unwrap();
    eprintln!("conv VAE on the digits, 8 epochs: test -ELBO {:.2} -> {:.2} nats", before.nelbo(), after.nelbo());
    assert!(after.nelbo() < 0.6 * before.nelbo() && after.kl > 1.0, "before {before:?} after {after:?}");
}
