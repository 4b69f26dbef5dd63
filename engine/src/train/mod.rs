//! Training: the model interface, reference models, checkpoints and the
//! threaded trainer.

pub mod checkpoint;
pub mod epoch_worker;
pub mod metrics_csv;
pub mod model;
pub mod prefetch;
pub mod reference;
pub mod report;
pub mod search;
pub mod trainer;

pub use metrics_csv::{EpochMetrics, MetricsCsv};
pub use model::{LayerProbe, Model, ModelError, Param, StepOutput, init_params, reinit, relu_rule};
pub use trainer::{EarlyStopping, Event, Finished, Job, Progress, SampleHook, StopReason, Timings, TrainConfig, TrainError, TrainerHandle, evaluate, progress_of, save_training};
