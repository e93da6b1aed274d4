//! Presets choose the rules a run starts from, and README's rule table is the registry's.

use std::path::Path;
use std::process::{Command, Output};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn run(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_migration-gate"))
        .args(args)
        .current_dir(cwd)
        .env_remove("GITHUB_ACTIONS")
        .output()
        .expect("the binary runs")
}

fn rules_found(output: &Output) -> Vec<String> {
    let document: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}", String::from_utf8_lossy(&output.stderr));
    });
    let mut rules: Vec<String> = document["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["rule"].as_str().unwrap().to_string())
        .collect();
    rules.sort();
    rules.dedup();
    rules
}

/// A project with one revision that has a serial key, a varchar(n) and a char(n) column.
fn project(config: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("db")).unwrap();
    std::fs::write(
        dir.path().join("db/001_invoices.up.sql"),
        "CREATE TABLE invoices (id bigserial PRIMARY KEY, number varchar(20), currency char(3));\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("db/001_invoices.down.sql"),
        "SET lock_timeout = '5s';\nDROP TABLE invoices;\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("migration-gate.toml"), config).unwrap();
    dir
}

#[test]
fn recommended_leaves_out_the_strict_advice_and_strict_adds_it() {
    let dir = project("");
    let recommended = rules_found(&run(&["check", "--format", "json", "db"], dir.path()));
    assert_eq!(recommended, ["avoid-char-type"]);

    let strict = rules_found(&run(
        &["check", "--format", "json", "--preset", "strict", "db"],
        dir.path(),
    ));
    assert_eq!(
        strict,
        ["avoid-char-type", "prefer-identity", "prefer-text"]
    );
}

#[test]
fn the_config_chooses_the_preset_and_the_flag_overrides_it() {
    let dir = project("preset = \"strict\"\nignore = [\"prefer-text\"]\n");
    let from_config = rules_found(&run(&["check", "--format", "json", "db"], dir.path()));
    assert_eq!(from_config, ["avoid-char-type", "prefer-identity"]);

    let flag = rules_found(&run(
        &["check", "--format", "json", "--preset", "recommended", "db"],
        dir.path(),
    ));
    assert_eq!(flag, ["avoid-char-type"]);

    // `select` names rules outright, whatever the preset; `ignore` still removes them.
    let selected = rules_found(&run(
        &[
            "check",
            "--format",
            "json",
            "--select",
            "prefer-identity,prefer-text",
            "db",
        ],
        dir.path(),
    ));
    assert_eq!(selected, ["prefer-identity"]);
}

#[test]
fn an_unknown_preset_is_a_config_error() {
    let dir = project("preset = \"paranoid\"\n");
    let output = run(&["check", "db"], dir.path());
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("paranoid"), "{stderr}");
}

#[test]
fn readme_rule_table_is_the_registrys() {
    let output = run(&["rules", "--format", "markdown"], repo());
    assert!(output.status.success());
    let generated = String::from_utf8(output.stdout).unwrap();
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let start = readme
        .find("<!-- rules:start")
        .expect("README has the rules:start marker");
    let body_start = start + readme[start..].find("-->\n").unwrap() + 4;
    let end = readme
        .find("<!-- rules:end -->")
        .expect("README has the rules:end marker");
    assert_eq!(
        &readme[body_start..end],
        generated,
        "README's rule table is stale: replace it with `migration-gate rules --format markdown`"
    );
    for line in generated.lines().skip(2) {
        assert!(line.starts_with("| `"), "{line}");
    }
    assert!(generated.contains("| `prefer-identity` | note | strict |"));
    assert!(generated.contains("| `table-rewrite` | error | recommended, strict |"));
}
