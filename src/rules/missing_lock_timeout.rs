use crate::diagnostic::{Diagnostic, Origin, RuleMeta, Severity};
use crate::model::table_state::is_new_table;
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
        if cx.set.env.sets_lock_timeout || cx.lock_timeout_set_elsewhere {
            return;
        }
        for migration in cx.migrations() {
            // Once per revision, on the first statement that waits, naming every one: a
            // lock_timeout set at the start covers them all.
            let locking: Vec<(Phase, Locking)> = [Phase::Upgrade, Phase::Downgrade]
                .into_iter()
                .flat_map(|phase| {
                    locking(migration.body(phase))
                        .into_iter()
                        .map(move |l| (phase, l))
                })
                .collect();
            let Some((phase, first)) = locking.first() else {
                continue;
            };
            let mut tables: Vec<(&str, TableLock)> = Vec::new();
            for (_, l) in &locking {
                match tables.iter_mut().find(|(t, _)| *t == l.table) {
                    Some((_, strongest)) if l.lock.blocks_reads() => *strongest = l.lock,
                    Some(_) => {}
                    None => tables.push((l.table, l.lock)),
                }
            }
            let named = tables
                .iter()
                .map(|(t, lock)| format!("`{t}` ({})", lock.name()))
                .collect::<Vec<_>>();
            let lines = |phase: Phase| {
                locking
                    .iter()
                    .filter(|(p, _)| *p == phase)
                    .map(|(_, l)| {
                        cx.sources
                            .get(l.span.file)
                            .line_col(l.span.start)
                            .0
                            .to_string()
                    })
                    .collect::<Vec<_>>()
            };
            let counted = [
                (Phase::Upgrade, "the upgrade"),
                (Phase::Downgrade, "the downgrade"),
            ]
            .into_iter()
            .filter_map(|(phase, what)| {
                let lines = lines(phase);
                match lines.len() {
                    0 => None,
                    1 => Some(format!("1 statement of {what} (line {})", lines[0])),
                    n => Some(format!(
                        "{n} statements of {what} (lines {})",
                        lines.join(", ")
                    )),
                }
            })
            .collect::<Vec<_>>()
            .join(" and ");
            let blocked = if tables.iter().any(|(_, lock)| lock.blocks_reads()) {
                "every other query"
            } else {
                "every write"
            };
            out.push(
                cx.report(&META, migration, first.span, format!(
                    "{} locked with no lock_timeout, by {counted}: if a long query holds the table, each statement waits in the lock queue and {blocked} on it waits behind",
                    join_and(&named) + if named.len() == 1 { " is" } else { " are" }
                ))
                .with_help(if migration.framework == Framework::Alembic {
                    "start the revision with `op.execute(\"SET lock_timeout = '5s'\")`, or set it for every revision in env.py (`connect_args={\"options\": \"-c lock_timeout=5s\"}`), and retry on timeout; set elsewhere (the migration role, the database), say so in the config: `lock-timeout-set-by = \"role\"`"
                } else {
                    "start the migration with `SET lock_timeout = '5s';` (inside its transaction: `SET LOCAL`), or set it for the migration role (`ALTER ROLE migrator SET lock_timeout = '5s'`) and say so in the config (`lock-timeout-set-by = \"role\"`), and retry on timeout"
                })
                .in_phase(*phase)
                .about_table(Some(first.table)),
            );
        }
    }
}

/// A statement that waits for a lock on an existing table.
struct Locking<'a> {
    table: &'a str,
    lock: TableLock,
    span: crate::model::Span,
}

/// The statements of `body` that lock an existing table, up to a SET lock_timeout.
fn locking(body: &crate::model::Body) -> Vec<Locking<'_>> {
    let ops = &body.ops;
    let mut found = Vec::new();
    for (index, op) in ops.iter().enumerate() {
        if matches!(op.kind, OpKind::SetLockTimeout) {
            break;
        }
        let Some((table, lock)) = locked_table(&op.kind) else {
            continue;
        };
        if !is_new_table(ops, index, table) {
            found.push(Locking {
                table,
                lock,
                span: op.span,
            });
        }
    }
    found
}

/// "a, b and c".
fn join_and(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
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
