//! Loose `.sql` files no tool claims: each file one migration, run as written (psql or a
//! client sending it as one query), ordered by the version its name starts with.

use crate::model::{Body, FileId, Framework, Script, ScriptTransaction, Span};

use super::super::sql::Wrapping;
use super::{Role, SqlFile, body, one_direction};

pub(super) fn parse(name: &str, text: &str, file: FileId) -> SqlFile {
    let whole = 0..text.len();
    let version_text = name.strip_suffix(".sql").unwrap_or(name).to_string();
    let parsed = Body {
        script: Some(Script {
            span: Span::new(file, whole.clone()),
            transaction: ScriptTransaction::AsWritten,
            source: crate::model::ScriptSource::Written,
        }),
        ..body(text, whole, file, Wrapping::None)
    };
    one_direction(Framework::PlainSql, Role::Up, version_text, file, parsed)
}
