//! Engine error type.

use thiserror::Error;

#[derive(Debug, Error, Clone, PartialEq)]
pub enum EngineError {
    /// Shapes that do not fit together, or a view op that cannot be expressed.
    #[error("shape error: {0}")]
    Shape(String),
    /// A graph node this crate has no rule for.
    #[error("unsupported op: {0}")]
    Unsupported(String),
    /// A name (parameter, input, output) that the model does not have.
    #[error("unknown name `{0}`")]
    UnknownName(String),
    /// Data of the wrong length or with bad values.
    #[error("bad input `{name}`: {msg}")]
    BadInput { name: String, msg: String },
    /// A dynamic dim used by the graph has no value yet.
    #[error("dynamic dim `{0}` has no value; call set_batch first")]
    MissingDim(String),
    #[error("graph has a cycle")]
    Cycle,
    #[error("io error: {0}")]
    Io(String),
}
