//! Diesel (`diesel migration run`), as diesel_migrations runs a migration (read in
//! diesel-rs/diesel at 04cc1b0b):
//! - a migration is a folder holding `up.sql` (`migrations_internals::valid_sql_migration_directory`),
//!   and `down.sql` to revert it; its version is the folder's name up to the first `_`, dashes
//!   removed (`version_from_string`), and migrations run in version order;
//! - each script is sent whole with `batch_execute` (`file_based_migrations::run_sql_from_file`):
//!   one simple query, whose statements PostgreSQL runs as one implicit transaction;
//! - by default `MigrationHarness::run_migration` wraps the script and the version row in a
//!   transaction; `run_in_transaction = false` in the folder's `metadata.toml` turns that off;
//! - an empty script (zero bytes) is an error (`EmptyMigration`), and reverting a migration
//!   without `down.sql` fails (`NoMigrationRevertFile`);
//! - the version table is `__diesel_schema_migrations` (`setup_migration_table.sql`).

use crate::model::{FileId, Framework};

use super::super::sql::Wrapping;
use super::{Role, SqlFile, body, one_direction};

/// `up.sql` or `down.sql` of the migration folder `folder`; `metadata` is its `metadata.toml`.
pub(super) fn parse(
    name: &str,
    folder: &str,
    text: &str,
    file: FileId,
    metadata: Option<&str>,
) -> SqlFile {
    let role = if name == "down.sql" {
        Role::Down
    } else {
        Role::Up
    };
    let version = folder.split('_').next().unwrap_or(folder).replace('-', "");
    let wrapping = if runs_in_transaction(metadata) {
        Wrapping::Always
    } else {
        Wrapping::WhenSeveralStatements
    };
    let parsed = body(text, 0..text.len(), file, wrapping);
    one_direction(Framework::Diesel, role, version, file, parsed)
}

/// `run_in_transaction` of `metadata.toml`: true unless it says `false`.
fn runs_in_transaction(metadata: Option<&str>) -> bool {
    metadata
        .and_then(|text| text.parse::<toml::Table>().ok())
        .and_then(|table| table.get("run_in_transaction")?.as_bool())
        .unwrap_or(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_turns_the_transaction_off_only_when_it_says_false() {
        assert!(runs_in_transaction(None));
        assert!(runs_in_transaction(Some("run_in_transaction = true\n")));
        assert!(!runs_in_transaction(Some("run_in_transaction = false\n")));
        assert!(runs_in_transaction(Some("not toml at all [")));
    }
}
