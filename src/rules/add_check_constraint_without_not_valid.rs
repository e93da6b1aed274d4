use crate::diagnostic::{Diagnostic, Origin, RuleMeta, Severity};
use crate::model::ConstraintKind;

use super::{LintContext, Rule};

pub static META: RuleMeta = RuleMeta {
    id: "add-check-constraint-without-not-valid",
    severity: Severity::Error,
    summary: "A CHECK constraint added to an existing table is validated at once: a full scan under ACCESS EXCLUSIVE.",
    doc: include_str!("../../rules/add-check-constraint-without-not-valid.md"),
    origin: Origin::Lint,
};

pub struct AddCheckConstraintWithoutNotValid;

impl Rule for AddCheckConstraintWithoutNotValid {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &LintContext, out: &mut Vec<Diagnostic>) {
        for found in cx.blocking_constraints() {
            let ConstraintKind::Check { .. } = found.kind else {
                continue;
            };
            let (site, table, constraint) = (&found.site, found.table, &found.label);
            out.push(
                cx.report_op(&META, site, format!("check constraint{constraint} on `{table}` is validated as it is added: a full scan of `{table}` under ACCESS EXCLUSIVE, no reads or writes until it is done"))
                    .with_help(super::not_valid_help(site.migration.framework))
                    .with_fix(found.name.and_then(|name| crate::fix::not_valid::alembic(site.op, site.ops, table, name, crate::fix::Allowed::of(&cx.set.env)))),
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
