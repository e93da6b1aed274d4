//! The scratch database a set is judged in, and the steps applied to it.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::diagnostic::TracedStatement;
use crate::model::{Framework, Migration, Phase};

use super::catalog::Catalog;
use super::interpreter::Interpreter;
use super::judge::Judge;
use super::postgres::{ConnInfo, ScratchDatabase};
use super::runner::{AlembicDriver, AlembicOptions, Observe, StepFailure};
use super::{RoundtripError, fail, find_alembic_ini, snapshot};
use super::{driver_env, sql_steps};

/// The revisions of `applied` (in apply order) that no other one of them builds on, leaving
/// out `skip` (revisions whose upgrade failed): upgrading to each applies all of `applied`.
pub(super) fn applied_heads<'m>(
    applied: &[&'m Migration],
    skip: &BTreeSet<String>,
) -> Vec<&'m Migration> {
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

/// `path` from the folder migration-gate runs in: the driver runs in the project's own.
fn absolute(path: &Path) -> PathBuf {
    // A project found in the current folder is named by the empty path, which
    // `std::path::absolute` refuses: it is the current folder.
    let path = if path.as_os_str().is_empty() {
        Path::new(".")
    } else {
        path
    };
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// How one set's revisions are applied.
pub(super) enum Applier {
    Alembic(Box<AlembicDriver>),
    Sql,
}

pub(super) struct Session {
    pub(super) scratch: ScratchDatabase,
    pub(super) client: tokio_postgres::Client,
    pub(super) catalog: Catalog,
    pub(super) applier: Applier,
    /// A copy of the scratch database at a known state, to restore after a failure.
    pub(super) checkpoint: Option<super::checkpoint::Checkpoint>,
    /// SQL migrations whose upgrade their framework would not run here (a Liquibase
    /// precondition marked it ran): id → why. Their downgrade has nothing to undo.
    pub(super) not_run: std::collections::BTreeMap<String, String>,
}

impl Session {
    /// The scratch database's sessions were ended (a timeout, a rebuild): the driver's pooled
    /// connection must be opened again before its next step.
    pub(super) fn connections_lost(&mut self) {
        if let Applier::Alembic(driver) = &mut self.applier {
            driver.connections_lost();
        }
    }

    /// The scratch database was replaced by a fresh or restored one.
    pub(super) fn database_replaced(&mut self) {
        if let Applier::Alembic(driver) = &mut self.applier {
            driver.database_replaced();
        }
    }

    /// The scratch database's schema now.
    pub(super) async fn snapshot(&mut self) -> Result<snapshot::Snapshot, RoundtripError> {
        self.catalog.snapshot(&self.client).await
    }

    /// The schema right after a step, and for Alembic what its version tables list.
    pub(super) async fn snapshot_after_step(
        &mut self,
    ) -> Result<(snapshot::Snapshot, Option<Vec<String>>), RoundtripError> {
        let alembic = matches!(self.applier, Applier::Alembic(_));
        self.catalog.after_step(&self.client, alembic).await
    }
}

impl Judge<'_> {
    /// A session on a new scratch database; `interpreter`, the driver's process when it was
    /// started ahead of the server.
    pub(super) async fn open(
        &self,
        admin: &ConnInfo,
        interpreter: Option<Interpreter>,
    ) -> Result<Session, RoundtripError> {
        let started = std::time::Instant::now();
        // A driver's interpreter not started ahead of the server starts now (imports Alembic
        // and SQLAlchemy, half a second) while the database is created.
        let mut scratch = ScratchDatabase::named(admin, self.options.step_timeout);
        let (created, applier) = tokio::join!(
            scratch.create_on_server(),
            self.start_applier(&scratch.conninfo, interpreter)
        );
        super::profile::add("scratch database and driver", started);
        let applier = match (created, applier) {
            (Ok(()), Ok(applier)) => applier,
            (created, applier) => {
                let error = match applier {
                    Ok(Applier::Alembic(driver)) => {
                        driver.stop().await;
                        created.err()
                    }
                    Ok(Applier::Sql) => created.err(),
                    // The database's failure first: no driver can work without it.
                    Err(error) => Some(created.err().unwrap_or(error)),
                };
                let _ = scratch.drop_database().await;
                return Err(error.expect("one of them failed"));
            }
        };
        let started = std::time::Instant::now();
        let mut session = self.attach(scratch, applier).await?;
        if let Applier::Alembic(driver) = &mut session.applier {
            driver.load(self.options.step_timeout).await;
        }
        super::profile::add("session start (connection, change log)", started);
        Ok(session)
    }

    /// How this set's Alembic driver is run; `None` for SQL migrations.
    pub(super) fn alembic_options(&self) -> Option<AlembicOptions> {
        if self.set.framework != Framework::Alembic {
            return None;
        }
        let root = absolute(&self.script_directory());
        let ini = self.alembic_ini_path().map(|ini| absolute(&ini));
        Some(AlembicOptions {
            python: driver_env::find_python(self.options.python.as_deref(), &root),
            // `flask db` runs where the user runs it: the application is found from there
            // (FLASK_APP, app.py), as from where migration-gate runs.
            working_dir: match std::env::current_dir().map(|here| absolute(&here)) {
                Ok(here) if self.set.env.reads_flask_app && !self.options.standalone => here,
                Ok(here) => driver_env::working_dir(
                    ini.as_deref(),
                    self.options.alembic_config.is_some(),
                    &root,
                    &here,
                ),
                Err(_) => driver_env::working_dir(ini.as_deref(), false, &root, &root),
            },
            flask_app: self.set.env.reads_flask_app,
            async_env: self.set.env.makes_async_engine,
            ini,
            script_location: root,
            versions: self.version_folders().iter().map(|v| absolute(v)).collect(),
            standalone: self.options.standalone,
            statement_timeout: self.options.step_timeout,
            env: self.options.env.clone(),
        })
    }

    async fn start_applier(
        &self,
        conninfo: &ConnInfo,
        interpreter: Option<Interpreter>,
    ) -> Result<Applier, RoundtripError> {
        Ok(match self.alembic_options() {
            Some(options) => Applier::Alembic(Box::new(
                AlembicDriver::start(options, conninfo, interpreter).await?,
            )),
            None => Applier::Sql,
        })
    }

    /// The tool's own connection: snapshots, and the statements of SQL migrations, which the
    /// server stops at the step limit.
    pub(super) async fn connect_scratch(
        &self,
        conninfo: &ConnInfo,
    ) -> Result<tokio_postgres::Client, String> {
        let limit = self.options.step_timeout.as_millis();
        conninfo
            .connect_with_options(Some(&format!("-c statement_timeout={limit}")))
            .await
            .map_err(|e| e.to_string())
    }

    async fn attach(
        &self,
        mut scratch: ScratchDatabase,
        applier: Applier,
    ) -> Result<Session, RoundtripError> {
        let ready = async {
            let client = self
                .connect_scratch(&scratch.conninfo)
                .await
                .map_err(|e| fail(format!("cannot connect to the scratch database: {e}")))?;
            self.prepare_scratch(&scratch.conninfo).await?;
            let catalog = Catalog::prepare(&client).await?;
            Ok::<_, RoundtripError>((client, catalog))
        };
        match ready.await {
            Ok((client, catalog)) => Ok(Session {
                scratch,
                client,
                catalog,
                applier,
                checkpoint: None,
                not_run: Default::default(),
            }),
            Err(error) => {
                if let Applier::Alembic(driver) = applier {
                    driver.stop().await;
                }
                let _ = scratch.drop_database().await;
                Err(error)
            }
        }
    }

    pub(super) async fn close(mut session: Session) -> Result<(), RoundtripError> {
        let started = std::time::Instant::now();
        drop(session.client);
        // Together: dropping the database ends the driver's session, whether or not the
        // interpreter has finished exiting.
        let stopped = async {
            if let Applier::Alembic(driver) = session.applier {
                driver.stop().await;
            }
        };
        let checkpoint = async {
            if let Some(checkpoint) = session.checkpoint.take() {
                checkpoint.drop_database().await;
            }
        };
        let (_, dropped, ()) = tokio::join!(stopped, session.scratch.drop_database(), checkpoint);
        super::profile::add("session end", started);
        dropped
    }

    pub(super) async fn step(
        &self,
        session: &mut Session,
        migration: &Migration,
        phase: Phase,
    ) -> Result<(), StepFailure> {
        self.step_observed(session, migration, phase, Observe::default())
            .await
            .map(drop)
    }

    /// One step; what `observe` asks for comes back (each statement's locks and rewrites) or
    /// is kept by the driver (the SQL sent).
    pub(super) async fn step_observed(
        &self,
        session: &mut Session,
        migration: &Migration,
        phase: Phase,
        observe: Observe,
    ) -> Result<Vec<TracedStatement>, StepFailure> {
        let limit = self.options.step_timeout;
        let started = std::time::Instant::now();
        let result = self
            .apply_step(session, migration, phase, observe, limit)
            .await;
        super::profile::add("step", started);
        result
    }

    async fn apply_step(
        &self,
        session: &mut Session,
        migration: &Migration,
        phase: Phase,
        observe: Observe,
        limit: std::time::Duration,
    ) -> Result<Vec<TracedStatement>, StepFailure> {
        let result = match &mut session.applier {
            Applier::Alembic(driver) => {
                let id = Self::id(migration);
                match phase {
                    Phase::Upgrade => driver.upgrade(&id, limit, observe).await,
                    Phase::Downgrade => driver.downgrade_one(&id, limit).await.map(|()| Vec::new()),
                }
            }
            Applier::Sql => {
                let id = Self::id(migration);
                match phase {
                    Phase::Downgrade if session.not_run.contains_key(&id) => return Ok(Vec::new()),
                    Phase::Upgrade => {
                        session.not_run.remove(&id);
                        let held = sql_steps::liquibase_precondition(
                            &session.client,
                            migration,
                            self.sources,
                        )
                        .await?;
                        if let Some(why) = held {
                            session.not_run.insert(id, why);
                            return Ok(Vec::new());
                        }
                    }
                    Phase::Downgrade => {}
                }
                let mut tracer = if observe.trace {
                    sql_steps::SqlTracer::start(&session.client).await
                } else {
                    None
                };
                sql_steps::run_sql(
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
            session.connections_lost();
        }
        result
    }

    /// What every fresh scratch database gets before the first revision: a schema per
    /// database of Alembic's multi-database template (the driver points each engine's
    /// `search_path` at its own), then the baseline, on a connection of its own: a dump's
    /// `set_config('search_path', '', false)` must not follow the tool's own session.
    pub(super) async fn prepare_scratch(&self, conninfo: &ConnInfo) -> Result<(), RoundtripError> {
        let schemas: String = self
            .alembic_ini()
            .map(|ini| ini.databases)
            .unwrap_or_default()
            .iter()
            .map(|name| {
                format!(
                    "CREATE SCHEMA IF NOT EXISTS {};",
                    crate::model::names::quote_identifier(name)
                )
            })
            .collect();
        let bookkeeping = bookkeeping_table(self.set.framework);
        if schemas.is_empty() && self.options.baseline.is_none() && bookkeeping.is_none() {
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
        if let Some(baseline) = &self.options.baseline {
            client.batch_execute(&baseline.sql).await.map_err(|e| {
                fail(format!(
                    "the baseline {} does not apply to an empty database: {}",
                    baseline.path.display(),
                    super::postgres::db_error(&e)
                ))
            })?;
        }
        // After the baseline, which may hold the table already (a dump of a real database).
        if let Some(table) = bookkeeping {
            client.batch_execute(table).await.map_err(|e| {
                fail(format!(
                    "cannot create the migration tool's version table: {}",
                    super::postgres::db_error(&e)
                ))
            })?;
        }
        Ok(())
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
}

/// The version table a SQL migration tool creates before running any migration: migrations
/// that read or alter it (harbor's 0030 adds a column to `schema_migrations`) find it as they
/// would in production. Alembic's driver makes Alembic's own.
fn bookkeeping_table(framework: Framework) -> Option<&'static str> {
    match framework {
        Framework::GolangMigrate => Some(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL)",
        ),
        Framework::Dbmate => {
            Some("CREATE TABLE IF NOT EXISTS schema_migrations (version varchar(128) PRIMARY KEY)")
        }
        Framework::Flyway => Some(
            "CREATE TABLE IF NOT EXISTS flyway_schema_history (installed_rank integer NOT NULL PRIMARY KEY, version varchar(50), description varchar(200) NOT NULL, type varchar(20) NOT NULL, script varchar(1000) NOT NULL, checksum integer, installed_by varchar(100) NOT NULL, installed_on timestamp NOT NULL DEFAULT now(), execution_time integer NOT NULL, success boolean NOT NULL)",
        ),
        // diesel/src/migration/setup_migration_table.sql
        Framework::Diesel => Some(
            "CREATE TABLE IF NOT EXISTS __diesel_schema_migrations (version varchar(50) PRIMARY KEY NOT NULL, run_on timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP)",
        ),
        Framework::Prisma => Some(
            "CREATE TABLE IF NOT EXISTS _prisma_migrations (id varchar(36) PRIMARY KEY NOT NULL, checksum varchar(64) NOT NULL, finished_at timestamptz, migration_name varchar(255) NOT NULL, logs text, rolled_back_at timestamptz, started_at timestamptz NOT NULL DEFAULT now(), applied_steps_count integer NOT NULL DEFAULT 0)",
        ),
        Framework::Goose => Some(
            "CREATE TABLE IF NOT EXISTS goose_db_version (id integer PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY, version_id bigint NOT NULL, is_applied boolean NOT NULL, tstamp timestamp NOT NULL DEFAULT now())",
        ),
        // sqlx-postgres/src/migrate.rs, ensure_migrations_table
        Framework::Sqlx => Some(
            "CREATE TABLE IF NOT EXISTS _sqlx_migrations (version bigint PRIMARY KEY, description text NOT NULL, installed_on timestamptz NOT NULL DEFAULT now(), success boolean NOT NULL, checksum bytea NOT NULL, execution_time bigint NOT NULL)",
        ),
        // gorp's table for sql-migrate's MigrationRecord (migrate.go, getMigrationDbMap).
        Framework::SqlMigrate => Some(
            "CREATE TABLE IF NOT EXISTS gorp_migrations (id varchar(255) NOT NULL PRIMARY KEY, applied_at timestamptz)",
        ),
        // drizzle-orm/src/pg-core/dialect.ts, migrate()
        Framework::Drizzle => Some(
            "CREATE SCHEMA IF NOT EXISTS drizzle; CREATE TABLE IF NOT EXISTS drizzle.__drizzle_migrations (id serial PRIMARY KEY, hash text NOT NULL, created_at bigint)",
        ),
        // supabase/cli pkg/migration/history.go, CreateMigrationTable
        Framework::Supabase => Some(
            "CREATE SCHEMA IF NOT EXISTS supabase_migrations; CREATE TABLE IF NOT EXISTS supabase_migrations.schema_migrations (version text NOT NULL PRIMARY KEY, statements text[], name text)",
        ),
        // ariga/atlas cmd/atlas/internal/migrate/ent/migrate/schema.go
        Framework::Atlas => Some(
            "CREATE SCHEMA IF NOT EXISTS atlas_schema_revisions; CREATE TABLE IF NOT EXISTS atlas_schema_revisions.atlas_schema_revisions (version varchar NOT NULL PRIMARY KEY, description varchar NOT NULL, type bigint NOT NULL DEFAULT 2, applied bigint NOT NULL DEFAULT 0, total bigint NOT NULL DEFAULT 0, executed_at timestamptz NOT NULL, execution_time bigint NOT NULL, error text, error_stmt text, hash varchar NOT NULL, partial_hashes jsonb, operator_version varchar NOT NULL)",
        ),
        // liquibase-standard sqlgenerator/core/CreateDatabaseChangeLogTableGenerator.java
        Framework::Liquibase => Some(
            "CREATE TABLE IF NOT EXISTS databasechangelog (id varchar(255) NOT NULL, author varchar(255) NOT NULL, filename varchar(255) NOT NULL, dateexecuted timestamp NOT NULL, orderexecuted integer NOT NULL, exectype varchar(10) NOT NULL, md5sum varchar(35), description varchar(255), comments varchar(255), tag varchar(255), liquibase varchar(20), contexts varchar(255), labels varchar(255), deployment_id varchar(10))",
        ),
        // Sqitch keeps its registry in a schema of its own (`sqitch`), on a connection of its
        // own: nothing a migration sees.
        Framework::Alembic | Framework::PlainSql | Framework::Sqitch => None,
    }
}
