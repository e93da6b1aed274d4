use crate::diagnostic::{Diagnostic, Origin, RuleMeta, Severity};
use crate::model::op::same_name;
use crate::model::{ConstraintKind, OpKind, Phase};

use super::{LintContext, Rule};

pub static META: RuleMeta = RuleMeta {
    id: "create-table-without-primary-key",
    severity: Severity::Warning,
    summary: "A table created without a primary key.",
    doc: include_str!("../../rules/create-table-without-primary-key.md"),
    origin: Origin::Lint,
};

pub struct CreateTableWithoutPrimaryKey;

impl Rule for CreateTableWithoutPrimaryKey {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &LintContext, out: &mut Vec<Diagnostic>) {
        for site in cx.ops(Phase::Upgrade) {
            let OpKind::CreateTable {
                table,
                columns,
                constraints,
                shaped_by,
                ..
            } = &site.op.kind
            else {
                continue;
            };
            let has_key = columns.iter().any(|c| c.primary_key)
                || constraints
                    .iter()
                    .any(|(_, k)| matches!(k, ConstraintKind::PrimaryKey { .. }));
            let key_added_later = site.ops[site.index..].iter().any(|op| {
                matches!(&op.kind, OpKind::AddConstraint { table: t, kind: ConstraintKind::PrimaryKey { .. }, .. } if same_name(t, table))
            });
            // A partition has its parent's key; LIKE ... INCLUDING INDEXES copies the source's.
            if has_key || key_added_later || !shaped_by.is_empty() {
                continue;
            }
            out.push(
                cx.report_op(&META, &site, format!("table `{table}` has no primary key: rows cannot be addressed one by one, logical replication cannot replicate its UPDATEs and DELETEs, and duplicates creep in"))
                    .with_help("add a primary key (`sa.Column(\"id\", sa.BigInteger(), sa.Identity(), primary_key=True)`; SQL: `id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY`), or a composite one for a link table"),
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
