use crate::diagnostic::{Diagnostic, Origin, RuleMeta, Severity};
use crate::model::Framework;

use super::{LintContext, Rule};

pub static META: RuleMeta = RuleMeta {
    id: "missing-parent-revision",
    severity: Severity::Error,
    summary: "`down_revision` or `depends_on` names a revision that does not exist.",
    doc: include_str!("../../rules/missing-parent-revision.md"),
    origin: Origin::Graph,
};

pub struct MissingParentRevision;

impl Rule for MissingParentRevision {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &LintContext, out: &mut Vec<Diagnostic>) {
        if cx.set.framework != Framework::Alembic {
            return;
        }
        let graph = cx.graph;
        for migration in cx.migrations() {
            let parents = migration.parents.iter().map(|p| ("down_revision", p));
            let dependencies = migration.depends_on.iter().map(|p| ("depends_on", p));
            for (field, id) in parents.chain(dependencies) {
                let known = graph.index.contains_key(id)
                    || (field == "depends_on"
                        && cx
                            .set
                            .migrations
                            .iter()
                            .any(|m| m.branch_labels.contains(id)));
                if !known {
                    out.push(
                        cx.report(&META, migration, migration.parents_span, format!("`{field}` names `{id}`, which no revision file in {} declares", cx.set.root))
                            .with_help("fix the id, or restore the missing revision file (Alembic fails with a KeyError on every command)"),
                    );
                }
            }
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
