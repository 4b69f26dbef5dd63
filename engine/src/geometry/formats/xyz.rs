//! Plain-text point lists (.xyz, .txt, .pts, .csv): one point per line,
//! `x y z`, `x y z value`, `x y z r g b` or `x y z r g b value`, separated by
//! whitespace or commas. Colours are 0..1 floats or 0..255 integers (decided
//! over the whole file). `#` and `//` lines and one leading header line are skipped.

use super::text;
use crate::geometry::{Asset, FormatError, PointCloud};
use std::fmt::Write;

const XYZ: &str = "XYZ point list";

pub fn read(bytes: &[u8]) -> Result<Asset, FormatError> {
    let src = text::utf8(XYZ, bytes)?;
    let mut positions = Vec::new();
    let mut colors = Vec::new();
    let mut values = Vec::new();
    let mut columns = None;
    let mut row = Vec::with_capacity(8);
    for (no, line) in src.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with("//") {
            continue;
        }
        let mut tokens = line.split(|c: char| c == ',' || c.is_ascii_whitespace()).filter(|t| !t.is_empty()).peekable();
        // A header such as "x,y,z,r,g,b" may precede the first point.
        if columns.is_none() && positions.is_empty() && tokens.peek().is_some_and(|t| t.parse::<f32>().is_err()) {
            continue;
        }
        row.clear();
        for t in tokens {
            row.push(text::float(XYZ, t, || format!("line {}", no + 1))?);
        }
        let n = *columns.get_or_insert(row.len());
        if row.len() != n {
            return Err(FormatError::invalid(XYZ, format!("line {}: {} columns, earlier lines have {n}", no + 1, row.len())));
        }
        match row[..] {
            [x, y, z] => positions.push([x, y, z]),
            [x, y, z, v] => {
                positions.push([x, y, z]);
                values.push(v);
            }
            [x, y, z, r, g, b] => {
                positions.push([x, y, z]);
                colors.push([r, g, b]);
            }
            [x, y, z, r, g, b, v] => {
                positions.push([x, y, z]);
                colors.push([r, g, b]);
                values.push(v);
            }
            _ => return Err(FormatError::invalid(XYZ, format!("line {}: expected 3, 4, 6 or 7 columns, found {n}", no + 1))),
        }
    }
    if positions.is_empty() {
        return Err(FormatError::invalid(XYZ, "no points"));
    }
    if colors.iter().flatten().any(|&c| c > 1.0) {
        colors.iter_mut().flatten().for_each(|c| *c /= 255.0);
    }
    if colors.iter().flatten().any(|&c| !(0.0..=1.0).contains(&c)) {
        return Err(FormatError::invalid(XYZ, "colour values outside 0..255"));
    }
    Ok(Asset::Points(PointCloud { positions, colors: (!colors.is_empty()).then_some(colors), normals: None, scalar: (!values.is_empty()).then(|| ("value".to_string(), values)) }))
}

/// Encode points as `x y z [r g b]` lines, colours as 0..255 integers.
pub fn write(points: &PointCloud) -> Vec<u8> {
    let mut s = String::new();
    for (i, p) in points.positions.iter().enumerate() {
        let _ = write!(s, "{} {} {}", p[0], p[1], p[2]);
        if let Some(c) = points.colors.as_ref().and_then(|c| c.get(i)) {
            let [r, g, b] = c.map(|v| (v.clamp(0.0, 1.0) * 255.0).round() as u8);
            let _ = write!(s, " {r} {g} {b}");
        }
        s.push('\n');
    }
    s.into_bytes()
}
