//! The binary as users run it: exit codes, JSON shape, bad input, config errors.

mod common;

use std::path::Path;
use std::process::Output;

use common::git;
use common::project::run;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

/// (rule, file name, line, severity) of every finding.
fn findings(document: &serde_json::Value) -> Vec<(String, String, u64, String)> {
    document["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let path = d["path"].as_str().unwrap_or_default();
            let name = path.rsplit('/').next().unwrap_or_default().to_string();
            (
                d["rule"].as_str().unwrap().to_string(),
                name,
                d["line"].as_u64().unwrap_or(0),
                d["severity"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn sample_project_findings_in_the_designs_json_shape() {
    let output = run(&["check", "migrations/", "--format", "json"], repo());
    assert_eq!(output.status.code(), Some(1), "errors found → exit 1");
    let document = json(&output);
    assert_eq!(document["version"], 1);
    assert_eq!(document["tool"]["name"], "migration-gate");
    let first = &document["diagnostics"][0];
    for key in [
        "rule",
        "severity",
        "message",
        "help",
        "path",
        "line",
        "column",
        "end_line",
        "end_column",
        "revision",
        "phase",
        "source",
    ] {
        assert!(
            first.get(key).is_some(),
            "diagnostic lacks `{key}`: {first}"
        );
    }
    assert!(
        first["path"]
            .as_str()
            .unwrap()
            .starts_with("migrations/versions/"),
        "{first}"
    );
    let expected = [
        (
            "prefer-bigint-primary-key",
            "1a2b3c4d5e6f_create_councils_and_properties.py",
            20,
            "note",
        ),
        (
            "prefer-bigint-primary-key",
            "1a2b3c4d5e6f_create_councils_and_properties.py",
            27,
            "note",
        ),
        (
            "prefer-bigint-primary-key",
            "2b3c4d5e6f7a_create_ratepayers.py",
            20,
            "note",
        ),
        (
            "prefer-bigint-primary-key",
            "3c4d5e6f7a8b_create_levies_and_status_enum.py",
            21,
            "note",
        ),
        (
            "prefer-timestamptz",
            "3c4d5e6f7a8b_create_levies_and_status_enum.py",
            21,
            "note",
        ),
        (
            "create-index-non-concurrently",
            "5e6f7a8b9c0d_index_levies_by_status.py",
            21,
            "error",
        ),
        (
            "drop-index-non-concurrently",
            "5e6f7a8b9c0d_index_levies_by_status.py",
            26,
            "warning",
        ),
        (
            "add-column-volatile-default",
            "6f7a8b9c0d1e_add_levy_reference.py",
            21,
            "error",
        ),
        (
            "add-column-not-null-with-default",
            "6f7a8b9c0d1e_add_levy_reference.py",
            22,
            "note",
        ),
        (
            "add-column-not-null-without-default",
            "9c0d1e2f3a4b_council_contact_email.py",
            21,
            "error",
        ),
        (
            "concurrent-index-in-transaction",
            "a0b1c2d3e4f5_levy_search_index.py",
            19,
            "error",
        ),
        (
            "drop-index-non-concurrently",
            "a0b1c2d3e4f5_levy_search_index.py",
            23,
            "warning",
        ),
        (
            "add-column-not-null-with-default",
            "b1c2d3e4f5a6_archive_flag.py",
            20,
            "note",
        ),
        (
            "missing-downgrade",
            "b1c2d3e4f5a6_archive_flag.py",
            23,
            "error",
        ),
    ];
    let actual = findings(&document);
    let expected: Vec<(String, String, u64, String)> = expected
        .iter()
        .map(|(rule, file, line, severity)| {
            (
                rule.to_string(),
                file.to_string(),
                *line,
                severity.to_string(),
            )
        })
        .collect();
    assert_eq!(actual, expected, "the sample's findings, in report order");
    assert_eq!(document["summary"]["revisions"], 11);
    let summary = &document["summary"];
    let errors = actual.iter().filter(|f| f.3 == "error").count() as u64;
    assert_eq!(summary["errors"], errors);
}

#[test]
fn text_output_shows_the_source_line_and_a_summary() {
    let output = run(&["check", "migrations"], repo());
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains("error[create-index-non-concurrently]"),
        "{text}"
    );
    assert!(
        text.contains("--> migrations/versions/5e6f7a8b9c0d_index_levies_by_status.py:21:9"),
        "{text}"
    );
    assert!(
        text.contains("batch_op.create_index(batch_op.f('ix_levies_status')"),
        "{text}"
    );
    assert!(!text.contains('\u{1b}'), "no colour when not on a terminal");
    assert!(
        text.trim_end().ends_with("in 12 files and 11 revisions"),
        "{text}"
    );
}

#[test]
fn fail_on_and_select_decide_the_exit_code() {
    let only_notes = run(
        &[
            "check",
            "migrations",
            "--select",
            "add-column-not-null-with-default",
        ],
        repo(),
    );
    assert_eq!(only_notes.status.code(), Some(0));
    let strict = run(
        &[
            "check",
            "migrations",
            "--select",
            "add-column-not-null-with-default",
            "--fail-on",
            "note",
        ],
        repo(),
    );
    assert_eq!(strict.status.code(), Some(1));
    let never = run(&["check", "migrations", "--fail-on", "never"], repo());
    assert_eq!(never.status.code(), Some(0));
    let unknown = run(&["check", "migrations", "--select", "no-such-rule"], repo());
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("unknown rule `no-such-rule`"));
}

#[test]
fn broken_inputs_get_diagnostics_and_exit_2_without_panicking() {
    let output = run(&["check", "fixtures/broken", "--format", "json"], repo());
    assert_eq!(
        output.status.code(),
        Some(2),
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    let actual = findings(&json(&output));
    let has = |rule: &str, file: &str, line: u64| {
        actual
            .iter()
            .any(|f| f.0 == rule && f.1 == file && f.2 == line)
    };
    assert!(has("syntax-error", "syntax_error.py", 6), "{actual:#?}");
    assert!(has("unreadable-file", "binary.py", 1), "{actual:#?}");
    assert!(has("unreadable-file", "latin1.py", 1), "{actual:#?}");
    assert!(has("invalid-revision-id", "empty.py", 1), "{actual:#?}");
    // 10,000 nested brackets are over the nesting budget (CPython refuses 200): not parsed.
    assert!(has("unreadable-file", "nested_parens.py", 4), "{actual:#?}");
    // The 5 MB file was parsed, not skipped: it takes part in the graph.
    assert!(has("multiple-heads", "huge.py", 1), "{actual:#?}");
}

#[test]
fn config_errors_name_the_key_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("migration-gate.toml"),
        "postgres_verison = 12\n",
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("sql")).unwrap();
    std::fs::write(
        dir.path().join("sql/001_a.sql"),
        "CREATE TABLE a (id int PRIMARY KEY);\n",
    )
    .unwrap();
    let output = run(&["check", "sql"], dir.path());
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("postgres_verison"), "{stderr}");

    std::fs::write(dir.path().join("migration-gate.toml"), "").unwrap();
    std::fs::write(
        dir.path().join("pyproject.toml"),
        "[tool.migration-gate]\npostgres_version = 10\n",
    )
    .unwrap();
    std::fs::remove_file(dir.path().join("migration-gate.toml")).unwrap();
    std::fs::write(
        dir.path().join("sql/002_b.sql"),
        "ALTER TABLE a ADD COLUMN b int NOT NULL DEFAULT 0;\n",
    )
    .unwrap();
    let output = run(&["check", "sql", "--format", "json"], dir.path());
    let actual = findings(&json(&output));
    assert!(
        actual
            .iter()
            .any(|f| f.0 == "add-column-not-null-with-default" && f.3 == "error"),
        "pyproject's postgres_version = 10 applies: {actual:#?}"
    );
}

