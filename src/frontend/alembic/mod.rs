//! Alembic / Flask-Migrate revision files (Python) → `Migration`.

mod dialect;
mod edit_sites;
mod env;
mod exprs;
mod flask_app;
mod flask_engine;
pub mod histories;
mod multidb;
mod naming;
mod nesting;
mod ops;
mod strings;
pub mod version_locations;

pub use env::read_env;

/// The statements a revision sent to the database, as one SQL text for the SQL frontend: the
/// driver's placeholders (`%(name)s`) read as values.
pub fn executed_sql(statements: &[String]) -> String {
    let mut text = String::new();
    for statement in statements {
        let statement = statement.trim().trim_end_matches(';');
        text.push_str(&strings::neutral_placeholders(statement));
        text.push_str(";\n");
    }
    text
}

use std::collections::HashMap;

use ruff_python_ast::token::TokenKind;
use ruff_python_ast::{Expr, Stmt, StmtFunctionDef};
use ruff_text_size::Ranged;

use crate::model::{
    Body, BodyState, FileId, Framework, InputProblem, InputProblemKind, Migration, RevisionId,
    Span, Suppression,
};

use super::suppression;
use exprs::{Constants, Reader};

pub struct ParsedRevision {
    pub migration: Migration,
    pub suppressions: Vec<Suppression>,
}

