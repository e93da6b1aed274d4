use crate::config::Preset;
use crate::diagnostic::{Diagnostic, Origin, RuleMeta, Severity};
use crate::model::Phase;

use super::{LintContext, Rule, declared_columns};

pub static META: RuleMeta = RuleMeta {
    id: "prefer-text",
    severity: Severity::Note,
    summary: "A `varchar(n)` column: prefer `text` with a CHECK on its length.",
    doc: include_str!("../../rules/prefer-text.md"),
    origin: Origin::Lint,
};

pub struct PreferText;

impl Rule for PreferText {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn preset(&self) -> Preset {
        Preset::Strict
    }

    fn check(&self, cx: &LintContext, out: &mut Vec<Diagnostic>) {
        for site in cx.ops(Phase::Upgrade) {
            for (table, column, ty) in declared_columns(&site.op.kind) {
                let Some(length) = ty.modifiers.first().filter(|_| ty.is("character varying"))
                else {
                    continue;
                };
                out.push(
                    cx.report_op(&META, &site, format!("`{table}.{column}` is `varchar({length})`: raising the limit later needs ACCESS EXCLUSIVE on `{table}`, and lowering it rewrites the table"))
                        .with_help(cx.help_for(
                            format!("`sa.Column(\"{column}\", sa.Text())` with `sa.CheckConstraint(\"char_length({column}) <= {length}\")` — a CHECK can be replaced NOT VALID, without a lock that blocks traffic"),
                            format!("`{column} text CHECK (char_length({column}) <= {length})` — a CHECK can be replaced NOT VALID, without a lock that blocks traffic"),
                        )),
                );
            }
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
