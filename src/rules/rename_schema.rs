use crate::diagnostic::{Diagnostic, Origin, RuleMeta, Severity};
use crate::model::{OpKind, Phase};

use super::{LintContext, Rule};

pub static META: RuleMeta = RuleMeta {
    id: "rename-schema",
    severity: Severity::Warning,
    summary: "Renaming a schema breaks every query that names it.",
    doc: include_str!("../../rules/rename-schema.md"),
    origin: Origin::Lint,
};

pub struct RenameSchema;

impl Rule for RenameSchema {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &LintContext, out: &mut Vec<Diagnostic>) {
        // The downgrade undoing an upgrade is the deliberate reverse; the risk is reported once,
        // where the change is made.
        for site in cx.ops(Phase::Upgrade) {
            let OpKind::RenameSchema { from, to } = &site.op.kind else {
                continue;
            };
            out.push(
                cx.report_op(&META, &site, format!("renaming schema `{from}` to `{to}` breaks every running query, view definition in other schemas written as text, search_path setting and grant that names `{from}`"))
                    .with_help("keep the schema name; if it must change, create the new schema, move objects with ALTER ... SET SCHEMA over releases while the code reads both, and drop the old one last"),
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
