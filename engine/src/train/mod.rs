//! Training: the model interface, reference models, checkpoints and the
//! threaded trainer.

pub mod checkpoint;
pub mod model;
pub mod reference;

pub use model::{Model, ModelError, Param, StepOutput};
