//! goose (`goose up`), as pressly/goose runs a SQL migration (read at 520411a, v3.27.3):
//! - a migration is one file `<version>_<name>.sql` whose sections start at `-- +goose Up` and
//!   `-- +goose Down` (`internal/sqlparser/parser.go`: the file must start with Up);
//! - the statements of a section are split on semicolons (`-- +goose StatementBegin` /
//!   `StatementEnd` keep a block whole) and sent one by one (`migration_sql.go`,
//!   `runSQLMigration`), inside one transaction per migration with the version row, unless the
//!   file says `-- +goose NO TRANSACTION`: then each statement runs on its own;
//! - the version table is `goose_db_version` (`internal/dialects/postgres.go`).

use crate::model::{Body, FileId, Framework, Span};

use super::super::sql::Wrapping;
use super::{SqlFile, body};

/// An annotation line: `-- +goose Up`, `--+goose NO TRANSACTION`, ...
fn annotation(line: &str) -> Option<String> {
    let rest = line.trim().strip_prefix("--")?.trim_start();
    let rest = rest.strip_prefix("+goose")?;
    Some(rest.trim().to_ascii_uppercase())
}

/// Whether the file is a goose migration: it has a `-- +goose Up` section.
pub(super) fn is_goose(text: &str) -> bool {
    text.lines()
        .any(|line| annotation(line).as_deref() == Some("UP"))
}

/// A goose migration file `name`.
pub(super) fn parse(name: &str, text: &str, file: FileId) -> SqlFile {
    let mut markers: Vec<(usize, usize, bool)> = Vec::new();
    let mut in_transaction = true;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        match annotation(line).as_deref() {
            Some("UP") => markers.push((offset, offset + line.len(), true)),
            Some("DOWN") => markers.push((offset, offset + line.len(), false)),
            Some("NO TRANSACTION") => in_transaction = false,
            _ => {}
        }
        offset += line.len();
    }
    // goose sends the statements it split one by one in its transaction.
    let wrapping = if in_transaction {
        Wrapping::EachStatement
    } else {
        Wrapping::None
    };
    let section = |up: bool| -> Option<Body> {
        let index = markers.iter().position(|m| m.2 == up)?;
        let (marker, start, _) = markers[index];
        let end = markers.get(index + 1).map_or(text.len(), |m| m.0);
        Some(Body {
            span: Span::new(file, marker..start),
            ..body(text, start..end, file, wrapping)
        })
    };
    let version_text = name.split('_').next().unwrap_or(name).to_string();
    SqlFile::both(
        Framework::Goose,
        super::digits(&version_text),
        version_text,
        file,
        section(true),
        section(false).unwrap_or_else(|| Body::missing(Span::new(file, 0..0))),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annotations_as_goose_reads_them() {
        assert_eq!(annotation("-- +goose Up").as_deref(), Some("UP"));
        assert_eq!(
            annotation("--+goose NO TRANSACTION").as_deref(),
            Some("NO TRANSACTION")
        );
        assert_eq!(
            annotation("-- +goose StatementBegin").as_deref(),
            Some("STATEMENTBEGIN")
        );
        assert_eq!(annotation("-- a comment about +goose"), None);
        assert!(is_goose(
            "-- +goose Up\nCREATE TABLE t (id int);\n-- +goose Down\nDROP TABLE t;\n"
        ));
        assert!(!is_goose("-- migrate:up\nCREATE TABLE t (id int);\n"));
    }
}