/// The revision in a `.py` file of a versions folder; `None` for a file that is not one (a
/// helper module: code, but no `revision`, `down_revision`, `upgrade` or `downgrade` at module
/// level).
pub fn parse_revision(source: &str, file: FileId) -> Result<Option<ParsedRevision>, InputProblem> {
    if let Some(deep) = nesting::check_nesting(source) {
        let starts = crate::model::source::line_starts(source);
        let start = starts.get(deep.line - 1).copied().unwrap_or(source.len());
        let end = source[start..]
            .find('\n')
            .map_or(source.len(), |i| start + i);
        return Err(InputProblem {
            kind: InputProblemKind::Unreadable,
            message: format!(
                "the code nests more than {} levels deep (brackets, operators and blocks together); it is not read, as no real revision nests like this",
                nesting::NESTING_BUDGET
            ),
            span: Span::new(file, start..end),
        });
    }
    let parsed = ruff_python_parser::parse_module(source).map_err(|error| InputProblem {
        kind: InputProblemKind::SyntaxError,
        message: format!("Python syntax error: {}", error.error),
        span: Span::new(
            file,
            error.location.start().to_usize()..error.location.end().to_usize(),
        ),
    })?;
    let suppressions = parsed
        .tokens()
        .iter()
        .filter(|t| t.kind() == TokenKind::Comment)
        .filter_map(|t| {
            let range = t.range().start().to_usize()..t.range().end().to_usize();
            let line = source[..range.start].matches('\n').count() + 1;
            suppression::parse(&source[range.clone()], line, Span::new(file, range))
        })
        .collect();
    let suite = parsed.suite();
    // A module with code but nothing of a revision is a helper; an empty one (or only a
    // docstring) is a revision someone forgot to fill in, and is reported as such.
    let has_code = suite
        .iter()
        .any(|stmt| !matches!(stmt, Stmt::Expr(e) if e.value.is_string_literal_expr()));
    if has_code && !suite.iter().any(is_revision_marker) {
        return Ok(None);
    }
    let mut constants: Constants = HashMap::new();
    for stmt in suite {
        if let Some((name, value, _)) = module_assignment(stmt) {
            constants.insert(name.to_string(), value);
        }
    }
    let mut reader = Reader::new(source, &constants);
    reader.helpers = suite
        .iter()
        .filter_map(|stmt| match stmt {
            Stmt::FunctionDef(function)
                if !matches!(function.name.as_str(), "upgrade" | "downgrade") =>
            {
                Some((function.name.as_str().to_string(), function))
            }
            _ => None,
        })
        .collect();
    reader.models = ops::models::module_models(suite, &reader);
    reader.project_types = project_types(suite, &reader.models);
    reader.op_functions = suite
        .iter()
        .filter_map(|stmt| match stmt {
            Stmt::ImportFrom(import)
                if import
                    .module
                    .as_ref()
                    .is_some_and(|m| m.as_str() == "alembic.op") =>
            {
                Some(import.names.iter().map(|alias| {
                    let local = alias.asname.as_ref().unwrap_or(&alias.name);
                    (local.as_str().to_string(), alias.name.as_str().to_string())
                }))
            }
            _ => None,
        })
        .flatten()
        .collect();
    let whole_file = Span::new(file, 0..0);
    let mut migration = Migration {
        framework: Framework::Alembic,
        file,
        revision: RevisionId::Absent,
        revision_span: whole_file,
        parents: Vec::new(),
        parents_span: whole_file,
        parents_unreadable: false,
        depends_on: Vec::new(),
        branch_labels: Vec::new(),
        upgrade: Body::missing(whole_file),
        downgrade: Body::missing(whole_file),
        uses_autocommit_block: None,
        branches_on_dialect: false,
        undo_group: None,
        batch_tables: Vec::new(),
    };
    for stmt in suite {
        if let Some((name, value, range)) = module_assignment(stmt) {
            let span = Span::new(file, range);
            match name {
                "revision" => {
                    migration.revision_span = span;
                    migration.revision = match value {
                        Expr::StringLiteral(literal) => {
                            RevisionId::Literal(literal.value.to_str().to_string())
                        }
                        _ => RevisionId::NotLiteral,
                    };
                }
                "down_revision" => {
                    migration.parents_span = span;
                    match revision_list(&reader, value) {
                        Some(parents) => migration.parents = parents,
                        None => migration.parents_unreadable = true,
                    }
                }
                "depends_on" => {
                    migration.depends_on = revision_list(&reader, value).unwrap_or_default()
                }
                "branch_labels" => {
                    migration.branch_labels = revision_list(&reader, value)
                        .unwrap_or_else(|| unresolved_labels(source, value))
                }
                _ => {}
            }
        }
    }
    for stmt in suite {
        if let Stmt::FunctionDef(function) = stmt {
            let phase_body = match function.name.as_str() {
                "upgrade" => &mut migration.upgrade,
                "downgrade" => &mut migration.downgrade,
                _ => continue,
            };
            // The multi-database templates (Alembic's `multidb`, `flask db init --multidb`):
            // `upgrade(engine_name)` calls `upgrade_<engine>()` through `globals()`, so each
            // of those functions is the phase's work, one engine after another.
            let engines = multidb::engine_functions(function, suite);
            let functions: Vec<&StmtFunctionDef> = if engines.is_empty() {
                vec![function]
            } else {
                engines
            };
            let mut walker = ops::Walker::new(&reader, file);
            walker.remember_module(
                suite
                    .iter()
                    .filter_map(module_assignment)
                    .map(|(name, value, _)| (name, value)),
            );
            for function in &functions {
                walker.walk_function(&function.body);
            }
            if migration.uses_autocommit_block.is_none() {
                migration.uses_autocommit_block = walker.autocommit_block;
            }
            migration.branches_on_dialect |= walker.branches_on_dialect;
            let states: Vec<BodyState> = functions.iter().map(|f| body_state(f)).collect();
            let with_code = functions
                .iter()
                .zip(&states)
                .find(|(_, state)| **state == BodyState::Code)
                .map(|(f, _)| *f);
            *phase_body = Body {
                state: if with_code.is_some() {
                    BodyState::Code
                } else {
                    states[0].clone()
                },
                span: Span::new(
                    file,
                    function.name.range.start().to_usize()..function.name.range.end().to_usize(),
                ),
                ops: walker.ops,
                script: None,
                early_returns: functions
                    .iter()
                    .flat_map(|f| early_returns(f, file))
                    .collect(),
                start: body_start(source, with_code.unwrap_or(function)),
                placeholder: placeholder(source, function),
                function_end: Some(function.range().end().to_usize()),
            };
        }
    }
    Ok(Some(ParsedRevision {
        migration,
        suppressions,
    }))
}

