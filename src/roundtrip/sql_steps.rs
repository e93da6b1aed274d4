//! The steps of SQL migrations (golang-migrate, dbmate, Flyway, plain folders): each script run
//! over the tool's own connection the way its framework runs it, and with `--trace-locks`
//! statement by statement, each one's locks and rewrites read before the next.

use std::path::PathBuf;
use std::time::Duration;

use crate::diagnostic::{TracedLock, TracedStatement};
use crate::model::{Migration, Phase, ScriptTransaction, Sources};

use super::postgres::db_error;
use super::runner::{KILL_GRACE, QUERY_CANCELED, StepFailure, timed_out_message};

const LOCKS_SQL: &str = "SELECT c.relname::text, l.mode FROM pg_locks l JOIN pg_class c ON c.oid = l.relation \
     WHERE l.pid = pg_backend_pid() AND l.granted AND c.relkind IN ('r', 'p', 'm') \
     AND c.relnamespace NOT IN (SELECT oid FROM pg_namespace WHERE nspname = 'information_schema' OR nspname LIKE 'pg\\_%')";
const FILENODES_SQL: &str = "SELECT c.oid::int8, c.relname::text, c.relfilenode::int8 FROM pg_class c \
     WHERE c.relkind IN ('r', 'm') AND c.relnamespace NOT IN \
     (SELECT oid FROM pg_namespace WHERE nspname IN ('pg_catalog', 'information_schema') OR nspname LIKE 'pg\\_%')";

/// A Liquibase changeset's preconditions, tested on the scratch database just before its
/// upgrade as Liquibase tests them: `Ok(None)` runs it (no preconditions, they hold, or a
/// failure only warns); `Ok(Some(why))` when Liquibase marks it ran or skips it; a failure that
/// halts Liquibase's update fails the step.
pub async fn liquibase_precondition(
    client: &tokio_postgres::Client,
    migration: &Migration,
    sources: &Sources,
) -> Result<Option<String>, StepFailure> {
    use crate::frontend::{LiquibaseOnFail, liquibase_changeset_precondition};
    let Some(script) = migration.upgrade.script else {
        return Ok(None);
    };
    if !matches!(
        script.source,
        crate::model::ScriptSource::LiquibaseChanges { .. }
    ) {
        return Ok(None);
    }
    let file = sources.get(script.span.file);
    let Some(precondition) = liquibase_changeset_precondition(
        &file.text,
        std::path::Path::new(&file.path),
        script.span.start,
    ) else {
        return Ok(None);
    };
    let sql = format!("SELECT coalesce(({})::boolean, false)", precondition.check);
    let holds = match client.query_one(sql.as_str(), &[]).await {
        Ok(row) => row.get::<_, bool>(0),
        Err(error) => {
            return Err(StepFailure {
                message: format!("its preconditions cannot be tested: {}", db_error(&error)),
                statement: Some(sql),
                file: Some(PathBuf::from(&file.path)),
                line: Some(file.line_col(script.span.start).0),
                ..StepFailure::default()
            });
        }
    };
    match (holds, precondition.on_fail) {
        (true, _) | (false, LiquibaseOnFail::Warn) => Ok(None),
        (false, LiquibaseOnFail::MarkRan | LiquibaseOnFail::Continue) => Ok(Some(format!(
            "its preconditions do not hold on this database (onFail={}): Liquibase does not run it",
            precondition.on_fail.label()
        ))),
        (false, LiquibaseOnFail::Halt) => Err(StepFailure {
            message: "its preconditions do not hold, and Liquibase halts the update (onFail=HALT)"
                .to_string(),
            statement: Some(precondition.check),
            file: Some(PathBuf::from(&file.path)),
            line: Some(file.line_col(script.span.start).0),
            ..StepFailure::default()
        }),
    }
}

/// Lock and rewrite tracing over the tool's own connection, statement by statement.
pub struct SqlTracer {
    before: std::collections::BTreeMap<i64, (String, i64)>,
    held: std::collections::BTreeSet<(String, String)>,
    pub statements: Vec<TracedStatement>,
}

