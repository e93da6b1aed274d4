//! The release gate against a real PostgreSQL in the states a staging database is found in,
//! connected as a role that can only read: at head, behind head with risky pending revisions
//! on a small and on a large table, at a revision the repository does not have, and with a
//! hand-made schema change.

use std::path::Path;
use std::process::{Command, Output};

use migration_gate::roundtrip::postgres::{ConnInfo, LocalCluster};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn prerequisites() -> Option<String> {
    let python = std::env::var("MIGRATION_GATE_TEST_PYTHON").ok();
    let binaries = migration_gate::roundtrip::postgres::find_postgres_bin();
    match (python, binaries) {
        (Some(python), Some(_)) => Some(python),
        _ if std::env::var_os("CI").is_some() => {
            panic!(
                "CI is set but the test Python or PostgreSQL binaries are missing: run scripts/test.sh"
            )
        }
        _ => {
            eprintln!(
                "SKIPPED: needs MIGRATION_GATE_TEST_PYTHON and PostgreSQL server binaries; run scripts/test.sh"
            );
            None
        }
    }
}

struct Staging {
    _cluster: LocalCluster,
    admin: ConnInfo,
    python: String,
    ini: tempfile::TempDir,
    runtime: tokio::runtime::Runtime,
}

impl Staging {
    fn start(python: String) -> Staging {
        let cluster = LocalCluster::start().unwrap();
        let admin = cluster.conninfo();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let ini = tempfile::tempdir().unwrap();
        std::fs::write(
            ini.path().join("alembic.ini"),
            format!(
                "[alembic]\nscript_location = {}\n",
                repo().join("fixtures/gate").display()
            ),
        )
        .unwrap();
        let staging = Staging {
            _cluster: cluster,
            admin,
            python,
            ini,
            runtime,
        };
        staging.sql("postgres", "CREATE DATABASE staging");
        // The gate's role can read everything and write nothing.
        staging.sql(
            "postgres",
            "CREATE ROLE gate_ro LOGIN; GRANT pg_read_all_data TO gate_ro",
        );
        staging
    }

    fn sql(&self, db: &str, sql: &str) {
        let conninfo = self.admin.with_database(db);
        self.runtime.block_on(async {
            let client = conninfo.connect().await.unwrap();
            client.batch_execute(sql).await.unwrap();
        });
    }

    fn one(&self, sql: &str) -> String {
        let conninfo = self.admin.with_database("staging");
        self.runtime.block_on(async {
            let client = conninfo.connect().await.unwrap();
            client
                .query_one(sql, &[])
                .await
                .unwrap()
                .get::<_, String>(0)
        })
    }

    fn alembic(&self, args: &[&str]) {
        let url = self
            .admin
            .with_database("staging")
            .url_with_password()
            .replacen("postgresql://", "postgresql+psycopg://", 1);
        let output = Command::new(&self.python)
            .args(["-m", "alembic", "-c"])
            .arg(self.ini.path().join("alembic.ini"))
            .args(args)
            .env("DATABASE_URL", url)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    fn gate(&self) -> (Output, serde_json::Value) {
        let read_only = ConnInfo {
            user: "gate_ro".into(),
            ..self.admin.with_database("staging")
        };
        let output = Command::new(env!("CARGO_BIN_EXE_migration-gate"))
            .args([
                "gate",
                "fixtures/gate",
                "--format",
                "json",
                "--postgres",
                "local",
                "--python",
                &self.python,
            ])
            .arg("--database-url")
            .arg(read_only.url_with_password())
            .current_dir(repo())
            .env_remove("MIGRATION_GATE_DATABASE_URL")
            .output()
            .unwrap();
        let document = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
            panic!(
                "{e}: {}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            )
        });
        (output, document)
    }
}

