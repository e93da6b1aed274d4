use crate::diagnostic::{Diagnostic, Origin, RuleMeta, Severity};
use crate::model::ConstraintKind;

use super::{LintContext, Rule};

pub static META: RuleMeta = RuleMeta {
    id: "add-exclusion-constraint",
    severity: Severity::Error,
    summary: "An exclusion constraint on an existing table builds its index and checks every row under ACCESS EXCLUSIVE.",
    doc: include_str!("../../rules/add-exclusion-constraint.md"),
    origin: Origin::Lint,
};

pub struct AddExclusionConstraint;

impl Rule for AddExclusionConstraint {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &LintContext, out: &mut Vec<Diagnostic>) {
        for found in cx.blocking_constraints() {
            let ConstraintKind::Exclusion = found.kind else {
                continue;
            };
            let (site, table, constraint) = (&found.site, found.table, &found.label);
            out.push(
                cx.report_op(&META, site, format!("exclusion constraint{constraint} on `{table}` builds its index and checks every pair of rows while `{table}` is locked against reads and writes (ACCESS EXCLUSIVE); PostgreSQL has no CONCURRENTLY or NOT VALID form for it"))
                    .with_help("declare it when the table is created, or add it in a maintenance window on a table small enough; on a large table, build a new table with the constraint and move the rows in batches"),
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
