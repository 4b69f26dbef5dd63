//! Vislab's engine. Nothing here knows about the UI: the app depends on this
//! crate, never the other way round.

pub mod check;
pub mod cpu;
pub mod error;
pub mod geometry;
pub mod graph;
pub mod model;
pub mod nn;
