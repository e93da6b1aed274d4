//! `op.execute(...)` and `bind.execute(...)`: SQL text goes through the SQL frontend.

use ruff_python_ast::{Expr, ExprCall};
use ruff_text_size::Ranged;

use crate::frontend::sql::{self, Wrapping};
use crate::model::{Op, OpKind, Span};

use super::super::exprs::{as_call, callee_name, dotted};
use super::super::strings::StringMap;
use super::Walker;

impl Walker<'_, '_> {
    /// `op.execute(...)`, `bind.execute(...)`: SQL text goes through the SQL frontend.
    pub(super) fn execute(&mut self, call: &ExprCall) {
        let Some(argument) = call.arguments.find_argument_value("sqltext", 0) else {
            return;
        };
        let literal = self.sql_literal(argument);
        match literal {
            Some(literal) => {
                let map = StringMap::new(self.reader.source, &literal);
                let wrapping = if !self.outside_transaction() {
                    Wrapping::Always
                } else {
                    Wrapping::None
                };
                // Bound parameters (`:name`, `%s`, `%(name)s`) are values to the SQL parser.
                let text = super::super::strings::neutral_placeholders(literal.value.to_str());
                let sql_ops = sql::lower_sql(&text, self.file, &map, wrapping);
                self.extend_sql(sql_ops);
            }
            // An f-string of constants and literal loop values: its text is known, though not
            // where each character sits in the file; findings point at the f-string.
            None if let Some(text) = self.evaluated_sql(argument) => {
                let start = argument.range().start().to_usize();
                let wrapping = if !self.outside_transaction() {
                    Wrapping::Always
                } else {
                    Wrapping::None
                };
                let text = super::super::strings::neutral_placeholders(&text).into_owned();
                let sql_ops = sql::lower_sql(&text, self.file, &sql::Shifted(start), wrapping);
                let pinned = sql_ops.into_iter().map(|mut op| {
                    op.span = Span::new(self.file, start..start);
                    op
                });
                self.extend_sql(pinned.collect());
            }
            None => {
                let span = self.span(call);
                match as_call(argument).and_then(callee_name) {
                    Some("CreateSequence" | "DropSequence") => {
                        let name = as_call(argument)
                            .and_then(|c| c.arguments.args.first())
                            .and_then(as_call)
                            .and_then(|c| c.arguments.args.first())
                            .and_then(|e| self.reader.string(e));
                        if let Some(name) = name {
                            let kind = if as_call(argument).and_then(callee_name)
                                == Some("CreateSequence")
                            {
                                OpKind::CreateSequence { name }
                            } else {
                                OpKind::DropSequence { name }
                            };
                            self.push(kind, span);
                        }
                    }
                    _ if let Some(kind) = self.core_dml(argument) => self.push(kind, span),
                    _ if is_runtime_string(argument) => self.push(OpKind::DynamicSql, span),
                    _ => {}
                }
            }
        }
    }

    /// The string literal holding SQL: direct, in `sa.text(...)`, or a module constant.
    /// Adds the operations of one `op.execute`, following explicit BEGIN / COMMIT across calls:
    /// outside Alembic's transaction (an autocommit block, after an explicit COMMIT) a BEGIN
    /// opens a transaction block the later statements run in until a COMMIT closes it.
    fn extend_sql(&mut self, ops: Vec<Op>) {
        for mut op in ops {
            let outside = self.outside_transaction();
            if outside {
                op.in_transaction = self.explicit_transaction;
            }
            match op.kind {
                OpKind::BeginTransaction => self.explicit_transaction = true,
                OpKind::CommitTransaction if outside => self.explicit_transaction = false,
                OpKind::CommitTransaction => self.left_transaction = true,
                _ => {}
            }
            op.edit = self.edit.clone();
            self.ops.push(op);
        }
    }

    /// The text of SQL given as an f-string (directly or in `sa.text(...)`) whose placeholders
    /// are all known.
    fn evaluated_sql(&self, expr: &Expr) -> Option<String> {
        match expr {
            Expr::FString(_) => self.reader.string(expr),
            Expr::Call(call) if matches!(callee_name(call), Some("text")) => {
                self.evaluated_sql(call.arguments.args.first()?)
            }
            _ => None,
        }
    }

    /// The string literal holding a statement's SQL: written in the call, wrapped in
    /// `sa.text(...)`, or held by a module constant or a local variable.
    pub(super) fn sql_literal(&self, expr: &Expr) -> Option<ruff_python_ast::ExprStringLiteral> {
        match expr {
            Expr::StringLiteral(literal) => Some(literal.clone()),
            Expr::Call(call) if matches!(callee_name(call), Some("text")) => {
                self.sql_literal(call.arguments.args.first()?)
            }
            Expr::Name(name) => match self.reader.constants.get(name.id.as_str()) {
                Some(Expr::StringLiteral(literal)) => Some(literal.clone()),
                _ => self.sql_locals.get(name.id.as_str()).cloned(),
            },
            _ => None,
        }
    }
}

/// An argument that builds its SQL text at run time.
fn is_runtime_string(expr: &Expr) -> bool {
    match expr {
        Expr::FString(_) | Expr::BinOp(_) | Expr::Name(_) | Expr::Subscript(_) => true,
        Expr::Call(call) => {
            let callee = dotted(&call.func).unwrap_or_default();
            callee.ends_with(".format")
                || callee.ends_with(".join")
                || callee.ends_with("text")
                    && call.arguments.args.first().is_some_and(is_runtime_string)
        }
        _ => false,
    }
}
