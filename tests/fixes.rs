//! `check --fix` / `--diff`: every fix proven on the history it fixes — its finding goes away,
//! the file still parses (for Python: CPython compiles it), fixing again changes nothing, and
//! the fixed history round-trips on a real PostgreSQL with the SQL the fix meant to send.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output};

mod common;
use common::{copy_tree, postgres_binaries, scratch_dir, test_python as python};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_migration-gate"))
        .args(args)
        .current_dir(dir)
        .env_remove("GITHUB_ACTIONS")
        .output()
        .expect("the binary runs")
}

/// A copy of `fixtures/fixes/<name>` in a folder a local cluster's user can reach.
fn copy_fixture(name: &str) -> tempfile::TempDir {
    let dir = scratch_dir();
    copy_tree(&repo().join("fixtures/fixes").join(name), dir.path());
    dir
}

/// `roundtrip` on a local cluster, run from inside `dir` (the project in the current folder,
/// named by no path), with the test Python for Alembic histories; it must pass. Its JSON.
fn round_trips(dir: &Path, python: Option<&str>) -> serde_json::Value {
    let mut args = vec!["roundtrip", "--postgres", "local", "--format", "json", "-q"];
    if let Some(python) = python {
        args.extend(["--python", python]);
    }
    let output = run(dir, &args);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    serde_json::from_slice(&output.stdout).unwrap()
}

/// `check --fix [--unsafe-fixes] --select RULE` in `dir`: what it says it fixed.
fn fix_only(dir: &Path, rule: &str, unsafe_fixes: bool) -> String {
    let mut args = vec!["check", ".", "--fix", "--select", rule];
    if unsafe_fixes {
        args.push("--unsafe-fixes");
    }
    let output = run(dir, &args);
    String::from_utf8(output.stderr).unwrap()
}