impl SqlTracer {
    pub async fn start(client: &tokio_postgres::Client) -> Option<SqlTracer> {
        let rows = client.query(FILENODES_SQL, &[]).await.ok()?;
        Some(SqlTracer {
            before: rows
                .iter()
                .map(|r| {
                    (
                        r.get::<_, i64>(0),
                        (r.get::<_, String>(1), r.get::<_, i64>(2)),
                    )
                })
                .collect(),
            held: Default::default(),
            statements: Vec::new(),
        })
    }

    async fn after(&mut self, client: &tokio_postgres::Client, statement: &str) {
        let (Ok(locks), Ok(nodes)) = (
            client.query(LOCKS_SQL, &[]).await,
            client.query(FILENODES_SQL, &[]).await,
        ) else {
            return;
        };
        let held: std::collections::BTreeSet<(String, String)> = locks
            .iter()
            .map(|r| (r.get::<_, String>(0), r.get::<_, String>(1)))
            .collect();
        let existing: std::collections::BTreeSet<String> =
            self.before.values().map(|(name, _)| name.clone()).collect();
        let locks = held
            .difference(&self.held)
            .map(|(table, mode)| TracedLock {
                table: table.clone(),
                mode: mode.clone(),
                existed: existing.contains(table),
            })
            .collect();
        self.held = held;
        let mut rewritten = Vec::new();
        for row in &nodes {
            let (oid, node): (i64, i64) = (row.get(0), row.get(2));
            if let Some((name, before)) = self.before.get_mut(&oid)
                && *before != node
            {
                rewritten.push(name.clone());
                *before = node;
            }
        }
        self.statements.push(TracedStatement {
            statement: statement.split_whitespace().collect::<Vec<_>>().join(" "),
            locks,
            rewritten,
        });
    }
}

