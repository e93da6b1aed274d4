//! Every table lock a statement takes, with what the history says about it: the one place the
//! lock rules read locks from, so that "locked with no lock_timeout" and "this transaction
//! already holds the lock" agree.
//!
//! Beyond the table a statement names (`OpKind::table_lock`), PostgreSQL locks (verified on
//! PostgreSQL 15's `pg_locks`, `tests/postgres_facts`):
//! - for a foreign key added, the table it references: SHARE ROW EXCLUSIVE;
//! - for a foreign key dropped, alone or with its table, the table it referenced: ACCESS
//!   EXCLUSIVE (its triggers there are dropped);
//! - for SQL's `DROP INDEX name`, the table the index's CREATE INDEX named: ACCESS EXCLUSIVE.

use crate::model::op::same_name;
use crate::model::{ConstraintKind, OpKind, TableLock};

use super::{LintContext, OpSite, TableHistory};

/// `DROP TABLE IF EXISTS t` followed by `CREATE TABLE t` in the same body, where nothing before
/// it in the history made `t`: the idempotent create of a script run from an empty database.
/// It drops nothing and locks nothing.
pub fn drops_table_never_made<'a>(cx: &LintContext<'a>, site: &OpSite<'a>) -> bool {
    let OpKind::DropTable {
        table,
        if_exists: true,
    } = &site.op.kind
    else {
        return false;
    };
    let created_again = site
        .made_again_later(table)
        .is_some_and(|op| matches!(op.kind, OpKind::CreateTable { .. }));
    created_again && cx.history_before(site, table).is_empty()
}

/// The tables `site`'s statement locks and the mode of each.
pub fn taken<'a>(cx: &LintContext<'a>, site: &OpSite<'a>) -> Vec<(&'a str, TableLock)> {
    let op = site.op;
    if drops_table_never_made(cx, site) {
        return Vec::new();
    }
    let parents: Vec<&'a str> = match &op.kind {
        OpKind::DropTable { table, .. } => foreign_keys(&cx.history_before(site, table))
            .into_iter()
            .map(|key| referenced_now(cx, site, &key))
            .collect(),
        OpKind::DropConstraint {
            table,
            name: Some(name),
            ..
        } => foreign_keys(&cx.history_before(site, table))
            .into_iter()
            .rfind(|key| key.name.as_deref().is_some_and(|n| same_name(n, name)))
            .map(|key| referenced_now(cx, site, &key))
            .into_iter()
            .collect(),
        _ => Vec::new(),
    };
    let index_table = match &op.kind {
        OpKind::DropIndex {
            name: Some(name),
            table: None,
            concurrently: false,
            ..
        } => cx
            .index_definition(site, name.as_str())
            .map(|(table, _)| (table, TableLock::AccessExclusive)),
        _ => None,
    };
    index_table
        .or_else(|| op.kind.table_lock())
        .into_iter()
        .chain(
            op.kind
                .referenced_tables()
                .into_iter()
                .map(|t| (t, TableLock::ShareRowExclusive)),
        )
        .chain(parents.into_iter().map(|t| (t, TableLock::AccessExclusive)))
        .collect()
}

/// The strongest lock the statements before `site`, in the transaction still open at it, took
/// on `table`: a statement on the table waits for nothing weaker than it.
pub fn held_before<'a>(cx: &LintContext<'a>, site: &OpSite<'a>, table: &str) -> Option<TableLock> {
    if !site.op.in_transaction {
        return None;
    }
    let mut held: Option<TableLock> = None;
    // Back from `site` to the start of its transaction, following the table to the names it
    // had: a lock taken before a rename is held on the table under its new name.
    let mut name = table.to_string();
    for (index, op) in site.ops[..site.index].iter().enumerate().rev() {
        // Outside a transaction block each statement commits, releasing what it took.
        if !op.in_transaction || matches!(op.kind, OpKind::CommitTransaction) {
            break;
        }
        if let OpKind::RenameTable { from, to } = &op.kind
            && same_name(to, &name)
        {
            name = from.clone();
        }
        let earlier = OpSite { index, op, ..*site };
        for (t, lock) in taken(cx, &earlier) {
            if same_name(t, &name) && held.is_none_or(|h| !crate::model::locks::at_least(h, lock)) {
                held = Some(lock);
            }
        }
    }
    held
}

