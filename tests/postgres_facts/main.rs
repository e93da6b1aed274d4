//! Docs are facts. A rule's documentation states what PostgreSQL does with the statement it
//! flags, in lines of the form
//!
//! `Verified on PostgreSQL 15 (`PREFIX`): takes ACCESS EXCLUSIVE on the table and rewrites it.`
//!
//! (the prefix, when given, is how the statements it speaks of begin, and its claims replace the
//! unprefixed ones for them; `and scans it` for a full scan, `and keeps its rows` for no rewrite,
//! nothing for the lock alone, or `fails on a table with rows.`). Here every such claim is
//! checked on a real PostgreSQL 15: each SQL fixture of the rule runs on a fresh copy of
//! fixtures/pg_facts/setup.sql (populated tables), the statements the rule flags inside a
//! transaction, and the locks it holds (`pg_locks`), the table's `relfilenode` and its
//! sequential scans (`pg_stat_xact_user_tables`) are read before it commits. The flagged
//! statements of bad fixtures must do what the doc says; the statements of good fixtures must
//! not. A second test runs the SQL coverage corpus on the same server: PostgreSQL accepts every
//! statement, and the linter reads every one (no `unparsed-sql`).

mod claims;
mod fixed_forms;
mod fixtures;
mod observe;
mod server;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use claims::{Claim, Effect, Stated, claims};
use fixtures::{flagged_lines, migration_files, sql_fixtures, upgrade_statements};
use observe::{Observed, observe, table_states};
use server::Server;

/// Rules whose findings are about a lock, a rewrite, a scan or what a statement takes with it:
/// each must state what it claims.
const LOCK_AND_REWRITE_RULES: &[&str] = &[
    "add-check-constraint-without-not-valid",
    "add-column-not-null-without-default",
    "add-column-volatile-default",
    "add-domain-constraint",
    "add-column-checked-domain",
    "add-exclusion-constraint",
    "add-foreign-key-without-not-valid",
    "add-primary-key",
    "add-unique-constraint",
    "attach-partition-without-check",
    "blocking-maintenance",
    "change-column-type",
    "create-index-non-concurrently",
    "detach-partition-non-concurrently",
    "drop-cascade",
    "drop-column",
    "drop-index-non-concurrently",
    "drop-table",
    "rename-column",
    "rename-table",
    "set-not-null",
    "system-catalog-write",
    "table-rewrite",
    "truncate-table",
];

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn server_available() -> bool {
    if migration_gate::roundtrip::postgres::find_postgres_bin().is_some() {
        return true;
    }
    if std::env::var_os("CI").is_some() {
        panic!("CI is set but no PostgreSQL server binaries were found: install PostgreSQL 15");
    }
    eprintln!("SKIPPED: needs PostgreSQL server binaries (initdb, pg_ctl)");
    false
}