#[test]
fn missing_paths_and_empty_folders_are_errors() {
    let output = run(&["check", "does/not/exist"], repo());
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("does/not/exist"));
    let empty = tempfile::tempdir().unwrap();
    let output = run(&["check", "."], empty.path());
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("no migrations found"));
}

#[test]
fn suppressions_silence_findings_and_unused_ones_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let versions = dir.path().join("migrations/versions");
    std::fs::create_dir_all(&versions).unwrap();
    std::fs::write(
        dir.path().join("migrations/env.py"),
        "from alembic import context\n",
    )
    .unwrap();
    std::fs::write(
        versions.join("a1_index.py"),
        r#"from alembic import op

revision = "a1"
down_revision = None


def upgrade():
    op.create_index("ix_a", "users", ["a"])  # migration-gate: ignore[create-index-non-concurrently] 40 rows
    # migration-gate: ignore[create-index-non-concurrently]
    op.create_index("ix_b", "users", ["b"])
    op.create_index("ix_c", "users", ["c"])
    op.add_column("users", sa.Column("d", sa.Integer()))  # migration-gate: ignore[drop-column]


def downgrade():
    op.drop_index("ix_c")
    op.drop_index("ix_b")
    op.drop_index("ix_a")
"#,
    )
    .unwrap();
    let output = run(&["check", "migrations", "--format", "json"], dir.path());
    let actual = findings(&json(&output));
    let lines = |rule: &str| {
        actual
            .iter()
            .filter(|f| f.0 == rule)
            .map(|f| f.2)
            .collect::<Vec<_>>()
    };
    assert_eq!(lines("create-index-non-concurrently"), [11]);
    assert_eq!(lines("unused-suppression"), [12]);
}

