use crate::diagnostic::{Diagnostic, Origin, RuleMeta, Severity};
use crate::model::Framework;

use super::{LintContext, Rule};

pub static META: RuleMeta = RuleMeta {
    id: "duplicate-revision-id",
    severity: Severity::Error,
    summary: "Two files declare the same revision id; Alembic silently keeps one.",
    doc: include_str!("../../rules/duplicate-revision-id.md"),
    origin: Origin::Graph,
};

pub struct DuplicateRevisionId;

impl Rule for DuplicateRevisionId {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &LintContext, out: &mut Vec<Diagnostic>) {
        if cx.set.framework != Framework::Alembic {
            return;
        }
        let migrations = &cx.set.migrations;
        for (i, migration) in migrations.iter().enumerate() {
            let Some(id) = migration.revision_id() else {
                continue;
            };
            // The graph keeps the first file declaring each id.
            let first = match cx.graph.index.get(id) {
                Some(&first) if first != i => &migrations[first],
                _ => continue,
            };
            if !cx.in_scope(migration) && !cx.in_scope(first) {
                continue;
            }
            let other = &cx.sources.get(first.file).path;
            out.push(
                cx.report(&META, migration, migration.revision_span, format!("revision `{id}` is also declared in {other}"))
                    .with_help("give one of them a new id (`alembic revision` generates one) and re-point its children"),
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
