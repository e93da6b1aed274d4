use crate::diagnostic::{Diagnostic, Origin, RuleMeta, Severity};
use crate::model::{OpKind, Phase};

use super::{LintContext, Rule};

pub static META: RuleMeta = RuleMeta {
    id: "rename-enum-value",
    severity: Severity::Warning,
    summary: "Renaming an enum value breaks running code that still reads or writes the old label.",
    doc: include_str!("../../rules/rename-enum-value.md"),
    origin: Origin::Lint,
};

pub struct RenameEnumValue;

impl Rule for RenameEnumValue {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &LintContext, out: &mut Vec<Diagnostic>) {
        // The downgrade undoing an upgrade is the deliberate reverse; the risk is reported once,
        // where the change is made.
        for site in cx.ops(Phase::Upgrade) {
            let OpKind::RenameEnumValue {
                type_name,
                from,
                to,
            } = &site.op.kind
            else {
                continue;
            };
            out.push(
                cx.report_op(&META, &site, format!("renaming `{from}` to `{to}` in enum `{type_name}` breaks every running instance that still writes `{from}` (invalid input value) or matches on it, until it is redeployed"))
                    .with_help(format!("add `{to}` with ADD VALUE, deploy code that writes `{to}` and reads both, update the rows in batches, and stop using `{from}` in a later release")),
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
