use crate::diagnostic::{Diagnostic, Origin, RuleMeta, Severity};
use crate::model::op::is_new_table;
use crate::model::{ConstraintKind, Framework, MaintenanceKind, OpKind, Phase, TableLock};

use super::{LintContext, Rule};

pub static META: RuleMeta = RuleMeta {
    id: "missing-lock-timeout",
    severity: Severity::Warning,
    summary: "The revision takes ACCESS EXCLUSIVE locks without a lock_timeout: it can stall all traffic on the table.",
    doc: include_str!("../../rules/missing-lock-timeout.md"),
    origin: Origin::Lint,
};

pub struct MissingLockTimeout;

impl Rule for MissingLockTimeout {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &LintContext, out: &mut Vec<Diagnostic>) {
        if cx.set.env.sets_lock_timeout {
            return;
        }
        for migration in cx.migrations() {
            for phase in [Phase::Upgrade, Phase::Downgrade] {
                let ops = &migration.body(phase).ops;
                for (index, op) in ops.iter().enumerate() {
                    if matches!(op.kind, OpKind::SetLockTimeout) {
                        break;
                    }
                    let Some((table, lock)) = locked_table(&op.kind) else {
                        continue;
                    };
                    if is_new_table(ops, index, table) {
                        continue;
                    }
                    let mode = lock.name();
                    let blocked = if lock == TableLock::AccessExclusive {
                        "every other query"
                    } else {
                        "every write"
                    };
                    out.push(
                        cx.report(&META, migration, op.span, format!("this locks `{table}` ({mode}) with no lock_timeout: if a long query holds `{table}`, the statement waits in the lock queue and {blocked} on `{table}` waits behind it"))
                            .with_help(if migration.framework == Framework::Alembic {
                                "start the revision with `op.execute(\"SET lock_timeout = '5s'\")`, or set it for every revision in env.py (`connect_args={\"options\": \"-c lock_timeout=5s\"}`), and retry on timeout"
                            } else {
                                "start the migration with `SET lock_timeout = '5s';` (inside its transaction: `SET LOCAL`), or set it for the migration role (`ALTER ROLE migrator SET lock_timeout = '5s'`), and retry on timeout"
                            })
                            .in_phase(phase)
                            .about_table(Some(table)),
                    );
                    break;
                }
            }
        }
    }
}

/// The existing table an operation locks against writes or reads, and the lock's mode: the
/// statements whose wait in the lock queue stops traffic behind them.
fn locked_table(kind: &OpKind) -> Option<(&str, TableLock)> {
    let lock = match kind {
        OpKind::AddColumn { .. }
        | OpKind::DropColumn { .. }
        | OpKind::RenameColumn { .. }
        | OpKind::RenameTable { .. }
        | OpKind::AlterColumnType { .. }
        | OpKind::SetNotNull { .. }
        | OpKind::DropNotNull { .. }
        | OpKind::SetDefault { .. }
        | OpKind::DropConstraint { .. }
        | OpKind::DropTable { .. }
        | OpKind::DetachPartition {
            concurrently: false,
            ..
        }
        | OpKind::Truncate { .. } => TableLock::AccessExclusive,
        OpKind::AddConstraint {
            kind: ConstraintKind::ForeignKey { .. },
            ..
        } => TableLock::ShareRowExclusive,
        OpKind::AddConstraint { .. } => TableLock::AccessExclusive,
        OpKind::CreateIndex {
            concurrently: false,
            ..
        } => TableLock::Share,
        OpKind::LocksTable { lock, .. } if *lock != TableLock::ShareUpdateExclusive => *lock,
        // DROP INDEX locks the index's table; SQL does not name it, Alembic's `table_name` does.
        OpKind::DropIndex {
            table: Some(table),
            concurrently: false,
            ..
        } => return Some((table, TableLock::AccessExclusive)),
        OpKind::Maintenance {
            kind: MaintenanceKind::Reindex {
                concurrently: true, ..
            },
            ..
        } => return None,
        OpKind::Maintenance { .. } => TableLock::AccessExclusive,
        _ => return None,
    };
    kind.table().map(|table| (table, lock))
}

#[cfg(test)]
mod tests {
    #[test]
    fn fixtures() {
        super::super::testing::check_fixtures(&super::META);
    }
}
