//! `dialect` in the config: which sets are written for PostgreSQL, whatever their folders are
//! called.

use std::path::Path;
use std::process::{Command, Output};

fn check(cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_migration-gate"))
        .args(["check", ".", "--format", "json"])
        .current_dir(cwd)
        .env_remove("GITHUB_ACTIONS")
        .output()
        .expect("the binary runs")
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// The folders (as the report names them, first two parts) that have findings.
fn judged_folders(output: &Output) -> Vec<String> {
    let document: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    });
    let mut folders: Vec<String> = document["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["path"].as_str())
        .map(|p| p.split('/').take(2).collect::<Vec<_>>().join("/"))
        .collect();
    folders.sort();
    folders.dedup();
    folders
}

fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let index = "CREATE INDEX ix_a ON accounts (name);\n";
    write(&dir.path().join("db/mysql_compat/V1__index.sql"), index);
    write(&dir.path().join("db/main/V1__index.sql"), index);
    write(&dir.path().join("db/embedded/V1__index.sql"), index);
    dir
}

#[test]
fn folders_are_assigned_to_a_database_by_the_config_whatever_their_names() {
    let dir = project();
    // By name alone: `mysql_compat` is MySQL's, the others PostgreSQL's.
    assert_eq!(
        judged_folders(&check(dir.path())),
        ["db/embedded", "db/main"]
    );
    write(
        &dir.path().join("migration-gate.toml"),
        "[dialect]\n\"db/mysql_compat\" = \"postgresql\"\n\"**/embedded\" = \"sqlite\"\n",
    );
    assert_eq!(
        judged_folders(&check(dir.path())),
        ["db/main", "db/mysql_compat"]
    );
}

#[test]
fn a_whole_project_of_another_database_or_an_unknown_name_is_an_error() {
    let dir = project();
    for (config, words) in [
        ("dialect = \"mysql\"\n", "judges PostgreSQL migrations only"),
        (
            "[dialect]\n\"db/main\" = \"postgers\"\n",
            "`postgers` is not a database name",
        ),
    ] {
        write(&dir.path().join("migration-gate.toml"), config);
        let output = check(dir.path());
        assert_eq!(output.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(words), "{stderr}");
    }
    write(
        &dir.path().join("migration-gate.toml"),
        "dialect = \"postgres\"\n",
    );
    assert_eq!(
        judged_folders(&check(dir.path())),
        ["db/embedded", "db/main"]
    );
}
