use crate::diagnostic::{Diagnostic, Origin, RuleMeta, Severity};
use crate::model::op::same_name;
use crate::model::{ConstraintKind, Op, OpKind, Phase};

use super::{LintContext, Rule};

pub static META: RuleMeta = RuleMeta {
    id: "validate-in-same-transaction",
    severity: Severity::Error,
    summary: "VALIDATE CONSTRAINT in the transaction that added the constraint NOT VALID keeps the add's lock through the scan.",
    doc: include_str!("../../rules/validate-in-same-transaction.md"),
    origin: Origin::Lint,
};

pub struct ValidateInSameTransaction;

/// The `NOT VALID` add of `name` on `table` among `earlier`, if no commit came between it and
/// the end of `earlier`.
fn added_in_this_transaction<'a>(earlier: &'a [Op], table: &str, name: &str) -> Option<&'a Op> {
    for op in earlier.iter().rev() {
        match &op.kind {
            OpKind::CommitTransaction => return None,
            OpKind::AddConstraint {
                table: t,
                name: Some(n),
                not_valid: true,
                ..
            } if same_name(t, table) && same_name(n, name) => {
                return op.in_transaction.then_some(op);
            }
            _ => {}
        }
    }
    None
}

impl Rule for ValidateInSameTransaction {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &LintContext, out: &mut Vec<Diagnostic>) {
        for site in cx.ops(Phase::Upgrade) {
            let OpKind::ValidateConstraint { table, name } = &site.op.kind else {
                continue;
            };
            if !site.op.in_transaction {
                continue;
            }
            let Some(added) = added_in_this_transaction(site.earlier(), table, name) else {
                continue;
            };
            let lock = match &added.kind {
                OpKind::AddConstraint {
                    kind:
                        ConstraintKind::ForeignKey {
                            referenced_table, ..
                        },
                    ..
                } => format!(
                    "SHARE ROW EXCLUSIVE on `{table}` and `{referenced_table}`: no writes to either"
                ),
                _ => format!("ACCESS EXCLUSIVE on `{table}`: no reads or writes"),
            };
            out.push(
                cx.report_op(
                    &META,
                    &site,
                    format!("`{name}` is validated in the transaction that added it NOT VALID: the add's lock ({lock}) is held until the commit, through the validation's full scan, so NOT VALID saves nothing"),
                )
                .with_help("validate in a later revision (or after a COMMIT; in Alembic inside `op.get_context().autocommit_block()`), where VALIDATE CONSTRAINT takes only SHARE UPDATE EXCLUSIVE"),
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
