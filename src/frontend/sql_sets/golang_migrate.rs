//! golang-migrate (`migrate up`), and pop and others that share its names, as golang-migrate's
//! PostgreSQL driver runs a migration (`database/postgres/postgres.go`, `Run`):
//! - a migration is a pair `<version>_<name>.up.sql` / `.down.sql` (a `V` before the version
//!   and a `.<database>` before `.up.sql` are accepted), paired and ordered by the version;
//! - the whole file is sent as one `ExecContext`, a simple query of many statements, which
//!   PostgreSQL runs as one implicit transaction when it holds more than one statement (a file
//!   of one statement runs outside any transaction block); the driver opens none itself;
//! - the version table is `schema_migrations` (`version`, `dirty`).

use crate::model::{FileId, Framework};

use super::super::sql::Wrapping;
use super::{Role, SqlFile, body, one_direction};

/// The file as a golang-migrate direction file; `None` when its name is not one.
pub(super) fn parse(name: &str, text: &str, file: FileId) -> Option<SqlFile> {
    let lower = name.to_ascii_lowercase();
    let (stem, role) = lower
        .strip_suffix(".up.sql")
        .map(|stem| (stem, Role::Up))
        .or_else(|| {
            lower
                .strip_suffix(".down.sql")
                .map(|stem| (stem, Role::Down))
        })?;
    let (stem, other_database) = split_dialect(stem);
    let version = leading_version(stem)?;
    let version_text = version.trim_start_matches(['V', 'v']).to_string();
    let parsed = body(text, 0..text.len(), file, Wrapping::WhenSeveralStatements);
    let mut sql_file = one_direction(Framework::GolangMigrate, role, version_text, file, parsed);
    sql_file.other_database = other_database;
    Some(sql_file)
}

/// `stem` without a trailing `.dialect`, and whether that dialect is another database's.
fn split_dialect(stem: &str) -> (&str, bool) {
    if let Some((rest, last)) = stem.rsplit_once('.')
        && let Some(postgres) = crate::discover::names_postgres(last)
    {
        return (rest, !postgres);
    }
    (stem, false)
}

/// The version a direction file (`NNN_name.up.sql`, `V0001.Name.down.sql`) starts with.
fn leading_version(stem: &str) -> Option<&str> {
    let digits_from = usize::from(stem.starts_with(['V', 'v']));
    let end = stem[digits_from..]
        .find(|c: char| !c.is_ascii_digit())
        .map_or(stem.len(), |n| n + digits_from);
    (end > digits_from).then(|| &stem[..end])
}
