use crate::diagnostic::{Diagnostic, Origin, RuleMeta, Severity};
use crate::model::Phase;

use super::declared_columns;

use super::{LintContext, Rule};

pub static META: RuleMeta = RuleMeta {
    id: "prefer-timestamptz",
    severity: Severity::Note,
    summary: "A `timestamp without time zone` column: prefer `timestamp with time zone`.",
    doc: include_str!("../../rules/prefer-timestamptz.md"),
    origin: Origin::Lint,
};

pub struct PreferTimestamptz;

impl Rule for PreferTimestamptz {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &LintContext, out: &mut Vec<Diagnostic>) {
        for site in cx.ops(Phase::Upgrade) {
            for (table, column, ty) in declared_columns(&site.op.kind) {
                if !(ty.is("timestamp without time zone")) {
                    continue;
                }
                out.push(
                    cx.report_op(&META, &site, format!("`{table}.{column}` is `timestamp without time zone`: the values carry no zone, so the same instant reads differently depending on who wrote it and where"))
                        .with_help("use `sa.DateTime(timezone=True)` (SQL: `timestamptz`); PostgreSQL stores UTC and converts on the way out"),
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
