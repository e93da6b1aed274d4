use crate::diagnostic::{Diagnostic, Origin, RuleMeta, Severity};
use crate::model::Phase;

use super::declared_columns;

use super::{LintContext, Rule};

pub static META: RuleMeta = RuleMeta {
    id: "prefer-jsonb",
    severity: Severity::Note,
    summary: "A `json` column: prefer `jsonb`.",
    doc: include_str!("../../rules/prefer-jsonb.md"),
    origin: Origin::Lint,
};

pub struct PreferJsonb;

impl Rule for PreferJsonb {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &LintContext, out: &mut Vec<Diagnostic>) {
        for site in cx.ops(Phase::Upgrade) {
            for (table, column, ty) in declared_columns(&site.op.kind) {
                if !(ty.is("json")) {
                    continue;
                }
                out.push(
                    cx.report_op(&META, &site, format!("`{table}.{column}` is `json`: stored as text, reparsed on every access, and without equality or GIN indexing"))
                        .with_help("use `postgresql.JSONB` (SQL: `jsonb`)"),
                );
            }
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
