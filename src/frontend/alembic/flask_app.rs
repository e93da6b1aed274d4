//! The Python modules of the Flask application a Flask-Migrate env.py runs in. env.py takes
//! `current_app`'s engine and metadata, so what the application says about them (engine
//! options, the metadata's naming convention) holds for every revision although env.py never
//! names it.
//!
//! Flask apps reach their settings and models in too many ways to follow imports
//! (`from_object("config")`, a factory importing inside a function, an environment variable
//! naming the class), so the application's Python files around the migrations folder are read
//! instead, bounded, and only those that mention what is looked for are parsed.

use std::path::Path;

use ruff_python_ast::ModModule;
use ruff_python_parser::Parsed;

/// At most this many Python files are looked at, this many folders deep.
const MAX_FILES: usize = 2_000;
const MAX_DEPTH: usize = 5;

/// Folders that hold no application code, or code that does not run in production.
const NOT_THE_APP: [&str; 9] = [
    "migrations",
    "versions",
    "tests",
    "test",
    "node_modules",
    "site-packages",
    "venv",
    "__pycache__",
    "docs",
];

/// The parsed modules of the application around `migrations_dir` (the folder holding env.py)
/// whose text mentions `needle`, with their text. The application is the folder above the
/// migrations one: the project root for `flask db init`, the package when migrations live
/// inside it.
pub fn modules_mentioning(
    migrations_dir: &Path,
    needle: &'static str,
) -> impl Iterator<Item = (String, Parsed<ModModule>)> {
    // env.py's path is as discovery found it, often relative ("migrations/env.py", "env.py").
    let folder = if migrations_dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        migrations_dir
    };
    let app_root = std::fs::canonicalize(folder)
        .ok()
        .and_then(|dir| dir.parent().map(Path::to_path_buf));
    app_root
        .into_iter()
        .flat_map(|root| {
            walkdir::WalkDir::new(root)
                .max_depth(MAX_DEPTH)
                .into_iter()
                .filter_entry(|entry| {
                    let name = entry.file_name().to_string_lossy();
                    entry.depth() == 0
                        || !(name.starts_with('.')
                            || (entry.file_type().is_dir()
                                && NOT_THE_APP.contains(&name.to_ascii_lowercase().as_str())))
                })
                .filter_map(Result::ok)
                .filter(|entry| {
                    entry.file_type().is_file()
                        && entry.path().extension().is_some_and(|e| e == "py")
                })
                .take(MAX_FILES)
        })
        .filter_map(move |entry| {
            let source = crate::frontend::read_text(entry.path()).ok()?;
            if !source.contains(needle) {
                return None;
            }
            let parsed = super::nesting::parse_within_budget(&source)?;
            Some((source, parsed))
        })
}
