//! The rules' SQL fixtures: their files, statements and the lines the linter flags.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::repo;

/// The SQL as the tool running it would send it: template placeholders (`{{ .Schema }}`,
/// `${schema}`) rendered as `public`.
fn rendered(sql: &str) -> String {
    let mut out = String::new();
    let mut rest = sql;
    while let Some(start) = rest.find("{{").or_else(|| rest.find("${")) {
        let close = if rest[start..].starts_with("{{") {
            "}}"
        } else {
            "}"
        };
        let Some(length) = rest[start..].find(close) else {
            break;
        };
        out.push_str(&rest[..start]);
        out.push_str("public");
        rest = &rest[start + length + close.len()..];
    }
    out.push_str(rest);
    out
}

/// A statement of a fixture's upgrade and the lines it spans (1-based).
pub struct Statement {
    pub lines: std::ops::RangeInclusive<usize>,
    pub sql: String,
}

/// The upgrade's statements: the text before `-- migrate:down`, one statement per `;` at a
/// line's end outside dollar quotes (the fixtures are written that way).
pub fn upgrade_statements(text: &str) -> Vec<Statement> {
    let mut statements = Vec::new();
    let mut sql = String::new();
    let mut first = 0;
    let mut in_dollar_quote = false;
    for (index, line) in text.lines().enumerate() {
        if line.starts_with("-- migrate:down") {
            break;
        }
        let code = line.split(" --").next().unwrap_or_default().trim();
        if code.is_empty() || code.starts_with("--") {
            continue;
        }
        if sql.is_empty() {
            first = index + 1;
        }
        sql.push_str(code);
        sql.push('\n');
        if code.matches("$$").count() % 2 == 1 {
            in_dollar_quote = !in_dollar_quote;
        }
        if code.ends_with(';') && !in_dollar_quote {
            statements.push(Statement {
                lines: first..=index + 1,
                sql: rendered(&std::mem::take(&mut sql)),
            });
        }
    }
    statements
}

/// The files and lines where `rule` reports a finding in `fixture` (a file or a folder), as
/// the CLI's JSON gives them.
pub fn flagged_lines(rule: &str, fixture: &Path) -> BTreeSet<(PathBuf, usize)> {
    let file = fixture;
    let output = Command::new(env!("CARGO_BIN_EXE_migration-gate"))
        .args([
            "check",
            "--format",
            "json",
            "--postgres-version",
            "15",
            "--select",
            rule,
        ])
        .arg(file)
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "{}: {e}: {}",
            file.display(),
            String::from_utf8_lossy(&output.stderr)
        )
    });
    json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["rule"] == rule)
        .map(|d| {
            (
                repo().join(d["path"].as_str().unwrap()),
                d["line"].as_u64().unwrap() as usize,
            )
        })
        .collect()
}

pub fn sql_fixtures(rule: &str, kind: &str) -> Vec<PathBuf> {
    let folder = repo().join("fixtures/rules").join(rule);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&folder)
        .map(|entries| entries.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    files.retain(|path| {
        let name = path.file_name().unwrap().to_string_lossy();
        // `_pgNN` fixtures are about other versions than the one verified here.
        name.starts_with(kind)
            && !name.contains("_pg")
            && (name.ends_with(".sql") || !migration_files(path).is_empty())
    });
    files.sort();
    files
}

/// The upgrade files of a fixture, in the order they run: the file itself, or a folder's
/// `*.up.sql` files (golang-migrate's layout).
pub fn migration_files(fixture: &Path) -> Vec<PathBuf> {
    if !fixture.is_dir() {
        return vec![fixture.to_path_buf()];
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(fixture)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".up.sql"))
        .collect();
    files.sort();
    files
}
