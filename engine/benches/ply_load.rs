//! Load time of a 1M-point binary PLY (positions, normals, uchar colours)
//! against two references measured in the same run: reading the file's bytes,
//! and decoding the same records with a plain fixed-stride loop.
//! Run: `cargo bench -p vislab-engine --bench ply_load`.

use std::time::Instant;
use vislab_engine::geometry::formats::ply::{PlyEncoding, write_points};
use vislab_engine::geometry::{Asset, load_bytes, load_path, scenes};

/// Best of `runs` timings in milliseconds (the least disturbed by other work).
/// Each result is dropped before the next run so every run starts from the
/// same allocator state.
fn best_ms<T>(runs: usize, mut f: impl FnMut() -> T) -> (f64, T) {
    let mut best = f64::INFINITY;
    let mut out = None;
    for _ in 0..runs {
        drop(out.take());
        let t = Instant::now();
        let v = f();
        best = best.min(t.elapsed().as_secs_f64() * 1e3);
        out = Some(v);
    }
    (best, out.expect("runs > 0"))
}

fn main() {
    let n = 1_000_000;
    let cloud = scenes::big_points(n);
    let dir = std::env::temp_dir().join(format!("vislab-ply-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("cloud_1m.ply");
    std::fs::write(&path, write_points(&cloud, PlyEncoding::BinaryLittleEndian)).expect("write PLY");
    let size_mb = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0) as f64 / 1e6;

    let (read_ms, bytes) = best_ms(5, || std::fs::read(&path).expect("read"));
    let body_at = bytes.windows(11).position(|w| w == b"end_header\n").expect("header") + 11;
    let stride = 6 * 4 + 3;
    let (loop_ms, plain) = best_ms(5, || {
        let body = &bytes[body_at..];
        let (mut pos, mut nrm, mut col) = (Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n));
        let f = |r: &[u8], i: usize| f32::from_le_bytes([r[4 * i], r[4 * i + 1], r[4 * i + 2], r[4 * i + 3]]);
        for r in body.chunks_exact(stride) {
            pos.push([f(r, 0), f(r, 1), f(r, 2)]);
            nrm.push([f(r, 3), f(r, 4), f(r, 5)]);
            col.push([r[24], r[25], r[26]].map(|c| c as f32 / 255.0));
        }
        (pos, nrm, col)
    });
    let (parse_ms, _) = best_ms(5, || load_bytes("cloud_1m.ply", &bytes).expect("parse"));
    let (load_ms, asset) = best_ms(5, || load_path(&path).expect("load"));
    let Asset::Points(loaded) = asset else { panic!("expected points") };
    assert_eq!(loaded.positions, plain.0, "loader and plain loop disagree");
    assert_eq!(loaded.positions.len(), n);

    let reference = read_ms + loop_ms;
    println!("1M-point binary PLY ({size_mb:.1} MB: xyz, normals, rgb), best of 5:");
    println!("  read bytes         {read_ms:8.1} ms");
    println!("  plain decode loop  {loop_ms:8.1} ms");
    println!("  load_bytes (parse) {parse_ms:8.1} ms");
    println!("  load_path          {load_ms:8.1} ms");
    println!("  ratio parse / plain loop         = {:.2}", parse_ms / loop_ms);
    println!("  ratio load / (read + plain loop) = {:.2}", load_ms / reference);
    std::fs::remove_dir_all(&dir).ok();
}
