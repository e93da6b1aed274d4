//! SQL migration tools told apart by what sits beside their files, each read the way that tool
//! runs it: the Supabase CLI, Atlas and Sqitch. Layouts written by us, modelled on public
//! projects that use each tool.

mod common;

use std::path::Path;

use common::project::{errors_and_warnings, json, run, write};
use common::roundtrip::{pairs, roundtrip, statuses};
use common::{postgres_binaries, scratch_dir};

/// The messages of a `--format json` document's findings of `rule`.
fn messages_of<'d>(document: &'d serde_json::Value, rule: &str) -> Vec<&'d str> {
    document["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["rule"] == rule)
        .map(|d| d["message"].as_str().unwrap())
        .collect()
}

/// `check --show-sets`'s stderr line for the one set found.
fn set_line(root: &std::path::Path) -> String {
    let output = run(&["check", "--show-sets", "--format", "json"], root);
    String::from_utf8_lossy(&output.stderr)
        .lines()
        .find(|l| l.starts_with("set "))
        .unwrap_or_default()
        .to_string()
}

fn supabase_project(root: &Path) {
    write(root, "supabase/config.toml", "project_id = \"shop\"\n");
    write(
        root,
        "supabase/seed.sql",
        "INSERT INTO profiles (name) VALUES ('demo');\n",
    );
    write(
        root,
        "supabase/migrations/20240101000000_profiles.sql",
        "CREATE TABLE profiles (id uuid PRIMARY KEY, name text NOT NULL);\nCREATE INDEX profiles_name_idx ON profiles (name);\n",
    );
    write(
        root,
        "supabase/migrations/20240102000000_profiles_lower_name.sql",
        "SET lock_timeout = '3s';\nCREATE INDEX CONCURRENTLY profiles_lower_name_idx ON profiles (lower(name));\n",
    );
    // A foreign key to Supabase's `auth.users` locks that table; a lock_timeout of 0 is none.
    write(
        root,
        "supabase/migrations/20240103000000_notes.sql",
        "SET lock_timeout = 0;\nCREATE TABLE notes (id bigint PRIMARY KEY, owner uuid NOT NULL REFERENCES auth.users (id));\nCREATE INDEX notes_owner_idx ON notes (owner);\n",
    );
    // pgTAP tests `supabase test db` runs: no migrations.
    write(
        root,
        "supabase/tests/database/01-profiles.sql",
        "BEGIN;\nSELECT plan(1);\nCREATE TABLE scratch (id int);\nSELECT has_table('profiles');\nSELECT * FROM finish();\nROLLBACK;\n",
    );
}

fn atlas_project(root: &Path) {
    write(
        root,
        "migrations/atlas.sum",
        "h1:TOTAL=\n20240101000000_users.sql h1:A=\n",
    );
    write(
        root,
        "migrations/20240101000000_users.sql",
        "CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL);\n",
    );
    // Good: outside any transaction, and safe to run again.
    write(
        root,
        "migrations/20240102000000_users_email.sql",
        "-- atlas:txmode none\n\nSET lock_timeout = '3s';\nDROP INDEX CONCURRENTLY IF EXISTS users_email_idx;\nCREATE INDEX CONCURRENTLY users_email_idx ON users (email);\n",
    );
    // Bad: the directive without the blank line after it is no header.
    write(
        root,
        "migrations/20240103000000_users_id_email.sql",
        "-- atlas:txmode none\nCREATE INDEX CONCURRENTLY users_id_email_idx ON users (id, email);\n",
    );
}

