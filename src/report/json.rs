//! `--format json`: the stable machine-readable shape from the design.

use serde::Serialize;

use super::{ReportInput, Summary};
use crate::diagnostic::{Origin, Severity};
use crate::model::Phase;

#[derive(Serialize)]
struct Document<'a> {
    version: u32,
    tool: Tool,
    diagnostics: Vec<JsonDiagnostic<'a>>,
    summary: Summary,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    roundtrip: &'a [crate::diagnostic::RevisionResult],
    #[serde(skip_serializing_if = "Option::is_none")]
    gate: Option<&'a crate::diagnostic::Verdict>,
    /// Why the command stopped before its end (exit code 2).
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
}

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct JsonDiagnostic<'a> {
    rule: &'a str,
    severity: Severity,
    message: &'a str,
    help: Option<&'a str>,
    path: Option<String>,
    line: Option<usize>,
    column: Option<usize>,
    end_line: Option<usize>,
    end_column: Option<usize>,
    revision: Option<&'a str>,
    phase: Option<Phase>,
    source: Origin,
    #[serde(skip_serializing_if = "Option::is_none")]
    fix: Option<JsonFix<'a>>,
}

/// A finding's fix: what it does, whether `--fix` applies it, and its edits.
#[derive(Serialize)]
struct JsonFix<'a> {
    title: &'a str,
    applicability: crate::fix::Applicability,
    path: String,
    edits: Vec<super::EditLocation>,
    /// The same change as whole lines replaced (a pull-request suggestion).
    lines: Option<super::LineReplacement>,
}

pub fn render(input: &ReportInput) -> String {
    let diagnostics = input
        .diagnostics
        .iter()
        .map(|d| {
            let location = input.location(d);
            JsonDiagnostic {
                rule: d.rule,
                severity: d.severity,
                message: &d.message,
                help: d.help.as_deref(),
                path: location.as_ref().map(|l| l.path.clone()),
                line: location.as_ref().map(|l| l.line),
                column: location.as_ref().map(|l| l.column),
                end_line: location.as_ref().map(|l| l.end_line),
                end_column: location.as_ref().map(|l| l.end_column),
                revision: d.revision.as_deref(),
                phase: d.phase,
                source: d.origin,
                fix: d
                    .fix
                    .as_ref()
                    .zip(input.fix_edits(d))
                    .map(|(fix, (path, edits))| JsonFix {
                        title: &fix.title,
                        applicability: fix.applicability,
                        path,
                        edits,
                        lines: input.fix_lines(d),
                    }),
            }
        })
        .collect();
    let document = Document {
        version: 1,
        tool: Tool {
            name: "migration-gate",
            version: env!("CARGO_PKG_VERSION"),
        },
        diagnostics,
        summary: input.summary,
        roundtrip: input.runs,
        gate: input.verdict,
        error: input.failure,
    };
    let mut out = serde_json::to_string_pretty(&document)
        .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    out.push('\n');
    out
}
