use super::table_locks::held_before;
use crate::diagnostic::{Diagnostic, Origin, RuleMeta, Severity};
use crate::model::table_state::relation_kind;
use crate::model::{OpKind, Phase, RelationKind, TableLock};

use super::{LintContext, Rule};

pub static META: RuleMeta = RuleMeta {
    id: "create-index-non-concurrently",
    severity: Severity::Error,
    summary: "CREATE INDEX without CONCURRENTLY blocks writes to an existing table while it builds.",
    doc: include_str!("../../rules/create-index-non-concurrently.md"),
    origin: Origin::Lint,
};

pub struct CreateIndexNonConcurrently;

impl Rule for CreateIndexNonConcurrently {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &LintContext, out: &mut Vec<Diagnostic>) {
        // Reading a table's history for each index is the rule's cost on a long history; only
        // a set that makes materialized views needs it.
        let makes_views = cx
            .set
            .migrations
            .iter()
            .flat_map(|m| m.upgrade.ops.iter().chain(&m.downgrade.ops))
            .any(|op| {
                matches!(
                    op.kind,
                    OpKind::CreateRelation {
                        kind: RelationKind::MaterializedView,
                        ..
                    }
                )
            });
        for phase in [Phase::Upgrade, Phase::Downgrade] {
            for site in cx.ops(phase) {
                let OpKind::CreateIndex {
                    name,
                    table,
                    concurrently: false,
                    ..
                } = &site.op.kind
                else {
                    continue;
                };
                if site.table_is_new(table) {
                    continue;
                }
                let index = name
                    .as_deref()
                    .map(|n| format!("index `{n}`"))
                    .unwrap_or_else(|| "an index".into());
                let how = concurrent_build_help(site.migration.framework);
                // A materialized view takes no writes: the build holds up its REFRESH only.
                let on_view = makes_views && {
                    let history = cx.history_before(&site, table);
                    relation_kind(&history, |name| history.names(name))
                        == Some(RelationKind::MaterializedView)
                };
                if on_view {
                    out.push(
                        cx.report_op(&META, &site, format!("{index} is built without CONCURRENTLY: a REFRESH of materialized view `{table}` waits until it is done (reads go on)"))
                            .with_severity(Severity::Warning)
                            .with_help(format!("{how}, if the view is refreshed while the migration runs"))
                            .in_phase(phase),
                    );
                    continue;
                }
                // An earlier statement of the same transaction already holds ACCESS EXCLUSIVE:
                // reads wait too, and the build keeps them waiting until the transaction ends.
                if held_before(cx, &site, table) == Some(TableLock::AccessExclusive) {
                    out.push(
                        cx.report_op(&META, &site, format!("{index} is built without CONCURRENTLY while this transaction already holds ACCESS EXCLUSIVE on `{table}` (an earlier statement took it): reads and writes wait until the build and the transaction are done"))
                            .with_help(format!("{how}, after the statements that lock the table have committed"))
                            // The autocommit block commits what came before: the lock goes with it.
                            .with_fix(index_fix(cx, &site))
                            .in_phase(phase),
                    );
                    continue;
                }
                out.push(
                    cx.report_op(&META, &site, format!("{index} is built without CONCURRENTLY: writes to `{table}` block until it is done"))
                        .with_help(how)
                        .with_fix(index_fix(cx, &site))
                        .in_phase(phase),
                );
            }
        }
    }
}

/// The fix: the Alembic call's keywords, or the SQL statement's CONCURRENTLY.
fn index_fix(cx: &LintContext, site: &crate::rules::OpSite) -> Option<crate::fix::Fix> {
    use crate::fix::concurrent_index::{IndexChange, alembic, sql};
    match site.migration.framework {
        crate::model::Framework::Alembic => alembic(
            site.op,
            IndexChange::Create,
            crate::fix::Allowed::of(&cx.set.env),
        ),
        framework => sql(site.op, framework, site.ops),
    }
}

/// How this framework builds an index CONCURRENTLY, outside a transaction block.
fn concurrent_build_help(framework: crate::model::Framework) -> String {
    super::outside_transaction_help(
        framework,
        "build it with `postgresql_concurrently=True`",
        "build it with `CREATE INDEX CONCURRENTLY`",
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn fixtures() {
        super::super::testing::check_fixtures(&super::META);
    }

    /// A lock taken by a rename earlier in the transaction is held under the new name.
    #[test]
    fn a_rename_earlier_in_the_transaction_holds_the_table() {
        let messages = super::super::testing::fixture_messages(&super::META, "bad_after_rename.py");
        assert_eq!(messages.len(), 1, "{messages:?}");
        assert!(
            messages[0].contains(
                "while this transaction already holds ACCESS EXCLUSIVE on `build_requests`"
            ),
            "{messages:?}"
        );
    }
}
