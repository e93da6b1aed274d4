//! Which folders are migration histories: what is found, what is left out and said so.

mod common;

use std::path::Path;

use common::project::{errors_and_warnings, json, run, write};

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

/// Diesel keeps a folder per migration: `<version>_<name>/up.sql`, `down.sql` and an optional
/// `metadata.toml`. The folders are one history in version order, each `down.sql` its
/// migration's downgrade, and each script runs in Diesel's transaction unless the metadata
/// turns it off.
#[test]
fn a_diesel_history_is_one_set_whose_down_scripts_are_downgrades() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "migrations/00000000000000_diesel_initial_setup/up.sql",
        "CREATE FUNCTION diesel_set_updated_at() RETURNS trigger AS $$ BEGIN NEW.updated_at := now(); RETURN NEW; END $$ LANGUAGE plpgsql;\n",
    );
    write(
        root,
        "migrations/00000000000000_diesel_initial_setup/down.sql",
        "DROP FUNCTION IF EXISTS diesel_set_updated_at();\n",
    );
    write(
        root,
        "migrations/2024-01-31-120000_create_users/up.sql",
        "CREATE TABLE users (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text NOT NULL);\n",
    );
    // A rollback dropping what its migration made is no drop-table finding.
    write(
        root,
        "migrations/2024-01-31-120000_create_users/down.sql",
        "DROP TABLE users;\n",
    );
    write(
        root,
        "migrations/2024-02-01-090000_users_email_index/up.sql",
        "CREATE INDEX CONCURRENTLY users_email_idx ON users (email);\n",
    );
    write(
        root,
        "migrations/2024-02-01-090000_users_email_index/down.sql",
        "DROP INDEX CONCURRENTLY users_email_idx;\n",
    );
    write(
        root,
        "migrations/2024-02-01-090000_users_email_index/metadata.toml",
        "run_in_transaction = false\n",
    );
    write(
        root,
        "migrations/2024-02-02-090000_users_name_index/up.sql",
        "CREATE INDEX CONCURRENTLY users_name_idx ON users (email);\n",
    );
    write(
        root,
        "migrations/2024-02-02-090000_users_name_index/down.sql",
        "DROP INDEX users_name_idx;\n",
    );
    let document = json(&run(&["check", "--format", "json"], root));
    assert_eq!(document["summary"]["revisions"], 4, "{document:#?}");
    let found = errors_and_warnings(&document);
    // Only the migration Diesel runs in a transaction fails its CONCURRENTLY.
    assert!(
        found.contains(&(
            "concurrent-index-in-transaction".into(),
            "migrations/2024-02-02-090000_users_name_index/up.sql".into()
        )),
        "{found:#?}"
    );
    assert!(
        !found
            .iter()
            .any(|(rule, path)| rule == "concurrent-index-in-transaction"
                && path.contains("users_email_index")),
        "{found:#?}"
    );
    assert!(
        !found.iter().any(|(rule, _)| rule == "drop-table"),
        "{found:#?}"
    );

    // `--show-sets` says what was found and why, on stderr, beside any report on stdout.
    let shown = run(&["check", "--show-sets", "--format", "json"], root);
    let stderr = String::from_utf8_lossy(&shown.stderr);
    assert!(
        stderr.contains("set migrations: diesel, 4 migrations (recognised by a folder per migration holding `up.sql` / `down.sql`)"),
        "{stderr}"
    );
    json(&shown);
}

/// A project's own tooling may keep data migrations among Prisma's (`<timestamp>_<name>/
/// migration.ts`): no SQL to read, said in one note rather than passed over.
#[test]
fn prisma_migration_folders_without_sql_are_said() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "prisma/migrations/migration_lock.toml",
        "provider = \"postgresql\"\n",
    );
    write(
        root,
        "prisma/migrations/20240101000000_init/migration.sql",
        "CREATE TABLE \"User\" (\"id\" SERIAL PRIMARY KEY, \"name\" TEXT);\n",
    );
    for folder in [
        "20240201000000_backfill_names",
        "20240301000000_split_names",
    ] {
        write(
            root,
            &format!("prisma/migrations/{folder}/migration.ts"),
            "export default async function migrate() {}\n",
        );
    }
    let output = run(&["check", "--show-sets", "--format", "json"], root);
    let shown = String::from_utf8_lossy(&output.stderr).to_string();
    assert!(
        shown.contains(
            "prisma/migrations: 2 migration folders hold no `migration.sql` but `migration.ts`"
        ),
        "{shown}"
    );
    assert!(
        shown.contains("set prisma/migrations: prisma, 1 migration"),
        "{shown}"
    );
}

