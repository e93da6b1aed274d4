//! The multi-database revision templates: Alembic's `multidb` and Flask-Migrate's
//! `flask-multidb` write `upgrade(engine_name)` as `globals()["upgrade_%s" % engine_name]()`
//! (projects also write `globals().get(f"upgrade_{engine_name}", ...)()`), and the work in one
//! `upgrade_<engine>()` function per database.

use ruff_python_ast::visitor::{Visitor, walk_expr};
use ruff_python_ast::{Expr, Stmt, StmtFunctionDef};

/// The module's `<phase>_<engine>()` functions, in file order, when `function` (`upgrade` or
/// `downgrade`) dispatches to them through `globals()`; none otherwise.
pub fn engine_functions<'a>(
    function: &StmtFunctionDef,
    suite: &'a [Stmt],
) -> Vec<&'a StmtFunctionDef> {
    let mut finder = GlobalsCall(false);
    for stmt in &function.body {
        finder.visit_stmt(stmt);
    }
    if !finder.0 {
        return Vec::new();
    }
    let prefix = format!("{}_", function.name.as_str());
    suite
        .iter()
        .filter_map(|stmt| match stmt {
            Stmt::FunctionDef(engine) if engine.name.as_str().starts_with(&prefix) => Some(engine),
            _ => None,
        })
        .collect()
}

/// Whether a call of `globals()` appears.
struct GlobalsCall(bool);

impl<'a> Visitor<'a> for GlobalsCall {
    fn visit_expr(&mut self, expr: &'a Expr) {
        if let Expr::Call(call) = expr
            && matches!(call.func.as_ref(), Expr::Name(name) if name.id.as_str() == "globals")
        {
            self.0 = true;
        }
        walk_expr(self, expr);
    }
}
