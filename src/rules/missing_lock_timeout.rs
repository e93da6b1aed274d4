use crate::diagnostic::{Diagnostic, Origin, RuleMeta, Severity};
use crate::model::op::is_new_table;
use crate::model::{MaintenanceKind, OpKind, Phase};

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
                    let Some(table) = locked_table(&op.kind) else {
                        continue;
                    };
                    if is_new_table(ops, index, table) {
                        continue;
                    }
                    out.push(
                        cx.report(&META, migration, op.span, format!("this locks `{table}` (ACCESS EXCLUSIVE) with no lock_timeout: if a long query holds `{table}`, the statement waits in the lock queue and every other query on `{table}` waits behind it"))
                            .with_help("start the revision with `op.execute(\"SET lock_timeout = '5s'\")`, or set it for every revision in env.py (`connect_args={\"options\": \"-c lock_timeout=5s\"}`), and retry on timeout")
                            .in_phase(phase)
                            .about_table(Some(table)),
                    );
                    break;
                }
            }
        }
    }
}

/// The existing table an operation locks in ACCESS EXCLUSIVE mode (or SHARE ROW EXCLUSIVE for a
/// foreign key, which queues the same way).
fn locked_table(kind: &OpKind) -> Option<&str> {
    match kind {
        OpKind::AddColumn { .. }
        | OpKind::DropColumn { .. }
        | OpKind::RenameColumn { .. }
        | OpKind::RenameTable { .. }
        | OpKind::AlterColumnType { .. }
        | OpKind::SetNotNull { .. }
        | OpKind::DropNotNull { .. }
        | OpKind::SetDefault { .. }
        | OpKind::AddConstraint { .. }
        | OpKind::DropConstraint { .. }
        | OpKind::DropTable { .. }
        | OpKind::AlterTable {
            blocks_traffic: true,
            ..
        }
        | OpKind::DetachPartition {
            concurrently: false,
            ..
        }
        | OpKind::Truncate { .. } => kind.table(),
        OpKind::Maintenance {
            kind: MaintenanceKind::Reindex {
                concurrently: true, ..
            },
            ..
        } => None,
        OpKind::Maintenance { .. } => kind.table(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn fixtures() {
        super::super::testing::check_fixtures(&super::META);
    }
}
