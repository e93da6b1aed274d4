use crate::diagnostic::{Diagnostic, Origin, RuleMeta, Severity};
use crate::model::Phase;

use super::{LintContext, Rule};

pub static META: RuleMeta = RuleMeta {
    id: "concurrent-index-in-transaction",
    severity: Severity::Error,
    summary: "CONCURRENTLY inside a transaction block fails at run time.",
    doc: include_str!("../../rules/concurrent-index-in-transaction.md"),
    origin: Origin::Lint,
};

pub struct ConcurrentIndexInTransaction;

impl Rule for ConcurrentIndexInTransaction {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &LintContext, out: &mut Vec<Diagnostic>) {
        for phase in [Phase::Upgrade, Phase::Downgrade] {
            for site in cx.ops(phase) {
                if !site.op.in_transaction {
                    continue;
                }
                let Some(statement) = site.op.kind.runs_only_outside_transaction() else {
                    continue;
                };
                out.push(
                    cx.report_op(&META, &site, format!("{statement} cannot run inside a transaction block: the migration will fail"))
                        .with_help(site.migration.framework.outside_transaction_way())
                        .with_fix(crate::fix::autocommit_block::alembic(site.op, site.ops, crate::fix::Allowed::of(&cx.set.env)))
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
