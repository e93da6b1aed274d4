//! Static symmetry between upgrade and downgrade: what one creates the other removes, and what
//! one removes the other restores.

use crate::diagnostic::{Diagnostic, Origin, RuleMeta, Severity};
use crate::model::op::same_name;
use crate::model::{Body, BodyState, Migration, Op, OpKind, Phase, Span};

use super::{LintContext, Rule};

mod objects;
mod rebuilt;

use objects::{Object, effects, implied_constraints};

pub static META: RuleMeta = RuleMeta {
    id: "incomplete-downgrade",
    severity: Severity::Warning,
    summary: "The downgrade does not undo everything the upgrade does.",
    doc: include_str!("../../rules/incomplete-downgrade.md"),
    origin: Origin::Lint,
};

pub struct IncompleteDowngrade;

/// The net effect of the upgrade: objects it leaves created and objects it leaves removed,
/// each with the operation that did it. Something created and dropped again is no effect.
/// An object and the operation that made or removed it.
type Change = (Object, Span);

fn net_changes(ops: &[Op]) -> (Vec<Change>, Vec<Change>) {
    let mut created: Vec<Change> = Vec::new();
    let mut removed: Vec<Change> = Vec::new();
    // Tables dropped and created anew under the same name: the table exists after the upgrade
    // and after the downgrade, and the next upgrade drops it before creating it, so neither
    // the table nor what is built on it is left over or missing.
    let mut replaced: Vec<String> = Vec::new();
    // Types the upgrade found and renamed (`ALTER TYPE status RENAME TO status_old`): the new
    // name → the type's own. Creating the old name again and dropping the renamed one is the
    // way PostgreSQL changes an enum: the type is replaced, not created or removed.
    let mut renamed_types: Vec<(String, String)> = Vec::new();
    let mut replaced_types: Vec<String> = Vec::new();
    // Constraints dropped to be added again under the same name: (table, name).
    let mut replaced_constraints: Vec<(String, String)> = Vec::new();
    // Names a swap gave its old table (`t_old`), which live only inside the upgrade.
    let mut swapped_out: Vec<String> = Vec::new();
    // Column swaps: (table, the column's names) replaced, and (table, `c_old`) dropped after.
    let mut replaced_columns: Vec<(String, Vec<String>)> = Vec::new();
    let mut swapped_out_columns: Vec<(String, String)> = Vec::new();
    for (index, op) in ops.iter().enumerate() {
        // A column swap: `RENAME COLUMN c TO c_old`, a new column renamed to `c` later (`c_new`
        // added, filled, `RENAME COLUMN c_new TO c`), and `c_old` dropped: `c` is replaced.
        if let OpKind::RenameColumn { table, from, to } = &op.kind
            && let Some(new_name) = ops[index + 1..].iter().find_map(|l| match &l.kind {
                OpKind::RenameColumn {
                    table: t,
                    from: f,
                    to: again,
                } if same_name(t, table) && same_name(again, from) => Some(f.clone()),
                _ => None,
            })
            && ops[index + 1..].iter().any(|l| {
                matches!(&l.kind, OpKind::DropColumn { table: t, column }
                if same_name(t, table) && same_name(column, to))
            })
        {
            replaced_columns.push((table.clone(), vec![from.clone(), new_name]));
            swapped_out_columns.push((table.clone(), to.clone()));
            continue;
        }
        if let OpKind::DropColumn { table, column } = &op.kind
            && swapped_out_columns
                .iter()
                .any(|(t, c)| same_name(t, table) && same_name(c, column))
        {
            continue;
        }
        // A table swap: `RENAME TO t_old`, a new `t` made later and `t_old` dropped later (the
        // way a history shared with SQLite changes a table): `t` is replaced, as if dropped and
        // created anew under its name, and `t_old` never outlives the upgrade.
        let later = &ops[index + 1..];
        if let OpKind::RenameTable { from, to } = &op.kind
            && later.iter().any(
                |l| matches!(&l.kind, OpKind::CreateTable { table, .. } if same_name(table, from)),
            )
            && later
                .iter()
                .any(|l| matches!(&l.kind, OpKind::DropTable { table, .. } if same_name(table, to)))
        {
            replaced.push(from.clone());
            swapped_out.push(to.clone());
            continue;
        }
        // A temporary table the upgrade made (a backup while a table is rebuilt) goes with the
        // session anyway: its drop removes nothing of the schema.
        if let OpKind::DropTable { table, .. } = &op.kind
            && (swapped_out.iter().any(|t| same_name(t, table))
                || ops[..index].iter().any(|earlier| {
                    matches!(&earlier.kind, OpKind::CreateRelation { name, kind: crate::model::RelationKind::TemporaryTable } if same_name(name, table))
                }))
        {
            continue;
        }
        match &op.kind {
            OpKind::RenameType { from, to } => {
                let created_here = created
                    .iter_mut()
                    .find(|(o, _)| matches!(o, Object::Type(t) if same_name(t, from)));
                match created_here {
                    Some((object, _)) => *object = Object::Type(to.clone()),
                    None => renamed_types.push((to.clone(), from.clone())),
                }
                continue;
            }
            OpKind::CreateEnum { name, .. } | OpKind::CreateType { name }
                if renamed_types.iter().any(|(_, own)| same_name(own, name)) =>
            {
                replaced_types.push(name.clone());
                continue;
            }
            OpKind::DropType { name } => {
                if let Some((_, own)) = renamed_types.iter().find(|(new, _)| same_name(new, name)) {
                    if !replaced_types.iter().any(|r| same_name(r, own)) {
                        removed.push((Object::Type(own.clone()), op.span));
                    }
                    continue;
                }
            }
            _ => {}
        }
        if let OpKind::CreateTable { table, .. } = &op.kind
            && let Some(position) = removed
                .iter()
                .position(|(o, _)| matches!(o, Object::Table(t) if same_name(t, table)))
        {
            removed.remove(position);
            replaced.push(table.clone());
            continue;
        }
        // A table built here, then renamed to the name of a table this upgrade dropped (`CREATE
        // TABLE t_new AS ...`, `DROP TABLE t`, `ALTER TABLE t_new RENAME TO t`): `t` is replaced,
        // as if dropped and created anew under its name.
        if let OpKind::RenameTable { from, to } = &op.kind
            && made_here(&created, from)
            && let Some(position) = removed
                .iter()
                .position(|(o, _)| matches!(o, Object::Table(t) if same_name(t, to)))
        {
            removed.remove(position);
            created.retain(|(c, _)| {
                !c.relation()
                    .or(c.table())
                    .is_some_and(|t| same_name(t, from))
            });
            replaced.push(to.clone());
            continue;
        }
        // `DROP INDEX [IF EXISTS] ix` before building `ix` clears what a failed run left behind
        // (an invalid index), or replaces it: either way the index exists after the upgrade,
        // and its drop is no removal for the downgrade to restore.
        if let OpKind::DropIndex {
            name: Some(dropped),
            ..
        } = &op.kind
            && ops[index + 1..].iter().any(|later| {
                matches!(&later.kind, OpKind::CreateIndex { name: Some(n), .. } if same_name(n, dropped))
            })
        {
            continue;
        }
        // `ALTER SEQUENCE s OWNED BY t.c`: the sequence now goes with its table.
        if let OpKind::SequenceOwnedBy { sequence, table } = &op.kind {
            for (object, _) in created.iter_mut() {
                if let Object::Sequence { name, owned_by } = object
                    && same_name(name, sequence)
                {
                    *owned_by = Some(table.clone());
                }
            }
            continue;
        }
        // A column this upgrade created and then renamed is simply created under its new name.
        if let OpKind::RenameColumn { table, from, to } = &op.kind
            && let Some((created_column, _)) = created.iter_mut().find(|(c, _)| {
                matches!(c, Object::Column { table: t, column } if same_name(t, table) && same_name(column, from))
            })
        {
            *created_column = Object::Column {
                table: table.clone(),
                column: to.clone(),
            };
            continue;
        }
        // `DROP CONSTRAINT [IF EXISTS] c` and `ADD CONSTRAINT c` on the same table later in the
        // upgrade: the constraint is replaced, as an index dropped and built again is. Neither
        // the drop nor the add is left for the downgrade (the definition may differ; the model
        // does not compare it).
        if let OpKind::DropConstraint {
            table,
            name: Some(dropped),
            ..
        } = &op.kind
            && ops[index + 1..].iter().any(|later| {
                matches!(&later.kind, OpKind::AddConstraint { table: t, name: Some(n), .. }
                    if same_name(n, dropped) && same_name(t, table))
            })
        {
            replaced_constraints.push((table.clone(), dropped.clone()));
            continue;
        }
        if let OpKind::AddConstraint {
            table,
            name: Some(added),
            ..
        } = &op.kind
            && let Some(position) = replaced_constraints
                .iter()
                .position(|(t, n)| same_name(t, table) && same_name(n, added))
        {
            replaced_constraints.remove(position);
            // On a table this upgrade made, the constraint is new with it all the same.
            if !made_here(&created, table) {
                continue;
            }
        }
        let (made, gone) = effects(&op.kind);
        for object in gone {
            // What is dropped from a table this upgrade made did not exist before it (a
            // `DROP CONSTRAINT IF EXISTS` of a name older databases had): nothing to restore.
            let on_new_table = !matches!(object, Object::Table(_))
                && object
                    .table()
                    .is_some_and(|owner| made_here(&created, owner));
            let before = created.len();
            created.retain(|(c, _)| {
                let goes_with_table = object
                    .relation()
                    .is_some_and(|t| c.table().is_some_and(|owner| same_name(owner, t)));
                !(c.same(&object) || goes_with_table)
            });
            if created.len() == before && !on_new_table {
                removed.push((object, op.span));
            }
        }
        created.extend(made.into_iter().map(|o| (o, op.span)));
    }
    let on_replaced = |object: &Object| {
        replaced.iter().any(|r| match object {
            Object::Table(t) => same_name(t, r),
            _ => object.table().is_some_and(|t| same_name(t, r)),
        })
    };
    let on_replaced_column = |object: &Object| {
        replaced_columns.iter().any(|(table, names)| {
            names.iter().any(|name| match object {
                Object::Column { table: t, column } => {
                    same_name(t, table) && same_name(column, name)
                }
                _ => object.depends_on_column(table, name),
            })
        })
    };
    created.retain(|(o, _)| !on_replaced(o) && !on_replaced_column(o));
    removed.retain(|(o, _)| !on_replaced(o) && !on_replaced_column(o));
    (created, removed)
}

