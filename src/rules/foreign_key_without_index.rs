use crate::config::Preset;
use crate::diagnostic::{Diagnostic, Origin, RuleMeta, Severity};
use crate::model::op::same_name;
use crate::model::{ConstraintKind, Op, OpKind, Phase};

use super::{LintContext, Rule};

pub static META: RuleMeta = RuleMeta {
    id: "foreign-key-without-index",
    severity: Severity::Warning,
    summary: "A foreign key whose columns no index leads with: deletes and key updates on the parent scan the child table.",
    doc: include_str!("../../rules/foreign-key-without-index.md"),
    origin: Origin::Lint,
};

pub struct ForeignKeyWithoutIndex;

impl Rule for ForeignKeyWithoutIndex {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn preset(&self) -> Preset {
        Preset::Strict
    }

    fn check(&self, cx: &LintContext, out: &mut Vec<Diagnostic>) {
        // An index made anywhere in the history counts, before or after the key.
        let every_op: Vec<&Op> = cx
            .set
            .migrations
            .iter()
            .flat_map(|m| m.upgrade.ops.iter())
            .collect();
        for site in cx.ops(Phase::Upgrade) {
            for (table, columns, referenced) in foreign_keys(&site.op.kind) {
                if columns.is_empty() || indexed(&every_op, table, &columns) {
                    continue;
                }
                let listed = columns.join(", ");
                out.push(
                    cx.report_op(&META, &site, format!("no index on `{table}` starts with ({listed}), the columns of its foreign key to `{referenced}`: every DELETE or key UPDATE on `{referenced}` scans `{table}` to check it, holding its locks while it does"))
                        .with_help(format!("add an index that leads with ({listed}) — built CONCURRENTLY if `{table}` already has rows")),
                );
            }
        }
    }
}

/// The foreign keys an operation declares: (table, columns, referenced table).
fn foreign_keys(kind: &OpKind) -> Vec<(&str, Vec<String>, &str)> {
    match kind {
        OpKind::AddConstraint {
            table,
            kind:
                ConstraintKind::ForeignKey {
                    columns,
                    referenced_table,
                },
            ..
        } => vec![(table.as_str(), columns.clone(), referenced_table.as_str())],
        OpKind::CreateTable {
            table,
            columns,
            constraints,
            ..
        } => {
            let mut keys: Vec<(&str, Vec<String>, &str)> = constraints
                .iter()
                .filter_map(|(_, constraint)| match constraint {
                    ConstraintKind::ForeignKey {
                        columns,
                        referenced_table,
                    } => Some((table.as_str(), columns.clone(), referenced_table.as_str())),
                    _ => None,
                })
                .collect();
            keys.extend(columns.iter().filter_map(|column| {
                let referenced = column.references.as_deref()?;
                Some((table.as_str(), vec![column.name.clone()], referenced))
            }));
            keys
        }
        _ => Vec::new(),
    }
}

/// Whether some index, primary key or unique constraint on `table` leads with `columns`.
fn indexed(history: &[&Op], table: &str, columns: &[String]) -> bool {
    let leads_with = |index: &[String]| {
        index.len() >= columns.len()
            && columns
                .iter()
                .zip(index)
                .all(|(c, i)| same_name(c, i.trim_matches('"')))
    };
    let single = |name: &str| columns.len() == 1 && same_name(&columns[0], name);
    history.iter().any(|op| match &op.kind {
        OpKind::CreateIndex {
            table: t,
            columns: c,
            ..
        } if same_name(t, table) => leads_with(c),
        OpKind::AddConstraint {
            table: t,
            kind: ConstraintKind::PrimaryKey { columns: c } | ConstraintKind::Unique { columns: c },
            ..
        } if same_name(t, table) => leads_with(c),
        OpKind::CreateTable {
            table: t,
            columns: cs,
            constraints,
            ..
        } if same_name(t, table) => {
            let primary_key: Vec<String> = cs
                .iter()
                .filter(|c| c.primary_key)
                .map(|c| c.name.clone())
                .collect();
            leads_with(&primary_key)
                || constraints.iter().any(|(_, kind)| match kind {
                    ConstraintKind::PrimaryKey { columns: c }
                    | ConstraintKind::Unique { columns: c } => leads_with(c),
                    _ => false,
                })
                || cs
                    .iter()
                    .any(|c| (c.unique || c.indexed) && single(&c.name))
        }
        OpKind::AddColumn { table: t, column } if same_name(t, table) => {
            (column.primary_key || column.unique || column.indexed) && single(&column.name)
        }
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn fixtures() {
        super::super::testing::check_fixtures(&super::META);
    }
}
