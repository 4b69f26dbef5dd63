//! Point Cloud Library .pcd files: ascii, binary and binary_compressed (LZF)
//! data; fields x y z, optional normal_x/y/z, rgb/rgba (packed 0x00RRGGBB) and
//! one extra scalar (intensity or the first other field). Points with a
//! non-finite coordinate (holes in organised clouds) are dropped.
//!
//! Hand-written: three-d-asset's PCD path unwraps a missing x/y/z field and
//! hits `unimplemented!` on an integer rgb field.

use super::bytes::{Cursor, Endian};
use super::text;
use crate::geometry::{Asset, FormatError, PointCloud};

const PCD: &str = "PCD";

#[derive(Clone, Debug)]
struct Field {
    name: String,
    size: usize,
    ty: u8,
    count: usize,
}

impl Field {
    /// The first value of this field from its bytes: (number, raw 32-bit pattern).
    fn decode(&self, b: &[u8]) -> Option<(f64, u32)> {
        if !matches!(self.size, 1 | 2 | 4 | 8) {
            return None;
        }
        let le = |n: usize| -> Option<u64> {
            let mut a = [0u8; 8];
            a.get_mut(..n)?.copy_from_slice(b.get(..n)?);
            Some(u64::from_le_bytes(a))
        };
        let raw = le(self.size)?;
        let v = match (self.ty, self.size) {
            (b'F', 4) => f32::from_bits(raw as u32) as f64,
            (b'F', 8) => f64::from_bits(raw),
            (b'U', _) => raw as f64,
            (b'I', n) => ((raw << (64 - 8 * n)) as i64 >> (64 - 8 * n)) as f64,
            _ => return None,
        };
        Some((v, raw as u32))
    }
    /// The same from an ascii token.
    fn parse(&self, t: &str) -> Option<(f64, u32)> {
        if self.ty == b'F' {
            let v: f64 = t.parse().ok()?;
            Some((v, (v as f32).to_bits()))
        } else {
            let v: i64 = t.parse().ok()?;
            Some((v as f64, v as u32))
        }
    }
}

/// LZF decompression (the scheme PCL's binary_compressed uses).
fn lzf_decompress(input: &[u8], out_len: usize) -> Option<Vec<u8>> {
    // LZF expands at most ~33x; never trust the declared size for the allocation.
    let mut out = Vec::with_capacity(out_len.min(input.len().saturating_mul(33)));
    let mut cur = Cursor::new(input);
    while let Some(ctrl) = cur.u8() {
        if ctrl < 32 {
            out.extend_from_slice(cur.take(ctrl as usize + 1)?);
        } else {
            let mut len = (ctrl >> 5) as usize;
            if len == 7 {
                len += cur.u8()? as usize;
            }
            let back = (((ctrl & 0x1f) as usize) << 8) + cur.u8()? as usize + 1;
            let start = out.len().checked_sub(back)?;
            for k in 0..len + 2 {
                let b = *out.get(start + k)?;
                out.push(b);
            }
        }
        if out.len() > out_len {
            return None;
        }
    }
    (out.len() == out_len).then_some(out)
}

