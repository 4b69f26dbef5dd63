//! PLY (Stanford polygon format): ascii, binary little and big endian.
//! Vertices with optional normals, colours (integer 0..max or float 0..1) and one
//! extra scalar; faces of any size are fan-triangulated. Faces present -> mesh,
//! none -> point cloud.
//!
//! Hand-written: ply-rs 0.1.3 decodes every record into a hash map of named
//! properties (`DefaultElement`), costly at millions of points, and its errors
//! do not say how far a truncated body got; a fixed-stride decoder is short.

use super::bytes::{Cursor, Endian};
use super::{check_index, fan_triangulate, text};
use crate::geometry::{Asset, FormatError, Mesh, PointCloud};

const ASCII: &str = "ascii PLY";
const HEADER: &str = "PLY header";

#[derive(Clone, Copy, Debug, PartialEq)]
enum Scalar {
    I8,
    U8,
    I16,
    U16,
    I32,
    U32,
    F32,
    F64,
}

impl Scalar {
    fn parse(name: &str) -> Option<Scalar> {
        Some(match name {
            "char" | "int8" => Scalar::I8,
            "uchar" | "uint8" => Scalar::U8,
            "short" | "int16" => Scalar::I16,
            "ushort" | "uint16" => Scalar::U16,
            "int" | "int32" => Scalar::I32,
            "uint" | "uint32" => Scalar::U32,
            "float" | "float32" => Scalar::F32,
            "double" | "float64" => Scalar::F64,
            _ => return None,
        })
    }
    fn size(self) -> usize {
        match self {
            Scalar::I8 | Scalar::U8 => 1,
            Scalar::I16 | Scalar::U16 => 2,
            Scalar::I32 | Scalar::U32 | Scalar::F32 => 4,
            Scalar::F64 => 8,
        }
    }
    /// Decode from the start of `b`; `None` when `b` is too short.
    fn decode(self, b: &[u8], e: Endian) -> Option<f64> {
        macro_rules! num {
            ($t:ty) => {{
                let a = b.get(..std::mem::size_of::<$t>())?.try_into().ok()?;
                (match e {
                    Endian::Little => <$t>::from_le_bytes(a),
                    Endian::Big => <$t>::from_be_bytes(a),
                }) as f64
            }};
        }
        Some(match self {
            Scalar::I8 => num!(i8),
            Scalar::U8 => num!(u8),
            Scalar::I16 => num!(i16),
            Scalar::U16 => num!(u16),
            Scalar::I32 => num!(i32),
            Scalar::U32 => num!(u32),
            Scalar::F32 => num!(f32),
            Scalar::F64 => num!(f64),
        })
    }
    /// Divisor mapping a stored colour channel to [0, 1].
    fn color_max(self) -> f32 {
        match self {
            Scalar::U8 | Scalar::I8 => 255.0,
            Scalar::U16 | Scalar::I16 => 65535.0,
            Scalar::U32 | Scalar::I32 => u32::MAX as f32,
            Scalar::F32 | Scalar::F64 => 1.0,
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum Kind {
    Scalar(Scalar),
    List { count: Scalar, item: Scalar },
}

#[derive(Debug)]
struct Property {
    name: String,
    kind: Kind,
}

#[derive(Debug)]
struct Element {
    name: String,
    count: usize,
    props: Vec<Property>,
}

impl Element {
    /// Record size when there are no lists.
    fn stride(&self) -> Option<usize> {
        self.props
            .iter()
            .map(|p| match p.kind {
                Kind::Scalar(s) => Some(s.size()),
                Kind::List { .. } => None,
            })
            .sum()
    }
    fn min_record_size(&self) -> usize {
        self.props
            .iter()
            .map(|p| match p.kind {
                Kind::Scalar(s) => s.size(),
                Kind::List { count, .. } => count.size(),
            })
            .sum::<usize>()
            .max(1)
    }
    fn find(&self, names: &[&str]) -> Option<usize> {
        self.props.iter().position(|p| matches!(p.kind, Kind::Scalar(_)) && names.contains(&p.name.as_str()))
    }
    fn scalar_type(&self, i: usize) -> Option<Scalar> {
        match self.props.get(i)?.kind {
            Kind::Scalar(s) => Some(s),
            Kind::List { .. } => None,
        }
    }
    /// Plural noun for messages ("vertices", "faces", "edge records").
    fn noun(&self) -> String {
        match self.name.as_str() {
            "vertex" => "vertices".into(),
            "face" => "faces".into(),
            n => format!("{n} records"),
        }
    }
}

enum Encoding {
    Ascii,
    Binary(Endian),
}

struct Header {
    encoding: Encoding,
    elements: Vec<Element>,
}

/// True when the data starts like a PLY file.
pub fn sniff(bytes: &[u8]) -> bool {
    bytes.starts_with(b"ply\n") || bytes.starts_with(b"ply\r\n")
}

fn parse_header(cur: &mut Cursor) -> Result<Header, FormatError> {
    let bad = |d: String| FormatError::invalid(HEADER, d);
    match cur.line() {
        Some(b"ply") => {}
        _ => return Err(bad("file does not start with 'ply'".into())),
    }
    let mut encoding = None;
    let mut elements: Vec<Element> = Vec::new();
    loop {
        let Some(raw) = cur.line() else {
            return Err(FormatError::truncated(HEADER, "no end_header line"));
        };
        let line = text::utf8(HEADER, raw)?;
        let mut words = line.split_ascii_whitespace();
        match words.next() {
            None | Some("comment") | Some("obj_info") => {}
            Some("end_header") => break,
            Some("format") => {
                encoding = Some(match words.next() {
                    Some("ascii") => Encoding::Ascii,
                    Some("binary_little_endian") => Encoding::Binary(Endian::Little),
                    Some("binary_big_endian") => Encoding::Binary(Endian::Big),
                    other => return Err(bad(format!("unknown format {:?}", other.unwrap_or("")))),
                })
            }
            Some("element") => {
                let (Some(name), Some(count)) = (words.next(), words.next()) else {
                    return Err(bad(format!("bad element line {line:?}")));
                };
                let count = count.parse().map_err(|_| bad(format!("bad element count in {line:?}")))?;
                elements.push(Element { name: name.to_string(), count, props: Vec::new() });
            }
            Some("property") => {
                let Some(element) = elements.last_mut() else {
                    return Err(bad("property before any element".into()));
                };
                let ty = |w: Option<&str>| w.and_then(Scalar::parse).ok_or_else(|| bad(format!("bad property line {line:?}")));
                let kind = match words.next() {
                    Some("list") => Kind::List { count: ty(words.next())?, item: ty(words.next())? },
                    w => Kind::Scalar(ty(w)?),
                };
                let name = words.next().ok_or_else(|| bad(format!("property without a name: {line:?}")))?;
                if let Kind::List { count: Scalar::F32 | Scalar::F64, .. } = kind {
                    return Err(bad(format!("list count must be an integer type: {line:?}")));
                }
                element.props.push(Property { name: name.to_string(), kind });
            }
            Some(other) => return Err(bad(format!("unknown header keyword {other:?}"))),
        }
    }
    let encoding = encoding.ok_or_else(|| bad("no format line".into()))?;
    Ok(Header { encoding, elements })
}

/// "expected N things, file ends after K".
fn short_of(format: &'static str, el: &Element, done: usize) -> FormatError {
    FormatError::truncated(format, format!("expected {} {}, file ends after {done}", el.count, el.noun()))
}

/// The body after the header: either whitespace-separated tokens or bytes.
enum Body<'a> {
    Ascii(std::str::SplitAsciiWhitespace<'a>),
    Binary(Cursor<'a>, Endian),
}

impl<'a> Body<'a> {
    fn format(&self) -> &'static str {
        match self {
            Body::Ascii(_) => ASCII,
            Body::Binary(_, Endian::Little) => "binary PLY",
            Body::Binary(_, Endian::Big) => "big-endian binary PLY",
        }
    }
    fn short(&self, el: &Element, done: usize) -> FormatError {
        short_of(self.format(), el, done)
    }
    /// Next scalar; `Ok(None)` at the end of the data.
    fn scalar(&mut self, s: Scalar) -> Result<Option<f64>, FormatError> {
        match self {
            Body::Ascii(tokens) => match tokens.next() {
                None => Ok(None),
                Some(t) => text::number::<f64>(ASCII, t, || "body".into()).map(Some),
            },
            Body::Binary(cur, e) => Ok(cur.take(s.size()).and_then(|b| s.decode(b, *e))),
        }
    }

    /// Take a binary element of fixed-size records (no lists) in one piece;
    /// `None` for ascii bodies and elements with lists or no properties.
    fn fixed_records(&mut self, el: &Element) -> Result<Option<FixedRecords<'a>>, FormatError> {
        let (Some(stride), false) = (el.stride(), el.props.is_empty()) else { return Ok(None) };
        let format = self.format();
        let short = |done| short_of(format, el, done);
        let Body::Binary(cur, endian) = self else { return Ok(None) };
        let need = el.count.checked_mul(stride).ok_or_else(|| short(0))?;
        let remaining = cur.remaining();
        let data = cur.take(need).ok_or_else(|| short(remaining / stride))?;
        let fields = el
            .props
            .iter()
            .scan(0, |off, p| {
                let Kind::Scalar(s) = p.kind else { return None };
                let at = *off;
                *off += s.size();
                Some((at, s))
            })
            .collect();
        Ok(Some(FixedRecords { data, stride, endian: *endian, fields }))
    }

    /// Read every record of `el`, calling `f(scalars, first_list)` for each. The
    /// scalars slice is indexed by property (lists hold NaN there); only the first
    /// list property's items are kept.
    fn read_element(&mut self, el: &Element, mut f: impl FnMut(&[f64], &[f64]) -> Result<(), FormatError>) -> Result<(), FormatError> {
        if el.props.is_empty() {
            // Records of nothing occupy no data: skip them rather than loop `count` times.
            return Ok(());
        }
        let mut scalars = vec![f64::NAN; el.props.len()];
        let mut list = Vec::new();
        if let Some(fixed) = self.fixed_records(el)? {
            for rec in fixed.records() {
                for (k, slot) in scalars.iter_mut().enumerate() {
                    *slot = fixed.value(rec, k);
                }
                f(&scalars, &list)?;
            }
            return Ok(());
        }
        let format = self.format();
        for done in 0..el.count {
            let mut first_list = true;
            for (slot, p) in scalars.iter_mut().zip(&el.props) {
                match p.kind {
                    Kind::Scalar(s) => *slot = self.scalar(s)?.ok_or_else(|| self.short(el, done))?,
                    Kind::List { count, item } => {
                        let n = self.scalar(count)?.ok_or_else(|| self.short(el, done))?;
                        if !(0.0..=1e6).contains(&n) || n.fract() != 0.0 {
                            return Err(FormatError::invalid(format, format!("{} {done}: bad list length {n}", el.name)));
                        }
                        if first_list {
                            list.clear();
                        }
                        for _ in 0..n as usize {
                            let v = self.scalar(item)?.ok_or_else(|| self.short(el, done))?;
                            if first_list {
                                list.push(v);
                            }
                        }
                        first_list = false;
                    }
                }
            }
            f(&scalars, &list)?;
        }
        Ok(())
    }
}

/// A binary element's records, all the same size: decoded in place.
struct FixedRecords<'a> {
    data: &'a [u8],
    stride: usize,
    endian: Endian,
    /// (byte offset in the record, type) per property.
    fields: Vec<(usize, Scalar)>,
}

impl FixedRecords<'_> {
    fn records(&self) -> std::slice::ChunksExact<'_, u8> {
        self.data.chunks_exact(self.stride)
    }
    /// Property `k` of one record (NaN if absent).
    fn value(&self, rec: &[u8], k: usize) -> f64 {
        self.fields.get(k).and_then(|&(at, s)| rec.get(at..).and_then(|b| s.decode(b, self.endian))).unwrap_or(f64::NAN)
    }
}