fn sqitch_project(root: &Path) {
    write(root, "sqitch.conf", "[core]\n\tengine = pg\n");
    write(
        root,
        "sqitch.plan",
        "%syntax-version=1.0.0\n%project=shop\n\nusers 2024-01-01T00:00:00Z Ann <ann@example.com> # users\nemail_index [users] 2024-01-02T00:00:00Z Ann <ann@example.com>\n@v1.0 2024-01-03T00:00:00Z Ann <ann@example.com>\n\norders [users] 2024-01-04T00:00:00Z Ann <ann@example.com>\n",
    );
    write(
        root,
        "deploy/users.sql",
        "-- Deploy shop:users to pg\n\\set owner `whoami`\n\nBEGIN;\nCREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL);\nCOMMENT ON TABLE users IS :'owner';\nCOMMIT;\n",
    );
    write(
        root,
        "revert/users.sql",
        "BEGIN;\nDROP TABLE users;\nCOMMIT;\n",
    );
    write(
        root,
        "verify/users.sql",
        "BEGIN;\nSELECT id, email FROM users WHERE false;\nROLLBACK;\n",
    );
    // Good: psql runs a script without BEGIN statement by statement, so CONCURRENTLY works.
    write(
        root,
        "deploy/email_index.sql",
        "SET lock_timeout = '3s';\nDROP INDEX CONCURRENTLY IF EXISTS users_email_idx;\nCREATE INDEX CONCURRENTLY users_email_idx ON users (email);\n",
    );
    write(
        root,
        "revert/email_index.sql",
        "SET lock_timeout = '3s';\nDROP INDEX CONCURRENTLY IF EXISTS users_email_idx;\n",
    );
    // Bad: no revert script.
    write(
        root,
        "deploy/orders.sql",
        "BEGIN;\nSET LOCAL lock_timeout = '3s';\nCREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint NOT NULL REFERENCES users);\nCOMMIT;\n",
    );
    // Not in the plan: Sqitch never runs it.
    write(root, "deploy/scratch.sql", "DROP TABLE users;\n");
}

fn liquibase_project(root: &Path) {
    write(
        root,
        "src/main/resources/db/changelog/db.changelog-master.yaml",
        "databaseChangeLog:\n  - include:\n      file: db/changelog/changes/001-users.sql\n  - include:\n      file: db/changelog/changes/002-user-email.sql\n",
    );
    write(
        root,
        "src/main/resources/db/changelog/changes/001-users.sql",
        "--liquibase formatted sql\n\n--changeset ann:1\nCREATE TABLE users (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text NOT NULL);\n--rollback SET LOCAL lock_timeout = '3s';\n--rollback DROP TABLE users;\n",
    );
    write(
        root,
        "src/main/resources/db/changelog/changes/002-user-email.sql",
        "--liquibase formatted sql\n\n--changeset ann:2 runInTransaction:false\nSET lock_timeout = '3s';\nCREATE INDEX CONCURRENTLY IF NOT EXISTS users_lower_email_idx ON users (lower(email));\n--rollback SET lock_timeout = '3s';\n--rollback DROP INDEX CONCURRENTLY IF EXISTS users_lower_email_idx;\n\n--changeset ann:3\nSET LOCAL lock_timeout = '3s';\nCREATE INDEX CONCURRENTLY IF NOT EXISTS users_id_email_idx ON users (id, email);\n--rollback not required\n\n--changeset ann:4 dbms:h2\nCREATE ALIAS IF NOT EXISTS now_h2 FOR \"java.time.Instant.now\";\n",
    );
}

/// The Supabase CLI sends each file as one batch, an implicit transaction nothing turns off:
/// CONCURRENTLY there fails at run time. `supabase/seed.sql` is no migration.
#[test]
fn supabase_runs_each_file_in_one_transaction_and_forward_only() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    supabase_project(root);
    let document = json(&run(&["check", "--format", "json"], root));
    assert_eq!(
        errors_and_warnings(&document),
        pairs(&[
            (
                "concurrent-index-in-transaction",
                "supabase/migrations/20240102000000_profiles_lower_name.sql"
            ),
            (
                "missing-lock-timeout",
                "supabase/migrations/20240103000000_notes.sql"
            ),
        ]),
        "{document:#?}"
    );
    let lock = messages_of(&document, "missing-lock-timeout");
    assert!(lock[0].contains("`auth.users`"), "{lock:?}");
    let skipped = messages_of(&document, "skipped-folder");
    assert!(
        skipped.iter().any(|m| m.contains("supabase test db")),
        "{skipped:?}"
    );
    // Forward only: no missing-downgrade; the seed is said to be left out.
    let notes: Vec<&str> = document["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["rule"].as_str().unwrap())
        .collect();
    assert!(!notes.contains(&"missing-downgrade"), "{notes:?}");
    // `graph` says a folder left out as `check` does: a note.
    let graph = run(&["graph"], root);
    let said = String::from_utf8_lossy(&graph.stderr);
    assert!(
        said.contains("note[skipped-folder]") && !said.contains("error["),
        "{said}"
    );
    assert!(
        set_line(root).contains("supabase/migrations: supabase, 3 migrations"),
        "{}",
        set_line(root)
    );
}

