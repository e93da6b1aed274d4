//! An index built or dropped without CONCURRENTLY → CONCURRENTLY, outside Alembic's
//! transaction, and retryable: `postgresql_concurrently=True` with `if_not_exists=True` /
//! `if_exists=True`, inside `op.get_context().autocommit_block()`.
//!
//! Safe: the same index in the end, built without blocking writes. What differs is a failure
//! part-way: the autocommit block commits the statements before it, and a failed concurrent
//! build leaves an INVALID index, which the retry's IF NOT EXISTS passes over (PostgreSQL's
//! documentation: drop it and build again).

use crate::model::{Framework, Op, OpKind};

use super::python::{AUTOCOMMIT_BLOCK, set_keywords, wrap_in_block};
use super::{Applicability, Edit, Fix};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexChange {
    Create,
    Drop,
}

/// The fix of an `op.create_index` / `op.drop_index` call, when it is a statement of its own.
pub fn alembic(op: &Op, change: IndexChange, allowed: super::Allowed) -> Option<Fix> {
    let site = op.edit.as_ref()?;
    let method = match change {
        IndexChange::Create => "create_index",
        IndexChange::Drop => "drop_index",
    };
    // `op.execute("CREATE INDEX ...")` is SQL: its keywords are no index's.
    if site.call.as_ref()?.method != method {
        return None;
    }
    // A batch runs its operations when its block ends: the whole block moves.
    let moved = if site.call.as_ref()?.on_op {
        site
    } else {
        site.batch_block.as_deref()?
    };
    let retry = match change {
        IndexChange::Create => "if_not_exists",
        IndexChange::Drop => "if_exists",
    };
    let mut edits = set_keywords(
        site,
        &[("postgresql_concurrently", "True"), (retry, "True")],
        op.in_transaction,
    )?;
    if op.in_transaction {
        if !allowed.autocommit_block {
            return None;
        }
        edits.extend(wrap_in_block(moved, AUTOCOMMIT_BLOCK));
    }
    let verb = match change {
        IndexChange::Create => "build",
        IndexChange::Drop => "drop",
    };
    Fix::new(
        format!(
            "{verb} the index CONCURRENTLY{} ({retry}=True, so that a retry goes on)",
            if op.in_transaction {
                " in an autocommit block"
            } else {
                ""
            }
        ),
        if op.in_transaction {
            allowed.autocommit_applicability()
        } else {
            Applicability::Safe
        },
        op.span.file,
        edits,
    )
}

/// How a framework runs a script outside a transaction, when the script holds only index
/// builds: nothing to add, a header line to add at the file's start, or no way a fix can write.
enum OutsideTransaction {
    /// The script already runs outside one: a file of one statement (golang-migrate, plain
    /// SQL), or of statements that all refuse transaction blocks (Flyway).
    AsIs,
    /// The framework reads a marker at the file's start.
    Header(&'static str),
}

fn outside_transaction(framework: Framework, statements: usize) -> Option<OutsideTransaction> {
    match framework {
        Framework::GolangMigrate | Framework::PlainSql if statements == 1 => {
            Some(OutsideTransaction::AsIs)
        }
        Framework::Flyway => Some(OutsideTransaction::AsIs),
        Framework::Goose => Some(OutsideTransaction::Header("-- +goose NO TRANSACTION\n")),
        // sqlx reads the marker only as the file's first line.
        Framework::Sqlx => Some(OutsideTransaction::Header("-- no-transaction\n")),
        // Atlas reads a header followed by a blank line.
        Framework::Atlas => Some(OutsideTransaction::Header("-- atlas:txmode none\n\n")),
        _ => None,
    }
}

/// The fix of a SQL `CREATE INDEX` in a script made only of index builds: `CONCURRENTLY` (and
/// `IF NOT EXISTS` on a named index), and the framework's way out of its transaction.
pub fn sql(op: &Op, framework: Framework, body: &[Op]) -> Option<Fix> {
    let OpKind::CreateIndex {
        name,
        if_not_exists,
        ..
    } = &op.kind
    else {
        return None;
    };
    let at = op.edit.as_ref()?.index_keyword_end?;
    // Another statement in the script would run outside the transaction too, or keep it.
    if !body
        .iter()
        .all(|o| matches!(o.kind, OpKind::CreateIndex { .. }) && o.edit.is_some())
    {
        return None;
    }
    let way = outside_transaction(framework, body.len())?;
    let retry = if !if_not_exists && name.is_some() {
        " IF NOT EXISTS"
    } else {
        ""
    };
    let mut edits = vec![Edit::insert(at, format!(" CONCURRENTLY{retry}"))];
    if let OutsideTransaction::Header(header) = way
        && op.in_transaction
    {
        edits.push(Edit::insert(0, header));
    }
    Fix::new(
        "build the index CONCURRENTLY, outside a transaction",
        Applicability::Safe,
        op.span.file,
        edits,
    )
}
