//! What a Flask application says about the engine Flask-Migrate's env.py uses: env.py takes
//! `current_app`'s engine, so a `lock_timeout` set in the application's engine options
//! (`SQLALCHEMY_ENGINE_OPTIONS = {"connect_args": {"options": "-c lock_timeout=5s"}}`,
//! `SQLAlchemy(engine_options=...)`, `create_engine(..., connect_args=...)`) holds for every
//! revision although env.py never names it.
//!
//! The application's files are found by `flask_app`, which says why imports are not followed.

use std::path::Path;

use ruff_python_ast::visitor::{Visitor, walk_expr, walk_stmt};
use ruff_python_ast::{Expr, Stmt};
use ruff_text_size::Ranged;

/// Names whose value configures the application's engine or its connections.
const ENGINE_SETTINGS: [&str; 3] = [
    "sqlalchemy_engine_options",
    "engine_options",
    "connect_args",
];

/// Whether the Flask application around `migrations_dir` (the folder holding env.py) sets
/// `lock_timeout` in its engine options.
pub fn sets_lock_timeout(migrations_dir: &Path) -> bool {
    super::flask_app::modules_mentioning(migrations_dir, "lock_timeout")
        .any(|(source, parsed)| sets_in_module(&source, parsed.suite()))
}

fn sets_in_module(source: &str, suite: &[Stmt]) -> bool {
    let mut scan = EngineSettings {
        source,
        depth: 0,
        sets_lock_timeout: false,
    };
    for stmt in suite {
        scan.visit_stmt(stmt);
    }
    scan.sets_lock_timeout
}

fn is_engine_setting(name: &str) -> bool {
    ENGINE_SETTINGS.contains(&name.to_ascii_lowercase().as_str())
}

/// A target naming an engine setting: `SQLALCHEMY_ENGINE_OPTIONS = ...` (also in a config
/// class), `app.config["SQLALCHEMY_ENGINE_OPTIONS"] = ...`, `self.engine_options = ...`.
fn names_engine_setting(target: &Expr) -> bool {
    match target {
        Expr::Name(name) => is_engine_setting(name.id.as_str()),
        Expr::Attribute(attr) => is_engine_setting(attr.attr.as_str()),
        Expr::Subscript(subscript) => matches!(
            subscript.slice.as_ref(),
            Expr::StringLiteral(key) if is_engine_setting(key.value.to_str())
        ),
        _ => false,
    }
}

struct EngineSettings<'s> {
    source: &'s str,
    /// Inside the value of an engine setting.
    depth: usize,
    sets_lock_timeout: bool,
}

impl EngineSettings<'_> {
    fn within_setting(&mut self, value: &Expr) {
        self.depth += 1;
        self.visit_expr(value);
        self.depth -= 1;
    }
}

impl<'a> Visitor<'a> for EngineSettings<'_> {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        match stmt {
            Stmt::Assign(assign) if assign.targets.iter().any(names_engine_setting) => {
                self.within_setting(&assign.value);
            }
            Stmt::AnnAssign(assign) if names_engine_setting(&assign.target) => {
                if let Some(value) = &assign.value {
                    self.within_setting(value);
                }
            }
            _ => walk_stmt(self, stmt),
        }
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        match expr {
            Expr::StringLiteral(literal)
                if self.depth > 0 && literal.value.to_str().contains("lock_timeout") =>
            {
                self.sets_lock_timeout = true;
            }
            // `f"-c lock_timeout={seconds}s"`: its text says it.
            Expr::FString(_)
                if self.depth > 0
                    && self
                        .source
                        .get(expr.range().start().to_usize()..expr.range().end().to_usize())
                        .is_some_and(|text| text.contains("lock_timeout")) =>
            {
                self.sets_lock_timeout = true;
            }
            // `SQLAlchemy(engine_options=...)`, `create_engine(url, connect_args=...)`,
            // `app.config.update(SQLALCHEMY_ENGINE_OPTIONS=...)`.
            Expr::Call(call) => {
                self.visit_expr(&call.func);
                for argument in &call.arguments.args {
                    self.visit_expr(argument);
                }
                for keyword in &call.arguments.keywords {
                    match &keyword.arg {
                        Some(name) if is_engine_setting(name.as_str()) => {
                            self.within_setting(&keyword.value)
                        }
                        _ => self.visit_expr(&keyword.value),
                    }
                }
            }
            // `{"SQLALCHEMY_ENGINE_OPTIONS": {...}}`, `{"connect_args": {...}}`.
            Expr::Dict(dict) => {
                for item in &dict.items {
                    if let Some(key) = &item.key {
                        self.visit_expr(key);
                    }
                    match &item.key {
                        Some(Expr::StringLiteral(key)) if is_engine_setting(key.value.to_str()) => {
                            self.within_setting(&item.value)
                        }
                        _ => self.visit_expr(&item.value),
                    }
                }
            }
            _ => walk_expr(self, expr),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sets(source: &str) -> bool {
        let parsed = ruff_python_parser::parse_module(source).unwrap();
        sets_in_module(source, parsed.suite())
    }

    #[test]
    fn engine_options_in_every_shape_flask_apps_write_them() {
        assert!(sets(
            "class Config:\n    SQLALCHEMY_ENGINE_OPTIONS = {'connect_args': {'options': '-c lock_timeout=5s'}}\n"
        ));
        assert!(sets(
            "app.config['SQLALCHEMY_ENGINE_OPTIONS'] = {'connect_args': {'options': '-c lock_timeout=5000'}}\n"
        ));
        assert!(sets(
            "db = SQLAlchemy(engine_options={'connect_args': {'options': '-c lock_timeout=5s'}})\n"
        ));
        assert!(sets(
            "engine = create_engine(url, connect_args={'options': '-c lock_timeout=5s -c statement_timeout=60s'})\n"
        ));
        assert!(sets(
            "app.config.update({'SQLALCHEMY_ENGINE_OPTIONS': {'connect_args': {'options': f'-c lock_timeout={LOCK}'}}})\n"
        ));
    }

    #[test]
    fn lock_timeout_outside_the_engine_options_is_not_the_engines() {
        // A view that sets it for its own transaction: migrations do not run there.
        assert!(!sets(
            "def report():\n    db.session.execute(text(\"SET LOCAL lock_timeout = '1s'\"))\n"
        ));
        assert!(!sets(
            "SQLALCHEMY_ENGINE_OPTIONS = {'pool_pre_ping': True}\nHELP = 'set lock_timeout'\n"
        ));
    }
}
