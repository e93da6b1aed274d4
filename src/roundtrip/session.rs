//! The scratch database a set is judged in, and the steps applied to it.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::diagnostic::TracedStatement;
use crate::model::{Framework, Migration, Phase};

use super::judge::Judge;
use super::postgres::{ConnInfo, ScratchDatabase};
use super::runner::{self, AlembicDriver, AlembicOptions, StepFailure};
use super::{RoundtripError, fail, find_alembic_ini, snapshot};

/// The revisions of `applied` (in apply order) that no other one of them builds on, leaving
/// out `skip` (revisions whose upgrade failed): upgrading to each applies all of `applied`.
fn applied_heads<'m>(applied: &[&'m Migration], skip: &BTreeSet<String>) -> Vec<&'m Migration> {
    let usable = |m: &Migration| m.revision_id().is_some_and(|id| !skip.contains(id));
    let mut parents_in_use: BTreeSet<&str> = BTreeSet::new();
    for migration in applied.iter().filter(|m| usable(m)) {
        parents_in_use.extend(migration.parents.iter().map(String::as_str));
    }
    applied
        .iter()
        .filter(|m| usable(m))
        .filter(|m| {
            m.revision_id()
                .is_some_and(|id| !parents_in_use.contains(id))
        })
        .copied()
        .collect()
}

/// The tables holding an Alembic version, whatever their name and schema (`version_table` /
/// `version_table_schema` in env.py). The catalogs directly: information_schema's views cost
/// a millisecond a step.
const VERSION_TABLES: &str = "SELECT format('%I.%I', n.nspname, c.relname)
     FROM pg_attribute a
     JOIN pg_class c ON c.oid = a.attrelid
     JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE a.attname = 'version_num' AND NOT a.attisdropped AND c.relkind IN ('r', 'p')
       AND n.nspname NOT IN ('pg_catalog', 'information_schema')";

/// Every revision the scratch database's Alembic version tables list.
async fn alembic_versions(session: &Session) -> Vec<String> {
    let client = &session.client;
    let tables = client
        .query(&session.catalog.version_tables, &[])
        .await
        .unwrap_or_default();
    let mut versions = Vec::new();
    for table in tables {
        let name: String = table.get(0);
        if let Ok(rows) = client
            .query(&format!("SELECT version_num::text FROM {name}"), &[])
            .await
        {
            versions.extend(rows.iter().map(|row| row.get::<_, String>(0)));
        }
    }
    versions
}

/// How one set's revisions are applied.
pub(super) enum Applier {
    Alembic(Box<AlembicDriver>),
    Sql,
}

pub(super) struct Session {
    pub(super) scratch: ScratchDatabase,
    pub(super) client: tokio_postgres::Client,
    catalog: Catalog,
    pub(super) applier: Applier,
}

/// The catalog queries a session runs after every step, prepared on its connection.
struct Catalog {
    schema: snapshot::Prepared,
    version_tables: tokio_postgres::Statement,
}

impl Catalog {
    async fn prepare(client: &tokio_postgres::Client) -> Result<Catalog, RoundtripError> {
        let (schema, version_tables) =
            futures_util::future::try_join(snapshot::prepare(client), async {
                client.prepare(VERSION_TABLES).await.map_err(|e| {
                    fail(format!(
                        "reading the version tables: {}",
                        super::postgres::db_error(&e)
                    ))
                })
            })
            .await?;
        Ok(Catalog {
            schema,
            version_tables,
        })
    }
}

impl Session {
    /// The scratch database's schema now.
    pub(super) async fn snapshot(&self) -> Result<snapshot::Snapshot, RoundtripError> {
        snapshot::take_prepared(&self.client, &self.catalog.schema).await
    }
}

