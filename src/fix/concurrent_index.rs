//! An index built or dropped without CONCURRENTLY → CONCURRENTLY, outside Alembic's
//! transaction, and retryable: `postgresql_concurrently=True` with `if_not_exists=True` /
//! `if_exists=True`, inside `op.get_context().autocommit_block()`.
//!
//! Safe: the same index in the end, built without blocking writes. What differs is a failure
//! part-way: the autocommit block commits the statements before it, and a failed concurrent
//! build leaves an INVALID index, which the retry's IF NOT EXISTS passes over (PostgreSQL's
//! documentation: drop it and build again).

use crate::model::Op;

use super::python::{AUTOCOMMIT_BLOCK, set_keywords, wrap_in_block};
use super::{Applicability, Fix};

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
        Applicability::Safe,
        op.span.file,
        edits,
    )
}
