//! Vislab's engine. Nothing here knows about the UI: the app depends on this
//! crate, never the other way round.
//!
//! Training pipeline: build a [`graph::Graph`] (luminal 0.2.0 primitive ops,
//! runtime shapes, dynamic batch dim `B`) from [`nn`] layers, hand it to
//! [`model::Model::compile`] which adds the backward pass
//! ([`graph::autograd`], primitive ops only) and lowers everything to our
//! [`cpu::Program`]; then per step `set_batch` / `set_input` / `train_step`
//! and read or write parameters and gradients by PyTorch-style name.
//! [`check`] holds the finite-difference and reference-comparison helpers
//! every op and layer is tested with.

pub mod check;
pub mod cpu;
pub mod csv_file;
pub mod data;
pub mod depthpred;
pub mod detection;
pub mod error;
pub mod export;
pub mod gan;
pub mod gcn;
pub mod geometry;
pub mod graph;
pub mod implicit;
pub mod init;
pub mod job;
pub mod knn;
pub mod linear;
pub mod metrics;
pub mod model;
pub mod models;
pub mod nn;
pub mod optim;
pub mod pixelcnn;
pub mod registry;
pub mod rng;
pub mod segmentation;
pub mod shapes3d;
pub mod surface;
pub mod train;
pub mod upsampling;
pub mod vae;
