use crate::diagnostic::{Diagnostic, Origin, RuleMeta, Severity};
use crate::model::op::same_name;
use crate::model::{OpKind, Phase};

use super::{LintContext, Rule};

pub static META: RuleMeta = RuleMeta {
    id: "add-enum-value",
    severity: Severity::Warning,
    summary: "ALTER TYPE ... ADD VALUE cannot be undone, and before PostgreSQL 12 fails inside a transaction.",
    doc: include_str!("../../rules/add-enum-value.md"),
    origin: Origin::Lint,
};

pub struct AddEnumValue;

impl Rule for AddEnumValue {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &LintContext, out: &mut Vec<Diagnostic>) {
        for site in cx.all_ops() {
            let OpKind::AddEnumValue { type_name, value } = &site.op.kind else {
                continue;
            };
            let diagnostic = if cx.postgres_version < 12 && site.op.in_transaction {
                cx.report_op(&META, &site, format!("adding `{value}` to enum `{type_name}` inside a transaction fails before PostgreSQL 12 (\"ALTER TYPE ... ADD VALUE cannot run inside a transaction block\")"))
                    .with_severity(Severity::Error)
                    .with_help(super::outside_transaction_help(
                        site.migration.framework,
                        "run it",
                        "run it",
                    ))
            } else {
                // Committed later in the body (a COMMIT, or an autocommit block, which commits
                // what ran before it): the value is usable from there on. After an explicit
                // COMMIT earlier in the body, whether a transaction is open at all depends on
                // the driver (psycopg2 sends no new BEGIN), so nothing is claimed.
                let committed_later = site.ops[site.index + 1..].iter().any(|later| {
                    matches!(later.kind, OpKind::CommitTransaction) || !later.in_transaction
                });
                let committed_before = site
                    .earlier()
                    .iter()
                    .any(|op| matches!(op.kind, OpKind::CommitTransaction));
                let waits_for_commit =
                    site.op.in_transaction && !committed_later && !committed_before;
                // The downgrade makes the type again without the value, under its name or under a
                // temporary one renamed to it afterwards: it is undone.
                let undone = site.phase == Phase::Upgrade
                    && site
                        .migration
                        .downgrade
                        .ops
                        .iter()
                        .any(|op| match &op.kind {
                            OpKind::CreateEnum { name, .. } => same_name(name, type_name),
                            OpKind::RenameType { to, .. } => same_name(to, type_name),
                            // SQL built at run time (an f-string over the labels): it may well
                            // make the type again; nothing read says it cannot be undone.
                            OpKind::DynamicSql | OpKind::DynamicOp { .. } => true,
                            _ => false,
                        });
                let message = match (undone, waits_for_commit) {
                    (true, false) => continue,
                    (true, true) => format!(
                        "the value `{value}` added to enum `{type_name}` cannot be used until this transaction commits (\"unsafe use of new value\")"
                    ),
                    (false, true) => format!(
                        "adding `{value}` to enum `{type_name}` cannot be undone (PostgreSQL has no DROP VALUE), and the value cannot be used until this transaction commits"
                    ),
                    (false, false) => format!(
                        "adding `{value}` to enum `{type_name}` cannot be undone (PostgreSQL has no DROP VALUE)"
                    ),
                };
                cx.report_op(&META, &site, message)
                    .with_help("run it inside `op.get_context().autocommit_block()` and use the value in a later revision; the downgrade must recreate the type to remove it, or leave it")
            };
            out.push(diagnostic);
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn fixtures() {
        super::super::testing::check_fixtures(&super::META);
    }

    /// The value is usable once a COMMIT follows: the message must not say otherwise.
    #[test]
    fn a_value_committed_later_in_the_migration_is_not_said_to_wait_for_the_commit() {
        let messages = |fixture: &str| -> Vec<String> {
            let options = crate::lint::LintOptions {
                paths: vec![super::super::testing::fixture_path(
                    "add-enum-value",
                    fixture,
                )],
                select: Some(vec![super::META.id.to_string()]),
                ..Default::default()
            };
            let outcome = crate::lint::lint(&options).unwrap();
            outcome
                .diagnostics
                .iter()
                .map(|d| d.message.clone())
                .collect()
        };
        let committed = messages("bad_committed.sql");
        assert_eq!(committed.len(), 1);
        assert!(
            !committed[0].contains("until this transaction commits"),
            "{committed:?}"
        );
        let open = messages("bad.py");
        assert!(
            open[0].contains("until this transaction commits"),
            "{open:?}"
        );
    }
}