#[test]
fn every_lock_and_rewrite_claim_in_the_docs_holds_on_postgres_15() {
    if !server_available() {
        return;
    }
    let server = Server::start();
    let mut problems = Vec::new();
    let mut verified = 0;
    for rule in LOCK_AND_REWRITE_RULES {
        let doc = std::fs::read_to_string(repo().join("rules").join(format!("{rule}.md"))).unwrap();
        let stated = claims(&doc);
        if stated.is_empty() {
            problems.push(format!(
                "{rule}: its doc states no `Verified on PostgreSQL 15` claim"
            ));
            continue;
        }
        let mut exercised = vec![false; stated.len()];
        let bad = sql_fixtures(rule, "bad");
        if bad.is_empty() {
            problems.push(format!(
                "{rule}: no bad*.sql fixture to verify its claims with"
            ));
        }
        for fixture in bad {
            let flagged = flagged_lines(rule, &fixture);
            let client_info = server.database_for(&fixture);
            server.runtime.block_on(async {
                let client = client_info.connect().await.unwrap();
                for file in migration_files(&fixture) {
                let text = std::fs::read_to_string(&file).unwrap();
                // Tables of earlier revisions count as existing; the revision's own do not.
                let existing: BTreeSet<u32> = table_states(&client).await.into_keys().collect();
                for statement in upgrade_statements(&text) {
                    let is_flagged = statement.lines.clone().any(|l| flagged.contains(&(file.clone(), l)));
                    let observed = observe(&client, &statement.sql).await;
                    if !is_flagged {
                        if let Observed::Failed(error) = &observed {
                            problems.push(format!("{}: `{}` failed: {error}", file.display(), statement.sql.trim()));
                        }
                        continue;
                    }
                    // A claim whose prefix names the statement speaks for it instead of the
                    // general ones.
                    let upper = statement.sql.to_ascii_uppercase();
                    let named: Vec<usize> = stated
                        .iter()
                        .enumerate()
                        .filter(|(_, s)| s.prefix.as_ref().is_some_and(|p| upper.starts_with(p)))
                        .map(|(i, _)| i)
                        .collect();
                    let applicable: Vec<usize> = if named.is_empty() {
                        stated
                            .iter()
                            .enumerate()
                            .filter(|(_, s)| s.prefix.is_none())
                            .map(|(i, _)| i)
                            .collect()
                    } else {
                        named
                    };
                    if applicable.is_empty() {
                        problems.push(format!("{rule}: no claim of its doc speaks of `{}`", statement.sql.trim()));
                    }
                    for i in applicable {
                        exercised[i] = true;
                        if observed.shows(&stated[i].claim, &existing).is_empty() {
                            problems.push(format!(
                                "{rule}: `{}` ({}) does not do what the doc says: {}\n  observed: {observed:?}",
                                statement.sql.trim(),
                                file.display(),
                                stated[i].line
                            ));
                        } else {
                            verified += 1;
                        }
                    }
                }
                }
            });
        }
        for (i, used) in exercised.iter().enumerate() {
            if !used {
                problems.push(format!(
                    "{rule}: no bad fixture statement exercises `{}`",
                    stated[i].line
                ));
            }
        }
        // The safe ways avoid what the doc warns of: no lock-and-rewrite, lock-and-scan or failure.
        let harmful: Vec<&Stated> = stated
            .iter()
            .filter(|s| {
                !matches!(
                    s.claim,
                    Claim::Takes {
                        effect: Effect::Lock | Effect::KeepsRows,
                        ..
                    } | Claim::TakesNoLock
                )
            })
            .collect();
        for fixture in sql_fixtures(rule, "good") {
            let client_info = server.database_for(&fixture);
            server.runtime.block_on(async {
                let client = client_info.connect().await.unwrap();
                for file in migration_files(&fixture) {
                let text = std::fs::read_to_string(&file).unwrap();
                let existing: BTreeSet<u32> = table_states(&client).await.into_keys().collect();
                for statement in upgrade_statements(&text) {
                    let observed = observe(&client, &statement.sql).await;
                    if let Observed::Failed(error) = &observed {
                        problems.push(format!("{}: `{}` failed: {error}", file.display(), statement.sql.trim()));
                    }
                    for s in &harmful {
                        let tables = observed.shows(&s.claim, &existing);
                        if !tables.is_empty() && !matches!(s.claim, Claim::FailsWithRows) {
                            problems.push(format!(
                                "{}: the safe `{}` still does what {rule}'s doc warns of on {tables:?}: {}",
                                file.display(),
                                statement.sql.trim(),
                                s.line
                            ));
                        }
                    }
                }
                }
            });
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    eprintln!("{verified} claims verified on PostgreSQL 15");
    assert!(verified >= LOCK_AND_REWRITE_RULES.len());
}

#[test]
fn postgres_accepts_the_coverage_corpus_and_the_linter_reads_all_of_it() {
    let corpus = repo().join("fixtures/sql_coverage/statements.sql");
    // Syntax of PostgreSQL 16 to 18 is read too, but not run here (the test server is 15).
    let newer = repo().join("fixtures/sql_coverage/statements_pg16_plus.sql");
    let mut unread = Vec::new();
    for file in [&corpus, &newer] {
        let output = Command::new(env!("CARGO_BIN_EXE_migration-gate"))
            .args([
                "check",
                "--format",
                "json",
                "--select",
                "unparsed-sql,dynamic-sql",
            ])
            .arg(file)
            .output()
            .unwrap();
        let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        unread.extend(
            json["diagnostics"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| format!("{} line {}: {}", d["path"], d["line"], d["message"])),
        );
    }
    let text = std::fs::read_to_string(&corpus).unwrap();
    let statements = upgrade_statements(&text);
    assert!(statements.len() >= 100, "{} statements", statements.len());

    if server_available() {
        let server = Server::start();
        let database = server.database(false);
        let setup =
            std::fs::read_to_string(repo().join("fixtures/sql_coverage/setup.sql")).unwrap();
        let mut rejected = Vec::new();
        server.runtime.block_on(async {
            let client = database.connect().await.unwrap();
            client.batch_execute(&setup).await.unwrap();
            for statement in &statements {
                if let Err(error) = client.batch_execute(&statement.sql).await {
                    rejected.push(format!(
                        "line {}: `{}`: {}",
                        statement.lines.start(),
                        statement.sql.trim(),
                        migration_gate::roundtrip::postgres::db_error(&error)
                    ));
                }
            }
        });
        assert!(
            rejected.is_empty(),
            "PostgreSQL rejects corpus statements:\n{}",
            rejected.join("\n")
        );
    }
    assert!(
        unread.is_empty(),
        "the linter cannot read {} of {} statements:\n{}",
        unread.len(),
        statements.len(),
        unread.join("\n")
    );
}
