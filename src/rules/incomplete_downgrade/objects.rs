//! The schema objects an operation creates or removes, as incomplete-downgrade weighs them.

use crate::model::naming::names_match;
use crate::model::op::same_name;
use crate::model::{ConstraintKind, OpKind, RelationKind};

/// A schema object the upgrade creates or removes, with what its fate depends on.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Object {
    Table(String),
    Column {
        table: String,
        column: String,
    },
    Index {
        name: String,
        table: String,
        columns: Vec<String>,
    },
    Constraint {
        name: String,
        table: String,
        /// Unknown for a drop that does not say (`DROP CONSTRAINT x`).
        kind: Option<ConstraintKind>,
    },
    /// An enum, composite or range type.
    Type(String),
    /// A sequence, and the table it is `OWNED BY` (dropped with it).
    Sequence {
        name: String,
        owned_by: Option<String>,
    },
    MaterializedView(String),
    TableRename {
        from: String,
        to: String,
    },
    ColumnRename {
        table: String,
        from: String,
        to: String,
    },
}

impl Object {
    /// Whether `kind` is the operation that makes this object itself (not a part that comes
    /// with it): undoing that operation undoes the object, and nothing more.
    pub(super) fn made_by(&self, kind: &OpKind) -> bool {
        match (self, kind) {
            (Object::Table(t), OpKind::CreateTable { table, .. }) => same_name(t, table),
            (
                Object::Column { table, column },
                OpKind::AddColumn {
                    table: t,
                    column: c,
                },
            ) => same_name(t, table) && same_name(&c.name, column),
            (Object::Index { name, .. }, OpKind::CreateIndex { name: Some(n), .. })
            | (Object::Constraint { name, .. }, OpKind::AddConstraint { name: Some(n), .. })
            | (Object::Type(name), OpKind::CreateEnum { name: n, .. })
            | (Object::Type(name), OpKind::CreateType { name: n })
            | (Object::Sequence { name, .. }, OpKind::CreateSequence { name: n }) => {
                same_name(name, n)
            }
            (Object::TableRename { from, to }, OpKind::RenameTable { from: f, to: t }) => {
                same_name(from, f) && same_name(to, t)
            }
            (
                Object::ColumnRename { table, from, to },
                OpKind::RenameColumn {
                    table: tb,
                    from: f,
                    to: t,
                },
            ) => same_name(table, tb) && same_name(from, f) && same_name(to, t),
            _ => false,
        }
    }

    pub(super) fn describe(&self) -> String {
        match self {
            Object::Table(t) => format!("table `{t}`"),
            Object::Column { table, column } => format!("column `{table}.{column}`"),
            Object::Index { name, .. } => format!("index `{name}`"),
            Object::Constraint { name, kind, .. } => format!(
                "{} `{name}`",
                kind.as_ref().map_or("constraint", ConstraintKind::label)
            ),
            Object::Type(name) => format!("type `{name}`"),
            Object::Sequence { name, .. } => format!("sequence `{name}`"),
            Object::MaterializedView(name) => format!("materialized view `{name}`"),
            Object::TableRename { from, to } => format!("the rename of table `{from}` to `{to}`"),
            Object::ColumnRename { table, from, to } => {
                format!("the rename of column `{table}.{from}` to `{to}`")
            }
        }
    }

    /// The object's own name (a rename's new one).
    fn name(&self) -> &str {
        match self {
            Object::Table(name)
            | Object::Type(name)
            | Object::MaterializedView(name)
            | Object::Index { name, .. }
            | Object::Constraint { name, .. }
            | Object::Sequence { name, .. } => name,
            Object::Column { column, .. } => column,
            Object::TableRename { to, .. } | Object::ColumnRename { to, .. } => to,
        }
    }

