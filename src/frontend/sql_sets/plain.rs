//! Loose `.sql` files no tool claims: each file one migration, run as written (psql or a
//! client sending it as one query), ordered by the version its name starts with.

use crate::model::{Body, FileId, Framework, Script, ScriptTransaction, Span};

use super::super::sql::Wrapping;
use super::{Role, SqlFile, body, one_direction};

pub(super) fn parse(name: &str, text: &str, file: FileId) -> SqlFile {
    parse_in(name, text, file, ScriptTransaction::AsWritten)
}

/// A file of a folder the project's own runner applies, in the transaction the config's
/// `[[sets]] transaction` says it uses (a runner wrapping each file in BEGIN … COMMIT, or one
/// sending statement by statement).
pub(super) fn parse_in(
    name: &str,
    text: &str,
    file: FileId,
    transaction: ScriptTransaction,
) -> SqlFile {
    let whole = 0..text.len();
    let version_text = name.strip_suffix(".sql").unwrap_or(name).to_string();
    let wrapping = match transaction {
        ScriptTransaction::Wrapped => Wrapping::Always,
        ScriptTransaction::AsWritten | ScriptTransaction::PerStatement => Wrapping::None,
    };
    let parsed = Body {
        script: Some(Script {
            span: Span::new(file, whole.clone()),
            transaction,
            source: crate::model::ScriptSource::Written,
        }),
        ..body(text, whole, file, wrapping)
    };
    one_direction(Framework::PlainSql, Role::Up, version_text, file, parsed)
}
