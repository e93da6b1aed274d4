//! Findings of `migration-gate gate`, read from a live database without writing to it.

use crate::diagnostic::{Origin, RuleMeta, Severity};

pub static UNKNOWN_REVISION: RuleMeta = RuleMeta {
    id: "gate-unknown-revision",
    severity: Severity::Error,
    summary: "The database is at a revision this repository does not have: deployed code diverged.",
    doc: include_str!("../../rules/gate-unknown-revision.md"),
    origin: Origin::Gate,
};

pub static SCHEMA_DRIFT: RuleMeta = RuleMeta {
    id: "gate-schema-drift",
    severity: Severity::Error,
    summary: "The live schema differs from the schema its applied revisions produce.",
    doc: include_str!("../../rules/gate-schema-drift.md"),
    origin: Origin::Gate,
};

pub static PENDING_REVISIONS: RuleMeta = RuleMeta {
    id: "gate-pending-revisions",
    severity: Severity::Note,
    summary: "Revisions the deploy will apply, in order.",
    doc: include_str!("../../rules/gate-pending-revisions.md"),
    origin: Origin::Gate,
};

pub fn all() -> [&'static RuleMeta; 3] {
    [&UNKNOWN_REVISION, &SCHEMA_DRIFT, &PENDING_REVISIONS]
}