/// Atlas runs each file in a transaction unless its header says `atlas:txmode none` (followed
/// by a blank line, or Atlas ignores the header).
#[test]
fn atlas_runs_a_transaction_per_file_unless_its_header_says_none() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    atlas_project(root);
    let document = json(&run(&["check", "--format", "json"], root));
    let found = errors_and_warnings(&document);
    assert!(
        found.contains(&(
            "concurrent-index-in-transaction".to_string(),
            "migrations/20240103000000_users_id_email.sql".to_string()
        )),
        "{document:#?}"
    );
    assert!(
        found
            .iter()
            .all(|(_, path)| path != "migrations/20240102000000_users_email.sql"),
        "{found:?}"
    );
    assert!(set_line(root).contains("migrations: atlas, 3 migrations"));
}

/// Sqitch deploys in plan order (not name order), reverts with `revert/`, never runs a script
/// the plan does not list, and its verify scripts are no migrations; psql runs a script as
/// written.
#[test]
fn sqitch_follows_its_plan_with_deploy_and_revert_scripts() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    sqitch_project(root);
    let document = json(&run(&["check", "--format", "json"], root));
    assert_eq!(
        errors_and_warnings(&document),
        pairs(&[
            ("missing-lock-timeout", "revert/users.sql"),
            ("missing-downgrade", "deploy/orders.sql"),
        ]),
        "{document:#?}"
    );
    let skipped = messages_of(&document, "skipped-folder");
    assert_eq!(skipped.len(), 1, "{skipped:?}");
    assert!(
        skipped[0].contains("sqitch.plan does not list"),
        "{skipped:?}"
    );
    // psql's meta-commands and variables are psql's, not SQL PostgreSQL rejects.
    assert!(
        messages_of(&document, "unparsed-sql").is_empty(),
        "{document:#?}"
    );
    assert!(
        set_line(root).contains("sqitch, 3 migrations"),
        "{}",
        set_line(root)
    );
}

/// The Supabase CLI applies `supabase/migrations` whatever wrote its files: an `atlas.sum` left
/// there by Atlas's `migrate diff` does not make it Atlas's.
#[test]
fn supabase_migrations_written_by_atlas_are_still_supabases() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    supabase_project(root);
    write(
        root,
        "supabase/migrations/atlas.sum",
        "h1:QmFzZTY0c3VtT2ZUaGVEaXJlY3RvcnlXcml0dGVuQnlVcz0=\n",
    );
    let line = set_line(root);
    assert!(line.contains(": supabase, "), "{line}");
}

/// Drizzle cuts a file at `--> statement-breakpoint` and sends the pieces one by one, so a
/// statement before a breakpoint needs no semicolon: the lint reads it so, and the round trip
/// runs it so.
#[test]
fn drizzle_runs_the_pieces_between_breakpoints_one_by_one() {
    let folder = common::roundtrip::repo()
        .join("fixtures/rules/unparsed-sql/good_drizzle_breakpoint_without_semicolon")
        .display()
        .to_string();
    let Some(_) = postgres_binaries() else {
        return;
    };
    let tmp = scratch_dir();
    let output = roundtrip(
        &[&folder, "--postgres", "local", "--format", "json"],
        tmp.path(),
    )
    .output()
    .unwrap();
    assert_eq!(
        statuses(&output),
        pairs(&[("1726000000000", "passed")]),
        "{}",
        common::roundtrip::everything(&output)
    );
}

