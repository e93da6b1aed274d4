use crate::diagnostic::{Diagnostic, Origin, RuleMeta, Severity};
use crate::model::op::same_name;
use crate::model::{Op, OpKind};

use super::{LintContext, Rule};

pub static META: RuleMeta = RuleMeta {
    id: "unbatched-data-migration",
    severity: Severity::Warning,
    summary: "UPDATE or DELETE of a whole table inside a schema migration: one long transaction holding row locks.",
    doc: include_str!("../../rules/unbatched-data-migration.md"),
    origin: Origin::Lint,
};

pub struct UnbatchedDataMigration;

impl Rule for UnbatchedDataMigration {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &LintContext, out: &mut Vec<Diagnostic>) {
        for site in cx.all_ops() {
            let OpKind::DataChange {
                table,
                statement,
                filtered,
                null_test,
            } = &site.op.kind
            else {
                continue;
            };
            // `WHERE col IS NULL` on a column this body just added without a default: every
            // row is NULL there, so every row matches.
            let every_row = !*filtered
                || null_test
                    .as_deref()
                    .is_some_and(|column| added_without_default(site.earlier(), table, column));
            if !every_row || site.table_is_new(table) {
                continue;
            }
            out.push(
                cx.report_op(&META, &site, format!("{statement} of every row of `{table}` in one statement: on a large table this holds row locks and the migration's other locks for as long as it runs, bloats the table, and rolls back all at once on failure"))
                    .with_help("backfill in batches (`WHERE id BETWEEN ...`, committed one by one) from a separate script or an autocommit block, after the schema change has deployed"),
            );
        }
    }
}

/// Whether the operations add `column` to `table` with no server default (so it is NULL in
/// every existing row).
fn added_without_default(earlier: &[Op], table: &str, column: &str) -> bool {
    earlier.iter().any(|op| {
        matches!(&op.kind, OpKind::AddColumn { table: t, column: c }
            if same_name(t, table) && same_name(&c.name, column) && c.server_default.is_none())
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn fixtures() {
        super::super::testing::check_fixtures(&super::META);
    }
}