#[test]
fn files_named_inside_a_set_are_linted_with_the_whole_graph() {
    // pre-commit passes single files: the graph must still see every revision.
    let output = run(
        &[
            "check",
            "migrations/versions/9c0d1e2f3a4b_council_contact_email.py",
            "--format",
            "json",
        ],
        repo(),
    );
    let actual = findings(&json(&output));
    assert!(
        actual
            .iter()
            .all(|f| f.1 == "9c0d1e2f3a4b_council_contact_email.py"),
        "{actual:#?}"
    );
    assert!(
        actual
            .iter()
            .any(|f| f.0 == "add-column-not-null-without-default")
    );
    assert!(
        !actual.iter().any(|f| f.0 == "multiple-heads"),
        "{actual:#?}"
    );
}

#[test]
fn rules_and_explain() {
    let output = run(&["rules"], repo());
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("create-index-non-concurrently") && text.contains("error"));
    let explain = run(&["explain", "create-index-non-concurrently"], repo());
    assert!(String::from_utf8_lossy(&explain.stdout).contains("CREATE INDEX CONCURRENTLY"));
    let unknown = run(&["explain", "nope"], repo());
    assert_eq!(unknown.status.code(), Some(2));
}

#[test]
fn every_rule_has_its_doc_and_fixtures() {
    let output = run(&["rules", "--format", "json"], repo());
    let list: Vec<serde_json::Value> = serde_json::from_slice(&output.stdout).unwrap();
    let engine = [
        "syntax-error",
        "unreadable-file",
        "skipped-link",
        "skipped-folder",
        "unused-suppression",
    ];
    let docs: Vec<String> = std::fs::read_dir(repo().join("rules"))
        .unwrap()
        .map(|e| {
            e.unwrap()
                .file_name()
                .to_string_lossy()
                .trim_end_matches(".md")
                .to_string()
        })
        .collect();
    for rule in &list {
        let id = rule["id"].as_str().unwrap();
        assert!(docs.contains(&id.to_string()), "rules/{id}.md is missing");
        let doc = std::fs::read_to_string(repo().join(format!("rules/{id}.md"))).unwrap();
        assert!(
            doc.contains("## What it flags")
                && doc.contains("## Why")
                && doc.contains("## The safe way"),
            "rules/{id}.md lacks a section"
        );
        // Round-trip, deploy and gate findings are proven on a real PostgreSQL
        // (tests/roundtrip.rs, tests/deploy_compat.rs, tests/gate.rs).
        let proven_on_postgres = ["roundtrip", "deploy", "gate"]
            .iter()
            .any(|source| rule["source"] == *source);
        if !engine.contains(&id) && !proven_on_postgres {
            let fixtures = repo().join("fixtures/rules").join(id);
            let names: Vec<String> = std::fs::read_dir(&fixtures)
                .unwrap_or_else(|_| panic!("fixtures/rules/{id}/ is missing"))
                .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
                .collect();
            assert!(
                names.iter().any(|n| n.starts_with("bad"))
                    && names.iter().any(|n| n.starts_with("good")),
                "{id}: needs bad and good fixtures"
            );
        }
    }
    for doc in docs {
        assert!(
            list.iter().any(|r| r["id"] == doc.as_str()),
            "rules/{doc}.md documents no registered rule"
        );
    }
}

