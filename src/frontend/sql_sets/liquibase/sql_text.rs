//! Names, literals and text of Liquibase XML as Liquibase writes them into PostgreSQL's SQL.

use roxmltree::Node;

pub(super) fn text_of(node: Node) -> String {
    node.children()
        .filter(|c| c.is_text())
        .filter_map(|c| c.text())
        .collect()
}

pub(super) fn flag(value: Option<String>) -> bool {
    value.is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
}

pub(super) fn literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// A name as Liquibase writes it for PostgreSQL: a name mixing cases is quoted as written, any
/// other is folded to lower case (and quoted where it is not a plain identifier).
pub(super) fn name(raw: &str) -> String {
    let raw = raw.trim();
    let mixed = raw.chars().any(char::is_uppercase) && raw.chars().any(char::is_lowercase);
    let plain = raw
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && raw.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if mixed || !plain {
        crate::model::names::quote_identifier(raw)
    } else {
        let lower = raw.to_ascii_lowercase();
        if is_reserved(&lower) {
            crate::model::names::quote_identifier(&lower)
        } else {
            lower
        }
    }
}

pub(super) fn qualified(schema: Option<String>, object: &str) -> String {
    match schema.filter(|s| !s.trim().is_empty()) {
        Some(schema) => format!("{}.{}", name(&schema), name(object)),
        None => name(object),
    }
}

/// A comma-separated list of column names.
pub(super) fn names(list: &str) -> String {
    list.split(',').map(name).collect::<Vec<_>>().join(", ")
}

/// Words PostgreSQL reserves, which Liquibase quotes when they name an object.
fn is_reserved(word: &str) -> bool {
    const RESERVED: &[&str] = &[
        "all",
        "analyse",
        "analyze",
        "and",
        "any",
        "array",
        "as",
        "asc",
        "asymmetric",
        "both",
        "case",
        "cast",
        "check",
        "collate",
        "column",
        "constraint",
        "create",
        "current_catalog",
        "current_date",
        "current_role",
        "current_time",
        "current_timestamp",
        "current_user",
        "default",
        "deferrable",
        "desc",
        "distinct",
        "do",
        "else",
        "end",
        "except",
        "false",
        "fetch",
        "for",
        "foreign",
        "from",
        "grant",
        "group",
        "having",
        "in",
        "initially",
        "intersect",
        "into",
        "lateral",
        "leading",
        "limit",
        "localtime",
        "localtimestamp",
        "not",
        "null",
        "offset",
        "on",
        "only",
        "or",
        "order",
        "placing",
        "primary",
        "references",
        "returning",
        "select",
        "session_user",
        "some",
        "symmetric",
        "table",
        "then",
        "to",
        "trailing",
        "true",
        "union",
        "unique",
        "user",
        "using",
        "variadic",
        "when",
        "where",
        "window",
        "with",
    ];
    RESERVED.contains(&word)
}

/// A Liquibase type as PostgreSQL's (`datatype/core`): the generic names Liquibase translates,
/// anything else as written.
pub(super) fn data_type(raw: &str, auto_increment: bool) -> String {
    let raw = raw.trim();
    let raw = raw.strip_prefix("java.sql.Types.").unwrap_or(raw);
    let (base, rest) = match raw.find('(') {
        Some(at) => (&raw[..at], &raw[at..]),
        None => (raw, ""),
    };
    match base.trim().to_ascii_lowercase().as_str() {
        "datetime" => "TIMESTAMP WITHOUT TIME ZONE".to_string(),
        "clob" | "longtext" | "mediumtext" | "longvarchar" => "TEXT".to_string(),
        "blob" | "longblob" | "varbinary" | "binary" | "longvarbinary" => "BYTEA".to_string(),
        "tinyint" => "SMALLINT".to_string(),
        "double" => "DOUBLE PRECISION".to_string(),
        "nvarchar" => format!("VARCHAR{rest}"),
        "nchar" => format!("CHAR{rest}"),
        "currency" => "DECIMAL".to_string(),
        "number" => format!("NUMERIC{rest}"),
        "int" | "integer" | "int4" if auto_increment => "INTEGER".to_string(),
        "bigint" | "int8" if auto_increment => "BIGINT".to_string(),
        _ => raw.to_string(),
    }
}
