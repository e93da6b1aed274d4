//! Which folders are migration histories: what is found, what is left out and said so.

mod common;

use std::path::Path;
use std::process::{Command, Output};

fn run(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_migration-gate"))
        .args(args)
        .current_dir(cwd)
        .env_remove("GITHUB_ACTIONS")
        .output()
        .expect("the binary runs")
}

fn json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

fn write(root: &Path, path: &str, text: &str) {
    let path = root.join(path);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// An Alembic project with a schema dump and seed scripts beside it.
fn project_with_a_dump(root: &Path) {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    write(
        root,
        "migrations/env.py",
        &std::fs::read_to_string(repo.join("fixtures/roundtrip/clean/env.py")).unwrap(),
    );
    write(
        root,
        "migrations/versions/c1_accounts.py",
        &std::fs::read_to_string(repo.join("fixtures/roundtrip/clean/versions/c1_accounts.py"))
            .unwrap(),
    );
    write(
        root,
        "ddl/schema.sql",
        "CREATE TABLE accounts (id bigint PRIMARY KEY, email text);\nCREATE INDEX ix_accounts_email ON accounts (email);\n",
    );
    write(root, "ddl/cleanup.sql", "DROP TABLE legacy_accounts;\n");
}

#[test]
fn a_schema_dump_beside_the_migrations_is_no_history_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    project_with_a_dump(dir.path());
    let output = run(&["check", "--format", "json"], dir.path());
    let document = json(&output);
    let diagnostics = document["diagnostics"].as_array().unwrap();
    let skipped: Vec<&serde_json::Value> = diagnostics
        .iter()
        .filter(|d| d["rule"] == "skipped-folder")
        .collect();
    assert_eq!(skipped.len(), 1, "{diagnostics:#?}");
    assert!(
        skipped[0]["message"]
            .as_str()
            .unwrap()
            .starts_with("ddl: 2 `.sql` files whose names carry no version"),
        "{:#?}",
        skipped[0]
    );
    // Nothing of the dump is judged as a change to a live database.
    assert!(
        diagnostics
            .iter()
            .all(|d| !d["path"].as_str().unwrap_or_default().contains("ddl/")
                || d["rule"] == "skipped-folder"),
        "{diagnostics:#?}"
    );
    assert_eq!(document["summary"]["revisions"], 1);

    // Named on the command line, a file is judged for what it is.
    let output = run(
        &["check", "ddl/cleanup.sql", "--format", "json"],
        dir.path(),
    );
    let document = json(&output);
    assert!(
        document["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["rule"] == "drop-table"),
        "{document:#?}"
    );
}
