//! What a column or constraint brings with it when it is added: the constraints and indexes
//! PostgreSQL and SQLAlchemy make for it, under their default names.

use super::op::{Column, ConstraintKind, OpKind};

/// A constraint added to `table` (validated, built in place) under the name PostgreSQL gives
/// it when the statement names none.
pub fn constraint_named_by_default(table: &str, kind: ConstraintKind) -> OpKind {
    OpKind::AddConstraint {
        table: table.to_string(),
        name: kind.postgres_default_name(table),
        kind,
        not_valid: false,
        using_index: None,
    }
}

/// The constraints and index a column added to an existing table brings with it: a foreign key
/// (`REFERENCES`, `sa.ForeignKey(...)`), a unique constraint (`UNIQUE`, `unique=True`), checks
/// (`CHECK (...)`, `sa.CheckConstraint(...)`), an index for SQLAlchemy's `index=True` — each
/// built on the existing table, named as PostgreSQL and SQLAlchemy name them by default. A
/// primary key is the caller's: Alembic's `add_column` does not add one, SQL's `ADD COLUMN ...
/// PRIMARY KEY` does.
pub fn implied_by_column(table: &str, column: &Column) -> Vec<OpKind> {
    let bare_table = table.rsplit('.').next().unwrap_or(table);
    let mut kinds = Vec::new();
    let mut constraint =
        |kind: ConstraintKind| kinds.push(constraint_named_by_default(table, kind));
    if let Some(referenced) = &column.references {
        constraint(ConstraintKind::ForeignKey {
            columns: vec![column.name.clone()],
            referenced_table: referenced.clone(),
        });
    }
    if column.unique && !column.primary_key {
        constraint(ConstraintKind::Unique {
            columns: vec![column.name.clone()],
        });
    }
    for (name, expression) in &column.checks {
        kinds.push(OpKind::AddConstraint {
            table: table.to_string(),
            name: name.clone(),
            kind: ConstraintKind::Check {
                expression: expression.clone(),
            },
            not_valid: false,
            using_index: None,
        });
    }
    if column.indexed {
        kinds.push(OpKind::CreateIndex {
            name: Some(format!("ix_{bare_table}_{}", column.name)),
            table: table.to_string(),
            columns: vec![column.name.clone()],
            unique: false,
            concurrently: false,
            if_not_exists: false,
            predicate: None,
        });
    }
    kinds
}
