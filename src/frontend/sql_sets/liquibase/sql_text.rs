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

/// `objectQuotingStrategy` of a changelog or changeset (`ObjectQuotingStrategy.java`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) enum Quoting {
    /// Names mixing cases quoted as written, reserved words quoted, the rest folded.
    #[default]
    Legacy,
    /// Every name quoted as written.
    All,
    /// Only reserved words quoted; every other name folded to lower case.
    OnlyReservedWords,
}

impl Quoting {
    pub(super) fn of(attribute: Option<&str>) -> Option<Quoting> {
        match attribute?.trim() {
            "LEGACY" => Some(Quoting::Legacy),
            "QUOTE_ALL_OBJECTS" => Some(Quoting::All),
            "QUOTE_ONLY_RESERVED_WORDS" => Some(Quoting::OnlyReservedWords),
            _ => None,
        }
    }
}

thread_local! {
    static QUOTING: std::cell::Cell<Quoting> = const { std::cell::Cell::new(Quoting::Legacy) };
}

/// Runs `write` with names written under `quoting` (the changeset being read's strategy).
pub(super) fn with_quoting<R>(quoting: Quoting, write: impl FnOnce() -> R) -> R {
    let before = QUOTING.with(|q| q.replace(quoting));
    let result = write();
    QUOTING.with(|q| q.set(before));
    result
}

/// A name as Liquibase writes it for PostgreSQL (`AbstractPostgresDatabase.correctObjectName`
/// and `escapeObjectName`), under the current quoting strategy: by default a name mixing cases
/// is quoted as written, any other is folded to lower case (and quoted where it is a reserved
/// word or not a plain identifier).
pub(super) fn name(raw: &str) -> String {
    let raw = raw.trim();
    let quote = crate::model::names::quote_identifier;
    let mixed = raw.chars().any(char::is_uppercase) && raw.chars().any(char::is_lowercase);
    let plain = raw
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && raw.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    let quoting = QUOTING.with(std::cell::Cell::get);
    if quoting == Quoting::All || !plain || (mixed && quoting == Quoting::Legacy) {
        return quote(raw);
    }
    let lower = raw.to_ascii_lowercase();
    if is_reserved(&lower) {
        quote(&lower)
    } else {
        lower
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

/// A Liquibase type as PostgreSQL's (`datatype/core/*Type.java`: each type's aliases and what it
/// becomes on PostgreSQL, types converted as `convertDataTypes` does by default): the generic
/// names Liquibase translates, anything else as written. A `serial` type is an integer there
/// (its sequence only comes with `autoIncrement`, as an identity).
pub(super) fn data_type(raw: &str) -> String {
    let raw = raw.trim();
    let raw = raw
        .strip_prefix("java.sql.Types.")
        .or_else(|| raw.strip_prefix("java.lang."))
        .or_else(|| raw.strip_prefix("java.util."))
        .or_else(|| raw.strip_prefix("java.math."))
        .unwrap_or(raw);
    let (base, rest) = match raw.find('(') {
        Some(at) => (&raw[..at], &raw[at..]),
        None => (raw, ""),
    };
    let base = base.trim().to_ascii_lowercase();
    let translated = match base.as_str() {
        "int" | "integer" | "int4" | "serial" | "serial4" => "INTEGER",
        "bigint" | "int8" | "integer8" | "bigserial" | "serial8" | "long" | "biginteger" => {
            "BIGINT"
        }
        "smallint" | "int2" | "smallserial" | "tinyint" => "SMALLINT",
        "datetime" | "smalldatetime" | "datetime2" => "TIMESTAMP WITHOUT TIME ZONE",
        "clob" | "text" | "longtext" | "mediumtext" | "tinytext" | "longvarchar" | "nclob"
        | "longnvarchar" | "ntext" | "long varchar" | "long nvarchar" => "TEXT",
        "blob" | "longblob" | "mediumblob" | "tinyblob" | "varbinary" | "binary" | "image"
        | "longvarbinary" | "long binary" | "long varbinary" => "BYTEA",
        "double" => "DOUBLE PRECISION",
        "uuid" | "uniqueidentifier" => "UUID",
        "boolean" | "bool" => "BOOLEAN",
        "currency" | "money" | "smallmoney" => "DECIMAL",
        "nvarchar" | "nvarchar2" => return format!("VARCHAR{rest}"),
        "nchar" | "nchar2" => return format!("CHAR{rest}"),
        "number" | "numeric" | "bigdecimal" => return format!("NUMERIC{rest}"),
        _ => return raw.to_string(),
    };
    translated.to_string()
}
