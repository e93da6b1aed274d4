//! Column types and default expressions, normalised to PostgreSQL's own names.

use std::fmt;

/// A column type as PostgreSQL names it (`character varying`, `timestamp with time zone`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnType {
    pub name: String,
    /// Type modifiers: length, precision and scale.
    pub modifiers: Vec<u32>,
    pub array: bool,
}

impl ColumnType {
    /// A type the migration computes or takes from elsewhere (a helper's parameter): its name
    /// is not known before it runs.
    pub fn unknown() -> Self {
        ColumnType::normalized("unknown", Vec::new())
    }

    pub fn is_unknown(&self) -> bool {
        *self == ColumnType::unknown()
    }

    /// Normalises a type name from SQL or SQLAlchemy to PostgreSQL's canonical one.
    pub fn normalized(name: &str, modifiers: Vec<u32>) -> Self {
        let written = name.trim();
        let (written, array) = match written.strip_suffix("[]") {
            Some(base) => (base.trim(), true),
            None => (written, false),
        };
        let base = written.to_ascii_lowercase();
        let canonical = match base.as_str() {
            "varchar" | "character varying" | "string" | "unicode" | "autostring" | "nvarchar" => {
                "character varying"
            }
            "char" | "character" | "nchar" | "bpchar" => "character",
            "text" | "unicodetext" | "clob" => "text",
            "int" | "integer" | "int4" => "integer",
            "bigint" | "biginteger" | "int8" => "bigint",
            "smallint" | "smallinteger" | "int2" => "smallint",
            "serial" | "serial4" => "serial",
            "bigserial" | "serial8" => "bigserial",
            "smallserial" | "serial2" => "smallserial",
            "numeric" | "decimal" => "numeric",
            // `float(p)` is `real` up to 24 binary digits, `double precision` above; the
            // precision is no modifier of the type PostgreSQL keeps (SQLAlchemy: `Float(53)`).
            "float" if modifiers.first().is_some_and(|&p| p <= 24) => "real",
            "float" | "double" | "double precision" | "float8" | "double_precision" => {
                "double precision"
            }
            "real" | "float4" => "real",
            "bool" | "boolean" => "boolean",
            "timestamp" | "datetime" | "timestamp without time zone" => {
                "timestamp without time zone"
            }
            "timestamptz" | "timestamp with time zone" => "timestamp with time zone",
            "time" | "time without time zone" => "time without time zone",
            "timetz" | "time with time zone" => "time with time zone",
            "date" => "date",
            "interval" => "interval",
            "json" => "json",
            "jsonb" => "jsonb",
            "uuid" => "uuid",
            "bytea" | "largebinary" | "binary" | "varbinary" | "blob" => "bytea",
            // A type of the schema's own (an enum, a domain): a quoted name keeps its case, as
            // PostgreSQL keeps it.
            _ if written.contains('"') => written,
            other => other,
        };
        let modifiers = match canonical {
            "real" | "double precision" => Vec::new(),
            _ => modifiers,
        };
        ColumnType {
            name: canonical.to_string(),
            modifiers,
            array,
        }
    }

    pub fn is(&self, name: &str) -> bool {
        self.name == name
    }

    /// The type the column really has: `serial` types are their integer types with a
    /// sequence-drawn default, which PostgreSQL records as `integer`, `bigint` or `smallint`.
    pub fn stored(&self) -> ColumnType {
        let name = match self.name.as_str() {
            "serial" => "integer",
            "bigserial" => "bigint",
            "smallserial" => "smallint",
            other => other,
        };
        ColumnType {
            name: name.to_string(),
            ..self.clone()
        }
    }

    pub fn is_serial(&self) -> bool {
        matches!(self.name.as_str(), "serial" | "bigserial" | "smallserial")
    }

    pub fn is_integer(&self) -> bool {
        matches!(
            self.name.as_str(),
            "integer" | "smallint" | "serial" | "smallserial"
        )
    }
}

impl fmt::Display for ColumnType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        if !self.modifiers.is_empty() {
            let mods: Vec<String> = self.modifiers.iter().map(u32::to_string).collect();
            write!(f, "({})", mods.join(","))?;
        }
        if self.array {
            f.write_str("[]")?;
        }
        Ok(())
    }
}