/// `table` is among what the upgrade created so far.
fn made_here(created: &[Change], table: &str) -> bool {
    created
        .iter()
        .any(|(c, _)| matches!(c, Object::Table(t) if same_name(t, table)))
}

fn undone_by_downgrade(object: &Object, downgrade: &[Op]) -> bool {
    // `DROP SCHEMA s CASCADE` drops every object in `s`.
    if downgrade.iter().any(|op| {
        matches!(&op.kind, OpKind::CascadeDrop { object: "schema", name, .. } if object.in_schema(name))
    }) {
        return true;
    }
    // Renamed away, then dropped under the new name (`ALTER TYPE x RENAME TO x_old`, ...,
    // `DROP TYPE x_old`; the same with a sequence): what the upgrade made is gone.
    let renamed_to: Vec<&String> = downgrade
        .iter()
        .filter_map(|op| match (&op.kind, object) {
            (OpKind::RenameType { from, to }, Object::Type(name))
            | (OpKind::RenameSequence { from, to }, Object::Sequence { name, .. })
                if same_name(from, name) =>
            {
                Some(to)
            }
            _ => None,
        })
        .collect();
    if downgrade.iter().any(|op| match &op.kind {
        OpKind::DropType { name: dropped } | OpKind::DropSequence { name: dropped } => {
            renamed_to.iter().any(|to| same_name(to, dropped))
        }
        _ => false,
    }) {
        return true;
    }
    downgrade.iter().any(|op| {
        let (_, gone) = effects(&op.kind);
        match (&op.kind, object) {
            (OpKind::RenameTable { from, to }, Object::TableRename { from: f, to: t }) => {
                return same_name(from, t) && same_name(to, f);
            }
            (
                OpKind::RenameColumn { from, to, .. },
                Object::ColumnRename { from: f, to: t, .. },
            ) => return same_name(from, t) && same_name(to, f),
            _ => {}
        }
        // Dropping what the rename produced takes the upgrade back when the downgrade rebuilds
        // the old column or table another way, copying the values over first.
        let renamed_away = copies_rows(object, downgrade) && match object {
            Object::ColumnRename { table, to, .. } => gone.iter().any(|g| {
                matches!(g, Object::Column { table: t, column } if same_name(t, table) && same_name(column, to))
            }),
            Object::TableRename { to, .. } => gone
                .iter()
                .any(|g| matches!(g, Object::Table(t) if same_name(t, to))),
            _ => false,
        };
        if renamed_away {
            return true;
        }
        gone.iter().any(|g| match g {
            Object::Table(t) | Object::MaterializedView(t) => {
                object.same(g) || object.table().is_some_and(|o| same_name(o, t))
            }
            Object::Column { table, column } => {
                object.same(g) || object.depends_on_column(table, column)
            }
            _ => object.same(g),
        })
    })
}

