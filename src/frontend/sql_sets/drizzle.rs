//! Drizzle (`drizzle-kit migrate`, drizzle-orm's `migrate()`), as it applies PostgreSQL
//! migrations (read in drizzle-team/drizzle-orm at b7862528, `drizzle-orm/src/migrator.ts`,
//! `drizzle-orm/src/pg-core/dialect.ts`):
//! - the migrations are the entries of `meta/_journal.json`, `<tag>.sql` each, in the journal's
//!   order, recorded in `drizzle.__drizzle_migrations` by the entry's `when` (`created_at`);
//! - a file is cut at `--> statement-breakpoint` lines and the pieces are sent one by one inside
//!   ONE transaction that holds every pending migration (`session.transaction`): nothing of a
//!   Drizzle migration runs outside a transaction;
//! - there are no down scripts: a history goes forward only.

use crate::model::{FileId, Framework};

use super::super::sql::Wrapping;
use super::{Role, SqlFile, body, one_direction};

/// A journaled migration file, recorded by `when`.
pub(super) fn parse(when: u64, text: &str, file: FileId) -> SqlFile {
    let pieces = split_at_breakpoints(text);
    let parsed = body(&pieces, 0..text.len(), file, Wrapping::EachStatement);
    one_direction(Framework::Drizzle, Role::Up, when.to_string(), file, parsed)
}

/// What Drizzle cuts a file at (`readMigrationFiles` in `migrator.ts`: `split(...)`).
const BREAKPOINT: &str = "--> statement-breakpoint";

/// The file as Drizzle sends it: each breakpoint ends a piece, whether or not the statement
/// before it ends in a semicolon. Each breakpoint becomes a `;` and spaces, so every byte
/// offset stays the file's.
pub fn split_at_breakpoints(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains(BREAKPOINT) {
        return text.into();
    }
    let cut = format!(";{}", " ".repeat(BREAKPOINT.len() - 1));
    text.replace(BREAKPOINT, &cut).into()
}
