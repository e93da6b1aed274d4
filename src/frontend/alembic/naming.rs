//! Finds the naming convention of env.py's `target_metadata`: a `MetaData(naming_convention=...)`
//! in env.py itself, or in the project modules it imports (`from app.models import Base`),
//! followed a few imports deep; for a Flask-Migrate env.py, in the application's modules.
//! Alembic names the constraints that revisions create unnamed by
//! that convention.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ruff_python_ast::visitor::{Visitor, walk_expr, walk_stmt};
use ruff_python_ast::{Expr, Stmt};

use crate::model::naming::NamingConvention;

use super::exprs::callee_name;

/// How many project modules are read at most, and how many imports deep.
const MAX_MODULES: usize = 60;
const MAX_DEPTH: usize = 4;

pub fn find(env_suite: &[Stmt], env_path: &Path) -> Option<NamingConvention> {
    let env_dir = env_path.parent()?;
    // Where absolute imports may resolve: env.py's folder and the folders above it.
    let roots: Vec<PathBuf> = env_dir.ancestors().take(6).map(Path::to_path_buf).collect();
    let mut search = Search::default();
    if search.module(env_suite) {
        return search.found;
    }
    let mut queue: Vec<(PathBuf, usize)> = imports(env_suite, env_dir, &roots)
        .into_iter()
        .map(|p| (p, 1))
        .collect();
    let mut seen: Vec<PathBuf> = Vec::new();
    while let Some((path, depth)) = (!queue.is_empty()).then(|| queue.remove(0)) {
        if seen.contains(&path) || seen.len() >= MAX_MODULES {
            continue;
        }
        seen.push(path.clone());
        let Ok(source) = crate::frontend::read_text(&path) else {
            continue;
        };
        let Some(parsed) = super::nesting::parse_within_budget(&source) else {
            continue;
        };
        if search.module(parsed.suite()) {
            return search.found;
        }
        if depth < MAX_DEPTH {
            let folder = path.parent().unwrap_or(env_dir);
            queue.extend(
                imports(parsed.suite(), folder, &roots)
                    .into_iter()
                    .map(|p| (p, depth + 1)),
            );
        }
    }
    None
}

/// The naming convention a Flask application gives its metadata, for a Flask-Migrate env.py
/// that takes `current_app`'s metadata and imports no model module: found in the modules of
/// the application around env.py's folder (`db.Model.metadata.naming_convention = {...}`,
/// `SQLAlchemy(metadata=MetaData(naming_convention=...))`).
pub fn find_in_flask_app(env_path: &Path) -> Option<NamingConvention> {
    let mut search = Search::default();
    for (_, parsed) in super::flask_app::modules_mentioning(env_path.parent()?, "naming_convention")
    {
        if search.module(parsed.suite()) {
            return search.found;
        }
    }
    None
}

/// A naming convention looked for across modules: a convention given by a name that its own
/// module does not bind (`MetaData(naming_convention=NAMING)` with `NAMING` imported) is
/// looked for in the modules read after it.
#[derive(Default)]
struct Search {
    found: Option<NamingConvention>,
    wanted: Vec<String>,
}

impl Search {
    /// Reads one module; true once the convention is found.
    fn module(&mut self, suite: &[Stmt]) -> bool {
        if let Some(bound) = self.wanted.iter().find_map(|name| bound_to(name, suite)) {
            self.found = convention(bound, suite);
            if self.found.is_some() {
                return true;
            }
        }
        let mut finder = Finder {
            suite,
            found: None,
            named: Vec::new(),
        };
        for stmt in suite {
            finder.visit_stmt(stmt);
        }
        self.wanted.extend(finder.named);
        self.found = finder.found;
        self.found.is_some()
    }
}

struct Finder<'a> {
    suite: &'a [Stmt],
    found: Option<NamingConvention>,
    /// Names a convention was given by that this module does not bind to a value.
    named: Vec<String>,
}

impl Finder<'_> {
    fn given(&mut self, value: &Expr) {
        self.found = convention(value, self.suite);
        if self.found.is_none()
            && let Expr::Name(name) = value
        {
            self.named.push(name.id.to_string());
        }
    }
}

