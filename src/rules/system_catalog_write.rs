use crate::diagnostic::{Diagnostic, Origin, RuleMeta, Severity};
use crate::model::OpKind;

use super::{LintContext, Rule};

pub static META: RuleMeta = RuleMeta {
    id: "system-catalog-write",
    severity: Severity::Error,
    summary: "INSERT, UPDATE or DELETE on a system catalog (pg_class, pg_index, pg_enum, ...).",
    doc: include_str!("../../rules/system-catalog-write.md"),
    origin: Origin::Lint,
};

pub struct SystemCatalogWrite;

impl Rule for SystemCatalogWrite {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &LintContext, out: &mut Vec<Diagnostic>) {
        for site in cx.all_ops() {
            let OpKind::CatalogWrite { catalog, statement } = &site.op.kind else {
                continue;
            };
            out.push(
                cx.report_op(&META, &site, format!("{statement} on system catalog `{catalog}` edits PostgreSQL's own bookkeeping behind its back: no lock on the tables it describes, no check of the change, caches in other sessions left stale; it needs superuser, so it fails on managed PostgreSQL (RDS, Cloud SQL, Azure), and a mistake corrupts the database"))
                    .with_help("use the DDL that does it (`ALTER TYPE ... ADD VALUE`, `ALTER TABLE ... ALTER COLUMN ... TYPE`, `REINDEX ... CONCURRENTLY`, `ALTER INDEX`); if a hack is truly needed, run it by hand with a backup, not in a migration")
                    .in_phase(site.phase),
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