/// Whether the downgrade writes rows where a rename's data can go back: an UPDATE of the
/// renamed column's table, or, for a table, an INSERT ... SELECT (the model knows no INSERT's
/// target, so any statement that writes rows counts).
fn copies_rows(object: &Object, downgrade: &[Op]) -> bool {
    downgrade.iter().any(|op| match (&op.kind, object) {
        (
            OpKind::DataChange {
                table,
                statement: "UPDATE",
                ..
            },
            Object::ColumnRename { table: t, .. },
        ) => same_name(table, t),
        (OpKind::RowsOnly { .. }, Object::TableRename { .. }) => true,
        _ => false,
    })
}

/// The downgrade drops what a rename produced without copying its values back: the column or
/// table it re-creates under the old name comes back empty.
fn dropped_after_rename(object: &Object, downgrade: &[Op]) -> Option<String> {
    let drops = |wanted: &Object| {
        downgrade
            .iter()
            .any(|op| effects(&op.kind).1.iter().any(|g| g.same(wanted)))
    };
    match object {
        Object::ColumnRename { table, to, .. }
            if drops(&Object::Column {
                table: table.clone(),
                column: to.clone(),
            }) =>
        {
            Some(format!("column `{table}.{to}`"))
        }
        Object::TableRename { to, .. } if drops(&Object::Table(to.clone())) => {
            Some(format!("table `{to}`"))
        }
        _ => None,
    }
}