fn rules_and_severities(document: &serde_json::Value) -> Vec<(String, String)> {
    document["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["rule"].as_str().unwrap().to_string(),
                d["severity"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn message_of<'a>(document: &'a serde_json::Value, rule: &str) -> &'a str {
    document["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["rule"] == rule)
        .and_then(|d| d["message"].as_str())
        .unwrap_or_else(|| panic!("no {rule} in {document:#}"))
}

#[test]
fn the_gate_judges_staging_in_each_state_without_writing_to_it() {
    let Some(python) = prerequisites() else {
        return;
    };
    let staging = Staging::start(python);
    staging.alembic(&["upgrade", "g1"]);
    staging.sql("staging", "INSERT INTO events (kind, payload) SELECT 'k' || (i % 5), 'p' FROM generate_series(1, 12) i; ANALYZE events");

    // Behind head, small table: the pending risks are harmless at this size.
    let (output, document) = staging.gate();
    assert_eq!(output.status.code(), Some(0), "{document:#}");
    assert_eq!(document["gate"]["ready"], true);
    assert_eq!(document["gate"]["applied"], serde_json::json!(["g1"]));
    assert_eq!(document["gate"]["pending"], serde_json::json!(["g2", "g3"]));
    let found = rules_and_severities(&document);
    assert!(
        found.contains(&("create-index-non-concurrently".into(), "note".into())),
        "{found:?}"
    );
    assert!(
        message_of(&document, "create-index-non-concurrently").contains("`events` has ~12 rows")
    );

    // Behind head, large table: the same index build is an error that names the size.
    staging.sql("staging", "INSERT INTO events (kind, payload) SELECT 'k' || (i % 50), repeat('x', 40) FROM generate_series(1, 200000) i; ANALYZE events");
    let (output, document) = staging.gate();
    assert_eq!(output.status.code(), Some(1), "{document:#}");
    assert_eq!(document["gate"]["ready"], false);
    let index = message_of(&document, "create-index-non-concurrently");
    assert!(
        index.contains("~200,012 rows") && index.contains(" MB)"),
        "{index}"
    );
    assert!(
        rules_and_severities(&document)
            .contains(&("create-index-non-concurrently".into(), "error".into()))
    );
    let set_not_null = message_of(&document, "set-not-null");
    assert!(set_not_null.contains("~200,012 rows"), "{set_not_null}");

    // At head: nothing pending, nothing drifted.
    staging.alembic(&["upgrade", "head"]);
    let (output, document) = staging.gate();
    assert_eq!(output.status.code(), Some(0), "{document:#}");
    assert_eq!(document["gate"]["pending"], serde_json::json!([]));
    assert_eq!(rules_and_severities(&document), vec![]);

    // At a revision this repository does not have.
    staging.sql(
        "staging",
        "UPDATE alembic_version SET version_num = 'deadbeef0001'",
    );
    let (output, document) = staging.gate();
    assert_eq!(output.status.code(), Some(1));
    assert!(message_of(&document, "gate-unknown-revision").contains("`deadbeef0001`"));
    staging.sql("staging", "UPDATE alembic_version SET version_num = 'g3'");

    // A hand-made change: drift.
    staging.sql(
        "staging",
        "ALTER TABLE events ADD COLUMN hotfix integer; CREATE INDEX ix_manual ON events (id, kind)",
    );
    let (output, document) = staging.gate();
    assert_eq!(output.status.code(), Some(1));
    let drift = message_of(&document, "gate-schema-drift");
    assert!(
        drift.contains("column events.hotfix exists only in the live database"),
        "{drift}"
    );
    assert!(
        drift.contains("index ix_manual exists only in the live database"),
        "{drift}"
    );
    // Placed on the revision the database says it is at.
    let placed = document["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["rule"] == "gate-schema-drift")
        .unwrap();
    assert!(
        placed["path"]
            .as_str()
            .is_some_and(|p| p.ends_with("g3_payload_required.py")),
        "{placed:#}"
    );
    assert!(
        document["gate"]["reasons"][0]
            .as_str()
            .unwrap()
            .contains("live schema differs")
    );

    // Nothing the gate did changed staging.
    assert_eq!(
        staging.one("SELECT version_num::text FROM alembic_version"),
        "g3"
    );
    assert_eq!(staging.one("SELECT count(*)::text FROM events"), "200012");
}

#[test]
fn the_gate_reads_golang_migrate_bookkeeping_and_its_dirty_flag() {
    let Some(python) = prerequisites() else {
        return;
    };
    let staging = Staging::start(python);
    let golang = repo().join("fixtures/roundtrip/golang");
    for file in ["001_create_teams.up.sql", "002_index_concurrently.up.sql"] {
        staging.sql(
            "staging",
            &std::fs::read_to_string(golang.join(file)).unwrap(),
        );
    }
    // golang-migrate's own table: one row, the current version.
    staging.sql(
        "staging",
        "CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL); INSERT INTO schema_migrations VALUES (2, false)",
    );
    let read_only = ConnInfo {
        user: "gate_ro".into(),
        ..staging.admin.with_database("staging")
    };
    let gate = || {
        let output = Command::new(env!("CARGO_BIN_EXE_migration-gate"))
            .args([
                "gate",
                "fixtures/roundtrip/golang",
                "--format",
                "json",
                "--postgres",
                "local",
            ])
            .arg("--database-url")
            .arg(read_only.url_with_password())
            .current_dir(repo())
            .env_remove("MIGRATION_GATE_DATABASE_URL")
            .output()
            .unwrap();
        let document: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        (output, document)
    };
    let (output, document) = gate();
    assert_eq!(output.status.code(), Some(0), "{document:#}");
    assert_eq!(document["gate"]["applied"], serde_json::json!(["2"]));
    assert_eq!(document["gate"]["pending"], serde_json::json!(["003"]));

    staging.sql("staging", "UPDATE schema_migrations SET dirty = true");
    let (output, document) = gate();
    assert_eq!(output.status.code(), Some(1));
    assert!(message_of(&document, "gate-unknown-revision").contains("dirty"));
}

#[test]
fn a_gate_whose_env_py_cannot_run_says_why_in_every_report_asked_for() {
    let Some(python) = prerequisites() else {
        return;
    };
    let staging = Staging::start(python.clone());
    staging.sql(
        "staging",
        "CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY); INSERT INTO alembic_version VALUES ('c1')",
    );
    let reports = tempfile::tempdir().unwrap();
    let json = reports.path().join("gate.json");
    let output = Command::new(env!("CARGO_BIN_EXE_migration-gate"))
        .args([
            "gate",
            "fixtures/roundtrip/env_needs_setting",
            "--postgres",
            "local",
            "--python",
            &python,
            "--format",
            "text",
        ])
        .arg("--format")
        .arg(format!("json={}", json.display()))
        .arg("--database-url")
        .arg(staging.admin.with_database("staging").url_with_password())
        .current_dir(repo())
        .env_remove("MIGRATION_GATE_DATABASE_URL")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("env.py fails before any revision runs")
            && stderr.contains("KeyError: 'APP_SETTINGS_MODULE'")
            && stderr.contains("[roundtrip] env"),
        "{stderr}"
    );
    let document: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert!(
        document["error"]
            .as_str()
            .unwrap()
            .contains("env.py fails before any revision runs"),
        "{document:#}"
    );
}
