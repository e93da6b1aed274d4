use crate::diagnostic::{Diagnostic, Origin, RuleMeta, Severity};
use crate::model::{BodyState, Framework, Phase};

use super::{LintContext, Rule};

pub static META: RuleMeta = RuleMeta {
    id: "missing-downgrade",
    severity: Severity::Error,
    summary: "The revision cannot be rolled back: its downgrade is missing or does nothing.",
    doc: include_str!("../../rules/missing-downgrade.md"),
    origin: Origin::Lint,
};

pub struct MissingDowngrade;

impl Rule for MissingDowngrade {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &LintContext, out: &mut Vec<Diagnostic>) {
        // No revision of the history defines downgrade(): forward-only by design (OpenStack
        // projects since Liberty). One note says so, instead of an error on every revision.
        let forward_only = cx.set.migrations.len() >= 2
            && cx
                .set
                .migrations
                .iter()
                .all(|m| m.downgrade.state == BodyState::Missing);
        if forward_only {
            if let Some(migration) = cx.migrations().find(|m| m.upgrade.state == BodyState::Code) {
                out.push(
                    cx.report(
                        &META,
                        migration,
                        migration.revision_span,
                        format!(
                            "no revision of this history has a downgrade: it is forward-only ({} revisions), and rolling back means restoring a backup",
                            cx.set.migrations.len()
                        ),
                    )
                    .with_help("if that is the policy, nothing to do; otherwise add a downgrade (`downgrade()`, a down script) to each new revision")
                    .with_severity(Severity::Note)
                    .in_phase(Phase::Downgrade),
                );
            }
            return;
        }
        for migration in cx.migrations() {
            let upgrade = &migration.upgrade;
            let downgrade = &migration.downgrade;
            // A merge point or an empty revision has nothing to undo.
            if upgrade.state != BodyState::Code && downgrade.state != BodyState::Raises {
                continue;
            }
            // A step of a pop change whose group has down scripts is undone by them.
            if migration.undo_group.is_some()
                && matches!(downgrade.state, BodyState::Missing | BodyState::Empty)
                && cx
                    .undo_group(migration)
                    .iter()
                    .any(|m| m.downgrade.state == BodyState::Code)
            {
                continue;
            }
            let (message, help, severity) = match (&downgrade.state, migration.framework) {
                (BodyState::Missing, Framework::Alembic) => (
                    "the revision has no `downgrade()` function".to_string(),
                    "add a `downgrade()` that reverses `upgrade()`",
                    Severity::Error,
                ),
                (BodyState::Missing, Framework::Goose) => (
                    "the migration has no `-- +goose Down` section".to_string(),
                    "add a `-- +goose Down` section that reverses the `-- +goose Up` section",
                    Severity::Error,
                ),
                (BodyState::Missing, Framework::SqlMigrate) => (
                    "the migration has no `-- +migrate Down` section".to_string(),
                    "add a `-- +migrate Down` section that reverses the `-- +migrate Up` section",
                    Severity::Error,
                ),
                (BodyState::Missing, Framework::Dbmate) => (
                    "the migration has no `-- migrate:down` section".to_string(),
                    "add a `-- migrate:down` section that reverses the `-- migrate:up` section",
                    Severity::Error,
                ),
                (BodyState::Missing, Framework::Sqitch) => (
                    "the change has no revert script".to_string(),
                    "add `revert/<change>.sql` that reverses the deploy script (`sqitch add` writes one)",
                    Severity::Error,
                ),
                (BodyState::Missing, _) => (
                    "the migration has no down script".to_string(),
                    "add the matching down script (`.down.sql`, or `U<version>__*.sql` for Flyway)",
                    Severity::Error,
                ),
                // A backfill or an enum value has no schema to undo: rolling back leaves the data,
                // which is usually what the author means by an empty downgrade.
                (BodyState::Empty, _) if upgrade.ops.is_empty() => (
                    "the downgrade does nothing, and the upgrade holds no schema change that could be read (ORM sessions, project helpers): rolling back keeps whatever it changed".to_string(),
                    "if the upgrade only changes data, fine; if it changes the schema, write the statements that reverse it",
                    Severity::Note,
                ),
                (BodyState::Empty, _)
                    if upgrade.ops.iter().all(|op| op.kind.is_data_only()) =>
                {
                    (
                        "the downgrade does nothing, and the upgrade only changes data: rolling back keeps the changed rows".to_string(),
                        "fine for a backfill that needs no reversal; say so in the downgrade (a comment, or `raise` if the data must not be rolled back over)",
                        Severity::Note,
                    )
                }
                (BodyState::Empty, _) => (
                    "the downgrade does nothing: rolling back leaves the upgrade's changes in place".to_string(),
                    "write the statements that reverse the upgrade",
                    Severity::Error,
                ),
                (BodyState::Raises, _) => (
                    "the downgrade raises: this revision is declared irreversible".to_string(),
                    "rolling back past it needs a restore; say so in the release notes",
                    Severity::Note,
                ),
                _ => continue,
            };
            let span = if downgrade.state == BodyState::Missing {
                migration.revision_span
            } else {
                downgrade.span
            };
            let fix = (migration.framework == Framework::Alembic
                && matches!(downgrade.state, BodyState::Missing | BodyState::Empty))
            .then(|| {
                let file = cx.sources.get(migration.file);
                crate::fix::inverse_downgrade::alembic(migration, |offset| file.line_col(offset).0)
            })
            .flatten();
            out.push(
                cx.report(&META, migration, span, message)
                    .with_help(help)
                    .with_severity(severity)
                    .with_fix(fix)
                    .in_phase(Phase::Downgrade),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn fixtures() {
        super::super::testing::check_fixtures(&super::META);
    }
}