#[test]
fn several_migration_sets_in_one_repository_are_checked_separately() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("service/migrations/versions")).unwrap();
    std::fs::write(
        root.join("service/migrations/env.py"),
        "from alembic import context\n",
    )
    .unwrap();
    for (id, parent) in [("a1", "None"), ("b1", "'a1'"), ("c1", "'a1'")] {
        std::fs::write(
            root.join(format!("service/migrations/versions/{id}_x.py")),
            format!("revision = '{id}'\ndown_revision = {parent}\n\n\ndef upgrade():\n    pass\n\n\ndef downgrade():\n    pass\n"),
        )
        .unwrap();
    }
    std::fs::create_dir_all(root.join("worker/db")).unwrap();
    std::fs::write(
        root.join("worker/db/001_jobs.up.sql"),
        "CREATE TABLE jobs (id bigint PRIMARY KEY);\n",
    )
    .unwrap();
    std::fs::write(
        root.join("worker/db/002_idx.up.sql"),
        "CREATE INDEX ix_jobs ON jobs (id);\n",
    )
    .unwrap();
    std::fs::write(
        root.join("worker/db/002_idx.down.sql"),
        "DROP INDEX ix_jobs;\n",
    )
    .unwrap();
    let output = run(&["check", ".", "--format", "json"], root);
    let actual = findings(&json(&output));
    let count = |rule: &str| actual.iter().filter(|f| f.0 == rule).count();
    assert_eq!(count("multiple-heads"), 2, "{actual:#?}");
    assert_eq!(count("create-index-non-concurrently"), 1, "{actual:#?}");
    assert!(
        actual
            .iter()
            .any(|f| f.0 == "missing-downgrade" && f.1 == "001_jobs.up.sql"),
        "{actual:#?}"
    );
    assert_eq!(json(&output)["summary"]["revisions"], 5);
}

/// Flask-Migrate keeps alembic.ini inside migrations/ with `script_location = .`; checked from
/// there, the project is one set, not two that repeat every finding.
#[test]
fn a_project_checked_from_inside_its_script_folder_is_read_once() {
    let from_above = json(&run(&["check", "migrations", "--format", "json"], repo()));
    for args in [
        &["check", "--format", "json"][..],
        &["check", ".", "--format", "json"],
    ] {
        let from_inside = json(&run(args, &repo().join("migrations")));
        assert_eq!(
            from_inside["summary"],
            from_above["summary"],
            "{args:?}: {:#?}",
            findings(&from_inside)
        );
        assert_eq!(findings(&from_inside).len(), findings(&from_above).len());
    }
}

