use crate::diagnostic::{Diagnostic, Origin, RuleMeta, Severity};
use crate::model::OpKind;
use crate::model::op::same_name;

use super::{LintContext, Rule, describe_index};

pub static META: RuleMeta = RuleMeta {
    id: "concurrent-index-not-retryable",
    severity: Severity::Warning,
    summary: "CREATE / DROP INDEX CONCURRENTLY without IF NOT EXISTS / IF EXISTS: a retried migration fails half-applied.",
    doc: include_str!("../../rules/concurrent-index-not-retryable.md"),
    origin: Origin::Lint,
};

pub struct ConcurrentIndexNotRetryable;

impl Rule for ConcurrentIndexNotRetryable {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &LintContext, out: &mut Vec<Diagnostic>) {
        for site in cx.all_ops() {
            // Inside a transaction the statement fails outright: concurrent-index-in-transaction.
            if site.op.in_transaction {
                continue;
            }
            // Atlas records each statement of a `txmode none` file as it succeeds and starts a
            // retry at the one that failed: only a build that fails itself is run again.
            let resumes = site.migration.framework.resumes_at_failed_statement();
            let message = match &site.op.kind {
                OpKind::CreateIndex {
                    name,
                    table,
                    concurrently: true,
                    if_not_exists: false,
                    ..
                } if !site.table_is_new(table)
                    && !dropped_first(site.earlier(), name.as_deref()) =>
                {
                    if name.is_none() {
                        // PostgreSQL names each unnamed build anew (`t_c_idx`, `t_c_idx1`):
                        // running it again does not stop, it builds a second index.
                        format!(
                            "an unnamed index on `{table}` is built CONCURRENTLY, outside any transaction: if the migration fails after it (or the build fails, leaving an INVALID index), running the migration again does not stop here but builds a second index under a new name PostgreSQL picks, beside the first or its INVALID leftover, and every write then updates both"
                        )
                    } else if resumes {
                        format!(
                            "{} is built CONCURRENTLY: if the build fails it leaves an INVALID index, and the retry, which {} starts at this statement, stops with \"already exists\"",
                            describe_index(name.as_deref()),
                            site.migration.framework.label()
                        )
                    } else {
                        format!(
                            "{} is built CONCURRENTLY, outside any transaction: if the migration fails after it (or the build itself fails, leaving an INVALID index), running the migration again stops here with \"already exists\"",
                            describe_index(name.as_deref())
                        )
                    }
                }
                // A drop that fails leaves the index (or an INVALID one) to drop again: only a
                // failure after it, in the same migration, makes the retry stop here.
                OpKind::DropIndex {
                    name,
                    concurrently: true,
                    if_exists: false,
                    ..
                } if !resumes && work_follows(&site) => format!(
                    "{} is dropped CONCURRENTLY, outside any transaction: if the migration fails after it, running the migration again stops here with \"does not exist\"",
                    describe_index(name.as_deref())
                ),
                _ => continue,
            };
            out.push(
                cx.report_op(&META, &site, message)
                    .with_help("make the statement safe to run twice: `DROP INDEX CONCURRENTLY IF EXISTS ix` before `CREATE INDEX CONCURRENTLY ix` (which also clears an INVALID leftover), and `DROP INDEX CONCURRENTLY IF EXISTS`; in Alembic `if_exists=True` / `if_not_exists=True` (Alembic ≥ 1.12)"),
            );
        }
    }
}

/// Statements of the body after this one that can fail.
fn work_follows(site: &super::OpSite) -> bool {
    site.ops[site.index + 1..].iter().any(|op| {
        !matches!(
            op.kind,
            OpKind::BeginTransaction | OpKind::CommitTransaction
        )
    })
}

/// An earlier `DROP INDEX ... IF EXISTS` of the same index clears what a failed run left.
fn dropped_first(earlier: &[crate::model::Op], index: Option<&str>) -> bool {
    let Some(index) = index else {
        return false;
    };
    earlier.iter().any(|op| {
        matches!(&op.kind, OpKind::DropIndex { name: Some(n), if_exists: true, .. } if same_name(n, index))
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn fixtures() {
        super::super::testing::check_fixtures(&super::META);
    }

    /// An unnamed build is not refused when run again: PostgreSQL builds another.
    #[test]
    fn an_unnamed_index_is_built_twice_not_refused() {
        let messages = super::super::testing::fixture_messages(&super::META, "bad_unnamed.sql");
        assert_eq!(messages.len(), 1, "{messages:?}");
        assert!(
            messages[0].contains("builds a second index under a new name"),
            "{messages:?}"
        );
    }
}
