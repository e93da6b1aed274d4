use crate::diagnostic::{Diagnostic, Origin, RuleMeta, Severity};
use crate::model::op::same_name;
use crate::model::{Op, OpKind};

use super::{LintContext, OpSite, Rule, TableHistory};

pub static META: RuleMeta = RuleMeta {
    id: "set-not-null",
    severity: Severity::Warning,
    summary: "SET NOT NULL scans the whole table under ACCESS EXCLUSIVE, unless a validated CHECK proves it.",
    doc: include_str!("../../rules/set-not-null.md"),
    origin: Origin::Lint,
};

pub struct SetNotNull;

impl Rule for SetNotNull {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &LintContext, out: &mut Vec<Diagnostic>) {
        // Walking each revision's history is only worth it when some revision adds a fitting
        // check: the set's added constraints, gathered once.
        let every_constraint: Vec<&Op> = cx
            .set
            .migrations
            .iter()
            .flat_map(|m| m.upgrade.ops.iter().chain(&m.downgrade.ops))
            .filter(|op| matches!(op.kind, OpKind::AddConstraint { .. }))
            .collect();
        // The columns one statement makes NOT NULL are checked in one scan: (site of the
        // first, table, columns).
        let mut scans: Vec<(OpSite, &str, Vec<&str>)> = Vec::new();
        for site in cx.all_ops() {
            let OpKind::SetNotNull { table, column } = &site.op.kind else {
                continue;
            };
            // Already NOT NULL: PostgreSQL has nothing to check and does not scan.
            if site.table_is_new(table)
                || cx.column_nullable_before(&site, table, column) == Some(false)
            {
                continue;
            }
            if cx.postgres_version >= 12
                && may_prove(&every_constraint, column)
                && (proven_not_null(&cx.history_before(&site, table), column)
                    // A downgrade proves it with the statements before it in its own body.
                    || proven_not_null(
                        &TableHistory::follow(
                            &site.ops[..site.index].iter().collect::<Vec<_>>(),
                            table,
                        ),
                        column,
                    ))
            {
                continue;
            }
            match scans.last_mut() {
                Some((first, t, columns))
                    if first.op.span == site.op.span
                        && first.phase == site.phase
                        && same_name(t, table) =>
                {
                    columns.push(column);
                }
                _ => scans.push((site, table, vec![column])),
            }
        }
        let help = if cx.postgres_version >= 12 {
            "add `CHECK (col IS NOT NULL) NOT VALID`, VALIDATE it (a scan that allows writes), then SET NOT NULL (no scan, PostgreSQL ≥ 12), then drop the check"
        } else {
            "before PostgreSQL 12 there is no scan-free way: keep a `CHECK (col IS NOT NULL)` constraint (added NOT VALID, then validated) instead of NOT NULL, or schedule the scan"
        };
        for (site, table, columns) in scans {
            let diagnostic = match columns.as_slice() {
                [column] => cx.report_op(&META, &site, format!("SET NOT NULL on `{table}.{column}` scans the whole table under ACCESS EXCLUSIVE to check for NULLs: no reads or writes until it is done"))
                    .with_fix((cx.postgres_version >= 12).then(|| crate::fix::not_null_check::alembic(site.op, table, column, crate::fix::Allowed::of(&cx.set.env))).flatten()),
                several => cx.report_op(&META, &site, format!("SET NOT NULL on `{table}`'s columns `{}` scans the whole table once under ACCESS EXCLUSIVE to check them for NULLs: no reads or writes until it is done", several.join("`, `"))),
            };
            out.push(diagnostic.with_help(help));
        }
    }
}

/// Some operation of the set adds a check that could prove the column not null.
fn may_prove(every_op: &[&Op], column: &str) -> bool {
    // On any table: the check may have been added under a name the table had before a rename.
    every_op.iter().any(
        |op| matches!(&op.kind, OpKind::AddConstraint { kind, .. } if kind.checks_not_null(column)),
    )
}

/// A validated `CHECK (column IS NOT NULL)` on the table, still in place at the end of
/// `history` (operations in the order they ran), lets PostgreSQL ≥ 12 skip the scan.
pub(super) fn proven_not_null(history: &TableHistory, column: &str) -> bool {
    // Each proving check by name (None: unnamed), and whether it is validated yet.
    let mut proofs: Vec<(Option<&str>, bool)> = Vec::new();
    for op in history.iter() {
        match &op.kind {
            OpKind::AddConstraint {
                table: t,
                name,
                kind,
                not_valid,
                ..
            } if history.names(t) && kind.checks_not_null(column) => {
                proofs.push((name.as_deref(), !*not_valid));
            }
            OpKind::ValidateConstraint { table: t, name } if history.names(t) => {
                for proof in proofs.iter_mut() {
                    if proof.0.is_some_and(|n| same_name(n, name)) {
                        proof.1 = true;
                    }
                }
            }
            OpKind::DropConstraint {
                table: t,
                name: Some(name),
                ..
            } if history.names(t) => {
                proofs.retain(|(n, _)| !n.is_some_and(|n| same_name(n, name)));
            }
            // The check goes with its table or its column.
            OpKind::DropTable { table: t, .. } if history.names(t) => proofs.clear(),
            OpKind::DropColumn {
                table: t,
                column: c,
            } if history.names(t) && same_name(c, column) => proofs.clear(),
            _ => {}
        }
    }
    proofs.iter().any(|(_, validated)| *validated)
}

#[cfg(test)]
mod tests {
    #[test]
    fn fixtures() {
        super::super::testing::check_fixtures(&super::META);
    }

    /// The columns of one statement are checked in one scan, and said in one finding.
    #[test]
    fn several_columns_of_one_statement_are_one_scan() {
        let messages =
            super::super::testing::fixture_messages(&super::META, "bad_several_columns.sql");
        assert_eq!(
            messages,
            [
                "SET NOT NULL on `users`'s columns `email`, `name` scans the whole table once under ACCESS EXCLUSIVE to check them for NULLs: no reads or writes until it is done"
            ]
        );
    }
}