/// `[[sets]]` names the framework of a folder whose layout does not tell: the same files read
/// as loose SQL run each statement as written, as Atlas's in a transaction per file. A name
/// that is no framework is a config error (exit 2) that lists the names.
#[test]
fn the_config_names_a_folders_framework() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "db/migrations/20240101000000_users.sql",
        "CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL);\n",
    );
    write(
        root,
        "db/migrations/20240102000000_users_email.sql",
        "SET lock_timeout = '3s';\nDROP INDEX CONCURRENTLY IF EXISTS users_email_idx;\nCREATE INDEX CONCURRENTLY users_email_idx ON users (email);\n",
    );
    let loose = json(&run(&["check", "--format", "json"], root));
    assert_eq!(errors_and_warnings(&loose), pairs(&[]), "{loose:#?}");
    write(
        root,
        "migration-gate.toml",
        "[[sets]]\npath = \"db/migrations\"\nframework = \"atlas\"\n",
    );
    let named = json(&run(&["check", "--format", "json"], root));
    let found = errors_and_warnings(&named);
    assert!(
        found.contains(&(
            "concurrent-index-in-transaction".to_string(),
            "db/migrations/20240102000000_users_email.sql".to_string()
        )),
        "{named:#?}"
    );
    assert!(set_line(root).contains("db/migrations: atlas, 2 migrations"));
    write(
        root,
        "migration-gate.toml",
        "[[sets]]\npath = \"db/migrations\"\nframework = \"liquibase-ish\"\n",
    );
    let output = run(&["check"], root);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("liquibase-ish") && stderr.contains("supabase, atlas, sql"),
        "{stderr}"
    );
}

/// A project's own runner (a Makefile loop, a few lines of Go) is `framework = "sql"`; its
/// transaction is the config's to say: `per-migration` wraps each file in BEGIN … COMMIT, so a
/// CONCURRENTLY index build in one fails on PostgreSQL, in the lint and in the round trip;
/// `none` sends statement by statement, where it runs. A transaction for a framework that
/// decides its own is a config error.
#[test]
fn a_projects_own_runner_is_run_in_the_transaction_the_config_names() {
    let dir = scratch_dir();
    let root = dir.path();
    write(
        root,
        "schema/migrations/0001_users.sql",
        "CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL);\n",
    );
    write(
        root,
        "schema/migrations/0002_users_email.sql",
        "SET lock_timeout = '3s';\nCREATE INDEX CONCURRENTLY IF NOT EXISTS users_email_idx ON users (email);\n",
    );
    let config = |transaction: &str| {
        write(
            root,
            "migration-gate.toml",
            &format!(
                "[[sets]]\npath = \"schema/migrations\"\nframework = \"sql\"\ntransaction = \"{transaction}\"\n"
            ),
        );
    };
    let in_transaction = || {
        let document = json(&run(&["check", "--format", "json"], root));
        messages_of(&document, "concurrent-index-in-transaction").len()
    };
    config("per-migration");
    assert_eq!(in_transaction(), 1);
    // Checked from another folder, the config found beside the project still names it.
    let elsewhere = scratch_dir();
    let from_elsewhere = json(&run(
        &["check", "--format", "json", &root.display().to_string()],
        elsewhere.path(),
    ));
    assert_eq!(
        messages_of(&from_elsewhere, "concurrent-index-in-transaction").len(),
        1,
        "{from_elsewhere:#?}"
    );
    config("none");
    assert_eq!(in_transaction(), 0);
    if postgres_binaries().is_some() {
        let tmp = scratch_dir();
        let folder = root.display().to_string();
        let round_trip = || {
            statuses(
                &roundtrip(
                    &[&folder, "--postgres", "local", "--format", "json"],
                    tmp.path(),
                )
                .output()
                .unwrap(),
            )
        };
        assert_eq!(
            round_trip(),
            pairs(&[("0001_users", "passed"), ("0002_users_email", "passed")])
        );
        config("per-migration");
        assert_eq!(
            round_trip(),
            pairs(&[("0001_users", "passed"), ("0002_users_email", "failed")])
        );
    }
    write(
        root,
        "migration-gate.toml",
        "[[sets]]\npath = \"schema/migrations\"\nframework = \"atlas\"\ntransaction = \"none\"\n",
    );
    let output = run(&["check"], root);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("transaction = \"none\"")
            && stderr.contains("only for framework = \"sql\""),
        "{stderr}"
    );
}

