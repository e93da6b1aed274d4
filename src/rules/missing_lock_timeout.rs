use crate::diagnostic::{Diagnostic, Origin, RuleMeta, Severity};
use crate::model::table_state::is_new_table;
use crate::model::{Framework, Migration, OpKind, Phase, TableLock};

use super::{LintContext, OpSite, Rule};

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
        // Written for other databases too: a fix sets the timeout on PostgreSQL only.
        let other_dialects = cx.set.migrations.iter().any(|m| m.branches_on_dialect);
        for (migration_index, migration) in cx.set.migrations.iter().enumerate() {
            if !cx.in_scope(migration) {
                continue;
            }
            // Once per revision, on the first statement that waits, naming every one: a
            // lock_timeout set at the start covers them all.
            let locking: Vec<(Phase, Locking)> = [Phase::Upgrade, Phase::Downgrade]
                .into_iter()
                .flat_map(|phase| {
                    locking(cx, migration, migration_index, phase)
                        .into_iter()
                        .map(move |l| (phase, l))
                })
                .collect();
            let Some((phase, first)) = locking.first() else {
                continue;
            };
            // Each table with the strongest lock taken on it, per phase: a CREATE INDEX of the
            // upgrade takes SHARE even when the downgrade's DROP INDEX takes ACCESS EXCLUSIVE.
            let mut tables: Vec<(&str, Option<TableLock>, Option<TableLock>)> = Vec::new();
            for (phase, l) in &locking {
                let entry = match tables.iter().position(|(t, _, _)| *t == l.table) {
                    Some(i) => &mut tables[i],
                    None => {
                        tables.push((l.table, None, None));
                        tables.last_mut().expect("just pushed")
                    }
                };
                let slot = match phase {
                    Phase::Upgrade => &mut entry.1,
                    Phase::Downgrade => &mut entry.2,
                };
                if slot.is_none_or(|held| l.lock.blocks_reads() && !held.blocks_reads()) {
                    *slot = Some(l.lock);
                }
            }
            // Where both directions lock, a table locked in one only says which.
            let both_phases = locking.iter().any(|(p, _)| *p == Phase::Upgrade)
                && locking.iter().any(|(p, _)| *p == Phase::Downgrade);
            let named = tables
                .iter()
                .map(|(t, up, down)| match (up, down) {
                    (Some(up), Some(down)) if up != down => format!(
                        "`{t}` ({} in the upgrade, {} in the downgrade)",
                        up.name(),
                        down.name()
                    ),
                    (Some(lock), None) if both_phases => {
                        format!("`{t}` ({} in the upgrade)", lock.name())
                    }
                    (None, Some(lock)) if both_phases => {
                        format!("`{t}` ({} in the downgrade)", lock.name())
                    }
                    (Some(lock), _) | (None, Some(lock)) => format!("`{t}` ({})", lock.name()),
                    (None, None) => format!("`{t}`"),
                })
                .collect::<Vec<_>>();
            // One statement may lock several times (an ALTER TABLE with several actions): each
            // line is named once.
            let lines = |phase: Phase| {
                let mut lines: Vec<usize> = locking
                    .iter()
                    .filter(|(p, _)| *p == phase)
                    .map(|(_, l)| cx.line_of(&l.span))
                    .collect();
                lines.dedup();
                lines.iter().map(usize::to_string).collect::<Vec<_>>()
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
            let blocked = if tables.iter().any(|(_, up, down)| {
                up.is_some_and(TableLock::blocks_reads) || down.is_some_and(TableLock::blocks_reads)
            }) {
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
                .about_table(Some(first.table))
                .with_fix(crate::fix::lock_timeout::fix(
                    migration,
                    &locking.iter().map(|(phase, _)| *phase).collect::<Vec<_>>(),
                    first.span.file,
                    other_dialects,
                )),
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

/// The statements of a body that lock an existing table, up to a SET lock_timeout.
fn locking<'a>(
    cx: &LintContext<'a>,
    migration: &'a Migration,
    migration_index: usize,
    phase: Phase,
) -> Vec<Locking<'a>> {
    let ops = &migration.body(phase).ops;
    let mut found = Vec::new();
    for (index, op) in ops.iter().enumerate() {
        if matches!(op.kind, OpKind::SetLockTimeout) {
            break;
        }
        let site = OpSite {
            migration,
            migration_index,
            ops,
            index,
            op,
            phase,
        };
        // Also the tables its foreign keys reference, and the table of SQL's DROP INDEX.
        let locked = super::table_locks::taken(cx, &site);
        for (table, lock) in locked {
            if !is_new_table(ops, index, table) && !site.made_in_batch(table) {
                found.push(Locking {
                    table,
                    lock,
                    span: op.span,
                });
            }
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

#[cfg(test)]
mod tests {
    #[test]
    fn fixtures() {
        super::super::testing::check_fixtures(&super::META);
    }

    /// SQL's DROP INDEX locks the table its CREATE INDEX named; an ALTER TABLE with two actions
    /// is one statement.
    #[test]
    fn the_message_names_each_statement_once_and_the_dropped_index_table() {
        let messages = super::super::testing::fixture_messages(&super::META, "bad_drop_index_sql");
        assert_eq!(messages.len(), 1, "{messages:?}");
        assert!(
            messages[0].starts_with("`users` (ACCESS EXCLUSIVE) is locked with no lock_timeout, by 2 statements of the upgrade (lines 1, 2)"),
            "{messages:?}"
        );
        let messages =
            super::super::testing::fixture_messages(&super::META, "bad_index_and_its_drop.py");
        assert!(
            messages[0]
                .starts_with("`orders` (SHARE in the upgrade, ACCESS EXCLUSIVE in the downgrade)"),
            "{messages:?}"
        );
        // A table only one direction locks is said with its direction.
        let messages = super::super::testing::fixture_messages(
            &super::META,
            "bad_each_direction_its_table.py",
        );
        assert!(
            messages[0].starts_with(
                "`orders` (ACCESS EXCLUSIVE) and `audit_events` (ACCESS EXCLUSIVE in the downgrade) are locked"
            ),
            "{messages:?}"
        );
        // A foreign key dropped earlier locks nothing when its table is dropped later.
        let messages = super::super::testing::fixture_messages(
            &super::META,
            "bad_foreign_key_dropped_before_its_table",
        );
        assert_eq!(messages.len(), 2, "{messages:?}");
        assert!(
            messages[0].starts_with(
                "`children` (ACCESS EXCLUSIVE) and `parents` (ACCESS EXCLUSIVE) are locked"
            ) && messages[1].starts_with("`children` (ACCESS EXCLUSIVE) is locked"),
            "{messages:?}"
        );
        // A key follows its referenced table through a later rename.
        let messages = super::super::testing::fixture_messages(
            &super::META,
            "bad_drop_child_of_renamed_parent",
        );
        assert!(
            messages[0].starts_with(
                "`api_keys` (ACCESS EXCLUSIVE) and `user_sessions` (ACCESS EXCLUSIVE) are locked"
            ),
            "{messages:?}"
        );
        // Dropping a foreign key locks the table it references too (PostgreSQL 15's pg_locks).
        let messages = super::super::testing::fixture_messages(
            &super::META,
            "bad_drop_foreign_key_locks_parent.py",
        );
        assert!(
            messages[0].starts_with(
                "`orders` (ACCESS EXCLUSIVE) and `users` (ACCESS EXCLUSIVE) are locked"
            ),
            "{messages:?}"
        );
    }
}
