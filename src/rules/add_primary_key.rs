use crate::diagnostic::{Diagnostic, Origin, RuleMeta, Severity};
use crate::model::op::same_name;
use crate::model::{ConstraintKind, OpKind};

use super::set_not_null::proven_not_null;
use super::{LintContext, Rule};

pub static META: RuleMeta = RuleMeta {
    id: "add-primary-key",
    severity: Severity::Error,
    summary: "A primary key on an existing table builds its index (and may check NOT NULL) under ACCESS EXCLUSIVE.",
    doc: include_str!("../../rules/add-primary-key.md"),
    origin: Origin::Lint,
};

pub struct AddPrimaryKey;

impl Rule for AddPrimaryKey {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &LintContext, out: &mut Vec<Diagnostic>) {
        for found in cx.blocking_constraints() {
            let ConstraintKind::PrimaryKey { columns } = &found.kind else {
                continue;
            };
            let (site, table, constraint) = (&found.site, found.table, &found.label);
            // Columns the history leaves NOT NULL need no scan for NULLs; the index build stays.
            let already_not_null = !columns.is_empty()
                && columns
                    .iter()
                    .all(|column| cx.column_nullable_before(site, table, column) == Some(false));
            let work = if already_not_null {
                "builds its unique index (its columns are already NOT NULL)"
            } else {
                "builds its index and checks its columns for NULLs"
            };
            out.push(
                cx.report_op(&META, site, format!("primary key{constraint} on `{table}` {work} while `{table}` is locked against reads and writes (ACCESS EXCLUSIVE)"))
                    .with_help("build a unique index CONCURRENTLY first, make the columns NOT NULL safely, then `ALTER TABLE ... ADD CONSTRAINT ... PRIMARY KEY USING INDEX ...`"),
            );
        }
        for site in cx.all_ops() {
            let OpKind::AddConstraint {
                table,
                kind: ConstraintKind::PrimaryKey { .. },
                using_index: Some(index),
                ..
            } = &site.op.kind
            else {
                continue;
            };
            if site.table_is_new(table) {
                continue;
            }
            let history = cx.history_before(&site, table);
            // The index's columns, when the history built it; otherwise they are unknown.
            let Some(columns) = history.iter().rev().find_map(|op| match &op.kind {
                OpKind::CreateIndex {
                    name: Some(n),
                    columns,
                    ..
                } if same_name(n, index) => Some(columns),
                _ => None,
            }) else {
                continue;
            };
            let nullable: Vec<&str> = columns
                .iter()
                .map(String::as_str)
                .filter(|column| {
                    cx.column_nullable_before(&site, table, column) == Some(true)
                        && !(cx.postgres_version >= 12 && proven_not_null(&history, column))
                })
                .collect();
            if nullable.is_empty() {
                continue;
            }
            out.push(
                cx.report_op(&META, &site, format!("PRIMARY KEY USING INDEX `{index}` makes `{}` NOT NULL on the spot: `{table}` is scanned for NULLs under ACCESS EXCLUSIVE", nullable.join("`, `")))
                    .with_help("make the columns NOT NULL the safe way first (CHECK ... IS NOT NULL NOT VALID, VALIDATE, SET NOT NULL — see set-not-null), then adopt the index"),
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

    /// Columns the history made NOT NULL are not said to be checked for NULLs.
    #[test]
    fn columns_already_not_null_are_not_scanned_for_nulls() {
        let messages =
            super::super::testing::fixture_messages(&super::META, "bad_columns_already_not_null");
        assert_eq!(
            messages,
            [
                "primary key `memberships_pkey` on `memberships` builds its unique index (its columns are already NOT NULL) while `memberships` is locked against reads and writes (ACCESS EXCLUSIVE)"
            ]
        );
    }

    /// NOT NULL declared under the table's old name holds after `rename_table`.
    #[test]
    fn columns_not_null_before_a_rename_are_not_scanned_for_nulls() {
        let messages = super::super::testing::fixture_messages(
            &super::META,
            "bad_not_null_columns_of_renamed_table",
        );
        assert_eq!(messages.len(), 1, "{messages:?}");
        assert!(
            messages[0].contains("builds its unique index (its columns are already NOT NULL)"),
            "{messages:?}"
        );
    }
}
