//! The tables and columns an application's SQLAlchemy models map, read from their source: a
//! declarative class (`__tablename__`, `Column(...)` / `mapped_column(...)` attributes, the
//! first string argument naming the column when given), a SQLModel class (`table=True`), a
//! `Table("name", metadata, Column("col", ...))` object. A class with a base other than the
//! declarative base it uses, or a table read from the database (`autoload_with`), is marked
//! incomplete: its columns may come from elsewhere.

use ruff_python_ast::{Expr, ExprCall, Stmt, StmtClassDef};
use ruff_text_size::Ranged;

use crate::model::base_models::MappedTable;

/// Column constructors: `sa.Column`, `db.Column`, `mapped_column`, SQLModel's `Field`.
const COLUMNS: &[&str] = &["Column", "mapped_column"];
/// Names a declarative base class goes by (`Base`, `db.Model`, `SQLModel`, `DeclarativeBase`).
const BASES: &[&str] = &["Base", "Model", "SQLModel", "DeclarativeBase", "BaseModel"];

/// The tables the file `path` (its text `source`) maps.
pub fn mapped_tables(path: &str, source: &str) -> Vec<MappedTable> {
    let Ok(parsed) = ruff_python_parser::parse_module(source) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    let place = |node: &dyn Ranged| {
        let line = source[..node.range().start().to_usize()]
            .matches('\n')
            .count()
            + 1;
        format!("{path}:{line}")
    };
    walk(parsed.suite(), &mut |stmt| match stmt {
        Stmt::ClassDef(class) => {
            if let Some(table) = class_table(class, &place) {
                found.push(table);
            }
        }
        Stmt::Assign(assign) => {
            if let Some(table) = table_object(&assign.value, &place) {
                found.push(table);
            }
        }
        Stmt::Expr(expr) => {
            if let Some(table) = table_object(&expr.value, &place) {
                found.push(table);
            }
        }
        _ => {}
    });
    found
}

/// Every statement of a suite, class and function bodies included.
fn walk(suite: &[Stmt], visit: &mut dyn FnMut(&Stmt)) {
    for stmt in suite {
        visit(stmt);
        match stmt {
            Stmt::ClassDef(class) => walk(&class.body, visit),
            Stmt::FunctionDef(function) => walk(&function.body, visit),
            Stmt::If(branch) => {
                walk(&branch.body, visit);
                for clause in &branch.elif_else_clauses {
                    walk(&clause.body, visit);
                }
            }
            _ => {}
        }
    }
}

fn last_name(expr: &Expr) -> Option<&str> {
    match expr {
        Expr::Name(name) => Some(name.id.as_str()),
        Expr::Attribute(attribute) => Some(attribute.attr.as_str()),
        Expr::Call(call) => last_name(&call.func),
        Expr::Subscript(subscript) => last_name(&subscript.value),
        _ => None,
    }
}

fn string(expr: &Expr) -> Option<String> {
    match expr {
        Expr::StringLiteral(literal) => Some(literal.value.to_str().to_string()),
        _ => None,
    }
}

fn class_table(class: &StmtClassDef, place: &dyn Fn(&dyn Ranged) -> String) -> Option<MappedTable> {
    let arguments = class.arguments.as_deref();
    let sqlmodel_table = arguments.is_some_and(|a| {
        a.find_keyword("table")
            .is_some_and(|k| matches!(k.value, Expr::BooleanLiteral(ref b) if b.value))
    });
    let mut table = None;
    let mut schema = None;
    let mut columns = Vec::new();
    let mut reflected = false;
    for stmt in &class.body {
        match stmt {
            Stmt::Assign(assign) => {
                let [Expr::Name(target)] = assign.targets.as_slice() else {
                    continue;
                };
                match target.id.as_str() {
                    "__tablename__" => table = string(&assign.value),
                    "__table__" => reflected = true,
                    "__table_args__" => schema = table_args_schema(&assign.value, &string),
                    attribute => {
                        if let Some(name) = column_name(attribute, &assign.value) {
                            columns.push(name);
                        }
                    }
                }
            }
            Stmt::AnnAssign(assign) => {
                let Expr::Name(target) = assign.target.as_ref() else {
                    continue;
                };
                let attribute = target.id.as_str();
                match assign.value.as_deref() {
                    Some(value) => {
                        if let Some(name) = column_name(attribute, value) {
                            columns.push(name);
                        } else if sqlmodel_table && !is_relationship(value) {
                            columns.push(attribute.to_string());
                        }
                    }
                    // `email: Mapped[str]`, or a SQLModel field without a default.
                    None => {
                        let mapped = last_name(&assign.annotation) == Some("Mapped");
                        if (mapped || sqlmodel_table) && !attribute.starts_with('_') {
                            columns.push(attribute.to_string());
                        }
                    }
                }
            }
            _ => {}
        }
    }
    let table = match table {
        Some(table) => table,
        // SQLModel names a table after its class when nothing else does.
        None if sqlmodel_table => class.name.to_ascii_lowercase(),
        None => return None,
    };
    let known_bases = arguments.is_none_or(|a| {
        a.args
            .iter()
            .all(|base| last_name(base).is_some_and(|name| BASES.contains(&name)))
    });
    Some(MappedTable {
        table: in_schema(schema, table),
        columns,
        complete: known_bases && !reflected,
        place: place(class),
    })
}

