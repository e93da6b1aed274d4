use crate::diagnostic::{Diagnostic, Origin, RuleMeta, Severity};
use crate::model::ConstraintKind;

use super::{LintContext, Rule};

pub static META: RuleMeta = RuleMeta {
    id: "add-unique-constraint",
    severity: Severity::Error,
    summary: "A UNIQUE constraint on an existing table builds its index under ACCESS EXCLUSIVE.",
    doc: include_str!("../../rules/add-unique-constraint.md"),
    origin: Origin::Lint,
};

pub struct AddUniqueConstraint;

impl Rule for AddUniqueConstraint {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &LintContext, out: &mut Vec<Diagnostic>) {
        for found in cx.blocking_constraints() {
            let ConstraintKind::Unique { columns } = found.kind else {
                continue;
            };
            let (site, table, constraint) = (&found.site, found.table, &found.label);
            out.push(
                cx.report_op(&META, site, format!("unique constraint{constraint} on `{table}` builds its index while `{table}` is locked against reads and writes (ACCESS EXCLUSIVE)"))
                    .with_help("build a unique index CONCURRENTLY first, then `ALTER TABLE ... ADD CONSTRAINT ... UNIQUE USING INDEX ...` (instant)")
                    .with_fix(found.name.and_then(|name| {
                        crate::fix::unique_using_index::alembic(site.op, site.ops, table, name, columns, crate::fix::Allowed::of(&cx.set.env))
                    })),
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