/// Where each vertex attribute lives among the vertex element's properties.
struct VertexLayout {
    xyz: [usize; 3],
    normal: Option<[usize; 3]>,
    color: Option<([usize; 3], f32)>,
    scalar: Option<usize>,
}

impl VertexLayout {
    fn new(el: &Element) -> Result<Self, FormatError> {
        let three = |names: [&[&str]; 3]| Some([el.find(names[0])?, el.find(names[1])?, el.find(names[2])?]);
        let xyz = three([&["x"], &["y"], &["z"]]).ok_or_else(|| FormatError::invalid(HEADER, "vertex element lacks x, y or z"))?;
        let normal = three([&["nx"], &["ny"], &["nz"]]);
        let color = three([&["red", "r", "diffuse_red"], &["green", "g", "diffuse_green"], &["blue", "b", "diffuse_blue"]])
            .map(|c| (c, el.scalar_type(c[0]).map_or(1.0, Scalar::color_max)));
        let used: Vec<usize> = xyz.iter().chain(normal.iter().flatten()).chain(color.iter().flat_map(|c| &c.0)).copied().collect();
        let skip = ["alpha", "a", "diffuse_alpha", "u", "v", "s", "t", "texture_u", "texture_v"];
        let scalar = (0..el.props.len()).find(|i| !used.contains(i) && el.scalar_type(*i).is_some() && el.props.get(*i).is_some_and(|p| !skip.contains(&p.name.as_str())));
        Ok(VertexLayout { xyz, normal, color, scalar })
    }
}

