use crate::diagnostic::{Diagnostic, Origin, RuleMeta, Severity};
use crate::model::{OpKind, Phase};

use super::{LintContext, Rule};

pub static META: RuleMeta = RuleMeta {
    id: "drop-column",
    severity: Severity::Warning,
    summary: "Dropping a column loses its data and breaks the running application if it still uses it.",
    doc: include_str!("../../rules/drop-column.md"),
    origin: Origin::Lint,
};

pub struct DropColumn;

impl Rule for DropColumn {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &LintContext, out: &mut Vec<Diagnostic>) {
        // The downgrade undoing an upgrade is the deliberate reverse; the risk is reported once,
        // where the change is made.
        for site in cx.ops(Phase::Upgrade) {
            let OpKind::DropColumn { table, column } = &site.op.kind else {
                continue;
            };
            // A column added in this migration, or the old column of a swap under its temporary
            // name: no running code knows it, and the migration moved its data itself.
            if site.table_is_new(table)
                || site.column_is_new(table, column)
                || site.column_swapped_out(table, column)
            {
                continue;
            }
            // Copied into a new column that takes its name: nothing is lost.
            if site.column_copied_into_replacement(table, column) {
                continue;
            }
            // Dropped and added again in the same transaction: running code still finds the
            // column; only its data is gone.
            if site.name_reoccupied_in_transaction(table, column) {
                out.push(
                    cx.report_op(&META, &site, format!("dropping `{table}.{column}` and adding it again in the same transaction deletes its data for good: the new column starts from its default (running code keeps finding the column)"))
                        .with_help("if the data should survive, change the column in place (ALTER COLUMN ... TYPE ... USING) or copy it into the new column before the drop"),
                );
                continue;
            }
            out.push(
                cx.report_op(&META, &site, format!("dropping `{table}.{column}` deletes its data for good, and running instances of the application that still select or insert it fail until they are redeployed{}", cx.running_models(table, Some(column))))
                    .with_help("first deploy code that no longer uses the column (SQLAlchemy: remove it from the model, or `deferred()` + exclude it), then drop it in a later release"),
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