    /// The name the downgrade gives an object of the same kind that differs from this one's
    /// only in case: to PostgreSQL a quoted name keeps its case (SQLAlchemy quotes names with
    /// capitals), so the two are different objects.
    pub(super) fn case_twin_in(&self, ops: &[crate::model::Op]) -> Option<String> {
        let own = self.name();
        ops.iter()
            .flat_map(|op| {
                let (created, removed) = effects(&op.kind);
                created.into_iter().chain(removed)
            })
            .find(|other| {
                std::mem::discriminant(other) == std::mem::discriminant(self)
                    && other.name() != own
                    && crate::model::op::bare_name(other.name())
                        .eq_ignore_ascii_case(crate::model::op::bare_name(own))
            })
            .map(|other| other.name().to_string())
    }

    /// Whether the object lives in schema `schema` (`DROP SCHEMA ... CASCADE` takes it): an
    /// index, column or constraint lives in its table's schema.
    pub(super) fn in_schema(&self, schema: &str) -> bool {
        let home = match self {
            Object::Index { table, name, .. } if table.is_empty() => name,
            Object::TableRename { to, .. } => to,
            _ => self.table().unwrap_or_else(|| self.name()),
        };
        same_name(
            home,
            &format!("{schema}.{}", crate::model::op::bare_name(home)),
        )
    }

    pub(super) fn table(&self) -> Option<&str> {
        match self {
            Object::Column { table, .. }
            | Object::Index { table, .. }
            | Object::Constraint { table, .. }
            | Object::ColumnRename { table, .. } => Some(table),
            Object::Sequence {
                owned_by: Some(table),
                ..
            } => Some(table),
            _ => None,
        }
    }

    /// Same object, by the names PostgreSQL resolves.
    pub(super) fn same(&self, other: &Object) -> bool {
        match (self, other) {
            (Object::Table(a), Object::Table(b))
            | (Object::Type(a), Object::Type(b))
            | (Object::MaterializedView(a), Object::MaterializedView(b))
            | (Object::Sequence { name: a, .. }, Object::Sequence { name: b, .. }) => {
                same_name(a, b)
            }
            // Names from a naming convention may hold a token the model could not evaluate.
            (Object::Index { name: a, .. }, Object::Index { name: b, .. }) => names_match(a, b),
            (
                Object::Column { table, column },
                Object::Column {
                    table: t2,
                    column: c2,
                },
            ) => same_name(table, t2) && same_name(column, c2),
            (Object::Constraint { name: a, .. }, Object::Constraint { name: b, .. }) => {
                names_match(a, b)
            }
            _ => false,
        }
    }

    /// The name of a table or materialized view: what indexes and constraints belong to.
    pub(super) fn relation(&self) -> Option<&str> {
        match self {
            Object::Table(t) | Object::MaterializedView(t) => Some(t),
            _ => None,
        }
    }

    /// Whether dropping column `column` of `table` takes this object with it.
    pub(super) fn depends_on_column(&self, table: &str, column: &str) -> bool {
        match self {
            Object::Index {
                table: t, columns, ..
            } => same_name(t, table) && columns.iter().any(|c| same_name(c, column)),
            Object::Constraint { table: t, kind, .. } => {
                same_name(t, table) && kind.as_ref().is_some_and(|k| k.involves_column(column))
            }
            _ => false,
        }
    }
}