/// The column an attribute maps: `email = Column(String)` is `email`, `email =
/// Column("email_address", String)` is `email_address`; `None` for anything else.
fn column_name(attribute: &str, value: &Expr) -> Option<String> {
    let Expr::Call(call) = value else { return None };
    let constructor = last_name(&call.func)?;
    if !COLUMNS.contains(&constructor) && constructor != "Field" {
        return None;
    }
    // SQLModel's `Field(...)` maps the attribute's own name.
    if constructor == "Field" {
        return Some(attribute.to_string());
    }
    Some(
        call.arguments
            .args
            .first()
            .and_then(string)
            .unwrap_or_else(|| attribute.to_string()),
    )
}

fn is_relationship(value: &Expr) -> bool {
    matches!(last_name(value), Some("Relationship" | "relationship"))
}

/// `{"schema": "audit"}` or a tuple ending with it, its strings read by `string`.
pub fn table_args_schema(value: &Expr, string: &dyn Fn(&Expr) -> Option<String>) -> Option<String> {
    let dict = match value {
        Expr::Dict(dict) => dict,
        Expr::Tuple(tuple) => match tuple.elts.last()? {
            Expr::Dict(dict) => dict,
            _ => return None,
        },
        _ => return None,
    };
    dict.items.iter().find_map(|item| {
        (string(item.key.as_ref()?)? == "schema")
            .then(|| string(&item.value))
            .flatten()
    })
}

/// `table` in `schema`, the default schema left off as everywhere in the model.
pub fn in_schema(schema: Option<String>, table: String) -> String {
    match schema.filter(|s| s != crate::model::names::DEFAULT_SCHEMA) {
        Some(schema) => format!("{schema}.{table}"),
        None => table,
    }
}

/// `Table("name", metadata, Column("col", ...), ..., schema="s")`.
fn table_object(value: &Expr, place: &dyn Fn(&dyn Ranged) -> String) -> Option<MappedTable> {
    let Expr::Call(call) = value else { return None };
    if last_name(&call.func) != Some("Table") {
        return None;
    }
    let table = string(call.arguments.args.first()?)?;
    let columns = call
        .arguments
        .args
        .iter()
        .skip(1)
        .filter_map(|arg| match arg {
            Expr::Call(column) if is_column(column) => {
                column.arguments.args.first().and_then(string)
            }
            _ => None,
        })
        .collect();
    let schema = call
        .arguments
        .find_keyword("schema")
        .and_then(|k| string(&k.value));
    let reflected = call.arguments.find_keyword("autoload_with").is_some()
        || call.arguments.find_keyword("autoload").is_some();
    Some(MappedTable {
        table: in_schema(schema, table),
        columns,
        complete: !reflected,
        place: place(value),
    })
}

fn is_column(call: &ExprCall) -> bool {
    last_name(&call.func) == Some("Column")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declarative_sqlmodel_and_table_objects_are_read() {
        let source = r#"
import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column
from sqlmodel import SQLModel, Field, Relationship

class User(Base):
    __tablename__ = "users"
    id = sa.Column(sa.Integer, primary_key=True)
    email = sa.Column("email_address", sa.String(100))
    name: Mapped[str] = mapped_column(sa.Text)
    nickname: Mapped[str]

class Team(TimestampMixin, db.Model):
    __tablename__ = "teams"
    id = db.Column(db.Integer, primary_key=True)

class Task(SQLModel, table=True):
    id: int = Field(primary_key=True)
    title: str
    owner: "User" = Relationship()

events = sa.Table("events", metadata, sa.Column("id", sa.Integer), sa.Column("kind", sa.Text), schema="audit")
"#;
        let tables = mapped_tables("app/models.py", source);
        let summary: Vec<(&str, Vec<&str>, bool)> = tables
            .iter()
            .map(|t| {
                (
                    t.table.as_str(),
                    t.columns.iter().map(String::as_str).collect(),
                    t.complete,
                )
            })
            .collect();
        assert_eq!(
            summary,
            vec![
                (
                    "users",
                    vec!["id", "email_address", "name", "nickname"],
                    true
                ),
                ("teams", vec!["id"], false),
                ("task", vec!["id", "title"], true),
                ("audit.events", vec!["id", "kind"], true),
            ]
        );
        assert_eq!(tables[0].place, "app/models.py:6");
    }
}
