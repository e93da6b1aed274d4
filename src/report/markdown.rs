//! `--format markdown`: the report for a pull-request comment or the job summary.
//!
//! Written for GitHub's comment column (about 780 px): no wide tables, one section per file with
//! its findings as a list (errors first, each message visible), notes folded away, and a clean
//! run said in one line. Blocks are separated by [`CUT`] so that a combined comment can be
//! shortened between blocks, never inside one.

use std::collections::BTreeMap;

use super::{Command, ReportInput};
use crate::diagnostic::{Diagnostic, RevisionResult, Severity, Status};

/// Marks our own comment so `migration-gate comment` updates it instead of adding another.
pub const MARKER: &str = "<!-- migration-gate report -->";
/// GitHub's limit on a comment body is 65,536 characters; bytes are a safe bound.
pub const COMMENT_LIMIT: usize = 65_000;
/// Where a report may be cut when a comment must be shortened.
pub const CUT: &str = "<!-- migration-gate:cut -->";

fn icon(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "🛑",
        Severity::Warning => "⚠️",
        Severity::Note => "ℹ️",
    }
}

fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

/// Message text as inline Markdown: code spans stay as written, HTML outside them is escaped,
/// line breaks become spaces.
fn inline(text: &str) -> String {
    let flat = text.replace(['\r', '\n'], " ");
    flat.split('`')
        .enumerate()
        .map(|(i, part)| {
            if i % 2 == 1 {
                part.to_string()
            } else {
                part.replace('&', "&amp;")
                    .replace('<', "&lt;")
                    .replace('>', "&gt;")
            }
        })
        .collect::<Vec<_>>()
        .join("`")
}

/// A path or identifier inside a code span (backticks in it would end the span).
fn code(text: &str) -> String {
    format!("`{}`", text.replace('`', "'"))
}

fn title(command: Command) -> &'static str {
    match command {
        Command::Check => "Lint",
        Command::Roundtrip => "Round trip",
        Command::Gate => "Release gate",
    }
}

fn counts(input: &ReportInput) -> String {
    let s = input.summary;
    format!(
        "{}, {}, {}",
        plural(s.errors, "error"),
        plural(s.warnings, "warning"),
        plural(s.notes, "note")
    )
}

/// The report, kept under `max_bytes` (GitHub: 65,536 characters for a comment, 1 MiB for a
/// step summary) by leaving out whole file sections and saying so.
pub fn render(input: &ReportInput, max_bytes: usize) -> String {
    let s = input.summary;
    let failed = s.errors > 0 || input.incomplete.is_some();
    let round_trip_failed = input.runs.iter().any(|r| r.status == Status::Failed);
    let verdict_blocks = input.verdict.is_some_and(|v| !v.ready);
    let mark = if failed || round_trip_failed || verdict_blocks {
        "❌"
    } else if s.warnings > 0 {
        "⚠️"
    } else {
        "✅"
    };
    let checked = format!(
        "{} and {}",
        plural(s.files, "file"),
        plural(s.revisions, "revision")
    );
    if input.diagnostics.is_empty() && input.incomplete.is_none() && input.verdict.is_none() {
        let what = match input.command {
            Command::Roundtrip if !input.runs.is_empty() => format!(
                "{} passed upgrade → downgrade → upgrade with the schema compared",
                plural(input.runs.len(), "revision")
            ),
            _ => format!("no findings in {checked}"),
        };
        // A passing round trip still shows what it saw the revisions do.
        let observed: String = [traces_block(input.runs), sql_block(input.runs)]
            .into_iter()
            .flatten()
            .map(|block| format!("{block}\n"))
            .collect();
        return format!(
            "{mark} **migration-gate · {}**: {what}.\n\n{observed}{CUT}\n",
            title(input.command)
        );
    }

    let mut head = format!(
        "### {mark} migration-gate · {}: {}\n\n",
        title(input.command),
        counts(input)
    );
    if let Some(problem) = &input.incomplete {
        head.push_str(&format!("**Incomplete:** {}\n\n", inline(problem)));
    }
    if let Some(verdict) = input.verdict {
        let light = if verdict.ready { "🟢" } else { "🔴" };
        head.push_str(&format!(
            "**{light} {}**<br>Applied: {}. Pending: {}.\n\n",
            inline(&verdict.headline()),
            list_or_none(&verdict.applied),
            list_or_none(&verdict.pending)
        ));
    }
    if let Some(counts) = input.summary.roundtrip {
        head.push_str(&format!(
            "Round trip (upgrade → downgrade → upgrade, schema compared): {}.\n\n",
            counts.describe()
        ));
    }
    head.push_str(&format!("{checked} checked.\n"));

    let mut blocks = vec![head];
    blocks.extend(deploy_section(input));
    blocks.extend(file_sections(input));
    if let Some(block) = runs_block(input.runs) {
        blocks.push(block);
    }
    if let Some(block) = traces_block(input.runs) {
        blocks.push(block);
    }
    if let Some(block) = sql_block(input.runs) {
        blocks.push(block);
    }
    let footer = format!(
        "<sub>migration-gate {} · `migration-gate explain RULE` tells why and shows the safe way</sub>\n",
        env!("CARGO_PKG_VERSION")
    );
    fit(blocks, &footer, max_bytes)
}

