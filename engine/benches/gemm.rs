//! Which GEMM crate should run our contractions: matrixmultiply (what the CPU
//! program uses) against gemm, single-threaded, on the shapes and stride
//! layouts our MLP and LeNet steps produce, plus 512^3.
//! Run: `cargo bench -p vislab-engine --bench gemm`.

use std::time::Instant;

/// (name, m, k, n, A transposed, B transposed): transposed = column-major view.
const CASES: &[(&str, usize, usize, usize, bool, bool)] = &[
    ("mlp fc1 fwd  x W^T", 64, 784, 256, false, true),
    ("mlp fc1 dW   g^T x", 256, 64, 784, true, false),
    ("mlp fc2 dX   g W", 64, 10, 256, false, false),
    ("conv1 fwd cols W^T", 36864, 25, 6, false, true),
    ("conv2 fwd cols W^T", 4096, 150, 16, false, true),
    ("conv2 dW  g^T cols", 16, 4096, 150, true, false),
    ("square 512", 512, 512, 512, false, false),
];

fn strides(rows: usize, cols: usize, transposed: bool) -> (isize, isize) {
    if transposed { (1, rows as isize) } else { (cols as isize, 1) }
}

fn median(mut f: impl FnMut(), reps: usize) -> f64 {
    f();
    let mut ts: Vec<f64> = (0..reps)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64()
        })
        .collect();
    ts.sort_by(|a, b| a.total_cmp(b));
    ts[reps / 2]
}

fn main() {
    println!("{:<22} {:>12} {:>12} {:>8}", "case (m k n)", "matrixmult", "gemm", "mm/gemm");
    for &(name, m, k, n, ta, tb) in CASES {
        let a: Vec<f32> = (0..m * k).map(|i| (i % 7) as f32 * 0.1).collect();
        let b: Vec<f32> = (0..k * n).map(|i| (i % 5) as f32 * 0.1).collect();
        let mut c1 = vec![0f32; m * n];
        let mut c2 = vec![0f32; m * n];
        let (rsa, csa) = strides(m, k, ta);
        let (rsb, csb) = strides(k, n, tb);
        let reps = if m * k * n > 50_000_000 { 10 } else { 50 };
        // SAFETY: every pointer/stride pair describes a buffer allocated above with exactly m*k, k*n, m*n elements.
        let t_mm = median(
            || unsafe {
                matrixmultiply::sgemm(m, k, n, 1.0, a.as_ptr(), rsa, csa, b.as_ptr(), rsb, csb, 0.0, c1.as_mut_ptr(), n as isize, 1)
            },
            reps,
        );
        // SAFETY: as above; gemm takes (column, row) stride order.
        let t_g = median(
            || unsafe {
                gemm::gemm(
                    m, n, k, c2.as_mut_ptr(), 1, n as isize, false, a.as_ptr(), csa, rsa, b.as_ptr(), csb, rsb, 0.0, 1.0, false,
                    false, false, gemm::Parallelism::None,
                )
            },
            reps,
        );
        let diff = c1.iter().zip(&c2).map(|(x, y)| (x - y).abs()).fold(0f32, f32::max);
        assert!(diff < 1e-2 * (k as f32), "results differ by {diff}");
        println!("{:<22} {:>9.1} us {:>9.1} us {:>7.2}x   ({m} {k} {n})", name, t_mm * 1e6, t_g * 1e6, t_mm / t_g);
    }
}
