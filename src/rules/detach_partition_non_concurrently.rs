use crate::diagnostic::{Diagnostic, Origin, RuleMeta, Severity};
use crate::model::{OpKind, Phase};

use super::{LintContext, Rule};

pub static META: RuleMeta = RuleMeta {
    id: "detach-partition-non-concurrently",
    severity: Severity::Warning,
    summary: "DETACH PARTITION without CONCURRENTLY locks the whole partitioned table (ACCESS EXCLUSIVE).",
    doc: include_str!("../../rules/detach-partition-non-concurrently.md"),
    origin: Origin::Lint,
};

pub struct DetachPartitionNonConcurrently;

impl Rule for DetachPartitionNonConcurrently {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &LintContext, out: &mut Vec<Diagnostic>) {
        for site in cx.ops(Phase::Upgrade) {
            let OpKind::DetachPartition {
                table,
                partition,
                concurrently: false,
            } = &site.op.kind
            else {
                continue;
            };
            if site.table_is_new(table) {
                continue;
            }
            let help = if cx.postgres_version >= 14 {
                "write `ALTER TABLE ... DETACH PARTITION ... CONCURRENTLY` (PostgreSQL ≥ 14), outside a transaction block: in Alembic inside `op.get_context().autocommit_block()`"
            } else {
                "before PostgreSQL 14 there is no concurrent form: set a short lock_timeout and retry, or detach in a quiet period"
            };
            out.push(
                cx.report_op(&META, &site, format!("detaching `{partition}` locks `{table}` against reads and writes (ACCESS EXCLUSIVE) for every partition: it waits behind every running query on `{table}`, and everything waits behind it"))
                    .with_help(help),
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
