//! Reporters: each reads diagnostics (and rule metadata) and writes one format.

pub mod json;
pub mod text;

use serde::Serialize;

use crate::diagnostic::{Diagnostic, RevisionResult, RuleMeta, Severity, Status};
use crate::model::Sources;

#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Summary {
    pub files: usize,
    pub revisions: usize,
    pub errors: usize,
    pub warnings: usize,
    pub notes: usize,
}

impl Summary {
    pub fn count(files: usize, revisions: usize, diagnostics: &[Diagnostic]) -> Self {
        let of = |s: Severity| diagnostics.iter().filter(|d| d.severity == s).count();
        Summary {
            files,
            revisions,
            errors: of(Severity::Error),
            warnings: of(Severity::Warning),
            notes: of(Severity::Note),
        }
    }
}

/// Everything a reporter may read.
pub struct ReportInput<'a> {
    pub diagnostics: &'a [Diagnostic],
    pub sources: &'a Sources,
    pub rules: &'a [&'static RuleMeta],
    pub summary: Summary,
    /// What a round trip did per revision; empty for `check`.
    pub runs: &'a [RevisionResult],
}

/// A diagnostic's place in a file, 1-based, end column exclusive.
pub struct Location {
    pub path: String,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
}

impl ReportInput<'_> {
    pub fn location(&self, diagnostic: &Diagnostic) -> Option<Location> {
        let span = diagnostic.span?;
        let file = self.sources.get(span.file);
        let (line, column) = file.line_col(span.start);
        let (end_line, end_column) = file.line_col(span.end.max(span.start));
        Some(Location {
            path: file.path.clone(),
            line,
            column,
            end_line,
            end_column,
        })
    }
}

impl Status {
    pub fn label(self) -> &'static str {
        match self {
            Status::Passed => "passed",
            Status::Failed => "FAILED",
            Status::Skipped => "skipped",
        }
    }
}

/// The per-revision table of a round trip, as plain text.
pub fn runs_table(runs: &[RevisionResult]) -> String {
    let mut out = String::new();
    let width = runs.iter().map(|r| r.revision.len()).max().unwrap_or(8);
    for run in runs {
        let steps: Vec<String> = run
            .steps
            .iter()
            .map(|s| format!("{} {} {} ms", s.step, s.status.label(), s.millis))
            .collect();
        out.push_str(&format!(
            "  {:width$}  {:7}  {:>6} ms  {}{}\n",
            run.revision,
            run.status.label(),
            run.millis,
            steps.join(", "),
            run.note
                .as_deref()
                .map(|n| format!(" ({n})"))
                .unwrap_or_default(),
        ));
    }
    out
}
