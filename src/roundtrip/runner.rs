//! Applies one revision up or down: Alembic through the embedded Python driver, SQL frameworks
//! over tokio-postgres.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use serde::Deserialize;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

use crate::diagnostic::TracedStatement;

use super::driver_env::{fill_in, scratch_variables};
use super::postgres::ConnInfo;
use super::{RoundtripError, fail};

/// The driver's script, kept in parts by what they do.
const DRIVER: &str = concat!(
    include_str!("driver/protocol.py"),
    "\n\n",
    include_str!("driver/project.py"),
    "\n\n",
    include_str!("driver/observers.py"),
    "\n\n",
    include_str!("driver/steps.py"),
    "\n\n",
    include_str!("driver/main.py"),
);
const DRIVER_SOURCE_VARIABLE: &str = "MIGRATION_GATE_DRIVER_SOURCE";
const DRIVER_BOOTSTRAP: &str = "import os; exec(compile(os.environ.pop('MIGRATION_GATE_DRIVER_SOURCE'), 'migration-gate-driver.py', 'exec'))";

/// Why a step failed, as precisely as the database and the driver tell it.
#[derive(Debug, Clone, Default)]
pub struct StepFailure {
    pub message: String,
    pub sqlstate: Option<String>,
    pub statement: Option<String>,
    /// The file and 1-based line the failure points at, when known.
    pub file: Option<PathBuf>,
    pub line: Option<usize>,
    pub timed_out: bool,
}

#[derive(Debug, Deserialize)]
struct DriverAnswer {
    ok: bool,
    #[serde(default)]
    error: String,
    #[serde(default)]
    kind: String,
    sqlstate: Option<String>,
    statement: Option<String>,
    file: Option<String>,
    line: Option<usize>,
    #[serde(default)]
    alembic: String,
    trace: Option<Vec<TracedStatement>>,
    /// The statements an upgrade ran, as the database received them.
    sql: Option<Vec<String>>,
    /// `compare`: how env.py's models differ from the database.
    differences: Option<Vec<String>>,
    #[serde(default)]
    no_metadata: bool,
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

/// How env.py's `target_metadata` compares with the database.
pub enum ModelComparison {
    /// env.py configures no `target_metadata`: nothing to compare.
    NoMetadata,
    Differences(Vec<String>),
}

pub struct AlembicOptions {
    pub python: PathBuf,
    /// The server-side limit for one statement; the driver is also killed at the step limit.
    pub statement_timeout: Duration,
    pub script_location: PathBuf,
    /// The folders the revision files are in.
    pub versions: Vec<PathBuf>,
    pub ini: Option<PathBuf>,
    pub standalone: bool,
    pub env: Vec<(String, String)>,
}

/// One long-lived Python process speaking JSON lines.
pub struct AlembicDriver {
    options: AlembicOptions,
    database: ConnInfo,
    url: String,
    process: Option<(Child, ChildStdin, Lines<BufReader<ChildStdout>>)>,
    pub alembic_version: String,
    /// The SQL the last successful upgrade ran.
    pub last_sql: Vec<String>,
    /// Where the last successful upgrade or downgrade ran its statements.
    pub last_destinations: Destinations,
    /// The scratch database's sessions were ended since the last request.
    reconnect: bool,
}

impl AlembicDriver {
    pub async fn start(
        options: AlembicOptions,
        database: &ConnInfo,
    ) -> Result<Self, RoundtripError> {
        let mut driver = AlembicDriver {
            options,
            database: database.clone(),
            url: database.url_with_password(),
            process: None,
            last_sql: Vec::new(),
            last_destinations: Destinations::default(),
            alembic_version: String::new(),
            reconnect: false,
        };
        driver.spawn().await?;
        Ok(driver)
    }

