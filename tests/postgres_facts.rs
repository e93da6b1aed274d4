//! Docs are facts. A rule's documentation states what PostgreSQL does with the statement it
//! flags, in lines of the form
//!
//! `Verified on PostgreSQL 15 (`PREFIX`): takes ACCESS EXCLUSIVE on the table and rewrites it.`
//!
//! (the prefix, when given, is how the statements it speaks of begin; `and scans it` for a full
//! scan, nothing for the lock alone, or `fails on a table with rows.`). Here every such claim is
//! checked on a real PostgreSQL 15: each SQL fixture of the rule runs on a fresh copy of
//! fixtures/pg_facts/setup.sql (populated tables), the statements the rule flags inside a
//! transaction, and the locks it holds (`pg_locks`), the table's `relfilenode` and its
//! sequential scans (`pg_stat_xact_user_tables`) are read before it commits. The flagged
//! statements of bad fixtures must do what the doc says; the statements of good fixtures must
//! not. A second test runs the SQL coverage corpus on the same server: PostgreSQL accepts every
//! statement, and the linter reads every one (no `unparsed-sql`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use migration_gate::roundtrip::postgres::{ConnInfo, LocalCluster};
use tokio_postgres::Client;

/// Rules whose findings are about a lock, a rewrite or a scan: each must state what it claims.
const LOCK_AND_REWRITE_RULES: &[&str] = &[
    "add-check-constraint-without-not-valid",
    "add-column-not-null-without-default",
    "add-column-volatile-default",
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
    "drop-column",
    "drop-index-non-concurrently",
    "drop-table",
    "rename-column",
    "rename-table",
    "set-not-null",
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

#[derive(Debug, Clone, PartialEq)]
enum Effect {
    Lock,
    Scan,
    Rewrite,
}

#[derive(Debug, Clone, PartialEq)]
enum Claim {
    Takes {
        /// `pg_locks.mode`: `AccessExclusiveLock`.
        mode: String,
        effect: Effect,
    },
    FailsWithRows,
}

#[derive(Debug, Clone)]
struct Stated {
    prefix: Option<String>,
    claim: Claim,
    line: String,
}

/// The claims a rule's documentation makes.
fn claims(doc: &str) -> Vec<Stated> {
    doc.lines()
        .filter_map(|line| {
            let rest = line.strip_prefix("Verified on PostgreSQL 15")?;
            let (prefix, rest) = match rest.strip_prefix(" (`") {
                Some(inner) => {
                    let (prefix, rest) = inner.split_once("`)").expect("closing `) of the prefix");
                    (Some(prefix.to_ascii_uppercase()), rest)
                }
                None => (None, rest),
            };
            let said = rest
                .strip_prefix(": ")
                .expect("`: ` after the version")
                .trim();
            let claim = if said == "fails on a table with rows." {
                Claim::FailsWithRows
            } else {
                let said = said
                    .strip_prefix("takes ")
                    .expect("`takes MODE on the table`");
                let (mode, effect) = said.split_once(" on the table").expect("`on the table`");
                let effect = match effect {
                    "." => Effect::Lock,
                    " and scans it." => Effect::Scan,
                    " and rewrites it." => Effect::Rewrite,
                    other => panic!("unknown effect `{other}` in `{line}`"),
                };
                Claim::Takes {
                    mode: lock_mode(mode),
                    effect,
                }
            };
            Some(Stated {
                prefix,
                claim,
                line: line.to_string(),
            })
        })
        .collect()
}

/// `SHARE ROW EXCLUSIVE` → `ShareRowExclusiveLock`, as `pg_locks` names modes.
fn lock_mode(words: &str) -> String {
    let known = [
        "ACCESS SHARE",
        "ROW SHARE",
        "ROW EXCLUSIVE",
        "SHARE UPDATE EXCLUSIVE",
        "SHARE",
        "SHARE ROW EXCLUSIVE",
        "EXCLUSIVE",
        "ACCESS EXCLUSIVE",
    ];
    assert!(known.contains(&words), "`{words}` is not a table lock mode");
    let mut mode: String = words
        .split(' ')
        .map(|w| w[..1].to_string() + &w[1..].to_ascii_lowercase())
        .collect();
    mode.push_str("Lock");
    mode
}

/// The SQL as the tool running it would send it: template placeholders (`{{ .Schema }}`,
/// `${schema}`) rendered as `public`.
fn rendered(sql: &str) -> String {
    let mut out = String::new();
    let mut rest = sql;
    while let Some(start) = rest.find("{{").or_else(|| rest.find("${")) {
        let close = if rest[start..].starts_with("{{") {
            "}}"
        } else {
            "}"
        };
        let Some(length) = rest[start..].find(close) else {
            break;
        };
        out.push_str(&rest[..start]);
        out.push_str("public");
        rest = &rest[start + length + close.len()..];
    }
    out.push_str(rest);
    out
}

/// A statement of a fixture's upgrade and the lines it spans (1-based).
struct Statement {
    lines: std::ops::RangeInclusive<usize>,
    sql: String,
}

/// The upgrade's statements: the text before `-- migrate:down`, one statement per `;` at a
/// line's end outside dollar quotes (the fixtures are written that way).
fn upgrade_statements(text: &str) -> Vec<Statement> {
    let mut statements = Vec::new();
    let mut sql = String::new();
    let mut first = 0;
    let mut in_dollar_quote = false;
    for (index, line) in text.lines().enumerate() {
        if line.starts_with("-- migrate:down") {
            break;
        }
        let code = line.split(" --").next().unwrap_or_default().trim();
        if code.is_empty() || code.starts_with("--") {
            continue;
        }
        if sql.is_empty() {
            first = index + 1;
        }
        sql.push_str(code);
        sql.push('\n');
        if code.matches("$$").count() % 2 == 1 {
            in_dollar_quote = !in_dollar_quote;
        }
        if code.ends_with(';') && !in_dollar_quote {
            statements.push(Statement {
                lines: first..=index + 1,
                sql: rendered(&std::mem::take(&mut sql)),
            });
        }
    }
    statements
}

/// The files and lines where `rule` reports a finding in `fixture` (a file or a folder), as
/// the CLI's JSON gives them.
fn flagged_lines(rule: &str, fixture: &Path) -> BTreeSet<(PathBuf, usize)> {
    let file = fixture;
    let output = Command::new(env!("CARGO_BIN_EXE_migration-gate"))
        .args([
            "check",
            "--format",
            "json",
            "--postgres-version",
            "15",
            "--select",
            rule,
        ])
        .arg(file)
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "{}: {e}: {}",
            file.display(),
            String::from_utf8_lossy(&output.stderr)
        )
    });
    json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["rule"] == rule)
        .map(|d| {
            (
                repo().join(d["path"].as_str().unwrap()),
                d["line"].as_u64().unwrap() as usize,
            )
        })
        .collect()
}

