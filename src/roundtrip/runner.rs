//! Applies one revision up or down: Alembic through the embedded Python driver, SQL frameworks
//! over tokio-postgres.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use tokio::io::AsyncWriteExt;

use crate::diagnostic::TracedStatement;

use super::RoundtripError;
use super::driver_env::{fill_in, needs_database, scratch_variables};
use super::interpreter::{Interpreter, Running};
use super::postgres::ConnInfo;

/// Whose failure a failed step is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum FailureCause {
    /// The revision's (or the database refused what it sent): a finding on the revision.
    #[default]
    Revision,
    /// env.py's own code (or a library it calls) raised, outside any revision, after earlier
    /// steps had run: reported at env.py's line.
    EnvPy,
    /// env.py (or the driver's set-up) raised before any step ever ran: nothing can be judged,
    /// the run ends with exit 2 and what to do.
    Setup,
    /// The connection guard refused a connection to another database: the run ends at once.
    ForeignDatabase,
}

/// Why a step failed, as precisely as the database and the driver tell it.
#[derive(Debug, Clone, Default)]
pub struct StepFailure {
    pub cause: FailureCause,
    pub message: String,
    /// The Python exception's class, when the driver raised one.
    pub kind: String,
    pub sqlstate: Option<String>,
    pub statement: Option<String>,
    /// The file and 1-based line the failure points at, when known.
    pub file: Option<PathBuf>,
    pub line: Option<usize>,
    pub timed_out: bool,
}

#[derive(Debug, Deserialize)]
pub(super) struct DriverAnswer {
    pub(super) ok: bool,
    #[serde(default)]
    pub(super) error: String,
    #[serde(default)]
    pub(super) kind: String,
    /// Whose code raised: "revision", "env" (env.py) or "setup" (Alembic, the driver).
    origin: Option<String>,
    /// Connections the guard refused during the request (even where env.py caught them).
    #[serde(default)]
    refused: Vec<String>,
    sqlstate: Option<String>,
    statement: Option<String>,
    file: Option<String>,
    line: Option<usize>,
    #[serde(default)]
    pub(super) alembic: String,
    trace: Option<Vec<TracedStatement>>,
    /// The statements an upgrade ran, as the database received them.
    sql: Option<Vec<String>>,
    /// How many statements of the revision's own the upgrade sent (kept or not).
    statements: Option<usize>,
    #[serde(default)]
    sql_bytes: usize,
    /// The capture budget ran out: `sql` holds only the first statements.
    #[serde(default)]
    sql_incomplete: bool,
    /// The driver could not tell where transactions began and ended (asyncpg).
    #[serde(default)]
    transactions_unknown: bool,
    /// The driver's start: why it runs otherwise than asked (the Flask application could not
    /// be loaded, and the revisions run standalone).
    pub(super) note: Option<String>,
    /// `compare`: how env.py's models differ from the database.
    differences: Option<Vec<String>>,
    /// `probe`: what the models' statements got from the database.
    pub(super) probes: Option<Vec<super::compat::Probe>>,
    /// `probe` in REF's driver: files of the working tree imported all the same.
    #[serde(default)]
    pub(super) imported_elsewhere: Vec<String>,
    /// `probe`: what the schema probed first accepts (its CHECKs' values, its unique columns),
    /// handed back with the later probes.
    pub(super) facts: Option<serde_json::Value>,
    #[serde(default)]
    pub(super) no_metadata: bool,
    #[serde(flatten)]
    destinations: Destinations,
}

/// Where the statements of the last upgrade or downgrade went, as the driver saw them.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Destinations {
    /// Other databases than the scratch one (`host:port/database`), when env.py built its own URL.
    #[serde(default)]
    pub elsewhere: Vec<String>,
    /// Statements that ran on the scratch database.
    #[serde(default)]
    pub on_scratch: usize,
    /// Where a revision ended Alembic's transaction itself (a `commit()`, `COMMIT`).
    pub ended_transaction: Option<SourceLine>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SourceLine {
    pub file: PathBuf,
    pub line: usize,
}

/// Bytes of executed SQL one run keeps for the rules on executed SQL and the reports: enough
/// for any history's DDL; a history that sends more (bulk data in its statements) is told
/// where the capture stopped, and no rule reads a capture cut short.
pub const CAPTURE_BUDGET: usize = 64 * 1024 * 1024;

/// What an upgrade request asks the driver to observe.
#[derive(Debug, Clone, Copy, Default)]
pub struct Observe {
    /// Each statement's locks and rewrites (`--trace-locks`).
    pub trace: bool,
    /// The statements themselves, within the run's budget.
    pub capture: bool,
}