pub fn read(bytes: &[u8]) -> Result<Asset, FormatError> {
    let bad = |d: String| FormatError::invalid(PCD, d);
    let mut cur = Cursor::new(bytes);
    let (mut names, mut sizes, mut types, mut counts) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut points, mut width_height) = (None, (1usize, 1usize));
    let data_kind = loop {
        let line = cur.line().ok_or_else(|| FormatError::truncated(PCD, "header has no DATA line"))?;
        let line = text::utf8(PCD, line)?;
        let mut w = line.split_ascii_whitespace();
        let key = w.next().unwrap_or("");
        let rest: Vec<&str> = w.collect();
        let num = |t: &&str| t.parse::<usize>().map_err(|_| bad(format!("bad header line {line:?}")));
        match key {
            "FIELDS" => names = rest.iter().map(|s| s.to_string()).collect(),
            "SIZE" => sizes = rest.iter().map(num).collect::<Result<_, _>>()?,
            "TYPE" => types = rest.iter().map(|t| t.bytes().next().unwrap_or(b'?')).collect(),
            "COUNT" => counts = rest.iter().map(num).collect::<Result<_, _>>()?,
            "WIDTH" => width_height.0 = rest.first().map(num).transpose()?.unwrap_or(1),
            "HEIGHT" => width_height.1 = rest.first().map(num).transpose()?.unwrap_or(1),
            "POINTS" => points = rest.first().map(num).transpose()?,
            "DATA" => break rest.first().copied().unwrap_or("").to_string(),
            _ => {} // comments, VERSION, VIEWPOINT
        }
    };
    if counts.is_empty() {
        counts = vec![1; names.len()];
    }
    if sizes.len() != names.len() || types.len() != names.len() || counts.len() != names.len() {
        return Err(bad("FIELDS, SIZE, TYPE and COUNT differ in length".into()));
    }
    let fields: Vec<Field> = (0..names.len()).map(|i| Field { name: names[i].clone(), size: sizes[i], ty: types[i], count: counts[i] }).collect();
    if let Some(f) = fields.iter().find(|f| f.decode(&[0; 8]).is_none() || !(1..=1 << 16).contains(&f.count)) {
        return Err(bad(format!("field {:?} has unsupported type {}{}", f.name, f.ty as char, f.size)));
    }
    let n = points.unwrap_or(width_height.0.saturating_mul(width_height.1));
    let find = |names: &[&str]| fields.iter().position(|f| names.contains(&f.name.as_str()));
    let xyz = [find(&["x"]), find(&["y"]), find(&["z"])];
    let [Some(x), Some(y), Some(z)] = xyz else { return Err(bad("no x, y and z fields".into())) };
    let normal = match [find(&["normal_x"]), find(&["normal_y"]), find(&["normal_z"])] {
        [Some(a), Some(b), Some(c)] => Some([a, b, c]),
        _ => None,
    };
    let rgb = find(&["rgb", "rgba"]);
    let used = |i: usize| [x, y, z].contains(&i) || normal.is_some_and(|n| n.contains(&i)) || rgb == Some(i);
    let scalar = find(&["intensity"]).or_else(|| (0..fields.len()).find(|&i| !used(i)));

    // One row of first values per point, whatever the encoding.
    let mut rows: Vec<Vec<(f64, u32)>> = Vec::with_capacity(n.min(bytes.len() / 4));
    let record: usize = fields.iter().map(|f| f.size * f.count).sum();
    let short = |k: usize| FormatError::truncated(PCD, format!("expected {n} points, file ends after {k}"));
    match data_kind.as_str() {
        "ascii" => {
            let body = text::utf8(PCD, cur.rest())?;
            let mut lines = body.lines().filter(|l| !l.trim().is_empty());
            for k in 0..n {
                let tokens: Vec<&str> = lines.next().ok_or_else(|| short(k))?.split_ascii_whitespace().collect();
                let mut at = 0;
                let mut row = Vec::with_capacity(fields.len());
                for f in &fields {
                    let t = tokens.get(at).ok_or_else(|| bad(format!("point {k}: too few values")))?;
                    row.push(f.parse(t).ok_or_else(|| bad(format!("point {k}: {t:?} is not a number")))?);
                    at += f.count;
                }
                rows.push(row);
            }
        }
        "binary" => {
            for k in 0..n {
                let rec = cur.take(record).ok_or_else(|| short(k))?;
                let mut at = 0;
                let mut row = Vec::with_capacity(fields.len());
                for f in &fields {
                    row.push(rec.get(at..).and_then(|b| f.decode(b)).ok_or_else(|| short(k))?);
                    at += f.size * f.count;
                }
                rows.push(row);
            }
        }
        "binary_compressed" => {
            let sizes = (cur.u32(Endian::Little), cur.u32(Endian::Little));
            let (Some(packed), Some(unpacked)) = sizes else { return Err(short(0)) };
            let data = cur.take(packed as usize).ok_or_else(|| short(0))?;
            if unpacked as usize != n.saturating_mul(record) {
                return Err(bad(format!("compressed size {unpacked} does not match {n} points")));
            }
            let data = lzf_decompress(data, unpacked as usize).ok_or_else(|| bad("corrupt compressed data".into()))?;
            // Field-major: all points' x, then all y, ...
            let mut base = 0;
            rows = vec![Vec::with_capacity(fields.len()); n];
            for f in &fields {
                for (k, row) in rows.iter_mut().enumerate() {
                    let at = base + k * f.size * f.count;
                    row.push(data.get(at..).and_then(|b| f.decode(b)).ok_or_else(|| short(k))?);
                }
                base += n * f.size * f.count;
            }
        }
        other => return Err(bad(format!("unknown DATA kind {other:?}"))),
    }
    let get = |row: &[(f64, u32)], i: usize| row.get(i).copied().unwrap_or((f64::NAN, 0));
    let mut cloud = PointCloud::default();
    let (mut normals, mut colors, mut values) = (Vec::new(), Vec::new(), Vec::new());
    for row in &rows {
        let p = [x, y, z].map(|i| get(row, i).0 as f32);
        if !p.iter().all(|v| v.is_finite()) {
            continue;
        }
        cloud.positions.push(p);
        if let Some(nrm) = normal {
            normals.push(nrm.map(|i| get(row, i).0 as f32));
        }
        if let Some(c) = rgb {
            let bits = get(row, c).1;
            colors.push([16, 8, 0].map(|s| ((bits >> s) & 255) as f32 / 255.0));
        }
        if let Some(s) = scalar {
            values.push(get(row, s).0 as f32);
        }
    }
    cloud.normals = normal.map(|_| normals);
    cloud.colors = rgb.map(|_| colors);
    cloud.scalar = scalar.and_then(|s| Some((fields.get(s)?.name.clone(), values)));
    Ok(Asset::Points(cloud))
}