/// What makes a module a revision, even a broken one.
fn is_revision_marker(stmt: &Stmt) -> bool {
    match stmt {
        Stmt::FunctionDef(function) => matches!(function.name.as_str(), "upgrade" | "downgrade"),
        _ => module_assignment(stmt)
            .is_some_and(|(name, _, _)| matches!(name, "revision" | "down_revision")),
    }
}

/// `name = value` or `name: T = value` at module level.
fn module_assignment(stmt: &Stmt) -> Option<(&str, &Expr, std::ops::Range<usize>)> {
    let (target, value) = match stmt {
        Stmt::Assign(assign) if assign.targets.len() == 1 => {
            (&assign.targets[0], assign.value.as_ref())
        }
        Stmt::AnnAssign(assign) => (assign.target.as_ref(), assign.value.as_deref()?),
        _ => return None,
    };
    let Expr::Name(name) = target else {
        return None;
    };
    Some((
        name.id.as_str(),
        value,
        stmt.range().start().to_usize()..stmt.range().end().to_usize(),
    ))
}

/// Labels given through names the file imports (`branch_labels = (cli.EXPAND_BRANCH,)`, as
/// OpenStack writes them): each one's source text stands for it, so labelled branches stay
/// labelled and distinct expressions stay distinct labels.
fn unresolved_labels(source: &str, value: &Expr) -> Vec<String> {
    let text =
        |e: &Expr| source[e.range().start().to_usize()..e.range().end().to_usize()].to_string();
    match value {
        Expr::Tuple(tuple) => tuple.elts.iter().map(text).collect(),
        Expr::List(list) => list.elts.iter().map(text).collect(),
        other => vec![text(other)],
    }
}

/// `None`, a string, or a tuple / list of strings; `None` for anything computed.
fn revision_list(reader: &Reader, value: &Expr) -> Option<Vec<String>> {
    match value {
        Expr::NoneLiteral(_) => Some(Vec::new()),
        Expr::StringLiteral(literal) => Some(vec![literal.value.to_str().to_string()]),
        Expr::Tuple(_) | Expr::List(_) => reader.strings(value),
        _ => None,
    }
}

/// Where statements can go before everything the function runs: its first statement after a
/// docstring, when that statement has a line of its own.
fn body_start(
    source: &str,
    function: &StmtFunctionDef,
) -> Option<crate::model::edit_site::BodyStart> {
    let first = function.body.iter().find(|stmt| {
        !matches!(stmt, Stmt::Expr(expr) if matches!(expr.value.as_ref(), Expr::StringLiteral(_)))
    })?;
    let mut start = crate::frontend::line_start_before(source, first.range().start().to_usize())?;
    // Comments right above the first statement describe it: what goes first goes above them.
    while start.line_start > 0 {
        let previous_start = source[..start.line_start - 1]
            .rfind('\n')
            .map_or(0, |newline| newline + 1);
        let previous = &source[previous_start..start.line_start - 1];
        let is_comment = previous
            .strip_prefix(start.indent.as_str())
            .is_some_and(|rest| rest.starts_with('#'));
        if !is_comment {
            break;
        }
        start.line_start = previous_start;
    }
    Some(start)
}

/// The lines of a body that is only `pass` or `...` (after a docstring), when that statement
/// has its lines to itself.
fn placeholder(source: &str, function: &StmtFunctionDef) -> Option<std::ops::Range<usize>> {
    let rest: Vec<&Stmt> = function
        .body
        .iter()
        .filter(|stmt| {
            !matches!(stmt, Stmt::Expr(expr) if matches!(expr.value.as_ref(), Expr::StringLiteral(_)))
        })
        .collect();
    let [only] = rest.as_slice() else {
        return None;
    };
    let is_placeholder = matches!(only, Stmt::Pass(_))
        || matches!(only, Stmt::Expr(expr) if matches!(expr.value.as_ref(), Expr::EllipsisLiteral(_)));
    if !is_placeholder {
        return None;
    }
    let start = crate::frontend::line_start_before(source, only.range().start().to_usize())?;
    let end = only.range().end().to_usize();
    let rest_of_line = source[end..].split('\n').next().unwrap_or_default();
    if !rest_of_line.trim().is_empty() {
        return None;
    }
    let line_end = (end + rest_of_line.len() + 1).min(source.len());
    Some(start.line_start..line_end)
}

