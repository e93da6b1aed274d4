//! `--format markdown`: the report for a pull-request comment or the job summary.

use super::ReportInput;
use crate::diagnostic::{Severity, Status};

/// Marks our own comment so `migration-gate comment` updates it instead of adding another.
pub const MARKER: &str = "<!-- migration-gate report -->";

fn icon(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "🛑 error",
        Severity::Warning => "⚠️ warning",
        Severity::Note => "ℹ️ note",
    }
}

/// Text safe inside a table cell: no pipes, no line breaks, no HTML.
fn cell(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('|', "\\|")
        .replace(['\r', '\n'], " ")
}

fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

/// The report, kept under `max_bytes` (GitHub: 65,536 characters for a comment, 1 MiB for a
/// step summary) by leaving out rows and saying so.
pub fn render(input: &ReportInput, max_bytes: usize) -> String {
    let s = input.summary;
    let verdict = if s.errors > 0 { "❌" } else { "✅" };
    let mut head = format!(
        "{MARKER}\n### {verdict} migration-gate: {}, {}, {}\n\n{} and {} checked.\n\n",
        plural(s.errors, "error"),
        plural(s.warnings, "warning"),
        plural(s.notes, "note"),
        plural(s.files, "file"),
        plural(s.revisions, "revision"),
    );
    if let Some(verdict) = input.verdict {
        let icon = if verdict.ready { "🟢" } else { "🔴" };
        head.push_str(&format!(
            "**Release gate: {icon} {}**\n\nApplied: {}. Pending: {}.\n\n",
            cell(&verdict.headline()),
            list_or_none(&verdict.applied),
            list_or_none(&verdict.pending)
        ));
    }
    if !input.runs.is_empty() {
        let count = |status| input.runs.iter().filter(|r| r.status == status).count();
        head.push_str(&format!(
            "Round trip (upgrade → downgrade → upgrade, schema compared): {} passed, {} failed, {} skipped.\n\n",
            count(Status::Passed),
            count(Status::Failed),
            count(Status::Skipped)
        ));
    }
    let mut rows = Vec::new();
    let mut details = Vec::new();
    let mut ordered: Vec<_> = input.diagnostics.iter().collect();
    // Errors first: when rows must be left out, notes go before errors.
    ordered.sort_by_key(|d| std::cmp::Reverse(d.severity));
    for diagnostic in ordered {
        let location = input.location(diagnostic);
        let place = match &location {
            Some(l) => {
                let label = format!("{}:{}", l.path, l.line);
                match &input.links {
                    Some(base) => format!(
                        "[`{}`]({base}{}#L{})",
                        cell(&label),
                        super::repository_relative(&l.path),
                        l.line
                    ),
                    None => format!("`{}`", cell(&label)),
                }
            }
            None => String::new(),
        };
        let rule_link = format!(
            "[`{}`]({}/blob/main/rules/{}.md)",
            diagnostic.rule,
            env!("CARGO_PKG_REPOSITORY"),
            diagnostic.rule
        );
        rows.push(format!(
            "| {} | {rule_link} | {place} | {} |\n",
            icon(diagnostic.severity),
            cell(&diagnostic.message)
        ));
        if let Some(help) = &diagnostic.help {
            details.push(format!(
                "- **`{}`** {}: {}\n",
                diagnostic.rule,
                location
                    .as_ref()
                    .map(|l| format!("at `{}:{}`", l.path, l.line))
                    .unwrap_or_default(),
                cell(help)
            ));
        }
    }
    let mut runs = Vec::new();
    let mut traces = Vec::new();
    for run in input.runs {
        for traced in &run.trace {
            let mut effects: Vec<String> = traced
                .locks
                .iter()
                .map(|l| format!("{} on `{}`", l.mode, cell(&l.table)))
                .collect();
            effects.extend(
                traced
                    .rewritten
                    .iter()
                    .map(|t| format!("**rewrote** `{}`", cell(t))),
            );
            let statement: String = traced.statement.chars().take(120).collect();
            traces.push(format!(
                "| `{}` | `{}` | {} |\n",
                cell(&run.revision),
                cell(&statement),
                if effects.is_empty() {
                    "—".to_string()
                } else {
                    effects.join(", ")
                }
            ));
        }
        let steps: Vec<String> = run
            .steps
            .iter()
            .map(|s| format!("{} {} ({} ms)", s.step, s.status.label(), s.millis))
            .collect();
        runs.push(format!(
            "| `{}` | {} | {} ms | {}{} |\n",
            cell(&run.revision),
            run.status.label(),
            run.millis,
            cell(&steps.join(", ")),
            run.note
                .as_deref()
                .map(|n| format!(" — {}", cell(n)))
                .unwrap_or_default()
        ));
    }

    let table_head = "| | Rule | Where | Finding |\n| --- | --- | --- | --- |\n";
    let footer_budget = 400;
    let mut out = head;
    if !rows.is_empty() {
        out.push_str(table_head);
        let mut left_out = 0;
        for row in &rows {
            if out.len() + row.len() + footer_budget > max_bytes {
                left_out += 1;
                continue;
            }
            out.push_str(row);
        }
        if left_out > 0 {
            out.push_str(&format!(
                "\n…and {} not shown here: the job log and the SARIF report have them all.\n",
                plural(left_out, "more finding")
            ));
        }
        out.push('\n');
    }
    let mut sections = Vec::new();
    if !details.is_empty() {
        sections.push(format!(
            "<details><summary>How to fix</summary>\n\n{}\n</details>\n\n",
            details.concat()
        ));
    }
    if !runs.is_empty() {
        sections.push(format!(
            "<details><summary>Round trip per revision</summary>\n\n| Revision | Status | Time | Steps |\n| --- | --- | --- | --- |\n{}\n</details>\n\n",
            runs.concat()
        ));
    }
    if !traces.is_empty() {
        sections.push(format!(
            "<details><summary>Locks and rewrites observed</summary>\n\n| Revision | Statement | Took |\n| --- | --- | --- |\n{}\n</details>\n\n",
            traces.concat()
        ));
    }
    for section in sections {
        if out.len() + section.len() + 100 <= max_bytes {
            out.push_str(&section);
        }
    }
    out.push_str(&format!(
        "<sub>migration-gate {} · `migration-gate explain <rule>` tells why and shows the safe way</sub>\n",
        env!("CARGO_PKG_VERSION")
    ));
    out
}

fn list_or_none(ids: &[String]) -> String {
    if ids.is_empty() {
        "none".to_string()
    } else {
        ids.iter()
            .map(|id| format!("`{}`", cell(id)))
            .collect::<Vec<_>>()
            .join(", ")
    }
}
