use crate::diagnostic::{Diagnostic, Origin, RuleMeta, Severity};
use crate::model::{OpKind, Phase};

use super::{LintContext, Rule};

pub static META: RuleMeta = RuleMeta {
    id: "drop-database",
    severity: Severity::Error,
    summary: "DROP DATABASE in a migration deletes a whole database for good.",
    doc: include_str!("../../rules/drop-database.md"),
    origin: Origin::Lint,
};

pub struct DropDatabase;

impl Rule for DropDatabase {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &LintContext, out: &mut Vec<Diagnostic>) {
        // The downgrade undoing an upgrade is the deliberate reverse; the risk is reported once,
        // where the change is made.
        for site in cx.ops(Phase::Upgrade) {
            let OpKind::DropDatabase { name } = &site.op.kind else {
                continue;
            };
            out.push(
                cx.report_op(&META, &site, format!("DROP DATABASE `{name}` deletes every table and row of `{name}` for good; no downgrade can bring it back"))
                    .with_help("drop databases by hand, after a backup, not from a migration that runs on every environment; if this is a scratch database the migration made itself, say so with a suppression and a reason"),
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