/// What one upgrade sent to the database.
#[derive(Debug, Clone, Default)]
pub struct Capture {
    /// The statements as the database received them, with BEGIN / COMMIT where transactions
    /// began and ended.
    pub sql: Vec<String>,
    /// How many statements of the revision's own it sent: 0 is an upgrade that ran nothing.
    pub statements: usize,
    /// The budget ran out during this upgrade: `sql` holds only its first statements.
    pub incomplete: bool,
    /// Whether BEGIN / COMMIT in `sql` are where PostgreSQL saw them; false when the whole
    /// upgrade ran in one transaction (its BEGIN and COMMIT are left out, as they say nothing)
    /// or the driver could not tell.
    pub transactions_known: bool,
}

/// Takes off the BEGIN and COMMIT around statements that all ran in one transaction (the usual
/// revision, under Alembic's transactional DDL); true when it did.
fn unwrap_one_transaction(sql: &mut Vec<String>) -> bool {
    let marker = |s: &String| {
        matches!(
            s.to_ascii_lowercase().trim_end_matches(';'),
            "begin" | "commit" | "rollback" | "start transaction" | "end"
        )
    };
    let wrapped = sql.len() >= 2
        && sql[0] == "BEGIN"
        && sql[sql.len() - 1] == "COMMIT"
        && !sql[1..sql.len() - 1].iter().any(marker);
    if wrapped {
        sql.pop();
        sql.remove(0);
    }
    wrapped
}

/// How env.py's `target_metadata` compares with the database.
pub enum ModelComparison {
    /// env.py configures no `target_metadata`: nothing to compare.
    NoMetadata,
    Differences(Vec<String>),
}

#[derive(Clone)]
pub struct AlembicOptions {
    pub python: PathBuf,
    /// Where the driver runs: where the project runs `alembic` (see `driver_env::working_dir`).
    pub working_dir: PathBuf,
    /// The server-side limit for one statement; the driver is also killed at the step limit.
    pub statement_timeout: Duration,
    pub script_location: PathBuf,
    /// The folders the revision files are in.
    pub versions: Vec<PathBuf>,
    pub ini: Option<PathBuf>,
    pub standalone: bool,
    /// env.py reads Flask's `current_app`: the driver loads the application first.
    pub flask_app: bool,
    /// env.py makes an async engine: the URL it gets names an async driver.
    pub async_env: bool,
    pub env: Vec<(String, String)>,
}

/// One long-lived Python process speaking JSON lines.
pub struct AlembicDriver {
    options: AlembicOptions,
    database: ConnInfo,
    url: String,
    process: Option<Running>,
    /// A process started before the scratch database existed, for the first launch.
    started: Option<Interpreter>,
    /// A process started ahead for a fresh run of env.py (the model comparison).
    spare: Option<Interpreter>,
    pub alembic_version: String,
    /// What the last successful upgrade sent.
    pub last_capture: Capture,
    /// Bytes of SQL still to be kept in this run (`CAPTURE_BUDGET` at the start).
    capture_left: usize,
    /// Where the last successful upgrade or downgrade ran its statements.
    pub last_destinations: Destinations,
    /// The scratch database's sessions were ended since the last request.
    reconnect: bool,
    /// The scratch database was made anew since the last request.
    fresh_database: bool,
    /// Whether any step has succeeded yet: env.py failing before that is a set-up problem.
    stepped: bool,
    /// What the driver said at its start about running otherwise than asked.
    pub start_note: Option<String>,
}

impl AlembicDriver {
    /// The driver for `database`, in `started` when the process was started ahead of it.
    pub async fn start(
        options: AlembicOptions,
        database: &ConnInfo,
        started: Option<Interpreter>,
    ) -> Result<Self, RoundtripError> {
        let mut driver = AlembicDriver {
            options,
            database: database.clone(),
            url: database.url_with_password(),
            process: None,
            started,
            spare: None,
            last_capture: Capture::default(),
            capture_left: CAPTURE_BUDGET,
            last_destinations: Destinations::default(),
            alembic_version: String::new(),
            reconnect: false,
            fresh_database: false,
            stepped: false,
            start_note: None,
        };
        driver.spawn().await?;
        Ok(driver)
    }

    async fn spawn(&mut self) -> Result<(), RoundtripError> {
        let interpreter = match self.started.take() {
            Some(interpreter) => interpreter,
            None => Interpreter::start(&self.options)?,
        };
        // The URL holds the password: it goes through the environment, never the command
        // line (which every local user can read in `ps`).
        let mut env = vec![("MIGRATION_GATE_DRIVER_URL".to_string(), self.url.clone())];
        for (key, value) in scratch_variables(&self.database) {
            env.push((key.to_string(), value));
        }
        for (key, value) in self.options.env.iter().filter(|(_, v)| needs_database(v)) {
            env.push((key.clone(), fill_in(value, &self.database, &self.url)));
        }
        let (process, alembic_version, note) = interpreter.launch(env).await?;
        self.alembic_version = alembic_version;
        self.start_note = self.start_note.take().or(note);
        self.process = Some(process);
        Ok(())
    }

