//! `migration-gate roundtrip`: every revision goes upgrade → downgrade → upgrade on a throwaway
//! PostgreSQL, with the schema read from the catalogs and compared at each step.

pub mod diff;
pub mod postgres;
mod runner;
mod seed;
pub mod snapshot;
pub mod watchdog;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::diagnostic::{
    Diagnostic, RevisionResult, RuleMeta, Status, StepResult, TracedStatement,
};
use crate::lint::{self, LintOptions};
use crate::model::{BodyState, Framework, Migration, MigrationSet, Phase, Sources, Span};
use crate::rules::roundtrip as findings;

use diff::Comparison;
use postgres::{ConnInfo, Provider, ProviderRequest, ScratchDatabase};
use runner::{AlembicDriver, AlembicOptions, StepFailure};

/// A failure that ends the run (exit code 2): no server, no Python, an unreadable project.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct RoundtripError(pub String);

pub fn fail(message: impl Into<String>) -> RoundtripError {
    RoundtripError(message.into())
}

pub struct RoundtripOptions {
    /// Where the migrations are (paths, excludes, `--base`).
    pub lint: LintOptions,
    pub provider: Provider,
    pub database_url: Option<String>,
    pub image: String,
    pub python: Option<PathBuf>,
    pub alembic_config: Option<PathBuf>,
    /// Run Alembic with a generated env.py instead of the project's.
    pub standalone: bool,
    pub step_timeout: Duration,
    pub env: Vec<(String, String)>,
    /// Judge only revisions from this one (inclusive) ...
    pub from: Option<String>,
    /// ... up to this one (inclusive).
    pub to: Option<String>,
    /// Record each statement's locks and rewrites during the first upgrade.
    pub trace_locks: bool,
    /// Before each revision's upgrade, fill every empty table with this many generated rows.
    pub seed_rows: u32,
}

pub struct RoundtripOutcome {
    pub sources: Sources,
    pub diagnostics: Vec<Diagnostic>,
    pub revisions: Vec<RevisionResult>,
    pub files: usize,
    pub input_errors: usize,
    pub server: String,
    pub ready_in: Duration,
    pub total: Duration,
}

pub async fn run(options: &RoundtripOptions) -> Result<RoundtripOutcome, RoundtripError> {
    let started = Instant::now();
    let loaded = lint::lint(&LintOptions {
        select: Some(Vec::new()),
        ..options.lint.clone()
    })
    .map_err(|e| fail(e.to_string()))?;
    if loaded.sources.is_empty() {
        return Err(fail("no migrations found to round-trip"));
    }
    let mut diagnostics = loaded.diagnostics.clone();
    let input_errors = loaded.input_errors;
    let server = postgres::provide(&ProviderRequest {
        provider: options.provider,
        database_url: options.database_url.as_deref(),
        image: &options.image,
    })
    .await?;
    let mut revisions = Vec::new();
    let mut outcome = Ok(());
    for set in &loaded.sets {
        let mut judge = Judge {
            options,
            sources: &loaded.sources,
            set,
            scope: &loaded.scope,
            diagnostics: Vec::new(),
            results: Vec::new(),
        };
        let result = judge.run_set(&server.admin).await;
        diagnostics.append(&mut judge.diagnostics);
        revisions.append(&mut judge.results);
        if let Err(error) = result {
            outcome = Err(error);
            break;
        }
    }
    let server_kind = format!("{} ({})", server.kind, server.admin.describe());
    let ready_in = server.ready_in;
    server.shut_down().await;
    outcome?;
    Ok(RoundtripOutcome {
        files: loaded.sources.len(),
        sources: loaded.sources,
        diagnostics,
        revisions,
        input_errors,
        server: server_kind,
        ready_in,
        total: started.elapsed(),
    })
}

/// How one set's revisions are applied.
enum Applier {
    Alembic(Box<AlembicDriver>),
    Sql,
}

struct Judge<'a> {
    options: &'a RoundtripOptions,
    sources: &'a Sources,
    set: &'a MigrationSet,
    scope: &'a Option<Vec<crate::model::FileId>>,
    diagnostics: Vec<Diagnostic>,
    results: Vec<RevisionResult>,
}

struct Session {
    scratch: ScratchDatabase,
    client: tokio_postgres::Client,
    applier: Applier,
}

