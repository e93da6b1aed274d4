//! Model parity: once the history is applied to head, env.py's `target_metadata` is compared
//! with the scratch database through Alembic's autogenerate comparison (what `alembic check`
//! does), and each difference becomes a `roundtrip-model-drift` finding on the head revision.

use crate::diagnostic::{Diagnostic, Origin, Severity};
use crate::model::{Framework, Migration};
use crate::rules::roundtrip as findings;

use super::judge::Judge;
use super::runner::ModelComparison;
use super::session::{Applier, Session};

impl Judge<'_> {
    /// Whether the run ends with the model comparison: an Alembic set judged to its end.
    pub(super) fn compares_models(&self) -> bool {
        let earlier_shard = self.options.shard.is_some_and(|shard| !shard.is_last());
        self.set.framework == Framework::Alembic && self.options.to.is_none() && !earlier_shard
    }

    /// Runs when the history was judged to its end (no `--to`, the last `--shard`), on the
    /// database left at head.
    pub(super) async fn compare_models(&mut self, session: &mut Session, head: &Migration) {
        if !self.compares_models() {
            return;
        }
        let Applier::Alembic(driver) = &mut session.applier else {
            return;
        };
        let limit = self.options.step_timeout;
        let report = |message: String, severity: Severity| {
            let mut diagnostic =
                Diagnostic::new(&findings::MODEL_DRIFT, head.revision_span, message);
            diagnostic.severity = severity;
            diagnostic.revision = head.revision_id().map(str::to_string);
            diagnostic.origin = Origin::Roundtrip;
            diagnostic
        };
        // Every branch at its head: the models describe the whole schema. When a head does not
        // upgrade, the models are compared where the history stops: differences there may be
        // the failing revisions' own, so they are warnings, and a note says where.
        let mut below_head = None;
        if let Err(failure) = driver.upgrade("heads", limit, Default::default()).await {
            match session.snapshot_after_step().await {
                Ok((_, Some(versions))) if !versions.is_empty() => {
                    below_head = Some(versions.join("`, `"));
                }
                _ => {
                    self.diagnostics.push(report(
                        format!(
                            "the models were not compared: the history does not upgrade to its head ({})",
                            failure.message
                        ),
                        Severity::Note,
                    ));
                    return;
                }
            }
        }
        let Applier::Alembic(driver) = &mut session.applier else {
            return;
        };
        // `alembic check` runs in a process of its own: the models are compared as env.py
        // imports them, not as revisions left them in this one (a `metadata.reflect()`).
        driver.fresh_process().await;
        match driver.compare_models(limit).await {
            Ok(ModelComparison::Differences(mut differences)) => {
                // Alembic compares tables in set order, which differs from run to run: sorted,
                // a report (and the PR comment it updates) says the same thing each time.
                differences.sort();
                if let Some(at) = &below_head {
                    self.diagnostics.push(report(
                        format!(
                            "the history does not upgrade to its head: the models were compared with the schema at `{at}`, the last revision whose upgrade passed"
                        ),
                        Severity::Note,
                    ));
                }
                for difference in differences {
                    let (difference, severity) = match &below_head {
                        Some(at) => (format!("at `{at}`: {difference}"), Severity::Warning),
                        None => (difference, Severity::Error),
                    };
                    self.diagnostics.push(
                        report(difference, severity).with_help(
                            "generate the missing revision (`alembic revision --autogenerate`) and review it; differences env.py means to ignore belong in its `include_object`",
                        ),
                    );
                }
            }
            Ok(ModelComparison::NoMetadata) => self.diagnostics.push(report(
                if self.options.standalone {
                    "under --standalone the generated env.py has no `target_metadata`: the models were not compared with the schema the migrations build (name them with `[roundtrip] metadata = \"app.models:Base.metadata\"`)".into()
                } else {
                    "env.py configures no `target_metadata`: the models were not compared with the schema the migrations build".into()
                },
                Severity::Note,
            )),
            Err(failure) => self.diagnostics.push(report(
                format!(
                    "the models could not be compared with the schema: {}",
                    failure.message
                ),
                Severity::Note,
            )),
        }
    }
}