/// One table as the session running the statement sees it.
#[derive(Debug, Clone, Default)]
struct TableState {
    name: String,
    filenode: Option<u32>,
    seq_scans: i64,
    locks: BTreeSet<String>,
}

async fn table_states(client: &Client) -> BTreeMap<u32, TableState> {
    let mut states = BTreeMap::new();
    for row in client
        .query(
            "SELECT c.oid, c.relname::text, c.relfilenode, coalesce(s.seq_scan, 0)
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             LEFT JOIN pg_stat_xact_user_tables s ON s.relid = c.oid
             WHERE c.relkind IN ('r', 'p', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')",
            &[],
        )
        .await
        .unwrap()
    {
        let oid: u32 = row.get(0);
        let filenode: u32 = row.get(2);
        states.insert(
            oid,
            TableState {
                name: row.get(1),
                filenode: Some(filenode),
                seq_scans: row.get(3),
                locks: BTreeSet::new(),
            },
        );
    }
    for row in client
        .query(
            "SELECT relation, mode FROM pg_locks
             WHERE pid = pg_backend_pid() AND granted AND locktype = 'relation'",
            &[],
        )
        .await
        .unwrap()
    {
        let oid: u32 = row.get(0);
        let mode: String = row.get(1);
        states.entry(oid).or_default().locks.insert(mode);
    }
    states
}

/// What running one statement did.
#[derive(Debug)]
enum Observed {
    /// Run in a transaction: the tables before it, and after it before the commit.
    Ran {
        before: BTreeMap<u32, TableState>,
        after: BTreeMap<u32, TableState>,
    },
    /// PostgreSQL runs it only outside a transaction block; it ran that way, unobserved.
    OutsideTransaction,
    Failed(String),
}

async fn observe(client: &Client, sql: &str) -> Observed {
    client.batch_execute("BEGIN").await.unwrap();
    let before = table_states(client).await;
    match client.batch_execute(sql).await {
        Ok(()) => {
            let after = table_states(client).await;
            client.batch_execute("COMMIT").await.unwrap();
            Observed::Ran { before, after }
        }
        Err(error) => {
            client.batch_execute("ROLLBACK").await.unwrap();
            let outside_only =
                error.code() == Some(&tokio_postgres::error::SqlState::ACTIVE_SQL_TRANSACTION);
            if outside_only {
                client
                    .batch_execute(sql)
                    .await
                    .unwrap_or_else(|e| panic!("`{sql}`: {e}"));
                Observed::OutsideTransaction
            } else {
                Observed::Failed(migration_gate::roundtrip::postgres::db_error(&error))
            }
        }
    }
}

impl Observed {
    /// The tables among `existing` (populated, there before the fixture ran: rules leave the
    /// fixture's own new tables alone) that show the claim, by name.
    fn shows(&self, claim: &Claim, existing: &BTreeSet<u32>) -> Vec<String> {
        match (self, claim) {
            (Observed::Failed(_), Claim::FailsWithRows) => vec!["(the statement failed)".into()],
            (Observed::Ran { before, after }, Claim::Takes { mode, effect }) => before
                .iter()
                .filter(|(oid, was)| {
                    if !existing.contains(oid) {
                        return false;
                    }
                    let Some(now) = after.get(oid) else {
                        return false;
                    };
                    let rewritten = now.filenode != was.filenode;
                    now.locks.contains(mode)
                        && match effect {
                            Effect::Lock => true,
                            Effect::Rewrite => rewritten,
                            Effect::Scan => rewritten || now.seq_scans > was.seq_scans,
                        }
                })
                .map(|(_, was)| was.name.clone())
                .collect(),
            _ => Vec::new(),
        }
    }
}

struct Server {
    _cluster: LocalCluster,
    admin: ConnInfo,
    runtime: tokio::runtime::Runtime,
    databases: std::cell::Cell<usize>,
}

impl Server {
    fn start() -> Server {
        let cluster = LocalCluster::start().unwrap();
        let admin = cluster.conninfo();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let server = Server {
            _cluster: cluster,
            admin,
            runtime,
            databases: std::cell::Cell::new(0),
        };
        let setup = std::fs::read_to_string(repo().join("fixtures/pg_facts/setup.sql")).unwrap();
        server.runtime.block_on(async {
            let admin = server.admin.connect().await.unwrap();
            admin
                .batch_execute("CREATE DATABASE facts_template")
                .await
                .unwrap();
            let template = server
                .admin
                .with_database("facts_template")
                .connect()
                .await
                .unwrap();
            template.batch_execute(&setup).await.unwrap();
        });
        server
    }

    /// A fresh database: an empty one, or a copy of the populated template.
    fn database(&self, populated: bool) -> ConnInfo {
        let n = self.databases.get() + 1;
        self.databases.set(n);
        let name = format!("facts_{n}");
        let template = if populated {
            "facts_template"
        } else {
            "template0"
        };
        self.runtime.block_on(async {
            let admin = self.admin.connect().await.unwrap();
            admin
                .batch_execute(&format!("CREATE DATABASE {name} TEMPLATE {template}"))
                .await
                .unwrap();
        });
        self.admin.with_database(&name)
    }
}

impl Server {
    /// A copy of the populated tables without those the fixture creates itself: a folder is a
    /// history of its own and may start by creating a table the setup has too.
    fn database_for(&self, fixture: &Path) -> ConnInfo {
        let database = self.database(true);
        let created: Vec<String> = migration_files(fixture)
            .iter()
            .flat_map(|file| {
                let text = std::fs::read_to_string(file).unwrap();
                upgrade_statements(&text)
                    .into_iter()
                    .filter_map(|statement| {
                        let words: Vec<String> = statement
                            .sql
                            .split_whitespace()
                            .map(|w| w.to_ascii_uppercase())
                            .collect();
                        let at = match words.get(..5) {
                            Some([c, t, i, n, e])
                                if c == "CREATE"
                                    && t == "TABLE"
                                    && i == "IF"
                                    && n == "NOT"
                                    && e == "EXISTS" =>
                            {
                                5
                            }
                            _ if words.get(..2) == Some(&["CREATE".into(), "TABLE".into()]) => 2,
                            _ => return None,
                        };
                        let name = statement.sql.split_whitespace().nth(at)?;
                        Some(name.split('(').next().unwrap_or(name).to_string())
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
        if fixture.is_dir() && !created.is_empty() {
            self.runtime.block_on(async {
                let client = database.connect().await.unwrap();
                for table in created {
                    client
                        .batch_execute(&format!("DROP TABLE IF EXISTS {table} CASCADE"))
                        .await
                        .unwrap();
                }
            });
        }
        database
    }
}

fn sql_fixtures(rule: &str, kind: &str) -> Vec<PathBuf> {
    let folder = repo().join("fixtures/rules").join(rule);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&folder)
        .map(|entries| entries.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    files.retain(|path| {
        let name = path.file_name().unwrap().to_string_lossy();
        // `_pgNN` fixtures are about other versions than the one verified here.
        name.starts_with(kind)
            && !name.contains("_pg")
            && (name.ends_with(".sql") || !migration_files(path).is_empty())
    });
    files.sort();
    files
}

/// The upgrade files of a fixture, in the order they run: the file itself, or a folder's
/// `*.up.sql` files (golang-migrate's layout).
fn migration_files(fixture: &Path) -> Vec<PathBuf> {
    if !fixture.is_dir() {
        return vec![fixture.to_path_buf()];
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(fixture)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".up.sql"))
        .collect();
    files.sort();
    files
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
                    let applicable: Vec<usize> = stated
                        .iter()
                        .enumerate()
                        .filter(|(_, s)| s.prefix.as_ref().is_none_or(|p| statement.sql.to_ascii_uppercase().starts_with(p)))
                        .map(|(i, _)| i)
                        .collect();
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
                        effect: Effect::Lock,
                        ..
                    }
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
