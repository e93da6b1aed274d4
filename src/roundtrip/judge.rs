//! Judging one set: each revision in scope goes upgrade → downgrade → upgrade, with the
//! schema compared after each step.

use std::collections::BTreeSet;
use std::time::Instant;

use crate::diagnostic::{Diagnostic, RevisionResult, Status, StepResult, TracedStatement};
use crate::model::{BodyState, Framework, Migration, MigrationSet, Phase, Sources};
use crate::rules::roundtrip as findings;

use super::checkpoint::Expected;
use super::diff::{self, Comparison};
use super::interpreter::Interpreter;
use super::postgres::ConnInfo;
use super::runner::Observe;
use super::session::{Applier, Session};
use super::way_back::WayBack;
use super::{RoundtripError, RoundtripOptions, fail, reporting, seed, snapshot};

/// Where the next revision starts, after one was judged.
pub(super) enum Next {
    /// The database is where it starts; its schema, when known.
    Go(Option<snapshot::Snapshot>),
    /// A step failed, and may have left the database where it was: if it did, the next
    /// revision starts there; else the database is rebuilt.
    Check(Expected),
    Rebuild,
}

impl Next {
    /// The revision should still be applied, with the schema its upgrade left: a failed
    /// downgrade's transaction, a declared irreversible one, or a second upgrade failing on what
    /// a downgrade that did nothing left.
    fn still_applied(schema: snapshot::Snapshot, revision: String) -> Next {
        Next::Check(Expected {
            schema,
            revision,
            applied: true,
        })
    }
}

/// How a downgrade or second upgrade ended.
enum Stepped {
    /// The step ran; the schema it left, and whether it is the one expected.
    Done(snapshot::Snapshot, bool),
    /// The step failed (recorded and reported); a step stopped at the time limit left the
    /// database in no known state.
    Failed { timed_out: bool },
    /// A downgrade that failed as declared; the revision's note.
    Irreversible(String),
}

/// What the first upgrade was seen doing.
#[derive(Clone)]
struct Observed {
    trace: Vec<TracedStatement>,
    capture: super::runner::Capture,
}

pub(super) struct Judge<'a> {
    pub(super) options: &'a RoundtripOptions,
    pub(super) sources: &'a Sources,
    pub(super) set: &'a MigrationSet,
    pub(super) scope: &'a Option<Vec<crate::model::FileId>>,
    pub(super) diagnostics: Vec<Diagnostic>,
    pub(super) results: Vec<RevisionResult>,
}

fn millis(since: Instant) -> u64 {
    since.elapsed().as_millis() as u64
}

