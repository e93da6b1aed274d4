use crate::diagnostic::{Diagnostic, Origin, RuleMeta, Severity};
use crate::model::op::same_name;
use crate::model::{ConstraintKind, OpKind, Phase};

use super::{LintContext, Rule};

pub static META: RuleMeta = RuleMeta {
    id: "create-table-without-primary-key",
    severity: Severity::Warning,
    summary: "A table created without a primary key.",
    doc: include_str!("../../rules/create-table-without-primary-key.md"),
    origin: Origin::Lint,
};

pub struct CreateTableWithoutPrimaryKey;

impl Rule for CreateTableWithoutPrimaryKey {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &LintContext, out: &mut Vec<Diagnostic>) {
        for site in cx.ops(Phase::Upgrade) {
            let OpKind::CreateTable {
                table,
                columns,
                constraints,
                shaped_by,
                ..
            } = &site.op.kind
            else {
                continue;
            };
            let has_key = columns.iter().any(|c| c.primary_key)
                || constraints
                    .iter()
                    .any(|(_, k)| matches!(k, ConstraintKind::PrimaryKey { .. }));
            // A key added later in the body, also under the name a rename gives the table (a
            // table built under a temporary name and swapped in).
            let mut current = table.clone();
            let key_added_later = site.ops[site.index..].iter().any(|op| match &op.kind {
                OpKind::RenameTable { from, to } if same_name(from, &current) => {
                    current = to.clone();
                    false
                }
                OpKind::AddConstraint {
                    table: t,
                    kind: ConstraintKind::PrimaryKey { .. },
                    ..
                } => same_name(t, &current),
                _ => false,
            });
            // A key a later migration of the set adds: the history already fixes what the
            // finding would ask for (checked whole, an old revision is not edited again).
            let key_added_by_later_migration = cx.set.migrations[site.migration_index + 1..]
                .iter()
                .flat_map(|m| &m.upgrade.ops)
                .any(|op| {
                    matches!(&op.kind, OpKind::AddConstraint { table: t, kind: ConstraintKind::PrimaryKey { .. }, .. } if same_name(t, &current))
                });
            // A scratch table the same migration drops again holds nothing anyone keeps.
            let dropped_later = site.ops[site.index + 1..].iter().any(
                |op| matches!(&op.kind, OpKind::DropTable { table: t, .. } if same_name(t, table)),
            );
            // A partition has its parent's key; LIKE ... INCLUDING INDEXES copies the source's.
            if has_key
                || key_added_later
                || key_added_by_later_migration
                || dropped_later
                || !shaped_by.is_empty()
            {
                continue;
            }
            // A unique key on NOT NULL columns addresses rows and keeps duplicates out as a
            // primary key would; only logical replication still needs one (or a REPLICA
            // IDENTITY naming that key's index).
            if let Some(key) =
                unique_not_null_key(columns, constraints, &site.ops[site.index..], table)
            {
                out.push(
                    cx.report_op(&META, &site, format!("table `{table}` has no primary key: its unique key ({}) on NOT NULL columns addresses rows, but logical replication cannot replicate its UPDATEs and DELETEs", key.join(", ")))
                        .with_severity(Severity::Note)
                        .with_help("make that key the primary key (`ALTER TABLE ... ADD PRIMARY KEY USING INDEX ...`), or, if the table is replicated, `ALTER TABLE ... REPLICA IDENTITY USING INDEX ...`"),
                );
                continue;
            }
            out.push(
                cx.report_op(&META, &site, format!("table `{table}` has no primary key: rows cannot be addressed one by one, logical replication cannot replicate its UPDATEs and DELETEs, and duplicates creep in"))
                    .with_help(cx.help_for(
                        "add a primary key (`sa.Column(\"id\", sa.BigInteger(), sa.Identity(), primary_key=True)`), or a composite one for a link table",
                        "add a primary key (`id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY`), or a composite one for a link table",
                    )),
            );
        }
    }
}

/// The columns of a unique key of the new table whose columns are all NOT NULL: a column's
/// UNIQUE, a table constraint, or a unique index built later in the same migration.
fn unique_not_null_key(
    columns: &[crate::model::Column],
    constraints: &[(Option<String>, ConstraintKind)],
    later: &[crate::model::Op],
    table: &str,
) -> Option<Vec<String>> {
    let not_null = |name: &String| {
        columns
            .iter()
            .any(|c| same_name(&c.name, name) && !c.nullable)
    };
    let keys = columns
        .iter()
        .filter(|c| c.unique)
        .map(|c| vec![c.name.clone()])
        .chain(constraints.iter().filter_map(|(_, kind)| match kind {
            ConstraintKind::Unique { columns } => Some(columns.clone()),
            _ => None,
        }))
        .chain(later.iter().filter_map(|op| match &op.kind {
            OpKind::CreateIndex {
                table: t,
                columns,
                unique: true,
                predicate: None,
                ..
            } if same_name(t, table) => Some(columns.clone()),
            OpKind::AddConstraint {
                table: t,
                kind: ConstraintKind::Unique { columns },
                ..
            } if same_name(t, table) => Some(columns.clone()),
            _ => None,
        }));
    keys.into_iter()
        .find(|key| !key.is_empty() && key.iter().all(not_null))
}

#[cfg(test)]
mod tests {
    #[test]
    fn fixtures() {
        super::super::testing::check_fixtures(&super::META);
    }
}
