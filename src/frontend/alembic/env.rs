//! What env.py says about how revisions run: transactions, lock timeouts, and the naming
//! convention of its `target_metadata`.

use ruff_python_ast::Expr;
use ruff_python_ast::visitor::{Visitor, walk_expr};

use crate::model::{AlembicEnv, FileId};

use super::exprs::{callee_name, is_false};

struct EnvScan {
    transaction_per_migration: bool,
    sets_lock_timeout: bool,
}

impl<'a> Visitor<'a> for EnvScan {
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
            Expr::StringLiteral(literal) if literal.value.to_str().contains("lock_timeout") => {
                self.sets_lock_timeout = true;
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
    };
    for stmt in parsed.suite() {
        scan.visit_stmt(stmt);
    }
    AlembicEnv {
        file: Some(file),
        transaction_per_migration: scan.transaction_per_migration,
        sets_lock_timeout: scan.sets_lock_timeout,
        naming_convention: super::naming::find(parsed.suite(), path),
    }
}
