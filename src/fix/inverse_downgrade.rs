//! A revision whose downgrade is missing or only `pass` → a downgrade made of the inverse of
//! each upgrade operation the model knows, last first (a table made is dropped, a column added
//! is dropped, an index or a named constraint is dropped by its name, a rename is renamed back,
//! an enum type or a sequence is dropped). Data changes are left as an empty downgrade leaves
//! them; what else cannot be inverted (type changes, SQL the model could not read) gets a
//! comment line naming the upgrade's line, to be written by hand.
//!
//! Unsafe: it writes new behaviour, and it is only as complete as the model's reading.

use crate::model::names::bare_name;
use crate::model::{BodyState, ConstraintKind, Migration, OpKind, RelationKind};

use super::python::{final_name, python_string, schema_keyword};
use super::{Applicability, Edit, Fix, quote_qualified};

const INDENT: &str = "    ";

/// The fix of an Alembic revision with no downgrade, or a `pass` one. `line_of` gives the line
/// of a byte offset in the revision file, for the comments on what is not inverted.
pub fn alembic(migration: &Migration, line_of: impl Fn(usize) -> usize) -> Option<Fix> {
    let mut lines = Vec::new();
    let mut inverted = 0;
    for op in migration.upgrade.ops.iter().rev() {
        // A backfill is not taken back: the schema's reverse drops what it filled, or keeps
        // the data, as an empty downgrade would.
        if op.kind.is_data_only() {
            continue;
        }
        match inverse(&op.kind) {
            Some(Inverse::Line(line)) => {
                lines.push(line);
                inverted += 1;
            }
            Some(Inverse::Nothing) => {}
            None => lines.push(format!(
                "# migration-gate: line {} of the upgrade is not undone here: write its reverse by hand",
                line_of(op.span.start)
            )),
        }
    }
    if inverted == 0 {
        return None;
    }
    let file = migration.file;
    let downgrade = &migration.downgrade;
    let edit = match downgrade.state {
        BodyState::Empty => {
            let placeholder = downgrade.placeholder.clone()?;
            let indent = downgrade.start.as_ref()?.indent.clone();
            let text: String = lines.iter().map(|l| format!("{indent}{l}\n")).collect();
            Edit::replace(placeholder, text)
        }
        BodyState::Missing => {
            let at = migration.upgrade.function_end?;
            let text: String = lines.iter().map(|l| format!("\n{INDENT}{l}")).collect();
            Edit::insert(at, format!("\n\n\ndef downgrade():{text}"))
        }
        _ => return None,
    };
    Fix::new(
        "write a downgrade that undoes the upgrade's operations, last first",
        Applicability::Unsafe,
        file,
        vec![edit],
    )
}

/// The fix of a downgrade that leaves behind what one upgrade operation made: the inverse of
/// that operation, first in the downgrade (which undoes the upgrade last thing first).
pub fn undo_one(migration: &Migration, made: &crate::model::Op) -> Option<Fix> {
    let Inverse::Line(line) = inverse(&made.kind)? else {
        return None;
    };
    let start = migration.downgrade.start.as_ref()?;
    Fix::new(
        format!("undo it in the downgrade: `{line}`"),
        Applicability::Unsafe,
        migration.file,
        vec![super::python::add_at_start(start, &line)],
    )
}

enum Inverse {
    Line(String),
    /// Undone with something else (a temporary table is gone at the end of the session).
    Nothing,
}

/// `"t"` and `, schema="s"` for a possibly qualified table name.
fn table_arguments(table: &str) -> (String, String) {
    let schema = schema_keyword(table)
        .map(|keyword| format!(", {keyword}"))
        .unwrap_or_default();
    (python_string(bare_name(table)), schema)
}

fn inverse(kind: &OpKind) -> Option<Inverse> {
    let line = match kind {
        OpKind::CreateTable { table, .. } => {
            let (table, schema) = table_arguments(table);
            format!("op.drop_table({table}{schema})")
        }
        OpKind::AddColumn { table, column } => {
            let (table, schema) = table_arguments(table);
            format!(
                "op.drop_column({table}, {}{schema})",
                python_string(&column.name)
            )
        }
        OpKind::CreateIndex {
            name: Some(name),
            table,
            ..
        } => {
            let (table, schema) = table_arguments(table);
            format!(
                "op.drop_index({}, table_name={table}{schema})",
                final_name(name)
            )
        }
        OpKind::AddConstraint {
            name: Some(name),
            table,
            kind,
            ..
        } => {
            let (table, schema) = table_arguments(table);
            let type_ = match kind {
                ConstraintKind::ForeignKey { .. } => "foreignkey",
                ConstraintKind::Unique { .. } => "unique",
                ConstraintKind::Check { .. } => "check",
                ConstraintKind::PrimaryKey { .. } => "primary",
                _ => return None,
            };
            format!(
                "op.drop_constraint({}, {table}, type_=\"{type_}\"{schema})",
                final_name(name)
            )
        }
        OpKind::RenameTable { from, to } => {
            let (to, schema) = table_arguments(to);
            format!(
                "op.rename_table({to}, {}{schema})",
                python_string(bare_name(from))
            )
        }
        OpKind::RenameColumn { table, from, to } => {
            let (table, schema) = table_arguments(table);
            format!(
                "op.alter_column({table}, {}, new_column_name={}{schema})",
                python_string(to),
                python_string(from)
            )
        }
        OpKind::CreateEnum { name, .. } | OpKind::CreateType { name } => format!(
            "op.execute({})",
            python_string(&format!("DROP TYPE {}", quote_qualified(name)))
        ),
        OpKind::CreateSequence { name } => format!(
            "op.execute({})",
            python_string(&format!("DROP SEQUENCE {}", quote_qualified(name)))
        ),
        OpKind::CreateRelation {
            kind: RelationKind::TemporaryTable,
            ..
        } => return Some(Inverse::Nothing),
        OpKind::CreateRelation {
            name,
            kind: RelationKind::MaterializedView,
        } => format!(
            "op.execute({})",
            python_string(&format!("DROP MATERIALIZED VIEW {}", quote_qualified(name)))
        ),
        _ => return None,
    };
    Some(Inverse::Line(line))
}
