use crate::diagnostic::{Diagnostic, Origin, RuleMeta, Severity};
use crate::model::names::schema_of;
use crate::model::op::bare_name;
use crate::model::{OpKind, Phase};

use super::{LintContext, Rule};

pub static META: RuleMeta = RuleMeta {
    id: "rename-table",
    severity: Severity::Warning,
    summary: "Renaming a table breaks the application version that is still running during the deploy.",
    doc: include_str!("../../rules/rename-table.md"),
    origin: Origin::Lint,
};

pub struct RenameTable;

impl Rule for RenameTable {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &LintContext, out: &mut Vec<Diagnostic>) {
        // The downgrade undoing an upgrade is the deliberate reverse; the risk is reported once,
        // where the change is made.
        for site in cx.ops(Phase::Upgrade) {
            let OpKind::RenameTable { from, to } = &site.op.kind else {
                continue;
            };
            // ALTER TABLE ... RENAME on an index (a unique constraint's): no application names
            // an index.
            if site.table_is_new(from) || cx.index_definition(&site, from).is_some() {
                continue;
            }
            // A name an earlier rename of the same body gave (`t` → `t_tmp` → `u`): the first
            // rename is the one running code meets, and it is reported.
            if site.earlier().iter().any(|op| {
                matches!(&op.kind, OpKind::RenameTable { to: given, .. } if crate::model::op::same_name(given, from))
            }) {
                continue;
            }
            // A swap (`RENAME TO t_old`, `CREATE TABLE t`, copy, drop `t_old`): the name is made
            // again later in the same migration, so running instances keep finding it.
            if site.made_again_later(from).is_some() {
                continue;
            }
            let running = cx.running_models(from, None);
            // `SET SCHEMA` keeps the name and changes the schema.
            let diagnostic = match schema_of(to) {
                Some(schema) if bare_name(from) == bare_name(to) => cx.report_op(&META, &site, format!("moving table `{from}` to schema `{schema}` breaks every running instance of the application that still reaches it as `{from}` until it is redeployed{running}"))
                    .with_help(format!("keep the old name working during the deploy (an updatable view `CREATE VIEW {from} AS SELECT * FROM {to}` after the move, or `{schema}` on the application role's search_path before it), and drop it in a later release")),
                _ => cx.report_op(&META, &site, format!("renaming table `{from}` to `{to}` breaks every running instance of the application that still uses `{from}` until it is redeployed{running}"))
                    .with_help("create the new table (or an updatable view `CREATE VIEW {from} AS SELECT * FROM {to}` after the rename) so both names work during the deploy, and drop the old name in a later release"),
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

    /// `SET SCHEMA` is a move: the message names the schema, not a rename.
    #[test]
    fn a_table_moved_to_another_schema_is_a_move() {
        let messages = super::super::testing::fixture_messages(&super::META, "bad_set_schema.sql");
        assert_eq!(messages.len(), 1, "{messages:?}");
        assert!(
            messages[0].starts_with("moving table `customers` to schema `billing` breaks"),
            "{messages:?}"
        );
    }
}