/// How PostgreSQL evaluates a default when a column is added to existing rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Volatility {
    /// A literal or a stable expression: evaluated once, stored in the catalog (PostgreSQL ≥ 11).
    Constant,
    /// Evaluated per row (`random()`, `gen_random_uuid()`, `nextval(...)`, ...): a table rewrite.
    Volatile,
    /// Calls `function`, which PostgreSQL does not ship as immutable or stable (the project's
    /// own, an extension's): a rewrite if it is VOLATILE, which only its definition tells.
    Unknown { function: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefaultExpr {
    /// As written, without the quoting of the host language.
    pub text: String,
    pub volatility: Volatility,
}

/// Functions PostgreSQL marks VOLATILE that appear in column defaults.
const VOLATILE_FUNCTIONS: &[&str] = &[
    "gen_random_uuid",
    "uuid_generate_v1",
    "uuid_generate_v1mc",
    "uuid_generate_v4",
    "uuidv4",
    "uuidv7",
    "random",
    "clock_timestamp",
    "timeofday",
    "nextval",
    "txid_current",
    "setseed",
];

impl DefaultExpr {
    /// Classifies a default from its SQL text. `now()` and `CURRENT_TIMESTAMP` are STABLE:
    /// PostgreSQL evaluates them once when the column is added.
    pub fn from_sql(text: &str) -> Self {
        let calls = super::function_calls::calls(text);
        let bare = |call: &str| call.rsplit('.').next().unwrap_or_default().to_string();
        let unknown = calls
            .iter()
            .find(|call| !super::function_calls::is_nonvolatile_builtin(call));
        let volatility = if calls
            .iter()
            .any(|call| VOLATILE_FUNCTIONS.contains(&bare(call).as_str()))
        {
            Volatility::Volatile
        } else if let Some(function) = unknown {
            Volatility::Unknown {
                function: function.clone(),
            }
        } else {
            Volatility::Constant
        };
        DefaultExpr {
            text: text.trim().to_string(),
            volatility,
        }
    }

    /// A default given as a Python expression the frontend does not translate (a project
    /// helper, an SQLAlchemy construct): volatile only when it names a volatile function, since
    /// its calls are Python's, not SQL's.
    pub fn from_python(text: &str) -> Self {
        let lower = text.to_ascii_lowercase();
        let volatile = VOLATILE_FUNCTIONS.iter().any(|function| {
            lower.match_indices(function).any(|(at, _)| {
                let before = lower[..at].chars().next_back();
                let after = lower[at + function.len()..].trim_start().chars().next();
                !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') && after == Some('(')
            })
        });
        DefaultExpr {
            text: text.trim().to_string(),
            volatility: if volatile {
                Volatility::Volatile
            } else {
                Volatility::Constant
            },
        }
    }

    pub fn is_volatile(&self) -> bool {
        self.volatility == Volatility::Volatile
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_precision_picks_real_or_double_and_is_no_modifier() {
        let double = ColumnType::normalized("double precision", Vec::new());
        assert_eq!(ColumnType::normalized("FLOAT", vec![53]), double);
        assert_eq!(ColumnType::normalized("float", Vec::new()), double);
        assert_eq!(
            ColumnType::normalized("Float", vec![24]),
            ColumnType::normalized("real", Vec::new())
        );
    }

    #[test]
    fn volatile_defaults_are_recognised_by_function_call() {
        assert!(DefaultExpr::from_sql("gen_random_uuid()").is_volatile());
        assert!(DefaultExpr::from_sql("nextval('users_id_seq'::regclass)").is_volatile());
        assert!(!DefaultExpr::from_sql("now()").is_volatile());
        assert!(!DefaultExpr::from_sql("'random'").is_volatile());
        assert!(!DefaultExpr::from_sql("my_random()").is_volatile());
        assert_eq!(
            DefaultExpr::from_sql("my_random()").volatility,
            Volatility::Unknown {
                function: "my_random".into()
            }
        );
        assert_eq!(
            DefaultExpr::from_sql("statement_timestamp()").volatility,
            Volatility::Constant
        );
        assert_eq!(
            DefaultExpr::from_sql("timezone('utc', now())").volatility,
            Volatility::Constant
        );
    }

    #[test]
    fn type_names_are_normalised() {
        assert_eq!(
            ColumnType::normalized("VARCHAR", vec![20]).to_string(),
            "character varying(20)"
        );
        assert_eq!(
            ColumnType::normalized("DateTime", vec![]).name,
            "timestamp without time zone"
        );
        assert_eq!(
            ColumnType::normalized("int4[]", vec![]).to_string(),
            "integer[]"
        );
    }
}
