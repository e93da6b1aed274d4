//! SET NOT NULL on a table with rows (a scan under ACCESS EXCLUSIVE) → first a
//! `CHECK (col IS NOT NULL)` added NOT VALID and validated in an autocommit block (a scan that
//! lets reads and writes go on), so that SET NOT NULL finds it proven and does not scan
//! (PostgreSQL 12 and later), then the CHECK dropped.
//!
//! Safe on PostgreSQL ≥ 12: the same column in the end. The CHECK's name is given with
//! `op.f()`, so a naming convention does not rewrite it.

use crate::model::Op;
use crate::model::names::bare_name;

use super::python::{AUTOCOMMIT_BLOCK, add_after, call_lines, final_name, python_string};
use super::{Allowed, Edit, Fix, quote_identifier};

/// PostgreSQL's limit on a name, in bytes.
const NAME_LIMIT: usize = 63;

/// The fix of an `op.alter_column(..., nullable=False)` (or a batch's) on `table.column`.
pub fn alembic(op: &Op, table: &str, column: &str, allowed: Allowed) -> Option<Fix> {
    let site = op.edit.as_ref()?;
    let call = site.call.as_ref()?;
    // A schema-qualified table needs `schema=` on every call written: left to the author.
    if call.method != "alter_column" || table.contains('.') {
        return None;
    }
    if op.in_transaction && !allowed.autocommit_block {
        return None;
    }
    // A batch alters its table when its block ends: the proof comes before the block, the
    // drop after it.
    let moved = if call.on_op {
        site
    } else {
        site.batch_block.as_deref()?
    };
    let name = format!("ck_{}_{column}_not_null", bare_name(table));
    if name.len() > NAME_LIMIT {
        return None;
    }
    let validate = python_string(&format!(
        "ALTER TABLE {} VALIDATE CONSTRAINT {}",
        quote_identifier(table),
        quote_identifier(&name)
    ));
    let indent = &moved.indent;
    let width = indent.chars().count();
    let mut before = call_lines(
        "op.create_check_constraint",
        &[
            final_name(&name),
            python_string(table),
            python_string(&format!("{} IS NOT NULL", quote_identifier(column))),
            "postgresql_not_valid=True".into(),
        ],
        width,
    );
    if op.in_transaction {
        before.push(format!("with {AUTOCOMMIT_BLOCK}:"));
        before.push(format!("    op.execute({validate})"));
    } else {
        before.push(format!("op.execute({validate})"));
    }
    let prelude: String = before
        .iter()
        .map(|line| format!("{line}\n{indent}"))
        .collect();
    Fix::new(
        format!(
            "prove `{column}` NOT NULL with a validated CHECK first, so SET NOT NULL does not scan"
        ),
        allowed.applicability(op.in_transaction),
        op.span.file,
        vec![
            Edit::insert(moved.statement.start, prelude),
            add_after(
                moved,
                &call_lines(
                    "op.drop_constraint",
                    &[
                        final_name(&name),
                        python_string(table),
                        "type_=\"check\"".into(),
                    ],
                    width,
                ),
            ),
        ],
    )
}