fn body_state(function: &StmtFunctionDef) -> BodyState {
    let meaningful: Vec<&Stmt> = function
        .body
        .iter()
        .filter(|stmt| match stmt {
            Stmt::Pass(_) => false,
            Stmt::Expr(expr) => !matches!(
                expr.value.as_ref(),
                Expr::StringLiteral(_) | Expr::EllipsisLiteral(_)
            ),
            _ => true,
        })
        .collect();
    match meaningful.first() {
        None => BodyState::Empty,
        Some(Stmt::Raise(_)) => BodyState::Raises,
        Some(_) if meaningful.iter().all(|stmt| does_nothing(stmt)) => BodyState::Empty,
        Some(_) => BodyState::Code,
    }
}

/// The tests of the top-level `if` statements after which the function returns (`if not
/// is_postgres(): return`): a body that ran nothing was stopped by one of them.
fn early_returns(function: &StmtFunctionDef, file: FileId) -> Vec<Span> {
    let returns = |body: &[Stmt]| body.iter().any(|stmt| matches!(stmt, Stmt::Return(_)));
    function
        .body
        .iter()
        .filter_map(|stmt| match stmt {
            Stmt::If(guard)
                if returns(&guard.body)
                    || guard
                        .elif_else_clauses
                        .iter()
                        .any(|clause| returns(&clause.body)) =>
            {
                Some(Span::new(
                    file,
                    guard.range.start().to_usize()..guard.test.range().end().to_usize(),
                ))
            }
            _ => None,
        })
        .collect()
}

/// `return`, `pass`, or a guard whose every branch only returns: a body made of these does
/// nothing whichever way it runs.
fn does_nothing(stmt: &Stmt) -> bool {
    match stmt {
        Stmt::Pass(_) => true,
        Stmt::Return(ret) => ret.value.is_none(),
        Stmt::Expr(expr) => matches!(
            expr.value.as_ref(),
            Expr::StringLiteral(_) | Expr::EllipsisLiteral(_)
        ),
        Stmt::If(guard) => {
            guard.body.iter().all(does_nothing)
                && guard
                    .elif_else_clauses
                    .iter()
                    .all(|clause| clause.body.iter().all(does_nothing))
        }
        _ => false,
    }
}

/// The names a revision file may use as the project's own column types: classes it defines
/// (other than its declarative models), and names it imports from modules that are not
/// SQLAlchemy's, its dialects' or a known type library's (`from app.types import JSONText`).
fn project_types(suite: &[Stmt], models: &[(String, String)]) -> std::collections::HashSet<String> {
    const TYPE_LIBRARIES: [&str; 5] = [
        "sqlalchemy",
        "sqlmodel",
        "geoalchemy2",
        "pgvector",
        "alembic",
    ];
    let known = |module: &str| {
        TYPE_LIBRARIES
            .iter()
            .any(|library| module == *library || module.starts_with(&format!("{library}.")))
    };
    let mut names = std::collections::HashSet::new();
    for stmt in suite {
        match stmt {
            Stmt::ClassDef(class) if !models.iter().any(|(m, _)| m == class.name.as_str()) => {
                names.insert(class.name.to_string());
            }
            Stmt::ImportFrom(import)
                if import.level > 0
                    || import.module.as_ref().is_some_and(|m| !known(m.as_str())) =>
            {
                for alias in &import.names {
                    let local = alias.asname.as_ref().unwrap_or(&alias.name);
                    names.insert(local.to_string());
                }
            }
            _ => {}
        }
    }
    names
}
