//! dbmate (`dbmate up`), as it runs a migration (`pkg/dbmate/db.go`, `pkg/dbmate/migration.go`):
//! - a migration is one file `<version>_<name>.sql` with a `-- migrate:up` and a
//!   `-- migrate:down` section, ordered by the version;
//! - each section runs in a transaction of its own with the version row, unless its marker
//!   says `transaction:false`;
//! - the version table is `schema_migrations` (`version`).

use crate::model::{Body, FileId, Framework, Span};

use super::super::sql::{self, Wrapping};
use super::{SqlFile, body, digits};

/// The file as a dbmate migration; `None` when it has neither section.
pub(super) fn parse(name: &str, text: &str, file: FileId) -> Option<SqlFile> {
    let sections = sql::dbmate_sections(text);
    if sections.up.is_none() && sections.down.is_none() {
        return None;
    }
    let section_body = |section: sql::DbmateSection| {
        let wrapping = if section.transactional {
            Wrapping::Always
        } else {
            Wrapping::None
        };
        Body {
            span: Span::new(file, section.marker..section.body.start),
            ..body(text, section.body, file, wrapping)
        }
    };
    let up = sections.up.map(section_body);
    let down = match sections.down {
        Some(section) => section_body(section),
        None => Body::missing(Span::new(file, 0..0)),
    };
    let version_text = name.split('_').next().unwrap_or(name).to_string();
    Some(SqlFile::both(
        Framework::Dbmate,
        digits(&version_text),
        version_text,
        file,
        up,
        down,
    ))
}
