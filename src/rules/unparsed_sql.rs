use crate::diagnostic::{Diagnostic, Origin, RuleMeta, Severity};
use crate::model::{OpKind, Phase};

use super::{LintContext, Rule};

pub static META: RuleMeta = RuleMeta {
    id: "unparsed-sql",
    severity: Severity::Note,
    summary: "A SQL statement PostgreSQL's parser rejects (or one it cannot look into): no rule checked it.",
    doc: include_str!("../../rules/unparsed-sql.md"),
    origin: Origin::Lint,
};

pub struct UnparsedSql;

impl Rule for UnparsedSql {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &LintContext, out: &mut Vec<Diagnostic>) {
        for phase in [Phase::Upgrade, Phase::Downgrade] {
            for site in cx.ops(phase) {
                if let OpKind::OtherDialect { construct } = &site.op.kind {
                    out.push(
                        cx.report_op(&META, &site, format!("PostgreSQL rejects this statement: {construct}, so the migration fails here if it runs on PostgreSQL, and no rule checked it"))
                            .with_severity(Severity::Warning)
                            .with_help("if it is meant for MySQL only, put it behind a dialect test (`if op.get_bind().dialect.name == \"mysql\":`); on PostgreSQL write it in PostgreSQL's syntax (`ALTER TABLE ... ALTER COLUMN ... TYPE`, `DROP CONSTRAINT`, `\"name\"`)")
                            .in_phase(phase),
                    );
                    continue;
                }
                let OpKind::Unparsed {
                    reason,
                    rejected_by_postgres,
                } = &site.op.kind
                else {
                    continue;
                };
                let diagnostic = if *rejected_by_postgres {
                    cx.report_op(&META, &site, format!("{reason}; the migration fails here if it runs on PostgreSQL, and no rule checked it"))
                        .with_severity(Severity::Warning)
                        .with_help("fix the statement; if it is a template or another database's SQL, suppress this finding with the reason")
                } else {
                    cx.report_op(
                        &META,
                        &site,
                        format!("this statement was not checked: {reason}"),
                    )
                    .with_help("review it by hand, then suppress this note with the reason")
                };
                out.push(diagnostic.in_phase(phase));
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
