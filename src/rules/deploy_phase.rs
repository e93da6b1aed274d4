use crate::diagnostic::{Diagnostic, Origin, RuleMeta, Severity};
use crate::model::{ConstraintKind, OpKind, Phase};

use super::{LintContext, OpSite, Rule};

pub static META: RuleMeta = RuleMeta {
    id: "deploy-phase",
    severity: Severity::Note,
    summary: "With --base: each new revision's operations as expand (safe while the running version runs) or contract (breaks it).",
    doc: include_str!("../../rules/deploy-phase.md"),
    origin: Origin::Lint,
};

pub struct DeployPhase;

impl Rule for DeployPhase {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &LintContext, out: &mut Vec<Diagnostic>) {
        // Only a pull request's new revisions meet a version already running.
        if cx.base.is_none() {
            return;
        }
        // Each in-scope revision's operations, in one walk: (expand, contract) by revision.
        let mut parts: std::collections::BTreeMap<usize, (Vec<String>, Vec<String>)> =
            std::collections::BTreeMap::new();
        for site in cx.ops(Phase::Upgrade) {
            let (expand, contract) = parts.entry(site.migration_index).or_default();
            match classify(&site) {
                Some(Part::Expand(what)) => expand.push(what),
                Some(Part::Contract(what)) => contract.push(what),
                None => {}
            }
        }
        for (index, (expand, contract)) in parts {
            let migration = &cx.set.migrations[index];
            if expand.is_empty() && contract.is_empty() {
                continue;
            }
            let list = |items: &[String]| {
                if items.is_empty() {
                    "nothing".to_string()
                } else {
                    items.join(", ")
                }
            };
            let (message, help) = if contract.is_empty() {
                (
                    format!("expand only: {}", list(&expand)),
                    "safe while the version running now keeps running: deploy it with or before the code that uses it",
                )
            } else {
                (
                    format!("expand: {}; contract: {}", list(&expand), list(&contract)),
                    "the contract part breaks the version running now: ship the expand part and the code that no longer needs the old shape first, and the contract part in a later release (each contract finding of this revision names its two-release sequence); or prove it with `roundtrip --base REF --compat`",
                )
            };
            out.push(
                cx.report(&META, migration, migration.revision_span, message)
                    .with_help(help)
                    .in_phase(Phase::Upgrade),
            );
        }
    }
}

enum Part {
    Expand(String),
    Contract(String),
}

/// What an operation is to the version running now: a new thing it ignores (expand), or a
/// change to what it reads and writes (contract). `None` for what touches neither (data,
/// indexes dropped, settings).
fn classify(site: &OpSite) -> Option<Part> {
    use Part::{Contract, Expand};
    Some(match &site.op.kind {
        OpKind::CreateTable { table, .. } => Expand(format!("create table `{table}`")),
        OpKind::CreateIndex {
            name: Some(name), ..
        } => Expand(format!("create index `{name}`")),
        OpKind::CreateEnum { name, .. } | OpKind::CreateType { name } => {
            Expand(format!("create type `{name}`"))
        }
        OpKind::AddColumn { table, column } => {
            let required = !column.nullable
                && column.server_default.is_none()
                && !column.identity
                && !column.serial
                && !column.generated_stored;
            if required && !site.table_is_new(table) {
                Contract(format!(
                    "add NOT NULL column `{table}.{}` without a default (the running version's INSERTs leave it out)",
                    column.name
                ))
            } else {
                Expand(format!("add column `{table}.{}`", column.name))
            }
        }
        OpKind::DropTable { table, .. } if !site.table_is_new(table) => {
            Contract(format!("drop table `{table}`"))
        }
        OpKind::DropColumn { table, column } if !site.table_is_new(table) => {
            Contract(format!("drop column `{table}.{column}`"))
        }
        OpKind::RenameTable { from, to } if !site.table_is_new(from) => {
            Contract(format!("rename table `{from}` to `{to}`"))
        }
        OpKind::RenameColumn { table, from, to } if !site.table_is_new(table) => {
            Contract(format!("rename column `{table}.{from}` to `{to}`"))
        }
        OpKind::SetNotNull { table, column } if !site.table_is_new(table) => {
            Contract(format!("make `{table}.{column}` NOT NULL"))
        }
        OpKind::AlterColumnType { table, column, .. } if !site.table_is_new(table) => {
            Contract(format!("change the type of `{table}.{column}`"))
        }
        OpKind::AddConstraint { table, kind, .. } if !site.table_is_new(table) => {
            let what = match kind {
                ConstraintKind::Check { .. } => "a CHECK",
                ConstraintKind::Unique { .. } => "a unique key",
                ConstraintKind::ForeignKey { .. } => "a foreign key",
                ConstraintKind::PrimaryKey { .. } => "a primary key",
                _ => "a constraint",
            };
            Contract(format!(
                "add {what} on `{table}` (the running version's writes may break it)"
            ))
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn fixtures() {
        super::super::testing::check_fixtures_against_base(&super::META);
    }
}
