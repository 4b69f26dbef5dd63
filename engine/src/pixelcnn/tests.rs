use std::sync::Arc;

use super::net::{MaskType, MaskedConv2d};
use super::worker::{PixelCnnEvent, PixelCnnWorker};
use super::*;
use crate::check::{self, Rng};
use crate::data::{Dataset, digits};
use crate::graph::{Graph, LeafKind, Tensor, batch_dim};
use crate::vae::{Binarize, Flow};

#[test]
fn masks_are_exact() {
    #[rustfmt::skip]
    let a3 = [1., 1., 1.,
              1., 0., 0.,
              0., 0., 0.];
    #[rustfmt::skip]
    let b3 = [1., 1., 1.,
              1., 1., 0.,
              0., 0., 0.];
    #[rustfmt::skip]
    let a5 = [1., 1., 1., 1., 1.,
              1., 1., 1., 1., 1.,
              1., 1., 0., 0., 0.,
              0., 0., 0., 0., 0.,
              0., 0., 0., 0., 0.];
    #[rustfmt::skip]
    let b5 = [1., 1., 1., 1., 1.,
              1., 1., 1., 1., 1.,
              1., 1., 1., 0., 0.,
              0., 0., 0., 0., 0.,
              0., 0., 0., 0., 0.];
    assert_eq!(mask(MaskType::A, 3), a3);
    assert_eq!(mask(MaskType::B, 3), b3);
    assert_eq!(mask(MaskType::A, 5), a5);
    assert_eq!(mask(MaskType::B, 5), b5);
    assert_eq!(mask(MaskType::A, 1), [0.0]);
    assert_eq!(mask(MaskType::B, 1), [1.0]);
}

fn shape(side: usize, channels: usize, layers: usize) -> PixelCnnShape {
    PixelCnnShape { side, channels, layers }
}

/// A net with random non-zero biases too, so nothing is trivially zero.
fn random_net(s: PixelCnnShape, seed: u64) -> PixelCnn {
    let mut m = PixelCnn::new(s, seed).unwrap();
    let mut rng = Rng::new(seed + 100);
    for p in m.params_mut() {
        p.value.iter_mut().for_each(|v| *v += rng.range(-0.2, 0.2) as f32);
    }
    m
}

#[test]
fn logits_depend_only_on_earlier_pixels() {
    // Flip pixel k of a random canvas: the logits of pixels 0..=k must not
    // move (k's own logit may not see x_k); some later pixel's must.
    let side = 6;
    let mut m = random_net(shape(side, 4, 3), 5);
    let mut rng = Rng::new(1);
    let base: Vec<f32> = (0..side * side).map(|_| (rng.uniform() < 0.5) as u8 as f32).collect();
    let l0 = m.logits(&base, 1).unwrap();
    let mut later_moved = 0;
    for k in 0..side * side {
        let mut x = base.clone();
        x[k] = 1.0 - x[k];
        let l = m.logits(&x, 1).unwrap();
        for j in 0..=k {
            assert_eq!(l[j], l0[j], "flipping pixel {k} changed the logit of pixel {j}");
        }
        if k + 1 < side * side && (l[k + 1] - l0[k + 1]).abs() > 1e-6 {
            later_moved += 1;
        }
    }
    // The next pixel sees x_k unless k ends a row (then the next row's first
    // pixel sees it through the 7x7 window's upper half: also all of them).
    assert!(later_moved >= side * side - side, "only {later_moved} next-pixel logits moved");
}

/// Same-size zero-padded convolution in f64: x `[cin, h, w]`, w `[cout, cin, k, k]`.
fn conv(x: &[f64], cin: usize, side: usize, w: &[f64], b: &[f64], k: usize, m: &[f32]) -> Vec<f64> {
    let cout = b.len();
    let p = (k / 2) as isize;
    let mut y = vec![0.0; cout * side * side];
    for o in 0..cout {
        for i in 0..side {
            for j in 0..side {
                let mut s = b[o];
                for c in 0..cin {
                    for u in 0..k {
                        for v in 0..k {
                            let (ii, jj) = (i as isize + u as isize - p, j as isize + v as isize - p);
                            if ii < 0 || jj < 0 || ii >= side as isize || jj >= side as isize {
                                continue;
                            }
                            let wi = ((o * cin + c) * k + u) * k + v;
                            s += w[wi] * m[u * k + v] as f64 * x[(c * side + ii as usize) * side + jj as usize];
                        }
                    }
                }
                y[(o * side + i) * side + j] = s;
            }
        }
    }
    y
}

fn param(m: &PixelCnn, name: &str) -> Vec<f64> {
    m.params().iter().find(|p| p.name == name).unwrap().value.iter().map(|&v| v as f64).collect()
}

