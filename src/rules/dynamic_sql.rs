use crate::diagnostic::{Diagnostic, Origin, RuleMeta, Severity};
use crate::model::{OpKind, Phase};

use super::{LintContext, Rule};

pub static META: RuleMeta = RuleMeta {
    id: "dynamic-sql",
    severity: Severity::Note,
    summary: "`op.execute` runs SQL built at run time, which cannot be checked.",
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
                if site.op.kind != OpKind::DynamicSql {
                    continue;
                }
                out.push(
                    cx.report_op(&META, &site, "the SQL is built at run time (f-string, concatenation or a variable), so no rule checked it")
                        .with_help("write the statement as a literal string, or review it by hand and suppress this note")
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
