//! Atlas versioned migrations (`atlas migrate apply`), as Atlas applies them to PostgreSQL (read
//! in ariga/atlas at a5e0aecc, `sql/migrate/{dir,migrate,lex}.go`,
//! `cmd/atlas/internal/cmdapi/migrate.go`):
//! - a migration directory holds `atlas.sum` and `<version>_<name>.sql` files, applied in the
//!   order of their names; the version is the name up to its first `_`;
//! - `--tx-mode file` (the default) runs each file in a transaction of its own, the revision
//!   row written inside it; a file whose header (the `--` comment lines it starts with,
//!   followed by a blank line) holds `atlas:txmode none` runs each statement on its own;
//! - there are no down scripts in Atlas's format: a history goes forward only.

use crate::model::{FileId, Framework};

use super::super::sql::Wrapping;
use super::{Role, SqlFile, body, one_direction};

/// The file as Atlas reads it; `None` for a file that is not a migration (no `.sql`).
pub(super) fn parse(name: &str, text: &str, file: FileId) -> Option<SqlFile> {
    let stem = name.strip_suffix(".sql")?;
    let version = stem.split('_').next().unwrap_or(stem);
    let wrapping = match header_txmode(text) {
        Some("none") => Wrapping::None,
        // Atlas sends the statements it split one by one in the file's transaction.
        _ => Wrapping::EachStatement,
    };
    let parsed = body(text, 0..text.len(), file, wrapping);
    Some(one_direction(
        Framework::Atlas,
        Role::Up,
        version.to_string(),
        file,
        parsed,
    ))
}

/// The `atlas:txmode` directive of the file's header: the comment lines the file starts with,
/// which count only when a blank line follows them (`LocalFile.Directive`).
fn header_txmode(text: &str) -> Option<&str> {
    let mut txmode = None;
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            return txmode;
        }
        if !(line.starts_with("--") || line.starts_with('#')) {
            return None;
        }
        if let Some((_, rest)) = line.split_once("atlas:txmode") {
            txmode = rest.split_whitespace().next();
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_transaction_per_file_unless_the_header_says_none() {
        let wrapped = parse(
            "20240101120000_users.sql",
            "CREATE INDEX i ON t (id);",
            FileId(0),
        )
        .unwrap();
        assert_eq!(wrapped.version_text, "20240101120000");
        assert!(wrapped.up.unwrap().ops.iter().all(|op| op.in_transaction));
        let outside = parse(
            "20240102_index.sql",
            "-- atlas:txmode none\n\nCREATE INDEX CONCURRENTLY i ON t (id);",
            FileId(0),
        )
        .unwrap();
        assert!(outside.up.unwrap().ops.iter().all(|op| !op.in_transaction));
        // Without the blank line after it the header is not a header: Atlas ignores it.
        assert_eq!(
            header_txmode("-- atlas:txmode none\nCREATE INDEX i ON t (id);"),
            None
        );
        assert_eq!(
            header_txmode("CREATE TABLE t ();\n-- atlas:txmode none\n\n"),
            None
        );
    }
}
