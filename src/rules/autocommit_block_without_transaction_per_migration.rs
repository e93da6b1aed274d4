use crate::diagnostic::{Diagnostic, Origin, RuleMeta, Severity};
use crate::model::Framework;

use super::{LintContext, Rule};

pub static META: RuleMeta = RuleMeta {
    id: "autocommit-block-without-transaction-per-migration",
    severity: Severity::Warning,
    summary: "`autocommit_block()` while env.py runs every revision in one transaction.",
    doc: include_str!("../../rules/autocommit-block-without-transaction-per-migration.md"),
    origin: Origin::Lint,
};

pub struct AutocommitBlockWithoutTransactionPerMigration;

impl Rule for AutocommitBlockWithoutTransactionPerMigration {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &LintContext, out: &mut Vec<Diagnostic>) {
        // Without env.py there is nothing to read the transaction mode from.
        let Some(env_file) = cx.set.env.file else {
            return;
        };
        if cx.set.framework != Framework::Alembic || cx.set.env.transaction_per_migration {
            return;
        }
        let env_path = &cx.sources.get(env_file).path;
        for migration in cx.migrations() {
            let Some(span) = migration.uses_autocommit_block else {
                continue;
            };
            out.push(
                cx.report(&META, migration, span, format!("`autocommit_block()` commits the one transaction {env_path} opens for the whole `alembic upgrade`: revisions applied before this one in the same run are committed half-way, and a later failure cannot roll them back"))
                    .with_help(format!("pass `transaction_per_migration=True` to `context.configure(...)` in {env_path}")),
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