impl Judge<'_> {
    pub(super) async fn open(&self, admin: &ConnInfo) -> Result<Session, RoundtripError> {
        let scratch = ScratchDatabase::create(admin, self.options.step_timeout).await?;
        self.attach(scratch).await
    }

    /// The tool's own connection: snapshots, and the statements of SQL migrations, which the
    /// server stops at the step limit.
    async fn connect_scratch(&self, conninfo: &ConnInfo) -> Result<tokio_postgres::Client, String> {
        let limit = self.options.step_timeout.as_millis();
        conninfo
            .connect_with_options(Some(&format!("-c statement_timeout={limit}")))
            .await
            .map_err(|e| e.to_string())
    }

    async fn attach(&self, mut scratch: ScratchDatabase) -> Result<Session, RoundtripError> {
        let client = match self.connect_scratch(&scratch.conninfo).await {
            Ok(client) => client,
            Err(e) => {
                let _ = scratch.drop_database().await;
                return Err(fail(format!("cannot connect to the scratch database: {e}")));
            }
        };
        if let Err(error) = self.prepare_scratch(&scratch.conninfo).await {
            let _ = scratch.drop_database().await;
            return Err(error);
        }
        let prepared = Catalog::prepare(&client).await;
        let catalog = match prepared {
            Ok(prepared) => prepared,
            Err(error) => {
                let _ = scratch.drop_database().await;
                return Err(error);
            }
        };
        let applier = match self.set.framework {
            Framework::Alembic => {
                let root = self.script_directory();
                let options = AlembicOptions {
                    python: runner::find_python(self.options.python.as_deref(), &root),
                    ini: self.alembic_ini_path(),
                    script_location: root,
                    versions: self.version_folders(),
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
            catalog,
            applier,
        })
    }

    pub(super) async fn close(mut session: Session) -> Result<(), RoundtripError> {
        if let Applier::Alembic(driver) = session.applier {
            driver.stop().await;
        }
        drop(session.client);
        session.scratch.drop_database().await
    }

    pub(super) async fn step(
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
    pub(super) async fn step_traced(
        &self,
        session: &mut Session,
        migration: &Migration,
        phase: Phase,
        trace: bool,
    ) -> Result<Vec<TracedStatement>, StepFailure> {
        let limit = self.options.step_timeout;
        let started = std::time::Instant::now();
        let result = self
            .apply_step(session, migration, phase, trace, limit)
            .await;
        super::profile::add("step", started);
        result
    }

    async fn apply_step(
        &self,
        session: &mut Session,
        migration: &Migration,
        phase: Phase,
        trace: bool,
        limit: std::time::Duration,
    ) -> Result<Vec<TracedStatement>, StepFailure> {
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

    /// What every fresh scratch database gets before the first revision: a schema per
    /// database of Alembic's multi-database template (the driver points each engine's
    /// `search_path` at its own), then the baseline, on a connection of its own: a dump's
    /// `set_config('search_path', '', false)` must not follow the tool's own session.
    async fn prepare_scratch(&self, conninfo: &ConnInfo) -> Result<(), RoundtripError> {
        let schemas: String = self
            .alembic_ini()
            .map(|ini| ini.databases)
            .unwrap_or_default()
            .iter()
            .map(|name| {
                format!(
                    "CREATE SCHEMA IF NOT EXISTS \"{}\";",
                    name.replace('"', "\"\"")
                )
            })
            .collect();
        if schemas.is_empty() && self.options.baseline.is_none() {
            return Ok(());
        }
        let client = self
            .connect_scratch(conninfo)
            .await
            .map_err(|e| fail(format!("cannot connect to the scratch database: {e}")))?;
        client.batch_execute(&schemas).await.map_err(|e| {
            fail(format!(
                "cannot create the schemas of alembic.ini's `databases`: {}",
                super::postgres::db_error(&e)
            ))
        })?;
        let Some(baseline) = &self.options.baseline else {
            return Ok(());
        };
        client.batch_execute(&baseline.sql).await.map_err(|e| {
            fail(format!(
                "the baseline {} does not apply to an empty database: {}",
                baseline.path.display(),
                super::postgres::db_error(&e)
            ))
        })
    }

    /// The alembic.ini the project's Alembic runs with: `--alembic-config`, else the one found
    /// for the script directory.
    fn alembic_ini_path(&self) -> Option<PathBuf> {
        if self.set.framework != Framework::Alembic {
            return None;
        }
        self.options
            .alembic_config
            .clone()
            .or_else(|| find_alembic_ini(&self.script_directory()))
    }

    /// The folders holding the set's revision files (Alembic's `version_locations`).
    fn version_folders(&self) -> Vec<PathBuf> {
        let folders: std::collections::BTreeSet<PathBuf> = self
            .set
            .migrations
            .iter()
            .filter_map(|m| {
                Path::new(&self.sources.get(m.file).path)
                    .parent()
                    .map(Path::to_path_buf)
            })
            .collect();
        folders.into_iter().collect()
    }

    /// Where env.py is: the set's folder, or above it when the revision files were given
    /// (`migrations/versions`, Prefect's `_migrations/versions/postgresql`).
    fn script_directory(&self) -> PathBuf {
        self.set
            .env
            .file
            .and_then(|env| {
                Path::new(&self.sources.get(env).path)
                    .parent()
                    .map(Path::to_path_buf)
            })
            .unwrap_or_else(|| PathBuf::from(&self.set.root))
    }

    fn alembic_ini(&self) -> Option<crate::discover::alembic_ini::AlembicIni> {
        crate::discover::alembic_ini::read(&self.alembic_ini_path()?)
    }

    /// With a baseline and --from / --base, the baseline is the schema the first judged
    /// revision starts from: the revisions before it are stamped, not applied.
    fn stamped_before(&self, order: &[&Migration]) -> Option<usize> {
        self.options.baseline.as_ref()?;
        self.judged(order)
            .first()
            .copied()
            .filter(|&first| first > 0)
    }

    /// After an Alembic step the version table of the scratch database must have moved with
    /// it. When it did not, either env.py ran the revision against another database (it builds
    /// its own URL): nothing this run could say about the scratch database would be true, so
    /// the run stops; or the revision's statements ran here but were not kept (the revision
    /// ended Alembic's transaction itself): a failure of that step, returned for reporting.
    pub(super) async fn verify_version_table(
        &self,
        session: &Session,
        migration: &Migration,
        phase: Phase,
    ) -> Result<Option<StepFailure>, RoundtripError> {
        let Applier::Alembic(driver) = &session.applier else {
            return Ok(None);
        };
        let id = Self::id(migration);
        let started = std::time::Instant::now();
        let versions = alembic_versions(session).await;
        super::profile::add("version table check", started);
        let moved = match phase {
            Phase::Upgrade => versions.contains(&id),
            Phase::Downgrade => !versions.contains(&id),
        };
        if moved {
            return Ok(None);
        }
        let listed = if versions.is_empty() {
            "no version at all".to_string()
        } else {
            versions.join(", ")
        };
        let step = match phase {
            Phase::Upgrade => "upgrade",
            Phase::Downgrade => "downgrade",
        };
        let went = &driver.last_destinations;
        if went.elsewhere.is_empty() && went.on_scratch > 0 {
            return Ok(Some(not_kept(step, &listed, went)));
        }
        let target = if went.elsewhere.is_empty() {
            "against another database".to_string()
        } else {
            format!("against {}", went.elsewhere.join(", "))
        };
        Err(fail(format!(
            "the {step} of `{id}` reported success, but the scratch database's version table did not move (it lists {listed}): env.py ran the revision {target}. migration-gate gives env.py the scratch database as `sqlalchemy.url`, as DATABASE_URL and MIGRATION_GATE_DATABASE_URL, and as `-x url=...`; make env.py take its URL from one of them (`config.get_main_option(\"sqlalchemy.url\")`) rather than building its own; when it assembles the URL from variables of its own, fill them from the scratch database in the config (`[roundtrip.env]` `POSTGRES_DB = \"{{database}}\"`, with {{host}}, {{port}}, {{user}}, {{password}}, {{url}}); or run with --standalone. No revision was judged on a database other than the scratch one."
        )))
    }

    /// A fresh scratch database with `order[..=upto]` applied (their upgrades, as the
    /// framework would), for judging the next revision on its own after a failure.
    pub(super) async fn rebuild(
        &self,
        session: &mut Session,
        order: &[&Migration],
        upto: Option<usize>,
        skip: &BTreeSet<String>,
    ) -> Result<bool, RoundtripError> {
        session.scratch.recreate().await?;
        session.client = self
            .connect_scratch(&session.scratch.conninfo)
            .await
            .map_err(|e| fail(format!("cannot connect to the scratch database: {e}")))?;
        session.catalog = Catalog::prepare(&session.client).await?;
        self.prepare_scratch(&session.scratch.conninfo).await?;
        let Some(upto) = upto else {
            return Ok(true);
        };
        let mut from = 0;
        if let Some(first) = self.stamped_before(order) {
            if let Applier::Alembic(driver) = &mut session.applier
                && !order[first].parents.is_empty()
            {
                driver
                    .stamp(&order[first].parents, self.options.step_timeout)
                    .await
                    .map_err(|f| {
                        fail(format!(
                            "cannot stamp the baseline as `{}`: {}",
                            order[first].parents.join(", "),
                            f.message
                        ))
                    })?;
            }
            if upto < first {
                return Ok(true);
            }
            from = first;
        }
        let reached = match self.set.framework {
            // Every branch applied so far, not only the one `order[upto]` is on: a merge
            // judged next must find all of its parents' schema in place.
            Framework::Alembic => {
                let mut ok = true;
                for head in applied_heads(&order[from..=upto], skip) {
                    if self.step(session, head, Phase::Upgrade).await.is_err() {
                        ok = false;
                        break;
                    }
                }
                ok
            }
            _ => {
                let mut ok = true;
                for migration in &order[from..=upto] {
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
}

/// The step's statements reached the scratch database, yet the version table did not move:
/// Alembic's transaction ended before the version update, and what ran after it was rolled
/// back when env.py closed its connection. That happens in production too.
fn not_kept(step: &str, listed: &str, went: &runner::Destinations) -> StepFailure {
    let (cause, file, line) = match &went.ended_transaction {
        Some(at) => (
            "the revision ends Alembic's transaction itself here".to_string(),
            Some(at.file.clone()),
            Some(at.line),
        ),
        None => (
            "the revision (or env.py) ends Alembic's transaction before Alembic records it".into(),
            None,
            None,
        ),
    };
    StepFailure {
        message: format!(
            "the {step} ran on the scratch database but did not stay: the version table still lists {listed}: {cause}. Since SQLAlchemy 2.0 the statements after a `commit()` run in a new transaction that env.py never commits, so they and the version update are rolled back when the connection closes (an `alembic {step}` in production loses them the same way, without an error). Run what must run outside a transaction inside `with op.get_context().autocommit_block():` instead of committing"
        ),
        file,
        line,
        ..StepFailure::default()
    }
}