/// Liquibase formatted SQL: each changeset a migration in the master changelog's order, in a
/// transaction unless `runInTransaction:false`, rolled back by its `--rollback` lines; a
/// changeset for another database (`dbms:h2`) is not PostgreSQL's.
#[test]
fn liquibase_changesets_are_migrations_with_their_rollbacks() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    liquibase_project(root);
    let document = json(&run(&["check", "--format", "json"], root));
    assert_eq!(
        errors_and_warnings(&document),
        pairs(&[(
            "concurrent-index-in-transaction",
            "src/main/resources/db/changelog/changes/002-user-email.sql"
        )]),
        "{document:#?}"
    );
    assert!(
        set_line(root).contains("liquibase, 3 migrations"),
        "{}",
        set_line(root)
    );
}

/// Changesets a YAML or JSON changelog writes as Liquibase change types are not read: a note
/// names them, the formatted SQL is still checked, and the round trip refuses the history
/// (exit 2) instead of replaying it without them.
#[test]
fn liquibase_yaml_change_types_are_named_as_not_read_and_not_replayed() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    liquibase_project(root);
    write(
        root,
        "src/main/resources/db/changelog/db.changelog-master.yaml",
        "databaseChangeLog:\n  - include:\n      file: db/changelog/changes/001-users.sql\n  - include:\n      file: db/changelog/changes/002-user-email.sql\n  - include:\n      file: db/changelog/changes/003-audit.yaml\n",
    );
    write(
        root,
        "src/main/resources/db/changelog/changes/003-audit.yaml",
        "databaseChangeLog:\n  - changeSet:\n      id: 5\n      author: ann\n      changes:\n        - createTable:\n            tableName: audit\n            columns:\n              - column:\n                  name: id\n                  type: bigint\n  - changeSet:\n      id: 6\n      author: ann\n      changes:\n        - createIndex:\n            tableName: audit\n            indexName: audit_id\n            columns:\n              - column:\n                  name: id\n",
    );
    let document = json(&run(&["check", "--format", "json"], root));
    assert_eq!(
        errors_and_warnings(&document),
        pairs(&[(
            "concurrent-index-in-transaction",
            "src/main/resources/db/changelog/changes/002-user-email.sql"
        )]),
        "{document:#?}"
    );
    let notes = messages_of(&document, "skipped-folder");
    assert!(
        notes.iter().any(|m| m.contains(
            "2 changesets in src/main/resources/db/changelog/changes/003-audit.yaml are written in YAML or JSON"
        )),
        "{notes:?}"
    );
    let output = run(
        &[
            "roundtrip",
            "--postgres",
            "url",
            "--database-url",
            "postgresql://postgres@127.0.0.1:9/none",
        ],
        root,
    );
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("cannot round-trip") && stderr.contains("2 changesets in"),
        "{stderr}"
    );
}