/// Blocks in order while they fit, then a line saying how many were left out.
fn fit(blocks: Vec<String>, footer: &str, max_bytes: usize) -> String {
    let mut out = String::new();
    let reserve = footer.len() + 300;
    let mut left_out = 0;
    for (index, block) in blocks.iter().enumerate() {
        if index > 0 && out.len() + block.len() + CUT.len() + reserve > max_bytes {
            left_out += 1;
            continue;
        }
        // HTML blocks (`</details>`, the cut marker) end only at a blank line: without one,
        // the next heading would be swallowed as raw HTML.
        out.push_str(block.trim_end_matches('\n'));
        out.push_str("\n\n");
        out.push_str(CUT);
        out.push_str("\n\n");
    }
    if left_out > 0 {
        out.push_str(&format!(
            "\n…and {} not shown here for length: the job log, the job summary and the SARIF report have everything.\n\n",
            plural(left_out, "more section")
        ));
    }
    out.push('\n');
    out.push_str(footer);
    out
}

/// What the other version of a deploy meets (`roundtrip --compat`), apart from the files'
/// findings: whether the deploy itself is safe is read before what each file does.
fn deploy_section(input: &ReportInput) -> Option<String> {
    let found: Vec<Located> = input
        .diagnostics
        .iter()
        .filter(|d| d.origin == crate::diagnostic::Origin::Deploy)
        .map(|d| (d, input.location(d)))
        .collect();
    if found.is_empty() {
        return None;
    }
    let mut block = String::from("#### 🚦 Deploy compatibility\n\n");
    let (notes, shown): (Vec<&Located>, Vec<&Located>) = found
        .iter()
        .partition(|(d, _)| d.severity == Severity::Note);
    for (diagnostic, location) in &shown {
        block.push_str(&finding_at(input, diagnostic, location.as_ref(), true));
    }
    if !notes.is_empty() {
        block.push_str(&format!(
            "\n<details><summary>{}</summary>\n\n",
            plural(notes.len(), "note")
        ));
        for (diagnostic, location) in &notes {
            block.push_str(&finding_at(input, diagnostic, location.as_ref(), true));
        }
        block.push_str("\n</details>\n");
    }
    Some(block)
}

/// One section per file: most severe files first, findings in line order within severity.
fn file_sections(input: &ReportInput) -> Vec<String> {
    let mut by_file: BTreeMap<String, Vec<(&Diagnostic, Option<super::Location>)>> =
        BTreeMap::new();
    let in_files = input
        .diagnostics
        .iter()
        .filter(|d| d.origin != crate::diagnostic::Origin::Deploy);
    for diagnostic in in_files {
        let location = input.location(diagnostic);
        let path = location
            .as_ref()
            .map(|l| l.path.clone())
            .unwrap_or_default();
        by_file
            .entry(path)
            .or_default()
            .push((diagnostic, location));
    }
    let mut files: Vec<_> = by_file.into_iter().collect();
    let rank = |findings: &[(&Diagnostic, Option<super::Location>)]| {
        let worst = findings.iter().map(|(d, _)| d.severity).max();
        let count = findings
            .iter()
            .filter(|(d, _)| Some(d.severity) == worst)
            .count();
        (std::cmp::Reverse(worst), std::cmp::Reverse(count))
    };
    files.sort_by(|a, b| rank(&a.1).cmp(&rank(&b.1)).then_with(|| a.0.cmp(&b.0)));

    files
        .into_iter()
        .map(|(path, mut findings)| {
            findings
                .sort_by_key(|(d, l)| (std::cmp::Reverse(d.severity), l.as_ref().map(|l| l.line)));
            let heading = if path.is_empty() {
                "#### The migration history\n\n".to_string()
            } else {
                match &input.links {
                    Some(base) => format!(
                        "#### 📄 [{}]({base}{})\n\n",
                        code(&path),
                        super::repository_uri(&path)
                    ),
                    None => format!("#### 📄 {}\n\n", code(&path)),
                }
            };
            let mut block = heading;
            let (notes, shown): (Vec<_>, Vec<_>) = findings
                .iter()
                .partition(|(d, _)| d.severity == Severity::Note);
            for group in same_rule_groups(&shown) {
                block.push_str(&grouped_finding(input, &group));
            }
            if !notes.is_empty() {
                block.push_str(&format!(
                    "\n<details><summary>{}</summary>\n\n",
                    plural(notes.len(), "note")
                ));
                for group in same_rule_groups(&notes) {
                    block.push_str(&grouped_finding(input, &group));
                }
                block.push_str("\n</details>\n");
            }
            block
        })
        .collect()
}