fn millis(since: Instant) -> u64 {
    since.elapsed().as_millis() as u64
}

impl<'a> Judge<'a> {
    /// Revisions in apply order, each once.
    fn order(&self) -> Vec<&'a Migration> {
        crate::model::graph::RevisionGraph::build(self.set).apply_order(self.set)
    }

    fn id(migration: &Migration) -> String {
        migration.revision_id().unwrap_or("?").to_string()
    }

    fn in_scope(&self, order: &[&Migration], index: usize) -> bool {
        let migration = order[index];
        if self
            .scope
            .as_ref()
            .is_some_and(|files| !files.contains(&migration.file))
        {
            return false;
        }
        let position = |id: &str| order.iter().position(|m| m.revision_id() == Some(id));
        let after_from = self
            .options
            .from
            .as_deref()
            .and_then(position)
            .is_none_or(|from| index >= from);
        let before_to = self
            .options
            .to
            .as_deref()
            .and_then(position)
            .is_none_or(|to| index <= to);
        after_from && before_to
    }

    async fn open(&self, admin: &ConnInfo) -> Result<Session, RoundtripError> {
        let scratch = ScratchDatabase::create(admin).await?;
        self.attach(scratch).await
    }

    /// The tool's own connection: snapshots, and the statements of SQL migrations, which the
    /// server stops at the step limit.
    async fn connect_scratch(
        &self,
        conninfo: &ConnInfo,
    ) -> Result<tokio_postgres::Client, tokio_postgres::Error> {
        let client = conninfo.connect().await?;
        let limit = self.options.step_timeout.as_millis();
        client
            .batch_execute(&format!("SET statement_timeout = {limit}"))
            .await?;
        Ok(client)
    }

    async fn attach(&self, scratch: ScratchDatabase) -> Result<Session, RoundtripError> {
        let client = match self.connect_scratch(&scratch.conninfo).await {
            Ok(client) => client,
            Err(e) => {
                let _ = scratch.drop_database().await;
                return Err(fail(format!("cannot connect to the scratch database: {e}")));
            }
        };
        let applier = match self.set.framework {
            Framework::Alembic => {
                let root = PathBuf::from(&self.set.root);
                let options = AlembicOptions {
                    python: runner::find_python(self.options.python.as_deref(), &root),
                    ini: self
                        .options
                        .alembic_config
                        .clone()
                        .or_else(|| find_alembic_ini(&root)),
                    script_location: root,
                    standalone: self.options.standalone,
                    statement_timeout: self.options.step_timeout,
                    env: self.options.env.clone(),
                };
                match AlembicDriver::start(options, &scratch.conninfo).await {
                    Ok(driver) => Applier::Alembic(Box::new(driver)),
                    Err(error) => {
                        let _ = scratch.drop_database().await;
                        return Err(error);
                    }
                }
            }
            _ => Applier::Sql,
        };
        Ok(Session {
            scratch,
            client,
            applier,
        })
    }

    async fn close(session: Session) -> Result<(), RoundtripError> {
        if let Applier::Alembic(driver) = session.applier {
            driver.stop().await;
        }
        drop(session.client);
        session.scratch.drop_database().await
    }

    async fn step(
        &self,
        session: &mut Session,
        migration: &Migration,
        phase: Phase,
    ) -> Result<(), StepFailure> {
        self.step_traced(session, migration, phase, false)
            .await
            .map(drop)
    }

    /// One step; with `trace`, each statement's locks and rewrites come back.
    async fn step_traced(
        &self,
        session: &mut Session,
        migration: &Migration,
        phase: Phase,
        trace: bool,
    ) -> Result<Vec<TracedStatement>, StepFailure> {
        let limit = self.options.step_timeout;
        let result = match &mut session.applier {
            Applier::Alembic(driver) => {
                let id = Self::id(migration);
                match (phase, trace) {
                    (Phase::Upgrade, true) => driver.upgrade_traced(&id, limit).await,
                    (Phase::Upgrade, false) => {
                        driver.upgrade(&id, limit).await.map(|()| Vec::new())
                    }
                    (Phase::Downgrade, _) => {
                        driver.downgrade_one(&id, limit).await.map(|()| Vec::new())
                    }
                }
            }
            Applier::Sql => {
                let mut tracer = if trace {
                    runner::SqlTracer::start(&session.client).await
                } else {
                    None
                };
                runner::run_sql(
                    &session.client,
                    migration,
                    phase,
                    self.sources,
                    limit,
                    tracer.as_mut(),
                )
                .await
                .map(|()| tracer.map(|t| t.statements).unwrap_or_default())
            }
        };
        if result.as_ref().is_err_and(|f| f.timed_out) {
            session.scratch.terminate_sessions().await;
        }
        result
    }

    /// A fresh scratch database with `order[..=upto]` applied (their upgrades, as the
    /// framework would), for judging the next revision on its own after a failure.
    async fn rebuild(
        &self,
        session: &mut Session,
        order: &[&Migration],
        upto: Option<usize>,
    ) -> Result<bool, RoundtripError> {
        session.scratch.recreate().await?;
        session.client = self
            .connect_scratch(&session.scratch.conninfo)
            .await
            .map_err(|e| fail(format!("cannot connect to the scratch database: {e}")))?;
        let Some(upto) = upto else {
            return Ok(true);
        };
        let reached = match self.set.framework {
            Framework::Alembic => self
                .step(session, order[upto], Phase::Upgrade)
                .await
                .is_ok(),
            _ => {
                let mut ok = true;
                for migration in &order[..=upto] {
                    if self.step(session, migration, Phase::Upgrade).await.is_err() {
                        ok = false;
                        break;
                    }
                }
                ok
            }
        };
        Ok(reached)
    }

    fn report(
        &mut self,
        meta: &RuleMeta,
        migration: &Migration,
        phase: Phase,
        failure: Option<&StepFailure>,
        message: String,
    ) {
        let span = failure
            .and_then(|f| self.span_of(f))
            .unwrap_or_else(|| self.default_span(migration, phase));
        let mut diagnostic = Diagnostic::new(meta, span, message).in_phase(phase);
        diagnostic.revision = migration.revision_id().map(str::to_string);
        diagnostic.origin = crate::diagnostic::Origin::Roundtrip;
        if let Some(failure) = failure {
            let mut help = Vec::new();
            if let Some(statement) = &failure.statement {
                let short: String = statement.split_whitespace().collect::<Vec<_>>().join(" ");
                let short = if short.chars().count() > 300 {
                    format!("{}…", short.chars().take(300).collect::<String>())
                } else {
                    short
                };
                help.push(format!("statement: {short}"));
            }
            if failure
                .file
                .as_ref()
                .is_some_and(|f| f.file_name().is_some_and(|n| n == "env.py"))
            {
                help.push("env.py cannot run outside the application: pass --standalone to run the revisions with a generated env.py".into());
            }
            if failure.timed_out {
                help.push(
                    "raise `timeout_s` in [roundtrip] if the step is slow rather than stuck".into(),
                );
            }
            if !help.is_empty() {
                diagnostic = diagnostic.with_help(help.join("; "));
            }
        }
        self.diagnostics.push(diagnostic);
    }

    /// The failing line in the revision's own files, when the failure names one.
    fn span_of(&self, failure: &StepFailure) -> Option<Span> {
        let file = failure.file.as_ref()?;
        let line = failure.line?;
        let wanted = file.canonicalize().ok()?;
        let (id, source) = self
            .sources
            .iter()
            .find(|(_, s)| Path::new(&s.path).canonicalize().is_ok_and(|p| p == wanted))?;
        let start = source.line_start(line)?;
        let end = source.text[start..]
            .find('\n')
            .map_or(source.text.len(), |n| start + n);
        let indent = source.text[start..end].len() - source.text[start..end].trim_start().len();
        Some(Span::new(id, start + indent..end))
    }

    fn default_span(&self, migration: &Migration, phase: Phase) -> Span {
        match self.set.framework {
            Framework::Alembic => migration.body(phase).span,
            _ => migration
                .body(phase)
                .script
                .map(|s| Span::new(s.span.file, s.span.start..s.span.start))
                .unwrap_or(migration.revision_span),
        }
    }

    fn describe(failure: &StepFailure) -> String {
        match &failure.sqlstate {
            Some(code) if !failure.message.contains(code.as_str()) => {
                format!("{} (SQLSTATE {code})", failure.message)
            }
            _ => failure.message.clone(),
        }
    }

    async fn run_set(&mut self, admin: &ConnInfo) -> Result<(), RoundtripError> {
        let order = self.order();
        let judged: Vec<usize> = (0..order.len())
            .filter(|&i| self.in_scope(&order, i))
            .collect();
        let Some(&first) = judged.first() else {
            return Ok(());
        };
        let mut session = self.open(admin).await?;
        // Revisions before the first judged one are only applied, in one go.
        let mut dirty = first > 0 && !self.rebuild(&mut session, &order, Some(first - 1)).await?;
        if dirty {
            Self::close(session).await?;
            return Err(fail(format!(
                "the revisions before `{}` do not apply cleanly; run without --from/--base to see which",
                Self::id(order[first])
            )));
        }
        let mut unreachable: BTreeSet<String> = BTreeSet::new();
        let mut known: Option<snapshot::Snapshot> = None;
        for &index in &judged {
            let migration = order[index];
            let id = Self::id(migration);
            let path = self.sources.get(migration.file).path.clone();
            let parents_unreachable = match self.set.framework {
                Framework::Alembic => migration.parents.iter().any(|p| unreachable.contains(p)),
                _ => !unreachable.is_empty(),
            };
            if parents_unreachable {
                unreachable.insert(id.clone());
                self.results.push(RevisionResult {
                    set: self.set.root.clone(),
                    revision: id,
                    path,
                    status: Status::Skipped,
                    millis: 0,
                    steps: Vec::new(),
                    note: Some("skipped: it builds on a revision whose upgrade failed".into()),
                    trace: Vec::new(),
                });
                continue;
            }
            if dirty {
                let reached = self
                    .rebuild(&mut session, &order, index.checked_sub(1))
                    .await?;
                dirty = false;
                if !reached {
                    unreachable.insert(id.clone());
                    self.results.push(RevisionResult {
                        set: self.set.root.clone(),
                        revision: id,
                        path,
                        status: Status::Skipped,
                        millis: 0,
                        steps: Vec::new(),
                        note: Some("skipped: the history before it could not be rebuilt".into()),
                        trace: Vec::new(),
                    });
                    continue;
                }
            }
            // Alembic histories may branch: the state after one revision is the next one's start
            // only when the next one builds on it.
            let follows = index > 0
                && (self.set.framework != Framework::Alembic
                    || migration
                        .parents
                        .iter()
                        .any(|p| order[index - 1].revision_id() == Some(p.as_str())));
            let start = if follows { known.take() } else { None };
            let (result, needs_rebuild, end) = self
                .judge(&mut session, migration, &mut unreachable, start)
                .await?;
            dirty = needs_rebuild;
            known = end;
            self.results.push(result);
        }
        Self::close(session).await
    }

    /// Upgrade, snapshot, downgrade, snapshot and compare, upgrade, snapshot and compare.
    /// Returns the revision's result, whether the database must be rebuilt before the next
    /// revision, and (after a clean round trip) the schema the next revision starts from.
    async fn judge(
        &mut self,
        session: &mut Session,
        migration: &Migration,
        unreachable: &mut BTreeSet<String>,
        known: Option<snapshot::Snapshot>,
    ) -> Result<(RevisionResult, bool, Option<snapshot::Snapshot>), RoundtripError> {
        let started = Instant::now();
        let id = Self::id(migration);
        let mut steps = Vec::new();
        if self.options.seed_rows > 0 {
            for problem in seed::fill(&session.client, self.options.seed_rows).await {
                if std::env::var_os("MIGRATION_GATE_DEBUG").is_some() {
                    eprintln!("seed: {problem}");
                }
            }
        }
        let before = match known {
            Some(snapshot) => snapshot,
            None => snapshot::take(&session.client).await?,
        };

        let t = Instant::now();
        let first = self
            .step_traced(session, migration, Phase::Upgrade, self.options.trace_locks)
            .await;
        let trace = match first {
            Ok(trace) => trace,
            Err(failure) => {
                self.failed_step(&mut steps, "upgrade", t, migration, &failure);
                unreachable.insert(id);
                let result = self.result(migration, Status::Failed, steps, started);
                return Ok((result, true, None));
            }
        };
        // The migration tool's own bookkeeping and introspection is not the revision's doing.
        let trace: Vec<TracedStatement> = trace
            .into_iter()
            .filter(|t| {
                let lower = t.statement.to_ascii_lowercase();
                !(lower.contains("alembic_version")
                    || lower.contains("schema_migrations")
                    || lower.starts_with("select pg_catalog."))
            })
            .collect();
        self.report_trace(migration, &trace);
        record(&mut steps, "upgrade", Status::Passed, t);
        let upgraded = snapshot::take(&session.client).await?;
        // SQL migrations without a down script (plain folders, Flyway without undo, a missing
        // .down.sql that `check` reports) can only be proven to apply.
        let no_down_script = self.set.framework != Framework::Alembic
            && matches!(
                migration.downgrade.state,
                BodyState::Missing | BodyState::NotApplicable
            );
        if no_down_script {
            record(&mut steps, "downgrade", Status::Skipped, Instant::now());
            let mut result = self.result(migration, Status::Passed, steps, started);
            result.note = Some("no down script: only the upgrade was checked".into());
            return Ok((result.with_trace(trace), false, Some(upgraded)));
        }

        let t = Instant::now();
        if let Err(failure) = self.step(session, migration, Phase::Downgrade).await {
            self.failed_step(&mut steps, "downgrade", t, migration, &failure);
            let result = self.result(migration, Status::Failed, steps, started);
            return Ok((result.with_trace(trace), true, None));
        }
        record(&mut steps, "downgrade", Status::Passed, t);
        let t = Instant::now();
        let downgraded = snapshot::take(&session.client).await?;
        let restored = self.compared(
            &mut steps,
            t,
            migration,
            (&before, &downgraded),
            Comparison::AfterDowngrade,
        );

        let t = Instant::now();
        if let Err(failure) = self.step(session, migration, Phase::Upgrade).await {
            self.failed_step(&mut steps, "reupgrade", t, migration, &failure);
            let result = self.result(migration, Status::Failed, steps, started);
            return Ok((result.with_trace(trace), true, None));
        }
        record(&mut steps, "reupgrade", Status::Passed, t);
        let t = Instant::now();
        let reupgraded = snapshot::take(&session.client).await?;
        let repeatable = self.compared(
            &mut steps,
            t,
            migration,
            (&upgraded, &reupgraded),
            Comparison::AfterReupgrade,
        );
        let clean = restored && repeatable;
        let status = if clean {
            Status::Passed
        } else {
            Status::Failed
        };
        let result = self
            .result(migration, status, steps, started)
            .with_trace(trace);
        // After a clean round trip the schema is the next revision's starting point.
        Ok((result, !clean, clean.then_some(reupgraded)))
    }

    /// Records a failed step and reports it with the database's own words.
    fn failed_step(
        &mut self,
        steps: &mut Vec<StepResult>,
        step: &'static str,
        since: Instant,
        migration: &Migration,
        failure: &StepFailure,
    ) {
        record(steps, step, Status::Failed, since);
        let id = Self::id(migration);
        let (meta, phase, what) = match step {
            "upgrade" => (
                &findings::UPGRADE_FAILED,
                Phase::Upgrade,
                format!("the upgrade of `{id}` fails"),
            ),
            "downgrade" => (
                &findings::DOWNGRADE_FAILED,
                Phase::Downgrade,
                format!("the downgrade of `{id}` fails right after its upgrade"),
            ),
            _ => (
                &findings::REUPGRADE_FAILED,
                Phase::Upgrade,
                format!("the upgrade of `{id}` fails when run again after its downgrade"),
            ),
        };
        let message = format!("{what}: {}", Self::describe(failure));
        self.report(meta, migration, phase, Some(failure), message);
    }

    /// Compares two snapshots as one step of the round trip; true when they agree.
    fn compared(
        &mut self,
        steps: &mut Vec<StepResult>,
        since: Instant,
        migration: &Migration,
        (expected, actual): (&snapshot::Snapshot, &snapshot::Snapshot),
        comparison: Comparison,
    ) -> bool {
        let differences = diff::differences(expected, actual, comparison);
        let (step, meta, phase, headline) = match comparison {
            Comparison::AfterDowngrade => (
                "compare-after-downgrade",
                &findings::SCHEMA_DRIFT,
                Phase::Downgrade,
                "after upgrade and downgrade of `{id}` the schema differs from before",
            ),
            _ => (
                "compare-after-reupgrade",
                &findings::NOT_REPEATABLE,
                Phase::Upgrade,
                "upgrade → downgrade → upgrade of `{id}` gives a different schema than the first upgrade",
            ),
        };
        let agree = differences.is_empty();
        record(
            steps,
            step,
            if agree {
                Status::Passed
            } else {
                Status::Failed
            },
            since,
        );
        if !agree {
            let headline = headline.replace("{id}", &Self::id(migration));
            self.report(
                meta,
                migration,
                phase,
                None,
                format!("{headline}: {}", list(&differences)),
            );
        }
        agree
    }

    /// Findings for what the trace observed on tables that existed before the revision.
    fn report_trace(&mut self, migration: &Migration, trace: &[TracedStatement]) {
        const BOOKKEEPING: [&str; 3] = [
            "alembic_version",
            "schema_migrations",
            "flyway_schema_history",
        ];
        let id = Self::id(migration);
        for statement in trace {
            let short: String = statement.statement.chars().take(200).collect();
            for lock in &statement.locks {
                if lock.existed
                    && lock.mode == "AccessExclusiveLock"
                    && !BOOKKEEPING.contains(&lock.table.as_str())
                {
                    self.report(
                        &findings::TRACED_ACCESS_EXCLUSIVE,
                        migration,
                        Phase::Upgrade,
                        None,
                        format!(
                            "the upgrade of `{id}` took ACCESS EXCLUSIVE on `{}`: `{short}`",
                            lock.table
                        ),
                    );
                }
            }
            for table in &statement.rewritten {
                if !BOOKKEEPING.contains(&table.as_str()) {
                    self.report(
                        &findings::TRACED_REWRITE,
                        migration,
                        Phase::Upgrade,
                        None,
                        format!("the upgrade of `{id}` rewrote `{table}`: `{short}`"),
                    );
                }
            }
        }
    }

    fn result(
        &self,
        migration: &Migration,
        status: Status,
        steps: Vec<StepResult>,
        started: Instant,
    ) -> RevisionResult {
        RevisionResult {
            set: self.set.root.clone(),
            revision: Self::id(migration),
            path: self.sources.get(migration.file).path.clone(),
            status,
            millis: millis(started),
            steps,
            note: None,
            trace: Vec::new(),
        }
    }
}

