//! A foreign key or CHECK added and validated at once (ACCESS EXCLUSIVE / SHARE ROW EXCLUSIVE
//! held while every row is read) → added `NOT VALID` (no scan), then `VALIDATE CONSTRAINT` in an
//! autocommit block of its own, which reads the rows under SHARE UPDATE EXCLUSIVE (reads and
//! writes go on).
//!
//! Safe: the same validated constraint in the end. A failure part-way differs: the constraint
//! is committed NOT VALID before the validation runs.

use crate::model::Op;

use super::python::{AUTOCOMMIT_BLOCK, add_after, indented, python_string, set_keywords};
use super::{Fix, quote_identifier, quote_qualified};

/// The fix of an `op.create_foreign_key` / `op.create_check_constraint` call of a named
/// constraint on `table`, when the call is a statement of its own.
pub fn alembic(
    op: &Op,
    body: &[Op],
    table: &str,
    constraint: &str,
    allowed: super::Allowed,
) -> Option<Fix> {
    // One call in a loop adds a constraint per value: one VALIDATE cannot name them all.
    if super::made_by_one_call(op, body) != Some(1) {
        return None;
    }
    if op.in_transaction && !allowed.autocommit_block {
        return None;
    }
    let site = op.edit.as_ref()?;
    let call = site.call.as_ref()?;
    if !matches!(
        call.method.as_str(),
        "create_foreign_key" | "create_check_constraint"
    ) {
        return None;
    }
    // A CHECK's plain name, where the project's naming convention was not read: a convention
    // may rewrite it (`ck_%(table_name)s_%(constraint_name)s`), and the VALIDATE would name
    // another (post-award-data-store's 040 failed so). Foreign-key conventions do not take the
    // given name.
    if op.name_origin == crate::model::op::NameOrigin::AlembicString
        && !allowed.convention_known
        && call.method == "create_check_constraint"
    {
        return None;
    }
    // A batch adds its constraints when its block ends: the validation follows the block.
    let after = if call.on_op {
        site
    } else {
        site.batch_block.as_deref()?
    };
    let mut edits = set_keywords(site, &[("postgresql_not_valid", "True")], false)?;
    let validate = format!(
        "ALTER TABLE {} VALIDATE CONSTRAINT {}",
        quote_qualified(table),
        quote_identifier(constraint)
    );
    let execute = format!("op.execute({})", python_string(&validate));
    // Outside Alembic's transaction already, each statement commits on its own.
    let lines = if op.in_transaction {
        vec![format!("with {AUTOCOMMIT_BLOCK}:"), indented(&execute)]
    } else {
        vec![execute]
    };
    edits.push(add_after(after, &lines));
    Fix::new(
        format!("add `{constraint}` NOT VALID, then validate it in an autocommit block"),
        allowed.applicability(op.in_transaction),
        op.span.file,
        edits,
    )
}
