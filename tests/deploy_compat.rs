//! `roundtrip --base REF --compat`: the models of REF run against the schema each new revision
//! leaves, on a real PostgreSQL, in a real git history of two commits.

use std::path::Path;
use std::process::Command;

mod common;
use common::{copy_tree, git, postgres_binaries, scratch_dir, test_python as python};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `main` holds the running version (its models, the revision building its tables); the
/// branch `feature` adds one revision per contract kind, one that only expands, and new models.
/// The branch also touches REF's own revision (a comment): it is still REF's, applied to build
/// the schema the deploy starts from, not judged.
fn two_commits(work: &Path) {
    two_commits_with(work, |_| {});
}

/// [`two_commits`], with `edit` applied to the project in both commits.
fn two_commits_with(work: &Path, edit: impl Fn(&Path)) {
    let fixture = repo().join("fixtures/roundtrip/deploy_compat");
    let project = work.join("migrations");
    copy_tree(&fixture.join("base"), &project);
    edit(&project);
    git(work, &["init", "-q", "-b", "main"]);
    git(work, &["add", "."]);
    git(work, &["commit", "-q", "-m", "running version"]);
    git(work, &["checkout", "-q", "-b", "feature"]);
    copy_tree(&fixture.join("feature"), &project);
    edit(&project);
    let first = project.join("versions/b1_tables.py");
    let text = std::fs::read_to_string(&first).unwrap();
    std::fs::write(&first, format!("{text}# Reformatted on the branch.\n")).unwrap();
    git(work, &["add", "."]);
    git(work, &["commit", "-q", "-m", "pull request"]);
}

/// `roundtrip migrations --postgres local --base main --compat EXTRA --format json` in `work`:
/// its exit code and JSON report.
fn compat_run(
    work: &Path,
    python: &str,
    extra: &[&str],
    env: &[(&str, &Path)],
) -> (Option<i32>, serde_json::Value) {
    let tmp = scratch_dir();
    let mut command = Command::new(env!("CARGO_BIN_EXE_migration-gate"));
    command
        .args([
            "roundtrip",
            "migrations",
            "--postgres",
            "local",
            "--base",
            "main",
            "--compat",
            "--format",
            "json",
            "--python",
            python,
        ])
        .args(extra)
        .current_dir(work)
        .env("TMPDIR", tmp.path())
        .env_remove("MIGRATION_GATE_DATABASE_URL");
    for (key, value) in env {
        command.env(key, value);
    }
    let output = command.output().unwrap();
    let document = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    });
    (output.status.code(), document)
}

