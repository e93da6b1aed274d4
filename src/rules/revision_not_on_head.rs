use crate::diagnostic::{Diagnostic, Origin, RuleMeta, Severity};
use crate::model::Framework;

use super::{LintContext, Rule};

pub static META: RuleMeta = RuleMeta {
    id: "revision-not-on-head",
    severity: Severity::Error,
    summary: "With --base: a new revision builds on an old parent, not on the base branch's head.",
    doc: include_str!("../../rules/revision-not-on-head.md"),
    origin: Origin::Graph,
};

pub struct RevisionNotOnHead;

impl Rule for RevisionNotOnHead {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &LintContext, out: &mut Vec<Diagnostic>) {
        let Some(base) = cx.base else { return };
        if cx.set.framework != Framework::Alembic {
            return;
        }
        for migration in cx.migrations() {
            let Some(id) = migration.revision_id() else {
                continue;
            };
            if base.revisions.contains_key(id) {
                continue;
            }
            // Only where the branch's revisions attach to REF's history: parents that are
            // themselves new belong to the branch and are judged on their own.
            for parent in &migration.parents {
                if !base.revisions.contains_key(parent) || !base.has_children(parent) {
                    continue;
                }
                let heads = base.heads_descending_from(parent);
                let head_list = heads
                    .iter()
                    .map(|h| format!("`{h}`"))
                    .collect::<Vec<_>>()
                    .join(", ");
                let target = heads.first().cloned().unwrap_or_default();
                out.push(
                    cx.report(&META, migration, migration.parents_span, format!(
                        "`{id}` builds on `{parent}`, but `{}` has moved on: its head is now {head_list}; after merging, the history has two heads",
                        base.reference
                    ))
                    .with_help(format!(
                        "rebase onto `{}` and set `down_revision = \"{target}\"` (or add a merge revision: `alembic merge -m \"merge\" {target} {id}`)",
                        base.reference
                    )),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn fixtures() {
        super::super::testing::check_fixtures_against_base(&super::META);
    }
}
