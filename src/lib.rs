//! migration-gate: stops risky database migrations before production.
//!
//! Commands on top (`commands`: one call per subcommand, orchestrating the pipeline), the
//! pipeline below: `discover` finds migration sets, `frontend` turns text into the `model`,
//! `rules` read the model and write `diagnostic`s (`lint` runs them), `report` renders them,
//! and `roundtrip` proves revisions on a real PostgreSQL.

pub mod cli;
pub mod commands;
pub mod config;
pub mod config_reference;
pub mod diagnostic;
pub mod discover;
pub mod fix;
pub mod frontend;
pub mod lint;
pub mod model;
pub mod report;
pub mod roundtrip;
pub mod rules;
