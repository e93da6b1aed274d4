//! Reporters: each reads diagnostics (and rule metadata) and writes one format.

pub mod json;
pub mod text;

use serde::Serialize;

use crate::diagnostic::{Diagnostic, RuleMeta, Severity};
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
