use crate::diagnostic::{Diagnostic, Origin, RuleMeta, Severity};
use crate::model::{OpKind, Phase};

use super::{LintContext, Rule};

pub static META: RuleMeta = RuleMeta {
    id: "add-column-not-null-with-default",
    severity: Severity::Error,
    summary: "Adding a NOT NULL column with a default rewrites the table before PostgreSQL 11.",
    doc: include_str!("../../rules/add-column-not-null-with-default.md"),
    origin: Origin::Lint,
};

/// From this version on, a constant default is stored in the catalog instead of written to
/// every row.
const FAST_DEFAULT_VERSION: u32 = 11;

pub struct AddColumnNotNullWithDefault;

impl Rule for AddColumnNotNullWithDefault {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &LintContext, out: &mut Vec<Diagnostic>) {
        for site in cx.ops(Phase::Upgrade) {
            let OpKind::AddColumn { table, column } = &site.op.kind else {
                continue;
            };
            let Some(default) = &column.server_default else {
                continue;
            };
            if column.nullable
                || default.is_volatile()
                || column.identity
                || site.table_is_new(table)
            {
                continue;
            }
            let diagnostic = if cx.postgres_version < FAST_DEFAULT_VERSION {
                cx.report_op(&META, &site, format!(
                    "adding NOT NULL column `{}` with a default rewrites `{table}` under an ACCESS EXCLUSIVE lock on PostgreSQL {}",
                    column.name, cx.postgres_version
                ))
                .with_help("add the column as nullable without a default, backfill in batches, then add a NOT VALID check, validate it, and set NOT NULL")
            } else {
                cx.report_op(&META, &site, format!(
                    "NOT NULL column `{}` with default {} is added without a rewrite on PostgreSQL ≥ 11, and the default stays on the column",
                    column.name, default.text
                ))
                .with_severity(Severity::Note)
                .with_help("if the default only served the backfill, drop it in a later revision (`alter_column(..., server_default=None)`)")
            };
            out.push(diagnostic.in_phase(Phase::Upgrade));
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
