use crate::diagnostic::{Diagnostic, Origin, RuleMeta, Severity};
use crate::model::ConstraintKind;

use super::{LintContext, Rule};

pub static META: RuleMeta = RuleMeta {
    id: "add-foreign-key-without-not-valid",
    severity: Severity::Error,
    summary: "A foreign key added to an existing table is validated at once: a full scan that blocks writes.",
    doc: include_str!("../../rules/add-foreign-key-without-not-valid.md"),
    origin: Origin::Lint,
};

pub struct AddForeignKeyWithoutNotValid;

impl Rule for AddForeignKeyWithoutNotValid {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &LintContext, out: &mut Vec<Diagnostic>) {
        for found in cx.blocking_constraints() {
            let ConstraintKind::ForeignKey {
                referenced_table, ..
            } = found.kind
            else {
                continue;
            };
            let (site, table, constraint) = (&found.site, found.table, &found.label);
            // A key referencing its own table locks one table.
            let blocked = if crate::model::op::same_name(table, referenced_table) {
                format!("`{table}`")
            } else {
                format!("`{table}` and `{referenced_table}`")
            };
            out.push(
                cx.report_op(&META, site, format!("foreign key{constraint} on `{table}` is validated as it is added: a full scan of `{table}` while writes to {blocked} are blocked (SHARE ROW EXCLUSIVE)"))
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