    async fn spawn(&mut self) -> Result<(), RoundtripError> {
        let python = &self.options.python;
        let mut command = Command::new(python);
        command
            // The driver's source travels in the environment: no file to leave behind when
            // the run is killed.
            .args(["-c", DRIVER_BOOTSTRAP])
            .env(DRIVER_SOURCE_VARIABLE, DRIVER)
            .arg("--script-location")
            .arg(&self.options.script_location)
            .env("MIGRATION_GATE_DRIVER_URL", &self.url)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        if let Some(ini) = &self.options.ini {
            command.arg("--ini").arg(ini);
        }
        for folder in &self.options.versions {
            command.arg("--versions").arg(folder);
        }
        if self.options.standalone {
            command.arg("--standalone");
        }
        // libpq reads PGOPTIONS when env.py sets no `options` of its own.
        command.env(
            "PGOPTIONS",
            format!(
                "-c statement_timeout={}",
                self.options.statement_timeout.as_millis()
            ),
        );
        for (key, value) in scratch_variables(&self.database) {
            command.env(key, value);
        }
        for (key, value) in &self.options.env {
            command.env(key, fill_in(value, &self.database, &self.url));
        }
        let mut child = command.spawn().map_err(|e| {
            fail(format!(
                "cannot run {}: {e}; pass --python (or `python` in [roundtrip]) naming the project's Python",
                python.display()
            ))
        })?;
        let stdin = child.stdin.take().expect("piped stdin");
        let mut lines = BufReader::new(child.stdout.take().expect("piped stdout")).lines();
        // Alembic's log lines and anything env.py prints go to stderr; keep it drained.
        // Its last line is what a driver that dies before it is ready has to say (a traceback's
        // exception line).
        let stderr = child.stderr.take().map(|stderr| {
            tokio::spawn(async move {
                let mut lines = BufReader::new(stderr).lines();
                let mut last = None;
                while let Ok(Some(line)) = lines.next_line().await {
                    if std::env::var_os("MIGRATION_GATE_DEBUG").is_some() {
                        eprintln!("driver: {line}");
                    }
                    if !line.trim().is_empty() {
                        last = Some(line);
                    }
                }
                last
            })
        });
        let ready = tokio::time::timeout(Duration::from_secs(60), lines.next_line()).await;
        let line = match ready {
            Ok(Ok(Some(line))) => line,
            Ok(_) => {
                let status = child.wait().await.ok();
                let said = match stderr {
                    Some(task) => tokio::time::timeout(Duration::from_secs(2), task)
                        .await
                        .ok()
                        .and_then(Result::ok)
                        .flatten(),
                    None => None,
                };
                let said = said.map_or_else(
                    || format!(" ({status:?})"),
                    |line| format!(": {}", line.trim()),
                );
                return Err(fail(format!(
                    "the Alembic driver ({}) exited before it was ready{said}; run with MIGRATION_GATE_DEBUG=1 to see all its output",
                    python.display()
                )));
            }
            Err(_) => return Err(fail("the Alembic driver did not start within 60 s")),
        };
        let answer: DriverAnswer = serde_json::from_str(&line).map_err(|e| {
            fail(format!(
                "the Alembic driver said something unexpected ({e}): {line}"
            ))
        })?;
        if !answer.ok {
            let hint = if answer.kind == "ImportError" {
                format!(
                    "; install alembic, SQLAlchemy and psycopg into it (`{} -m pip install alembic sqlalchemy 'psycopg[binary]'`) or pass --python",
                    python.display()
                )
            } else {
                String::new()
            };
            return Err(fail(format!(
                "the Alembic driver cannot start: {}{hint}",
                answer.error
            )));
        }
        self.alembic_version = answer.alembic;
        self.process = Some((child, stdin, lines));
        Ok(())
    }

    /// The driver's pooled connection was ended (a rebuilt database, ended sessions): the next
    /// request opens a new one.
    pub fn connections_lost(&mut self) {
        self.reconnect = true;
    }

    async fn request(
        &mut self,
        mut message: serde_json::Value,
        limit: Duration,
    ) -> Result<DriverAnswer, StepFailure> {
        if std::mem::take(&mut self.reconnect) {
            message["reconnect"] = serde_json::Value::Bool(true);
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
            });
        }
        Err(StepFailure {
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

    pub async fn upgrade(&mut self, target: &str, limit: Duration) -> Result<(), StepFailure> {
        self.run_upgrade(
            serde_json::json!({"cmd": "upgrade", "target": target}),
            limit,
        )
        .await
        .map(drop)
    }

    /// An upgrade request; what it ran is kept in `last_sql`, its trace returned.
    async fn run_upgrade(
        &mut self,
        message: serde_json::Value,
        limit: Duration,
    ) -> Result<Vec<TracedStatement>, StepFailure> {
        let answer = self.request(message, limit).await?;
        self.last_sql = answer.sql.unwrap_or_default();
        self.last_destinations = answer.destinations;
        Ok(answer.trace.unwrap_or_default())
    }

    /// The upgrade with every statement's locks and rewrites recorded.
    pub async fn upgrade_traced(
        &mut self,
        target: &str,
        limit: Duration,
    ) -> Result<Vec<TracedStatement>, StepFailure> {
        self.run_upgrade(
            serde_json::json!({"cmd": "upgrade", "target": target, "trace": true}),
            limit,
        )
        .await
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
            .request(
                serde_json::json!({"cmd": "downgrade_one", "target": revision}),
                limit,
            )
            .await?;
        self.last_destinations = answer.destinations;
        Ok(())
    }

    pub async fn stop(mut self) {
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
