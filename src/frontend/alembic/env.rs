//! What env.py says about how revisions run: transactions, lock timeouts, and the naming
//! convention of its `target_metadata`.

use ruff_python_ast::visitor::{Visitor, walk_expr, walk_stmt};
use ruff_python_ast::{Expr, Stmt};

use crate::model::{AlembicEnv, FileId};

use super::exprs::{callee_name, is_false};

struct EnvScan {
    transaction_per_migration: bool,
    sets_lock_timeout: bool,
    reads_flask_app: bool,
    makes_async_engine: bool,
    begins_own_transaction: bool,
}

/// What env.py calls to make an async engine.
const ASYNC_ENGINE_MAKERS: [&str; 2] = ["create_async_engine", "async_engine_from_config"];

impl<'a> Visitor<'a> for EnvScan {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        // `from flask import current_app`, as Flask-Migrate's template writes it.
        if let Stmt::ImportFrom(import) = stmt
            && import
                .module
                .as_ref()
                .is_some_and(|m| m.as_str() == "flask")
            && import
                .names
                .iter()
                .any(|a| a.name.as_str() == "current_app")
        {
            self.reads_flask_app = true;
        }
        walk_stmt(self, stmt);
    }

    // A non-literal value (a setting read at run time) is taken as set: only `False` or no
    // keyword at all mean one transaction for the whole run.
    fn visit_expr(&mut self, expr: &'a Expr) {
        match expr {
            Expr::Call(call)
                if callee_name(call) == Some("configure")
                    && call
                        .arguments
                        .find_keyword("transaction_per_migration")
                        .is_some_and(|k| !is_false(&k.value)) =>
            {
                self.transaction_per_migration = true;
            }
            // `transactional_ddl=False`: Alembic opens no run-wide transaction and begins one
            // per revision instead (`MigrationContext.begin_transaction`), the same as
            // `transaction_per_migration=True`.
            Expr::Call(call)
                if callee_name(call) == Some("configure")
                    && call
                        .arguments
                        .find_keyword("transactional_ddl")
                        .is_some_and(|k| is_false(&k.value)) =>
            {
                self.transaction_per_migration = true;
            }
            // `connection.begin()` / `engine.begin()`: a transaction Alembic did not open, which
            // `autocommit_block()` cannot end (Alembic asserts it opened the transaction).
            Expr::Call(call)
                if matches!(call.func.as_ref(), Expr::Attribute(attr)
                    if attr.attr.as_str() == "begin"
                        && !matches!(attr.value.as_ref(), Expr::Name(n) if n.id.as_str() == "context")) =>
            {
                self.begins_own_transaction = true;
            }
            Expr::StringLiteral(literal) if literal.value.to_str().contains("lock_timeout") => {
                self.sets_lock_timeout = true;
            }
            Expr::Name(name) if ASYNC_ENGINE_MAKERS.contains(&name.id.as_str()) => {
                self.makes_async_engine = true;
            }
            Expr::Attribute(attr) if ASYNC_ENGINE_MAKERS.contains(&attr.attr.as_str()) => {
                self.makes_async_engine = true;
            }
            // `flask.current_app`
            Expr::Attribute(attr)
                if attr.attr.as_str() == "current_app"
                    && matches!(attr.value.as_ref(), Expr::Name(n) if n.id.as_str() == "flask") =>
            {
                self.reads_flask_app = true;
            }
            _ => {}
        }
        walk_expr(self, expr);
    }
}

/// Reads env.py; an env.py that does not parse tells nothing (Alembic would fail on it anyway).
pub fn read_env(source: &str, file: FileId, path: &std::path::Path) -> AlembicEnv {
    let Some(parsed) = super::nesting::parse_within_budget(source) else {
        return AlembicEnv {
            file: Some(file),
            ..AlembicEnv::default()
        };
    };
    let mut scan = EnvScan {
        transaction_per_migration: false,
        sets_lock_timeout: false,
        reads_flask_app: false,
        makes_async_engine: false,
        begins_own_transaction: false,
    };
    for stmt in parsed.suite() {
        scan.visit_stmt(stmt);
    }
    // Flask-Migrate's env.py runs on the application's engine: its options count too.
    let sets_lock_timeout = scan.sets_lock_timeout
        || (scan.reads_flask_app
            && path
                .parent()
                .is_some_and(super::flask_engine::sets_lock_timeout));
    let naming_convention = super::naming::find(parsed.suite(), path).or_else(|| {
        scan.reads_flask_app
            .then(|| super::naming::find_in_flask_app(path))
            .flatten()
    });
    AlembicEnv {
        file: Some(file),
        transaction_per_migration: scan.transaction_per_migration,
        sets_lock_timeout,
        naming_convention,
        reads_flask_app: scan.reads_flask_app,
        makes_async_engine: scan.makes_async_engine,
        begins_own_transaction: scan.begins_own_transaction,
    }
}