#[test]
fn graph_marks_heads_bases_branch_points_and_merges() {
    let fixture = repo().join("fixtures/rules/revision-cycle/good");
    let text = run(&["graph", fixture.to_str().unwrap()], repo());
    assert!(text.status.success());
    let stdout = String::from_utf8_lossy(&text.stdout)
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        stdout.contains("4 revisions, 1 head(s), 1 base(s), 1 branch point(s), 1 merge(s)"),
        "{stdout}"
    );
    assert!(stdout.contains("m4 ← a2 + b3 [head; merge]"), "{stdout}");
    assert!(stdout.contains("b3 ← base1 (depends on a2)"), "{stdout}");
    assert!(
        stdout.contains("base1 [base; branch point → a2, b3]"),
        "{stdout}"
    );

    let mermaid = run(
        &["graph", "--format", "mermaid", fixture.to_str().unwrap()],
        repo(),
    );
    let stdout = String::from_utf8_lossy(&mermaid.stdout);
    assert!(stdout.starts_with("flowchart BT\n"), "{stdout}");
    assert!(stdout.contains("-.->|depends on|"), "{stdout}");
    assert!(stdout.contains(":::head"), "{stdout}");

    let document = json(&run(
        &["graph", "--format", "json", fixture.to_str().unwrap()],
        repo(),
    ));
    let set = &document["sets"][0];
    assert_eq!(set["heads"], serde_json::json!(["m4"]));
    assert_eq!(set["merge_points"], serde_json::json!(["m4"]));
    let order: Vec<&str> = set["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_str().unwrap())
        .collect();
    assert_eq!(order.first(), Some(&"m4"));
    assert_eq!(order.last(), Some(&"base1"));

    let cycle = repo().join("fixtures/rules/revision-cycle/bad_loop");
    let stdout = String::from_utf8_lossy(&run(&["graph", cycle.to_str().unwrap()], repo()).stdout)
        .to_string();
    assert!(stdout.contains("IN A CYCLE"), "{stdout}");
}

#[test]
fn base_ref_errors_say_what_to_fetch() {
    let origin = tempfile::tempdir().unwrap();
    let fixture = repo().join("fixtures/rules/revision-not-on-head/base");
    let migrations = origin.path().join("migrations");
    std::fs::create_dir_all(migrations.join("versions")).unwrap();
    for name in ["env.py", "versions/1a2b3c4d5e01_create_users.py"] {
        std::fs::copy(fixture.join(name), migrations.join(name)).unwrap();
    }
    git(origin.path(), &["init", "-q", "-b", "main"]);
    git(origin.path(), &["add", "."]);
    git(origin.path(), &["commit", "-q", "-m", "one"]);
    std::fs::copy(
        fixture.join("versions/1a2b3c4d5e02_add_name.py"),
        migrations.join("versions/1a2b3c4d5e02_add_name.py"),
    )
    .unwrap();
    git(origin.path(), &["add", "."]);
    git(origin.path(), &["commit", "-q", "-m", "two"]);
    git(
        origin.path(),
        &["checkout", "-q", "-b", "feature", "HEAD~1"],
    );
    git(
        origin.path(),
        &["commit", "-q", "--allow-empty", "-m", "three"],
    );

    let unknown = run(
        &["check", "--base", "origin/nope", "migrations"],
        origin.path(),
    );
    assert_eq!(unknown.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&unknown.stderr);
    assert!(stderr.contains("--base origin/nope"), "{stderr}");
    assert!(stderr.contains("fetch-depth: 0"), "{stderr}");

    // A CI checkout: the branch one commit deep, the base branch fetched at its tip only.
    let clone = tempfile::tempdir().unwrap();
    let url = format!("file://{}", origin.path().display());
    git(
        clone.path(),
        &[
            "clone", "-q", "--depth", "1", "--branch", "feature", &url, "checkout",
        ],
    );
    let checkout = clone.path().join("checkout");
    let missing = run(&["check", "--base", "origin/main", "migrations"], &checkout);
    assert_eq!(missing.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(stderr.contains("is not in this shallow clone"), "{stderr}");
    git(
        &checkout,
        &[
            "fetch",
            "-q",
            "--depth",
            "1",
            "origin",
            "main:refs/remotes/origin/main",
        ],
    );
    let shallow = run(&["check", "--base", "origin/main", "migrations"], &checkout);
    assert_eq!(shallow.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&shallow.stderr);
    assert!(stderr.contains("shallow clone lacks"), "{stderr}");
    assert!(stderr.contains("fetch-depth: 0"), "{stderr}");

    // Outside a repository.
    let plain = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(plain.path().join("migrations/versions")).unwrap();
    std::fs::copy(
        fixture.join("env.py"),
        plain.path().join("migrations/env.py"),
    )
    .unwrap();
    std::fs::copy(
        fixture.join("versions/1a2b3c4d5e01_create_users.py"),
        plain.path().join("migrations/versions/a.py"),
    )
    .unwrap();
    let outside = run(&["check", "--base", "main", "migrations"], plain.path());
    assert_eq!(outside.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&outside.stderr).contains("not inside a git repository"));
}

