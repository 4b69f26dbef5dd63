//! Object File Format (Geomview OFF, also NOFF / COFF / CNOFF / STOFF): a
//! header line, `nv nf ne`, vertex lines `x y z [nx ny nz] [r g b a] [s t]`,
//! face lines `n i1 .. in [colour]`. Hand-written (no maintained crate).

use super::{check_index, fan_triangulate, text};
use crate::geometry::{Asset, FormatError, Mesh};
use std::fmt::Write;

const OFF: &str = "OFF";

pub fn read(bytes: &[u8]) -> Result<Asset, FormatError> {
    let src = text::utf8(OFF, bytes)?;
    // Numbered non-empty lines with comments removed.
    let mut lines = src.lines().enumerate().map(|(i, l)| (i + 1, l.split('#').next().unwrap_or("").trim())).filter(|(_, l)| !l.is_empty());
    let (_, first) = lines.next().ok_or_else(|| FormatError::truncated(OFF, "empty file"))?;
    let mut head = first.split_ascii_whitespace();
    let keyword = head.next().unwrap_or("");
    let Some(prefix) = keyword.strip_suffix("OFF") else {
        return Err(FormatError::invalid(OFF, format!("first line {keyword:?} is not an OFF header")));
    };
    if head.clone().next() == Some("BINARY") {
        return Err(FormatError::invalid(OFF, "binary OFF is not supported"));
    }
    let has_uv = prefix.contains("ST");
    let has_color = prefix.contains('C');
    let has_normal = prefix.contains('N');
    if prefix.chars().any(|c| !"STCN".contains(c)) {
        return Err(FormatError::invalid(OFF, format!("unsupported variant {keyword:?}")));
    }
    // Counts may follow the keyword on the same line.
    let counts: Vec<&str> = head.collect();
    let (count_line, counts) = if counts.is_empty() {
        let (n, l) = lines.next().ok_or_else(|| FormatError::truncated(OFF, "no counts line"))?;
        (n, l.split_ascii_whitespace().collect())
    } else {
        (1, counts)
    };
    let count = |k: usize| -> Result<usize, FormatError> {
        let t = counts.get(k).ok_or_else(|| FormatError::invalid(OFF, format!("line {count_line}: expected vertex and face counts")))?;
        text::number(OFF, t, || format!("line {count_line}"))
    };
    let (nv, nf) = (count(0)?, count(1)?);
    let cap = nv.min(bytes.len() / 6);
    let mut positions = Vec::with_capacity(cap);
    let mut normals = Vec::new();
    let mut colors = Vec::new();
    for k in 0..nv {
        let (no, l) = lines.next().ok_or_else(|| FormatError::truncated(OFF, format!("expected {nv} vertices, file ends after {k}")))?;
        let v: Vec<f32> = l.split_ascii_whitespace().map(|t| text::float(OFF, t, || format!("line {no}"))).collect::<Result<_, _>>()?;
        let need = 3 + if has_normal { 3 } else { 0 } + if has_color { 3 } else { 0 } + if has_uv { 2 } else { 0 };
        if v.len() < need {
            return Err(FormatError::invalid(OFF, format!("line {no}: vertex needs {need} numbers, has {}", v.len())));
        }
        positions.push([v[0], v[1], v[2]]);
        let mut at = 3;
        if has_normal {
            normals.push([v[3], v[4], v[5]]);
            at = 6;
        }
        if has_color {
            colors.push([v[at], v[at + 1], v[at + 2]]);
        }
    }
    let mut triangles = Vec::with_capacity(nf.min(bytes.len() / 6));
    let mut face = Vec::new();
    for k in 0..nf {
        let (no, l) = lines.next().ok_or_else(|| FormatError::truncated(OFF, format!("expected {nf} faces, file ends after {k}")))?;
        let at = || format!("line {no}");
        let mut tok = l.split_ascii_whitespace();
        let n: usize = text::number(OFF, tok.next().unwrap_or(""), at)?;
        face.clear();
        for _ in 0..n {
            let t = tok.next().ok_or_else(|| FormatError::invalid(OFF, format!("{}: face lists {n} vertices but has fewer", at())))?;
            let i: i64 = text::number(OFF, t, at)?;
            face.push(check_index(i, nv).map_err(|m| FormatError::invalid(OFF, format!("{}: {m}", at())))?);
        }
        fan_triangulate(&face, &mut triangles);
    }
    // Colours are either 0..1 floats or 0..255 integers.
    if colors.iter().flatten().any(|&c| c > 1.0) {
        colors.iter_mut().flatten().for_each(|c| *c /= 255.0);
    }
    Ok(Asset::Mesh(Mesh { positions, triangles, normals: has_normal.then_some(normals), colors: has_color.then_some(colors) }))
}

/// Encode a mesh as OFF (COFF with RGBA floats when it has colours).
pub fn write(mesh: &Mesh) -> Vec<u8> {
    let colors = mesh.colors.as_ref();
    let mut s = String::from(if colors.is_some() { "COFF\n" } else { "OFF\n" });
    let _ = writeln!(s, "{} {} 0", mesh.positions.len(), mesh.triangles.len());
    for (i, p) in mesh.positions.iter().enumerate() {
        let _ = write!(s, "{} {} {}", p[0], p[1], p[2]);
        if let Some(c) = colors {
            let c = c.get(i).copied().unwrap_or_default();
            let _ = write!(s, " {} {} {} 1", c[0], c[1], c[2]);
        }
        s.push('\n');
    }
    for t in &mesh.triangles {
        let _ = writeln!(s, "3 {} {} {}", t[0], t[1], t[2]);
    }
    s.into_bytes()
}
