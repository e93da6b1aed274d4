//! sqlx (`sqlx migrate run`, `sqlx::migrate!()`), as sqlx applies a migration to PostgreSQL (read
//! in launchbadge/sqlx at 9d6bf662, `sqlx-core/src/migrate/{source,migration_type}.rs`,
//! `sqlx-postgres/src/migrate.rs`):
//! - a migration is `<VERSION>_<DESCRIPTION>.sql` (simple: forward only) or a pair
//!   `<VERSION>_<DESCRIPTION>.up.sql` / `.down.sql` (reversible); `<VERSION>` must parse as an
//!   `i64`, and migrations run in version order;
//! - `apply` opens a transaction (`self.begin()`), sends the whole script with `execute` (one
//!   simple query) and records the version in `_sqlx_migrations` before committing; a script
//!   that starts with `-- no-transaction` is sent alone, outside any transaction block, where
//!   PostgreSQL runs its statements as one implicit transaction when there are several.

use crate::model::{FileId, Framework};

use super::super::sql::Wrapping;
use super::{Role, SqlFile, body, one_direction};

/// The marker that turns sqlx's transaction off, when the script starts with it.
const NO_TRANSACTION: &str = "-- no-transaction";

/// The file as sqlx reads it; `None` when sqlx would not take it as a migration (its version is
/// not an integer), so that the generic reading applies.
pub(super) fn parse(name: &str, text: &str, file: FileId) -> Option<SqlFile> {
    let (version, rest) = name.split_once('_')?;
    version.parse::<i64>().ok()?;
    let role = if rest.ends_with(".down.sql") {
        Role::Down
    } else if rest.ends_with(".sql") {
        Role::Up
    } else {
        return None;
    };
    let wrapping = if text.starts_with(NO_TRANSACTION) {
        Wrapping::WhenSeveralStatements
    } else {
        Wrapping::Always
    };
    let parsed = body(text, 0..text.len(), file, wrapping);
    Some(one_direction(
        Framework::Sqlx,
        role,
        version.to_string(),
        file,
        parsed,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_sqlx_takes_and_the_transaction_it_opens() {
        let simple = parse(
            "20240101120000_users.sql",
            "CREATE TABLE u (id int);",
            FileId(0),
        )
        .unwrap();
        assert_eq!(
            (simple.role, simple.version_text.as_str()),
            (Role::Up, "20240101120000")
        );
        assert!(simple.up.unwrap().ops.iter().all(|op| op.in_transaction));
        let down = parse("3_users.down.sql", "DROP TABLE u;", FileId(0)).unwrap();
        assert_eq!(down.role, Role::Down);
        let outside = parse(
            "4_index.up.sql",
            "-- no-transaction\nCREATE INDEX CONCURRENTLY i ON u (id);",
            FileId(0),
        )
        .unwrap();
        assert!(outside.up.unwrap().ops.iter().all(|op| !op.in_transaction));
        assert!(parse("V1__x.sql", "", FileId(0)).is_none());
        assert!(parse("schema.sql", "", FileId(0)).is_none());
    }
}
