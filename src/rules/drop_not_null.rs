use crate::diagnostic::{Diagnostic, Origin, RuleMeta, Severity};
use crate::model::{OpKind, Phase};

use super::{LintContext, Rule};

pub static META: RuleMeta = RuleMeta {
    id: "drop-not-null",
    severity: Severity::Warning,
    summary: "DROP NOT NULL lets NULLs in that running code does not expect.",
    doc: include_str!("../../rules/drop-not-null.md"),
    origin: Origin::Lint,
};

pub struct DropNotNull;

impl Rule for DropNotNull {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &LintContext, out: &mut Vec<Diagnostic>) {
        // The downgrade undoing an upgrade is the deliberate reverse; the risk is reported once,
        // where the change is made.
        for site in cx.ops(Phase::Upgrade) {
            let OpKind::DropNotNull { table, column } = &site.op.kind else {
                continue;
            };
            // Already nullable: nothing changes for running code.
            if site.table_is_new(table)
                || cx.column_nullable_before(&site, table, column) == Some(true)
            {
                continue;
            }
            out.push(
                cx.report_op(&META, &site, format!("after DROP NOT NULL, new code may write NULL into `{table}.{column}` while instances of the old code, still running during the deploy, read it as never NULL"))
                    .with_help("deploy code that handles NULL in the column first, then drop the constraint in a later release"),
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