/// Prisma keeps a folder per migration: `<timestamp>_<name>/migration.sql`, forward only, and
/// sends each script as one query. The folders are one history, so what an earlier migration
/// created is known to a later one.
#[test]
fn a_prisma_history_is_one_forward_only_set_in_folder_order() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "prisma/migrations/migration_lock.toml",
        "# Please do not edit this file manually\nprovider = \"postgresql\"\n",
    );
    write(
        root,
        "prisma/migrations/20240101000000_init/migration.sql",
        "CREATE TABLE \"User\" (\"id\" SERIAL NOT NULL, \"name\" VARCHAR(20), CONSTRAINT \"User_pkey\" PRIMARY KEY (\"id\"));\n",
    );
    // Widening a varchar declared by the first migration rewrites nothing.
    write(
        root,
        "prisma/migrations/20240201000000_longer_names/migration.sql",
        "ALTER TABLE \"User\" ALTER COLUMN \"name\" SET DATA TYPE VARCHAR(50);\n",
    );
    // One statement alone runs outside any transaction; with another it is in one.
    write(
        root,
        "prisma/migrations/20240301000000_name_index/migration.sql",
        "CREATE INDEX CONCURRENTLY \"User_name_idx\" ON \"User\"(\"name\");\n",
    );
    write(
        root,
        "prisma/migrations/20240401000000_two_statements/migration.sql",
        "ALTER TABLE \"User\" ADD COLUMN \"bio\" TEXT;\nCREATE INDEX CONCURRENTLY \"User_bio_idx\" ON \"User\"(\"bio\");\n",
    );
    let document = json(&run(&["check", "--format", "json"], root));
    assert_eq!(document["summary"]["revisions"], 4, "{document:#?}");
    let found = errors_and_warnings(&document);
    let rules_on = |folder: &str| -> Vec<&str> {
        found
            .iter()
            .filter(|(_, path)| path.contains(folder))
            .map(|(rule, _)| rule.as_str())
            .collect()
    };
    assert!(
        !rules_on("longer_names").contains(&"change-column-type"),
        "{found:#?}"
    );
    assert!(
        !rules_on("name_index").contains(&"concurrent-index-in-transaction"),
        "{found:#?}"
    );
    assert!(
        rules_on("two_statements").contains(&"concurrent-index-in-transaction"),
        "{found:#?}"
    );
    // No down scripts: forward only, not a missing downgrade per migration.
    assert!(
        !found.iter().any(|(rule, _)| rule == "missing-downgrade"),
        "{found:#?}"
    );

    // A history for another database is not judged as PostgreSQL's.
    write(
        root,
        "prisma/migrations/migration_lock.toml",
        "provider = \"mysql\"\n",
    );
    let document = json(&run(&["check", "--format", "json"], root));
    assert_eq!(document["summary"]["revisions"], 0, "{document:#?}");
}

/// A project whose only migrations sit in a folder named for another database: nothing is
/// judged, and the run says what was left out and how to judge it, instead of "no migrations".
#[test]
fn only_another_databases_migrations_is_said_so_not_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "migrations/sqlite/001_init.up.sql",
        "CREATE TABLE t (id integer);\n",
    );
    write(
        root,
        "migrations/sqlite/001_init.down.sql",
        "DROP TABLE t;\n",
    );
    let output = run(&["check"], root);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("migrations/sqlite: 2 migration files written for another database"),
        "{stderr}"
    );
    assert!(
        stderr.contains("[dialect] \"migrations/sqlite\" = \"postgresql\""),
        "{stderr}"
    );
    // Said so in the config, the folder is judged.
    write(
        root,
        "migration-gate.toml",
        "[dialect]\n\"migrations/sqlite\" = \"postgresql\"\n",
    );
    let judged = json(&run(&["check", "--format", "json"], root));
    assert_eq!(judged["summary"]["revisions"], 1, "{judged:#?}");
}

/// A crate's migrations may sit anywhere below its manifest (`migrate!("src/db/postgres/
/// migrations")`): the nearest `Cargo.toml` above the folder is its crate, however deep, as
/// Cargo sees it.
#[test]
fn a_sqlx_crates_migrations_deep_below_its_manifest_are_sqlxs() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "core/Cargo.toml",
        "[package]\nname = \"core\"\n[dependencies]\nsqlx = { version = \"0.8\", features = [\"postgres\"] }\n",
    );
    write(
        root,
        "core/src/db/postgres/migrations/20240101000000_users.sql",
        "CREATE TABLE users (id bigint PRIMARY KEY, email text);\n",
    );
    // In sqlx's transaction, PostgreSQL refuses the build; run as loose SQL, it would pass.
    write(
        root,
        "core/src/db/postgres/migrations/20240102000000_users_email.sql",
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS users_email_idx ON users (email);\n",
    );
    let output = run(&["check", "--show-sets", "--format", "json"], root);
    let shown = String::from_utf8_lossy(&output.stderr).to_string();
    assert!(
        shown.contains("set core/src/db/postgres/migrations: sqlx, 2 migrations"),
        "{shown}"
    );
    let document = json(&output);
    assert!(
        errors_and_warnings(&document)
            .iter()
            .any(|(rule, _)| rule == "concurrent-index-in-transaction"),
        "{document:#?}"
    );
}

