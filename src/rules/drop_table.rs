use crate::diagnostic::{Diagnostic, Origin, RuleMeta, Severity};
use crate::model::op::same_name;
use crate::model::{OpKind, Phase};

use super::{LintContext, Rule};

pub static META: RuleMeta = RuleMeta {
    id: "drop-table",
    severity: Severity::Warning,
    summary: "Dropping a table loses its data and breaks the running application if it still uses it.",
    doc: include_str!("../../rules/drop-table.md"),
    origin: Origin::Lint,
};

pub struct DropTable;

impl Rule for DropTable {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &LintContext, out: &mut Vec<Diagnostic>) {
        // The downgrade undoing an upgrade is the deliberate reverse; the risk is reported once,
        // where the change is made.
        for site in cx.ops(Phase::Upgrade) {
            let OpKind::DropTable { table, .. } = &site.op.kind else {
                continue;
            };
            if site.table_is_new(table) || super::table_locks::drops_table_never_made(cx, &site) {
                continue;
            }
            let running = cx.running_models(table, None);
            // `INSERT INTO elsewhere SELECT ... FROM t` (or `CREATE TABLE ... AS`) earlier in
            // the body: the rows live on where they were copied.
            let copied = site.ops[..site.index].iter().rev().find(|op| {
                matches!(&op.kind, OpKind::RowsOnly { copied_from } if copied_from.iter().any(|t| same_name(t, table)))
            });
            // A table made under the same name later in the body (`CREATE TABLE t`, or `ALTER
            // TABLE t_new RENAME TO t`): the name goes on, so running instances keep finding it.
            let recreated = site.made_again_later(table);
            // The name was given earlier in this migration (`RENAME TO t_old` in a swap): no
            // running instance knows the table by it.
            let renamed_here = site.ops[..site.index].iter().any(
                |op| matches!(&op.kind, OpKind::RenameTable { to, .. } if same_name(to, table)),
            );
            let diagnostic = match (copied, recreated) {
                // A table swap: the rows were copied into what takes the table's place.
                (Some(_), Some(_)) => continue,
                (Some(_), None) if renamed_here => continue,
                (None, None) if renamed_here => cx.report_op(&META, &site, format!("dropping table `{table}` deletes its data for good: its rows were not copied anywhere first"))
                    .with_help("copy the rows into the table that replaces it before the drop (`INSERT INTO ... SELECT ... FROM`)"),
                (None, Some(again)) => cx.report_op(&META, &site, format!("dropping table `{table}` deletes its data for good: the table made again under its name (line {}) starts without its rows", cx.line_of(&again.span)))
                    .with_help("copy the rows into the new table before the drop (`INSERT INTO ... SELECT`), or build the new table under another name, copy, then swap the names"),
                (Some(copy), None) => {
                    let line = cx.line_of(&copy.span);
                    cx.report_op(&META, &site, format!("dropping table `{table}` breaks running instances of the application that still use it until they are redeployed (its rows were copied elsewhere first, line {line}){running}"))
                        .with_help("deploy code that no longer uses the table first, then drop it in a later release")
                }
                (None, None) => cx.report_op(&META, &site, format!("dropping table `{table}` deletes its data for good, and running instances of the application that still use it fail until they are redeployed{running}"))
                    .with_help("deploy code that no longer uses the table first, keep a backup (`CREATE TABLE ... AS` or a dump), then drop it in a later release"),
            };
            out.push(diagnostic);
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn fixtures() {
        super::super::testing::check_fixtures(&super::META);
    }

    /// Rows copied out before the drop are not lost: the message says only what breaks.
    #[test]
    fn a_table_whose_rows_were_copied_out_first_is_not_said_to_lose_them() {
        let messages =
            super::super::testing::fixture_messages(&super::META, "bad_copied_out_first.sql");
        assert_eq!(
            messages,
            [
                "dropping table `customers` breaks running instances of the application that still use it until they are redeployed (its rows were copied elsewhere first, line 2)",
                "dropping table `ratepayers` breaks running instances of the application that still use it until they are redeployed (its rows were copied elsewhere first, line 4)",
            ]
        );
    }

    /// A table dropped and made again under its name loses its rows, not its name.
    #[test]
    fn a_table_made_again_under_its_name_starts_empty() {
        let messages =
            super::super::testing::fixture_messages(&super::META, "bad_recreated_empty.sql");
        assert_eq!(
            messages,
            [
                "dropping table `ratepayers` deletes its data for good: the table made again under its name (line 3) starts without its rows"
            ]
        );
    }
}
