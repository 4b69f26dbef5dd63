//! Training: the model interface, reference models, checkpoints and the
//! threaded trainer.

pub mod model;

pub use model::{Model, ModelError, Param, StepOutput};
