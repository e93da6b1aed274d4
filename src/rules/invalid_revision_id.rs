use crate::diagnostic::{Diagnostic, Origin, RuleMeta, Severity};
use crate::model::{Framework, RevisionId};

use super::{LintContext, Rule};

pub static META: RuleMeta = RuleMeta {
    id: "invalid-revision-id",
    severity: Severity::Error,
    summary: "A revision id is missing, not a literal, or uses characters Alembic rejects.",
    doc: include_str!("../../rules/invalid-revision-id.md"),
    origin: Origin::Graph,
};

/// Alembic reserves these for revision syntax (`head-1`, `base+2`, `branch@head`).
const RESERVED: &[char] = &['@', '-', '+', ':', ' '];

pub struct InvalidRevisionId;

impl Rule for InvalidRevisionId {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &LintContext, out: &mut Vec<Diagnostic>) {
        if cx.set.framework != Framework::Alembic {
            return;
        }
        for migration in cx.migrations() {
            let message = match &migration.revision {
                RevisionId::Absent => "the file has no module-level `revision = \"...\"`: Alembic cannot place it in the history".to_string(),
                RevisionId::NotLiteral => "`revision` is not a string literal, so it cannot be read without running the file".to_string(),
                RevisionId::Literal(id) if id.is_empty() => "the revision id is empty".to_string(),
                RevisionId::Literal(id) => match id.chars().find(|c| RESERVED.contains(c)) {
                    Some(c) => format!("revision id `{id}` contains `{c}`, which Alembic reserves for revision expressions"),
                    None => continue,
                },
            };
            out.push(cx.report(&META, migration, migration.revision_span, message)
                .with_help("assign a literal id such as `revision = \"3f2a9c1b7d4e\"` (`alembic revision` generates one)"));
        }
        for migration in cx.migrations().filter(|m| m.parents_unreadable) {
            out.push(
                cx.report(
                    &META,
                    migration,
                    migration.parents_span,
                    "`down_revision` is not a literal (None, a string, or a tuple of strings)",
                )
                .with_help("write the parent revision ids literally"),
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
