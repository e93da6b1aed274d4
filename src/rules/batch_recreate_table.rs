use crate::diagnostic::{Diagnostic, Origin, RuleMeta, Severity};
use crate::model::OpKind;
use crate::model::op::BatchRecreate;

use super::{LintContext, Rule};

pub static META: RuleMeta = RuleMeta {
    id: "batch-recreate-table",
    severity: Severity::Warning,
    summary: "`batch_alter_table(recreate=\"always\")` copies the whole table into a new one.",
    doc: include_str!("../../rules/batch-recreate-table.md"),
    origin: Origin::Lint,
};

pub struct BatchRecreateTable;

impl Rule for BatchRecreateTable {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &LintContext, out: &mut Vec<Diagnostic>) {
        for site in cx.all_ops() {
            let OpKind::BatchTable {
                table,
                recreate: BatchRecreate::Always,
            } = &site.op.kind
            else {
                continue;
            };
            if site.table_is_new(table) {
                continue;
            }
            out.push(
                cx.report_op(&META, &site, format!("`recreate=\"always\"` copies `{table}` into a new table, drops the old one and renames: the table is locked for the whole copy, and objects PostgreSQL attaches to it (triggers, grants, dependent views, foreign keys from other tables) are lost or fail"))
                    .with_help("on PostgreSQL leave `recreate` at \"auto\" (every batch operation runs as ALTER TABLE in place); \"always\" exists for SQLite"),
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