type Located<'a> = (&'a Diagnostic, Option<super::Location>);

/// A file's findings with those of one rule together, in the order their first one comes: a
/// rule that fires on every statement of a file is read once, with its count.
fn same_rule_groups<'a, 'b>(findings: &'b [&'b Located<'a>]) -> Vec<Vec<&'b Located<'a>>> {
    let mut groups: Vec<Vec<&Located>> = Vec::new();
    for &item in findings {
        match groups
            .iter_mut()
            .find(|g| g[0].0.rule == item.0.rule && g[0].0.severity == item.0.severity)
        {
            Some(group) => group.push(item),
            None => groups.push(vec![item]),
        }
    }
    groups
}

/// The first finding of a group in full; the others as their lines, or, when they stand on the
/// first one's line (model drift on the head revision), as their messages: a line number
/// repeated would say nothing of what they are.
fn grouped_finding(input: &ReportInput, group: &[&Located]) -> String {
    let (first, location) = group[0];
    let mut item = finding(input, first, location.as_ref());
    let others = &group[1..];
    if others.is_empty() {
        return item;
    }
    let line_of = |l: &Option<super::Location>| l.as_ref().map(|l| l.line);
    let first_line = line_of(location);
    if others.iter().all(|(_, l)| line_of(l) == first_line) {
        let messages: Vec<String> = others.iter().map(|(d, _)| inline(&d.message)).collect();
        item.push_str(&format!(
            "  <br>…and {} like it on the same line: {}\n",
            others.len(),
            messages.join("; ")
        ));
        return item;
    }
    let mut lines: Vec<String> = Vec::new();
    for (_, l) in others {
        let line = line_of(l).map_or("?".into(), |n| n.to_string());
        if !lines.contains(&line) {
            lines.push(line);
        }
    }
    item.push_str(&format!(
        "  <br>…and {} like it in this file (line{} {})\n",
        others.len(),
        if lines.len() == 1 { "" } else { "s" },
        lines.join(", ")
    ));
    item
}

fn finding(
    input: &ReportInput,
    diagnostic: &Diagnostic,
    location: Option<&super::Location>,
) -> String {
    finding_at(input, diagnostic, location, false)
}

/// A finding; with `with_path`, its place names the file too (outside the file's own section).
fn finding_at(
    input: &ReportInput,
    diagnostic: &Diagnostic,
    location: Option<&super::Location>,
    with_path: bool,
) -> String {
    let rule = format!(
        "[{}]({}/blob/v{}/rules/{}.md)",
        code(diagnostic.rule),
        env!("CARGO_PKG_REPOSITORY"),
        env!("CARGO_PKG_VERSION"),
        diagnostic.rule
    );
    let place = match location {
        Some(l) => {
            let text = if with_path {
                format!("{} line {}", code(&l.path), l.line)
            } else {
                format!("line {}", l.line)
            };
            match &input.links {
                Some(base) => format!(
                    " at [{text}]({base}{}#L{})",
                    super::repository_uri(&l.path),
                    l.line
                ),
                None => format!(" at {text}"),
            }
        }
        None => String::new(),
    };
    let phase = match diagnostic.phase {
        Some(crate::model::Phase::Downgrade) => " (downgrade)",
        _ => "",
    };
    let mut item = format!(
        "- {} **{}**{place}{phase}: {}\n",
        icon(diagnostic.severity),
        rule,
        inline(&diagnostic.message)
    );
    if let Some(help) = &diagnostic.help {
        item.push_str(&format!("  <br>**Fix:** {}\n", inline(help)));
    }
    item
}

fn runs_block(runs: &[RevisionResult]) -> Option<String> {
    if runs.is_empty() {
        return None;
    }
    let mut block = format!(
        "<details><summary>Round trip per revision ({})</summary>\n\n| Revision | Result | Time |\n| --- | --- | --- |\n",
        plural(runs.len(), "revision")
    );
    for run in runs {
        let failed_step = run
            .steps
            .iter()
            .find(|s| s.status == Status::Failed)
            .map(|s| format!(" at {}", s.step))
            .unwrap_or_default();
        let note = run
            .note
            .as_deref()
            .map(|n| format!(": {}", inline(n).replace('|', "\\|")))
            .unwrap_or_default();
        let result = match run.status {
            Status::Passed => "✅ passed".to_string(),
            Status::Failed => format!("❌ failed{failed_step}"),
            Status::Skipped => format!("⏭️ skipped{note}"),
            Status::RanNothing => format!("⚪ ran nothing{note}"),
            Status::Irreversible => format!("↪️ irreversible{note}"),
        };
        block.push_str(&format!(
            "| {} | {result} | {} ms |\n",
            code(&run.revision),
            run.millis
        ));
    }
    block.push_str("\n</details>\n");
    Some(block)
}