/// sqlx and golang-migrate share `<version>_<name>.up.sql`; the crate's manifest tells them
/// apart. sqlx runs each migration in a transaction (golang-migrate sends a file of one
/// statement on its own), and a crate whose sqlx features name only SQLite keeps SQLite's
/// migrations: said, not judged as PostgreSQL's.
#[test]
fn a_sqlx_crate_runs_its_migrations_in_transactions_on_the_database_its_features_name() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "Cargo.toml",
        "[workspace]\nmembers = [\"server\", \"client\"]\n[workspace.dependencies]\nsqlx = { version = \"0.8\", features = [\"runtime-tokio\"] }\n",
    );
    write(
        root,
        "server/Cargo.toml",
        "[package]\nname = \"server\"\n[dependencies]\nsqlx = { workspace = true, features = [\"postgres\"] }\n",
    );
    write(
        root,
        "server/migrations/20240101000000_users.up.sql",
        "CREATE TABLE users (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text);\n",
    );
    write(
        root,
        "server/migrations/20240101000000_users.down.sql",
        "DROP TABLE users;\n",
    );
    write(
        root,
        "server/migrations/20240102000000_users_email.up.sql",
        "CREATE INDEX CONCURRENTLY users_email_idx ON users (email);\n",
    );
    write(
        root,
        "server/migrations/20240102000000_users_email.down.sql",
        "-- no-transaction\nDROP INDEX CONCURRENTLY users_email_idx;\n",
    );
    write(
        root,
        "client/Cargo.toml",
        "[package]\nname = \"client\"\n[dependencies]\nsqlx = { workspace = true, features = [\"sqlite\"] }\n",
    );
    write(
        root,
        "client/migrations/20240101000000_history.sql",
        "CREATE TABLE history (id integer PRIMARY KEY AUTOINCREMENT, command text);\nALTER TABLE history DROP COLUMN command;\n",
    );
    let output = run(&["check", "--format", "json"], root);
    let document = json(&output);
    assert_eq!(document["summary"]["revisions"], 2, "{document:#?}");
    let found = errors_and_warnings(&document);
    // The up script is in sqlx's transaction; the down script says `-- no-transaction`.
    assert_eq!(
        found
            .iter()
            .filter(|(rule, _)| rule == "concurrent-index-in-transaction")
            .map(|(_, path)| path.as_str())
            .collect::<Vec<_>>(),
        ["server/migrations/20240102000000_users_email.up.sql"],
        "{found:#?}"
    );
    assert!(
        !found.iter().any(|(_, path)| path.contains("client/")),
        "{found:#?}"
    );
    let skipped: Vec<&str> = document["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["rule"] == "skipped-folder")
        .map(|d| d["message"].as_str().unwrap())
        .collect();
    assert!(
        skipped.len() == 1
            && skipped[0].contains("client/migrations: 1 migration file for another database"),
        "{skipped:#?}"
    );
}

/// A folder per release (`postgres/0.19/01__x.sql`, as usememos/memos keeps its history): one
/// history, in release order and then file name order, so a later release knows what an
/// earlier one created.
#[test]
fn a_folder_per_release_is_one_history_in_release_order() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "migration/postgres/0.19/01__users.sql",
        "CREATE TABLE users (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name varchar(20));\n",
    );
    // Widening a varchar rewrites nothing: known only if 0.19 ran first.
    write(
        root,
        "migration/postgres/0.20/00__longer_names.sql",
        "ALTER TABLE users ALTER COLUMN name TYPE varchar(50);\n",
    );
    // A fresh install's whole schema, beside the releases: no history, left out.
    write(
        root,
        "migration/postgres/LATEST.sql",
        "CREATE TABLE users (id bigint PRIMARY KEY, name varchar(50));\n",
    );
    // The same releases for MySQL: a folder discovery does not enter, but `--show-sets` names.
    write(
        root,
        "migration/mysql/0.19/01__users.sql",
        "CREATE TABLE users (id bigint AUTO_INCREMENT PRIMARY KEY, name varchar(20));\n",
    );
    let output = run(&["check", "--format", "json", "--show-sets"], root);
    let document = json(&output);
    assert_eq!(document["summary"]["revisions"], 2, "{document:#?}");
    let found = errors_and_warnings(&document);
    assert!(
        !found.iter().any(|(rule, _)| rule == "change-column-type"),
        "{found:#?}"
    );
    let shown = String::from_utf8_lossy(&output.stderr);
    assert!(
        shown.contains("left out: migration/mysql: 1 migration file written for another database"),
        "{shown}"
    );
}

/// Drizzle's migrations are the entries of `meta/_journal.json`, on the database its `dialect`
/// names: a SQLite journal's folder is said, not judged as PostgreSQL's.
#[test]
fn a_drizzle_folder_is_read_from_its_journal_on_the_database_it_names() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "db/drizzle/meta/_journal.json",
        r#"{"version":"7","dialect":"sqlite","entries":[{"idx":0,"version":"6","when":1725358702427,"tag":"0000_init","breakpoints":true}]}"#,
    );
    write(
        root,
        "db/drizzle/0000_init.sql",
        "CREATE TABLE `page` (`id` integer PRIMARY KEY NOT NULL, `title` text);\n--> statement-breakpoint\nDROP TABLE `legacy`;\n",
    );
    let output = run(&["check", "--format", "json"], root);
    let document = json(&output);
    assert_eq!(output.status.code(), Some(0), "{document:#?}");
    let rules: Vec<&str> = document["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["rule"].as_str().unwrap())
        .collect();
    assert_eq!(rules, ["skipped-folder"], "{document:#?}");
}

