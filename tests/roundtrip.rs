//! The round trip on a real PostgreSQL with real Alembic: what users see for clean and broken
//! histories, on every provider, and that nothing is left behind however the run ends.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

mod common;
use common::{eventually, git, postgres_binaries, require, scratch_dir, test_python as python};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn docker_image() -> Option<String> {
    let image = std::env::var("MIGRATION_GATE_TEST_POSTGRES_IMAGE").ok();
    require(
        "MIGRATION_GATE_TEST_POSTGRES_IMAGE (a PostgreSQL image scripts/test.sh builds when Docker runs)",
        image,
    )
}

fn command(args: &[&str], tmp: &Path, python: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_migration-gate"));
    command
        .arg("roundtrip")
        .args(args)
        .args(["--python", python])
        .current_dir(repo())
        .env("TMPDIR", tmp)
        .env_remove("MIGRATION_GATE_DATABASE_URL")
        .env_remove("GITHUB_ACTIONS");
    command
}

fn run(args: &[&str], tmp: &Path, python: &str) -> Output {
    command(args, tmp, python)
        .output()
        .expect("the binary runs")
}

fn json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

/// (revision, status) per judged revision.
fn statuses(document: &serde_json::Value) -> Vec<(String, String)> {
    document["roundtrip"]
        .as_array()
        .map(|runs| {
            runs.iter()
                .map(|r| {
                    (
                        r["revision"].as_str().unwrap().to_string(),
                        r["status"].as_str().unwrap().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// (rule, revision, file name, line) per finding.
fn findings(document: &serde_json::Value) -> Vec<(String, String, String, u64)> {
    document["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["rule"].as_str().unwrap().to_string(),
                d["revision"].as_str().unwrap_or_default().to_string(),
                d["path"]
                    .as_str()
                    .unwrap()
                    .rsplit('/')
                    .next()
                    .unwrap()
                    .to_string(),
                d["line"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn messages(document: &serde_json::Value) -> String {
    document["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["message"].as_str().unwrap().to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

fn leftover_clusters(tmp: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(tmp)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.to_string_lossy().contains("migration-gate-pg-"))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_clean_history_passes_and_the_local_cluster_is_gone_afterwards() {
    let (Some(python), Some(_)) = (python(), postgres_binaries()) else {
        return;
    };
    let tmp = scratch_dir();
    let output = run(
        &[
            "fixtures/roundtrip/clean",
            "--postgres",
            "local",
            "--format",
            "json",
        ],
        tmp.path(),
        &python,
    );
    let document = json(&output);
    assert_eq!(output.status.code(), Some(0), "{document:#}");
    assert_eq!(
        statuses(&document),
        vec![
            ("c1".to_string(), "passed".to_string()),
            ("c2".to_string(), "passed".to_string()),
            ("c3".to_string(), "passed".to_string()),
        ]
    );
    let steps: Vec<&str> = document["roundtrip"][0]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["step"].as_str().unwrap())
        .collect();
    assert_eq!(
        steps,
        [
            "upgrade",
            "downgrade",
            "compare-after-downgrade",
            "reupgrade",
            "compare-after-reupgrade"
        ]
    );
    assert!(leftover_clusters(tmp.path()).is_empty());
}

#[test]
fn each_failure_is_caught_on_its_revision_and_the_run_goes_on() {
    let (Some(python), Some(_)) = (python(), postgres_binaries()) else {
        return;
    };
    let tmp = scratch_dir();
    let output = run(
        &[
            "fixtures/roundtrip/broken",
            "--postgres",
            "local",
            "--format",
            "json",
        ],
        tmp.path(),
        &python,
    );
    assert_eq!(output.status.code(), Some(1));
    let document = json(&output);
    let mut found = findings(&document);
    found.sort();
    let expected = [
        (
            "roundtrip-downgrade-failed",
            "b2",
            "b2_downgrade_fails.py",
            14,
        ),
        ("roundtrip-schema-drift", "b3", "b3_index_left.py", 12),
        ("roundtrip-reupgrade-failed", "b3", "b3_index_left.py", 9),
        ("roundtrip-schema-drift", "b4", "b4_type_wrong.py", 13),
        ("roundtrip-schema-drift", "b5", "b5_enum_value.py", 13),
        ("roundtrip-schema-drift", "b6", "b6_default.py", 12),
        ("roundtrip-reupgrade-failed", "b7", "b7_reupgrade.py", 9),
        ("roundtrip-not-repeatable", "b8", "b8_not_repeatable.py", 8),
        ("roundtrip-upgrade-failed", "b9", "b9_upgrade_fails.py", 9),
        // The head builds on b9: the models are compared below it (env.py has none: a note).
        ("roundtrip-model-drift", "b10", "b10_after_failure.py", 5),
    ];
    let mut expected: Vec<(String, String, String, u64)> = expected
        .iter()
        .map(|(r, v, f, l)| (r.to_string(), v.to_string(), f.to_string(), *l))
        .collect();
    expected.sort();
    assert_eq!(found, expected, "{}", messages(&document));

    let text = messages(&document);
    for precise in [
        "column \"nick_name\" of relation \"users\" does not exist (SQLSTATE 42703)",
        "index ix_users_email still exists",
        "relation \"ix_users_email\" already exists (SQLSTATE 42P07)",
        "column users.email: character varying(60), expected character varying(50)",
        "type mood: enum ('ok', 'meh', 'great'), expected enum ('ok', 'meh')",
        "column users.status: text DEFAULT 'pending'::text, expected text DEFAULT 'new'::text",
        "duplicate key value violates unique constraint \"flags_pkey\"",
        "column users.seen_twice exists only after the second upgrade",
        "relation \"userz\" does not exist (SQLSTATE 42P01)",
    ] {
        assert!(text.contains(precise), "no `{precise}` in:\n{text}");
    }
    let runs = statuses(&document);
    assert_eq!(runs.len(), 10);
    assert_eq!(runs[0], ("b1".into(), "passed".into()));
    assert_eq!(runs[9], ("b10".into(), "skipped".into()));
    assert!(runs[1..9].iter().all(|(_, s)| s == "failed"), "{runs:?}");
    assert!(leftover_clusters(tmp.path()).is_empty());
}

#[test]
fn a_golang_migrate_history_finds_the_version_table_golang_migrate_makes() {
    let (Some(python), Some(_)) = (python(), postgres_binaries()) else {
        return;
    };
    let tmp = scratch_dir();
    let output = run(
        &[
            "fixtures/roundtrip/golang_version_table",
            "--postgres",
            "local",
            "--format",
            "json",
        ],
        tmp.path(),
        &python,
    );
    let document = json(&output);
    assert_eq!(output.status.code(), Some(0), "{document:#}");
    assert_eq!(
        statuses(&document),
        [("001", "passed"), ("002", "passed")]
            .map(|(r, s)| (r.to_string(), s.to_string()))
            .to_vec()
    );
}

#[test]
fn sql_framework_sets_round_trip_with_their_transaction_rules_and_sql_errors_point_at_their_line() {
    let (Some(python), Some(_)) = (python(), postgres_binaries()) else {
        return;
    };
    let tmp = scratch_dir();
    // sql-migrate and sqlx build an index CONCURRENTLY in a migration they run outside a
    // transaction (a `notransaction` marker, `-- no-transaction`): run any other way, it fails.
    let sets: [(&str, &[&str]); 4] = [
        ("golang", &["001", "002", "003"]),
        (
            "dbmate",
            &["20240101000000", "20240102000000", "20240103000000"],
        ),
        (
            "sql_migrate",
            &["1700000001_users.sql", "1700000002_users_email.sql"],
        ),
        ("sqlx", &["20240101000000", "20240102000000"]),
    ];
    for (set, revisions) in sets {
        let output = run(
            &[
                &format!("fixtures/roundtrip/{set}"),
                "--postgres",
                "local",
                "--format",
                "json",
            ],
            tmp.path(),
            &python,
        );
        let document = json(&output);
        assert_eq!(output.status.code(), Some(0), "{set}: {document:#}");
        let passed: Vec<(String, String)> = revisions
            .iter()
            .map(|r| (r.to_string(), "passed".to_string()))
            .collect();
        assert_eq!(statuses(&document), passed, "{set}");
    }
    // Flyway without undo scripts: each migration is proven to apply, the rest is skipped.
    let output = run(
        &[
            "fixtures/roundtrip/flyway",
            "--postgres",
            "local",
            "--format",
            "json",
        ],
        tmp.path(),
        &python,
    );
    let document = json(&output);
    assert_eq!(output.status.code(), Some(0), "{document:#}");
    assert_eq!(
        statuses(&document),
        vec![
            ("1".to_string(), "passed".to_string()),
            ("2".to_string(), "passed".to_string())
        ]
    );
    assert_eq!(
        document["roundtrip"][1]["note"],
        "no down script: only the upgrade was checked"
    );

    let output = run(
        &[
            "fixtures/roundtrip/sql_error",
            "--postgres",
            "local",
            "--format",
            "json",
        ],
        tmp.path(),
        &python,
    );
    let document = json(&output);
    assert_eq!(
        findings(&document),
        vec![(
            "roundtrip-upgrade-failed".to_string(),
            "20240101000000".to_string(),
            "20240101000000_create.sql".to_string(),
            5
        )]
    );
    assert!(messages(&document).contains("type \"numerc\" does not exist (SQLSTATE 42704)"));

    // golang-migrate sends a file as one query; an error with no position still points at the
    // statement that failed, not at the file's first line.
    let output = run(
        &[
            "fixtures/roundtrip/golang_error",
            "--postgres",
            "local",
            "--format",
            "json",
        ],
        tmp.path(),
        &python,
    );
    let document = json(&output);
    assert_eq!(
        findings(&document),
        vec![(
            "roundtrip-upgrade-failed".to_string(),
            "001".to_string(),
            "001_shipments.up.sql".to_string(),
            3
        )]
    );
}

fn psql_rows(admin: &str, sql: &str) -> Vec<String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let (client, connection) = tokio_postgres::connect(admin, tokio_postgres::NoTls)
            .await
            .expect("the test cluster answers");
        tokio::spawn(connection);
        client
            .query(sql, &[])
            .await
            .unwrap()
            .iter()
            .map(|row| row.get::<_, String>(0))
            .collect()
    })
}

#[test]
fn the_url_provider_works_only_in_its_own_scratch_database() {
    let (Some(python), Some(_)) = (python(), postgres_binaries()) else {
        return;
    };
    let tmp = scratch_dir();
    let cluster = migration_gate::roundtrip::postgres::LocalCluster::start().unwrap();
    let admin = cluster.conninfo();
    let url = admin.url_with_password();
    let keyvalue = format!(
        "host={} port={} user=postgres dbname=postgres",
        admin.host, admin.port
    );
    psql_rows(&keyvalue, "SELECT 'x' FROM pg_database LIMIT 0");
    {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let client = admin.connect().await.unwrap();
            client
                .batch_execute("CREATE DATABASE keepme")
                .await
                .unwrap();
            let keep = admin.with_database("keepme").connect().await.unwrap();
            keep.batch_execute("CREATE TABLE precious (id int); INSERT INTO precious VALUES (42)")
                .await
                .unwrap();
        });
    }
    let output = run(
        &[
            "fixtures/roundtrip/clean",
            "--postgres",
            "url",
            "--database-url",
            &url,
            "--format",
            "json",
        ],
        tmp.path(),
        &python,
    );
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let databases = psql_rows(
        &keyvalue,
        "SELECT datname::text FROM pg_database ORDER BY 1",
    );
    assert_eq!(databases, ["keepme", "postgres", "template0", "template1"]);
    let keep = format!(
        "host={} port={} user=postgres dbname=keepme",
        admin.host, admin.port
    );
    assert_eq!(psql_rows(&keep, "SELECT id::text FROM precious"), ["42"]);

    // A run killed half-way: its scratch database is dropped all the same.
    let mut child = command(
        &[
            "fixtures/roundtrip/slow",
            "--postgres",
            "url",
            "--database-url",
            &url,
        ],
        tmp.path(),
        &python,
    )
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    let scratch_exists = || {
        psql_rows(
            &keyvalue,
            "SELECT datname::text FROM pg_database WHERE datname LIKE 'migration_gate_%'",
        )
        .len()
            == 1
    };
    assert!(
        eventually(Duration::from_secs(30), scratch_exists),
        "the run never created its database"
    );
    std::thread::sleep(Duration::from_millis(1500));
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        eventually(Duration::from_secs(15), || !scratch_exists()),
        "the killed run's scratch database is still there"
    );
    drop(cluster);
}

#[test]
fn a_database_url_password_never_reaches_the_output() {
    let Some(python) = python() else { return };
    let tmp = scratch_dir();
    let output = run(
        &[
            "fixtures/roundtrip/clean",
            "--postgres",
            "url",
            "--database-url",
            "postgresql://deploy:s3cret-pw@127.0.0.1:1/app",
        ],
        tmp.path(),
        &python,
    );
    assert_eq!(output.status.code(), Some(2));
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!all.contains("s3cret-pw"), "{all}");
    assert!(all.contains("does not accept connections"), "{all}");
}

#[test]
fn a_hung_step_is_stopped_and_a_killed_local_run_leaves_no_cluster() {
    let (Some(python), Some(_)) = (python(), postgres_binaries()) else {
        return;
    };
    let tmp = scratch_dir();
    let output = run(
        &[
            "fixtures/roundtrip/slow",
            "--postgres",
            "local",
            "--timeout",
            "2",
            "--format",
            "json",
        ],
        tmp.path(),
        &python,
    );
    let document = json(&output);
    assert_eq!(
        findings(&document),
        vec![
            (
                "roundtrip-upgrade-failed".to_string(),
                "s1".to_string(),
                "s1_slow.py".to_string(),
                10
            ),
            // Nothing upgrades, so the models could not be compared: a note says so.
            (
                "roundtrip-model-drift".to_string(),
                "s1".to_string(),
                "s1_slow.py".to_string(),
                4
            )
        ]
    );
    // The statement that was running, and the flag that sets the limit.
    let said = messages(&document);
    assert!(
        said.contains("did not finish within 2 s (--timeout)"),
        "{said}"
    );
    assert!(
        said.contains("while running `SELECT pg_sleep(60)`"),
        "{said}"
    );
    assert!(leftover_clusters(tmp.path()).is_empty());

    let mut child = command(
        &["fixtures/roundtrip/slow", "--postgres", "local"],
        tmp.path(),
        &python,
    )
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    assert!(eventually(Duration::from_secs(30), || !leftover_clusters(
        tmp.path()
    )
    .is_empty()));
    std::thread::sleep(Duration::from_millis(2500));
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        eventually(Duration::from_secs(20), || leftover_clusters(tmp.path())
            .is_empty()),
        "the killed run's cluster is still there: {:?}",
        leftover_clusters(tmp.path())
    );
}

fn containers_of(image: &str) -> Vec<String> {
    let output = Command::new("docker")
        .args(["ps", "-a", "-q", "--filter", &format!("ancestor={image}")])
        .output()
        .unwrap();
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn the_docker_provider_removes_its_container_after_success_and_after_a_kill() {
    let (Some(python), Some(image)) = (python(), docker_image()) else {
        return;
    };
    let tmp = scratch_dir();
    let before = containers_of(&image);
    let output = run(
        &[
            "fixtures/roundtrip/golang",
            "--postgres",
            "docker",
            "--postgres-image",
            &image,
            "--format",
            "json",
        ],
        tmp.path(),
        &python,
    );
    let document = json(&output);
    assert_eq!(output.status.code(), Some(0), "{document:#}");
    assert_eq!(statuses(&document).len(), 3);
    assert_eq!(containers_of(&image), before);

    let mut child = command(
        &[
            "fixtures/roundtrip/slow",
            "--postgres",
            "docker",
            "--postgres-image",
            &image,
        ],
        tmp.path(),
        &python,
    )
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    assert!(eventually(Duration::from_secs(60), || containers_of(
        &image
    )
    .len()
        > before.len()));
    std::thread::sleep(Duration::from_millis(4000));
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        eventually(Duration::from_secs(30), || containers_of(&image) == before),
        "the killed run's container is still there"
    );
}

#[test]
fn python_problems_are_clear_and_standalone_mode_runs_without_the_application() {
    let (Some(python), Some(_)) = (python(), postgres_binaries()) else {
        return;
    };
    let tmp = scratch_dir();
    let needs_app = run(
        &[
            "fixtures/roundtrip/needs_app",
            "--postgres",
            "local",
            "--format",
            "json",
        ],
        tmp.path(),
        &python,
    );
    // env.py needs the Flask application, and Flask is not even installed: the revisions run
    // with migration-gate's own env.py, and a note says why.
    assert_eq!(
        needs_app.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&needs_app.stderr)
    );
    let document = json(&needs_app);
    assert_eq!(
        statuses(&document),
        vec![("c1".to_string(), "passed".to_string())]
    );
    assert!(
        messages(&document).contains(
            "env.py needs the Flask application, which could not be loaded (ModuleNotFoundError: No module named 'flask')"
        ),
        "{}",
        messages(&document)
    );

    // env.py fails before any revision runs: no revision is to blame, nothing can be judged.
    // The run ends with exit 2, and the JSON asked for says why.
    let needs_setting = run(
        &[
            "fixtures/roundtrip/env_needs_setting",
            "--postgres",
            "local",
            "--format",
            "json",
        ],
        tmp.path(),
        &python,
    );
    assert_eq!(needs_setting.status.code(), Some(2));
    let document = json(&needs_setting);
    assert_eq!(findings(&document), vec![]);
    let error = document["error"].as_str().unwrap();
    assert!(
        error.contains("env.py fails before any revision runs")
            && error.contains("env_needs_setting/env.py:8")
            && error.contains("KeyError: 'APP_SETTINGS_MODULE'")
            && error.contains("[roundtrip] env"),
        "{error}"
    );

    let standalone = run(
        &[
            "fixtures/roundtrip/needs_app",
            "--postgres",
            "local",
            "--standalone",
            "--format",
            "json",
        ],
        tmp.path(),
        &python,
    );
    assert_eq!(standalone.status.code(), Some(0));
    assert_eq!(
        statuses(&json(&standalone)),
        vec![("c1".to_string(), "passed".to_string())]
    );

    let import_error = run(
        &[
            "fixtures/roundtrip/import_error",
            "--postgres",
            "local",
            "--format",
            "json",
        ],
        tmp.path(),
        &python,
    );
    assert_eq!(
        findings(&json(&import_error)),
        vec![
            (
                "roundtrip-upgrade-failed".to_string(),
                "i1".to_string(),
                "i1_imports.py".to_string(),
                3
            ),
            (
                "roundtrip-model-drift".to_string(),
                "i1".to_string(),
                "i1_imports.py".to_string(),
                5
            )
        ]
    );

    let missing = run(
        &["fixtures/roundtrip/clean", "--postgres", "local"],
        tmp.path(),
        "/nonexistent/bin/python3",
    );
    assert_eq!(missing.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(
        stderr.contains("cannot run /nonexistent/bin/python3") && stderr.contains("--python"),
        "{stderr}"
    );
    assert!(leftover_clusters(tmp.path()).is_empty());
}

/// (revision, statement start, locks as "Mode table", rewritten tables) per traced statement.
fn traced(document: &serde_json::Value) -> Vec<(String, String, Vec<String>, Vec<String>)> {
    let mut out = Vec::new();
    for run in document["roundtrip"].as_array().unwrap() {
        for statement in run["trace"].as_array().into_iter().flatten() {
            out.push((
                run["revision"].as_str().unwrap().to_string(),
                statement["statement"]
                    .as_str()
                    .unwrap()
                    .chars()
                    .take(30)
                    .collect(),
                statement["locks"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|l| {
                        format!(
                            "{} {}",
                            l["mode"].as_str().unwrap(),
                            l["table"].as_str().unwrap()
                        )
                    })
                    .collect(),
                statement["rewritten"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|t| t.as_str().unwrap().to_string())
                    .collect(),
            ));
        }
    }
    out
}

#[test]
fn lock_tracing_names_the_locks_and_rewrites_postgresql_really_took() {
    let (Some(python), Some(_)) = (python(), postgres_binaries()) else {
        return;
    };
    let tmp = scratch_dir();
    let output = run(
        &[
            "fixtures/roundtrip/traced",
            "--postgres",
            "local",
            "--trace-locks",
            "--format",
            "json",
        ],
        tmp.path(),
        &python,
    );
    let document = json(&output);
    let trace = traced(&document);
    let of = |revision: &str| {
        trace
            .iter()
            .filter(|t| t.0 == revision)
            .map(|t| (t.2.clone(), t.3.clone()))
            .collect::<Vec<_>>()
    };
    let strings = |items: &[&str]| items.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    // Index creation: SHARE (blocks writes, not reads), no rewrite.
    assert_eq!(of("t2"), vec![(strings(&["ShareLock events"]), vec![])]);
    // Type change and volatile default: ACCESS EXCLUSIVE and a rewrite.
    for revision in ["t3", "t4"] {
        let (locks, rewritten) = &of(revision)[0];
        assert!(
            locks.contains(&"AccessExclusiveLock events".to_string()),
            "{revision}: {locks:?}"
        );
        assert_eq!(rewritten, &strings(&["events"]), "{revision}");
    }
    // SET NOT NULL: ACCESS EXCLUSIVE, no rewrite.
    assert_eq!(
        of("t5"),
        vec![(strings(&["AccessExclusiveLock events"]), vec![])]
    );
    // A concurrent index in an autocommit block holds nothing once it is done.
    assert_eq!(of("t6"), vec![(vec![], vec![])]);

    let mut found = findings(&document)
        .into_iter()
        .map(|(rule, revision, _, _)| (rule, revision))
        .collect::<Vec<_>>();
    found.sort();
    let expected: Vec<(String, String)> = [
        // This env.py has no target_metadata: a note that the models were not compared.
        ("roundtrip-model-drift", "t6"),
        ("traced-access-exclusive-lock", "t3"),
        ("traced-access-exclusive-lock", "t4"),
        ("traced-access-exclusive-lock", "t5"),
        ("traced-table-rewrite", "t3"),
        ("traced-table-rewrite", "t4"),
    ]
    .iter()
    .map(|(r, v)| (r.to_string(), v.to_string()))
    .collect();
    assert_eq!(found, expected);

    // The SQL runner traces the same way.
    let output = run(
        &[
            "fixtures/roundtrip/golang",
            "--postgres",
            "local",
            "--trace-locks",
            "--format",
            "json",
        ],
        tmp.path(),
        &python,
    );
    let document = json(&output);
    let trace = traced(&document);
    assert!(
        trace
            .iter()
            .any(|t| t.0 == "001" && t.2.contains(&"ShareLock teams".to_string())),
        "{trace:?}"
    );
    assert_eq!(findings(&document), vec![]);
}

#[test]
fn seeded_rows_expose_what_fails_only_on_tables_with_rows() {
    let (Some(python), Some(_)) = (python(), postgres_binaries()) else {
        return;
    };
    let tmp = scratch_dir();
    let empty = run(
        &[
            "fixtures/roundtrip/seeded",
            "--postgres",
            "local",
            "--format",
            "json",
        ],
        tmp.path(),
        &python,
    );
    assert_eq!(empty.status.code(), Some(0), "passes on empty tables");
    let seeded = run(
        &[
            "fixtures/roundtrip/seeded",
            "--postgres",
            "local",
            "--seed-rows",
            "50",
            "--format",
            "json",
        ],
        tmp.path(),
        &python,
    );
    let document = json(&seeded);
    assert_eq!(
        findings(&document),
        vec![
            (
                "roundtrip-upgrade-failed".to_string(),
                "e2".to_string(),
                "e2_not_null.py".to_string(),
                10
            ),
            (
                "roundtrip-model-drift".to_string(),
                "e2".to_string(),
                "e2_not_null.py".to_string(),
                5
            )
        ]
    );
    assert!(messages(&document).contains(
        "column \"currency\" of relation \"invoices\" contains null values (SQLSTATE 23502)"
    ));
}

#[test]
fn with_base_only_the_branchs_revisions_are_judged() {
    let (Some(python), Some(_)) = (python(), postgres_binaries()) else {
        return;
    };
    let tmp = scratch_dir();
    let work = tempfile::tempdir().unwrap();
    let project = work.path().join("migrations");
    std::fs::create_dir_all(project.join("versions")).unwrap();
    let fixture = repo().join("fixtures/roundtrip/clean");
    std::fs::copy(fixture.join("env.py"), project.join("env.py")).unwrap();
    for name in ["c1_accounts.py", "c2_invoices.py"] {
        std::fs::copy(
            fixture.join("versions").join(name),
            project.join("versions").join(name),
        )
        .unwrap();
    }
    git(work.path(), &["init", "-q", "-b", "main"]);
    git(work.path(), &["add", "."]);
    git(work.path(), &["commit", "-q", "-m", "history"]);
    git(work.path(), &["checkout", "-q", "-b", "feature"]);
    std::fs::copy(
        fixture.join("versions/c3_widen.py"),
        project.join("versions/c3_widen.py"),
    )
    .unwrap();

    let output = Command::new(env!("CARGO_BIN_EXE_migration-gate"))
        .args([
            "roundtrip",
            "migrations",
            "--postgres",
            "local",
            "--base",
            "main",
            "--format",
            "json",
            "--python",
            &python,
        ])
        .current_dir(work.path())
        .env("TMPDIR", tmp.path())
        .env_remove("MIGRATION_GATE_DATABASE_URL")
        .output()
        .unwrap();
    let document = json(&output);
    assert_eq!(output.status.code(), Some(0), "{document:#}");
    assert_eq!(
        statuses(&document),
        vec![("c3".to_string(), "passed".to_string())]
    );
}
