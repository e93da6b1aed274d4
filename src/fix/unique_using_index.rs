//! A unique constraint added to a table with rows (its index built under ACCESS EXCLUSIVE) →
//! the unique index built CONCURRENTLY in an autocommit block, then the constraint added
//! `USING INDEX` (instant: the index becomes the constraint's).
//!
//! Safe: the same constraint, its index named as before, in the end. A failure part-way differs:
//! a failed concurrent build leaves an INVALID index, which IF NOT EXISTS then passes over.

use crate::model::Op;

use super::python::{AUTOCOMMIT_BLOCK, final_name, python_string};
use super::{Allowed, Edit, Fix, quote_identifier, quote_qualified};

/// The fix of an `op.create_unique_constraint(name, table, columns)` written with no keyword
/// arguments (a `deferrable=` or `schema=` is the author's to carry over).
pub fn alembic(
    op: &Op,
    body: &[Op],
    table: &str,
    name: &str,
    columns: &[String],
    allowed: Allowed,
) -> Option<Fix> {
    let site = op.edit.as_ref()?;
    let call = site.call.as_ref()?;
    if call.method != "create_unique_constraint"
        || !call.on_op
        || !call.keywords.is_empty()
        || table.contains('.')
        || columns.is_empty()
        || !op.in_transaction
        || !allowed.autocommit_block
        || super::made_by_one_call(op, body) != Some(1)
    {
        return None;
    }
    let columns = columns
        .iter()
        .map(|c| python_string(c.trim_matches('"')))
        .collect::<Vec<_>>()
        .join(", ");
    let indent = &site.indent;
    let build = format!(
        "with {AUTOCOMMIT_BLOCK}:\n{indent}    op.create_index(\n{indent}        {},\n{indent}        {},\n{indent}        [{columns}],\n{indent}        unique=True,\n{indent}        postgresql_concurrently=True,\n{indent}        if_not_exists=True,\n{indent}    )",
        final_name(name),
        python_string(table),
    );
    let attach = format!(
        "op.execute({})",
        python_string(&format!(
            "ALTER TABLE {} ADD CONSTRAINT {} UNIQUE USING INDEX {}",
            quote_qualified(table),
            quote_identifier(name),
            quote_identifier(name)
        ))
    );
    Fix::new(
        format!(
            "build the unique index `{name}` CONCURRENTLY, then add the constraint USING INDEX"
        ),
        allowed.autocommit_applicability(),
        op.span.file,
        vec![Edit::replace(
            site.statement.clone(),
            format!("{build}\n{indent}{attach}"),
        )],
    )
}
