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