/// Vertex attributes as they are read.
struct Vertices {
    layout: VertexLayout,
    positions: Vec<[f32; 3]>,
    normals: Vec<[f32; 3]>,
    colors: Vec<[f32; 3]>,
    scalar: Vec<f32>,
}

impl Vertices {
    fn new(el: &Element, cap: usize) -> Result<Self, FormatError> {
        let layout = VertexLayout::new(el)?;
        let room = |on: bool| if on { cap } else { 0 };
        Ok(Vertices {
            positions: Vec::with_capacity(cap),
            normals: Vec::with_capacity(room(layout.normal.is_some())),
            colors: Vec::with_capacity(room(layout.color.is_some())),
            scalar: Vec::with_capacity(room(layout.scalar.is_some())),
            layout,
        })
    }
    /// Add one vertex; `get(k)` is the value of property `k`.
    fn push(&mut self, get: impl Fn(usize) -> f64) {
        // Spelled out: `[T; 3]::map` with closures is not inlined here and costs 2x.
        let three = |i: [usize; 3]| [get(i[0]) as f32, get(i[1]) as f32, get(i[2]) as f32];
        let l = &self.layout;
        self.positions.push(three(l.xyz));
        if let Some(n) = l.normal {
            self.normals.push(three(n));
        }
        if let Some((c, max)) = l.color {
            let [r, g, b] = three(c);
            let unit = |v: f32| (v / max).clamp(0.0, 1.0);
            self.colors.push([unit(r), unit(g), unit(b)]);
        }
        if let Some(k) = l.scalar {
            self.scalar.push(get(k) as f32);
        }
    }
    fn read(el: &Element, body: &mut Body, cap: usize) -> Result<Self, FormatError> {
        let mut v = Vertices::new(el, cap)?;
        body.read_element(el, |s, _| {
            v.push(|k| s.get(k).copied().unwrap_or(f64::NAN));
            Ok(())
        })?;
        // One pass afterwards is cheaper than a branch per vertex.
        if let Some(i) = v.positions.iter().position(|p| !p.iter().all(|c| c.is_finite())) {
            let p = v.positions.get(i).copied().unwrap_or_default();
            return Err(FormatError::invalid(body.format(), format!("vertex {i} is not finite: {p:?}")));
        }
        Ok(v)
    }
}

