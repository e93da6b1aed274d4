//! What a session reads from the scratch database's catalogs after each step: the schema
//! (only what changed since the last snapshot, where the change log allows) and the Alembic
//! version tables.

use std::time::Instant;

use super::postgres::db_error;
use super::version_table::{VERSION_TABLES, alembic_versions};
use super::{RoundtripError, fail, profile, snapshot};

/// The catalog queries, prepared on the session's connection, and what they read last.
pub(super) struct Catalog {
    schema: snapshot::Prepared,
    find_version_tables: tokio_postgres::Statement,
    /// The last snapshot of this database: the next one reads only what changed since.
    last_snapshot: Option<snapshot::Snapshot>,
    /// The Alembic version tables found at the last check.
    version_tables: Vec<String>,
}

impl Catalog {
    /// Installs the change log the snapshots read (where the server lets us) and prepares the
    /// queries, on a fresh scratch database.
    pub(super) async fn prepare(
        client: &tokio_postgres::Client,
    ) -> Result<Catalog, RoundtripError> {
        let with_log = snapshot::install_change_log(client).await;
        // Custom plans would plan the per-owner snapshot queries again on every run, which
        // costs ten times running them (PostgreSQL 12 and later; older servers keep custom).
        let _ = client
            .batch_execute("SET plan_cache_mode = force_generic_plan")
            .await;
        let (schema, find_version_tables) =
            futures_util::future::try_join(snapshot::prepare(client, with_log), async {
                client
                    .prepare(VERSION_TABLES)
                    .await
                    .map_err(|e| fail(format!("reading the version tables: {}", db_error(&e))))
            })
            .await?;
        Ok(Catalog {
            schema,
            find_version_tables,
            last_snapshot: None,
            version_tables: Vec::new(),
        })
    }

    /// The schema now.
    pub(super) async fn snapshot(
        &mut self,
        client: &tokio_postgres::Client,
    ) -> Result<snapshot::Snapshot, RoundtripError> {
        let started = Instant::now();
        let taken = snapshot::take_after(client, &self.schema, self.last_snapshot.as_ref()).await?;
        profile::add("snapshot", started);
        self.last_snapshot = Some(taken.clone());
        Ok(taken)
    }

    /// The schema right after a step and, for Alembic, what its version tables list, read in
    /// one round trip: asked on its own, the version check cost a third of a snapshot.
    pub(super) async fn after_step(
        &mut self,
        client: &tokio_postgres::Client,
        alembic: bool,
    ) -> Result<(snapshot::Snapshot, Option<Vec<String>>), RoundtripError> {
        if !alembic {
            return Ok((self.snapshot(client).await?, None));
        }
        let started = Instant::now();
        let ((versions, tables), taken) = futures_util::future::join(
            alembic_versions(client, &self.find_version_tables, &self.version_tables),
            snapshot::take_after(client, &self.schema, self.last_snapshot.as_ref()),
        )
        .await;
        let taken = taken?;
        profile::add("snapshot and version tables", started);
        self.version_tables = tables;
        self.last_snapshot = Some(taken.clone());
        Ok((taken, Some(versions)))
    }
}
