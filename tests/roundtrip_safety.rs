//! The round trip never touches a database it did not create: every connection env.py or a
//! revision opens to another database is refused before it is opened, whichever driver opens
//! it, and the other database is left exactly as it was.

use std::path::Path;
use std::process::Output;

mod common;
use common::roundtrip::{everything, roundtrip};
use common::{postgres_binaries, require, scratch_dir, test_python as python};

/// The schema and data of `database`, as pg_dump writes them.
fn dump(bindir: &str, conninfo: &migration_gate::roundtrip::postgres::ConnInfo) -> String {
    // The server's own folder: `initdb` may be a link from elsewhere (/usr/local/bin).
    let initdb = Path::new(bindir).join("initdb").canonicalize().unwrap();
    let output = std::process::Command::new(initdb.with_file_name("pg_dump"))
        .arg("--no-owner")
        .arg(conninfo.url_with_password())
        .output()
        .expect("pg_dump runs");
    assert!(output.status.success(), "{}", everything(&output));
    // Recent pg_dump fences its output with a random key of its own.
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .filter(|line| !line.starts_with("\\restrict") && !line.starts_with("\\unrestrict"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn refused(output: &Output, database: &str) {
    let said = everything(output);
    assert_eq!(output.status.code(), Some(2), "{said}");
    assert!(
        said.contains(&format!("/{database}, not to the scratch database"))
            && said.contains("refused before connecting")
            && said.contains("Nothing ran on any other database"),
        "{said}"
    );
    assert!(!said.contains("\"passed\""), "{said}");
}

#[test]
fn no_connection_to_another_database_is_opened_whichever_driver_opens_it() {
    let (Some(python), Some(bindir)) = (python(), postgres_binaries()) else {
        return;
    };
    let sqlalchemy_14 = require(
        "MIGRATION_GATE_TEST_PYTHON_SA14 (the SQLAlchemy 1.4 venv's Python)",
        std::env::var("MIGRATION_GATE_TEST_PYTHON_SA14").ok(),
    );
    let asyncpg_only = require(
        "MIGRATION_GATE_TEST_PYTHON_ASYNCPG (the asyncpg-only venv's Python)",
        std::env::var("MIGRATION_GATE_TEST_PYTHON_ASYNCPG").ok(),
    );
    let tmp = scratch_dir();
    let cluster = migration_gate::roundtrip::postgres::LocalCluster::start().unwrap();
    let admin = cluster.conninfo();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let live = admin.with_database("app_live");
    runtime.block_on(async {
        let client = admin.connect().await.unwrap();
        client
            .batch_execute("CREATE DATABASE app_live")
            .await
            .unwrap();
        let client = live.connect().await.unwrap();
        client
            .batch_execute(
                "CREATE TABLE accounts (id int PRIMARY KEY, name text);
                 INSERT INTO accounts VALUES (1, 'ada'), (2, 'grace');",
            )
            .await
            .unwrap();
    });
    let before = dump(&bindir, &live);
    let admin_url = admin.url_with_password();
    let base = |fixture: &'static str, python: &str| {
        let mut command = roundtrip(
            &[
                fixture,
                "--postgres",
                "url",
                "--database-url",
                &admin_url,
                "--python",
                python,
                "--format",
                "json",
            ],
            tmp.path(),
        );
        command.env_remove("APP_DATABASE_URL");
        command
    };

    // env.py builds its engine from a variable of its own: SQLAlchemy on psycopg 3 ...
    let elsewhere = live
        .url_with_password()
        .replacen("postgresql://", "postgresql+psycopg://", 1);
    let output = base("fixtures/roundtrip/elsewhere", &python)
        .env("APP_DATABASE_URL", &elsewhere)
        .output()
        .unwrap();
    refused(&output, "app_live");
    assert!(
        everything(&output).contains("fixtures/roundtrip/elsewhere/env.py:13"),
        "the refusal points at env.py's line: {}",
        everything(&output)
    );

    // ... and on psycopg2, under SQLAlchemy 1.4.
    if let Some(python_14) = &sqlalchemy_14 {
        let elsewhere = live.url_with_password();
        let output = base("fixtures/roundtrip/elsewhere", python_14)
            .env("APP_DATABASE_URL", &elsewhere)
            .output()
            .unwrap();
        refused(&output, "app_live");
    }

    // ... and on asyncpg, in a project that has no other driver.
    if let Some(python_asyncpg) = &asyncpg_only {
        let elsewhere =
            live.url_with_password()
                .replacen("postgresql://", "postgresql+asyncpg://", 1);
        let output = base("fixtures/roundtrip/async_elsewhere", python_asyncpg)
            .env("APP_DATABASE_URL", &elsewhere)
            .output()
            .unwrap();
        refused(&output, "app_live");
    }

    // A revision opens its own libpq connection naming only the database: the server comes
    // from PGHOST, the database is another one.
    let output = base("fixtures/roundtrip/revision_connects_elsewhere", &python)
        .env("LIVE_DATABASE", "app_live")
        .output()
        .unwrap();
    refused(&output, "app_live");
    assert!(
        everything(&output).contains("r2_copy_settings.py:16"),
        "the refusal points at the revision's line: {}",
        everything(&output)
    );

    assert_eq!(
        dump(&bindir, &live),
        before,
        "the other database's schema and data are unchanged, byte for byte"
    );

    // Told the variable's name, migration-gate hands env.py the scratch database under it too.
    let config = tmp.path().join("migration-gate.toml");
    std::fs::write(&config, "[roundtrip]\nurl-env = \"APP_DATABASE_URL\"\n").unwrap();
    let output = base("fixtures/roundtrip/elsewhere", &python)
        .args(["--config", &config.to_string_lossy()])
        .env("APP_DATABASE_URL", &elsewhere)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", everything(&output));

    // And no scratch database is left behind, whichever way the runs ended.
    let left = runtime.block_on(async {
        let client = admin.connect().await.unwrap();
        client
            .query(
                "SELECT datname::text FROM pg_database WHERE datname LIKE 'migration_gate_%'",
                &[],
            )
            .await
            .unwrap()
            .len()
    });
    assert_eq!(left, 0);
}

#[test]
fn a_server_that_refuses_connections_fails_at_once() {
    let Some(python) = python() else {
        return;
    };
    // A port nothing listens on any more.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let tmp = scratch_dir();
    let started = std::time::Instant::now();
    let output = roundtrip(
        &[
            "fixtures/roundtrip/clean",
            "--database-url",
            &format!("postgresql://gate:secret@127.0.0.1:{port}/postgres"),
            "--python",
            &python,
        ],
        tmp.path(),
    )
    .output()
    .unwrap();
    let said = everything(&output);
    assert_eq!(output.status.code(), Some(2), "{said}");
    assert!(
        said.contains("does not accept connections") && said.contains("is the server running"),
        "{said}"
    );
    assert!(!said.contains("secret"), "{said}");
    // The connect timeout (10 s) is for servers that do not answer, not for a refusal.
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}
