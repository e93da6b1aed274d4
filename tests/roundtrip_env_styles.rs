//! The round trip with env.py as teams write it: revisions that commit their own connection,
//! SQLAlchemy 1.4 projects (psycopg2), multi-database templates, and the static rules run on
//! the SQL each revision really sent.

use std::path::Path;
use std::process::Output;

mod common;
use common::roundtrip::{document, everything, local_json, pairs, roundtrip, statuses};
use common::{postgres_binaries, require, scratch_dir, test_python as python};

/// (rule, revision, line, source) of each finding.
fn findings(output: &Output) -> Vec<(String, String, u64, String)> {
    document(output)["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["rule"].as_str().unwrap().to_string(),
                d["revision"].as_str().unwrap_or_default().to_string(),
                d["line"].as_u64().unwrap_or_default(),
                d["source"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[test]
fn a_revision_that_commits_alembics_transaction_fails_with_the_project_env_and_passes_standalone() {
    let (Some(python), Some(_)) = (python(), postgres_binaries()) else {
        return;
    };
    let tmp = scratch_dir();
    // The stock SQLAlchemy 2 env.py: the statements after the revision's commit() and the
    // version update are rolled back when env.py closes its connection.
    let output = local_json("fixtures/roundtrip/commits", &python, &[], tmp.path());
    assert_eq!(output.status.code(), Some(1), "{}", everything(&output));
    assert_eq!(
        statuses(&output),
        pairs(&[("k1", "passed"), ("k2", "failed"), ("k3", "skipped")])
    );
    let failed: Vec<_> = document(&output)["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["rule"] == "roundtrip-upgrade-failed")
        .cloned()
        .collect();
    assert_eq!(failed.len(), 1, "{failed:#?}");
    let message = failed[0]["message"].as_str().unwrap();
    assert!(
        message.contains("did not stay") && message.contains("autocommit_block"),
        "{message}"
    );
    // On the line that commits, not on `def upgrade()`.
    assert_eq!(failed[0]["line"], 11, "{message}");
    assert!(!everything(&output).contains("another database"));

    // The generated env.py commits what a revision leaves open, so the bookkeeping stays right.
    let output = local_json(
        "fixtures/roundtrip/commits",
        &python,
        &["--standalone"],
        tmp.path(),
    );
    assert_eq!(output.status.code(), Some(0), "{}", everything(&output));
    assert_eq!(
        statuses(&output),
        pairs(&[("k1", "passed"), ("k2", "passed"), ("k3", "passed")])
    );
}

/// A venv with SQLAlchemy 1.4, Alembic 1.13 and psycopg2 (scripts/test.sh makes it).
fn python_sqlalchemy_14() -> Option<String> {
    require(
        "MIGRATION_GATE_TEST_PYTHON_SA14 (a SQLAlchemy 1.4 venv's Python)",
        std::env::var("MIGRATION_GATE_TEST_PYTHON_SA14").ok(),
    )
}

#[test]
fn a_sqlalchemy_14_project_round_trips_on_psycopg2_and_its_defects_are_caught() {
    let (Some(python), Some(_)) = (python_sqlalchemy_14(), postgres_binaries()) else {
        return;
    };
    let tmp = scratch_dir();
    let output = local_json("fixtures/roundtrip/clean", &python, &[], tmp.path());
    assert_eq!(output.status.code(), Some(0), "{}", everything(&output));
    assert_eq!(
        statuses(&output),
        pairs(&[("c1", "passed"), ("c2", "passed"), ("c3", "passed")])
    );

    let output = local_json("fixtures/roundtrip/broken", &python, &[], tmp.path());
    assert_eq!(output.status.code(), Some(1), "{}", everything(&output));
    let found = findings(&output);
    for (rule, revision) in [
        ("roundtrip-downgrade-failed", "b2"),
        ("roundtrip-schema-drift", "b3"),
        ("roundtrip-upgrade-failed", "b9"),
    ] {
        assert!(
            found
                .iter()
                .any(|(r, id, _, _)| r == rule && id == revision),
            "{rule} on {revision} missing: {found:#?}"
        );
    }

    // With psycopg2 and asyncpg both installed, an async env.py that reads its URL from the
    // environment is handed one naming asyncpg (psycopg2 cannot run an async engine).
    let output = local_json(
        "fixtures/roundtrip/async_settings_url",
        &python,
        &[],
        tmp.path(),
    );
    assert_eq!(output.status.code(), Some(0), "{}", everything(&output));
    assert_eq!(statuses(&output), pairs(&[("c1", "passed")]));
}

#[test]
fn a_multidb_template_project_runs_every_database_on_a_scratch_database_of_its_own() {
    let (Some(python), Some(_)) = (python(), postgres_binaries()) else {
        return;
    };
    let tmp = scratch_dir();
    let output = local_json("fixtures/roundtrip/multidb", &python, &[], tmp.path());
    assert_eq!(output.status.code(), Some(1), "{}", everything(&output));
    assert_eq!(
        statuses(&output),
        pairs(&[("m1", "passed"), ("m2", "failed")])
    );
    let found = findings(&output);
    assert!(
        found
            .iter()
            .any(|(rule, id, _, _)| rule == "roundtrip-schema-drift" && id == "m2"),
        "{found:#?}"
    );
}

#[test]
fn the_static_rules_also_read_the_sql_each_revision_really_ran() {
    let (Some(python), Some(_)) = (python(), postgres_binaries()) else {
        return;
    };
    let tmp = scratch_dir();
    let output = local_json("fixtures/roundtrip/captured", &python, &[], tmp.path());
    let found = findings(&output);
    let from_roundtrip: Vec<(String, String)> = found
        .iter()
        .filter(|(_, _, _, source)| source == "roundtrip")
        .filter(|(rule, ..)| !rule.starts_with("roundtrip-"))
        .map(|(rule, id, _, _)| (rule.clone(), id.clone()))
        .collect();
    // A project helper and a string built at run time hide these from the Python-level
    // reading; the SQL the database received shows them. It shows the transactions too: s5's
    // VALIDATE ran after the COMMIT of Alembic's autocommit block, s6's in the transaction of
    // the add; and s7's CREATE TABLE of several thousand characters is read whole, so the index
    // on the table it creates is no finding.
    assert_eq!(
        from_roundtrip,
        pairs(&[
            ("create-index-non-concurrently", "s2"),
            ("set-not-null", "s3"),
            ("validate-in-same-transaction", "s6"),
        ]),
        "{}",
        everything(&output)
    );
    let s5_sql: Vec<String> = document(&output)["roundtrip"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["revision"] == "s5")
        .unwrap()["sql"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            s.as_str()
                .unwrap()
                .split_whitespace()
                .take(2)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    assert_eq!(
        s5_sql,
        [
            "BEGIN",
            "CREATE TABLE",
            "ALTER TABLE",
            "ALTER TABLE",
            "COMMIT",
            "ALTER TABLE"
        ],
        "the SQL as PostgreSQL received it, with its transactions"
    );
    let document = document(&output);
    let index = document["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["rule"] == "create-index-non-concurrently")
        .unwrap();
    assert!(
        index["message"]
            .as_str()
            .unwrap()
            .contains("CREATE INDEX ix_events_kind ON events (kind)"),
        "{index:#?}"
    );
    assert!(Path::new(index["path"].as_str().unwrap()).ends_with("s2_helper_index.py"));
}

#[test]
fn standalone_compares_the_models_named_in_the_config_and_a_wrong_name_is_a_config_error() {
    let (Some(python), Some(_)) = (python(), postgres_binaries()) else {
        return;
    };
    let tmp = scratch_dir();
    let run_with = |metadata: &str| {
        let config = tmp
            .path()
            .join(format!("{}.toml", metadata.replace([':', '.'], "_")));
        std::fs::write(&config, format!("[roundtrip]\nmetadata = \"{metadata}\"\n")).unwrap();
        let config = config.display().to_string();
        local_json(
            "fixtures/roundtrip/standalone_models",
            &python,
            &["--standalone", "--config", &config],
            tmp.path(),
        )
    };
    // The module is found from the folder migration-gate runs in, as `alembic` finds env.py's.
    let output = run_with("fixtures.roundtrip.standalone_models.models:metadata");
    assert_eq!(output.status.code(), Some(1), "{}", everything(&output));
    let drift: Vec<String> = document(&output)["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["rule"] == "roundtrip-model-drift" && d["revision"] == "n1")
        .map(|d| d["message"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        drift,
        ["column accounts.plan is in the models but no migration creates it"]
    );

    let output = run_with("fixtures.roundtrip.standalone_models.models:no_such_metadata");
    assert_eq!(output.status.code(), Some(2), "{}", everything(&output));
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(
        said.contains("[roundtrip] metadata")
            && said.contains("has no attribute 'no_such_metadata'"),
        "{said}"
    );
}

#[test]
fn roundtrip_env_reaches_env_py_both_the_scratch_database_parts_and_the_interpreter_settings() {
    let (Some(python), Some(_)) = (python(), postgres_binaries()) else {
        return;
    };
    let tmp = scratch_dir();
    let fixture = common::roundtrip::repo().join("fixtures/roundtrip/url_from_parts");
    // PYTHONPATH must be there when the interpreter starts, before the database exists;
    // the parts of the scratch database only once it does.
    let config = tmp.path().join("migration-gate.toml");
    std::fs::write(
        &config,
        format!(
            "[roundtrip.env]\nPYTHONPATH = \"{}\"\nPOSTGRES_SERVER = \"{{host}}\"\nPOSTGRES_PORT = \"{{port}}\"\nPOSTGRES_USER = \"{{user}}\"\nPOSTGRES_PASSWORD = \"{{password}}\"\nPOSTGRES_DB = \"{{database}}\"\n",
            fixture.join("app_settings").display()
        ),
    )
    .unwrap();
    let config = config.display().to_string();
    let output = local_json(
        "fixtures/roundtrip/url_from_parts",
        &python,
        &["--config", &config],
        tmp.path(),
    );
    assert_eq!(output.status.code(), Some(0), "{}", everything(&output));
    assert_eq!(
        statuses(&output),
        pairs(&[("u1", "passed"), ("u2", "passed")])
    );

    // Without the config, env.py cannot even import its settings: the run says so.
    let output = local_json(
        "fixtures/roundtrip/url_from_parts",
        &python,
        &[],
        tmp.path(),
    );
    assert_ne!(output.status.code(), Some(0), "{}", everything(&output));
    assert!(
        everything(&output).contains("No module named 'settings'"),
        "{}",
        everything(&output)
    );
}

#[test]
fn a_python_that_dies_before_the_driver_is_ready_is_quoted_in_the_error() {
    let Some(_) = postgres_binaries() else {
        return;
    };
    let tmp = scratch_dir();
    let python = tmp.path().join("python");
    std::fs::write(
        &python,
        "#!/bin/sh\necho 'Traceback (most recent call last):' >&2\necho \"RuntimeError: the project's sitecustomize broke\" >&2\nexit 1\n",
    )
    .unwrap();
    std::fs::set_permissions(&python, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let output = local_json(
        "fixtures/roundtrip/clean",
        python.to_str().unwrap(),
        &[],
        tmp.path(),
    );
    assert_eq!(output.status.code(), Some(2), "{}", everything(&output));
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(
        said.contains(
            "exited before it was ready: RuntimeError: the project's sitecustomize broke"
        ),
        "{said}"
    );
}

#[test]
fn a_folder_of_revision_files_below_env_py_runs_with_that_env_py_or_standalone() {
    let (Some(python), Some(_)) = (python(), postgres_binaries()) else {
        return;
    };
    let tmp = scratch_dir();
    // `roundtrip migrations/versions`: env.py one folder up runs them.
    let output = local_json(
        "fixtures/roundtrip/clean/versions",
        &python,
        &[],
        tmp.path(),
    );
    assert_eq!(output.status.code(), Some(0), "{}", everything(&output));
    assert_eq!(
        statuses(&output),
        pairs(&[("c1", "passed"), ("c2", "passed"), ("c3", "passed")])
    );
    // One dialect's folder of a history kept per dialect (`versions/postgresql`), env.py two
    // folders up and needing the application.
    let output = local_json(
        "fixtures/roundtrip/dialect_folders/versions/postgresql",
        &python,
        &["--standalone"],
        tmp.path(),
    );
    assert_eq!(output.status.code(), Some(0), "{}", everything(&output));
    assert_eq!(
        statuses(&output),
        pairs(&[("p1", "passed"), ("p2", "passed")])
    );
}

/// Drift made by something the step's statements do not name — a function that alters another
/// table, a trigger that builds an index elsewhere — is still found: whatever the snapshots
/// become, they must see the whole schema, not only the objects a step names.
#[test]
fn drift_made_through_a_function_or_a_trigger_is_found() {
    let (Some(python), Some(_)) = (python(), postgres_binaries()) else {
        return;
    };
    let tmp = scratch_dir();
    let output = local_json(
        "fixtures/roundtrip/indirect_drift",
        &python,
        &[],
        tmp.path(),
    );
    assert_eq!(output.status.code(), Some(1), "{}", everything(&output));
    assert_eq!(
        statuses(&output),
        pairs(&[("i1", "passed"), ("i2", "failed"), ("i3", "failed")])
    );
    let drift: Vec<_> = findings(&output)
        .into_iter()
        .filter(|(rule, ..)| rule == "roundtrip-schema-drift")
        .map(|(_, revision, ..)| revision)
        .collect();
    assert_eq!(drift, ["i2", "i3"], "{}", everything(&output));
    let text = everything(&output);
    assert!(text.contains("audit_log.note"), "{text}");
    assert!(text.contains("ix_audit_log_id"), "{text}");
}

#[test]
fn snapshots_read_in_part_agree_with_the_whole_schema_through_renames_cascades_and_partitions() {
    let (Some(python), Some(_)) = (python(), postgres_binaries()) else {
        return;
    };
    let tmp = scratch_dir();
    // Each revision changes what the change log names only indirectly: a renamed column a view
    // prints, a renamed table a foreign key prints, a renamed enum label in a default, dropped
    // indexes and triggers, cascades onto other tables, a column reaching partitions, a DO
    // block's EXECUTE. The run checks every partial snapshot against a whole one.
    let output = local_json("fixtures/roundtrip/incremental", &python, &[], tmp.path());
    assert_eq!(output.status.code(), Some(0), "{}", everything(&output));
    let statuses = statuses(&output);
    assert_eq!(statuses.len(), 14, "{statuses:?}");
    assert!(
        statuses.iter().all(|(_, status)| status == "passed"),
        "{statuses:?}"
    );
}

/// The driver lets one env.py run take step after step once Alembic commits each one; what the
/// round trip finds must be what a run per step (as Alembic's commands run) finds: with
/// Alembic's default env.py (one transaction per command), with a table that creates its enum
/// type on every upgrade (SQLAlchemy remembers the types it created within one run), and on a
/// history of failures, rebuilds and drift.
#[test]
fn one_env_run_for_many_steps_finds_what_a_run_per_step_finds() {
    let (Some(python), Some(_)) = (python(), postgres_binaries()) else {
        return;
    };
    let tmp = scratch_dir();
    let in_one_run = local_json(
        "fixtures/roundtrip/enum_reupgrade",
        &python,
        &[],
        tmp.path(),
    );
    assert_eq!(
        statuses(&in_one_run),
        pairs(&[("e1", "passed"), ("e2", "passed"), ("e3", "passed")]),
        "{}",
        everything(&in_one_run)
    );
    for fixture in [
        "fixtures/roundtrip/enum_reupgrade",
        "fixtures/roundtrip/broken",
    ] {
        let in_one_run = local_json(fixture, &python, &[], tmp.path());
        let per_step = roundtrip(
            &[
                fixture,
                "--postgres",
                "local",
                "--python",
                &python,
                "--format",
                "json",
            ],
            tmp.path(),
        )
        .env("MIGRATION_GATE_ONE_STEP_PER_RUN", "1")
        .output()
        .unwrap();
        assert_eq!(statuses(&in_one_run), statuses(&per_step), "{fixture}");
        assert_eq!(
            document(&in_one_run)["diagnostics"],
            document(&per_step)["diagnostics"],
            "{fixture}"
        );
    }
}

/// A step that hangs in Python inside an env.py run that has taken other steps is stopped at
/// the limit like any other; the driver starts again and the revisions after it are judged.
#[test]
fn a_step_that_hangs_inside_a_longer_env_run_is_stopped_and_the_run_goes_on() {
    let (Some(python), Some(_)) = (python(), postgres_binaries()) else {
        return;
    };
    let tmp = scratch_dir();
    let output = local_json(
        "fixtures/roundtrip/hang_in_run",
        &python,
        &["--timeout", "2"],
        tmp.path(),
    );
    assert_eq!(
        statuses(&output),
        pairs(&[("h1", "passed"), ("h2", "failed"), ("h3", "passed")]),
        "{}",
        everything(&output)
    );
    let said = everything(&output);
    assert!(
        said.contains("the downgrade of `h2` fails right after its upgrade: the step did not finish within 2 s (--timeout) and was stopped outside any SQL statement"),
        "{said}"
    );
}