/// A `.sql` file the journal does not list (a migration generated and then replaced) is never
/// run by Drizzle: a note says so, and it is not a set of its own.
#[test]
fn a_file_drizzles_journal_does_not_list_is_left_out_with_a_note() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "drizzle/meta/_journal.json",
        r#"{"version":"7","dialect":"postgresql","entries":[{"idx":0,"version":"7","when":1725358702427,"tag":"0000_init","breakpoints":true}]}"#,
    );
    write(
        root,
        "drizzle/0000_init.sql",
        "CREATE TABLE \"page\" (\"id\" bigint PRIMARY KEY NOT NULL);\n",
    );
    write(
        root,
        "drizzle/0001_abandoned.sql",
        "ALTER TABLE \"page\" ADD COLUMN \"title\" text NOT NULL;\n",
    );
    let output = run(&["check", "--format", "json"], root);
    let document = json(&output);
    let findings: Vec<(String, String)> = document["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["rule"].as_str().unwrap().to_string(),
                d["message"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(findings.len(), 1, "{document:#?}");
    assert_eq!(findings[0].0, "skipped-folder");
    assert!(
        findings[0]
            .1
            .contains("1 script that meta/_journal.json does not list: Drizzle never runs it"),
        "{}",
        findings[0].1
    );
}

/// Another database's history in a layout PostgreSQL tools share (ClickHouse in Diesel's
/// folders): PostgreSQL's own grammar rejects its CREATE TABLEs, so the folder is said and left
/// out; a PostgreSQL history with one statement PostgreSQL rejects is still judged.
#[test]
fn a_folder_whose_sql_postgres_rejects_is_another_databases() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    for (name, up) in [
        (
            "2024-07-01-000000_events",
            "CREATE TABLE IF NOT EXISTS events (id UUID, kind String, at DateTime) ENGINE = MergeTree() ORDER BY (at, id);\n",
        ),
        (
            "2024-07-02-000000_clicks",
            "CREATE TABLE IF NOT EXISTS clicks (id UUID, at DateTime) ENGINE = ReplacingMergeTree() ORDER BY id;\n",
        ),
        (
            "2024-07-03-000000_events_flag",
            "ALTER TABLE events ADD COLUMN IF NOT EXISTS flagged UInt8 DEFAULT 0;\n",
        ),
    ] {
        write(root, &format!("ch_migrations/{name}/up.sql"), up);
        write(
            root,
            &format!("ch_migrations/{name}/down.sql"),
            "SELECT 1;\n",
        );
    }
    write(
        root,
        "migrations/2024-07-01-000000_users/up.sql",
        "CREATE TABLE users (id bigint PRIMARY KEY, email text);\nCREATE INDEX ix_users_email ON users (email);\n",
    );
    write(
        root,
        "migrations/2024-07-01-000000_users/down.sql",
        "DROP TABLE users;\n",
    );
    write(
        root,
        "migrations/2024-07-02-000000_names/up.sql",
        "ALTER TABLE users ADD COLUMN name text;\nDELETE FROM users WHERE email IS NULL AND name IS NULL AND id < 0 AND TRUE AND;\n",
    );
    write(
        root,
        "migrations/2024-07-02-000000_names/down.sql",
        "ALTER TABLE users DROP COLUMN name;\n",
    );
    let output = run(&["check", "--show-sets", "."], root);
    let shown = String::from_utf8_lossy(&output.stderr).to_string()
        + &String::from_utf8_lossy(&output.stdout);
    assert!(
        shown.contains("left out: ch_migrations: PostgreSQL's own parser rejects 2 of its 6 statements: another database's migrations"),
        "{shown}"
    );
    assert!(
        shown.contains("set migrations: diesel, 2 migrations"),
        "{shown}"
    );
}

/// Flyway puts its configured schema first on the search path: an unqualified name in the
/// scripts is in it, so the index below is on the table created just before.
#[test]
fn flyways_configured_schema_is_where_unqualified_names_are() {
    let findings = |with_config: bool| -> Vec<String> {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(
            root,
            "src/main/resources/db/migration/V1__accounts.sql",
            "CREATE TABLE app.accounts (id bigint PRIMARY KEY, email text);\nCREATE INDEX ix_accounts_email ON accounts (email);\n",
        );
        if with_config {
            write(
                root,
                "src/main/resources/application.properties",
                "spring.flyway.schemas=app\n",
            );
        }
        let document = json(&run(&["check", "--format", "json"], root));
        errors_and_warnings(&document)
            .into_iter()
            .map(|(rule, _)| rule)
            .collect()
    };
    assert!(
        findings(false).contains(&"create-index-non-concurrently".to_string()),
        "without the configuration, `accounts` is public's"
    );
    assert!(
        !findings(true).contains(&"create-index-non-concurrently".to_string()),
        "with spring.flyway.schemas=app, `accounts` is app.accounts"
    );
}

/// Flyway's configuration may change the versioned migrations' prefix: with
/// `sql-migration-prefix=` empty, `2019..__name.sql` files are Flyway's versioned migrations.
#[test]
fn flyways_configured_prefix_names_its_migrations() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "src/main/resources/application.properties",
        "spring.flyway.schemas=app\nspring.flyway.sql-migration-prefix=\n",
    );
    write(
        root,
        "src/main/resources/db/migration/20190101000000000__accounts.sql",
        "CREATE TABLE accounts (id bigint PRIMARY KEY);\n",
    );
    write(
        root,
        "src/main/resources/db/migration/20190102000000000__accounts_email.sql",
        "ALTER TABLE accounts ADD COLUMN email text;\n",
    );
    let output = run(&["check", "--show-sets", "."], root);
    let shown = String::from_utf8_lossy(&output.stderr).to_string()
        + &String::from_utf8_lossy(&output.stdout);
    assert!(
        shown.contains("set src/main/resources/db/migration: flyway, 2 migrations"),
        "{shown}"
    );
}