/// The deploy-incompatible findings of `severity`: (revision, message).
fn deploy_findings(document: &serde_json::Value, severity: &str) -> Vec<(String, String)> {
    document["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["rule"] == "deploy-incompatible" && d["severity"] == severity)
        .map(|d| {
            (
                d["revision"].as_str().unwrap_or_default().to_string(),
                d["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn each_contract_kind_is_found_on_its_revision_and_the_expand_only_one_passes() {
    let (Some(python), Some(_)) = (python(), postgres_binaries()) else {
        return;
    };
    let work = tempfile::tempdir().unwrap();
    two_commits(work.path());
    let markdown = work.path().join("report.md");
    let markdown_format = format!("markdown={}", markdown.display());
    let (code, document) = compat_run(work.path(), &python, &["--format", &markdown_format], &[]);
    assert_eq!(code, Some(1), "{document:#}");
    // One note says what was judged: every statement of every table worked on REF's schema
    // (the CHECK on `parents`, the unique `t_natural.code` and the foreign key are met).
    let notes = deploy_findings(&document, "note");
    assert_eq!(notes.len(), 1, "{notes:#?}");
    assert!(
        notes[0]
            .1
            .starts_with("deploy compatibility: the models of `main` map 11 tables;")
            && !notes[0].1.contains("not judged"),
        "{}",
        notes[0].1
    );
    assert!(deploy_findings(&document, "warning").is_empty());
    let found = deploy_findings(&document, "error");
    let expected = [
        ("f1", "insert into `t_notnull`", "(23502)"),
        ("f2", "select from `t_rename`", "(42703)"),
        ("f3", "insert into `t_narrow`", "(22001)"),
        ("f4", "insert into `t_check`", "(23514)"),
        (
            "f5",
            "insert a second row with the same values into `t_unique`",
            "(23505)",
        ),
        ("f6", "select from `t_dropped`", "(42P01)"),
        (
            "f8",
            "insert into `t_optional` a row without the columns its model declares nullable",
            "(23502)",
        ),
    ];
    assert_eq!(found.len(), expected.len(), "{found:#?}");
    for ((revision, message), (want_revision, what, code)) in found.iter().zip(expected) {
        assert_eq!(revision, want_revision, "{message}");
        assert!(
            message.contains(&format!("models of `main`) cannot {what} once"))
                && message.contains(code),
            "{revision}: {message}"
        );
    }
    // The pull-request comment says it in a section of its own, each finding with its file,
    // and not again under the files.
    let report = std::fs::read_to_string(&markdown).unwrap();
    let section = report
        .split("<details>")
        .next()
        .unwrap()
        .split("#### 🚦 Deploy compatibility")
        .nth(1)
        .unwrap_or_else(|| panic!("no deploy section:\n{report}"));
    assert!(
        section.contains("at `migrations/versions/f1_not_null.py` line 5"),
        "{report}"
    );
    assert_eq!(
        section.matches("deploy-incompatible`]").count(),
        7,
        "{report}"
    );
    // The running version's statements on the tables no revision broke, a parent row inserted
    // first for the foreign key, all worked: nothing on f7, no note that anything went unjudged.
    let statuses: Vec<&str> = document["roundtrip"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, vec!["passed"; 8], "{document:#}");
}

/// Code-first, the new models meet REF's schema: each table they need changed is found on the
/// revision that changes it, and the contract-only revisions (a narrowed type, a constraint, a
/// dropped table the new models no longer map) need nothing of the new code.
#[test]
fn code_first_finds_the_revisions_the_new_models_need() {
    let (Some(python), Some(_)) = (python(), postgres_binaries()) else {
        return;
    };
    let work = tempfile::tempdir().unwrap();
    two_commits(work.path());
    let (code, document) = compat_run(work.path(), &python, &["--deploy-order", "code-first"], &[]);
    assert_eq!(code, Some(1), "{document:#}");
    let found = deploy_findings(&document, "error");
    let expected = [
        (
            "f1",
            "select from `t_notnull` until this revision is applied (code-first deploy)",
        ),
        (
            "f2",
            "select from `t_rename` until this revision is applied",
        ),
        ("f7", "select from `t_new` until"),
        ("f7", "select from `t_safe` until"),
    ];
    assert_eq!(found.len(), expected.len(), "{found:#?}");
    for ((revision, message), (want, what)) in found.iter().zip(expected) {
        assert_eq!(revision, want, "{message}");
        assert!(
            message.starts_with("the new version (this tree's models) cannot ")
                && message.contains(what),
            "{message}"
        );
    }
}

/// The models are importable through an absolute path into the working tree (PYTHONPATH, or
/// an editable install's entry): REF's driver still imports REF's models, from its checkout.
#[test]
fn refs_models_come_from_its_checkout_whatever_the_import_path_names() {
    let (Some(python), Some(_)) = (python(), postgres_binaries()) else {
        return;
    };
    let work = tempfile::tempdir().unwrap();
    two_commits_with(work.path(), |project| {
        let env = project.join("env.py");
        let text = std::fs::read_to_string(&env).unwrap().replace(
            "sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))\n",
            "",
        );
        std::fs::write(&env, text).unwrap();
    });
    let imports = work.path().join("migrations");
    let (_, document) = compat_run(work.path(), &python, &[], &[("PYTHONPATH", &imports)]);
    let revisions: Vec<String> = deploy_findings(&document, "error")
        .into_iter()
        .map(|(revision, _)| revision)
        .collect();
    assert_eq!(
        revisions,
        ["f1", "f2", "f3", "f4", "f5", "f6", "f8"],
        "{document:#}"
    );
}

#[test]
fn without_models_on_the_base_a_note_says_nothing_was_checked() {
    let (Some(python), Some(_)) = (python(), postgres_binaries()) else {
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let project = work.path().join("migrations");
    copy_tree(&repo().join("fixtures/roundtrip/clean"), &project);
    std::fs::remove_file(project.join("versions/c3_widen.py")).unwrap();
    git(work.path(), &["init", "-q", "-b", "main"]);
    git(work.path(), &["add", "."]);
    git(work.path(), &["commit", "-q", "-m", "history"]);
    git(work.path(), &["checkout", "-q", "-b", "feature"]);
    copy_tree(&repo().join("fixtures/roundtrip/clean"), &project);
    let (code, document) = compat_run(work.path(), &python, &[], &[]);
    assert_eq!(code, Some(0), "{document:#}");
    let notes = deploy_findings(&document, "note");
    assert_eq!(notes.len(), 1, "{document:#}");
    assert!(
        notes[0].1.contains("hands Alembic no `target_metadata`"),
        "{}",
        notes[0].1
    );
}

/// Statically, `check --base` says which dropped or renamed objects the models on REF still map.
#[test]
fn check_with_a_base_says_what_the_running_models_still_map() {
    let work = tempfile::tempdir().unwrap();
    two_commits(work.path());
    let output = Command::new(env!("CARGO_BIN_EXE_migration-gate"))
        .args(["check", "migrations", "--base", "main", "--format", "json"])
        .current_dir(work.path())
        .output()
        .unwrap();
    let document: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let message = |rule: &str| -> String {
        document["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["rule"] == rule)
            .map(|d| d["message"].as_str().unwrap().to_string())
            .unwrap_or_else(|| panic!("no {rule}: {document:#}"))
    };
    assert!(
        message("rename-column").ends_with(
            "; the models on `main` still map `t_rename.name` (migrations/models.py:7): the version running now uses it"
        ),
        "{}",
        message("rename-column")
    );
    assert!(
        message("drop-table").contains("the models on `main` still map `t_dropped`"),
        "{}",
        message("drop-table")
    );
    // Each contract kind the round trip proves is found statically on its revision too.
    let found: Vec<(String, String)> = document["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["revision"].as_str().unwrap_or_default().to_string(),
                d["rule"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    // Each new revision's operations as expand or contract, in one note.
    let phase = |revision: &str| -> String {
        document["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["rule"] == "deploy-phase" && d["revision"] == revision)
            .map(|d| d["message"].as_str().unwrap().to_string())
            .unwrap_or_else(|| panic!("no deploy-phase note on {revision}: {document:#}"))
    };
    assert!(
        phase("f1").contains("; contract: add NOT NULL column"),
        "{}",
        phase("f1")
    );
    assert!(
        phase("f6").contains("contract: drop table `t_dropped`"),
        "{}",
        phase("f6")
    );
    assert!(phase("f7").starts_with("expand only: "), "{}", phase("f7"));
    for (revision, rule) in [
        ("f1", "add-column-not-null-without-default"),
        ("f2", "rename-column"),
        ("f3", "change-column-type"),
        ("f4", "add-check-constraint-without-not-valid"),
        ("f5", "add-unique-constraint"),
        ("f6", "drop-table"),
        ("f8", "set-not-null"),
    ] {
        assert!(
            found.contains(&(revision.to_string(), rule.to_string())),
            "{revision}: no {rule} in {found:?}"
        );
    }
}

#[test]
fn compat_needs_a_base() {
    let output = Command::new(env!("CARGO_BIN_EXE_migration-gate"))
        .args(["roundtrip", "migrations", "--compat"])
        .current_dir(repo())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--base"));
}