#[test]
fn base_lints_only_what_the_branch_changed() {
    let repo_dir = tempfile::tempdir().unwrap();
    let root = repo_dir.path();
    let bad = repo().join("fixtures/rules/create-index-non-concurrently/bad.py");
    std::fs::create_dir_all(root.join("migrations/versions")).unwrap();
    std::fs::write(
        root.join("migrations/env.py"),
        "from alembic import context\n",
    )
    .unwrap();
    std::fs::copy(&bad, root.join("migrations/versions/old.py")).unwrap();
    git(root, &["init", "-q", "-b", "main"]);
    git(root, &["add", "."]);
    git(root, &["commit", "-q", "-m", "old"]);
    git(root, &["checkout", "-q", "-b", "feature"]);

    let everything = json(&run(&["check", "--format", "json", "migrations"], root));
    assert!(!findings(&everything).is_empty());
    let nothing_new = run(
        &["check", "--format", "json", "--base", "main", "migrations"],
        root,
    );
    assert_eq!(nothing_new.status.code(), Some(0), "{nothing_new:?}");
    assert_eq!(json(&nothing_new)["diagnostics"], serde_json::json!([]));
}

/// The static part of the design's rule catalog, ids as users write them in config.
const DESIGN_CATALOG: &[&str] = &[
    "multiple-heads",
    "missing-parent-revision",
    "duplicate-revision-id",
    "revision-cycle",
    "invalid-revision-id",
    "revision-not-on-head",
    "missing-downgrade",
    "incomplete-downgrade",
    "unnamed-constraint",
    "autocommit-block-without-transaction-per-migration",
    "create-index-non-concurrently",
    "drop-index-non-concurrently",
    "concurrent-index-in-transaction",
    "add-column-not-null-with-default",
    "add-column-volatile-default",
    "add-column-not-null-without-default",
    "change-column-type",
    "set-not-null",
    "add-foreign-key-without-not-valid",
    "add-check-constraint-without-not-valid",
    "add-unique-constraint",
    "add-primary-key",
    "rename-column",
    "rename-table",
    "drop-column",
    "drop-table",
    "truncate-table",
    "missing-lock-timeout",
    "add-enum-value",
    "blocking-maintenance",
    "unbatched-data-migration",
    "create-table-without-primary-key",
    "batch-recreate-table",
    "prefer-timestamptz",
    "prefer-bigint-primary-key",
    "prefer-jsonb",
    "unparsed-sql",
    "dynamic-sql",
    // Beyond the design's catalog.
    "identifier-too-long",
    "validate-in-same-transaction",
    "table-rewrite",
    "prefer-identity",
    "prefer-text",
    "avoid-char-type",
    "add-exclusion-constraint",
    "detach-partition-non-concurrently",
    "rename-enum-value",
    "rename-schema",
    "drop-database",
    "drop-not-null",
    "transaction-control-in-migration",
    "concurrent-index-not-retryable",
    "foreign-key-without-index",
    "add-column-checked-domain",
    "attach-partition-without-check",
    "add-domain-constraint",
    // Added beyond the design's catalog by issue #30.
    "drop-cascade",
    "system-catalog-write",
];

