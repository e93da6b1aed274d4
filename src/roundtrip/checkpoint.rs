//! Getting back to a good state after a failure without replaying the whole history. Most
//! failures leave the database as it was (the step's transaction was rolled back): checked,
//! and the run goes on. The others are restored from a checkpoint, a copy of the scratch
//! database at a known state (`CREATE DATABASE … TEMPLATE`), and only the revisions since are
//! applied again; the state a rebuild reaches becomes the next checkpoint.

use std::collections::BTreeSet;

use crate::model::{Framework, Migration, Phase};

use super::catalog::Catalog;
use super::diff::{self, Comparison};
use super::judge::Judge;
use super::postgres::ScratchDatabase;
use super::session::{Applier, Session, applied_heads};
use super::{RoundtripError, fail, reporting, snapshot};

/// Revisions a rebuild must have applied again before the state it reaches is worth a copy:
/// a copy costs about as much as applying this many.
const WORTH_A_CHECKPOINT: usize = 25;

/// A copy of the scratch database holding `order[..=upto]` applied, as a rebuild leaves it.
pub(super) struct Checkpoint {
    database: ScratchDatabase,
    upto: Option<usize>,
}

impl Checkpoint {
    pub(super) async fn drop_database(mut self) {
        let _ = self.database.drop_database().await;
    }
}

/// Where the database should be after a failed step, when the step may have left it there.
pub(super) struct Expected {
    pub(super) schema: snapshot::Snapshot,
    /// The revision whose upgrade is applied there (`Some(true)`) or not (`Some(false)`), as
    /// the version table says; `None` for SQL sets, which have no version table to read.
    pub(super) revision: String,
    pub(super) applied: bool,
}

impl Judge<'_> {
    /// Whether the database is where `expected` says, schema and version table: then the
    /// failed step changed nothing that stayed, and nothing needs rebuilding.
    pub(super) async fn still_at(
        &self,
        session: &mut Session,
        expected: &Expected,
    ) -> Result<bool, RoundtripError> {
        let started = std::time::Instant::now();
        let (now, versions) = session.snapshot_after_step().await?;
        let schema_agrees =
            diff::differences(&expected.schema, &now, Comparison::AfterReupgrade).is_empty();
        let versions_agree =
            versions.is_none_or(|v| v.contains(&expected.revision) == expected.applied);
        let mut same = schema_agrees && versions_agree;
        // A downgrade that changed nothing but the version table, then a second upgrade that
        // failed on what the downgrade left: the schema is the upgraded one, only the version
        // table lags. Stamping it (as a user would) is the upgraded state, without a rebuild.
        if schema_agrees
            && !versions_agree
            && expected.applied
            && let Applier::Alembic(driver) = &mut session.applier
        {
            let target = [expected.revision.clone()];
            same = driver
                .stamp(&target, self.options.step_timeout)
                .await
                .is_ok();
        }
        super::profile::add("state check after a failure", started);
        Ok(same)
    }

    /// A scratch database with `order[..=upto]` applied (their upgrades, as the framework
    /// would, less the revisions in `skip`), for judging the next revision on its own after a
    /// failure: from the checkpoint when there is one below `upto`, else from an empty
    /// database. False when a revision on the way does not apply.
    pub(super) async fn rebuild(
        &self,
        session: &mut Session,
        order: &[&Migration],
        upto: Option<usize>,
        skip: &BTreeSet<String>,
    ) -> Result<bool, RoundtripError> {
        let started = std::time::Instant::now();
        let restored_at = match &session.checkpoint {
            Some(checkpoint) if checkpoint.upto <= upto => {
                session.scratch.recreate_from(&checkpoint.database).await?;
                Some(checkpoint.upto)
            }
            _ => {
                session.scratch.recreate().await?;
                None
            }
        };
        self.reconnect(session).await?;
        session.database_replaced();
        if restored_at.is_none() {
            self.prepare_scratch(&session.scratch.conninfo).await?;
        }
        super::profile::add("rebuild: a fresh or restored database", started);
        let Some(upto) = upto else {
            return Ok(true);
        };
        let mut base = 0;
        if let Some(first) = self.stamped_before(order) {
            if restored_at.is_none()
                && let Applier::Alembic(driver) = &mut session.applier
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
            base = first;
        }
        let from = restored_at.flatten().map_or(base, |at| (at + 1).max(base));
        let started = std::time::Instant::now();
        let targets: Vec<&Migration> = match self.set.framework {
            // Every branch applied so far, not only the one `order[upto]` is on: a merge
            // judged next must find all of its parents' schema in place. Alembic applies what
            // each head lacks, and nothing the restored database has.
            Framework::Alembic => applied_heads(&order[base..=upto], skip),
            _ => order[from.min(upto + 1)..=upto].to_vec(),
        };
        for target in targets {
            if let Err(failure) = self.step(session, target, Phase::Upgrade).await {
                if let Some(error) = reporting::fatal(&failure) {
                    return Err(error);
                }
                return Ok(false);
            }
        }
        super::profile::add("rebuild: applying the history again", started);
        let replayed = (upto + 1).saturating_sub(from);
        // MIGRATION_GATE_CHECKPOINT_AFTER=N: a checkpoint after N revisions applied again (the
        // tests check that restoring from one finds what replaying finds).
        let worth = std::env::var("MIGRATION_GATE_CHECKPOINT_AFTER")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(WORTH_A_CHECKPOINT);
        if replayed >= worth {
            self.checkpoint(session, Some(upto)).await?;
        }
        Ok(true)
    }

    /// Copies the scratch database as it is now, holding `order[..=upto]`.
    async fn checkpoint(
        &self,
        session: &mut Session,
        upto: Option<usize>,
    ) -> Result<(), RoundtripError> {
        let started = std::time::Instant::now();
        let copy = session.scratch.sibling();
        session.scratch.copy_to(&copy).await?;
        self.reconnect(session).await?;
        let replaced = session.checkpoint.replace(Checkpoint {
            database: copy,
            upto,
        });
        if let Some(old) = replaced {
            old.drop_database().await;
        }
        super::profile::add("checkpoint", started);
        Ok(())
    }

    /// The scratch database's sessions were ended: the tool's own connection and catalog
    /// queries anew, and the driver told to reconnect.
    async fn reconnect(&self, session: &mut Session) -> Result<(), RoundtripError> {
        session.connections_lost();
        session.client = self
            .connect_scratch(&session.scratch.conninfo)
            .await
            .map_err(|e| fail(format!("cannot connect to the scratch database: {e}")))?;
        session.catalog = Catalog::prepare(&session.client).await?;
        Ok(())
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
}
