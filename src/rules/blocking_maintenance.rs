use crate::diagnostic::{Diagnostic, Origin, RuleMeta, Severity};
use crate::model::{MaintenanceKind, OpKind};

use super::{LintContext, Rule};

pub static META: RuleMeta = RuleMeta {
    id: "blocking-maintenance",
    severity: Severity::Error,
    summary: "VACUUM FULL, CLUSTER, REINDEX without CONCURRENTLY and LOCK TABLE block the table for long.",
    doc: include_str!("../../rules/blocking-maintenance.md"),
    origin: Origin::Lint,
};

pub struct BlockingMaintenance;

impl Rule for BlockingMaintenance {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &LintContext, out: &mut Vec<Diagnostic>) {
        for site in cx.all_ops() {
            let OpKind::Maintenance { kind, table } = &site.op.kind else {
                continue;
            };
            let target = table
                .as_deref()
                .map(|t| format!("`{t}`"))
                .unwrap_or_else(|| "the table".into());
            let (what, help) = match kind {
                MaintenanceKind::VacuumFull => (
                    "VACUUM FULL rewrites",
                    "use pg_repack or pg_squeeze outside the migration; plain VACUUM does not block",
                ),
                MaintenanceKind::Cluster => {
                    ("CLUSTER rewrites", "use pg_repack outside the migration")
                }
                MaintenanceKind::Reindex {
                    concurrently: false,
                } => (
                    "REINDEX rebuilds every index of",
                    "use `REINDEX ... CONCURRENTLY` (PostgreSQL ≥ 12), outside a transaction",
                ),
                MaintenanceKind::Reindex { concurrently: true } => continue,
                MaintenanceKind::LockTable => (
                    "LOCK TABLE holds",
                    "lock only what the statements need, for as short as possible, with a lock_timeout; or drop the explicit LOCK",
                ),
            };
            out.push(
                cx.report_op(&META, &site, format!("{what} {target} while it is locked against reads and writes, for as long as it takes; this is maintenance, not a migration"))
                    .with_help(help),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn fixtures() {
        super::super::testing::check_fixtures(&super::META);
    }
}
