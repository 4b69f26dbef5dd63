//! Vislab's engine. Nothing here knows about the UI: the app depends on this
//! crate, never the other way round.

pub mod check;
pub mod cpu;
pub mod data;
pub mod error;
pub mod geometry;
pub mod graph;
pub mod init;
pub mod knn;
pub mod metrics;
pub mod model;
pub mod models;
pub mod nn;
pub mod optim;
pub mod rng;
pub mod surface;
pub mod train;