    /// The driver's pooled connection was ended (a rebuilt database, ended sessions): the next
    /// request opens a new one.
    pub fn connections_lost(&mut self) {
        self.reconnect = true;
    }

    /// The scratch database was replaced (a rebuild): the next step starts as a new Alembic
    /// command does on it, importing the revision files again (what they do at import, such as
    /// creating a type with `op.get_bind()`, happens again).
    pub fn database_replaced(&mut self) {
        self.reconnect = true;
        self.fresh_database = true;
    }

    pub(super) async fn request(
        &mut self,
        mut message: serde_json::Value,
        limit: Duration,
    ) -> Result<DriverAnswer, StepFailure> {
        if std::mem::take(&mut self.reconnect) {
            message["reconnect"] = serde_json::Value::Bool(true);
        }
        if std::mem::take(&mut self.fresh_database) {
            message["fresh_database"] = serde_json::Value::Bool(true);
        }
        if self.process.is_none() {
            self.spawn().await.map_err(|e| StepFailure {
                message: e.to_string(),
                ..StepFailure::default()
            })?;
        }
        let (_, stdin, lines) = self.process.as_mut().expect("driver running");
        let exchange = async {
            stdin.write_all(format!("{message}\n").as_bytes()).await?;
            stdin.flush().await?;
            lines.next_line().await
        };
        let line = match tokio::time::timeout(limit + KILL_GRACE, exchange).await {
            Ok(Ok(Some(line))) => line,
            Ok(_) => {
                self.process = None;
                return Err(StepFailure {
                    message: "the Alembic driver died (a revision may have killed the interpreter)"
                        .into(),
                    ..StepFailure::default()
                });
            }
            Err(_) => {
                // A hung step: the process goes, and a fresh one serves the next request.
                if let Some((mut child, _, _)) = self.process.take() {
                    let _ = child.kill().await;
                }
                return Err(StepFailure {
                    message: timed_out_message(limit, None),
                    timed_out: true,
                    ..StepFailure::default()
                });
            }
        };
        let answer: DriverAnswer = serde_json::from_str(&line).map_err(|e| StepFailure {
            message: format!("unexpected answer from the Alembic driver ({e}): {line}"),
            ..StepFailure::default()
        })?;
        if !answer.refused.is_empty() {
            return Err(StepFailure {
                cause: FailureCause::ForeignDatabase,
                message: if answer.kind == "ForeignDatabase" {
                    answer.error
                } else {
                    format!(
                        "env.py or a revision tried to connect to {}, not to the scratch database migration-gate made: refused before connecting",
                        answer.refused.join(", ")
                    )
                },
                kind: answer.kind,
                file: answer.file.map(PathBuf::from),
                line: answer.line,
                ..StepFailure::default()
            });
        }
        if answer.ok {
            return Ok(answer);
        }
        if answer.sqlstate.as_deref() == Some(QUERY_CANCELED) {
            return Err(StepFailure {
                message: timed_out_message(limit, answer.statement.as_deref()),
                sqlstate: answer.sqlstate,
                statement: answer.statement,
                file: answer.file.map(PathBuf::from),
                line: answer.line,
                timed_out: true,
                ..StepFailure::default()
            });
        }
        // A Python exception no revision raised, with no word from the database: env.py's
        // (or Alembic's) own failure, which no revision can be blamed for.
        let outside_revisions =
            answer.sqlstate.is_none() && matches!(answer.origin.as_deref(), Some("env" | "setup"));
        let cause = match (outside_revisions, self.stepped) {
            (false, _) => FailureCause::Revision,
            (true, false) => FailureCause::Setup,
            (true, true) => FailureCause::EnvPy,
        };
        Err(StepFailure {
            cause,
            kind: answer.kind.clone(),
            // With a SQLSTATE the database's own message says it all; otherwise the Python
            // exception class is part of the story (ImportError, NameError, ...).
            message: if answer.sqlstate.is_some()
                || answer.kind.is_empty()
                || answer.error.contains(&answer.kind)
            {
                answer.error
            } else {
                format!("{}: {}", answer.kind, answer.error)
            },
            sqlstate: answer.sqlstate,
            statement: answer.statement,
            file: answer.file.map(PathBuf::from),
            line: answer.line,
            timed_out: false,
        })
    }

    /// A step request: an answer means env.py ran, so later failures outside the revisions
    /// are no longer set-up problems.
    async fn step_request(
        &mut self,
        message: serde_json::Value,
        limit: Duration,
    ) -> Result<DriverAnswer, StepFailure> {
        let answer = self.request(message, limit).await?;
        self.stepped = true;
        Ok(answer)
    }

