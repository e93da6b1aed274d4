//! What the earlier statements of one body leave of a table: whether it is new, emptied, or
//! already locked — what decides whether a later statement on it can block or fail anyone.

use super::op::{Op, OpKind, RelationKind, same_name};

/// A table as the statement at some position of a body finds it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct TableState {
    /// Created earlier in the body (a table, a temporary table, a materialized view): nothing
    /// else uses it yet, and it holds no rows anyone else wrote.
    created: bool,
    /// TRUNCATEd in the transaction that is still open: TRUNCATE's ACCESS EXCLUSIVE lock is held
    /// until commit, so a later statement on the table waits for nobody and blocks nobody new,
    /// and the table's new, empty file makes scans and index builds instant.
    truncate_lock_held: bool,
    /// Emptied by TRUNCATE or a DELETE without WHERE, with no statement since that may have
    /// written rows back: nothing fails on existing rows. (A DELETE leaves the dead rows in the
    /// file: PostgreSQL still scans them, and an index build in the same transaction indexes
    /// them, so a DELETE does not make a build or a scan cheap.)
    emptied: bool,
}

fn state_before(ops: &[Op], index: usize, table: &str) -> TableState {
    let mut state = TableState::default();
    for (position, op) in ops[..index].iter().enumerate() {
        // A statement outside a transaction block means the block before it committed
        // (an autocommit block commits what ran before it); a COMMIT ends it.
        if !op.in_transaction || op.kind == OpKind::CommitTransaction {
            state.truncate_lock_held = false;
        }
        match &op.kind {
            OpKind::CreateTable { table: created, .. }
            | OpKind::CreateRelation { name: created, .. }
                if same_name(created, table) =>
            {
                state = TableState {
                    created: true,
                    ..TableState::default()
                };
            }
            OpKind::DropTable { table: dropped, .. }
            | OpKind::DropRelation { name: dropped, .. }
                if same_name(dropped, table) =>
            {
                state = TableState::default();
            }
            OpKind::RenameTable { from, to } if same_name(to, table) => {
                state = state_before(ops, position, from);
            }
            OpKind::RenameTable { from, .. } if same_name(from, table) => {
                state = TableState::default();
            }
            OpKind::Truncate { tables } if tables.iter().any(|t| same_name(t, table)) => {
                state.emptied = true;
                state.truncate_lock_held |= op.in_transaction;
            }
            OpKind::DataChange {
                table: changed,
                statement: "DELETE",
                filtered: false,
                ..
            } if same_name(changed, table) => state.emptied = true,
            OpKind::CommitTransaction => state.truncate_lock_held = false,
            // An INSERT, COPY or bulk insert names no table in the model: it may have written
            // rows back into an emptied table.
            OpKind::RowsOnly { .. } | OpKind::DynamicSql => state.emptied = false,
            _ => {}
        }
    }
    state
}

/// Whether a statement on `table` at `index` can make anyone else wait: not when the table was
/// created earlier in the body (nothing uses it yet) or TRUNCATEd earlier in the same open
/// transaction (everyone already waits for that lock, and the table is empty).
pub fn is_new_table(ops: &[Op], index: usize, table: &str) -> bool {
    let state = state_before(ops, index, table);
    state.created || state.truncate_lock_held
}

/// Whether `table` holds no rows at `index`: created, or emptied earlier in the body with
/// nothing written back since. A NOT NULL column without a default cannot fail on it.
pub fn holds_no_rows(ops: &[Op], index: usize, table: &str) -> bool {
    let state = state_before(ops, index, table);
    state.created || state.emptied
}

/// What kind of relation `name` is, when the operations (in the order they ran) create it as
/// something other than an ordinary table.
pub fn relation_kind(history: &[&Op], is_name: impl Fn(&str) -> bool) -> Option<RelationKind> {
    history.iter().rev().find_map(|op| match &op.kind {
        OpKind::CreateRelation { name: n, kind } if is_name(n) => Some(Some(*kind)),
        OpKind::CreateTable { table, .. } if is_name(table) => Some(None),
        _ => None,
    })?
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{FileId, Span};

    fn op(kind: OpKind, in_transaction: bool) -> Op {
        Op {
            kind,
            span: Span::new(FileId(0), 0..0),
            in_transaction,
            name_origin: Default::default(),
            edit: None,
        }
    }

    fn truncate(in_transaction: bool) -> Op {
        op(
            OpKind::Truncate {
                tables: vec!["t".into()],
            },
            in_transaction,
        )
    }

    #[test]
    fn a_truncate_counts_until_its_transaction_commits() {
        let ops = [
            truncate(true),
            op(OpKind::Other, true),
            op(OpKind::CommitTransaction, true),
        ];
        assert!(is_new_table(&ops, 2, "t"));
        assert!(!is_new_table(&ops, 3, "t"));
        assert!(holds_no_rows(&ops, 3, "t"));
        let outside = [truncate(false)];
        assert!(!is_new_table(&outside, 1, "t"));
        let then_autocommit = [truncate(true), op(OpKind::Other, false)];
        assert!(!is_new_table(&then_autocommit, 2, "t"));
    }

    #[test]
    fn a_delete_without_where_empties_but_does_not_lock() {
        let delete = |filtered| {
            op(
                OpKind::DataChange {
                    table: "public.t".into(),
                    statement: "DELETE",
                    filtered,
                    null_test: None,
                },
                true,
            )
        };
        assert!(holds_no_rows(&[delete(false)], 1, "t"));
        assert!(!is_new_table(&[delete(false)], 1, "t"));
        assert!(!holds_no_rows(&[delete(true)], 1, "t"));
        let written_back = [
            delete(false),
            op(
                OpKind::RowsOnly {
                    copied_from: Vec::new(),
                },
                true,
            ),
        ];
        assert!(!holds_no_rows(&written_back, 2, "t"));
    }

    #[test]
    fn a_renamed_new_table_stays_new() {
        let ops = [
            op(
                OpKind::CreateRelation {
                    name: "t_new".into(),
                    kind: RelationKind::TemporaryTable,
                },
                true,
            ),
            op(
                OpKind::RenameTable {
                    from: "t_new".into(),
                    to: "t".into(),
                },
                true,
            ),
        ];
        assert!(is_new_table(&ops, 2, "t"));
        assert!(!is_new_table(&ops, 2, "t_new"));
    }
}
