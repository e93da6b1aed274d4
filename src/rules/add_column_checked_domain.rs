use crate::diagnostic::{Diagnostic, Origin, RuleMeta, Severity};
use crate::model::op::same_name;
use crate::model::{OpKind, Phase};

use super::{LintContext, Rule};

pub static META: RuleMeta = RuleMeta {
    id: "add-column-checked-domain",
    severity: Severity::Error,
    summary: "Adding a column whose type is a domain with constraints rewrites the table under ACCESS EXCLUSIVE.",
    doc: include_str!("../../rules/add-column-checked-domain.md"),
    origin: Origin::Lint,
};

pub struct AddColumnCheckedDomain;

impl Rule for AddColumnCheckedDomain {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &LintContext, out: &mut Vec<Diagnostic>) {
        let constrained: Vec<&str> = cx
            .set
            .migrations
            .iter()
            .flat_map(|m| m.upgrade.ops.iter())
            .filter_map(|op| match &op.kind {
                OpKind::ConstrainDomain { domain, .. }
                | OpKind::CreateDomain {
                    name: domain,
                    constrained: true,
                } => Some(domain.as_str()),
                _ => None,
            })
            .collect();
        if constrained.is_empty() {
            return;
        }
        for site in cx.ops(Phase::Upgrade) {
            let OpKind::AddColumn { table, column } = &site.op.kind else {
                continue;
            };
            if site.table_is_new(table) {
                continue;
            }
            let Some(domain) = constrained
                .iter()
                .find(|domain| same_name(domain, &column.ty.name))
            else {
                continue;
            };
            out.push(
                cx.report_op(&META, &site, format!("`{}` is of domain `{domain}`, which has constraints: PostgreSQL rewrites `{table}` to check them on every row, under ACCESS EXCLUSIVE — even when the column is NULL everywhere", column.name))
                    .with_help(format!("add the column with the domain's base type, backfill in batches, add the domain's condition as a CHECK ... NOT VALID and VALIDATE it; or change the column to `{domain}` while `{table}` is small")),
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