impl<'a> Judge<'a> {
    /// Revisions in apply order, each once.
    fn order(&self) -> Vec<&'a Migration> {
        crate::model::graph::RevisionGraph::build(self.set).apply_order(self.set)
    }

    pub(super) fn id(migration: &Migration) -> String {
        migration.revision_id().unwrap_or("?").to_string()
    }

    pub(super) fn in_scope(&self, order: &[&Migration], index: usize) -> bool {
        let migration = order[index];
        if self
            .scope
            .as_ref()
            .is_some_and(|files| !files.contains(&migration.file))
        {
            return false;
        }
        self.in_range(order, index)
    }

    /// Within `--from` and `--to`.
    fn in_range(&self, order: &[&Migration], index: usize) -> bool {
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

    /// Indexes into `order` of the revisions REF does not have, within --from/--to and this
    /// shard.
    fn judged_beyond(&self, order: &[&Migration], on_base: &BTreeSet<String>) -> Vec<usize> {
        let new: Vec<usize> = (0..order.len())
            .filter(|&i| {
                order[i]
                    .revision_id()
                    .is_none_or(|id| !on_base.contains(id))
            })
            .filter(|&i| self.in_range(order, i))
            .collect();
        match self.options.shard {
            Some(shard) => shard.slice(&new).to_vec(),
            None => new,
        }
    }

    /// Indexes into `order` of the revisions to judge: in scope, and in this shard.
    pub(super) fn judged(&self, order: &[&Migration]) -> Vec<usize> {
        let in_scope: Vec<usize> = (0..order.len())
            .filter(|&i| self.in_scope(order, i))
            .collect();
        match self.options.shard {
            Some(shard) => shard.slice(&in_scope).to_vec(),
            None => in_scope,
        }
    }

    /// Judges the set's revisions in scratch databases on `admin`'s server; `interpreter`, the
    /// Alembic driver's process when it was started ahead of the server.
    pub(super) async fn run_set(
        &mut self,
        admin: &ConnInfo,
        interpreter: Option<Interpreter>,
    ) -> Result<(), RoundtripError> {
        let order = self.order();
        let mut compat = self.prepare_compat();
        // Proving a deploy, the schema starts at REF's head: REF's revisions are applied, the
        // others judged, whatever files the branch touched.
        let judged = match compat.as_ref().filter(|c| !c.on_base.is_empty()) {
            Some(compat) => self.judged_beyond(&order, &compat.on_base),
            None => self.judged(&order),
        };
        let Some(&first) = judged.first() else {
            return Ok(());
        };
        let mut session = self.open(admin, interpreter).await?;
        if self.compares_models()
            && let Applier::Alembic(driver) = &mut session.applier
        {
            driver.keep_spare();
        }
        self.report_start_note(&session);
        // Revisions before the first judged one are only applied, in one go.
        let mut dirty = first > 0
            && !self
                .rebuild(&mut session, &order, Some(first - 1), &BTreeSet::new())
                .await?;
        if dirty {
            Self::close(session).await?;
            return Err(fail(format!(
                "the revisions before `{}` do not apply cleanly; run without --from/--base to see which",
                Self::id(order[first])
            )));
        }
        if let Some(compat) = compat.as_mut() {
            self.compat_baseline(compat, &mut session).await;
        }
        let mut unreachable: BTreeSet<String> = BTreeSet::new();
        let mut known: Option<snapshot::Snapshot> = None;
        let mut check: Option<Expected> = None;
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
                self.finish(
                    judged.len(),
                    RevisionResult {
                        set: self.set.root.clone(),
                        revision: id,
                        path,
                        status: Status::Skipped,
                        millis: 0,
                        steps: Vec::new(),
                        note: Some("skipped: it builds on a revision whose upgrade failed".into()),
                        trace: Vec::new(),
                        sql: Vec::new(),
                        sql_incomplete: false,
                        sql_transactions: false,
                    },
                );
                continue;
            }
            if let Some(expected) = check.take().filter(|_| dirty)
                && self.still_at(&mut session, &expected).await?
            {
                dirty = false;
                known = Some(expected.schema);
            }
            if dirty {
                let reached = self
                    .rebuild(&mut session, &order, index.checked_sub(1), &unreachable)
                    .await?;
                dirty = false;
                if !reached {
                    unreachable.insert(id.clone());
                    self.finish(
                        judged.len(),
                        RevisionResult {
                            set: self.set.root.clone(),
                            revision: id,
                            path,
                            status: Status::Skipped,
                            millis: 0,
                            steps: Vec::new(),
                            note: Some(
                                "skipped: the history before it could not be rebuilt".into(),
                            ),
                            trace: Vec::new(),
                            sql: Vec::new(),
                            sql_incomplete: false,
                            sql_transactions: false,
                        },
                    );
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
            let outcome = self
                .judge(
                    &mut session,
                    migration,
                    &mut unreachable,
                    start,
                    compat.as_mut(),
                )
                .await;
            let (result, next) = match outcome {
                Ok(outcome) => outcome,
                Err(error) => {
                    let _ = Self::close(session).await;
                    return Err(error);
                }
            };
            (dirty, known, check) = match next {
                Next::Go(schema) => (false, schema, None),
                Next::Check(expected) => (true, None, Some(expected)),
                Next::Rebuild => (true, None, None),
            };
            self.finish(judged.len(), result);
        }
        if let Some(head) = order.last() {
            let started = Instant::now();
            self.compare_models(&mut session, head).await;
            super::profile::add("model comparison", started);
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
        compat: Option<&mut super::compat::Compat>,
    ) -> Result<(RevisionResult, Next), RoundtripError> {
        let started = Instant::now();
        let id = Self::id(migration);
        let mut steps = Vec::new();
        if self.options.seed_rows > 0 {
            let seeding = Instant::now();
            let problems = seed::fill(&session.client, self.options.seed_rows).await;
            super::profile::add("seeding", seeding);
            for problem in problems {
                if std::env::var_os("MIGRATION_GATE_DEBUG").is_some() {
                    eprintln!("seed: {problem}");
                }
            }
        }
        let before = match known {
            Some(snapshot) => snapshot,
            None => session.snapshot().await?,
        };

        let t = Instant::now();
        let observe = Observe {
            trace: self.options.trace_locks,
            capture: true,
        };
        let first = self
            .step_observed(session, migration, Phase::Upgrade, observe)
            .await;
        let trace = match first {
            Ok(trace) => trace,
            Err(failure) => {
                if let Some(error) = reporting::fatal(&failure) {
                    return Err(error);
                }
                self.failed_step(&mut steps, "upgrade", t, migration, &failure);
                let result = self.result(migration, Status::Failed, steps, started);
                // A failed upgrade's transaction leaves the database as it was.
                let next = if failure.timed_out {
                    Next::Rebuild
                } else {
                    Next::Check(Expected {
                        schema: before,
                        revision: id.clone(),
                        applied: false,
                    })
                };
                unreachable.insert(id);
                return Ok((result, next));
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
        let stepped = Instant::now();
        let (upgraded, versions) = session.snapshot_after_step().await?;
        if let Some(failure) =
            self.verify_version_table(session, migration, Phase::Upgrade, versions)?
        {
            self.failed_step(&mut steps, "upgrade", t, migration, &failure);
            unreachable.insert(id);
            let result = self.result(migration, Status::Failed, steps, started);
            return Ok((result, Next::Rebuild));
        }
        // The deploy's other version against this revision's schema: a step of its own, timed.
        let compat_step = match compat {
            Some(compat) => {
                let probed = Instant::now();
                let status = self.compat_after(compat, session, migration).await;
                status.map(|status| (status, probed, Instant::now()))
            }
            None => None,
        };
        self.report_trace(migration, &trace);
        let capture = match &session.applier {
            Applier::Alembic(driver) => Some(driver.last_capture.clone()),
            Applier::Sql => None,
        };
        // A merge revision is empty by design: it joins branches, and the version table moving
        // is all it does.
        let empty_merge =
            migration.parents.len() > 1 && migration.upgrade.state == BodyState::Empty;
        let not_run = session.not_run.get(&Self::id(migration)).cloned();
        let ran_nothing = !empty_merge
            && match &capture {
                Some(capture) => capture.statements == 0,
                None => migration.upgrade.state == BodyState::Empty || not_run.is_some(),
            };
        let mut notes = Vec::new();
        if ran_nothing {
            notes.push(self.report_ran_nothing(migration, not_run));
        }
        if let Some(capture) = capture.as_ref().filter(|c| c.incomplete) {
            notes.push(format!(
                "its SQL was captured only in part ({} statements kept): the run's budget of {} MiB for captured SQL ran out, so the rules on executed SQL did not read it",
                capture.sql.len(),
                super::runner::CAPTURE_BUDGET / (1024 * 1024)
            ));
        }
        let observed = Observed {
            trace,
            capture: capture.unwrap_or_default(),
        };
        let upgrade_status = if ran_nothing {
            Status::RanNothing
        } else {
            Status::Passed
        };
        record_until(&mut steps, "upgrade", upgrade_status, t, stepped);
        if let Some((status, probed, done)) = compat_step {
            record_until(&mut steps, "deploy-compatibility", status, probed, done);
        }
        let finish = |judge: &Self, steps, status: Status, notes: &[String]| {
            let status = match status {
                Status::Passed | Status::Irreversible if ran_nothing => Status::RanNothing,
                other => other,
            };
            let mut result = judge.result(migration, status, steps, started);
            result.note = (!notes.is_empty()).then(|| notes.join("; "));
            result.trace = observed.trace.clone();
            result.sql = observed.capture.sql.clone();
            result.sql_incomplete = observed.capture.incomplete;
            result.sql_transactions = observed.capture.transactions_known;
            result
        };

        if let WayBack::UpgradeOnly(why) = self.way_back(migration) {
            record(&mut steps, "downgrade", Status::Skipped, Instant::now());
            notes.insert(0, why);
            let result = finish(self, steps, Status::Passed, &notes);
            return Ok((result, Next::Go(Some(upgraded))));
        }
        let restored = match self
            .step_then_compare(
                session,
                migration,
                &mut steps,
                &before,
                Comparison::AfterDowngrade,
            )
            .await?
        {
            Stepped::Done(_, agree) => agree,
            // A failed downgrade's transaction leaves the revision applied: the next one's
            // start. So does one that raised as declared.
            Stepped::Failed { timed_out: true } => {
                let result = finish(self, steps, Status::Failed, &notes);
                return Ok((result, Next::Rebuild));
            }
            Stepped::Failed { timed_out: false } => {
                let result = finish(self, steps, Status::Failed, &notes);
                return Ok((result, Next::still_applied(upgraded, id)));
            }
            Stepped::Irreversible(note) => {
                self.report_irreversible(migration, &note);
                notes.insert(0, note);
                let result = finish(self, steps, Status::Irreversible, &notes);
                return Ok((result, Next::still_applied(upgraded, id)));
            }
        };
        let (reupgraded, repeatable) = match self
            .step_then_compare(
                session,
                migration,
                &mut steps,
                &upgraded,
                Comparison::AfterReupgrade,
            )
            .await?
        {
            Stepped::Done(snapshot, agree) => (snapshot, agree),
            // A failed second upgrade's transaction leaves what the downgrade left: when that
            // is the upgraded schema (a downgrade that did nothing), the next revision can start
            // there once the version table is stamped.
            Stepped::Failed { timed_out: false } => {
                let result = finish(self, steps, Status::Failed, &notes);
                return Ok((result, Next::still_applied(upgraded, id)));
            }
            Stepped::Failed { timed_out: true } | Stepped::Irreversible(_) => {
                let result = finish(self, steps, Status::Failed, &notes);
                return Ok((result, Next::Rebuild));
            }
        };
        let clean = restored && repeatable;
        let status = if clean {
            Status::Passed
        } else {
            Status::Failed
        };
        let result = finish(self, steps, status, &notes);
        // After the second upgrade the schema is the next revision's starting point when it is
        // the first upgrade's, whatever the downgrade left in between.
        let next = if repeatable {
            Next::Go(Some(reupgraded))
        } else {
            Next::Rebuild
        };
        Ok((result, next))
    }

    /// The downgrade (compared with the schema before the upgrade) or the second upgrade
    /// (compared with the first upgrade's schema): the schema it left and whether it matches;
    /// or that the step failed (already recorded and reported), or that the downgrade failed
    /// as the revision declares it will.
    async fn step_then_compare(
        &mut self,
        session: &mut Session,
        migration: &Migration,
        steps: &mut Vec<StepResult>,
        expected: &snapshot::Snapshot,
        comparison: Comparison,
    ) -> Result<Stepped, RoundtripError> {
        let (phase, step) = match comparison {
            Comparison::AfterDowngrade => (Phase::Downgrade, "downgrade"),
            _ => (Phase::Upgrade, "reupgrade"),
        };
        let t = Instant::now();
        if let Err(failure) = self.step(session, migration, phase).await {
            if let Some(error) = reporting::fatal(&failure) {
                return Err(error);
            }
            if phase == Phase::Downgrade
                && let Some(note) = self.accepted_irreversible(migration, &failure)
            {
                record(steps, step, Status::Irreversible, t);
                return Ok(Stepped::Irreversible(note));
            }
            self.failed_step(steps, step, t, migration, &failure);
            return Ok(Stepped::Failed {
                timed_out: failure.timed_out,
            });
        }
        let snapshot_started = Instant::now();
        let (actual, versions) = session.snapshot_after_step().await?;
        if let Some(failure) = self.verify_version_table(session, migration, phase, versions)? {
            self.failed_step(steps, step, t, migration, &failure);
            return Ok(Stepped::Failed { timed_out: false });
        }
        record_until(steps, step, Status::Passed, t, snapshot_started);
        let agree = self.compared(
            steps,
            snapshot_started,
            migration,
            (expected, &actual),
            comparison,
        );
        Ok(Stepped::Done(actual, agree))
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

    /// Records a revision's result and, unless quiet, says so on stderr as soon as it is known:
    /// a long history shows its progress instead of minutes of silence.
    fn finish(&mut self, total: usize, result: RevisionResult) {
        if self.options.progress {
            let failed_step = result
                .steps
                .iter()
                .find(|s| s.status == Status::Failed)
                .map(|s| format!(" at {}", s.step))
                .unwrap_or_default();
            eprintln!(
                "[{}/{total}] {} {}{failed_step} ({} ms){}",
                self.results.len() + 1,
                result.revision,
                result.status.label(),
                result.millis,
                result
                    .note
                    .as_deref()
                    .map(|n| format!(": {}", n.trim_start_matches("skipped: ")))
                    .unwrap_or_default()
            );
        }
        self.results.push(result);
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
            sql: Vec::new(),
            sql_incomplete: false,
            sql_transactions: false,
        }
    }
}

pub(super) fn record(
    steps: &mut Vec<StepResult>,
    step: &'static str,
    status: Status,
    since: Instant,
) {
    record_until(steps, step, status, since, Instant::now());
}

/// A step that ended before the snapshot read with its check.
fn record_until(
    steps: &mut Vec<StepResult>,
    step: &'static str,
    status: Status,
    since: Instant,
    until: Instant,
) {
    steps.push(StepResult {
        step,
        status,
        millis: u64::try_from(until.duration_since(since).as_millis()).unwrap_or(u64::MAX),
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