/// drizzle-kit's folder-per-migration layout (`<timestamp>_<name>/migration.sql` beside its
/// `snapshot.json`, no journal) is Drizzle's, not Prisma's, whose names it shares; a folder of
/// migrations under `fixtures` is a test suite's, left out with a note.
#[test]
fn drizzles_folder_layout_is_drizzles_and_fixtures_are_tests() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    for (folder, sql) in [
        (
            "20250101120000_init",
            "CREATE TABLE \"users\" (\"id\" serial PRIMARY KEY, \"email\" text NOT NULL);\n",
        ),
        (
            "20250102120000_email_index",
            "SET lock_timeout = '3s';\n--> statement-breakpoint\nCREATE INDEX \"users_email_idx\" ON \"users\" (\"email\")\n",
        ),
    ] {
        write(root, &format!("db/drizzle/{folder}/migration.sql"), sql);
        write(
            root,
            &format!("db/drizzle/{folder}/snapshot.json"),
            "{\"version\": \"8\", \"dialect\": \"postgres\"}\n",
        );
    }
    write(
        root,
        "engine/migrate/fixtures/001_accounts.sql",
        "-- +migrate Up\nCREATE TABLE accounts (id integer PRIMARY KEY);\n",
    );
    let output = run(&["check", "--show-sets", "--format", "json"], root);
    let shown = String::from_utf8_lossy(&output.stderr);
    assert!(
        shown.contains("set db/drizzle: drizzle, 2 migrations"),
        "{shown}"
    );
    assert!(
        shown.contains("left out: engine/migrate/fixtures: 1 `.sql` file: a test suite's fixtures"),
        "{shown}"
    );
    // A breakpoint ends the statement before it, semicolon or not.
    let document = json(&output);
    assert!(
        !errors_and_warnings(&document)
            .iter()
            .any(|(rule, _)| rule == "unparsed-sql"),
        "{document:#?}"
    );
}

/// A Flask-Migrate history is Alembic run inside the Flask application: the set line says so,
/// so a Flask team recognises its history.
#[test]
fn a_flask_migrate_history_is_named_so() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/roundtrip/needs_app");
    let output = run(
        &["check", "--show-sets", &fixture.display().to_string()],
        fixture.parent().unwrap(),
    );
    let shown = String::from_utf8_lossy(&output.stderr);
    assert!(
        shown.contains(": alembic (Flask-Migrate), 1 migration"),
        "{shown}"
    );
}

/// A project keeping a query file beside each package's code gets one note for all those
/// folders, not one each; up to three folders are named apart.
#[test]
fn many_folders_of_unordered_sql_are_one_note() {
    let note_lines = |packages: &[&str]| -> Vec<String> {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(
            root,
            "migrations/0001_users.sql",
            "CREATE TABLE users (id bigint PRIMARY KEY);\n",
        );
        for package in packages {
            write(
                root,
                &format!("{package}/queries.sql"),
                "SELECT id FROM users WHERE id = $1;\n",
            );
        }
        let output = run(&["check", "--show-sets"], root);
        String::from_utf8_lossy(&output.stderr)
            .lines()
            .filter(|line| line.contains("no version to order"))
            .map(str::to_string)
            .collect()
    };
    let many = note_lines(&["alert", "apikey", "auth", "calsub", "user"]);
    assert_eq!(many.len(), 1, "{many:#?}");
    assert!(
        many[0].contains("5 folders (alert, apikey, auth, …) hold 5 `.sql` files"),
        "{many:#?}"
    );
    let few = note_lines(&["alert", "apikey"]);
    assert_eq!(few.len(), 2, "{few:#?}");
}

/// A JVM service whose own configuration connects only to another database (ClickHouse) keeps
/// that database's migrations: left out with a note naming the configuration; a service beside
/// it connecting to PostgreSQL is checked.
#[test]
fn a_service_configured_for_another_database_keeps_its_migrations() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    for (service, url) in [
        ("analytics", "jdbc:clickhouse://clickhouse:8123/analytics"),
        ("accounts", "jdbc:postgresql://db:5432/accounts"),
    ] {
        write(
            root,
            &format!("{service}/src/main/resources/application.yml"),
            &format!("spring:\n  datasource:\n    url: {url}\n"),
        );
        // Valid SQL for both databases, judged only where it is PostgreSQL's.
        write(
            root,
            &format!("{service}/src/main/resources/db/migration/V1__events.sql"),
            "CREATE TABLE events (id bigint, name text);\nCREATE INDEX events_name ON events (name);\n",
        );
        write(
            root,
            &format!("{service}/src/main/resources/db/migration/V2__events_kind.sql"),
            "ALTER TABLE events ADD COLUMN kind text;\n",
        );
    }
    let output = run(&["check", "--show-sets", "--format", "json"], root);
    let shown = String::from_utf8_lossy(&output.stderr).to_string();
    assert!(
        shown.contains("left out: analytics/src/main/resources/db/migration: the service's configuration (analytics/src/main/resources/application.yml) connects to clickhouse"),
        "{shown}"
    );
    assert!(
        shown.contains("set accounts/src/main/resources/db/migration: flyway, 2 migrations"),
        "{shown}"
    );
    let document = json(&output);
    assert!(
        errors_and_warnings(&document)
            .iter()
            .all(|(_, path)| path.starts_with("accounts/")),
        "{document:#?}"
    );
}