impl<'a> Visitor<'a> for Finder<'a> {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        if self.found.is_some() {
            return;
        }
        // `db.Model.metadata.naming_convention = {...}`, set after the metadata is made.
        if let Stmt::Assign(assign) = stmt
            && assign
                .targets
                .iter()
                .any(|t| matches!(t, Expr::Attribute(a) if a.attr.as_str() == "naming_convention"))
        {
            self.given(&assign.value);
        }
        walk_stmt(self, stmt);
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        if self.found.is_some() {
            return;
        }
        if let Expr::Call(call) = expr
            && callee_name(call) == Some("MetaData")
            && let Some(keyword) = call.arguments.find_keyword("naming_convention")
        {
            self.given(&keyword.value);
        }
        walk_expr(self, expr);
    }
}

/// The value a module-level assignment binds `name` to.
fn bound_to<'s>(name: &str, suite: &'s [Stmt]) -> Option<&'s Expr> {
    suite.iter().rev().find_map(|stmt| match stmt {
        Stmt::Assign(assign)
            if assign
                .targets
                .iter()
                .any(|t| matches!(t, Expr::Name(n) if n.id.as_str() == name)) =>
        {
            Some(assign.value.as_ref())
        }
        Stmt::AnnAssign(assign)
            if matches!(assign.target.as_ref(), Expr::Name(n) if n.id.as_str() == name) =>
        {
            assign.value.as_deref()
        }
        _ => None,
    })
}

/// A dict literal, `dict(ix=...)`, or a module-level name bound to one of them.
fn convention(expr: &Expr, suite: &[Stmt]) -> Option<NamingConvention> {
    let mut entries = BTreeMap::new();
    match expr {
        Expr::Dict(dict) => {
            for item in &dict.items {
                let (Some(Expr::StringLiteral(key)), Expr::StringLiteral(value)) =
                    (item.key.as_ref(), &item.value)
                else {
                    continue;
                };
                entries.insert(key.value.to_string(), value.value.to_string());
            }
        }
        Expr::Call(call) if callee_name(call) == Some("dict") => {
            for keyword in &call.arguments.keywords {
                if let (Some(key), Expr::StringLiteral(value)) = (&keyword.arg, &keyword.value) {
                    entries.insert(key.to_string(), value.value.to_string());
                }
            }
        }
        Expr::Name(name) => {
            return match bound_to(name.id.as_str(), suite)? {
                Expr::Name(_) => None,
                other => convention(other, suite),
            };
        }
        _ => return None,
    }
    (!entries.is_empty()).then_some(NamingConvention(entries))
}

/// Project files a module imports: `from a.b import c` may be `a/b.py`, `a/b/__init__.py` or
/// `a/b/c.py`; relative imports count from the module's own folder.
fn imports(suite: &[Stmt], folder: &Path, roots: &[PathBuf]) -> Vec<PathBuf> {
    let mut modules: Vec<(Vec<PathBuf>, String)> = Vec::new();
    for stmt in suite {
        match stmt {
            Stmt::ImportFrom(import) => {
                let module = import
                    .module
                    .as_ref()
                    .map(|m| m.as_str().replace('.', "/"))
                    .unwrap_or_default();
                let bases: Vec<PathBuf> = if import.level > 0 {
                    folder
                        .ancestors()
                        .nth(import.level as usize - 1)
                        .map(|base| vec![base.to_path_buf()])
                        .unwrap_or_default()
                } else {
                    roots.to_vec()
                };
                modules.push((bases.clone(), module.clone()));
                for name in &import.names {
                    let sub = if module.is_empty() {
                        name.name.to_string()
                    } else {
                        format!("{module}/{}", name.name)
                    };
                    modules.push((bases.clone(), sub));
                }
            }
            Stmt::Import(import) => {
                for name in &import.names {
                    modules.push((roots.to_vec(), name.name.as_str().replace('.', "/")));
                }
            }
            _ => {}
        }
    }
    let mut files = Vec::new();
    for (bases, module) in modules {
        if module.is_empty() {
            continue;
        }
        for base in bases {
            for candidate in [
                base.join(format!("{module}.py")),
                base.join(&module).join("__init__.py"),
            ] {
                if candidate.is_file() && !files.contains(&candidate) {
                    files.push(candidate);
                }
            }
        }
    }
    files
}
