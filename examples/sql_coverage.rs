//! How much of SQL written by others the SQL frontend reads: every statement of the given files
//! (or folders of `.sql` files) that PostgreSQL's own parser accepts is linted on its own, and
//! the ones left as `unparsed-sql` are counted per statement family.
//!
//! `cargo run --release --example sql_coverage -- [--show FAMILY [--all]] PATH...`
//! (`scripts/sql-coverage.sh` wraps it). The corpora stay outside the repository: PostgreSQL's
//! regression suite as libpg_query carries it (`test/sql/postgres_regress`), squawk's parser
//! corpus (`crates/squawk_parser/tests/data`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use migration_gate::frontend::sql::{Shifted, Wrapping, lower_sql};
use migration_gate::model::{FileId, OpKind};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;

#[derive(Default)]
struct Family {
    valid: usize,
    unparsed: usize,
    /// Rejected by sqlparser, so read by PostgreSQL's grammar or the keyword classifier.
    by_grammar: usize,
    examples: Vec<String>,
}

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let show = args
        .iter()
        .position(|a| a == "--show")
        .map(|at| {
            let family = args.get(at + 1).cloned().unwrap_or_default();
            args.drain(at..(at + 2).min(args.len()));
            family
        })
        .filter(|f| !f.is_empty());
    // `--all`: with --show, every statement sqlparser rejected and what it became.
    let show_all = args.iter().any(|a| a == "--all");
    args.retain(|a| a != "--all");
    if args.is_empty() {
        eprintln!("usage: sql_coverage [--show FAMILY] PATH...");
        std::process::exit(2);
    }
    let mut families: BTreeMap<String, Family> = BTreeMap::new();
    let (mut invalid, mut files) = (0usize, 0usize);
    for path in args.iter().flat_map(|a| sql_files(Path::new(a))) {
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        files += 1;
        for statement in statements(&text) {
            let Ok(parsed) = pg_query::parse(statement, 0) else {
                invalid += 1;
                continue;
            };
            let family = parsed
                .statement_types()
                .first()
                .map(|f| f.to_string())
                .unwrap_or_else(|| "(other)".into());
            let ops = lower_sql(statement, FileId(0), &Shifted(0), Wrapping::None);
            let entry = families.entry(family).or_default();
            entry.valid += 1;
            if Parser::parse_sql(&PostgreSqlDialect {}, statement).is_err() {
                entry.by_grammar += 1;
                if show_all {
                    let kinds: Vec<String> =
                        ops.iter().map(|op| format!("{:?}", op.kind)).collect();
                    entry
                        .examples
                        .push(format!("{statement}\n    -- {}", kinds.join("; ")));
                }
            }
            if let Some(reason) = ops.iter().find_map(|op| match &op.kind {
                OpKind::Unparsed { reason, .. } => Some(reason.clone()),
                _ => None,
            }) {
                entry.unparsed += 1;
                if !show_all {
                    entry.examples.push(format!("{statement}\n    -- {reason}"));
                }
            }
        }
    }
    let valid: usize = families.values().map(|f| f.valid).sum();
    let unparsed: usize = families.values().map(|f| f.unparsed).sum();
    println!(
        "{files} files; {valid} statements PostgreSQL accepts ({invalid} it rejects, not counted); \
         {unparsed} unparsed = {:.2}%",
        percent(unparsed, valid)
    );
    let by_grammar: usize = families.values().map(|f| f.by_grammar).sum();
    println!(
        "{by_grammar} ({:.2}%) rejected by sqlparser, read by PostgreSQL's grammar",
        percent(by_grammar, valid)
    );
    let mut rows: Vec<_> = families
        .iter()
        .filter(|(_, f)| f.unparsed > 0 || f.by_grammar > 0)
        .collect();
    rows.sort_by_key(|(_, f)| std::cmp::Reverse((f.unparsed, f.by_grammar)));
    println!(
        "| family | valid | unparsed | read by PostgreSQL's grammar |\n| --- | ---: | ---: | ---: |"
    );
    for (name, family) in rows {
        println!(
            "| {name} | {} | {} | {} |",
            family.valid, family.unparsed, family.by_grammar
        );
    }
    if let Some(show) = show
        && let Some(family) = families.get(&show)
    {
        for example in &family.examples {
            println!("\n{example}");
        }
    }
}

fn percent(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        100.0 * part as f64 / whole as f64
    }
}

fn sql_files(path: &Path) -> Vec<PathBuf> {
    if path.is_file() {
        return vec![path.to_path_buf()];
    }
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(path)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "sql"))
        .map(|e| e.into_path())
        .collect();
    files.sort();
    files
}

/// The file's statements as PostgreSQL's scanner splits them, psql's backslash commands left out
/// (they are psql's, not SQL).
fn statements(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    for chunk in sql_chunks(text) {
        match pg_query::split_with_scanner(chunk) {
            Ok(parts) => out.extend(parts.into_iter().map(str::trim).filter(|s| !s.is_empty())),
            Err(_) => out.push(chunk.trim()),
        }
    }
    out.retain(|s| !s.is_empty());
    out
}

/// The text between psql meta-command lines (`\set`, `\d`, `\gset`...).
fn sql_chunks(text: &str) -> Vec<&str> {
    let mut chunks = Vec::new();
    let mut start = 0;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if line.trim_start().starts_with('\\') {
            chunks.push(&text[start..offset]);
            start = offset + line.len();
        }
        offset += line.len();
    }
    chunks.push(&text[start..]);
    chunks
}
