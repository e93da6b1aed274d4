//! Fixture checks shared by every rule's tests: `fixtures/rules/<id>/bad*` must produce exactly
//! the findings their `expect: <rule> <severity>` comments name, `good*` none at all.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::diagnostic::RuleMeta;
use crate::lint::{LintOptions, lint};

/// (file, line, rule, severity) of a finding, or of an expectation.
type Finding = (String, usize, String, String);

fn fixture_root(rule: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/rules")
        .join(rule)
}

/// Postgres version from a fixture's name: `bad_pg10.py` runs with `postgres_version = 10`.
fn version_of(name: &str) -> u32 {
    name.split(['_', '.', '-'])
        .find_map(|part| part.strip_prefix("pg").and_then(|v| v.parse().ok()))
        .unwrap_or(14)
}

fn expectations(path: &Path) -> BTreeSet<Finding> {
    let files: Vec<PathBuf> = if path.is_dir() {
        walkdir::WalkDir::new(path)
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_file())
            .map(|e| e.into_path())
            .collect()
    } else {
        vec![path.to_path_buf()]
    };
    let mut expected = BTreeSet::new();
    for file in files {
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        for (i, line) in text.lines().enumerate() {
            if let Some(rest) = line.split("expect: ").nth(1) {
                let mut words = rest.split_whitespace();
                let rule = words.next().unwrap_or_default().to_string();
                let severity = words.next().unwrap_or_default().to_string();
                expected.insert((crate::frontend::display_path(&file), i + 1, rule, severity));
            }
        }
    }
    expected
}

pub fn check_fixtures(meta: &RuleMeta) {
    let root = fixture_root(meta.id);
    let entries: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("{}: {e}: every rule needs fixtures", root.display()))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    let name = |p: &Path| p.file_name().unwrap().to_string_lossy().to_string();
    assert!(
        entries.iter().any(|p| name(p).starts_with("bad")),
        "{}: no bad fixture",
        meta.id
    );
    assert!(
        entries.iter().any(|p| name(p).starts_with("good")),
        "{}: no good fixture",
        meta.id
    );
    for entry in entries {
        let options = LintOptions {
            paths: vec![entry.clone()],
            postgres_version: version_of(&name(&entry)),
            select: Some(vec![meta.id.to_string()]),
            ..LintOptions::default()
        };
        let outcome = lint(&options).expect("fixture lints");
        let actual: BTreeSet<Finding> = outcome
            .diagnostics
            .iter()
            .map(|d| {
                let span = d.span.expect("lint findings have a location");
                let file = outcome.sources.get(span.file);
                (
                    file.path.clone(),
                    file.line_col(span.start).0,
                    d.rule.to_string(),
                    d.severity.as_str().to_string(),
                )
            })
            .collect();
        let expected = expectations(&entry);
        if name(&entry).starts_with("bad") {
            assert!(
                !expected.is_empty(),
                "{}: a bad fixture must say what it expects",
                entry.display()
            );
        }
        assert_eq!(
            actual,
            expected,
            "{}: findings differ from the fixture's `expect:` comments",
            entry.display()
        );
    }
}