#[test]
fn rules_lists_the_designs_catalog_and_the_engines_own_findings() {
    let listed = json(&run(&["rules", "--format", "json"], repo()));
    let mut ids: Vec<String> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    let mut expected: Vec<String> = DESIGN_CATALOG
        .iter()
        .chain(&[
            "syntax-error",
            "unreadable-file",
            "unused-suppression",
            "skipped-link",
            "skipped-folder",
            "roundtrip-upgrade-failed",
            "roundtrip-downgrade-failed",
            "roundtrip-reupgrade-failed",
            "roundtrip-schema-drift",
            "roundtrip-not-repeatable",
            "roundtrip-model-drift",
            "roundtrip-ran-nothing",
            "roundtrip-irreversible",
            "roundtrip-env-fallback",
            "deploy-incompatible",
            "deploy-phase",
            "traced-access-exclusive-lock",
            "traced-table-rewrite",
            "gate-unknown-revision",
            "gate-schema-drift",
            "gate-pending-revisions",
        ])
        .map(|s| s.to_string())
        .collect();
    expected.sort();
    assert_eq!(ids, expected);
}

#[test]
fn an_unknown_rule_id_suggests_the_closest_ones() {
    let output = run(
        &[
            "check",
            "migrations",
            "--select",
            "create-index-nonconcurrently",
        ],
        repo(),
    );
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("did you mean `create-index-non-concurrently`"),
        "{stderr}"
    );
    let explain = run(&["explain", "lock-timeout"], repo());
    assert_eq!(explain.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&explain.stderr).contains("`missing-lock-timeout`"),
        "{}",
        String::from_utf8_lossy(&explain.stderr)
    );
}

/// A pre-commit hook passes every changed file; files around the revisions are not revisions.
#[test]
fn files_that_are_not_revisions_are_not_reported() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path();
    common::copy_sample(project);
    std::fs::write(project.join("migrations/versions/__init__.py"), "").unwrap();
    std::fs::write(
        project.join("migrations/versions/_helpers.py"),
        "def batch(n):\n    return range(0, n, 1000)\n",
    )
    .unwrap();
    for files in [
        vec!["migrations/env.py"],
        vec!["migrations/script.py.mako"],
        vec!["migrations/alembic.ini", "migrations/versions/__init__.py"],
        vec!["migrations/versions/_helpers.py"],
    ] {
        let mut args = vec!["check"];
        args.extend(&files);
        let output = run(&args, project);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert_eq!(output.status.code(), Some(0), "{files:?}: {stdout}");
        assert!(!stdout.contains("error["), "{files:?}: {stdout}");
    }
    // The whole folder with the helper in it: the helper is not a revision either.
    let whole = run(&["check", "migrations", "--format", "json"], project);
    let report: serde_json::Value = serde_json::from_slice(&whole.stdout).unwrap();
    assert_eq!(report["summary"]["revisions"], 11);
    assert!(
        !report["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["path"].as_str().unwrap().contains("_helpers"))
    );
    // A file outside any migration layout is an error, not linted as SQL.
    let hostname = project.join("hostname");
    std::fs::write(&hostname, "db01\n").unwrap();
    let output = run(&["check", "hostname"], project);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("not a migration file"));
}

#[test]
fn folders_named_for_other_databases_are_not_judged_as_postgresql() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let index = "CREATE INDEX ix_jobs_state ON jobs (state);\n";
    for folder in [
        "server/db/migration/POSTGRESQL",
        "server/db/migration/SQL_SERVER",
        "server/db/migration/H2",
        "server/db/migration/DB2",
        "mysql-persistence/src/main/resources/db/migration",
        "sqlite-store/db/migration_sqlite",
    ] {
        std::fs::create_dir_all(root.join(folder)).unwrap();
        std::fs::write(root.join(folder).join("V2__job_state_index.sql"), index).unwrap();
    }
    let output = run(&["check", ".", "--format", "json"], root);
    let paths: Vec<String> = findings(&json(&output))
        .into_iter()
        .filter(|f| f.0 == "create-index-non-concurrently")
        .map(|f| f.1)
        .collect();
    assert_eq!(paths, ["V2__job_state_index.sql"], "{output:?}");
    assert_eq!(json(&output)["summary"]["files"], 1);
}

