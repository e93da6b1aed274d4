//! migration-gate: stops risky database migrations before production.
//!
//! The pipeline: `discover` finds migration sets, `frontend` turns text into the `model`,
//! `rules` read the model and write `diagnostic`s, `report` renders them.

pub mod app;
mod baseline;
pub mod cli;
pub mod comment;
pub mod config;
pub mod diagnostic;
pub mod discover;
pub mod frontend;
pub mod gate;
mod git;
mod history;
pub mod lint;
pub mod model;
pub mod report;
pub mod roundtrip;
pub mod rules;