fn traces_block(runs: &[RevisionResult]) -> Option<String> {
    let mut lines = Vec::new();
    for run in runs {
        for traced in &run.trace {
            let mut effects: Vec<String> = traced
                .locks
                .iter()
                .map(|l| format!("{} on {}", l.mode, code(&l.table)))
                .collect();
            effects.extend(
                traced
                    .rewritten
                    .iter()
                    .map(|t| format!("**rewrote** {}", code(t))),
            );
            let statement: String = traced.statement.chars().take(120).collect();
            lines.push(format!(
                "- {} {}: {}\n",
                code(&run.revision),
                code(&statement),
                if effects.is_empty() {
                    "no table locks".to_string()
                } else {
                    effects.join(", ")
                }
            ));
        }
    }
    if lines.is_empty() {
        return None;
    }
    Some(format!(
        "<details><summary>Locks and rewrites observed</summary>\n\n{}\n</details>\n",
        lines.concat()
    ))
}

/// The SQL each revision's upgrade ran, folded: what the revision really does to the database.
fn sql_block(runs: &[RevisionResult]) -> Option<String> {
    let sections: Vec<String> = runs
        .iter()
        .filter(|run| !run.sql.is_empty())
        .map(|run| {
            let statements: String = run
                .sql
                .iter()
                .map(|s| format!("{};\n", s.replace("```", "` ` `")))
                .collect();
            format!("{}\n\n```sql\n{statements}```\n", code(&run.revision))
        })
        .collect();
    if sections.is_empty() {
        return None;
    }
    Some(format!(
        "<details><summary>SQL each revision ran</summary>\n\n{}\n</details>\n",
        sections.join("\n")
    ))
}

fn list_or_none(ids: &[String]) -> String {
    if ids.is_empty() {
        "none".to_string()
    } else {
        ids.iter().map(|id| code(id)).collect::<Vec<_>>().join(", ")
    }
}

/// What a report says when its command stopped before it could check anything (exit code 2).
pub fn render_failure(command: Command, message: &str) -> String {
    let title = title(command);
    format!(
        "### ❌ migration-gate · {title}: did not run to the end\n\n```text\n{}\n```\n\n{CUT}\n",
        message.replace("```", "'''")
    )
}

/// Several reports as one pull-request comment under `max_bytes`: every report's headline is
/// kept, and the other blocks are kept in order while they fit; what is left out is named,
/// with a link to the job summary that has it all.
pub fn combine(reports: &[String], max_bytes: usize, summary_link: Option<&str>) -> String {
    let mut out = format!("{MARKER}\n");
    let is_footer = |b: &str| b.starts_with("<sub>migration-gate");
    let split: Vec<Vec<&str>> = reports
        .iter()
        .map(|r| {
            r.split(CUT)
                .map(|b| b.trim_matches('\n'))
                .filter(|b| !b.is_empty() && !is_footer(b))
                .collect()
        })
        .collect();
    let footer = reports.iter().rev().find_map(|r| {
        r.split(CUT)
            .map(|b| b.trim_matches('\n'))
            .find(|b| is_footer(b))
    });
    let headlines: usize = split
        .iter()
        .filter_map(|blocks| blocks.first())
        .map(|b| b.len() + 2)
        .sum();
    let reserve = 400 + summary_link.map_or(0, str::len);
    let mut room = max_bytes.saturating_sub(out.len() + headlines + reserve);
    let mut left_out = 0;
    for blocks in &split {
        for (index, block) in blocks.iter().enumerate() {
            if index == 0 {
                out.push_str(block);
                out.push_str("\n\n");
            } else if block.len() + 2 <= room {
                room -= block.len() + 2;
                out.push_str(block);
                out.push_str("\n\n");
            } else {
                left_out += 1;
            }
        }
    }
    if left_out > 0 {
        let where_ = match summary_link {
            Some(link) => format!("[the job summary]({link})"),
            None => "the job summary".to_string(),
        };
        out.push_str(&format!(
            "…{} left out to fit GitHub's comment limit: {where_} has the whole report.\n",
            plural(left_out, "section")
        ));
    }
    if let Some(footer) = footer {
        out.push_str(footer);
        out.push('\n');
    }
    out
}
