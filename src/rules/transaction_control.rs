use crate::diagnostic::{Diagnostic, Origin, RuleMeta, Severity};
use crate::model::{Framework, Migration, OpKind, Phase, ScriptTransaction};

use super::{LintContext, Rule};

pub static META: RuleMeta = RuleMeta {
    id: "transaction-control-in-migration",
    severity: Severity::Error,
    summary: "BEGIN / COMMIT inside a transaction the framework manages, or a BEGIN that is never committed.",
    doc: include_str!("../../rules/transaction-control-in-migration.md"),
    origin: Origin::Lint,
};

pub struct TransactionControl;

impl Rule for TransactionControl {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &LintContext, out: &mut Vec<Diagnostic>) {
        for migration in cx.migrations() {
            for phase in [Phase::Upgrade, Phase::Downgrade] {
                if let Some(found) = check_body(cx, migration, phase) {
                    out.push(found);
                }
            }
        }
    }
}

/// The first misplaced transaction statement of one body, if any.
fn check_body(cx: &LintContext, migration: &Migration, phase: Phase) -> Option<Diagnostic> {
    let body = migration.body(phase);
    let framework_wraps = match (&body.script, migration.framework) {
        (Some(script), _) => script.transaction == ScriptTransaction::Wrapped,
        // Alembic runs op.execute() inside its own transaction unless in an autocommit block;
        // the op says which.
        (None, Framework::Alembic) => true,
        (None, _) => false,
    };
    if framework_wraps && migration.framework.wraps_as_one_batch() {
        return check_batch(cx, migration, phase);
    }
    let mut open_begin = None;
    for op in &body.ops {
        let is_control = matches!(
            op.kind,
            OpKind::BeginTransaction | OpKind::CommitTransaction
        );
        if framework_wraps && is_control && op.in_transaction {
            let manager = match migration.framework {
                Framework::Alembic => "Alembic",
                other => other.label(),
            };
            let statement = if op.kind == OpKind::BeginTransaction {
                "BEGIN is ignored (PostgreSQL warns that a transaction is in progress), and the COMMIT that follows"
            } else {
                "this COMMIT"
            };
            return Some(
                cx.report(&META, migration, op.span, format!("{manager} already runs this migration in a transaction: {statement} ends {manager}'s transaction early, so what follows — and {manager}'s record that the migration ran — is no longer atomic with what came before"))
                    .with_help(match migration.framework {
                        Framework::Alembic => "remove it; for a statement that must run outside a transaction use `with op.get_context().autocommit_block():`",
                        Framework::Dbmate => "remove it, or mark the section `-- migrate:up transaction:false` and manage the transaction yourself",
                        Framework::Goose => "remove it, or mark the file `-- +goose NO TRANSACTION` and manage the transaction yourself",
                        Framework::Sqlx => "remove it, or start the file with `-- no-transaction` and manage the transaction yourself",
                        Framework::SqlMigrate => "remove it, or mark the section `-- +migrate Up notransaction` and manage the transaction yourself",
                        Framework::Flyway => "remove it, or turn the framework's transaction off for this script (`-- flyway:executeInTransaction=false` in a script config)",
                        Framework::Atlas => "remove it, or start the file with an `-- atlas:txmode none` header (and a blank line) and manage the transaction yourself",
                        _ => "remove it and let the framework manage the transaction",
                    })
                    .in_phase(phase),
            );
        }
        match op.kind {
            OpKind::BeginTransaction => open_begin = Some(op.span),
            OpKind::CommitTransaction => open_begin = None,
            _ => {}
        }
    }
    let span = open_begin.filter(|_| !framework_wraps)?;
    Some(
        cx.report(&META, migration, span, "this BEGIN is never committed: the transaction stays open after the migration, the framework records the migration inside it, and closing the connection rolls both back")
            .with_help("end the migration with COMMIT")
            .in_phase(phase),
    )
}

/// A body sent as one batch (one implicit transaction): one BEGIN … COMMIT around all of it
/// only makes that transaction explicit; a COMMIT with statements after it commits part of the
/// migration on its own.
fn check_batch(cx: &LintContext, migration: &Migration, phase: Phase) -> Option<Diagnostic> {
    let ops = &migration.body(phase).ops;
    let is_control = |op: &&crate::model::Op| {
        matches!(
            op.kind,
            OpKind::BeginTransaction | OpKind::CommitTransaction
        )
    };
    let commits: Vec<usize> = (0..ops.len())
        .filter(|&i| ops[i].kind == OpKind::CommitTransaction)
        .collect();
    let framework = migration.framework.label();
    if let Some(&early) = commits
        .iter()
        .find(|&&i| ops[i + 1..].iter().any(|op| !is_control(&op)))
    {
        return Some(
            cx.report(&META, migration, ops[early].span, format!("{framework} sends this migration as one batch, one transaction: this COMMIT commits the statements before it on their own, so when a later one fails the migration stays half applied and is not recorded as run"))
                .with_help("keep one BEGIN … COMMIT around the whole file, or none, and split what must commit separately into migrations of its own")
                .in_phase(phase),
        );
    }
    let last_begin = ops
        .iter()
        .rposition(|op| op.kind == OpKind::BeginTransaction)?;
    if commits.iter().any(|&c| c > last_begin) {
        return None;
    }
    Some(
        cx.report(&META, migration, ops[last_begin].span, format!("this BEGIN is never committed: {framework} sends the migration and its record as one batch, and the transaction this BEGIN opens stays open after it; closing the connection rolls both back"))
            .with_help("end the migration with COMMIT, or leave transaction control to the batch")
            .in_phase(phase),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn fixtures() {
        super::super::testing::check_fixtures(&super::META);
    }
}
