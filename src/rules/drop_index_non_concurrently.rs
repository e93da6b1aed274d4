use super::table_locks::held_before;
use crate::diagnostic::{Diagnostic, Origin, RuleMeta, Severity};
use crate::model::constraint::mentions_column;
use crate::model::op::same_name;
use crate::model::table_state::is_new_table;
use crate::model::{Op, OpKind, Phase, TableLock};

use super::{OpSite, describe_index};

use super::{LintContext, Rule};

pub static META: RuleMeta = RuleMeta {
    id: "drop-index-non-concurrently",
    severity: Severity::Warning,
    summary: "DROP INDEX without CONCURRENTLY locks the table against reads and writes.",
    doc: include_str!("../../rules/drop-index-non-concurrently.md"),
    origin: Origin::Lint,
};

pub struct DropIndexNonConcurrently;

impl Rule for DropIndexNonConcurrently {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &LintContext, out: &mut Vec<Diagnostic>) {
        for site in cx.all_ops() {
            let OpKind::DropIndex {
                name,
                table,
                concurrently: false,
                ..
            } = &site.op.kind
            else {
                continue;
            };
            // Its table is dropped later in the same body: that drop takes the same lock anyway.
            if table
                .as_deref()
                .is_some_and(|t| table_dropped_later(&site, t))
            {
                continue;
            }
            if name
                .as_deref()
                .is_some_and(|n| index_is_disposable(&site, n) || dropped_anyway(cx, &site, n))
            {
                continue;
            }
            // The same transaction already holds ACCESS EXCLUSIVE on the table: the drop waits
            // for nobody and makes nobody wait who was not already waiting.
            let index_table = table.as_deref().or_else(|| {
                name.as_deref()
                    .and_then(|n| cx.index_definition(&site, n))
                    .map(|(t, _)| t)
            });
            if index_table.is_some_and(|t| {
                held_before(cx, &site, t) == Some(TableLock::AccessExclusive)
                    || earlier_index_drop_on(cx, &site, t)
            }) {
                continue;
            }
            out.push(
                cx.report_op(&META, &site, format!("{} is dropped without CONCURRENTLY: its table is locked against reads and writes (ACCESS EXCLUSIVE) while the drop waits for running queries and runs", describe_index(name.as_deref())))
                    .with_help(super::outside_transaction_help(
                        site.migration.framework,
                        "drop it with `postgresql_concurrently=True`",
                        "drop it with `DROP INDEX CONCURRENTLY`",
                    ))
                    .with_fix(crate::fix::concurrent_index::alembic(site.op, crate::fix::concurrent_index::IndexChange::Drop, crate::fix::Allowed::of(&cx.set.env))),
            );
        }
    }
}

fn drops_table(ops: &[Op], table: &str) -> bool {
    ops.iter()
        .any(|op| matches!(&op.kind, OpKind::DropTable { table: t, .. } if same_name(t, table)))
}

fn table_dropped_later(site: &OpSite, table: &str) -> bool {
    drops_table(&site.ops[site.index + 1..], table)
}

/// An index created earlier in the same body, or one whose table the same downgrade drops after
/// the upgrade created it: nothing else uses it.
fn index_is_disposable(site: &OpSite, name: &str) -> bool {
    let created_here = site.earlier().iter().any(
        |op| matches!(&op.kind, OpKind::CreateIndex { name: Some(n), .. } if same_name(n, name)),
    );
    if created_here || site.phase != Phase::Downgrade {
        return created_here;
    }
    let upgrade = &site.migration.upgrade.ops;
    upgrade.iter().enumerate().any(|(i, op)| match &op.kind {
        OpKind::CreateIndex {
            name: Some(n),
            table,
            ..
        } if same_name(n, name) => is_new_table(upgrade, i, table) && drops_table(site.ops, table),
        _ => false,
    })
}

/// An SQL `DROP INDEX` earlier in the same open transaction dropped another index of `table`
/// (SQL names no table; its CREATE INDEX does): ACCESS EXCLUSIVE on the table is held already.
fn earlier_index_drop_on(cx: &LintContext, site: &OpSite, table: &str) -> bool {
    let open_since = site.ops[..site.index]
        .iter()
        .rposition(|op| !op.in_transaction || matches!(op.kind, OpKind::CommitTransaction))
        .map_or(0, |i| i + 1);
    (open_since..site.index).any(|i| {
        let op = &site.ops[i];
        let OpKind::DropIndex {
            name: Some(name),
            table: None,
            ..
        } = &op.kind
        else {
            return false;
        };
        let earlier = OpSite {
            migration: site.migration,
            migration_index: site.migration_index,
            ops: site.ops,
            index: i,
            op,
            phase: site.phase,
        };
        cx.index_definition(&earlier, name)
            .is_some_and(|(t, _)| same_name(t, table))
    }) && site.op.in_transaction
}

/// Later in the same transaction the body drops the index's table or one of its columns, which
/// drops the index too, under the same ACCESS EXCLUSIVE lock: CONCURRENTLY would spare nothing.
fn dropped_anyway(cx: &LintContext, site: &OpSite, name: &str) -> bool {
    let Some((table, columns)) = cx.index_definition(site, name) else {
        return false;
    };
    // A partial index goes with a column its WHERE names, too.
    let predicate = cx.index_predicate(site, name);
    let covers = |column: &str| {
        columns.iter().any(|c| mentions_column(c, column))
            || predicate.is_some_and(|p| mentions_column(p, column))
    };
    site.ops[site.index + 1..]
        .iter()
        .take_while(|op| op.in_transaction && !matches!(op.kind, OpKind::CommitTransaction))
        .any(|op| match &op.kind {
            OpKind::DropTable { table: t, .. } => same_name(t, table),
            OpKind::DropColumn { table: t, column } => same_name(t, table) && covers(column),
            _ => false,
        })
        && site.op.in_transaction
}

#[cfg(test)]
mod tests {
    #[test]
    fn fixtures() {
        super::super::testing::check_fixtures(&super::META);
    }
}