/// Parse a PLY file into a mesh (faces present) or a point cloud.
pub fn read(bytes: &[u8]) -> Result<Asset, FormatError> {
    let mut cur = Cursor::new(bytes);
    let header = parse_header(&mut cur)?;
    let mut body = match header.encoding {
        Encoding::Ascii => Body::Ascii(text::utf8(ASCII, cur.rest())?.split_ascii_whitespace()),
        Encoding::Binary(e) => Body::Binary(cur, e),
    };
    let format = body.format();
    let mut vertices: Option<Vertices> = None;
    let mut triangles: Vec<[u32; 3]> = Vec::new();
    let mut has_faces = false;
    for el in &header.elements {
        // Never trust a count to size an allocation beyond what the data can hold.
        let cap = el.count.min(bytes.len() / el.min_record_size());
        match el.name.as_str() {
            "vertex" if vertices.is_none() => vertices = Some(Vertices::read(el, &mut body, cap)?),
            "face" if !has_faces => {
                has_faces = el.count > 0;
                if !el.props.iter().any(|p| matches!(p.kind, Kind::List { .. })) {
                    return Err(FormatError::invalid(HEADER, "face element has no vertex index list"));
                }
                let n = vertices.as_ref().map_or(0, |v| v.positions.len());
                triangles.reserve(cap);
                let mut face = Vec::new();
                let mut face_no = 0usize;
                body.read_element(el, |_, list| {
                    face.clear();
                    for &v in list {
                        let i = if v.fract() == 0.0 { v as i64 } else { -1 };
                        face.push(check_index(i, n).map_err(|m| FormatError::invalid(format, format!("face {face_no}: {m}")))?);
                    }
                    fan_triangulate(&face, &mut triangles);
                    face_no += 1;
                    Ok(())
                })?;
            }
            _ => body.read_element(el, |_, _| Ok(()))?,
        }
    }
    let Some(v) = vertices else {
        return Err(FormatError::invalid(HEADER, "no vertex element"));
    };
    let normals = v.layout.normal.map(|_| v.normals);
    let colors = v.layout.color.map(|_| v.colors);
    Ok(if has_faces {
        Asset::Mesh(Mesh { positions: v.positions, triangles, normals, colors })
    } else {
        let scalar = v.layout.scalar.and_then(|k| header.elements.iter().find(|e| e.name == "vertex")?.props.get(k)).map(|p| (p.name.clone(), v.scalar));
        Asset::Points(PointCloud { positions: v.positions, colors, normals, scalar })
    })
}

