use crate::diagnostic::{Diagnostic, Origin, RuleMeta, Severity};
use crate::model::ConstraintKind;

use super::{LintContext, Rule};

pub static META: RuleMeta = RuleMeta {
    id: "add-primary-key",
    severity: Severity::Error,
    summary: "A primary key on an existing table builds its index (and may check NOT NULL) under ACCESS EXCLUSIVE.",
    doc: include_str!("../../rules/add-primary-key.md"),
    origin: Origin::Lint,
};

pub struct AddPrimaryKey;

impl Rule for AddPrimaryKey {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &LintContext, out: &mut Vec<Diagnostic>) {
        for found in cx.blocking_constraints() {
            let ConstraintKind::PrimaryKey { .. } = found.kind else {
                continue;
            };
            let (site, table, constraint) = (&found.site, found.table, &found.label);
            out.push(
                cx.report_op(&META, site, format!("primary key{constraint} on `{table}` builds its index and checks its columns for NULLs while `{table}` is locked against reads and writes (ACCESS EXCLUSIVE)"))
                    .with_help("build a unique index CONCURRENTLY first, make the columns NOT NULL safely, then `ALTER TABLE ... ADD CONSTRAINT ... PRIMARY KEY USING INDEX ...`"),
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
