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

/// One fixture of a rule, for tests that look at more than the findings' lines.
pub fn fixture_path(rule: &str, name: &str) -> PathBuf {
    fixture_root(rule).join(name)
}

/// The messages of `meta`'s findings on one of its fixtures, in report order.
pub fn fixture_messages(meta: &RuleMeta, name: &str) -> Vec<String> {
    fixture_diagnostics(meta, name)
        .into_iter()
        .map(|d| d.message)
        .collect()
}

/// The help lines of a rule's findings on one fixture.
pub fn fixture_helps(meta: &RuleMeta, name: &str) -> Vec<String> {
    fixture_diagnostics(meta, name)
        .into_iter()
        .filter_map(|d| d.help)
        .collect()
}

fn fixture_diagnostics(meta: &RuleMeta, name: &str) -> Vec<crate::diagnostic::Diagnostic> {
    let options = crate::lint::LintOptions {
        paths: vec![fixture_path(meta.id, name)],
        select: Some(vec![meta.id.to_string()]),
        ..Default::default()
    };
    crate::lint::lint(&options)
        .expect("fixture lints")
        .diagnostics
}

/// Postgres version from a fixture's name: `bad_pg10.py` runs with `postgres_version = 10`.
fn version_of(name: &str) -> u32 {
    name.split(['_', '.', '-'])
        .find_map(|part| part.strip_prefix("pg").and_then(|v| v.parse().ok()))
        .unwrap_or(crate::config::DEFAULT_POSTGRES_VERSION)
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

fn findings(outcome: &crate::lint::Outcome) -> BTreeSet<Finding> {
    outcome
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
        .collect()
}

fn git(repo: &Path, args: &[&str]) {
    let status = std::process::Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .current_dir(repo)
        .output()
        .expect("git runs");
    assert!(
        status.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&status.stderr)
    );
}

fn copy_tree(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from)
        .into_iter()
        .filter_map(Result::ok)
    {
        let target = to.join(entry.path().strip_prefix(from).unwrap());
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// For rules that need `--base`: `base/` is where a branch leaves `main`, `base_later/` what
/// `main` gains afterwards. A `bad*` entry is a branch from `base/` adding its files; a `good*`
/// entry a branch from `main`'s tip. Each runs in a fresh git repository with `--base main`.
pub fn check_fixtures_against_base(meta: &RuleMeta) {
    let root = fixture_root(meta.id);
    let mut entries: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.starts_with("bad") || name.starts_with("good")
        })
        .collect();
    entries.sort();
    assert!(
        entries.len() >= 2,
        "{}: needs bad and good fixtures",
        meta.id
    );
    for entry in entries {
        let repo = tempfile::tempdir().unwrap();
        let repo = repo.path();
        let migrations = repo.join("migrations");
        git(repo, &["init", "-q", "-b", "main"]);
        copy_tree(&root.join("base"), &migrations);
        git(repo, &["add", "."]);
        git(
            repo,
            &["commit", "-q", "-m", "history where the branch leaves"],
        );
        git(repo, &["branch", "feature"]);
        copy_tree(&root.join("base_later"), &migrations);
        git(repo, &["add", "."]);
        git(repo, &["commit", "-q", "-m", "main moves on"]);
        let rebased = entry
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("good");
        if !rebased {
            git(repo, &["checkout", "-q", "feature"]);
        }
        copy_tree(&entry, &migrations);
        let outcome = lint(&LintOptions {
            paths: vec![migrations.clone()],
            select: Some(vec![meta.id.to_string()]),
            base: Some("main".into()),
            ..LintOptions::default()
        })
        .expect("fixture lints");
        let relative = |path: &str| {
            let path = Path::new(path);
            let canonical = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
            let repo = migrations.canonicalize().unwrap();
            canonical
                .strip_prefix(&repo)
                .map(|p| p.to_string_lossy().to_string())
                .unwrap_or_else(|_| path.display().to_string())
        };
        let actual: BTreeSet<Finding> = findings(&outcome)
            .into_iter()
            .map(|(file, line, rule, severity)| (relative(&file), line, rule, severity))
            .collect();
        let expected: BTreeSet<Finding> = expectations(&entry)
            .into_iter()
            .map(|(file, line, rule, severity)| {
                let file = Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
                let inside = file
                    .strip_prefix(&entry)
                    .unwrap()
                    .to_string_lossy()
                    .to_string();
                (inside, line, rule, severity)
            })
            .collect();
        assert_eq!(actual, expected, "{}", entry.display());
    }
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
        let actual = findings(&outcome);
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
