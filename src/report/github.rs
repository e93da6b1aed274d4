//! `--format github`: workflow commands that GitHub turns into annotations on the pull request.

use super::ReportInput;
use crate::diagnostic::Severity;

/// GitHub shows at most this many annotations of each type per step.
pub const ANNOTATIONS_PER_TYPE: usize = 10;

/// Escapes a workflow command's message.
pub fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a workflow command property (`file=`, `title=`): also `:` and `,`.
pub fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

fn command(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "notice",
    }
}

pub fn render(input: &ReportInput) -> String {
    let mut ordered: Vec<_> = input.diagnostics.iter().collect();
    // Most severe first, so the cap drops notes before errors.
    ordered.sort_by_key(|d| std::cmp::Reverse(d.severity));
    let mut out = String::new();
    let mut shown = [0usize; 3];
    let mut hidden = [0usize; 3];
    for diagnostic in ordered {
        let slot = diagnostic.severity as usize;
        if shown[slot] == ANNOTATIONS_PER_TYPE {
            hidden[slot] += 1;
            continue;
        }
        shown[slot] += 1;
        let mut properties = vec![format!(
            "title={}",
            escape_property(&format!("migration-gate: {}", diagnostic.rule))
        )];
        if let Some(location) = input.location(diagnostic) {
            // GitHub places annotations by the path from the repository root, not from the
            // folder the tool ran in.
            let path = super::repository_path(&location.path);
            properties.insert(0, format!("file={}", escape_property(&path)));
            properties.insert(1, format!("line={}", location.line));
            properties.insert(2, format!("col={}", location.column));
            properties.insert(3, format!("endLine={}", location.end_line));
            if location.end_line == location.line {
                properties.insert(4, format!("endColumn={}", location.end_column));
            }
        }
        let mut message = diagnostic.message.clone();
        if let Some(help) = &diagnostic.help {
            message.push_str("\nhelp: ");
            message.push_str(help);
        }
        out.push_str(&format!(
            "::{} {}::{}\n",
            command(diagnostic.severity),
            properties.join(","),
            escape_data(&message)
        ));
    }
    if let Some(verdict) = input.verdict {
        let kind = if verdict.ready { "notice" } else { "error" };
        out.push_str(&format!(
            "::{kind} title=migration-gate release gate::{}\n",
            escape_data(&verdict.headline())
        ));
    }
    let more: Vec<String> = [
        (Severity::Error, "error"),
        (Severity::Warning, "warning"),
        (Severity::Note, "note"),
    ]
    .iter()
    .filter(|(s, _)| hidden[*s as usize] > 0)
    .map(|(s, word)| {
        let n = hidden[*s as usize];
        format!("{n} more {word}{}", if n == 1 { "" } else { "s" })
    })
    .collect();
    if !more.is_empty() {
        out.push_str(&format!(
            "migration-gate: {} not shown as annotations (GitHub shows {ANNOTATIONS_PER_TYPE} per type); all findings are in the job summary\n",
            more.join(", ")
        ));
    }
    out
}
