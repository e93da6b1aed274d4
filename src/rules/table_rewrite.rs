use crate::diagnostic::{Diagnostic, Origin, RuleMeta, Severity};
use crate::model::OpKind;

use super::{LintContext, Rule};

pub static META: RuleMeta = RuleMeta {
    id: "table-rewrite",
    severity: Severity::Error,
    summary: "SET LOGGED / UNLOGGED / TABLESPACE / ACCESS METHOD rewrites the whole table under ACCESS EXCLUSIVE.",
    doc: include_str!("../../rules/table-rewrite.md"),
    origin: Origin::Lint,
};

pub struct TableRewrite;

impl Rule for TableRewrite {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &LintContext, out: &mut Vec<Diagnostic>) {
        for site in cx.all_ops() {
            let OpKind::LocksTable {
                table,
                form,
                rewrites: true,
                ..
            } = &site.op.kind
            else {
                continue;
            };
            if site.table_is_new(table) {
                continue;
            }
            let message = if form.starts_with("ALTER INDEX") {
                format!(
                    "`{form}` copies index `{table}` into new files while it is locked: every query that plans on its table waits"
                )
            } else {
                format!(
                    "`{form}` copies every row and index of `{table}` into new files while it is locked against reads and writes"
                )
            };
            out.push(
                cx.report_op(&META, &site, message)
                    .with_help("on a large table, create the new table the way you want it, copy the rows in batches, and swap names in a short transaction; or run it in a maintenance window"),
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
