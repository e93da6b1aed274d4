use crate::diagnostic::{Diagnostic, Origin, RuleMeta, Severity};
use crate::model::{OpKind, Phase};

use super::{LintContext, Rule};

pub static META: RuleMeta = RuleMeta {
    id: "drop-column",
    severity: Severity::Warning,
    summary: "Dropping a column loses its data and breaks the running application if it still uses it.",
    doc: include_str!("../../rules/drop-column.md"),
    origin: Origin::Lint,
};

pub struct DropColumn;

impl Rule for DropColumn {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &LintContext, out: &mut Vec<Diagnostic>) {
        // The downgrade undoing an upgrade is the deliberate reverse; the risk is reported once,
        // where the change is made.
        for site in cx.ops(Phase::Upgrade) {
            let OpKind::DropColumn { table, column } = &site.op.kind else {
                continue;
            };
            if site.table_is_new(table) {
                continue;
            }
            out.push(
                cx.report_op(&META, &site, format!("dropping `{table}.{column}` deletes its data for good, and running instances of the application that still select or insert it fail until they are redeployed"))
                    .with_help("first deploy code that no longer uses the column (SQLAlchemy: remove it from the model, or `deferred()` + exclude it), then drop it in a later release"),
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
