//! Chamfer distance: the k-d tree against brute force on a size brute force
//! can afford (ratio in the same run), then the k-d tree on 100k x 100k.
//! Run: `cargo bench -p vislab-engine --bench chamfer` (or `cargo run --release`
//! equivalents); the dev profile builds the engine at opt-level 3 too.

use std::time::{Duration, Instant};
use vislab_engine::geometry::{sample_points, scenes, shapes};
use vislab_engine::metrics::{chamfer, kdtree::brute_force_nearest};

fn brute_chamfer(a: &[[f32; 3]], b: &[[f32; 3]]) -> f64 {
    let dir = |x: &[[f32; 3]], y: &[[f32; 3]]| x.iter().filter_map(|&q| brute_force_nearest(y, q)).map(|(_, d)| d as f64).sum::<f64>() / x.len() as f64;
    dir(a, b) + dir(b, a)
}

/// Fastest of `runs` timings, and the last result.
fn best_of<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut best = Duration::MAX;
    let mut out = None;
    for _ in 0..runs {
        let t = Instant::now();
        let r = std::hint::black_box(f());
        best = best.min(t.elapsed());
        out = Some(r);
    }
    (best, out.expect("runs > 0"))
}

fn main() {
    // The teapot scaled into the unit sphere, so the two shapes overlap as a
    // prediction and its ground truth do.
    let mut teapot = scenes::teapot().expect("built-in teapot");
    let bounds = teapot.bounds().expect("teapot has vertices");
    let (c, r) = (bounds.center(), 0.5 * bounds.diagonal());
    teapot.positions.iter_mut().for_each(|p| *p = std::array::from_fn(|k| (p[k] - c[k]) / r));
    let sphere = shapes::uv_sphere(1.0, 128, 64);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("chamfer bench ({threads} threads available)");

    // A prediction close to its ground truth, the case metrics are for: the
    // teapot against a copy 2% larger and shifted by 1% of its size, sampled apart.
    let mut near = teapot.clone();
    near.positions.iter_mut().for_each(|p| *p = p.map(|v| 1.02 * v + 0.01));
    let small = 4_000;
    let (a, b) = (sample_points(&teapot, small, 1).positions, sample_points(&near, small, 2).positions);
    let (t_brute, ref_value) = best_of(3, || brute_chamfer(&a, &b));
    let (t_tree, value) = best_of(5, || chamfer(&a, &b).expect("finite clouds").total);
    assert!((value - ref_value).abs() <= 1e-9 * ref_value.max(1.0), "tree {value} vs brute force {ref_value}");
    println!(
        "{small} x {small}, teapot vs moved teapot: brute force {:.1} ms, k-d tree {:.2} ms, ratio {:.0}x (chamfer {value:.6})",
        t_brute.as_secs_f64() * 1e3,
        t_tree.as_secs_f64() * 1e3,
        t_brute.as_secs_f64() / t_tree.as_secs_f64()
    );

    let big = 100_000;
    let (a, b) = (sample_points(&teapot, big, 3).positions, sample_points(&near, big, 4).positions);
    let (t_big, value) = best_of(3, || chamfer(&a, &b).expect("finite clouds").total);
    println!("{big} x {big}, teapot vs moved teapot: k-d tree {:.1} ms (build both trees + query both ways; chamfer {value:.6})", t_big.as_secs_f64() * 1e3);
    // Hard cases for any exact nearest-neighbour search: the teapot inside the
    // sphere (points near the centre are almost equally far from the whole
    // sphere), and the two shapes far apart.
    let s = sample_points(&sphere, big, 5).positions;
    let (t_inside, value) = best_of(1, || chamfer(&a, &s).expect("finite clouds").total);
    println!("{big} x {big}, teapot inside sphere: k-d tree {:.1} ms (chamfer {value:.4})", t_inside.as_secs_f64() * 1e3);
    let far: Vec<[f32; 3]> = s.iter().map(|p| [p[0] + 10.0, p[1], p[2]]).collect();
    let (t_far, value) = best_of(3, || chamfer(&a, &far).expect("finite clouds").total);
    println!("{big} x {big}, shapes 10 radii apart: k-d tree {:.1} ms (chamfer {value:.3})", t_far.as_secs_f64() * 1e3);
}