fn record(steps: &mut Vec<StepResult>, step: &'static str, status: Status, since: Instant) {
    steps.push(StepResult {
        step,
        status,
        millis: millis(since),
    });
}

fn list(differences: &[String]) -> String {
    const SHOWN: usize = 20;
    let mut text = differences
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join("; ");
    if differences.len() > SHOWN {
        text.push_str(&format!("; and {} more", differences.len() - SHOWN));
    }
    text
}

/// alembic.ini next to the script directory or one level up (the Flask-Migrate and the
/// `alembic init` layouts).
fn find_alembic_ini(root: &Path) -> Option<PathBuf> {
    [root.join("alembic.ini"), root.parent()?.join("alembic.ini")]
        .into_iter()
        .find(|p| p.is_file())
}

/// The schema that applying `targets` in order (Alembic: each with its missing ancestors)
/// produces, built in a scratch database on `admin`'s server and dropped again: the release
/// gate compares a live database with it.
pub async fn schema_at(
    options: &RoundtripOptions,
    sources: &Sources,
    set: &MigrationSet,
    targets: &[&Migration],
    admin: &ConnInfo,
) -> Result<snapshot::Snapshot, RoundtripError> {
    let judge = Judge {
        options,
        sources,
        set,
        scope: &None,
        diagnostics: Vec::new(),
        results: Vec::new(),
    };
    let mut session = judge.open(admin).await?;
    let mut failure = None;
    for target in targets {
        if let Err(error) = judge.step(&mut session, target, Phase::Upgrade).await {
            failure = Some(format!(
                "`{}` does not apply: {}",
                Judge::id(target),
                Judge::describe(&error)
            ));
            break;
        }
    }
    let result = match failure {
        None => snapshot::take(&session.client).await,
        Some(message) => Err(fail(format!(
            "the applied revisions cannot be rebuilt for comparison: {message}"
        ))),
    };
    Judge::close(session).await?;
    result
}