/// A Flyway baseline migration (`B<version>__`) is a copy of what the versioned migrations up
/// to its version build, run only on an empty database: the versioned ones are the history
/// every existing database went through, and are judged; the baseline is left out, said so.
#[test]
fn flyway_baseline_migrations_are_left_out_for_the_versioned_history() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let folder = "src/main/resources/db/migration";
    write(
        root,
        &format!("{folder}/V1__accounts.sql"),
        "CREATE TABLE accounts (id bigint PRIMARY KEY);\n",
    );
    write(
        root,
        &format!("{folder}/V2__accounts_email.sql"),
        "SET lock_timeout = '3s';\nALTER TABLE accounts ADD COLUMN email text;\n",
    );
    // A dump's bare index build, which would be a finding if the baseline were a migration.
    write(
        root,
        &format!("{folder}/B2__baseline.sql"),
        "CREATE TABLE accounts (id bigint PRIMARY KEY, email text);\nCREATE INDEX ix_accounts_email ON accounts (email);\n",
    );
    let output = run(&["check", "--show-sets", "--format", "json"], root);
    let shown = String::from_utf8_lossy(&output.stderr).to_string();
    assert!(
        shown.contains(&format!("set {folder}: flyway, 2 migrations")),
        "{shown}"
    );
    assert!(
        shown.contains(&format!("{folder}: 1 Flyway baseline migration (`B<version>__`): Flyway runs one only on an empty database, in place of the versioned migrations it stands for")),
        "{shown}"
    );
    let document = json(&output);
    assert!(errors_and_warnings(&document).is_empty(), "{document}");
}

/// A Python file that holds only a licence header or a docstring, beside the project's
/// migrations, is no revision of a history of its own; in a folder of revisions it is a
/// revision someone forgot to fill in.
#[test]
fn empty_python_modules_outside_a_history_are_no_revisions() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "config-default.py",
        "# Licensed under the Apache License, Version 2.0\n",
    );
    write(root, "notes.py", "\"\"\"Notes for maintainers.\"\"\"\n");
    write(
        root,
        "migrations/env.py",
        "from alembic import context\ncontext.configure(transaction_per_migration=True)\n",
    );
    write(
        root,
        "migrations/versions/a1_users.py",
        "revision = 'a1'\ndown_revision = None\nfrom alembic import op\nimport sqlalchemy as sa\n\ndef upgrade():\n    op.create_table('users', sa.Column('id', sa.BigInteger(), primary_key=True))\n\ndef downgrade():\n    op.drop_table('users')\n",
    );
    write(
        root,
        "migrations/versions/a2_forgotten.py",
        "\"\"\"empty\"\"\"\n",
    );
    let document = json(&run(&["check", "--format", "json"], root));
    let invalid: Vec<(String, String)> = errors_and_warnings(&document)
        .into_iter()
        .filter(|(rule, _)| rule == "invalid-revision-id")
        .collect();
    assert_eq!(
        invalid,
        [(
            "invalid-revision-id".to_string(),
            "migrations/versions/a2_forgotten.py".to_string()
        )],
        "{document:#?}"
    );
}

