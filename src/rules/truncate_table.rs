use crate::diagnostic::{Diagnostic, Origin, RuleMeta, Severity};
use crate::model::{OpKind, Phase};

use super::{LintContext, Rule};

pub static META: RuleMeta = RuleMeta {
    id: "truncate-table",
    severity: Severity::Warning,
    summary: "TRUNCATE deletes every row and takes ACCESS EXCLUSIVE on the table.",
    doc: include_str!("../../rules/truncate-table.md"),
    origin: Origin::Lint,
};

pub struct TruncateTable;

impl Rule for TruncateTable {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &LintContext, out: &mut Vec<Diagnostic>) {
        for site in cx.ops(Phase::Upgrade) {
            let OpKind::Truncate { tables } = &site.op.kind else {
                continue;
            };
            let existing: Vec<&str> = tables
                .iter()
                .filter(|t| !site.table_is_new(t))
                .map(String::as_str)
                .collect();
            if existing.is_empty() {
                continue;
            }
            out.push(
                cx.report_op(&META, &site, format!("TRUNCATE deletes every row of `{}` for good, under ACCESS EXCLUSIVE, and no downgrade can bring them back", existing.join("`, `")))
                    .with_help("if the data is truly disposable, say so with a suppression and a reason; otherwise delete in batches or keep a copy first"),
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
