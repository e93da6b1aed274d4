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
                        .with_help(cx.help_for(
                            "use `sa.DateTime(timezone=True)` (`timestamptz`); PostgreSQL stores UTC and converts on the way out",
                            "use `timestamptz`; PostgreSQL stores UTC and converts on the way out",
                        )),
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

    /// The way out is written in the migration's own language.
    #[test]
    fn the_help_speaks_the_frameworks_language() {
        let sql = super::super::testing::fixture_helps(&super::META, "bad.sql");
        assert!(
            !sql.is_empty() && sql.iter().all(|h| h.starts_with("use `timestamptz`")),
            "{sql:?}"
        );
        let alembic = super::super::testing::fixture_helps(&super::META, "bad.py");
        assert!(
            !alembic.is_empty()
                && alembic
                    .iter()
                    .all(|h| h.contains("sa.DateTime(timezone=True)")),
            "{alembic:?}"
        );
    }
}
