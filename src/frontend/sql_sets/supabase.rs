//! The Supabase CLI (`supabase db push`, `migration up`, `db reset`), as it applies a migration
//! (read in supabase/cli at 1d1e7191, `apps/cli-go/pkg/migration/{file,list,apply,history}.go`):
//! - migrations are the files of `supabase/migrations` named `^([0-9]+)_(.*)\.sql$`, applied in
//!   the order of their names; any other file is skipped with a warning;
//! - `MigrationFile.ExecBatch` splits the file into statements and sends them, with the
//!   history row in `supabase_migrations.schema_migrations`, as one pipelined batch, which
//!   PostgreSQL runs as one implicit transaction: no marker turns it off, and a statement
//!   PostgreSQL refuses inside a transaction block (CREATE INDEX CONCURRENTLY) fails there;
//! - there are no down scripts (`migration down` resets the database and re-applies up to a
//!   version): a history goes forward only.

use crate::model::{FileId, Framework};

use super::super::sql::Wrapping;
use super::{Role, SqlFile, body, one_direction};

/// The file as the Supabase CLI reads it; `None` for a name it skips.
pub(super) fn parse(name: &str, text: &str, file: FileId) -> Option<SqlFile> {
    let stem = name.strip_suffix(".sql")?;
    let (version, _) = stem.split_once('_')?;
    if version.is_empty() || !version.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let parsed = body(text, 0..text.len(), file, Wrapping::Always);
    Some(one_direction(
        Framework::Supabase,
        Role::Up,
        version.to_string(),
        file,
        parsed,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_cli_applies_each_in_one_transaction() {
        let migration = parse(
            "20240101120000_add_index.sql",
            "CREATE TABLE t (id int);\nCREATE INDEX CONCURRENTLY i ON t (id);",
            FileId(0),
        )
        .unwrap();
        assert_eq!(migration.version_text, "20240101120000");
        assert!(migration.up.unwrap().ops.iter().all(|op| op.in_transaction));
        assert!(parse("seed.sql", "", FileId(0)).is_none());
        assert!(parse("v1_x.sql", "", FileId(0)).is_none());
        assert!(parse("20240101_x.up.sql.bak", "", FileId(0)).is_none());
    }
}
