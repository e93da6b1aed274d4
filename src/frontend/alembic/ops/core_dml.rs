//! SQLAlchemy Core statements run on the migration's connection: `conn.execute(t.update()
//! .values(...))`, `op.execute(sa.delete(t).where(...))`, where `t = sa.table("name", ...)`.
//! SQLAlchemy compiles them to one UPDATE / DELETE / INSERT of that table, with a WHERE only
//! when `.where()` / `.filter()` / `.filter_by()` is in the chain.

use ruff_python_ast::{Expr, ExprCall};

use crate::model::OpKind;

use super::super::exprs::{as_call, callee_name};
use super::Walker;

/// Methods of a Core statement that add a WHERE clause.
const FILTERS: [&str; 3] = ["where", "filter", "filter_by"];

impl Walker<'_, '_> {
    /// The operation a Core DML statement performs, when `expr` builds one on a known table.
    pub(super) fn core_dml(&self, expr: &Expr) -> Option<OpKind> {
        // The method chain from the outermost call in: `.where(...)`, `.values(...)`, ...
        let mut outer: Vec<&str> = Vec::new();
        let mut call = as_call(expr)?;
        loop {
            let method = callee_name(call)?;
            if let Some((statement, table)) = self.dml_start(call, method) {
                let filtered = outer.iter().any(|m| FILTERS.contains(m));
                return Some(match statement {
                    "INSERT" => OpKind::RowsOnly {
                        copied_from: Vec::new(),
                    },
                    _ => OpKind::DataChange {
                        table,
                        statement,
                        filtered,
                        null_test: None,
                    },
                });
            }
            outer.push(method);
            let Expr::Attribute(attribute) = call.func.as_ref() else {
                return None;
            };
            call = as_call(&attribute.value)?;
        }
    }

    /// `t.update()` / `t.delete()` / `t.insert()`, or `sa.update(t)` / `delete(t)` /
    /// `insert(t)`, with `t` a table this module or body built with `sa.table(...)` /
    /// `sa.Table(...)`.
    fn dml_start(&self, call: &ExprCall, method: &str) -> Option<(&'static str, String)> {
        let statement = match method {
            "update" => "UPDATE",
            "delete" => "DELETE",
            "insert" => "INSERT",
            _ => return None,
        };
        let on_table = match call.func.as_ref() {
            Expr::Attribute(attribute) if call.arguments.is_empty() => {
                self.core_table(&attribute.value)
            }
            _ => call
                .arguments
                .args
                .first()
                .and_then(|table| self.core_table(table)),
        }?;
        Some((statement, on_table))
    }

    /// The name of the table `expr` holds: a local or module variable assigned
    /// `sa.table("name", ...)` / `sa.Table("name", metadata, ...)`.
    fn core_table(&self, expr: &Expr) -> Option<String> {
        let Expr::Name(name) = expr else {
            return None;
        };
        if let Some(table) = self.core_tables.get(name.id.as_str()) {
            return Some(table.clone());
        }
        let constant = self.reader.constants.get(name.id.as_str())?;
        table_call_name(self, constant)
    }

    /// Remembers `variable = sa.table("name", ...)`; any other value forgets it.
    pub(super) fn remember_core_table(&mut self, variable: &str, value: &Expr) {
        match table_call_name(self, value) {
            Some(table) => self.core_tables.insert(variable.to_string(), table),
            None => self.core_tables.remove(variable),
        };
    }
}

/// The table a `table("name", ...)` / `Table("name", ...)` call names, with its `schema=`.
fn table_call_name(walker: &Walker, expr: &Expr) -> Option<String> {
    let call = as_call(expr)?;
    if !matches!(callee_name(call), Some("table" | "Table")) {
        return None;
    }
    let name = walker.reader.string(call.arguments.args.first()?)?;
    let schema = call
        .arguments
        .find_keyword("schema")
        .and_then(|k| walker.reader.string(&k.value));
    Some(crate::frontend::python_models::in_schema(schema, name))
}
