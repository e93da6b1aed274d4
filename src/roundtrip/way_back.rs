//! What a revision's round trip can prove besides its upgrade: whether it has a way back to
//! run, whether its upgrade did anything at all, and whether a failing downgrade is one its
//! author declared (or the project accepts) rather than a defect.

use crate::diagnostic::Diagnostic;
use crate::model::{BodyState, Framework, Migration, MigrationSet, Phase, Span};
use crate::rules::roundtrip as findings;

use super::judge::Judge;
use super::runner::{FailureCause, StepFailure};

/// Whether the downgrade is run.
pub(super) enum WayBack {
    /// Downgrade, compare, upgrade again, compare.
    Prove,
    /// Only the upgrade is proven, for the reason given (the revision's note).
    UpgradeOnly(String),
}

/// A history none of whose revisions has a downgrade to run (forward-only by policy): every
/// downgrade is missing, empty or raises.
pub(super) fn forward_only(set: &MigrationSet) -> bool {
    set.framework == Framework::Alembic
        && !set.migrations.is_empty()
        && set
            .migrations
            .iter()
            .all(|m| m.downgrade.state != BodyState::Code)
}

impl Judge<'_> {
    pub(super) fn way_back(&self, migration: &Migration) -> WayBack {
        if self.options.upgrade_only {
            return WayBack::UpgradeOnly("upgrade only (--upgrade-only)".into());
        }
        if forward_only(self.set) {
            return WayBack::UpgradeOnly(
                "upgrade only: no revision of this history has a downgrade".into(),
            );
        }
        match (self.set.framework, &migration.downgrade.state) {
            // SQL migrations without a down script (plain folders, Flyway without undo, a
            // missing .down.sql that `check` reports) can only be proven to apply.
            (Framework::Alembic, BodyState::Missing) => {
                WayBack::UpgradeOnly("no downgrade(): only the upgrade was checked".into())
            }
            (Framework::Alembic, _) => WayBack::Prove,
            (_, BodyState::Missing | BodyState::NotApplicable) => {
                WayBack::UpgradeOnly("no down script: only the upgrade was checked".into())
            }
            _ => WayBack::Prove,
        }
    }

    /// A failing downgrade that is no defect: one whose body starts by raising, or that raised
    /// Python's NotImplementedError (in the body or a helper it calls: the convention for "not
    /// done on purpose"), without a word from the database — the author declared the revision
    /// irreversible; or one of a revision the config lists under `irreversible`. The
    /// revision's note, or `None` for a real failure.
    pub(super) fn accepted_irreversible(
        &self,
        migration: &Migration,
        failure: &StepFailure,
    ) -> Option<String> {
        let id = Self::id(migration);
        let raised_on_purpose = (migration.downgrade.state == BodyState::Raises
            || failure.kind == "NotImplementedError")
            && failure.cause == FailureCause::Revision
            && failure.sqlstate.is_none()
            && !failure.timed_out;
        if raised_on_purpose {
            return Some(format!(
                "irreversible (declared): its downgrade raises {}",
                failure.kind
            ));
        }
        if self.options.irreversible.contains(&id) {
            return Some(format!(
                "irreversible (accepted in [roundtrip] irreversible): its downgrade fails: {}",
                Self::describe(failure)
            ));
        }
        None
    }

    /// A note for an upgrade that sent no SQL at all, naming what stopped it where the file
    /// tells (`not_run`: why its framework did not run it here): nothing was proven, and it is
    /// not counted as passed.
    pub(super) fn report_ran_nothing(
        &mut self,
        migration: &Migration,
        not_run: Option<String>,
    ) -> String {
        let upgrade = &migration.upgrade;
        let (span, why) = match (
            self.set.framework,
            &upgrade.state,
            &upgrade.early_returns[..],
        ) {
            (Framework::Alembic, _, [guard]) => (
                *guard,
                format!(
                    "`{}` (line {}) returned before any statement",
                    self.text(*guard),
                    self.line(*guard)
                ),
            ),
            (Framework::Alembic, _, guards @ [_, _, ..]) => (
                guards[0],
                format!(
                    "one of its early returns (lines {}) returned before any statement",
                    guards
                        .iter()
                        .map(|g| self.line(*g).to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ),
            _ if not_run.is_some() => (upgrade.span, not_run.unwrap_or_default()),
            (_, BodyState::Empty, _) => (upgrade.span, "its upgrade is empty".to_string()),
            _ => (
                upgrade.span,
                "its upgrade sent nothing but Alembic's own bookkeeping".to_string(),
            ),
        };
        let id = Self::id(migration);
        let note = format!("ran nothing: {why}");
        let diagnostic = Diagnostic::new(
            &findings::RAN_NOTHING,
            span,
            format!(
                "the upgrade of `{id}` sent no SQL to PostgreSQL: {why}; nothing of it was proven"
            ),
        )
        .in_phase(Phase::Upgrade)
        .with_help("if the revision is meant for PostgreSQL, the condition is wrong (check what it reads: the dialect, a setting, an environment variable); if it is meant for another database only, nothing needs doing");
        self.push_found(diagnostic, Some(migration));
        note
    }

    /// A note on the downgrade of a revision accepted as irreversible.
    pub(super) fn report_irreversible(&mut self, migration: &Migration, note: &str) {
        let id = Self::id(migration);
        let diagnostic = Diagnostic::new(
            &findings::IRREVERSIBLE,
            migration.downgrade.span,
            format!("`{id}` has no way back: {note}"),
        )
        .in_phase(Phase::Downgrade)
        .with_help("its upgrade was proven; the run went on from the schema it left");
        self.push_found(diagnostic, Some(migration));
    }

    /// The driver runs env.py otherwise than the project does (the Flask application did not
    /// load): a note on env.py, once.
    pub(super) fn report_start_note(&mut self, session: &super::session::Session) {
        let super::session::Applier::Alembic(driver) = &session.applier else {
            return;
        };
        let (Some(note), Some(env)) = (&driver.start_note, self.set.env.file) else {
            return;
        };
        let diagnostic =
            Diagnostic::new(&findings::ENV_FALLBACK, Span::new(env, 0..0), note.clone());
        self.push_found(diagnostic, None);
    }

    fn text(&self, span: Span) -> String {
        let text = &self.sources.get(span.file).text[span.range()];
        super::runner::one_line(text, 120).replace('`', "'")
    }

    fn line(&self, span: Span) -> usize {
        self.sources.get(span.file).line_col(span.start).0
    }
}