/// What one operation creates and what it removes.
pub(super) fn effects(kind: &OpKind) -> (Vec<Object>, Vec<Object>) {
    match kind {
        OpKind::CreateTable {
            table, constraints, ..
        } => {
            let named = constraints.iter().filter_map(|(name, kind)| {
                name.as_ref().map(|name| Object::Constraint {
                    name: name.clone(),
                    table: table.clone(),
                    kind: Some(kind.clone()),
                })
            });
            // Columns and named constraints come with the table; they matter when a downgrade
            // recreates a table the upgrade dropped.
            let columns = match kind {
                OpKind::CreateTable { columns, .. } => columns
                    .iter()
                    .map(|c| Object::Column {
                        table: table.clone(),
                        column: c.name.clone(),
                    })
                    .collect::<Vec<_>>(),
                _ => Vec::new(),
            };
            let mut created = vec![Object::Table(table.clone())];
            created.extend(columns);
            created.extend(named);
            (created, Vec::new())
        }
        OpKind::DropTable { table, .. } => (Vec::new(), vec![Object::Table(table.clone())]),
        OpKind::AddColumn { table, column } => (
            vec![Object::Column {
                table: table.clone(),
                column: column.name.clone(),
            }],
            Vec::new(),
        ),
        OpKind::DropColumn { table, column } => (
            Vec::new(),
            vec![Object::Column {
                table: table.clone(),
                column: column.clone(),
            }],
        ),
        OpKind::CreateIndex {
            name: Some(name),
            table,
            columns,
            ..
        } => (
            vec![Object::Index {
                name: name.clone(),
                table: table.clone(),
                columns: columns.clone(),
            }],
            Vec::new(),
        ),
        OpKind::DropIndex {
            name: Some(name), ..
        } => (
            Vec::new(),
            vec![Object::Index {
                name: name.clone(),
                table: String::new(),
                columns: Vec::new(),
            }],
        ),
        OpKind::AddConstraint {
            table,
            name: Some(name),
            kind,
            using_index,
            ..
        } => (
            vec![Object::Constraint {
                name: name.clone(),
                table: table.clone(),
                kind: Some(kind.clone()),
            }],
            // `USING INDEX i`: the index becomes the constraint's (renamed to its name), and
            // goes when the constraint does; as an index of its own it is gone.
            using_index
                .iter()
                .map(|index| Object::Index {
                    name: index.clone(),
                    table: String::new(),
                    columns: Vec::new(),
                })
                .collect(),
        ),
        OpKind::DropConstraint {
            table,
            name: Some(name),
            kind,
        } => (
            Vec::new(),
            vec![Object::Constraint {
                name: name.clone(),
                table: table.clone(),
                kind: kind.clone(),
            }],
        ),
        OpKind::CreateEnum { name, .. } | OpKind::CreateType { name } => {
            (vec![Object::Type(name.clone())], Vec::new())
        }
        OpKind::DropType { name } => (Vec::new(), vec![Object::Type(name.clone())]),
        OpKind::CreateSequence { name } => (
            vec![Object::Sequence {
                name: name.clone(),
                owned_by: None,
            }],
            Vec::new(),
        ),
        OpKind::DropSequence { name } => (
            Vec::new(),
            vec![Object::Sequence {
                name: name.clone(),
                owned_by: None,
            }],
        ),
        OpKind::CreateRelation {
            name,
            kind: RelationKind::MaterializedView,
        } => (vec![Object::MaterializedView(name.clone())], Vec::new()),
        OpKind::DropRelation {
            name,
            kind: RelationKind::MaterializedView,
        } => (Vec::new(), vec![Object::MaterializedView(name.clone())]),
        OpKind::RenameTable { from, to } => (
            vec![Object::TableRename {
                from: from.clone(),
                to: to.clone(),
            }],
            Vec::new(),
        ),
        OpKind::RenameColumn { table, from, to } => (
            vec![Object::ColumnRename {
                table: table.clone(),
                from: from.clone(),
                to: to.clone(),
            }],
            Vec::new(),
        ),
        _ => (Vec::new(), Vec::new()),
    }
}

/// Constraints an operation creates without naming them, under the name PostgreSQL gives them:
/// a downgrade re-adding `sa.ForeignKey` unnamed restores `orders_customer_id_fkey`.
pub(super) fn implied_constraints(kind: &OpKind) -> Vec<Object> {
    let unnamed: Vec<(&String, &ConstraintKind)> = match kind {
        OpKind::AddConstraint {
            table,
            name: None,
            kind,
            ..
        } => vec![(table, kind)],
        OpKind::CreateTable {
            table, constraints, ..
        } => constraints
            .iter()
            .filter(|(name, _)| name.is_none())
            .map(|(_, kind)| (table, kind))
            .collect(),
        _ => Vec::new(),
    };
    unnamed
        .into_iter()
        .filter_map(|(table, kind)| {
            Some(Object::Constraint {
                name: kind.postgres_default_name(table)?,
                table: table.clone(),
                kind: Some(kind.clone()),
            })
        })
        .collect()
}
