//! An index built or dropped without CONCURRENTLY → CONCURRENTLY, outside Alembic's
//! transaction, and retryable: `postgresql_concurrently=True` with `if_not_exists=True` /
//! `if_exists=True`, inside `op.get_context().autocommit_block()`.
//!
//! Safe: the same index in the end, built without blocking writes. What differs is a failure
//! part-way: the autocommit block commits the statements before it, and a failed concurrent
//! build leaves an INVALID index, which the retry's IF NOT EXISTS passes over (PostgreSQL's
//! documentation: drop it and build again).

use crate::model::{Framework, Op, OpKind};

use super::python::{
    AUTOCOMMIT_BLOCK, call_lines, final_name, python_string, schema_keyword, set_keywords,
    wrap_in_block,
};
use super::{Applicability, Edit, Fix};
use crate::model::names::bare_name;

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
    // A build that fails (a lock timeout, a duplicate) leaves an INVALID index, which `IF NOT
    // EXISTS` would pass over on the retry: a named index is dropped first instead, so the
    // retry builds it again.
    let drop_first = match (&op.kind, change) {
        (
            OpKind::CreateIndex {
                name: Some(name),
                table,
                ..
            },
            IndexChange::Create,
        ) => Some(drop_index_call(
            name,
            table,
            // Inside the autocommit block, one level in.
            moved.indent.chars().count() + if op.in_transaction { 4 } else { 0 },
        )),
        _ => None,
    };
    let retry = match (change, &drop_first) {
        (IndexChange::Create, Some(_)) => None,
        (IndexChange::Create, None) => Some("if_not_exists"),
        (IndexChange::Drop, _) => Some("if_exists"),
    };
    let mut keywords = vec![("postgresql_concurrently", "True")];
    keywords.extend(retry.map(|r| (r, "True")));
    let mut edits = set_keywords(site, &keywords, op.in_transaction)?;
    let indent = &moved.indent;
    if op.in_transaction {
        if !allowed.autocommit_block {
            return None;
        }
        let mut wrap = wrap_in_block(moved, AUTOCOMMIT_BLOCK);
        if let Some(drop) = &drop_first {
            let inner = format!("{indent}    ");
            wrap[0].content = format!(
                "with {AUTOCOMMIT_BLOCK}:\n{inner}{}\n{inner}",
                drop.join(&format!("\n{inner}"))
            );
        }
        edits.extend(wrap);
    } else if let Some(drop) = &drop_first {
        edits.push(Edit::insert(
            moved.statement.start,
            format!("{}\n{indent}", drop.join(&format!("\n{indent}"))),
        ));
    }
    let retry = match retry {
        Some(retry) => format!("{retry}=True, so that a retry goes on"),
        None => "dropped first if a failed build left it INVALID".to_string(),
    };
    let verb = match change {
        IndexChange::Create => "build",
        IndexChange::Drop => "drop",
    };
    Fix::new(
        format!(
            "{verb} the index CONCURRENTLY{} ({retry})",
            if op.in_transaction {
                " in an autocommit block"
            } else {
                ""
            }
        ),
        allowed.applicability(op.in_transaction),
        op.span.file,
        edits,
    )
}

/// `op.drop_index(...)` of the index a build makes, CONCURRENTLY and only if it exists, as a
/// formatter would write it at `indent` columns.
fn drop_index_call(name: &str, table: &str, indent: usize) -> Vec<String> {
    let mut arguments = vec![
        final_name(bare_name(name)),
        format!("table_name={}", python_string(bare_name(table))),
    ];
    arguments.extend(schema_keyword(table));
    arguments.push("postgresql_concurrently=True".into());
    arguments.push("if_exists=True".into());
    call_lines("op.drop_index", &arguments, indent)
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
