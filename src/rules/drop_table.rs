use crate::diagnostic::{Diagnostic, Origin, RuleMeta, Severity};
use crate::model::{OpKind, Phase};

use super::{LintContext, Rule};

pub static META: RuleMeta = RuleMeta {
    id: "drop-table",
    severity: Severity::Warning,
    summary: "Dropping a table loses its data and breaks the running application if it still uses it.",
    doc: include_str!("../../rules/drop-table.md"),
    origin: Origin::Lint,
};

pub struct DropTable;

impl Rule for DropTable {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &LintContext, out: &mut Vec<Diagnostic>) {
        // The downgrade undoing an upgrade is the deliberate reverse; the risk is reported once,
        // where the change is made.
        for site in cx.ops(Phase::Upgrade) {
            let OpKind::DropTable { table } = &site.op.kind else {
                continue;
            };
            if site.table_is_new(table) {
                continue;
            }
            out.push(
                cx.report_op(&META, &site, format!("dropping table `{table}` deletes its data for good, and running instances of the application that still use it fail until they are redeployed{}", cx.running_models(table, None)))
                    .with_help("deploy code that no longer uses the table first, keep a backup (`CREATE TABLE ... AS` or a dump), then drop it in a later release"),
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