#[test]
fn nll_matches_a_hand_computation() {
    let (side, ch) = (4, 2);
    let mut m = random_net(shape(side, ch, 1), 3);
    let n = 2;
    let mut rng = Rng::new(4);
    let x: Vec<f32> = (0..n * side * side).map(|_| (rng.uniform() < 0.4) as u8 as f32).collect();
    let got = m.evaluate(&x, n).unwrap();
    let mut want = 0.0;
    let relu = |v: Vec<f64>| v.into_iter().map(|a| a.max(0.0)).collect::<Vec<_>>();
    for s in 0..n {
        let xs: Vec<f64> = x[s * 16..(s + 1) * 16].iter().map(|&v| v as f64).collect();
        let h = relu(conv(&xs, 1, side, &param(&m, "conv_a.weight"), &param(&m, "conv_a.bias"), 7, &mask(MaskType::A, 7)));
        let h = relu(conv(&h, ch, side, &param(&m, "conv_b1.weight"), &param(&m, "conv_b1.bias"), 3, &mask(MaskType::B, 3)));
        let l = conv(&h, ch, side, &param(&m, "out.weight"), &param(&m, "out.bias"), 1, &[1.0]);
        for (logit, t) in l.iter().zip(&xs) {
            let p = 1.0 / (1.0 + (-logit).exp());
            want -= t * p.ln() + (1.0 - t) * (1.0 - p).ln();
        }
    }
    want /= n as f64;
    assert!(want > 3.0, "a case with a real loss: {want}");
    assert!((got - want).abs() < 1e-5 * want, "engine {got} vs hand {want}");
    assert!((bits_per_dim(want, 16) - want / (16.0 * std::f64::consts::LN_2)).abs() < 1e-12);
    assert!((bits_per_dim(64.0 * std::f64::consts::LN_2, 64) - 1.0).abs() < 1e-12);
}

/// One masked conv (2 -> 3 channels, 3x3 type B) on a 5x5 input, projected to a scalar.
fn masked_conv_loss(g: &mut Graph) -> Result<(Tensor, Vec<Tensor>), crate::error::EngineError> {
    let x = g.input("x", &[batch_dim(), 2usize.into(), 5usize.into(), 5usize.into()])?;
    let conv = MaskedConv2d::new(g, "m", 2, 3, 3, MaskType::B)?;
    let y = conv.forward(g, x)?;
    let loss = check::project(g, y)?;
    let wrt = g
        .leaves()
        .iter()
        .filter(|l| matches!(l.kind, LeafKind::Param | LeafKind::Input))
        .map(|l| Tensor { id: l.id, view: luminal::prelude::ShapeTracker::new(&l.shape) })
        .collect();
    Ok((loss, wrt))
}

#[test]
fn masked_conv_gradients_match_finite_differences() {
    let init: check::LeafInit = &|_, _, _| None;
    for batch in [1, 3] {
        let rep = check::gradcheck(&masked_conv_loss, batch, 7, init).unwrap();
        assert!(rep.max_rel_err < 1e-3, "batch {batch}: {rep:?}");
        assert!(rep.checked > 50, "{rep:?}");
    }
    // Masked taps get exactly no gradient from the compiled model.
    let mut m = random_net(shape(5, 3, 1), 2);
    let x: Vec<f32> = (0..2 * 25).map(|i| (i % 3 == 0) as u8 as f32).collect();
    m.train_step(&x, 2).unwrap();
    let mk = mask(MaskType::B, 3);
    let p = m.params().iter().find(|p| p.name == "conv_b1.weight").unwrap();
    for (i, g) in p.grad.iter().enumerate() {
        if mk[i % 9] == 0.0 {
            assert_eq!(*g, 0.0, "masked tap {i}");
        }
    }
    assert!(p.grad.iter().any(|g| g.abs() > 1e-6), "open taps learn");
}

fn digit_split() -> (Arc<Dataset>, Arc<Dataset>) {
    let d = digits::load().unwrap();
    let (train, test) = d.split(300, 5).unwrap();
    (Arc::new(train), Arc::new(test))
}

fn digits_trainer(epochs: usize, seed: u64) -> PixelCnnTrainer {
    let (train, test) = digit_split();
    let m = PixelCnn::new(shape(8, 16, 2), seed).unwrap();
    PixelCnnTrainer::new(m, train, test, PixelCnnTrainConfig::new(epochs, 32, seed)).unwrap()
}

#[test]
fn training_on_the_digits_lowers_the_test_nll() {
    let mut t = digits_trainer(3, 11);
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
    let after = reports.last().unwrap().test_nll;
    eprintln!("pixelcnn digits: before {before:.4} nats, epochs {reports:?}");
    // 64 binary pixels with p near 1/2: about 64 ln 2 = 44.4 nats.
    assert!((30.0..60.0).contains(&before), "untrained {before}");
    assert!(after < TRAINED_NLL, "after 3 epochs {after} nats ({} bits/dim)", bits_per_dim(after, 64));
    assert!(reports[2].train_nll < reports[0].train_nll);
    // Same seed, same numbers.
    let mut again = digits_trainer(1, 11);
    assert_eq!(again.train_epoch(|_, _| Flow::Continue).unwrap().unwrap(), reports[0].train_nll);
}

/// Measured 21.99 nats (0.496 bits/dim) after 3 epochs, from 44.83 untrained.
const TRAINED_NLL: f64 = 24.0;

