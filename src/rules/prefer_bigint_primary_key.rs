use crate::diagnostic::{Diagnostic, Origin, RuleMeta, Severity};
use crate::model::{ConstraintKind, OpKind, Phase};

use super::{LintContext, Rule};

pub static META: RuleMeta = RuleMeta {
    id: "prefer-bigint-primary-key",
    severity: Severity::Note,
    summary: "An integer primary key: prefer bigint before the table outgrows 2^31 ids.",
    doc: include_str!("../../rules/prefer-bigint-primary-key.md"),
    origin: Origin::Lint,
};

pub struct PreferBigintPrimaryKey;

impl Rule for PreferBigintPrimaryKey {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &LintContext, out: &mut Vec<Diagnostic>) {
        for site in cx.ops(Phase::Upgrade) {
            let OpKind::CreateTable {
                table,
                columns,
                constraints,
                ..
            } = &site.op.kind
            else {
                continue;
            };
            let key_columns: Vec<&str> = constraints
                .iter()
                .filter_map(|(_, k)| match k {
                    ConstraintKind::PrimaryKey { columns } => Some(columns),
                    _ => None,
                })
                .flatten()
                .map(String::as_str)
                .collect();
            // Composite keys of link tables follow the types of the keys they point to.
            let keys: Vec<_> = columns
                .iter()
                .filter(|c| c.primary_key || key_columns.contains(&c.name.as_str()))
                .collect();
            let [key] = keys.as_slice() else { continue };
            if !key.ty.is_integer() {
                continue;
            }
            out.push(
                cx.report_op(&META, &site, format!("primary key `{table}.{}` is {}: it runs out after 2,147,483,647 ids, and widening it later rewrites the table and every referencing foreign key", key.name, key.ty))
                    .with_help(cx.help_for(
                        "use `sa.BigInteger()`; the extra 4 bytes per row cost little",
                        "use `bigint GENERATED ALWAYS AS IDENTITY`; the extra 4 bytes per row cost little",
                    )),
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
