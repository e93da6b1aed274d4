//! Loose `.sql` files no tool claims: each file one migration, run as written (psql or a
//! client sending it as one query), ordered by the version its name starts with.

use crate::model::{Body, FileId, Framework, Script, ScriptTransaction, Span};

use super::super::sql::Wrapping;
use super::{Role, SqlFile, body, digits};

pub(super) fn parse(name: &str, text: &str, file: FileId) -> SqlFile {
    let whole = 0..text.len();
    let version_text = name.strip_suffix(".sql").unwrap_or(name).to_string();
    SqlFile {
        framework: Framework::PlainSql,
        role: Role::Up,
        version: digits(&version_text),
        version_text,
        other_database: false,
        unlisted: false,
        file,
        up: Some(Body {
            script: Some(Script {
                span: Span::new(file, whole.clone()),
                transaction: ScriptTransaction::AsWritten,
                source: crate::model::ScriptSource::Written,
            }),
            ..body(text, whole, file, Wrapping::None)
        }),
        down: None,
    }
}
