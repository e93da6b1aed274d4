//! Finds the naming convention of env.py's `target_metadata`: a `MetaData(naming_convention=...)`
//! in env.py itself, or in the project modules it imports (`from app.models import Base`),
//! followed a few imports deep. Alembic names the constraints that revisions create unnamed by
//! that convention.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ruff_python_ast::visitor::{Visitor, walk_expr};
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
    if let Some(found) = in_module(env_suite) {
        return Some(found);
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
        if let Some(found) = in_module(parsed.suite()) {
            return Some(found);
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

/// The first `MetaData(naming_convention=...)` in a module whose value can be read.
fn in_module(suite: &[Stmt]) -> Option<NamingConvention> {
    let mut finder = Finder { suite, found: None };
    for stmt in suite {
        finder.visit_stmt(stmt);
    }
    finder.found
}

struct Finder<'a> {
    suite: &'a [Stmt],
    found: Option<NamingConvention>,
}

impl<'a> Visitor<'a> for Finder<'a> {
    fn visit_expr(&mut self, expr: &'a Expr) {
        if self.found.is_some() {
            return;
        }
        if let Expr::Call(call) = expr
            && callee_name(call) == Some("MetaData")
            && let Some(keyword) = call.arguments.find_keyword("naming_convention")
        {
            self.found = convention(&keyword.value, self.suite);
        }
        walk_expr(self, expr);
    }
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
            let bound = suite.iter().rev().find_map(|stmt| match stmt {
                Stmt::Assign(assign)
                    if assign.targets.iter().any(
                        |t| matches!(t, Expr::Name(n) if n.id.as_str() == name.id.as_str()),
                    ) =>
                {
                    Some(assign.value.as_ref())
                }
                Stmt::AnnAssign(assign)
                    if matches!(assign.target.as_ref(), Expr::Name(n) if n.id.as_str() == name.id.as_str()) =>
                {
                    assign.value.as_deref()
                }
                _ => None,
            })?;
            return match bound {
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
