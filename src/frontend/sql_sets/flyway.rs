//! Flyway (`flyway migrate`), as it runs PostgreSQL migrations (Flyway's documentation on
//! transactions and script config files):
//! - versioned migrations are `V<version>__<name>.sql`, undo migrations `U<version>__<name>.sql`,
//!   repeatable ones `R__<name>.sql` (applied after the versioned ones, again when changed);
//! - baseline migrations `B<version>__<name>.sql` (Flyway 9's "Baseline migrations") are a
//!   copy of the schema the versioned migrations up to that version build: Flyway runs the
//!   newest one only on an empty database, in their place, and ignores it wherever versioned
//!   migrations already ran;
//! - each migration runs in a transaction of its own, except one made only of statements
//!   PostgreSQL refuses inside a transaction block, which runs without one (a migration mixing
//!   both is refused); `executeInTransaction` in the script's `<file>.conf` decides instead;
//! - the version table is `flyway_schema_history`.

use crate::model::{Body, FileId, Framework, ScriptTransaction};

use super::super::sql::Wrapping;
use super::{Role, SqlFile, body, one_direction};

/// The file as a Flyway migration; `None` when its name is not Flyway's. `script_config`: the
/// text of its `<file>.conf`, if any.
pub(super) fn parse(
    name: &str,
    text: &str,
    file: FileId,
    script_config: Option<&str>,
) -> Option<SqlFile> {
    parse_with_prefix("V", name, text, file, script_config)
}

/// [`parse`] with the versioned migrations' prefix the project's Flyway configuration sets
/// (`sqlMigrationPrefix`).
pub(super) fn parse_with_prefix(
    versioned_prefix: &str,
    name: &str,
    text: &str,
    file: FileId,
    script_config: Option<&str>,
) -> Option<SqlFile> {
    let (role, version) = role_and_version(versioned_prefix, name)?;
    let version_text = match role {
        Role::Repeatable => name.to_string(),
        // Named on the command line, a baseline is judged beside the migration of its version.
        Role::Baseline => format!("B{}", version.replace('_', ".")),
        _ => version.replace('_', "."),
    };
    let mut parsed = body(text, 0..text.len(), file, Wrapping::WhenSeveralStatements);
    flyway_transaction(&mut parsed, script_config.and_then(execute_in_transaction));
    Some(one_direction(
        Framework::Flyway,
        role,
        version_text,
        file,
        parsed,
    ))
}

/// Whether `name` is a Flyway migration's with the default prefixes (`V2__x.sql`, `R__x.sql`).
pub(super) fn is_flyway_name(name: &str) -> bool {
    role_and_version("V", name).is_some()
}

/// What a Flyway file name says: versioned, undo, baseline or repeatable, and its version.
fn role_and_version<'n>(versioned_prefix: &str, name: &'n str) -> Option<(Role, &'n str)> {
    let (head, _) = name.split_once("__")?;
    let versioned = |rest: &str| {
        !rest.is_empty()
            && rest
                .chars()
                .all(|c| c.is_ascii_digit() || c == '_' || c == '.')
    };
    let (role, version) = if let Some(version) = head.strip_prefix(versioned_prefix)
        && versioned(version)
    {
        (Role::Up, version)
    } else if let Some(version) = head.strip_prefix('U')
        && versioned(version)
    {
        (Role::Down, version)
    } else if let Some(version) = head.strip_prefix('B')
        && versioned(version)
    {
        (Role::Baseline, version)
    } else if head == "R" {
        (Role::Repeatable, "")
    } else {
        return None;
    };
    Some((role, version))
}

/// Flyway runs each PostgreSQL migration in a transaction of its own, except one made only of
/// statements PostgreSQL refuses inside a transaction: it runs that one without (and refuses a
/// migration mixing both, which the in-transaction rules report). A script config file
/// (`V2__x.sql.conf`) with `executeInTransaction` decides instead.
fn flyway_transaction(parsed: &mut Body, configured: Option<bool>) {
    let outside_only = match configured {
        Some(in_transaction) => !in_transaction,
        None => {
            !parsed.ops.is_empty()
                && parsed
                    .ops
                    .iter()
                    .all(|op| op.kind.runs_only_outside_transaction().is_some())
        }
    };
    if let Some(script) = &mut parsed.script {
        script.transaction = if outside_only {
            ScriptTransaction::PerStatement
        } else {
            ScriptTransaction::Wrapped
        };
    }
    for op in &mut parsed.ops {
        op.in_transaction = !outside_only;
    }
}

/// `executeInTransaction` in a Flyway script config file (`key=value` lines).
fn execute_in_transaction(config: &str) -> Option<bool> {
    config.lines().find_map(|line| {
        let (key, value) = line.split_once('=')?;
        (key.trim() == "executeInTransaction").then(|| !value.trim().eq_ignore_ascii_case("false"))
    })
}
