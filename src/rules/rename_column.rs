use crate::diagnostic::{Diagnostic, Origin, RuleMeta, Severity};
use crate::model::op::same_name;
use crate::model::{OpKind, Phase};

use super::{LintContext, Rule};

pub static META: RuleMeta = RuleMeta {
    id: "rename-column",
    severity: Severity::Warning,
    summary: "Renaming a column breaks the application version that is still running during the deploy.",
    doc: include_str!("../../rules/rename-column.md"),
    origin: Origin::Lint,
};

pub struct RenameColumn;

impl Rule for RenameColumn {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &LintContext, out: &mut Vec<Diagnostic>) {
        // The downgrade undoing an upgrade is the deliberate reverse; the risk is reported once,
        // where the change is made.
        for site in cx.ops(Phase::Upgrade) {
            let OpKind::RenameColumn { table, from, to } = &site.op.kind else {
                continue;
            };
            // A column added earlier in the same migration (a rebuild's `x_new`) is known to no
            // running code.
            // Nor is a swap inside one transaction (`status` → `old_status`, `new_status` →
            // `status`): when it commits, `status` is still there.
            // Nor a name an earlier rename of the same body gave (`a` → `a_tmp` → `b`): the
            // first rename is the one running code meets, and it is reported.
            let renamed_here = site.earlier().iter().any(|op| {
                matches!(&op.kind, OpKind::RenameColumn { table: t, to, .. }
                    if same_name(t, table) && same_name(to, from))
            });
            if site.table_is_new(table)
                || site.column_is_new(table, from)
                || site.name_reoccupied_in_transaction(table, from)
                || renamed_here
            {
                continue;
            }
            out.push(
                cx.report_op(&META, &site, format!("renaming `{table}.{from}` to `{to}` breaks every running instance of the application that still reads or writes `{from}` until it is redeployed{}", cx.running_models(table, Some(from))))
                    .with_help("add the new column, write to both, backfill, switch reads, then drop the old column in a later release; or rename behind a view"),
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
