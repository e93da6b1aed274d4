use crate::diagnostic::{Diagnostic, Origin, RuleMeta, Severity};
use crate::model::{OpKind, Phase};

use super::{LintContext, Rule};

pub static META: RuleMeta = RuleMeta {
    id: "rename-table",
    severity: Severity::Warning,
    summary: "Renaming a table breaks the application version that is still running during the deploy.",
    doc: include_str!("../../rules/rename-table.md"),
    origin: Origin::Lint,
};

pub struct RenameTable;

impl Rule for RenameTable {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &LintContext, out: &mut Vec<Diagnostic>) {
        // The downgrade undoing an upgrade is the deliberate reverse; the risk is reported once,
        // where the change is made.
        for site in cx.ops(Phase::Upgrade) {
            let OpKind::RenameTable { from, to } = &site.op.kind else {
                continue;
            };
            // ALTER TABLE ... RENAME on an index (a unique constraint's): no application names
            // an index.
            if site.table_is_new(from) || cx.index_definition(&site, from).is_some() {
                continue;
            }
            out.push(
                cx.report_op(&META, &site, format!("renaming table `{from}` to `{to}` breaks every running instance of the application that still uses `{from}` until it is redeployed{}", cx.running_models(from, None)))
                    .with_help("create the new table (or an updatable view `CREATE VIEW {from} AS SELECT * FROM {to}` after the rename) so both names work during the deploy, and drop the old name in a later release"),
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
