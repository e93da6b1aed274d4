use crate::diagnostic::{Diagnostic, Origin, RuleMeta, Severity};
use crate::model::op::same_name;
use crate::model::{MaintenanceKind, OpKind, ReindexScope};

use super::{LintContext, OpSite, Rule};

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
            if let MaintenanceKind::LockTable { lock } = kind {
                // A mode that stops no reads or writes is no finding.
                let Some(lock) =
                    lock.filter(|l| *l != crate::model::TableLock::ShareUpdateExclusive)
                else {
                    continue;
                };
                if table
                    .as_deref()
                    .is_some_and(|t| bounded_lock(&site, t) || taken_anyway(&site, t, lock))
                {
                    continue;
                }
            }
            let target = table
                .as_deref()
                .map(|t| format!("`{t}`"))
                .unwrap_or_else(|| "the table".into());
            let held = "while it is locked against reads and writes, for as long as it takes; this is maintenance, not a migration";
            let (message, help) = match kind {
                MaintenanceKind::VacuumFull => (
                    format!("VACUUM FULL rewrites {target} {held}"),
                    "use pg_repack or pg_squeeze outside the migration; plain VACUUM does not block",
                ),
                MaintenanceKind::Cluster => (
                    format!("CLUSTER rewrites {target} {held}"),
                    "use pg_repack outside the migration",
                ),
                MaintenanceKind::RefreshMaterializedView => (
                    format!("REFRESH MATERIALIZED VIEW rebuilds {target} {held}"),
                    "give the view a unique index and `REFRESH MATERIALIZED VIEW CONCURRENTLY`, which lets reads go on; or refresh it outside the migration",
                ),
                MaintenanceKind::Reindex {
                    concurrently: true, ..
                } => continue,
                MaintenanceKind::Reindex { scope, .. } => {
                    let what = match scope {
                        ReindexScope::Index => format!(
                            "REINDEX INDEX rebuilds the index {target}: writes to its table are blocked, and queries that would use it wait, until it is done"
                        ),
                        ReindexScope::Table => format!(
                            "REINDEX rebuilds every index of {target}: writes are blocked, and queries that would use an index wait, until it is done"
                        ),
                        ReindexScope::Schema => format!(
                            "REINDEX SCHEMA rebuilds every index in {target}, one table after another, each blocking writes while it runs"
                        ),
                        ReindexScope::Database => "REINDEX DATABASE rebuilds every index of the database, one table after another, each blocking writes while it runs".to_string(),
                        ReindexScope::System => "REINDEX SYSTEM rebuilds the indexes of the system catalogs, blocking every session that reads them".to_string(),
                    };
                    (
                        format!("{what}; this is maintenance, not a migration"),
                        "use `REINDEX ... CONCURRENTLY` (PostgreSQL ≥ 12), outside a transaction",
                    )
                }
                MaintenanceKind::LockTable { lock } => (
                    match lock {
                        Some(lock) if lock.blocks_reads() => format!(
                            "LOCK TABLE holds {target} against reads and writes until the transaction ends"
                        ),
                        Some(lock) => format!(
                            "LOCK TABLE holds {target} in {} mode, against writes (reads go on), until the transaction ends",
                            lock.name()
                        ),
                        None => continue,
                    },
                    "lock only what the statements need, for as short as possible, with a lock_timeout; or drop the explicit LOCK",
                ),
            };
            out.push(cx.report_op(&META, &site, message).with_help(help));
        }
    }
}

/// A LOCK TABLE taking early what a later statement of the same transaction takes on the table
/// anyway (an ALTER, a DROP): the idiom that fixes the order locks are taken in, against
/// deadlocks. What it adds is held only from the LOCK to that statement; waiting for it
/// without a lock_timeout is missing-lock-timeout's to report.
fn taken_anyway(site: &OpSite, table: &str, needed: crate::model::TableLock) -> bool {
    // Another explicit LOCK is no work that needs the lock: it is a finding of its own.
    let work = |op: &crate::model::Op| {
        !matches!(
            op.kind,
            OpKind::Maintenance {
                kind: MaintenanceKind::LockTable { .. },
                ..
            }
        )
    };
    crate::model::locks::taken_later(site.ops, site.index, table, work)
        .is_some_and(|later| crate::model::locks::at_least(later, needed))
}

/// The lock-then-alter pattern: a LOCK TABLE taken with a lock_timeout set earlier in its
/// transaction (its wait is bounded), in a transaction the body commits right after the
/// statements on that table (its hold is what they need anyway).
fn bounded_lock(site: &OpSite, table: &str) -> bool {
    let since_begin = site.earlier().iter().rev().take_while(|op| {
        op.in_transaction
            && !matches!(
                op.kind,
                OpKind::CommitTransaction | OpKind::BeginTransaction
            )
    });
    let timeout_set = since_begin
        .clone()
        .any(|op| matches!(op.kind, OpKind::SetLockTimeout));
    let explicit = site
        .earlier()
        .iter()
        .rev()
        .find(|op| {
            matches!(
                op.kind,
                OpKind::CommitTransaction | OpKind::BeginTransaction
            )
        })
        .is_some_and(|op| matches!(op.kind, OpKind::BeginTransaction));
    let rest = &site.ops[site.index + 1..];
    let Some(commit) = rest
        .iter()
        .position(|op| matches!(op.kind, OpKind::CommitTransaction))
    else {
        return false;
    };
    // Until the commit, nothing but work on the locked table (or what cannot be read).
    let only_this_table = rest[..commit].iter().all(|op| match op.kind.table() {
        Some(other) => same_name(other, table),
        None => matches!(
            op.kind,
            OpKind::DynamicSql
                | OpKind::RowsOnly { .. }
                | OpKind::SetLockTimeout
                | OpKind::SetSearchPath { .. }
                | OpKind::SetTimeZone { .. }
        ),
    });
    timeout_set && explicit && only_this_table
}

#[cfg(test)]
mod tests {
    #[test]
    fn fixtures() {
        super::super::testing::check_fixtures(&super::META);
    }
}
