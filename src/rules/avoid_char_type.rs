use crate::diagnostic::{Diagnostic, Origin, RuleMeta, Severity};
use crate::model::Phase;

use super::{LintContext, Rule, declared_columns};

pub static META: RuleMeta = RuleMeta {
    id: "avoid-char-type",
    severity: Severity::Note,
    summary: "A `char(n)` column pads values with spaces: prefer `text` or `varchar`.",
    doc: include_str!("../../rules/avoid-char-type.md"),
    origin: Origin::Lint,
};

pub struct AvoidCharType;

impl Rule for AvoidCharType {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &LintContext, out: &mut Vec<Diagnostic>) {
        for site in cx.ops(Phase::Upgrade) {
            for (table, column, ty) in declared_columns(&site.op.kind) {
                if !ty.is("character") {
                    continue;
                }
                let written = match ty.modifiers.first() {
                    Some(length) => format!("char({length})"),
                    None => "char(1)".to_string(),
                };
                out.push(
                    cx.report_op(&META, &site, format!("`{table}.{column}` is `{written}`: shorter values are padded with spaces, which comparisons ignore but `LIKE`, `length()`, concatenation and clients do not, and it is no faster than `text`"))
                        .with_help(cx.help_for(
                            format!("`sa.Column(\"{column}\", sa.Text())` (or `sa.String(n)`), with a CHECK when the length is fixed"),
                            format!("`{column} text`, with a CHECK when the length is fixed"),
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
