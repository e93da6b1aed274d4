//! The Alembic driver's Python process, started ahead of the database it will drive:
//! importing Alembic and SQLAlchemy takes about as long as a local PostgreSQL takes to start,
//! so the two overlap. The scratch database's address reaches the process later, as its
//! first line on stdin; until then it has imported what it needs and waits.

use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};
use tokio::task::JoinHandle;

use super::driver_env::needs_database;
use super::runner::{AlembicOptions, DriverAnswer};
use super::{RoundtripError, fail};

/// The driver's script, kept in parts by what they do.
const DRIVER: &str = concat!(
    include_str!("driver/protocol.py"),
    "\n\n",
    include_str!("driver/guard.py"),
    "\n\n",
    include_str!("driver/project.py"),
    "\n\n",
    include_str!("driver/flask_app.py"),
    "\n\n",
    include_str!("driver/observers.py"),
    "\n\n",
    include_str!("driver/steps.py"),
    "\n\n",
    include_str!("driver/compat.py"),
    "\n\n",
    include_str!("driver/main.py"),
);
const DRIVER_SOURCE_VARIABLE: &str = "MIGRATION_GATE_DRIVER_SOURCE";
/// `python -c` puts the current folder first on `sys.path`, where the `alembic` command puts
/// nothing: a project package named like a standard module (`types`, `select`) would shadow
/// it. The bootstrap takes it off first (`-P` does the same, from Python 3.11 only).
const DRIVER_BOOTSTRAP: &str = "import os, sys; sys.path[:1] = [] if sys.path and sys.path[0] in ('', os.getcwd()) else sys.path[:1]; exec(compile(os.environ.pop('MIGRATION_GATE_DRIVER_SOURCE'), 'migration-gate-driver.py', 'exec'))";

/// A driver that is ready for requests.
pub(super) type Running = (Child, ChildStdin, Lines<BufReader<ChildStdout>>);

/// A driver process that has not yet been told which database to drive.
pub(super) struct Interpreter {
    child: Child,
    stdin: ChildStdin,
    lines: Lines<BufReader<ChildStdout>>,
    /// Drains stderr (Alembic's log, whatever env.py prints) and keeps its last line: what a
    /// driver that dies before it is ready has to say (a traceback's exception line).
    stderr: Option<JoinHandle<Option<String>>>,
    python: String,
}

impl Interpreter {
    /// Starts the project's Python on the driver, with everything but the scratch database.
    pub(super) fn start(options: &AlembicOptions) -> Result<Interpreter, RoundtripError> {
        let mut command = Command::new(&options.python);
        command
            // The driver's source travels in the environment: no file to leave behind when
            // the run is killed.
            .args(["-c", DRIVER_BOOTSTRAP])
            .env(DRIVER_SOURCE_VARIABLE, DRIVER)
            .current_dir(&options.working_dir)
            // libpq would take a service's or an address's target over the scratch database's
            // PGHOST for every connection that names none.
            .env_remove("PGSERVICE")
            .env_remove("PGHOSTADDR")
            .arg("--script-location")
            .arg(&options.script_location)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true);
        if let Some(ini) = &options.ini {
            command.arg("--ini").arg(ini);
        }
        for folder in &options.versions {
            command.arg("--versions").arg(folder);
        }
        if options.standalone {
            command.arg("--standalone");
        } else if options.flask_app {
            command.arg("--flask-app");
        }
        if options.async_env && !options.standalone {
            command.arg("--async-env");
        }
        if let Ok(folder) = std::env::current_dir() {
            command.arg("--invoked-from").arg(folder);
        }
        // libpq reads PGOPTIONS when env.py sets no `options` of its own.
        command.env(
            "PGOPTIONS",
            format!(
                "-c statement_timeout={}",
                options.statement_timeout.as_millis()
            ),
        );
        // Set before the interpreter starts, where the interpreter reads them (PYTHONPATH);
        // those naming the scratch database follow with it.
        for (key, value) in options.env.iter().filter(|(_, v)| !needs_database(v)) {
            command.env(key, value);
        }
        let python = options.python.display().to_string();
        let mut child = command.spawn().map_err(|e| {
            fail(format!(
                "cannot run {python}: {e}; pass --python (or `python` in [roundtrip]) naming the project's Python"
            ))
        })?;
        let stdin = child.stdin.take().expect("piped stdin");
        let lines = BufReader::new(child.stdout.take().expect("piped stdout")).lines();
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
        Ok(Interpreter {
            child,
            stdin,
            lines,
            stderr,
            python,
        })
    }

    /// Tells the driver the scratch database's environment and waits until it is ready;
    /// returns the process and the Alembic version it runs.
    pub(super) async fn launch(
        mut self,
        env: Vec<(String, String)>,
    ) -> Result<(Running, String, Option<String>), RoundtripError> {
        let env: serde_json::Map<String, serde_json::Value> = env
            .into_iter()
            .map(|(key, value)| (key, serde_json::Value::String(value)))
            .collect();
        let launch = serde_json::json!({ "env": env });
        // A driver that could not import Alembic has already said so and exited: its answer
        // is read below, whatever this write met.
        let _ = self.stdin.write_all(format!("{launch}\n").as_bytes()).await;
        let _ = self.stdin.flush().await;
        let line = match tokio::time::timeout(Duration::from_secs(60), self.lines.next_line()).await
        {
            Ok(Ok(Some(line))) => line,
            Ok(_) => return Err(self.exited().await),
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
                    "; install alembic, SQLAlchemy and a PostgreSQL driver (psycopg, psycopg2 or asyncpg) into it (`{}`) or pass --python naming the project's Python",
                    super::driver_env::install_command(
                        &self.python,
                        "alembic sqlalchemy 'psycopg[binary]'"
                    )
                )
            } else {
                String::new()
            };
            return Err(fail(format!(
                "the Alembic driver cannot start: {}{hint}",
                answer.error
            )));
        }
        Ok((
            (self.child, self.stdin, self.lines),
            answer.alembic,
            answer.note,
        ))
    }

    async fn exited(mut self) -> RoundtripError {
        let status = self.child.wait().await.ok();
        let said = match self.stderr.take() {
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
        fail(format!(
            "the Alembic driver ({}) exited before it was ready{said}; run with MIGRATION_GATE_DEBUG=1 to see all its output",
            self.python
        ))
    }
}
