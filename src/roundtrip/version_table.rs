//! After an Alembic step the scratch database's version table must have moved with it: how
//! the round trip knows a step ran where it should and stayed.

use crate::model::{Migration, Phase};

use super::judge::Judge;
use super::runner::{self, StepFailure};
use super::session::{Applier, Session};
use super::{RoundtripError, fail};

/// The tables holding an Alembic version, whatever their name and schema (`version_table` /
/// `version_table_schema` in env.py). The catalogs directly: information_schema's views cost
/// a millisecond a step.
pub(super) const VERSION_TABLES: &str = "SELECT format('%I.%I', n.nspname, c.relname)
     FROM pg_attribute a
     JOIN pg_class c ON c.oid = a.attrelid
     JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE a.attname = 'version_num' AND NOT a.attisdropped AND c.relkind IN ('r', 'p')
       AND n.nspname NOT IN ('pg_catalog', 'information_schema')";

/// Every revision the scratch database's Alembic version tables list, and those tables. The
/// tables found last time are read while the catalogs are asked which tables there are: one
/// round trip, unless they changed.
pub(super) async fn alembic_versions(
    client: &tokio_postgres::Client,
    find_tables: &tokio_postgres::Statement,
    known_tables: &[String],
) -> (Vec<String>, Vec<String>) {
    async fn read(client: &tokio_postgres::Client, tables: &[String]) -> Vec<String> {
        if tables.is_empty() {
            return Vec::new();
        }
        let union = tables
            .iter()
            .map(|table| format!("SELECT version_num::text FROM {table}"))
            .collect::<Vec<_>>()
            .join(" UNION ALL ");
        let Ok(messages) = client.simple_query(&union).await else {
            return Vec::new();
        };
        messages
            .iter()
            .filter_map(|message| match message {
                tokio_postgres::SimpleQueryMessage::Row(row) => row.get(0).map(str::to_string),
                _ => None,
            })
            .collect()
    }
    let (tables, guessed) =
        futures_util::future::join(client.query(find_tables, &[]), read(client, known_tables))
            .await;
    let tables: Vec<String> = tables
        .unwrap_or_default()
        .iter()
        .map(|row| row.get(0))
        .collect();
    if tables == known_tables {
        return (guessed, tables);
    }
    let versions = read(client, &tables).await;
    (versions, tables)
}

impl Judge<'_> {
    /// After an Alembic step the version table of the scratch database must have moved with
    /// it. When it did not, either env.py ran the revision against another database (it builds
    /// its own URL): nothing this run could say about the scratch database would be true, so
    /// the run stops; or the revision's statements ran here but were not kept (the revision
    /// ended Alembic's transaction itself): a failure of that step, returned for reporting.
    /// `versions` is what the version tables listed right after the step (`None` for SQL
    /// migrations, whose runner keeps its own table).
    pub(super) fn verify_version_table(
        &self,
        session: &Session,
        migration: &Migration,
        phase: Phase,
        versions: Option<Vec<String>>,
    ) -> Result<Option<StepFailure>, RoundtripError> {
        let Some(versions) = versions else {
            return Ok(None);
        };
        let id = Self::id(migration);
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
        let Applier::Alembic(driver) = &session.applier else {
            return Ok(None);
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
            "the {step} of `{id}` reported success, but the scratch database's version table did not move (it lists {listed}): env.py ran the revision {target}. {POINT_ENV_PY_AT_SCRATCH}. No revision was judged on a database other than the scratch one."
        )))
    }
}

/// How env.py is made to work on the scratch database, for every way it can miss it.
pub(super) const POINT_ENV_PY_AT_SCRATCH: &str = "migration-gate gives env.py the scratch database as `sqlalchemy.url`, as DATABASE_URL and MIGRATION_GATE_DATABASE_URL, and as `-x url=...`; make env.py take its URL from one of them (`config.get_main_option(\"sqlalchemy.url\")`) rather than building its own, or name the variable or option it reads in `[roundtrip] url-env` / `url-option`; when it assembles the URL from variables of its own, fill them from the scratch database in the config (`[roundtrip.env]` `POSTGRES_DB = \"{database}\"`, with {host}, {port}, {user}, {password}, {url}); or run with --standalone";

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
