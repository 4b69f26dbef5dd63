//! Errors from loading geometry: one line naming the file and what is wrong.

/// What is wrong with a file, without its name (formats return this).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FormatError {
    #[error("cannot read file: {0}")]
    Io(String),
    #[error("unsupported file type {0:?} (supported: {list})", list = super::SUPPORTED_EXTENSIONS.join(", "))]
    UnsupportedExtension(String),
    #[error("truncated {format}: {detail}")]
    Truncated { format: &'static str, detail: String },
    #[error("invalid {format}: {detail}")]
    Invalid { format: &'static str, detail: String },
    #[error("no built-in scene named {0:?}")]
    UnknownScene(String),
}

impl FormatError {
    pub(crate) fn invalid(format: &'static str, detail: impl Into<String>) -> Self {
        FormatError::Invalid { format, detail: one_line(detail.into()) }
    }
    pub(crate) fn truncated(format: &'static str, detail: impl Into<String>) -> Self {
        FormatError::Truncated { format, detail: one_line(detail.into()) }
    }
}

/// Messages from other crates may span lines; ours are shown on one.
fn one_line(s: String) -> String {
    if s.contains('\n') { s.split_whitespace().collect::<Vec<_>>().join(" ") } else { s }
}

/// A failed load: `"<file>: <what is wrong>"`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{file}: {error}")]
pub struct LoadError {
    /// File name as given (no directories), or the scene name.
    pub file: String,
    pub error: FormatError,
}

impl LoadError {
    pub fn new(file: impl Into<String>, error: FormatError) -> Self {
        LoadError { file: file.into(), error }
    }
}

/// Another crate's error with its causes, "outer: inner: innermost".
pub(crate) fn with_causes(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let c_text = c.to_string();
        if !s.contains(&c_text) {
            s = format!("{s}: {c_text}");
        }
        cause = c.source();
    }
    s
}

/// Why a conversion between representations could not be made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConvertError {
    #[error("{0} is empty")]
    Empty(&'static str),
    #[error("{what} has a non-finite value at {index}")]
    NonFinite { what: &'static str, index: usize },
    #[error("triangle {triangle} refers to vertex {vertex}, but the mesh has {count} vertices")]
    BadIndex { triangle: usize, vertex: u32, count: usize },
    #[error("{what} has zero extent: no grid can be fitted to it")]
    Degenerate { what: &'static str },
    #[error("resolution must be between 1 and {max}, got {got}")]
    Resolution { got: usize, max: usize },
    #[error("voxel grid {dims:?} holds {got} values, expected {expected}")]
    GridSize { dims: [usize; 3], got: usize, expected: usize },
    #[error("grid of {dims:?} voxels is too large (at most {max} voxels)")]
    TooLarge { dims: [usize; 3], max: usize },
    #[error("level {0} is not finite")]
    Level(f32),
    #[error("{conversion} does not apply to a {got}")]
    WrongKind { conversion: &'static str, got: &'static str },
}
