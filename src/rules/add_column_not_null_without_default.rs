use crate::diagnostic::{Diagnostic, Origin, RuleMeta, Severity};
use crate::model::{OpKind, Phase};

use super::{LintContext, Rule};

pub static META: RuleMeta = RuleMeta {
    id: "add-column-not-null-without-default",
    severity: Severity::Error,
    summary: "Adding a NOT NULL column without a default fails on any table that has rows.",
    doc: include_str!("../../rules/add-column-not-null-without-default.md"),
    origin: Origin::Lint,
};

pub struct AddColumnNotNullWithoutDefault;

impl Rule for AddColumnNotNullWithoutDefault {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &LintContext, out: &mut Vec<Diagnostic>) {
        // In a downgrade too: re-adding a dropped NOT NULL column makes the rollback fail.
        for site in cx.all_ops() {
            let OpKind::AddColumn { table, column } = &site.op.kind else {
                continue;
            };
            if column.nullable
                || column.server_default.is_some()
                || column.identity
                || column.generated_stored
                || site.table_holds_no_rows(table)
            {
                continue;
            }
            out.push(
                cx.report_op(&META, &site, format!(
                    "NOT NULL column `{}` has no server default: the {} fails as soon as `{table}` has a row",
                    column.name,
                    if site.phase == Phase::Downgrade { "rollback" } else { "migration" }
                ))
                .with_help("add it nullable, backfill, then set NOT NULL; or give it a `server_default` (a Python-side `default=` does not reach existing rows)")
                .in_phase(site.phase),
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
