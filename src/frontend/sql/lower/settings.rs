//! Session settings later statements depend on: `SET search_path` (which schemas unqualified
//! names may resolve to) and `SET TIME ZONE` (whether timestamp ↔ timestamptz rewrites).

use sqlparser::ast::{Expr, Value};

/// The schemas `SET search_path TO a, "B", 'c'` names; `None` when one is not a name or a
/// literal (a placeholder filled in at run time).
pub fn from_set_values(values: &[Expr]) -> Option<Vec<String>> {
    values
        .iter()
        .map(|value| match value {
            Expr::Identifier(ident) => Some(super::identifier(ident)),
            Expr::Value(value) => match &value.value {
                Value::SingleQuotedString(text) => Some(text.clone()),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

/// `SELECT set_config('search_path', 'app, public', false)` (pg_dump writes it with an empty
/// path): `Some` of the schemas when the query sets the search path, `None` inside when the
/// value is not a literal.
pub fn from_set_config(query: &str) -> Option<Option<Vec<String>>> {
    let lower = query.to_ascii_lowercase();
    let call = lower.find("set_config")?;
    let after = &query[call..];
    let argument = after.find("'search_path'")?;
    let rest = after[argument + "'search_path'".len()..].trim_start();
    let rest = rest.strip_prefix(',')?.trim_start();
    let Some(literal) = rest.strip_prefix('\'') else {
        return Some(None);
    };
    let value = &literal[..literal.find('\'')?];
    Some(Some(list(value)))
}

/// A search path written as one string: `'"$user", app'`, each element folded as a name is.
pub fn list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|element| !element.is_empty())
        .map(|element| match element.strip_prefix('"') {
            Some(quoted) => quoted.trim_end_matches('"').to_string(),
            None => element.to_lowercase(),
        })
        .collect()
}

/// Whether a `SET` names the setting `name` (any case, also quoted: `"TimeZone"`).
pub fn is_setting(variable: &str, name: &str) -> bool {
    variable.trim_matches('"').eq_ignore_ascii_case(name)
}

/// Whether a time zone value is UTC or another name for a zero offset without daylight saving
/// (what PostgreSQL 12+ asks before converting timestamp ↔ timestamptz without a rewrite).
pub fn is_utc(value: &Expr) -> bool {
    let text = match value {
        Expr::Value(value) => match &value.value {
            Value::SingleQuotedString(text) => text.clone(),
            Value::Number(number, _) => number.clone(),
            _ => return false,
        },
        Expr::Identifier(ident) => ident.value.clone(),
        _ => value.to_string(),
    };
    let zone = text.trim().to_ascii_lowercase();
    let zone = zone.strip_prefix("etc/").unwrap_or(&zone);
    matches!(
        zone,
        "utc"
            | "uct"
            | "gmt"
            | "gmt0"
            | "gmt+0"
            | "gmt-0"
            | "zulu"
            | "universal"
            | "greenwich"
            | "z"
            | "0"
            | "+00"
            | "+00:00"
    ) || zone == "interval '0'"
}
