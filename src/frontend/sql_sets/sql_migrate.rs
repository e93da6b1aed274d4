//! rubenv/sql-migrate (`sql-migrate up`), as it runs a migration (read at 563a2f0,
//! `sqlparse/sqlparse.go`, `migrate.go`):
//! - a migration is one `.sql` file whose statements follow `-- +migrate Up` and
//!   `-- +migrate Down` lines; a file may hold several sections of each direction, and a
//!   direction's statements are all of its sections, in order (`ParseMigration`);
//! - `-- +migrate Up notransaction` (or `Down`) runs that whole direction without a
//!   transaction; otherwise its statements run one by one inside one transaction with the
//!   bookkeeping row (`applyMigrations`);
//! - statements end at a line ending in `;` (`-- +migrate StatementBegin` / `StatementEnd` keep a
//!   block whole); migrations are ordered by the number their file names start with, and
//!   recorded by file name in `gorp_migrations`.

use crate::model::{Body, FileId, Framework, Span};

use super::super::sql::Wrapping;
use super::{SqlFile, body};

/// A `-- +migrate <Command> [options]` line: the command and whether it says `notransaction`.
fn annotation(line: &str) -> Option<(&str, bool)> {
    let rest = line.trim_end().strip_prefix("-- +migrate ")?;
    let mut fields = rest.split_whitespace();
    let command = fields.next()?;
    Some((command, fields.any(|f| f == "notransaction")))
}

/// Whether the file is a sql-migrate migration: it has a `-- +migrate Up` line.
pub(super) fn is_sql_migrate(text: &str) -> bool {
    text.lines()
        .any(|line| annotation(line).is_some_and(|(command, _)| command == "Up"))
}

/// A sql-migrate migration file `name`.
pub(super) fn parse(name: &str, text: &str, file: FileId) -> SqlFile {
    // (marker start, section start, up?) for every Up / Down line; notransaction per direction.
    let mut markers: Vec<(usize, usize, bool)> = Vec::new();
    let (mut up_outside, mut down_outside) = (false, false);
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        match annotation(line) {
            Some(("Up", outside)) => {
                markers.push((offset, offset + line.len(), true));
                up_outside |= outside;
            }
            Some(("Down", outside)) => {
                markers.push((offset, offset + line.len(), false));
                down_outside |= outside;
            }
            _ => {}
        }
        offset += line.len();
    }
    let direction = |up: bool, outside: bool| -> Option<Body> {
        let sections: Vec<usize> = (0..markers.len()).filter(|&i| markers[i].2 == up).collect();
        let (first, last) = (*sections.first()?, *sections.last()?);
        // The direction's sections in one range: the annotation lines between them are comments
        // to PostgreSQL. Sections of the other direction between them cannot be left out of one
        // range, so such a file is read from its first section of this direction only.
        let contiguous = markers[first..=last].iter().all(|m| m.2 == up);
        let end_index = if contiguous { last } else { first };
        let end = markers.get(end_index + 1).map_or(text.len(), |m| m.0);
        // sql-migrate sends the statements it split one by one in its transaction.
        let wrapping = if outside {
            Wrapping::None
        } else {
            Wrapping::EachStatement
        };
        Some(Body {
            span: Span::new(file, markers[first].0..markers[first].1),
            ..body(text, markers[first].1..end, file, wrapping)
        })
    };
    SqlFile::both(
        Framework::SqlMigrate,
        super::digits(
            name.split(|c: char| !c.is_ascii_digit())
                .next()
                .unwrap_or(name),
        ),
        name.to_string(),
        file,
        direction(true, up_outside),
        direction(false, down_outside).unwrap_or_else(|| Body::missing(Span::new(file, 0..0))),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annotations_and_sections_as_sql_migrate_reads_them() {
        assert_eq!(annotation("-- +migrate Up"), Some(("Up", false)));
        assert_eq!(
            annotation("-- +migrate Down notransaction"),
            Some(("Down", true))
        );
        assert_eq!(annotation("-- migrate:up"), None);
        assert_eq!(annotation("--+migrate Up"), None);
        let text = "-- +migrate Up\nALTER TABLE t ADD COLUMN a int;\n\
                    -- +migrate Up notransaction\nCREATE INDEX CONCURRENTLY i ON t (a);\n\
                    -- +migrate Down\nALTER TABLE t DROP COLUMN a;\n";
        assert!(is_sql_migrate(text));
        let parsed = parse("1700000000.sql", text, FileId(0));
        let up = parsed.up.unwrap();
        // Both Up sections, and no transaction: one of them says notransaction.
        assert_eq!(up.ops.len(), 2, "{:?}", up.ops);
        assert!(up.ops.iter().all(|op| !op.in_transaction));
        let down = parsed.down.unwrap();
        assert_eq!(down.ops.len(), 1);
        assert!(down.ops[0].in_transaction);
        assert_eq!(parsed.version_text, "1700000000.sql");
    }
}