#[test]
fn numbered_sql_scripts_beside_a_known_history_are_scripts_not_a_second_history() {
    // Report rebuilds kept as numbered steps per report, beside the Alembic history: run on
    // demand by the application, never deployed as migrations.
    let dir = tempfile::tempdir().unwrap();
    project_with_a_dump(dir.path());
    for report in ["daily", "weekly"] {
        write(
            dir.path(),
            &format!("app/data_tasks/report/{report}/01_create_view.sql"),
            &format!(
                "DROP MATERIALIZED VIEW IF EXISTS report.{report} CASCADE;\nCREATE MATERIALIZED VIEW report.{report} AS SELECT 1 AS n WITH NO DATA;\n"
            ),
        );
        write(
            dir.path(),
            &format!("app/data_tasks/report/{report}/02_fill.sql"),
            &format!(
                "REFRESH MATERIALIZED VIEW report.{report};\nCREATE INDEX ix_{report}_n ON report.{report} (n);\n"
            ),
        );
    }
    let document = json(&run(&["check", "--format", "json"], dir.path()));
    let found = errors_and_warnings(&document);
    assert!(
        found.iter().all(|(_, path)| !path.contains("data_tasks")),
        "{found:?}"
    );
    let note = document["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["message"].as_str())
        .find(|m| m.contains("folders of numbered `.sql` files"))
        .expect("a note says what was left out");
    assert!(
        note.starts_with("2 folders of numbered `.sql` files (app/data_tasks/report/daily, …) beside the alembic history in migrations"),
        "{note}"
    );

    // Named, a folder is checked as plain SQL migrations.
    let document = json(&run(
        &["check", "app/data_tasks/report/daily", "--format", "json"],
        dir.path(),
    ));
    assert!(
        errors_and_warnings(&document)
            .iter()
            .any(|(_, path)| path.contains("data_tasks/report/daily")),
        "{document:#?}"
    );
}

#[test]
fn sql_files_inside_flyways_location_without_its_prefix_are_never_run() {
    let dir = tempfile::tempdir().unwrap();
    let root = "src/main/resources/db/migration/postgresql";
    write(
        dir.path(),
        &format!("{root}/V1.0.0__accounts.sql"),
        "CREATE TABLE accounts (id bigint PRIMARY KEY);\n",
    );
    write(
        dir.path(),
        &format!("{root}/rollback/1.0.0.1__drop_accounts.sql"),
        "DROP TABLE accounts;\n",
    );
    let document = json(&run(&["check", "--format", "json"], dir.path()));
    let found = errors_and_warnings(&document);
    assert!(
        found.iter().all(|(_, path)| !path.contains("rollback")),
        "{found:?}"
    );
    assert!(
        document["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["message"]
                .as_str()
                .unwrap()
                .contains("rollback: inside Flyway's location")),
        "{document:#?}"
    );
}

/// A plugin's folder of revisions that depends on the application's branch label: Alembic can
/// only run it with both folders in one script directory (`version_locations`, here built in
/// code), so it is one history with the application's, not a history whose parent is missing.
#[test]
fn a_plugin_folder_naming_the_applications_revisions_joins_its_history() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "app/migrations/env.py",
        "from alembic import context\ncontext.configure(transaction_per_migration=True)\n",
    );
    let revision = |id: &str, parent: &str, extra: &str, body: &str| {
        format!(
            "import sqlalchemy as sa\nfrom alembic import op\n\nrevision = \"{id}\"\ndown_revision = {parent}\n{extra}\n\ndef upgrade():\n    {body}\n\n\ndef downgrade():\n    pass\n"
        )
    };
    write(
        root,
        "app/migrations/versions/a1_base.py",
        &revision(
            "a1b2c3d4e5f6",
            "None",
            "branch_labels = (\"app\",)",
            "op.create_table(\"users\", sa.Column(\"id\", sa.BigInteger(), primary_key=True))",
        ),
    );
    write(
        root,
        "plugins/audit/audit/migrations/versions/p1_audit.py",
        &revision(
            "0f9e8d7c6b5a",
            "None",
            "branch_labels = (\"audit\",)\ndepends_on = \"app\"",
            "op.create_table(\"audit\", sa.Column(\"id\", sa.BigInteger(), primary_key=True))",
        ),
    );
    write(
        root,
        "plugins/audit/audit/migrations/versions/p2_audit_user.py",
        &revision(
            "1a2b3c4d5e6f",
            "\"0f9e8d7c6b5a\"",
            "",
            "op.add_column(\"audit\", sa.Column(\"user_id\", sa.BigInteger(), nullable=True))",
        ),
    );
    let output = run(&["check", "--format", "json", "--show-sets"], root);
    let shown = String::from_utf8_lossy(&output.stderr);
    assert!(
        shown.contains("set app/migrations: alembic, 3 migrations")
            && shown.contains(
                "with plugins/audit/audit/migrations/versions, whose revisions name this history's"
            ),
        "{shown}"
    );
    let document = json(&output);
    let found = errors_and_warnings(&document);
    assert!(
        !found
            .iter()
            .any(|(rule, _)| rule == "missing-parent-revision"),
        "{found:#?}"
    );
    assert_eq!(document["summary"]["revisions"], 3, "{document:#?}");
    // Two heads, each on its labelled branch, as Alembic allows: no multiple-heads finding.
    assert!(
        found.iter().all(|(rule, _)| rule != "multiple-heads"),
        "{found:#?}"
    );
}

/// A migration runner's own tests keep histories under Go's `testdata` folders, a Java
/// project's under `src/test`: test inputs, left out with a note, and checked when named on the
/// command line.
#[test]
fn histories_under_a_testdata_folder_are_test_inputs_left_out_with_a_note() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "migrations/000001_users.up.sql",
        "CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL);\n",
    );
    write(
        root,
        "migrations/000001_users.down.sql",
        "SET lock_timeout = '5s';\nDROP TABLE users;\n",
    );
    // A deliberately broken history the runner's tests expect to fail.
    write(
        root,
        "internal/dbx/testdata/migration_failure/210101000000_broken.sql",
        "CREATE TABLE foo;\n",
    );
    // A pgTAP unit test beside the schema (a `test` folder).
    write(
        root,
        "schema/test/unit/migrations/008_capitalization_test.sql",
        "BEGIN;\nSELECT plan(1);\nTRUNCATE users;\nSELECT * FROM finish();\nROLLBACK;\n",
    );
    // Test data a Java project's tests load (Maven's and Gradle's `src/test`).
    write(
        root,
        "backend/src/test/resources/db/V9999__Test_Data.sql",
        "CREATE TABLE fixtures_only (name text);\n",
    );
    let document = json(&run(&["check", "--format", "json"], root));
    assert_eq!(errors_and_warnings(&document), Vec::new(), "{document:#?}");
    let diagnostics = document["diagnostics"].as_array().unwrap();
    let skipped: Vec<(&str, &str)> = diagnostics
        .iter()
        .filter(|d| d["rule"] == "skipped-folder")
        .map(|d| (d["path"].as_str().unwrap(), d["message"].as_str().unwrap()))
        .collect();
    assert_eq!(skipped.len(), 3, "{diagnostics:#?}");
    // Each test folder is said once, by the folder that makes it one.
    let said = |folder: &str, what: &str| {
        skipped.iter().any(|(path, message)| {
            path.ends_with(folder)
                && message.starts_with(&format!("{folder}: 1 `.sql` file: {what}"))
        })
    };
    assert!(
        said("backend/src/test", "a test's resources"),
        "{skipped:?}"
    );
    assert!(
        said("internal/dbx/testdata", "a test's data"),
        "{skipped:?}"
    );
    assert!(said("schema/test", "a test's files"), "{skipped:?}");
    assert_eq!(document["summary"]["revisions"], 1);
    // Named on the command line, the folder is checked.
    let named = json(&run(
        &[
            "check",
            "--format",
            "json",
            "internal/dbx/testdata/migration_failure",
        ],
        root,
    ));
    assert_eq!(named["summary"]["revisions"], 1, "{named:#?}");
    assert!(
        !errors_and_warnings(&named).is_empty(),
        "the broken table is judged: {named:#?}"
    );
}

