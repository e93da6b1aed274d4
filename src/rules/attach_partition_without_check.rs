use crate::diagnostic::{Diagnostic, Origin, RuleMeta, Severity};
use crate::model::{ConstraintKind, OpKind, Phase};

use super::{LintContext, Rule};

pub static META: RuleMeta = RuleMeta {
    id: "attach-partition-without-check",
    severity: Severity::Warning,
    summary: "ATTACH PARTITION without a CHECK that matches the bound scans the partition under ACCESS EXCLUSIVE.",
    doc: include_str!("../../rules/attach-partition-without-check.md"),
    origin: Origin::Lint,
};

pub struct AttachPartitionWithoutCheck;

impl Rule for AttachPartitionWithoutCheck {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &LintContext, out: &mut Vec<Diagnostic>) {
        for site in cx.ops(Phase::Upgrade) {
            let OpKind::AttachPartition { table, partition } = &site.op.kind else {
                continue;
            };
            if site.table_is_new(partition) {
                continue;
            }
            // A CHECK added to the partition beforehand is taken as the bound's proof; whether
            // it implies the bound is PostgreSQL's to decide.
            let history = cx.history_before(&site, partition);
            // Declared in its CREATE TABLE, as a table or a column constraint, it counts the same.
            let checked = history.iter().any(|op| match &op.kind {
                OpKind::AddConstraint {
                    table: t,
                    kind: ConstraintKind::Check { .. },
                    ..
                } => history.names(t),
                OpKind::CreateTable {
                    table: t,
                    columns,
                    constraints,
                    ..
                } => {
                    history.names(t)
                        && (columns.iter().any(|c| !c.checks.is_empty())
                            || constraints
                                .iter()
                                .any(|(_, kind)| matches!(kind, ConstraintKind::Check { .. })))
                }
                _ => false,
            });
            if checked {
                continue;
            }
            out.push(
                cx.report_op(&META, &site, format!("attaching `{partition}` to `{table}` scans every row of `{partition}` to check the partition bound, while `{partition}` is locked against reads and writes (ACCESS EXCLUSIVE)"))
                    .with_help("first add a CHECK that matches the bound NOT VALID and VALIDATE it (no blocking lock), then ATTACH PARTITION skips the scan; drop the CHECK afterwards"),
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
