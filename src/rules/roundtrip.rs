//! Findings of `migration-gate roundtrip`, proven on a real PostgreSQL rather than read from
//! the source. Reported on the revision's file.

use crate::diagnostic::{Origin, RuleMeta, Severity};

pub static UPGRADE_FAILED: RuleMeta = RuleMeta {
    id: "roundtrip-upgrade-failed",
    severity: Severity::Error,
    summary: "The revision's upgrade fails on a real PostgreSQL.",
    doc: include_str!("../../rules/roundtrip-upgrade-failed.md"),
    origin: Origin::Roundtrip,
};

pub static DOWNGRADE_FAILED: RuleMeta = RuleMeta {
    id: "roundtrip-downgrade-failed",
    severity: Severity::Error,
    summary: "The revision's downgrade fails right after its upgrade.",
    doc: include_str!("../../rules/roundtrip-downgrade-failed.md"),
    origin: Origin::Roundtrip,
};

pub static REUPGRADE_FAILED: RuleMeta = RuleMeta {
    id: "roundtrip-reupgrade-failed",
    severity: Severity::Error,
    summary: "The upgrade fails when run again after its own downgrade.",
    doc: include_str!("../../rules/roundtrip-reupgrade-failed.md"),
    origin: Origin::Roundtrip,
};

pub static SCHEMA_DRIFT: RuleMeta = RuleMeta {
    id: "roundtrip-schema-drift",
    severity: Severity::Error,
    summary: "After upgrade and downgrade the schema differs from before the upgrade.",
    doc: include_str!("../../rules/roundtrip-schema-drift.md"),
    origin: Origin::Roundtrip,
};

pub static NOT_REPEATABLE: RuleMeta = RuleMeta {
    id: "roundtrip-not-repeatable",
    severity: Severity::Error,
    summary: "Upgrade → downgrade → upgrade gives a different schema than the first upgrade.",
    doc: include_str!("../../rules/roundtrip-not-repeatable.md"),
    origin: Origin::Roundtrip,
};

pub static MODEL_DRIFT: RuleMeta = RuleMeta {
    id: "roundtrip-model-drift",
    severity: Severity::Error,
    summary: "At head, env.py's target_metadata differs from the schema the migrations build (what `alembic check` reports).",
    doc: include_str!("../../rules/roundtrip-model-drift.md"),
    origin: Origin::Roundtrip,
};

pub static TRACED_ACCESS_EXCLUSIVE: RuleMeta = RuleMeta {
    id: "traced-access-exclusive-lock",
    severity: Severity::Warning,
    summary: "Observed: a statement took ACCESS EXCLUSIVE on a table that existed before the revision.",
    doc: include_str!("../../rules/traced-access-exclusive-lock.md"),
    origin: Origin::Roundtrip,
};

pub static TRACED_REWRITE: RuleMeta = RuleMeta {
    id: "traced-table-rewrite",
    severity: Severity::Error,
    summary: "Observed: a statement rewrote a table that existed before the revision.",
    doc: include_str!("../../rules/traced-table-rewrite.md"),
    origin: Origin::Roundtrip,
};

pub static RAN_NOTHING: RuleMeta = RuleMeta {
    id: "roundtrip-ran-nothing",
    severity: Severity::Note,
    summary: "The revision's upgrade sent no SQL on PostgreSQL (an early return): nothing of it was proven.",
    doc: include_str!("../../rules/roundtrip-ran-nothing.md"),
    origin: Origin::Roundtrip,
};

pub static IRREVERSIBLE: RuleMeta = RuleMeta {
    id: "roundtrip-irreversible",
    severity: Severity::Note,
    summary: "The revision's downgrade raises on purpose (or is accepted as irreversible): only its upgrade was proven.",
    doc: include_str!("../../rules/roundtrip-irreversible.md"),
    origin: Origin::Roundtrip,
};

pub static ENV_FALLBACK: RuleMeta = RuleMeta {
    id: "roundtrip-env-fallback",
    severity: Severity::Note,
    summary: "env.py could not run as the project runs it (the Flask application did not load): the revisions ran with migration-gate's own env.py.",
    doc: include_str!("../../rules/roundtrip-env-fallback.md"),
    origin: Origin::Roundtrip,
};

pub static DEPLOY_INCOMPATIBLE: RuleMeta = RuleMeta {
    id: "deploy-incompatible",
    severity: Severity::Error,
    summary: "The version running now (the models on --base) fails against the schema this revision leaves: an outage during the deploy.",
    doc: include_str!("../../rules/deploy-incompatible.md"),
    origin: Origin::Deploy,
};

pub fn all() -> [&'static RuleMeta; 12] {
    [
        &MODEL_DRIFT,
        &UPGRADE_FAILED,
        &DOWNGRADE_FAILED,
        &REUPGRADE_FAILED,
        &SCHEMA_DRIFT,
        &NOT_REPEATABLE,
        &TRACED_ACCESS_EXCLUSIVE,
        &TRACED_REWRITE,
        &RAN_NOTHING,
        &IRREVERSIBLE,
        &ENV_FALLBACK,
        &DEPLOY_INCOMPATIBLE,
    ]
}