/// golang-migrate never runs a file not named `.up.sql`: a folder whose versions alternate
/// between `.up.sql` and plain `.sql` names is one history its own runner applies in version
/// order, and what one file made is known to the next whatever its name.
#[test]
fn a_folder_alternating_up_sql_and_plain_sql_names_is_one_history() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "migrations/201701261850_create_users.up.sql",
        "CREATE TABLE users (id bigint PRIMARY KEY, name varchar(40) NOT NULL);\n",
    );
    write(
        root,
        "migrations/201803101200_longer_names.sql",
        "ALTER TABLE users ALTER COLUMN name TYPE varchar(80);\n",
    );
    write(
        root,
        "migrations/201905051200_add_email.up.sql",
        "ALTER TABLE users ADD COLUMN email text;\n",
    );
    let sets = run(&["check", "--show-sets"], root);
    let listed = String::from_utf8_lossy(&sets.stderr);
    let set_lines: Vec<&str> = listed.lines().filter(|l| l.starts_with("set ")).collect();
    assert_eq!(set_lines.len(), 1, "{listed}");
    assert!(set_lines[0].contains("3 migrations"), "{listed}");
    // The widening is judged against the type the `.up.sql` file declared: free.
    let document = json(&run(&["check", "--format", "json"], root));
    let found = errors_and_warnings(&document);
    assert!(
        found.iter().all(|(rule, _)| rule == "missing-lock-timeout"),
        "{found:?}"
    );
}

/// Where the project's Go module requires golang-migrate, the folder of its `.up.sql` files is
/// golang-migrate's: its sources pass over any other name, so a plain `.sql` file between them
/// is never run (left out with a note), not the sign of a runner of the project's own.
#[test]
fn a_go_module_requiring_golang_migrate_leaves_out_files_it_never_runs() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join(".git")).unwrap();
    write(
        root,
        "go.mod",
        "module example.com/tracker\n\ngo 1.22\n\nrequire (\n\tgithub.com/golang-migrate/migrate/v4 v4.17.0\n\tgithub.com/jackc/pgx/v5 v5.5.0\n)\n",
    );
    write(
        root,
        "server/migrations/01_create_users.up.sql",
        "CREATE TABLE users (id bigint PRIMARY KEY, name text NOT NULL);\n",
    );
    write(
        root,
        "server/migrations/01_create_users.down.sql",
        "DROP TABLE users;\n",
    );
    write(
        root,
        "server/migrations/02_copy_users.sql",
        "DROP TABLE users;\n",
    );
    write(
        root,
        "server/migrations/03_add_email.up.sql",
        "ALTER TABLE users ADD COLUMN email text;\n",
    );
    write(
        root,
        "server/migrations/03_add_email.down.sql",
        "ALTER TABLE users DROP COLUMN email;\n",
    );
    let sets = run(&["check", "--show-sets"], root);
    let listed = String::from_utf8_lossy(&sets.stderr);
    let set_lines: Vec<&str> = listed.lines().filter(|l| l.starts_with("set ")).collect();
    assert_eq!(set_lines.len(), 1, "{listed}");
    assert!(
        set_lines[0].contains("golang-migrate, 2 migrations"),
        "{listed}"
    );
    let document = json(&run(&["check", "--format", "json"], root));
    let found = errors_and_warnings(&document);
    assert!(
        found
            .iter()
            .all(|(_, file)| !file.contains("02_copy_users")),
        "{found:?}"
    );
    let notes: Vec<&str> = document["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["rule"] == "skipped-folder")
        .map(|d| d["message"].as_str().unwrap())
        .collect();
    assert!(
        notes.iter().any(|m| m.contains("1 script not named `<version>_<name>.up.sql` / `.down.sql`: golang-migrate, which the project's go.mod requires, never runs it")),
        "{notes:?}"
    );
}

/// `dist` and `build` folders are build tools' output and are not read; one that holds
/// migrations all the same (a project keeping its changelogs under `dist/`) is named in a
/// note, not left out in silence, and is checked when named.
#[test]
fn a_build_output_folder_holding_migrations_is_named_not_left_out_in_silence() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "service/dist/db/20240101120000_users.sql",
        "-- migrate:up\nCREATE TABLE users (id bigint PRIMARY KEY);\n\n-- migrate:down\nDROP TABLE users;\n",
    );
    write(root, "web/dist/app.js", "console.log(1);\n");
    let document = json(&run(&["check", "--format", "json"], root));
    let notes: Vec<&str> = document["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["rule"] == "skipped-folder")
        .map(|d| d["message"].as_str().unwrap())
        .collect();
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(
        notes[0].starts_with("service/dist: a `dist` folder, where build tools write their output, holds 1 `.sql` or changelog file: not read"),
        "{notes:?}"
    );
    let named = run(&["check", "--show-sets", "service/dist/db"], root);
    assert!(
        String::from_utf8_lossy(&named.stderr).contains("dbmate, 1 migration"),
        "{named:?}"
    );
}
