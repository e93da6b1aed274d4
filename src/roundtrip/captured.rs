//! The static SQL rules on the SQL each Alembic revision really sent during the round trip.
//! It shows what reading the Python cannot: SQL built at run time, project helpers, ORM code.
//! Findings the static check already makes on the revision file are not repeated, and a
//! suppression of a rule in the revision file holds for its executed SQL too.

use std::collections::BTreeSet;

use crate::diagnostic::{Diagnostic, Origin, RevisionResult};
use crate::frontend::sql::{Shifted, Wrapping, lower_sql};
use crate::lint::LintOptions;
use crate::model::op::bare_name;
use crate::model::{Body, BodyState, FileId, MigrationSet, Phase, SourceFile, Sources};
use crate::rules;

/// Rules about how a revision file is written rather than about what its SQL does: the
/// round trip itself proves (or refutes) what they guess at.
const NOT_ABOUT_EXECUTED_SQL: &[&str] = &[
    // Downgrades are run for real; the captured SQL is the upgrade's.
    "missing-downgrade",
    "incomplete-downgrade",
    // Alembic's transaction handling shows in whether the step ran; the BEGIN / COMMIT in
    // the captured SQL are Alembic's own.
    "concurrent-index-in-transaction",
    "transaction-control-in-migration",
    "autocommit-block-without-transaction-per-migration",
    "batch-recreate-table",
    // Executed SQL is never dynamic, and SQLAlchemy's rendering is not the author's to fix.
    "dynamic-sql",
    "unparsed-sql",
    "unnamed-constraint",
];

/// Findings of the static SQL rules on the SQL each judged revision of `set` ran in its first
/// upgrade, placed on the revision's `def upgrade()`.
pub fn findings(
    set: &MigrationSet,
    sources: &Sources,
    results: &[RevisionResult],
    options: &LintOptions,
    static_findings: &[Diagnostic],
) -> Vec<Diagnostic> {
    let mut sources = sources.clone();
    let mut executed = set.clone();
    let mut captured_files: Vec<FileId> = Vec::new();
    for migration in &mut executed.migrations {
        let Some(id) = migration.revision_id() else {
            continue;
        };
        // A capture cut short by the run's budget is not read: rules would judge half a
        // revision (an index whose table's CREATE was not kept).
        let Some(result) = results.iter().find(|r| {
            r.set == set.root && r.revision == id && !r.sql.is_empty() && !r.sql_incomplete
        }) else {
            continue;
        };
        let text = crate::frontend::alembic::executed_sql(&result.sql);
        let path = format!(
            "{} (SQL sent by its upgrade)",
            sources.get(migration.file).path
        );
        let file = sources.push(SourceFile::new(path, text.clone()));
        migration.upgrade = Body {
            state: BodyState::Code,
            span: migration.upgrade.span,
            // With BEGIN / COMMIT where PostgreSQL saw them, the statements run as written;
            // without, as one transaction (Alembic's transactional DDL).
            ops: lower_sql(
                &text,
                file,
                &Shifted(0),
                if result.sql_transactions {
                    Wrapping::None
                } else {
                    Wrapping::Always
                },
            ),
            script: None,
            early_returns: Vec::new(),
            start: None,
            placeholder: None,
            function_end: None,
        };
        migration.file = file;
        captured_files.push(file);
    }
    if captured_files.is_empty() {
        return Vec::new();
    }
    let active: Vec<&dyn rules::Rule> = rules::registry()
        .iter()
        .copied()
        .filter(|rule| {
            let meta = rule.meta();
            meta.origin == Origin::Lint
                && options.enabled(meta.id)
                && !NOT_ABOUT_EXECUTED_SQL.contains(&meta.id)
        })
        .collect();
    let found = crate::lint::check_set(
        &executed,
        &sources,
        options,
        Some(&captured_files),
        None,
        &active,
    );
    let already: BTreeSet<(&str, Option<&str>, Option<String>)> = static_findings
        .iter()
        .map(|d| (d.rule, d.revision.as_deref(), table_key(d)))
        .collect();
    let mut kept: Vec<Diagnostic> = Vec::new();
    for mut diagnostic in found {
        let Some(span) = diagnostic.span.filter(|s| captured_files.contains(&s.file)) else {
            continue;
        };
        if diagnostic.phase != Some(Phase::Upgrade)
            || already.contains(&(
                diagnostic.rule,
                diagnostic.revision.as_deref(),
                table_key(&diagnostic),
            ))
        {
            continue;
        }
        let Some(migration) = set
            .migrations
            .iter()
            .find(|m| m.revision_id() == diagnostic.revision.as_deref())
        else {
            continue;
        };
        if silenced(sources.get(migration.file), diagnostic.rule) {
            continue;
        }
        let statement = &sources.get(span.file).text[span.range()];
        diagnostic.message = format!(
            "{} (in the SQL its upgrade sent: `{}`)",
            diagnostic.message,
            super::runner::one_line(statement, 200).replace('`', "'")
        );
        diagnostic.span = Some(migration.upgrade.span);
        diagnostic.origin = Origin::Roundtrip;
        options.apply_severity(&mut diagnostic);
        if !kept
            .iter()
            .any(|k| k.rule == diagnostic.rule && k.message == diagnostic.message)
        {
            kept.push(diagnostic);
        }
    }
    kept
}

fn table_key(diagnostic: &Diagnostic) -> Option<String> {
    diagnostic
        .table
        .as_deref()
        .map(|t| bare_name(t).to_ascii_lowercase())
}

/// The revision file silences the rule somewhere: its author has judged it for this revision.
fn silenced(file: &SourceFile, rule: &str) -> bool {
    file.suppressions
        .iter()
        .any(|s| s.rules.iter().any(|r| r == rule || r == "all"))
}
