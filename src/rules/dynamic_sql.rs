use crate::diagnostic::{Diagnostic, Origin, RuleMeta, Severity};
use crate::model::{Framework, OpKind, Phase};

use super::{LintContext, Rule};

pub static META: RuleMeta = RuleMeta {
    id: "dynamic-sql",
    severity: Severity::Note,
    summary: "SQL or an `op.*` call built at run time, which cannot be checked.",
    doc: include_str!("../../rules/dynamic-sql.md"),
    origin: Origin::Lint,
};

pub struct DynamicSql;

impl Rule for DynamicSql {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &LintContext, out: &mut Vec<Diagnostic>) {
        for phase in [Phase::Upgrade, Phase::Downgrade] {
            for site in cx.ops(phase) {
                let (message, help) = match &site.op.kind {
                    // In Python: a string made at run time; in SQL: PL/pgSQL's EXECUTE of one.
                    OpKind::DynamicSql if site.migration.framework == Framework::Alembic => (
                        "the SQL is built at run time (f-string, concatenation or a variable), so no rule checked it".to_string(),
                        "write the statement as a literal string, or review it by hand and suppress this note",
                    ),
                    OpKind::DynamicSql => (
                        "`EXECUTE` runs SQL built at run time (`format(...)`, concatenation or a variable), so no rule checked it".to_string(),
                        "write the statement itself instead of building it, or review it by hand and suppress this note",
                    ),
                    OpKind::DynamicOp { call } => (
                        format!("`op.{call}(...)` gets its table or names at run time (a variable, a function argument, a loop over something not literal), so no rule checked it"),
                        "pass literal names (a loop over a literal list is read once per value), or review it by hand and suppress this note",
                    ),
                    _ => continue,
                };
                out.push(
                    cx.report_op(&META, &site, message)
                        .with_help(help)
                        .in_phase(phase),
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