    /// Upgrades to `target`; what it sent is kept in `last_capture` (its statements only
    /// when `observe.capture`), and with `observe.trace` each statement's locks and rewrites
    /// come back.
    pub async fn upgrade(
        &mut self,
        target: &str,
        limit: Duration,
        observe: Observe,
    ) -> Result<Vec<TracedStatement>, StepFailure> {
        let budget = if observe.capture {
            self.capture_left
        } else {
            0
        };
        let message = serde_json::json!({
            "cmd": "upgrade", "target": target, "trace": observe.trace, "capture_budget": budget
        });
        let answer = self.step_request(message, limit).await?;
        self.capture_left = self.capture_left.saturating_sub(answer.sql_bytes);
        let mut sql = answer.sql.unwrap_or_default();
        let in_one_transaction = unwrap_one_transaction(&mut sql);
        self.last_capture = Capture {
            sql,
            statements: answer.statements.unwrap_or(0),
            incomplete: observe.capture && answer.sql_incomplete,
            transactions_known: !answer.transactions_unknown && !in_one_transaction,
        };
        self.last_destinations = answer.destinations;
        Ok(answer.trace.unwrap_or_default())
    }

    /// env.py's `target_metadata` against the database, with env.py's own comparison options.
    pub async fn compare_models(
        &mut self,
        limit: Duration,
    ) -> Result<ModelComparison, StepFailure> {
        let answer = self
            .request(serde_json::json!({"cmd": "compare"}), limit)
            .await?;
        Ok(if answer.no_metadata {
            ModelComparison::NoMetadata
        } else {
            ModelComparison::Differences(answer.differences.unwrap_or_default())
        })
    }

    /// Imports the revision files inside a migration context before the first step: what a
    /// file does at import belongs to the database every revision starts from. A failure here
    /// shows again, and is reported, at the first step.
    pub async fn load(&mut self, limit: Duration) {
        let _ = self
            .request(serde_json::json!({"cmd": "load"}), limit)
            .await;
    }

    /// Marks `targets` as applied without running anything (`alembic stamp`).
    pub async fn stamp(&mut self, targets: &[String], limit: Duration) -> Result<(), StepFailure> {
        self.request(
            serde_json::json!({"cmd": "stamp", "targets": targets}),
            limit,
        )
        .await
        .map(drop)
    }

    pub async fn downgrade_one(
        &mut self,
        revision: &str,
        limit: Duration,
    ) -> Result<(), StepFailure> {
        let answer = self
            .step_request(
                serde_json::json!({"cmd": "downgrade_one", "target": revision}),
                limit,
            )
            .await?;
        self.last_destinations = answer.destinations;
        Ok(())
    }

    /// Starts, ahead of need, the interpreter [`Self::fresh_process`] will use (importing
    /// Alembic and SQLAlchemy takes half a second, which then overlaps the run).
    pub fn keep_spare(&mut self) {
        if self.spare.is_none() {
            self.spare = Interpreter::start(&self.options).ok();
        }
    }

    /// Ends this process: the next request runs in a new one, as each `alembic` command does.
    /// What the revisions did to the interpreter (a model's metadata reflected, tables defined
    /// at import) is then gone.
    pub async fn fresh_process(&mut self) {
        self.end_process().await;
        self.started = self.spare.take();
        self.reconnect = false;
    }

    pub async fn stop(mut self) {
        self.end_process().await;
    }

    async fn end_process(&mut self) {
        if let Some((mut child, stdin, _)) = self.process.take() {
            drop(stdin);
            if tokio::time::timeout(Duration::from_secs(5), child.wait())
                .await
                .is_err()
            {
                let _ = child.kill().await;
            }
        }
    }
}

/// statement_timeout (the step limit, set on every connection) cancels a statement first; the
/// process is stopped only if the step is still running this much later (Python code hangs).
pub(super) const KILL_GRACE: Duration = Duration::from_secs(3);
/// SQLSTATE of a statement cancelled by statement_timeout.
pub(super) const QUERY_CANCELED: &str = "57014";

/// A statement on one line, whitespace folded, cut at `max_chars` with an ellipsis.
pub(super) fn one_line(statement: &str, max_chars: usize) -> String {
    let folded = statement.split_whitespace().collect::<Vec<_>>().join(" ");
    if folded.chars().count() > max_chars {
        format!("{}…", folded.chars().take(max_chars).collect::<String>())
    } else {
        folded
    }
}

pub(super) fn timed_out_message(limit: Duration, statement: Option<&str>) -> String {
    let what = match statement {
        Some(statement) => format!(" while running `{}`", one_line(statement, 200)),
        None => " outside any SQL statement (in the revision's or env.py's Python code)".into(),
    };
    format!(
        "the step did not finish within {} s (--timeout) and was stopped{what}",
        limit.as_secs()
    )
}