fn restored_by_downgrade(object: &Object, downgrade: &[Op]) -> bool {
    downgrade.iter().any(|op| {
        // A type made under a temporary name and renamed to the removed one's.
        if let (Object::Type(name), OpKind::RenameType { to, .. }) = (object, &op.kind)
            && same_name(name, to)
        {
            return true;
        }
        let (mut made, _) = effects(&op.kind);
        made.extend(implied_constraints(&op.kind));
        made.iter().any(|m| {
            // Renaming another column or table to the removed one's name brings it back too.
            let renamed_into = match (object, m) {
                (Object::Column { table, column }, Object::ColumnRename { table: t, to, .. }) => {
                    same_name(table, t) && same_name(column, to)
                }
                (Object::Table(table), Object::TableRename { to, .. }) => same_name(table, to),
                _ => false,
            };
            renamed_into || object.same(m)
        })
    })
}

/// The down scripts of a step group as one body: every step's statements, and code when any
/// step has some.
fn group_downgrade(group: &[&Migration]) -> Body {
    let has_code = group.iter().any(|m| m.downgrade.state == BodyState::Code);
    Body {
        state: if has_code {
            BodyState::Code
        } else {
            group[0].downgrade.state.clone()
        },
        ops: group
            .iter()
            .flat_map(|m| m.downgrade.ops.iter().cloned())
            .collect(),
        span: group[0].downgrade.span,
        script: group[0].downgrade.script,
        early_returns: Vec::new(),
        start: None,
        placeholder: None,
        function_end: None,
    }
}