/// A foreign key of a table, as the history leaves it.
struct ForeignKey<'a> {
    /// Its name, or PostgreSQL's default for it.
    name: Option<String>,
    columns: Vec<String>,
    /// The referenced table, as named when the key was made.
    referenced: &'a str,
    /// The operation that made it.
    made_by: &'a crate::model::Op,
}

/// The table `key` references, under the name it has at `site`: a table renamed after the key
/// was made keeps its keys (PostgreSQL follows the table, not its name).
fn referenced_now<'a>(cx: &LintContext<'a>, site: &OpSite<'a>, key: &ForeignKey<'a>) -> &'a str {
    let renames: Vec<(&'a str, &'a str)> = cx
        .before_newest_first(site)
        .take_while(|op| !std::ptr::eq(*op, key.made_by))
        .filter_map(|op| match &op.kind {
            OpKind::RenameTable { from, to } => Some((from.as_str(), to.as_str())),
            _ => None,
        })
        .collect();
    renames
        .iter()
        .rev()
        .fold(key.referenced, |name, (from, to)| {
            if same_name(from, name) { to } else { name }
        })
}

/// The foreign keys `table` still holds at the end of `history` (its operations in order): those
/// its CREATE TABLE, ADD COLUMN and ADD CONSTRAINT made, less those dropped since by name, with
/// their column, or with the table.
fn foreign_keys<'a>(history: &TableHistory<'a>) -> Vec<ForeignKey<'a>> {
    let key = |name: Option<&String>,
               kind: &'a ConstraintKind,
               on: &str,
               made_by: &'a crate::model::Op| match kind {
        ConstraintKind::ForeignKey {
            columns,
            referenced_table,
        } if !referenced_table.is_empty() && !same_name(referenced_table, on) => Some(ForeignKey {
            name: name.cloned().or_else(|| kind.postgres_default_name(on)),
            columns: columns.clone(),
            referenced: referenced_table.as_str(),
            made_by,
        }),
        _ => None,
    };
    let column_key = |on: &str, column: &'a crate::model::Column, made_by: &'a crate::model::Op| {
        let referenced = column.references.as_deref()?;
        let columns = vec![column.name.clone()];
        let name = ConstraintKind::ForeignKey {
            columns: columns.clone(),
            referenced_table: referenced.to_string(),
        }
        .postgres_default_name(on);
        (!same_name(referenced, on)).then_some(ForeignKey {
            name,
            columns,
            referenced,
            made_by,
        })
    };
    let mut keys: Vec<ForeignKey<'a>> = Vec::new();
    for op in history.iter() {
        match &op.kind {
            OpKind::CreateTable {
                table: t,
                columns,
                constraints,
                ..
            } if history.names(t) => {
                keys = constraints
                    .iter()
                    .filter_map(|(name, kind)| key(name.as_ref(), kind, t, op))
                    .chain(columns.iter().filter_map(|c| column_key(t, c, op)))
                    .collect();
            }
            OpKind::AddColumn { table: t, column } if history.names(t) => {
                keys.extend(column_key(t, column, op));
            }
            OpKind::AddConstraint {
                table: t,
                name,
                kind,
                ..
            } if history.names(t) => keys.extend(key(name.as_ref(), kind, t, op)),
            OpKind::DropConstraint {
                table: t,
                name: Some(dropped),
                ..
            } if history.names(t) => keys.retain(|k| {
                !k.name
                    .as_deref()
                    .is_some_and(|name| same_name(name, dropped))
            }),
            OpKind::DropColumn { table: t, column } if history.names(t) => {
                keys.retain(|k| !k.columns.iter().any(|c| same_name(c, column)));
            }
            OpKind::DropTable { table: t, .. } if history.names(t) => keys.clear(),
            _ => {}
        }
    }
    keys
}