/// How to encode a written PLY file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlyEncoding {
    Ascii,
    BinaryLittleEndian,
}

/// Writes a header and vertex records; shared by meshes and point clouds.
struct Writer {
    out: Vec<u8>,
    enc: PlyEncoding,
}

impl Writer {
    fn new(enc: PlyEncoding) -> Self {
        let format = match enc {
            PlyEncoding::Ascii => "ascii",
            PlyEncoding::BinaryLittleEndian => "binary_little_endian",
        };
        Writer { out: format!("ply\nformat {format} 1.0\ncomment written by vislab\n").into_bytes(), enc }
    }
    fn line(&mut self, s: &str) {
        self.out.extend_from_slice(s.as_bytes());
        self.out.push(b'\n');
    }
    fn f32(&mut self, v: f32) {
        match self.enc {
            PlyEncoding::Ascii => self.out.extend_from_slice(format!("{v} ").as_bytes()),
            PlyEncoding::BinaryLittleEndian => self.out.extend_from_slice(&v.to_le_bytes()),
        }
    }
    fn u8(&mut self, v: u8) {
        match self.enc {
            PlyEncoding::Ascii => self.out.extend_from_slice(format!("{v} ").as_bytes()),
            PlyEncoding::BinaryLittleEndian => self.out.push(v),
        }
    }
    fn u32(&mut self, v: u32) {
        match self.enc {
            PlyEncoding::Ascii => self.out.extend_from_slice(format!("{v} ").as_bytes()),
            PlyEncoding::BinaryLittleEndian => self.out.extend_from_slice(&v.to_le_bytes()),
        }
    }
    fn end_record(&mut self) {
        if self.enc == PlyEncoding::Ascii {
            self.out.pop();
            self.out.push(b'\n');
        }
    }
    fn vertex_header(&mut self, n: usize, normals: bool, colors: bool, scalar: Option<&str>) {
        self.line(&format!("element vertex {n}\nproperty float x\nproperty float y\nproperty float z"));
        if normals {
            self.line("property float nx\nproperty float ny\nproperty float nz");
        }
        if colors {
            self.line("property uchar red\nproperty uchar green\nproperty uchar blue");
        }
        if let Some(name) = scalar {
            self.line(&format!("property float {}", name.replace(|c: char| c.is_whitespace(), "_")));
        }
    }
    fn vertices(&mut self, pos: &[[f32; 3]], normals: Option<&[[f32; 3]]>, colors: Option<&[[f32; 3]]>, scalar: Option<&[f32]>) {
        for (i, p) in pos.iter().enumerate() {
            p.iter().for_each(|&v| self.f32(v));
            if let Some(n) = normals {
                n.get(i).copied().unwrap_or_default().iter().for_each(|&v| self.f32(v));
            }
            if let Some(c) = colors {
                let c = c.get(i).copied().unwrap_or_default();
                c.iter().for_each(|&v| self.u8((v.clamp(0.0, 1.0) * 255.0).round() as u8));
            }
            if let Some(s) = scalar {
                self.f32(s.get(i).copied().unwrap_or(0.0));
            }
            self.end_record();
        }
    }
}

/// Encode a mesh (positions, optional normals and colours, triangles).
pub fn write_mesh(mesh: &Mesh, enc: PlyEncoding) -> Vec<u8> {
    let mut w = Writer::new(enc);
    w.vertex_header(mesh.positions.len(), mesh.normals.is_some(), mesh.colors.is_some(), None);
    w.line(&format!("element face {}\nproperty list uchar uint vertex_indices\nend_header", mesh.triangles.len()));
    w.vertices(&mesh.positions, mesh.normals.as_deref(), mesh.colors.as_deref(), None);
    for t in &mesh.triangles {
        w.u8(3);
        t.iter().for_each(|&i| w.u32(i));
        w.end_record();
    }
    w.out
}

/// Encode a point cloud (positions, optional normals, colours and scalar).
pub fn write_points(points: &PointCloud, enc: PlyEncoding) -> Vec<u8> {
    let mut w = Writer::new(enc);
    let scalar = points.scalar.as_ref();
    w.vertex_header(points.positions.len(), points.normals.is_some(), points.colors.is_some(), scalar.map(|s| s.0.as_str()));
    w.line("end_header");
    w.vertices(&points.positions, points.normals.as_deref(), points.colors.as_deref(), scalar.map(|s| s.1.as_slice()));
    w.out
}
