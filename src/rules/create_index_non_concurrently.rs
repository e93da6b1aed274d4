use crate::diagnostic::{Diagnostic, Origin, RuleMeta, Severity};
use crate::model::{OpKind, Phase};

use super::{LintContext, Rule};

pub static META: RuleMeta = RuleMeta {
    id: "create-index-non-concurrently",
    severity: Severity::Error,
    summary: "CREATE INDEX without CONCURRENTLY blocks writes to an existing table while it builds.",
    doc: include_str!("../../rules/create-index-non-concurrently.md"),
    origin: Origin::Lint,
};

pub struct CreateIndexNonConcurrently;

impl Rule for CreateIndexNonConcurrently {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &LintContext, out: &mut Vec<Diagnostic>) {
        for phase in [Phase::Upgrade, Phase::Downgrade] {
            for site in cx.ops(phase) {
                let OpKind::CreateIndex {
                    name,
                    table,
                    concurrently: false,
                    ..
                } = &site.op.kind
                else {
                    continue;
                };
                if site.table_is_new(table) {
                    continue;
                }
                let index = name
                    .as_deref()
                    .map(|n| format!("index `{n}`"))
                    .unwrap_or_else(|| "an index".into());
                out.push(
                    cx.report_op(&META, &site, format!("{index} is built without CONCURRENTLY: writes to `{table}` block until it is done"))
                        .with_help("build it with `postgresql_concurrently=True` inside `op.get_context().autocommit_block()` (SQL: `CREATE INDEX CONCURRENTLY`, outside a transaction)")
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
