use crate::diagnostic::{Diagnostic, Origin, RuleMeta, Severity};
use crate::model::Framework;

use super::{LintContext, Rule};

pub static META: RuleMeta = RuleMeta {
    id: "revision-cycle",
    severity: Severity::Error,
    summary: "The revision graph has a cycle or a self-loop: Alembic cannot order the revisions.",
    doc: include_str!("../../rules/revision-cycle.md"),
    origin: Origin::Graph,
};

pub struct RevisionCycle;

impl Rule for RevisionCycle {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &LintContext, out: &mut Vec<Diagnostic>) {
        if cx.set.framework != Framework::Alembic {
            return;
        }
        let graph = cx.graph;
        for cycle in graph.cycles(cx.set) {
            // Reported once, on the member whose file sorts first, so the finding is stable.
            let Some(migration) = cycle
                .iter()
                .filter_map(|id| graph.migration(cx.set, id))
                .min_by_key(|m| cx.sources.get(m.file).path.clone())
            else {
                continue;
            };
            if !cycle
                .iter()
                .filter_map(|id| graph.migration(cx.set, id))
                .any(|m| cx.in_scope(m))
            {
                continue;
            }
            let message = if cycle.len() == 1 {
                format!(
                    "`{}` names itself as its parent (down_revision or depends_on)",
                    cycle[0]
                )
            } else {
                let mut path = cycle.clone();
                path.push(cycle[0].clone());
                format!(
                    "revisions form a cycle: {} (each names the next as a parent)",
                    path.join(" → ")
                )
            };
            out.push(
                cx.report(&META, migration, migration.parents_span, message)
                    .with_help("one of these `down_revision` / `depends_on` values is wrong: history must run one way, from a base to the heads"),
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
