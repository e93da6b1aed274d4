//! No lock_timeout before statements that lock existing tables → a `SET lock_timeout` before
//! everything the migration runs, so a lock that cannot be had at once fails the migration
//! after 5 seconds instead of queueing every query behind it.
//!
//! Unsafe: it changes what happens under contention — the migration fails where it used to
//! wait, and the deploy has to retry it.

use crate::model::{Body, FileId, Framework, Migration, Op, Phase, ScriptTransaction};

use super::python::add_at_start;
use super::{Applicability, Edit, Fix};

const TIMEOUT: &str = "5s";

/// The fix of a migration whose `phases` lock tables with no lock_timeout: each of those bodies
/// in `file` (the finding's) starts by setting it. None when one of them cannot.
/// Where the history is written for other databases too (`other_dialects`: its revisions
/// test the dialect), the Alembic statement runs only on PostgreSQL.
pub fn fix(
    migration: &Migration,
    phases: &[Phase],
    file: FileId,
    other_dialects: bool,
) -> Option<Fix> {
    let mut edits = Vec::new();
    let mut seen = Vec::new();
    for &phase in phases {
        if seen.contains(&phase) {
            continue;
        }
        seen.push(phase);
        let body = migration.body(phase);
        // A downgrade in a file of its own (golang-migrate's `.down.sql`) is another fix's.
        if body.ops.first().is_some_and(|op| op.span.file != file) {
            continue;
        }
        edits.push(body_edit(migration.framework, body, other_dialects)?);
    }
    Fix::new(
        format!("set lock_timeout to {TIMEOUT} before the migration's first statement"),
        Applicability::Unsafe,
        file,
        edits,
    )
}

fn body_edit(framework: Framework, body: &Body, other_dialects: bool) -> Option<Edit> {
    let start = body.start.as_ref()?;
    let set = format!("op.execute(\"SET lock_timeout = '{TIMEOUT}'\")");
    Some(if framework == Framework::Alembic {
        // Session-wide, as env.py would set it: autocommit blocks later in the revision and
        // the revisions after it keep it.
        if other_dialects {
            let indent = &start.indent;
            Edit::insert(
                start.line_start,
                format!(
                    "{indent}if op.get_bind().dialect.name == \"postgresql\":\n{indent}    {set}\n"
                ),
            )
        } else {
            add_at_start(start, &set)
        }
    } else {
        Edit::insert(start.line_start, sql_line(body)?)
    })
}

/// `SET LOCAL` inside the transaction the framework runs the script in (it ends with it);
/// `SET` for a script run statement by statement. None where one more statement would change
/// how the script runs: a script sent as written runs several statements in one implicit
/// transaction, where a statement that refuses transaction blocks (CREATE INDEX
/// CONCURRENTLY) would fail.
fn sql_line(body: &Body) -> Option<String> {
    let first: &Op = body.ops.first()?;
    let as_written = body
        .script
        .is_some_and(|s| s.transaction == ScriptTransaction::AsWritten);
    if as_written
        && body
            .ops
            .iter()
            .any(|op| op.kind.runs_only_outside_transaction().is_some())
    {
        return None;
    }
    let scope = if first.in_transaction { "LOCAL " } else { "" };
    let indent = body
        .start
        .as_ref()
        .map(|s| s.indent.as_str())
        .unwrap_or_default();
    Some(format!("{indent}SET {scope}lock_timeout = '{TIMEOUT}';\n"))
}
