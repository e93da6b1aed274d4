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
        let by_revision = graph.labels(cx.set);
        let no_labels = std::collections::BTreeSet::new();
        let labels: Vec<_> = graph
            .heads
            .iter()
            .map(|h| by_revision.get(h).unwrap_or(&no_labels))
            .collect();
        let mut label_uses = std::collections::BTreeMap::new();
        for label in labels.iter().flat_map(|l| l.iter()) {
            *label_uses.entry(label).or_insert(0usize) += 1;
        }
        let distinct_labels =
            labels.iter().all(|l| !l.is_empty()) && label_uses.values().all(|&uses| uses == 1);
        if distinct_labels {
            return;
        }
        // A wide history can have thousands of heads: name a few, count the rest.
        const NAMED: usize = 5;
        let count = graph.heads.len();
        let heads = match count {
            n if n <= NAMED => graph.heads.join(", "),
            n => format!(
                "{}, and {} more",
                graph.heads[..NAMED].join(", "),
                n - NAMED
            ),
        };
        let help = if count <= NAMED {
            format!(
                "merge them: `alembic merge -m \"merge heads\" {}`",
                graph.heads.join(" ")
            )
        } else {
            "merge them: `alembic merge -m \"merge heads\" heads`".to_string()
        };
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
                    format!("`{head}` is one of {count} heads ({heads})"),
                )
                .with_help(help.clone()),
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
