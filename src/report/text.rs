//! `--format text`: source snippets with the span marked, for people at a terminal.

use annotate_snippets::renderer::DecorStyle;
use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};

use super::ReportInput;
use crate::diagnostic::Severity;

pub fn render(input: &ReportInput, color: bool) -> String {
    let renderer = if color {
        Renderer::styled()
    } else {
        Renderer::plain()
    }
    .decor_style(DecorStyle::Ascii);
    let mut out = String::new();
    if !input.runs.is_empty() {
        out.push_str(
            "round trip, per revision (upgrade → downgrade → compare → upgrade → compare):\n",
        );
        out.push_str(&super::runs_table(input.runs));
        out.push('\n');
    }
    if input.statistics {
        out.push_str(&super::statistics(input));
        out.push('\n');
    } else {
        out.push_str(&snippets(input, &renderer));
    }
    let s = input.summary;
    if let Some(verdict) = input.verdict {
        out.push_str(&format!("verdict: {}\n", verdict.headline()));
    }
    if let Some(counts) = s.roundtrip {
        out.push_str(&format!("round trip: {}\n", counts.describe()));
    }
    out.push_str(&super::totals(input));
    out
}

/// Each finding with its source snippet, the span marked, and its help.
fn snippets(input: &ReportInput, renderer: &Renderer) -> String {
    let mut out = String::new();
    for diagnostic in input.diagnostics {
        let level = match diagnostic.severity {
            Severity::Error => Level::ERROR,
            Severity::Warning => Level::WARNING,
            Severity::Note => Level::NOTE,
        };
        let title = level
            .primary_title(diagnostic.message.as_str())
            .id(diagnostic.rule);
        let mut group = Group::with_title(title);
        if let Some(span) = diagnostic.span {
            let file = input.sources.get(span.file);
            let end = span
                .end
                .min(file.text.len())
                .max(span.start.min(file.text.len()));
            let start = span.start.min(end);
            // Mark only the first line of a multi-line span; the rest is context.
            let first_line_end = file.text[start..end].find('\n').map_or(end, |i| start + i);
            let mut snippet = Snippet::source(file.text.as_str())
                .path(file.path.as_str())
                .fold(true);
            snippet =
                snippet.annotation(AnnotationKind::Primary.span(start..first_line_end.max(start)));
            group = group.element(snippet);
        }
        let mut report = vec![group];
        if let Some(help) = &diagnostic.help {
            report.push(Group::with_title(
                Level::HELP.secondary_title(help.as_str()),
            ));
        }
        if let Some(fix) = &diagnostic.fix {
            let how = match fix.applicability {
                crate::fix::Applicability::Safe => "`check --fix`",
                crate::fix::Applicability::Unsafe => "`check --fix --unsafe-fixes`",
            };
            let line = format!("fix available: {} ({how}; `--diff` shows it)", fix.title);
            report.push(Group::with_title(Level::NOTE.secondary_title(line)));
        }
        out.push_str(&renderer.render(&report));
        out.push_str("\n\n");
    }
    out
}
