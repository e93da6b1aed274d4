use crate::diagnostic::{Diagnostic, Origin, RuleMeta, Severity};
use crate::model::Framework;

use super::{LintContext, Rule};

pub static META: RuleMeta = RuleMeta {
    id: "multiple-heads",
    severity: Severity::Error,
    summary: "The revision history has more than one head: `alembic upgrade head` refuses to run.",
    doc: include_str!("../../rules/multiple-heads.md"),
    origin: Origin::Graph,
};

pub struct MultipleHeads;

impl Rule for MultipleHeads {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &LintContext, out: &mut Vec<Diagnostic>) {
        if cx.set.framework != Framework::Alembic {
            return;
        }
        let graph = cx.graph;
        if graph.heads.len() < 2 {
            return;
        }
        // Independent labelled branches (one head per label) are a deliberate layout.
        let labels: Vec<_> = graph
            .heads
            .iter()
            .map(|h| graph.labels_of(cx.set, h))
            .collect();
        let distinct_labels = labels.iter().all(|l| !l.is_empty())
            && labels
                .iter()
                .enumerate()
                .all(|(i, a)| labels.iter().skip(i + 1).all(|b| a.is_disjoint(b)));
        if distinct_labels {
            return;
        }
        let heads = graph.heads.join(", ");
        for head in &graph.heads {
            let Some(migration) = graph.migration(cx.set, head) else {
                continue;
            };
            if !cx.in_scope(migration) {
                continue;
            }
            out.push(
                cx.report(
                    &META,
                    migration,
                    migration.revision_span,
                    format!("`{head}` is one of {} heads ({heads})", graph.heads.len()),
                )
                .with_help(format!(
                    "merge them: `alembic merge -m \"merge heads\" {}`",
                    graph.heads.join(" ")
                )),
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