/// The rules `check` reports in `dir`, as its JSON says.
fn rules_found(dir: &Path) -> BTreeSet<String> {
    let output = run(dir, &["check", ".", "--format", "json"]);
    let document: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    document["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["rule"].as_str().unwrap().to_string())
        .collect()
}

fn texts(dir: &Path) -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            (
                e.path().display().to_string(),
                std::fs::read_to_string(e.path()).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

const ALEMBIC_FIXED: [&str; 7] = [
    "add-unique-constraint",
    "set-not-null",
    "create-index-non-concurrently",
    "drop-index-non-concurrently",
    "add-foreign-key-without-not-valid",
    "add-check-constraint-without-not-valid",
    "missing-lock-timeout",
];

#[test]
fn alembic_fixes_remove_their_findings_and_a_second_run_changes_nothing() {
    let dir = copy_fixture("alembic");
    let before = rules_found(dir.path());
    for rule in ALEMBIC_FIXED {
        assert!(
            before.contains(rule),
            "{rule} is not found before: {before:?}"
        );
    }

    // What --diff shows is what --fix writes: the snapshot shows the formatting kept.
    let diff = run(dir.path(), &["check", ".", "--diff", "--unsafe-fixes"]);
    assert_eq!(diff.status.code(), Some(1), "{diff:?}");
    insta::assert_snapshot!(
        "alembic_fixes_diff",
        String::from_utf8(diff.stdout).unwrap()
    );
    assert_eq!(before, rules_found(dir.path()), "--diff wrote nothing");

    // The safe fixes only: lock_timeout changes behaviour and waits for --unsafe-fixes.
    let safe = run(dir.path(), &["check", ".", "--fix"]);
    let stderr = String::from_utf8_lossy(&safe.stderr);
    assert!(stderr.contains("Fixed 14 findings in 5 files."), "{stderr}");
    assert!(
        stderr.contains("6 more fixes are available with --unsafe-fixes"),
        "{stderr}"
    );
    let after_safe = rules_found(dir.path());
    assert!(
        after_safe.iter().all(|r| r == "missing-lock-timeout"),
        "{after_safe:?}"
    );

    let all = run(dir.path(), &["check", ".", "--fix", "--unsafe-fixes"]);
    assert_eq!(all.status.code(), Some(0), "{all:?}");
    assert!(rules_found(dir.path()).is_empty());

    let fixed = texts(dir.path());
    let again = run(dir.path(), &["check", ".", "--fix", "--unsafe-fixes"]);
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("Fixed 0 findings in 0 files."),
        "{again:?}"
    );
    assert_eq!(fixed, texts(dir.path()), "fixing twice changed the files");

    let Some(python) = python() else { return };
    for (path, _) in fixed.iter().filter(|(p, _)| p.ends_with(".py")) {
        let compiled = Command::new(&python)
            .args(["-m", "py_compile", path])
            .output()
            .unwrap();
        assert!(compiled.status.success(), "{path}: {compiled:?}");
    }
}

#[test]
fn the_fixed_alembic_history_round_trips_sending_the_fixed_sql() {
    let (Some(python), Some(_)) = (python(), postgres_binaries()) else {
        return;
    };
    let dir = copy_fixture("alembic");
    let fixed = run(dir.path(), &["check", ".", "--fix", "--unsafe-fixes"]);
    assert_eq!(fixed.status.code(), Some(0), "{fixed:?}");
    // Run from inside the project, naming no path: the project is the current folder.
    let document = round_trips(dir.path(), Some(&python));
    let stdout = document.to_string();
    let revisions = document["roundtrip"].as_array().unwrap();
    assert_eq!(revisions.len(), 6, "{stdout}");
    assert!(
        revisions.iter().all(|r| r["status"] == "passed"),
        "{stdout}"
    );
    let sent: Vec<String> = revisions
        .iter()
        .flat_map(|r| r["sql"].as_array().unwrap().iter())
        .map(|s| {
            s.as_str()
                .unwrap()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    for expected in [
        "SET lock_timeout = '5s'",
        // A failed build's INVALID index is dropped before the build, not passed over.
        "DROP INDEX CONCURRENTLY IF EXISTS ix_invoices_account",
        "CREATE INDEX CONCURRENTLY ix_invoices_account ON invoices (account_id)",
        "DROP INDEX CONCURRENTLY IF EXISTS ix_invoices_note",
        "REFERENCES accounts (id) NOT VALID",
        "ALTER TABLE \"invoices\" VALIDATE CONSTRAINT \"fk_invoices_account\"",
        "CHECK (amount >= 0) NOT VALID",
        "ALTER TABLE \"invoices\" VALIDATE CONSTRAINT \"ck_invoices_amount\"",
        // A batch's index and key: the block moved, the validation after it.
        "DROP INDEX CONCURRENTLY IF EXISTS ix_accounts_referrer_id",
        "CREATE INDEX CONCURRENTLY ix_accounts_referrer_id ON accounts (referrer_id)",
        "ALTER TABLE \"accounts\" VALIDATE CONSTRAINT \"fk_accounts_referrer\"",
        // SET NOT NULL after a validated CHECK proves it (no scan on PostgreSQL 12 and later).
        "CHECK (\"note\" IS NOT NULL) NOT VALID",
        "ALTER TABLE \"invoices\" VALIDATE CONSTRAINT \"ck_invoices_note_not_null\"",
        "ALTER TABLE invoices ALTER COLUMN note SET NOT NULL",
        "ALTER TABLE invoices DROP CONSTRAINT ck_invoices_note_not_null",
        // A unique constraint from an index built concurrently.
        "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS uq_accounts_email ON accounts (email)",
        "ALTER TABLE \"accounts\" ADD CONSTRAINT \"uq_accounts_email\" UNIQUE USING INDEX \"uq_accounts_email\"",
        // A reserved word for a table: quoted, or PostgreSQL reads a keyword.
        "ALTER TABLE \"user\" VALIDATE CONSTRAINT \"user_state_check\"",
    ] {
        assert!(
            sent.iter().any(|s| s.contains(expected)),
            "`{expected}` was not sent: {sent:#?}"
        );
    }
}

#[test]
fn sql_scripts_get_lock_timeout_in_the_transaction_they_run_in() {
    let dir = copy_fixture("golang");
    assert!(rules_found(dir.path()).contains("missing-lock-timeout"));
    let safe = run(dir.path(), &["check", ".", "--fix"]);
    assert!(
        String::from_utf8_lossy(&safe.stderr).contains("Fixed 0 findings in 0 files."),
        "{safe:?}"
    );
    let all = run(dir.path(), &["check", ".", "--fix", "--unsafe-fixes"]);
    assert_eq!(all.status.code(), Some(0), "{all:?}");
    assert!(rules_found(dir.path()).is_empty());
    let up = std::fs::read_to_string(dir.path().join("002_nickname.up.sql")).unwrap();
    // Several statements in one file run in one implicit transaction: SET LOCAL ends with it.
    assert!(
        up.starts_with("-- a column for display names, with a check that it is not blank\nSET LOCAL lock_timeout = '5s';\nALTER TABLE"),
        "{up}"
    );
    let down = std::fs::read_to_string(dir.path().join("002_nickname.down.sql")).unwrap();
    assert_eq!(
        down,
        "SET lock_timeout = '5s';\nALTER TABLE accounts DROP COLUMN nickname;\n"
    );

    let Some(_) = postgres_binaries() else { return };
    round_trips(dir.path(), None);
}

#[test]
fn json_and_sarif_carry_each_fix_with_its_edits() {
    let dir = copy_fixture("alembic");
    let output = run(dir.path(), &["check", ".", "--format", "json"]);
    let document: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let fk = document["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["rule"] == "add-foreign-key-without-not-valid")
        .unwrap();
    assert_eq!(fk["fix"]["applicability"], "safe");
    assert_eq!(fk["fix"]["path"], "versions/f3_constraints.py");
    let edits = fk["fix"]["edits"].as_array().unwrap();
    // The call no longer fits on a line: its arguments go one per line, the first after `(`.
    assert_eq!(
        (&edits[0]["line"], &edits[0]["column"]),
        (&serde_json::json!(9), &serde_json::json!(27))
    );
    assert_eq!(edits[0]["content"], "\n        ");
    assert_eq!(
        fk["fix"]["lines"]["text"],
        "    op.create_foreign_key(\n        \"fk_invoices_account\",\n        \"invoices\",\n        \"accounts\",\n        [\"account_id\"],\n        [\"id\"],\n        postgresql_not_valid=True,\n    )\n    with op.get_context().autocommit_block():\n        op.execute('ALTER TABLE \"invoices\" VALIDATE CONSTRAINT \"fk_invoices_account\"')"
    );

    let output = run(dir.path(), &["check", ".", "--format", "sarif"]);
    let sarif: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("tests/data/sarif-schema-2.1.0.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::draft7::new(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&sarif)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let with_fixes = results.iter().filter(|r| r.get("fixes").is_some()).count();
    assert_eq!(with_fixes, results.len(), "every finding here has a fix");
    let change = &results[0]["fixes"][0]["artifactChanges"][0];
    assert!(
        change["artifactLocation"]["uri"]
            .as_str()
            .unwrap()
            .ends_with(".py")
    );
    assert!(change["replacements"][0]["deletedRegion"]["startLine"].is_u64());
}

#[test]
fn diff_and_fix_together_is_a_usage_error() {
    let dir = copy_fixture("alembic");
    let output = run(dir.path(), &["check", ".", "--fix", "--diff"]);
    assert_eq!(output.status.code(), Some(2), "{output:?}");
}

#[test]
fn no_fix_is_offered_where_it_could_be_wrong() {
    // env.py begins its own transaction (autocommit_block() asserts there); a constraint added
    // per table by one call in a loop; an unnamed key PostgreSQL names.
    for name in ["own_transaction", "unsure"] {
        let dir = copy_fixture(name);
        let before = rules_found(dir.path());
        assert!(
            before.iter().any(|r| r.ends_with("-without-not-valid")),
            "{name}: {before:?}"
        );
        let diff = run(dir.path(), &["check", ".", "--diff"]);
        assert_eq!(diff.status.code(), Some(0), "{name}: {diff:?}");
        assert!(diff.stdout.is_empty(), "{name}: {diff:?}");
        assert!(
            String::from_utf8_lossy(&diff.stderr).contains("Would fix 0 findings in 0 files."),
            "{name}: {diff:?}"
        );
    }
}

#[test]
fn an_unnamed_constraint_gets_the_name_postgres_gives_it_and_its_drop_works_again() {
    let dir = copy_fixture("unnamed");
    assert!(rules_found(dir.path()).contains("unnamed-constraint"));
    // This rule's fixes alone (the unique constraint's own fix is another test's).
    let fixed = fix_only(dir.path(), "unnamed-constraint", false);
    assert!(fixed.contains("Fixed 2 findings in 1 file."), "{fixed}");
    assert!(!rules_found(dir.path()).contains("unnamed-constraint"));
    let text = std::fs::read_to_string(dir.path().join("versions/n1_email_key.py")).unwrap();
    assert!(
        text.contains(
            r#"op.create_unique_constraint(op.f("accounts_email_key"), "accounts", ["email"])"#
        ),
        "{text}"
    );
    assert!(
        text.contains(
            r#"op.drop_constraint(op.f("accounts_email_key"), "accounts", type_="unique")"#
        ),
        "{text}"
    );

    // `drop_constraint(None, ...)` failed at run time; named as PostgreSQL named it, it works.
    let (Some(python), Some(_)) = (python(), postgres_binaries()) else {
        return;
    };
    round_trips(dir.path(), Some(&python));
}

#[test]
fn a_missing_or_incomplete_downgrade_is_written_from_the_upgrade_and_round_trips() {
    let dir = copy_fixture("downgrade");
    assert!(rules_found(dir.path()).contains("missing-downgrade"));
    // It writes new behaviour: only with --unsafe-fixes.
    let safe = run(
        dir.path(),
        &["check", ".", "--diff", "--select", "missing-downgrade"],
    );
    assert!(safe.stdout.is_empty(), "{safe:?}");
    let fixed = fix_only(dir.path(), "missing-downgrade", true);
    assert!(fixed.contains("Fixed 2 findings in 2 files."), "{fixed}");
    // A downgrade that forgets one thing gets that thing's inverse, first.
    let fixed = fix_only(dir.path(), "incomplete-downgrade", true);
    assert!(fixed.contains("Fixed 1 finding in 1 file."), "{fixed}");
    let d3 = std::fs::read_to_string(dir.path().join("versions/d3_lookup.py")).unwrap();
    assert!(
        d3.ends_with(
            "def downgrade():\n    op.drop_index(op.f(\"ix_customers_full_name\"), table_name=\"customers\")\n    op.drop_column(\"customers\", \"code\")\n"
        ),
        "{d3}"
    );
    let found = rules_found(dir.path());
    assert!(
        !found.contains("missing-downgrade") && !found.contains("incomplete-downgrade"),
        "{found:?}"
    );
    let d1 = std::fs::read_to_string(dir.path().join("versions/d1_orders.py")).unwrap();
    assert!(
        d1.ends_with(
            "def downgrade():\n    op.drop_constraint(op.f(\"fk_orders_customer\"), \"orders\", type_=\"foreignkey\")\n    op.drop_index(op.f(\"ix_orders_customer_id\"), table_name=\"orders\")\n    op.drop_table(\"orders\")\n    op.drop_table(\"customers\")\n"
        ),
        "{d1}"
    );
    let d2 = std::fs::read_to_string(dir.path().join("versions/d2_totals.py")).unwrap();
    assert!(
        d2.ends_with(
            "\n\n\ndef downgrade():\n    op.alter_column(\"customers\", \"full_name\", new_column_name=\"name\")\n    op.drop_column(\"orders\", \"total\")\n"
        ),
        "{d2}"
    );

    let (Some(python), Some(_)) = (python(), postgres_binaries()) else {
        return;
    };
    round_trips(dir.path(), Some(&python));
}

#[test]
fn sql_index_builds_become_concurrent_outside_the_framework_s_transaction() {
    // golang-migrate: a file of one statement runs outside a transaction; goose: the file gets
    // `-- +goose NO TRANSACTION`; Flyway: a script of such statements runs outside one.
    let expected = [
        (
            "golang",
            "002_ix.up.sql",
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_t_a ON t (a);\n",
        ),
        (
            "goose",
            "00002_ix.sql",
            "-- +goose NO TRANSACTION\n-- +goose Up\nCREATE INDEX CONCURRENTLY IF NOT EXISTS ix_t_a ON t (a);\nCREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS ix_t_id_a ON t (id, a);\n-- +goose Down\nDROP INDEX ix_t_id_a;\nDROP INDEX ix_t_a;\n",
        ),
        (
            "flyway",
            "V2__ix.sql",
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_t_a ON t (a);\n",
        ),
    ];
    for (framework, file, fixed_text) in expected {
        let dir = copy_fixture(&format!("sql_index/{framework}"));
        assert!(rules_found(dir.path()).contains("create-index-non-concurrently"));
        let fixed = run(dir.path(), &["check", ".", "--fix"]);
        assert_eq!(fixed.status.code(), Some(0), "{framework}: {fixed:?}");
        assert_eq!(
            std::fs::read_to_string(dir.path().join(file)).unwrap(),
            fixed_text,
            "{framework}"
        );
        let found = rules_found(dir.path());
        assert!(
            !found.contains("create-index-non-concurrently")
                && !found.contains("concurrent-index-in-transaction"),
            "{framework}: {found:?}"
        );
        let Some(_) = postgres_binaries() else {
            continue;
        };
        round_trips(dir.path(), None);
    }
}

#[test]
fn lock_timeout_is_set_on_postgres_only_in_a_history_written_for_other_databases_too() {
    let dir = copy_fixture("dialects");
    assert!(rules_found(dir.path()).contains("missing-lock-timeout"));
    let fixed = run(dir.path(), &["check", ".", "--fix", "--unsafe-fixes"]);
    assert_eq!(fixed.status.code(), Some(0), "{fixed:?}");
    let text = std::fs::read_to_string(dir.path().join("versions/s1_nickname.py")).unwrap();
    assert!(
        text.contains("def upgrade():\n    if op.get_bind().dialect.name == \"postgresql\":\n        op.execute(\"SET lock_timeout = '5s'\")\n    if op.get_bind().dialect.name == \"sqlite\":"),
        "{text}"
    );
    assert!(!rules_found(dir.path()).contains("missing-lock-timeout"));
}
