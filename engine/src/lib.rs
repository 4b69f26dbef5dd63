//! Vislab's engine. Nothing here knows about the UI: the app depends on this
//! crate, never the other way round.

pub mod data;
pub mod geometry;
pub mod init;
pub mod optim;
pub mod rng;
pub mod train;
