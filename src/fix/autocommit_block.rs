//! A statement PostgreSQL refuses inside a transaction block (CREATE INDEX CONCURRENTLY, ALTER
//! TYPE … ADD VALUE before 12, VACUUM), run in Alembic's transaction → the same call inside
//! `op.get_context().autocommit_block()`.
//!
//! Safe: the migration fails as written; in the block it runs.

use crate::model::Op;

use super::python::{AUTOCOMMIT_BLOCK, wrap_in_block};
use super::{Applicability, Fix};

/// The fix of an `op.*` call statement that makes exactly one operation (one SQL statement in
/// an `op.execute`: several sent together would form an implicit transaction again).
pub fn alembic(op: &Op, body: &[Op], allowed: super::Allowed) -> Option<Fix> {
    let site = op.edit.as_ref()?;
    if !allowed.autocommit_block || !op.in_transaction || !site.call.as_ref()?.on_op {
        return None;
    }
    if super::made_by_one_call(op, body) != Some(1) {
        return None;
    }
    Fix::new(
        "run it in an autocommit block, outside the migration's transaction",
        Applicability::Safe,
        op.span.file,
        wrap_in_block(site, AUTOCOMMIT_BLOCK),
    )
}
