use crate::diagnostic::{Diagnostic, Origin, RuleMeta, Severity};
use crate::model::{OpKind, Phase, Volatility};

use super::{LintContext, Rule};

pub static META: RuleMeta = RuleMeta {
    id: "add-column-volatile-default",
    severity: Severity::Error,
    summary: "A column added with a volatile default (random(), gen_random_uuid(), serial, identity, stored generated) rewrites the table.",
    doc: include_str!("../../rules/add-column-volatile-default.md"),
    origin: Origin::Lint,
};

pub struct AddColumnVolatileDefault;

impl Rule for AddColumnVolatileDefault {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &LintContext, out: &mut Vec<Diagnostic>) {
        for site in cx.ops(Phase::Upgrade) {
            let OpKind::AddColumn { table, column } = &site.op.kind else {
                continue;
            };
            if site.table_is_new(table) {
                continue;
            }
            let what = if column.generated_stored {
                "a stored generated column".to_string()
            } else if column.identity {
                format!("an identity / serial column ({})", column.ty)
            } else if let Some(default) = column.server_default.as_ref().filter(|d| d.is_volatile())
            {
                format!("the volatile default {}", default.text)
            } else if let Some(Volatility::Unknown { function }) =
                column.server_default.as_ref().map(|d| &d.volatility)
            {
                out.push(
                    cx.report_op(&META, &site, format!(
                        "adding `{}` with a default that calls `{function}()`, which is not a built-in immutable or stable function: if it is VOLATILE, it is evaluated for every row and `{table}` is rewritten under an ACCESS EXCLUSIVE lock",
                        column.name
                    ))
                    .with_severity(Severity::Warning)
                    .with_help("make sure the function is declared IMMUTABLE or STABLE (then the default is evaluated once); otherwise add the column without a default, set it for new rows with ALTER COLUMN ... SET DEFAULT, and backfill in batches")
                    .in_phase(Phase::Upgrade),
                );
                continue;
            } else {
                continue;
            };
            out.push(
                cx.report_op(&META, &site, format!(
                    "adding `{}` with {what} rewrites `{table}` under an ACCESS EXCLUSIVE lock",
                    column.name
                ))
                .with_help("add the column without a default, set the default for new rows with ALTER COLUMN ... SET DEFAULT, and backfill existing rows in batches")
                .in_phase(Phase::Upgrade),
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