fn write_revision(path: &Path, id: &str, parent: Option<&str>, upgrade: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let parent = parent.map_or("None".to_string(), |p| format!("'{p}'"));
    std::fs::write(
        path,
        format!("from alembic import op\n\nrevision = '{id}'\ndown_revision = {parent}\n\n\ndef upgrade():\n    {upgrade}\n\n\ndef downgrade():\n    pass\n"),
    )
    .unwrap();
}

#[test]
fn sub_folders_with_their_own_base_are_histories_of_their_own() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("revisions/versions")).unwrap();
    std::fs::write(
        root.join("revisions/env.py"),
        "from alembic import context\n",
    )
    .unwrap();
    for component in ["core", "tenant"] {
        let folder = root.join("revisions/versions").join(component);
        write_revision(
            &folder.join("a_base.py"),
            &format!("{component}_a"),
            None,
            "pass",
        );
        write_revision(
            &folder.join("b_next.py"),
            &format!("{component}_b"),
            Some(&format!("{component}_a")),
            "pass",
        );
    }
    // Folders per release whose revisions continue each other stay one history.
    let releases = root.join("app/migrations/versions");
    write_revision(&releases.join("2023/r1.py"), "r1", None, "pass");
    write_revision(&releases.join("2024/r2.py"), "r2", Some("r1"), "pass");
    write_revision(&releases.join("2024/r3.py"), "r3", Some("r1"), "pass");
    std::fs::write(
        root.join("app/migrations/env.py"),
        "from alembic import context\n",
    )
    .unwrap();
    let output = run(&["check", ".", "--format", "json"], root);
    let heads: Vec<String> = findings(&json(&output))
        .into_iter()
        .filter(|f| f.0 == "multiple-heads")
        .map(|f| f.1)
        .collect();
    assert_eq!(
        heads.len(),
        2,
        "only the release history branches: {output:?}"
    );
    assert!(
        heads.iter().all(|f| f == "r2.py" || f == "r3.py"),
        "{heads:?}"
    );
}

#[test]
fn plugin_migrations_without_env_py_are_found_and_ini_locations_are_honoured() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let index = "op.create_index('ix_solves_user', 'solves', ['user_id'])";
    write_revision(
        &root.join("app/plugins/scores/migrations/p1_solves.py"),
        "p1",
        None,
        index,
    );
    write_revision(
        &root.join("app/plugins/scores/migrations/p2_more.py"),
        "p2",
        Some("p1"),
        "pass",
    );
    // Alembic reads only the locations the ini names, sub-folders only when recursive.
    std::fs::create_dir_all(root.join("db/versions/archive")).unwrap();
    std::fs::write(root.join("db/env.py"), "from alembic import context\n").unwrap();
    std::fs::write(
        root.join("alembic.ini"),
        "[alembic]\nscript_location = %(here)s/db\nversion_locations = %(here)s/db/versions\n",
    )
    .unwrap();
    write_revision(&root.join("db/versions/m1.py"), "m1", None, index);
    write_revision(&root.join("db/versions/archive/old.py"), "old", None, index);
    let output = run(&["check", ".", "--format", "json"], root);
    let mut flagged: Vec<String> = findings(&json(&output))
        .into_iter()
        .filter(|f| f.0 == "create-index-non-concurrently")
        .map(|f| f.1)
        .collect();
    flagged.sort();
    assert_eq!(flagged, ["m1.py", "p1_solves.py"], "{output:?}");
}

#[test]
fn roundtrip_from_or_to_naming_an_unknown_revision_is_an_error_before_any_database() {
    let output = run(
        &["roundtrip", "fixtures/roundtrip/clean", "--to", "c22"],
        repo(),
    );
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--to c22: no such revision") && stderr.contains("did you mean `c2`,"),
        "{stderr}"
    );
}