impl Rule for IncompleteDowngrade {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &LintContext, out: &mut Vec<Diagnostic>) {
        for migration in cx.migrations() {
            // Steps of one change are undone by the group's down scripts together.
            let group = cx.undo_group(migration);
            let grouped;
            let downgrade = if group.len() > 1 {
                grouped = group_downgrade(&group);
                &grouped
            } else {
                &migration.downgrade
            };
            // What the downgrade does is unknown when part of it was not understood.
            let opaque = |op: &Op| {
                matches!(
                    op.kind,
                    OpKind::DynamicSql
                        | OpKind::DynamicOp { .. }
                        | OpKind::Unparsed { .. }
                        | OpKind::OtherDialect { .. }
                )
            };
            if downgrade.state != BodyState::Code
                || downgrade.ops.is_empty()
                || downgrade.ops.iter().any(opaque)
                || migration.upgrade.ops.iter().any(opaque)
            {
                continue;
            }
            let named_at_start = names_at_start(&downgrade.ops);
            let downgrade = &Body {
                ops: named_at_start,
                ..downgrade.clone()
            };
            let (created, removed) = net_changes(&migration.upgrade.ops);
            let unremoved_tables: Vec<&str> = created
                .iter()
                .filter(|(o, _)| !undone_by_downgrade(o, &downgrade.ops))
                .filter_map(|(o, _)| match o {
                    Object::Table(t) => Some(t.as_str()),
                    _ => None,
                })
                .collect();
            for (object, span) in &created {
                if undone_by_downgrade(object, &downgrade.ops)
                    || object
                        .table()
                        .is_some_and(|t| unremoved_tables.iter().any(|u| same_name(u, t)))
                    || matches!(object, Object::Index { name, .. }
                        if rebuilt::existing_index_rebuilt(cx, migration, name))
                {
                    continue;
                }
                const LEFT_BEHIND: &str = "after a rollback the object stays behind, and the next upgrade fails with \"already exists\"; undo it in `downgrade()`";
                let (what, help) = match object {
                    Object::TableRename { .. } | Object::ColumnRename { .. } => {
                        match dropped_after_rename(object, &downgrade.ops) {
                            Some(dropped) => (
                                format!(
                                    "the downgrade does not reverse {}: it drops {dropped} without copying its values back, so a rollback loses that data",
                                    object.describe()
                                ),
                                "rename it back in `downgrade()` (`op.alter_column(..., new_column_name=...)`, `op.rename_table`), or copy the values into the re-created object before dropping",
                            ),
                            None => (
                                format!("the downgrade does not reverse {}", object.describe()),
                                LEFT_BEHIND,
                            ),
                        }
                    }
                    _ => (
                        format!(
                            "the upgrade creates {}, and the downgrade does not remove it",
                            object.describe()
                        ),
                        LEFT_BEHIND,
                    ),
                };
                out.push(
                    cx.report(
                        &META,
                        migration,
                        *span,
                        what + &case_twin(object, downgrade),
                    )
                    .with_help(help)
                    .with_fix(
                        (migration.framework == crate::model::Framework::Alembic)
                            .then(|| {
                                let made = migration
                                    .upgrade
                                    .ops
                                    .iter()
                                    .find(|op| op.span == *span && object.made_by(&op.kind))?;
                                crate::fix::inverse_downgrade::undo_one(migration, made)
                            })
                            .flatten(),
                    )
                    .in_phase(Phase::Upgrade),
                );
            }
            let removed_tables: Vec<&str> = removed
                .iter()
                .filter_map(|(o, _)| match o {
                    Object::Table(t) => Some(t.as_str()),
                    _ => None,
                })
                .collect();
            for (object, span) in &removed {
                let covered_by_table = object
                    .table()
                    .is_some_and(|t| removed_tables.iter().any(|r| same_name(r, t)));
                if covered_by_table || restored_by_downgrade(object, &downgrade.ops) {
                    continue;
                }
                out.push(
                    cx.report(&META, migration, *span, format!("the upgrade removes {}, and the downgrade does not restore it{}", object.describe(), case_twin(object, downgrade)))
                        .with_help("recreate it in `downgrade()` as it was before (the data is gone either way; the schema need not be)")
                        .in_phase(Phase::Upgrade),
                );
            }
        }
    }
}

/// What the downgrade names instead, when it differs only in case: the likely slip.
fn case_twin(object: &Object, downgrade: &Body) -> String {
    object
        .case_twin_in(&downgrade.ops)
        .map(|twin| format!(" (the downgrade names `{twin}`, a different object to PostgreSQL: a quoted name keeps its case, and SQLAlchemy quotes names with capitals)"))
        .unwrap_or_default()
}

/// The downgrade's operations with each table named as it was when the downgrade started: a
/// table renamed back (`agent_tasks` → `tasks`) and then changed is the upgrade's
/// `agent_tasks`, which is what the upgrade's effects are named by.
fn names_at_start(ops: &[Op]) -> Vec<Op> {
    // (name now, name at the start)
    let mut renamed: Vec<(String, String)> = Vec::new();
    ops.iter()
        .map(|op| {
            let mut op = op.clone();
            if let OpKind::RenameTable { from, to } = &op.kind {
                match renamed.iter_mut().find(|(now, _)| same_name(now, from)) {
                    Some(entry) => entry.0 = to.clone(),
                    None => renamed.push((to.clone(), from.clone())),
                }
                return op;
            }
            if let Some(table) = op.kind.table_mut()
                && let Some((_, at_start)) = renamed.iter().find(|(now, _)| same_name(now, table))
            {
                *table = at_start.clone();
            }
            op
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn fixtures() {
        super::super::testing::check_fixtures(&super::META);
    }
}
