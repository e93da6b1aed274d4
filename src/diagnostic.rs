//! Findings and the metadata of the rules that produce them.

use serde::{Deserialize, Serialize};

use crate::model::{Phase, Span};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Note,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Note => "note",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// Which stage of the tool produced a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    Lint,
    Graph,
    Roundtrip,
    /// `roundtrip --compat`: what a deploy's other version meets (reported as its own section).
    Deploy,
    Gate,
}

/// What a rule is, for `rules`, `explain` and the reporters.
#[derive(Debug, Clone, Copy)]
pub struct RuleMeta {
    pub id: &'static str,
    pub severity: Severity,
    pub summary: &'static str,
    /// The full Markdown documentation, `rules/<id>.md`.
    pub doc: &'static str,
    pub origin: Origin,
}

#[derive(Debug, Clone)]
pub struct Diagnostic {
    pub rule: &'static str,
    pub severity: Severity,
    pub message: String,
    pub help: Option<String>,
    pub span: Option<Span>,
    pub revision: Option<String>,
    pub phase: Option<Phase>,
    pub origin: Origin,
    /// The table the finding is about, when there is one: the release gate weighs findings by
    /// that table's size.
    pub table: Option<String>,
    /// Edits of the source that make the finding go away, when the rule knows them.
    pub fix: Option<crate::fix::Fix>,
}

impl Diagnostic {
    pub fn new(meta: &RuleMeta, span: Span, message: impl Into<String>) -> Self {
        Diagnostic {
            rule: meta.id,
            severity: meta.severity,
            message: message.into(),
            help: None,
            span: Some(span),
            revision: None,
            phase: None,
            origin: meta.origin,
            table: None,
            fix: None,
        }
    }

    /// A finding about something no file holds: the state of a database.
    pub fn unplaced(meta: &RuleMeta, message: impl Into<String>) -> Self {
        Diagnostic {
            span: None,
            ..Diagnostic::new(meta, Span::new(crate::model::FileId(0), 0..0), message)
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn with_severity(mut self, severity: Severity) -> Self {
        self.severity = severity;
        self
    }

    pub fn about_table(mut self, table: Option<&str>) -> Self {
        self.table = table.map(str::to_string);
        self
    }

    pub fn with_fix(mut self, fix: Option<crate::fix::Fix>) -> Self {
        self.fix = fix;
        self
    }

    pub fn in_phase(mut self, phase: Phase) -> Self {
        self.phase = Some(phase);
        self
    }
}

/// What the round trip did with one revision: reported next to the findings (text, JSON,
/// Markdown, JUnit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Passed,
    Failed,
    Skipped,
    /// The upgrade sent no SQL (a guard returned early): nothing was proven, and it is never
    /// counted as passed.
    RanNothing,
    /// The upgrade passed; the downgrade raises on purpose (or the config accepts it as
    /// irreversible), so there is no way back to prove.
    Irreversible,
}

#[derive(Debug, Clone, Serialize)]
pub struct StepResult {
    pub step: &'static str,
    pub status: Status,
    pub millis: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct RevisionResult {
    pub set: String,
    pub revision: String,
    pub path: String,
    pub status: Status,
    pub millis: u64,
    pub steps: Vec<StepResult>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// `--trace-locks`: what each statement of the first upgrade locked and rewrote.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub trace: Vec<TracedStatement>,
    /// The SQL the first upgrade sent to the database (Alembic revisions: what op.* calls and
    /// ORM code generated), in order.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub sql: Vec<String>,
    /// `sql` holds only the first statements: the run's budget for captured SQL ran out.
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub sql_incomplete: bool,
    /// BEGIN / COMMIT in `sql` stand where PostgreSQL saw transactions begin and end; without
    /// them the statements ran in the revision's one transaction, as far as is known.
    #[serde(skip)]
    pub sql_transactions: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TracedStatement {
    pub statement: String,
    /// Locks the statement added (relation-level, as pg_locks names the modes).
    pub locks: Vec<TracedLock>,
    /// Tables that existed before the revision and got a new file: rewritten.
    pub rewritten: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TracedLock {
    pub table: String,
    pub mode: String,
    /// The table existed before the revision (its rows and its users are at stake).
    pub existed: bool,
}

/// The release gate's answer: may this database be deployed to?
#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    pub ready: bool,
    pub reasons: Vec<String>,
    /// Revisions the database reports as applied.
    pub applied: Vec<String>,
    /// Revisions the deploy will apply, in order.
    pub pending: Vec<String>,
}

impl Verdict {
    pub fn headline(&self) -> String {
        if self.ready {
            format!(
                "READY: {} pending revision(s) can be deployed",
                self.pending.len()
            )
        } else {
            format!("NOT READY: {}", self.reasons.join("; "))
        }
    }
}