/// Runs the script of one direction of a SQL migration the way its framework does; with a
/// tracer, statement by statement so each one's locks can be read before the next.
pub async fn run_sql(
    client: &tokio_postgres::Client,
    migration: &Migration,
    phase: Phase,
    sources: &Sources,
    limit: Duration,
    mut tracer: Option<&mut SqlTracer>,
) -> Result<(), StepFailure> {
    let body = migration.body(phase);
    let Some(script) = body.script else {
        return Ok(());
    };
    let file = sources.get(script.span.file);
    let written = &file.text[script.span.start..script.span.end];
    // What psql would send: its meta-commands are not run (a `\set` from a command's output
    // would run a shell command) and a variable becomes its name as a literal.
    let masked;
    let rollback;
    let generated;
    let pieces;
    let text = if migration.framework.runs_through_psql() {
        masked = crate::frontend::sql::mask_psql(written);
        &masked
    } else if migration.framework == crate::model::Framework::Drizzle {
        // Drizzle sends the pieces between its breakpoints one by one.
        pieces = crate::frontend::drizzle_pieces(written);
        &pieces
    } else if let crate::model::ScriptSource::LiquibaseChanges { rollback } = script.source {
        // Made from the changeset's elements: its offsets are not the file's.
        generated = crate::frontend::liquibase_changeset_sql(
            &file.text,
            std::path::Path::new(&file.path),
            script.span.start,
            rollback,
        );
        generated.as_str()
    } else if script.source == crate::model::ScriptSource::LiquibaseRollback {
        // A changeset's `--rollback` lines, every other byte blanked: offsets stay the file's.
        rollback = crate::frontend::liquibase_rollback_only(written);
        rollback.as_str()
    } else {
        written
    };
    let statements = crate::frontend::sql::statement_ranges(text);
    // An implicit multi-statement transaction behaves like BEGIN … COMMIT, which can be traced.
    let transaction = match (script.transaction, tracer.is_some()) {
        (ScriptTransaction::AsWritten, true) if statements.len() > 1 => ScriptTransaction::Wrapped,
        (ScriptTransaction::AsWritten, true) => ScriptTransaction::PerStatement,
        (mode, _) => mode,
    };
    let run = async {
        match transaction {
            ScriptTransaction::AsWritten => {
                client.batch_execute(text).await.map_err(|e| (e, 0usize))
            }
            ScriptTransaction::Wrapped => {
                client.batch_execute("BEGIN").await.map_err(|e| (e, 0))?;
                for range in &statements {
                    if let Err(error) = client.batch_execute(&text[range.clone()]).await {
                        let _ = client.batch_execute("ROLLBACK").await;
                        return Err((error, range.start));
                    }
                    if let Some(tracer) = tracer.as_deref_mut() {
                        tracer.after(client, &text[range.clone()]).await;
                    }
                }
                client.batch_execute("COMMIT").await.map_err(|e| (e, 0))
            }
            ScriptTransaction::PerStatement => {
                for range in &statements {
                    client
                        .batch_execute(&text[range.clone()])
                        .await
                        .map_err(|e| (e, range.start))?;
                    if let Some(tracer) = tracer.as_deref_mut() {
                        tracer.after(client, &text[range.clone()]).await;
                    }
                }
                Ok(())
            }
        }
    };
    match tokio::time::timeout(limit + KILL_GRACE, run).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err((error, statement_start))) => {
            // A script that opened its own transaction (psql runs `BEGIN; ...` as written)
            // leaves it aborted: psql would exit and its session end, which rolls it back.
            if transaction != ScriptTransaction::Wrapped {
                let _ = client.batch_execute("ROLLBACK").await;
            }
            let db = error.as_db_error();
            // Sent as one query, a script fails as a whole: when PostgreSQL names no position,
            // its statements are run again one by one in a transaction that is rolled back, and
            // the first that fails is the one to point at.
            let statement_start = match db {
                Some(d) if d.position().is_none() && statements.len() > 1 => {
                    failing_statement(client, text, &statements)
                        .await
                        .unwrap_or(statement_start)
                }
                _ => statement_start,
            };
            // PostgreSQL's position is a 1-based character index into the statement sent.
            let offset = db
                .and_then(|d| match d.position() {
                    Some(tokio_postgres::error::ErrorPosition::Original(p)) => Some(*p as usize),
                    _ => None,
                })
                .map(|chars| {
                    let sent = &text[statement_start..];
                    statement_start
                        + sent
                            .char_indices()
                            .nth(chars.saturating_sub(1))
                            .map_or(0, |(byte, _)| byte)
                })
                .unwrap_or(statement_start);
            let absolute = match script.source {
                crate::model::ScriptSource::LiquibaseChanges { .. } => script.span.start,
                _ => script.span.start + offset,
            };
            let line = file.line_col(absolute).0;
            let statement = statements
                .iter()
                .find(|r| r.contains(&offset) || r.start == statement_start)
                .map(|r| text[r.clone()].trim().to_string());
            let sqlstate = db.map(|d| d.code().code().to_string());
            let timed_out = sqlstate.as_deref() == Some(QUERY_CANCELED);
            Err(StepFailure {
                message: if timed_out {
                    timed_out_message(limit, statement.as_deref())
                } else {
                    db_error(&error)
                },
                sqlstate,
                statement,
                file: Some(PathBuf::from(&file.path)),
                line: Some(line),
                timed_out,
                ..StepFailure::default()
            })
        }
        Err(_) => Err(StepFailure {
            message: timed_out_message(limit, None),
            timed_out: true,
            file: Some(PathBuf::from(&file.path)),
            ..StepFailure::default()
        }),
    }
}

/// Where in `text` the first statement that fails starts, found by running them one by one in
/// a transaction that is rolled back (the failed script's own transaction left nothing).
async fn failing_statement(
    client: &tokio_postgres::Client,
    text: &str,
    statements: &[std::ops::Range<usize>],
) -> Option<usize> {
    client.batch_execute("BEGIN").await.ok()?;
    let mut failed = None;
    for range in statements {
        if client.batch_execute(&text[range.clone()]).await.is_err() {
            failed = Some(range.start);
            break;
        }
    }
    let _ = client.batch_execute("ROLLBACK").await;
    failed
}
