//! The table locks operations take, as the statements whose wait in the lock queue stops
//! traffic see them.

use super::op::{ConstraintKind, MaintenanceKind, Op, OpKind, TableLock, same_name};

impl OpKind {
    /// The existing table an operation locks against writes or reads, and the lock's mode: the
    /// statements whose wait in the lock queue stops traffic behind them.
    pub fn table_lock(&self) -> Option<(&str, TableLock)> {
        let kind = self;
        let lock = match kind {
            OpKind::AddColumn { .. }
            | OpKind::DropColumn { .. }
            | OpKind::RenameColumn { .. }
            | OpKind::RenameTable { .. }
            | OpKind::AlterColumnType { .. }
            | OpKind::SetNotNull { .. }
            | OpKind::DropNotNull { .. }
            | OpKind::SetDefault { .. }
            | OpKind::DropConstraint { .. }
            | OpKind::DropTable { .. }
            | OpKind::DetachPartition {
                concurrently: false,
                ..
            }
            | OpKind::Truncate { .. } => TableLock::AccessExclusive,
            OpKind::AddConstraint {
                kind: ConstraintKind::ForeignKey { .. },
                ..
            } => TableLock::ShareRowExclusive,
            OpKind::AddConstraint { .. } => TableLock::AccessExclusive,
            OpKind::CreateIndex {
                concurrently: false,
                ..
            } => TableLock::Share,
            OpKind::LocksTable { lock, .. } if *lock != TableLock::ShareUpdateExclusive => *lock,
            // DROP INDEX locks the index's table; SQL does not name it, Alembic's `table_name` does.
            OpKind::DropIndex {
                table: Some(table),
                concurrently: false,
                ..
            } => return Some((table, TableLock::AccessExclusive)),
            OpKind::Maintenance {
                kind:
                    MaintenanceKind::Reindex {
                        concurrently: true, ..
                    },
                ..
            } => return None,
            OpKind::Maintenance {
                kind:
                    MaintenanceKind::LockTable {
                        lock: Some(lock), ..
                    },
                ..
            } if *lock != TableLock::ShareUpdateExclusive => *lock,
            OpKind::Maintenance {
                kind: MaintenanceKind::LockTable { .. },
                ..
            } => return None,
            OpKind::Maintenance { .. } => TableLock::AccessExclusive,
            _ => return None,
        };
        kind.table().map(|table| (table, lock))
    }
}

impl OpKind {
    /// The tables the operation's foreign keys reference: adding a foreign key (with a new
    /// table, a new column, or on its own) takes SHARE ROW EXCLUSIVE on each of them.
    pub fn referenced_tables(&self) -> Vec<&str> {
        fn reference(column: &super::Column) -> Option<&str> {
            column.references.as_deref()
        }
        match self {
            OpKind::CreateTable {
                table,
                columns,
                constraints,
                ..
            } => columns
                .iter()
                .filter_map(reference)
                .chain(constraints.iter().filter_map(|(_, kind)| match kind {
                    ConstraintKind::ForeignKey {
                        referenced_table, ..
                    } => Some(referenced_table.as_str()),
                    _ => None,
                }))
                // A table referencing itself is the new one.
                .filter(|referenced| !same_name(referenced, table))
                .collect(),
            OpKind::AddConstraint {
                table,
                kind:
                    ConstraintKind::ForeignKey {
                        referenced_table, ..
                    },
                ..
            } if !same_name(referenced_table, table) => vec![referenced_table.as_str()],
            _ => Vec::new(),
        }
    }
}

/// The strongest lock the operations after `index` that `counts`, in the transaction open at
/// `index`, take on `table`: what the transaction holds from then on whatever is done at `index`.
pub fn taken_later(
    ops: &[Op],
    index: usize,
    table: &str,
    counts: impl Fn(&Op) -> bool,
) -> Option<TableLock> {
    if !ops.get(index).is_some_and(|op| op.in_transaction) {
        return None;
    }
    ops[index + 1..]
        .iter()
        .take_while(|op| op.in_transaction && !matches!(op.kind, OpKind::CommitTransaction))
        .filter(|op| counts(op))
        .filter_map(|op| op.kind.table_lock())
        .filter(|(t, _)| same_name(t, table))
        .map(|(_, lock)| lock)
        .max_by_key(|lock| strength(*lock))
}

/// Whether `lock` excludes at least what `other` does.
pub fn at_least(lock: TableLock, other: TableLock) -> bool {
    strength(lock) >= strength(other)
}

/// Lock modes by how much they exclude.
fn strength(lock: TableLock) -> u8 {
    match lock {
        TableLock::ShareUpdateExclusive => 1,
        TableLock::Share => 2,
        TableLock::ShareRowExclusive => 3,
        TableLock::Exclusive => 4,
        TableLock::AccessExclusive => 5,
    }
}
