//! Branches on the database a revision runs against. Projects that support several databases
//! write `if op.get_bind().dialect.name == "sqlite":`, `if url.startswith("mysql"):` or
//! `if is_postgresql():`; only what runs on PostgreSQL belongs in the model.

use ruff_python_ast::{BoolOp, CmpOp, Expr, UnaryOp};

use super::exprs::{Reader, callee_name};

/// Whether a database name (or a URL's start) is PostgreSQL: `None` when it names no database.
fn is_postgres(name: &str) -> Option<bool> {
    let scheme = name.split([':', '+']).next().unwrap_or_default();
    crate::discover::names_postgres(scheme)
}

/// An expression that reads the dialect's name: `….dialect.name`, `….engine.name`,
/// `….get_dialect().name`, a variable called `dialect` / `dialect_name` / `engine_name`.
fn names_dialect(expr: &Expr) -> bool {
    match expr {
        Expr::Attribute(attr) if attr.attr.as_str() == "name" => match attr.value.as_ref() {
            Expr::Attribute(inner) => matches!(inner.attr.as_str(), "dialect" | "engine"),
            Expr::Name(name) => name.id.as_str().contains("dialect"),
            Expr::Call(call) => callee_name(call).is_some_and(|n| n.contains("dialect")),
            _ => false,
        },
        Expr::Attribute(attr) => attr.attr.as_str() == "dialect_name",
        Expr::Name(name) => matches!(
            name.id.as_str(),
            "dialect" | "dialect_name" | "engine_name" | "db_type"
        ),
        _ => false,
    }
}

/// Whether a SQLAlchemy dialect class is PostgreSQL's: `PGDialect`, `PGDialect_psycopg2`,
/// `postgresql.dialect` → yes; `MySQLDialect`, `SQLiteDialect_pysqlite` → no; `None` for a
/// class that names no database.
fn dialect_class(expr: &Expr) -> Option<bool> {
    let name = match expr {
        Expr::Name(name) => name.id.as_str(),
        Expr::Attribute(attr) if attr.attr.as_str() == "dialect" => {
            return match attr.value.as_ref() {
                Expr::Name(module) => is_postgres(module.id.as_str()),
                Expr::Attribute(module) => is_postgres(module.attr.as_str()),
                _ => None,
            };
        }
        Expr::Attribute(attr) => attr.attr.as_str(),
        _ => return None,
    };
    let (database, _) = name.split_once("Dialect")?;
    is_postgres(&database.to_ascii_lowercase())
}

/// Does `test` hold when the revision runs on PostgreSQL? `None` when it is not about the
/// database, or cannot be told.
pub fn holds_on_postgres(test: &Expr, reader: &Reader) -> Option<bool> {
    match test {
        Expr::UnaryOp(unary) if unary.op == UnaryOp::Not => {
            holds_on_postgres(&unary.operand, reader).map(|b| !b)
        }
        Expr::BoolOp(bool_op) => {
            let values: Vec<Option<bool>> = bool_op
                .values
                .iter()
                .map(|v| holds_on_postgres(v, reader))
                .collect();
            match bool_op.op {
                BoolOp::And if values.contains(&Some(false)) => Some(false),
                BoolOp::And if values.iter().all(|v| *v == Some(true)) => Some(true),
                BoolOp::Or if values.contains(&Some(true)) => Some(true),
                BoolOp::Or if values.iter().all(|v| *v == Some(false)) => Some(false),
                _ => None,
            }
        }
        Expr::Compare(compare) if compare.ops.len() == 1 => {
            let (left, right) = (compare.left.as_ref(), &compare.comparators[0]);
            let value = if names_dialect(left) {
                right
            } else if names_dialect(right) {
                left
            } else {
                return None;
            };
            let names: Vec<String> = match value {
                Expr::Tuple(_) | Expr::List(_) | Expr::Set(_) => reader.strings(value)?,
                other => vec![reader.string(other)?],
            };
            let any_postgres = names.iter().any(|n| is_postgres(n) == Some(true));
            let all_known = names.iter().all(|n| is_postgres(n).is_some());
            if !any_postgres && !all_known {
                return None;
            }
            match compare.ops[0] {
                CmpOp::Eq | CmpOp::In => Some(any_postgres),
                CmpOp::NotEq | CmpOp::NotIn => Some(!any_postgres),
                _ => None,
            }
        }
        Expr::Call(call) => {
            let name = callee_name(call)?;
            // `isinstance(bind.dialect, MySQLDialect)`, `isinstance(d, (PGDialect, SQLiteDialect))`
            if name == "isinstance" {
                let classes = match call.arguments.args.get(1)? {
                    Expr::Tuple(tuple) => tuple.elts.iter().collect(),
                    one => vec![one],
                };
                let databases: Vec<Option<bool>> = classes.into_iter().map(dialect_class).collect();
                return if databases.contains(&Some(true)) {
                    Some(true)
                } else if databases.iter().all(|d| *d == Some(false)) {
                    Some(false)
                } else {
                    None
                };
            }
            // `url.startswith("mysql")`, `str(bind.engine.url).startswith("postgres")`
            if name == "startswith" {
                let prefix = reader.string(call.arguments.args.first()?)?;
                return is_postgres(&prefix);
            }
            // `is_sqlite()`, `context.is_postgresql(bind)`, `_is_mysql()`
            let database = name.trim_start_matches('_').strip_prefix("is_")?;
            is_postgres(database)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn judge(source: &str) -> Option<bool> {
        let parsed = ruff_python_parser::parse_expression(source).unwrap();
        let constants = HashMap::new();
        let reader = Reader::new(source, &constants);
        holds_on_postgres(parsed.expr(), &reader)
    }

    #[test]
    fn dialect_classes_in_isinstance_tests() {
        assert_eq!(
            judge("isinstance(op.get_bind().dialect, MySQLDialect)"),
            Some(false)
        );
        assert_eq!(
            judge("isinstance(c.connection.engine.dialect, PGDialect)"),
            Some(true)
        );
        assert_eq!(judge("isinstance(d, postgresql.dialect)"), Some(true));
        assert_eq!(
            judge("isinstance(d, (MySQLDialect, SQLiteDialect_pysqlite))"),
            Some(false)
        );
        assert_eq!(judge("not isinstance(d, PGDialect_psycopg2)"), Some(false));
        assert_eq!(judge("isinstance(d, DefaultDialect)"), None);
    }

    #[test]
    fn dialect_tests_as_projects_write_them() {
        assert_eq!(judge("op.get_bind().dialect.name == 'sqlite'"), Some(false));
        assert_eq!(judge("bind.dialect.name != 'postgresql'"), Some(false));
        assert_eq!(
            judge("context.get_context().dialect.name in ('postgresql', 'mysql')"),
            Some(true)
        );
        assert_eq!(judge("url.startswith('mysql')"), Some(false));
        assert_eq!(
            judge("str(bind.engine.url).startswith('postgres')"),
            Some(true)
        );
        assert_eq!(judge("is_sqlite()"), Some(false));
        assert_eq!(judge("not is_postgresql(bind)"), Some(false));
        assert_eq!(
            judge("bind.engine.name == 'postgresql' and has_column"),
            None
        );
        assert_eq!(
            judge("bind.engine.name == 'sqlite' and has_column"),
            Some(false)
        );
        assert_eq!(judge("has_column('users', 'email')"), None);
        assert_eq!(judge("name.startswith('tmp_')"), None);
    }
}