#[test]
fn sampling_is_reproducible_by_seed() {
    let mut m = random_net(shape(5, 4, 1), 8);
    let mut a = Sampler::new(3, 5, 42).unwrap();
    assert_eq!(a.peek(&mut m).unwrap().len(), 3);
    assert!(a.step(&mut m).unwrap());
    let p = a.last_pixel_probs();
    assert_eq!(p.len(), 3);
    assert!(p.iter().all(|v| *v > 0.0 && *v < 1.0), "{p:?}");
    // The first pixel sees nothing: the same probability for every sample.
    assert!(p.iter().all(|v| *v == p[0]));
    assert_eq!(a.pos(), 1);
    a.finish(&mut m).unwrap();
    assert!(a.done() && !a.step(&mut m).unwrap());
    assert!(a.canvas().iter().all(|v| *v == 0.0 || *v == 1.0));
    let mut b = Sampler::new(3, 5, 42).unwrap();
    b.finish(&mut m).unwrap();
    assert_eq!(a.canvas(), b.canvas());
    let mut c = Sampler::new(3, 5, 43).unwrap();
    c.finish(&mut m).unwrap();
    assert_ne!(a.canvas(), c.canvas());
    // The last step's probability is the net's on the canvas before it.
    let mut d = Sampler::new(3, 5, 42).unwrap();
    for _ in 0..7 {
        d.step(&mut m).unwrap();
    }
    let next = d.peek(&mut m).unwrap();
    d.step(&mut m).unwrap();
    assert_eq!(d.last_pixel_probs(), next);
    assert!(Sampler::new(2, 6, 0).unwrap().step(&mut m).is_err(), "size mismatch is an error");
}

#[test]
fn worker_streams_and_stops_and_checkpoints_round_trip() {
    let t = digits_trainer(1, 3);
    let steps = t.steps_per_epoch();
    let w = PixelCnnWorker::spawn(t, Box::new(|t: &mut PixelCnnTrainer| Some(t.step())), 10).unwrap();
    let (mut n_steps, mut epochs, mut views, mut done) = (0, 0, vec![], None);
    for e in w.events().iter() {
        match e {
            PixelCnnEvent::Step(_) => n_steps += 1,
            PixelCnnEvent::View(s) => views.push(s),
            PixelCnnEvent::Epoch(r) => {
                epochs += 1;
                assert!(r.test_nll.is_finite());
            }
            PixelCnnEvent::Done { stopped, error } => {
                done = Some((stopped, error));
                break;
            }
        }
    }
    assert_eq!(done, Some((false, None)));
    assert_eq!((n_steps, epochs), (steps, 1));
    assert!(views.contains(&10) && views.contains(&steps), "{views:?}");
    let mut t = w.join().unwrap();

    let path = std::env::temp_dir().join(format!("vislab-pixelcnn-{}.safetensors", std::process::id()));
    save(&path, &t.model, Some(t.optimizer()), &Default::default()).unwrap();
    let mut back = load(&path).unwrap();
    assert_eq!(back.shape(), t.model.shape());
    let x = &t.test_images()[..64 * 4].to_vec();
    assert_eq!(back.evaluate(x, 4).unwrap(), t.model.evaluate(x, 4).unwrap());
    std::fs::write(&path, b"garbage").unwrap();
    assert!(load(&path).is_err());
    let _ = std::fs::remove_file(&path);
    let mut meta = shape_meta(t.model.shape());
    meta.insert(META_LAYERS.into(), "x".into());
    assert!(shape_from_meta(&meta).unwrap_err().to_string().contains("'x' is not a size"));

    let w = PixelCnnWorker::spawn(digits_trainer(50, 3), Box::new(|_: &mut PixelCnnTrainer| None::<()>), 1).unwrap();
    let mut seen = 0;
    for e in w.events().iter() {
        if let PixelCnnEvent::Step(_) = e {
            seen += 1;
            if seen == 3 {
                w.stop();
            }
        }
        if let PixelCnnEvent::Done { stopped, .. } = e {
            assert!(stopped);
            break;
        }
    }
    let t = w.join().unwrap();
    assert!(t.step() < steps && !t.done(), "stopped at step {}", t.step());
}

#[test]
fn trainer_rejects_bad_settings() {
    let (train, test) = digit_split();
    let wrong = PixelCnn::new(shape(28, 4, 1), 0).unwrap();
    let e = PixelCnnTrainer::new(wrong, Arc::clone(&train), Arc::clone(&test), PixelCnnTrainConfig::new(1, 8, 0)).err().unwrap();
    assert!(e.to_string().contains("64 pixels, the model takes 784"), "{e}");
    let cfg = PixelCnnTrainConfig { binarize: Binarize::Off, ..PixelCnnTrainConfig::new(1, 8, 0) };
    let e = PixelCnnTrainer::new(PixelCnn::new(shape(8, 4, 1), 0).unwrap(), train, test, cfg).err().unwrap();
    assert!(e.to_string().contains("binary"), "{e}");
    assert!(PixelCnn::new(shape(8, 0, 1), 0).is_err());
    let mut g = Graph::new();
    assert!(MaskedConv2d::new(&mut g, "even", 1, 1, 4, MaskType::A).is_err());
}