/// A line Liquibase takes for a changeset header but refuses (`--changeset:ann:5`, no blank
/// before the author; `--changeset ann: 6`, a blank before the id) stops Liquibase from running
/// the whole changelog: a syntax error at that line, exit 2, the rest still read.
#[test]
fn a_changeset_header_liquibase_refuses_is_a_syntax_error() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    liquibase_project(root);
    write(
        root,
        "src/main/resources/db/changelog/changes/001-users.sql",
        "--liquibase formatted sql\n\n--changeset ann:1\nCREATE TABLE users (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text NOT NULL);\n--rollback DROP TABLE users;\n\n--changeset:ann:5\nALTER TABLE users ADD COLUMN name text;\n-- changesets below add the audit columns\n",
    );
    let output = run(&["check", "--format", "json"], root);
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let document = json(&output);
    let refused: Vec<(String, u64, String)> = document["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["rule"] == "syntax-error")
        .map(|d| {
            (
                d["path"].as_str().unwrap().to_string(),
                d["line"].as_u64().unwrap(),
                d["message"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(refused.len(), 1, "{refused:?}");
    let (path, line, message) = &refused[0];
    assert_eq!(
        (path.as_str(), *line),
        ("src/main/resources/db/changelog/changes/001-users.sql", 7)
    );
    assert!(
        message.contains("`--changeset:ann:5`") && message.contains("runs none of the file"),
        "{message}"
    );
    // The well-formed headers of the other file are no finding.
    assert!(
        errors_and_warnings(&document)
            .iter()
            .all(|(rule, path)| rule != "syntax-error" || !path.ends_with("002-user-email.sql")),
        "{document:#?}"
    );
}

/// The round trip runs each framework's migrations its way: Supabase's batch and Atlas's
/// transaction fail on CONCURRENTLY where the tool would; Sqitch's scripts go deploy → revert →
/// deploy, a change without a revert script is proven to deploy.
#[test]
fn each_framework_round_trips_the_way_it_runs() {
    let Some(_) = postgres_binaries() else {
        return;
    };
    let tmp = scratch_dir();
    let run_on = |write_project: fn(&Path)| {
        let dir = scratch_dir();
        write_project(dir.path());
        let folder = dir.path().display().to_string();
        let output = roundtrip(
            &[&folder, "--postgres", "local", "--format", "json"],
            tmp.path(),
        )
        .output()
        .unwrap();
        statuses(&output)
    };
    assert_eq!(
        run_on(supabase_project),
        pairs(&[
            ("20240101000000", "passed"),
            ("20240102000000", "failed"),
            // Built on a migration that failed: not judged.
            ("20240103000000", "skipped")
        ])
    );
    assert_eq!(
        run_on(atlas_project),
        pairs(&[
            ("20240101000000", "passed"),
            ("20240102000000", "passed"),
            ("20240103000000", "failed")
        ])
    );
    assert_eq!(
        run_on(sqitch_project),
        pairs(&[
            ("users", "passed"),
            ("email_index", "passed"),
            ("orders", "passed")
        ])
    );
    assert_eq!(
        run_on(liquibase_project),
        pairs(&[
            ("001-users.sql::ann:1", "passed"),
            ("002-user-email.sql::ann:2", "passed"),
            ("002-user-email.sql::ann:3", "failed")
        ])
    );
}

/// One master changelog is one history across folders, in its include order; a file it
/// includes without the formatted-SQL header runs whole as one changeset; a byte-order mark
/// is no SQL.
#[test]
fn a_master_changelog_is_one_history_in_its_order() {
    let Some(_) = postgres_binaries() else {
        return;
    };
    let dir = scratch_dir();
    let root = dir.path();
    write(
        root,
        "db/master.xml",
        r#"<?xml version="1.0"?>
<databaseChangeLog>
  <include file="tables/schema.sql" relativeToChangelogFile="true"/>
  <include file="seed/data.sql" relativeToChangelogFile="true"/>
  <include file="tables/an index.sql" relativeToChangelogFile="true"/>
</databaseChangeLog>
"#,
    );
    write(
        root,
        "db/tables/schema.sql",
        "\u{feff}--liquibase formatted sql\n--changeset ann:1\nCREATE TABLE kinds (id int PRIMARY KEY, name text NOT NULL);\n--rollback DROP TABLE kinds;\n",
    );
    write(
        root,
        "db/seed/data.sql",
        "INSERT INTO kinds VALUES (1, 'a');\nINSERT INTO kinds VALUES (2, 'b');\n",
    );
    write(
        root,
        "db/tables/an index.sql",
        "--liquibase formatted sql\n--changeset ann:1\nCREATE UNIQUE INDEX kinds_name ON kinds (name);\n--rollback DROP INDEX kinds_name;\n",
    );
    assert!(
        set_line(root).contains("db: liquibase, 3 migrations"),
        "{}",
        set_line(root)
    );
    let tmp = scratch_dir();
    let folder = root.display().to_string();
    let output = roundtrip(
        &[&folder, "--postgres", "local", "--format", "json"],
        tmp.path(),
    )
    .output()
    .unwrap();
    assert_eq!(
        statuses(&output),
        pairs(&[
            ("schema.sql::ann:1", "passed"),
            ("data.sql::includeAll:raw", "passed"),
            ("an index.sql::ann:1", "passed")
        ])
    );
}
