//! Reporters: each reads diagnostics (and rule metadata) and writes one format.

pub mod concise;
pub mod github;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod sarif;
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
    /// A round trip's revisions by result.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub roundtrip: Option<RunCounts>,
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
            roundtrip: None,
        }
    }

    pub fn with_runs(mut self, runs: &[RevisionResult]) -> Self {
        self.roundtrip = RunCounts::of(runs);
        self
    }
}

/// Which command's results a report holds (reports title themselves by it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Check,
    Roundtrip,
    Gate,
}

impl Command {
    /// The SARIF `runAutomationDetails.id`: code scanning keeps each command's results in its
    /// own category, so a round trip's upload never closes the lint's alerts.
    pub fn automation_id(self) -> &'static str {
        match self {
            Command::Check => "migration-gate-check/",
            Command::Roundtrip => "migration-gate-roundtrip/",
            Command::Gate => "migration-gate-gate/",
        }
    }
}

/// Everything a reporter may read.
pub struct ReportInput<'a> {
    pub command: Command,
    /// Why the results are incomplete (files that could not be read), when they are.
    pub incomplete: Option<String>,
    pub diagnostics: &'a [Diagnostic],
    pub sources: &'a Sources,
    pub rules: &'a [&'static RuleMeta],
    pub summary: Summary,
    /// What a round trip did per revision; empty for `check`.
    pub runs: &'a [RevisionResult],
    /// Every revision checked, for reports that list passing ones too (JUnit).
    pub checked: &'a [CheckedRevision],
    /// Where lines can be linked: `https://github.com/OWNER/REPO/blob/SHA/`.
    pub links: Option<String>,
    /// The release gate's verdict, for `gate`.
    pub verdict: Option<&'a crate::diagnostic::Verdict>,
    /// Why the command stopped before its end (a set-up error, exit 2): reports a program
    /// reads still say so, instead of being missing or stale.
    pub failure: Option<&'a str>,
    /// `--statistics`: text and concise output count findings per rule instead of listing them.
    pub statistics: bool,
}

#[derive(Debug, Clone)]
pub struct CheckedRevision {
    pub id: String,
    pub path: String,
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
    /// A finding's fix as its file's path and its edits by line and column (1-based, columns in
    /// characters): each edit replaces from its start up to (not including) its end.
    pub fn fix_edits(&self, diagnostic: &Diagnostic) -> Option<(String, Vec<EditLocation>)> {
        let fix = diagnostic.fix.as_ref()?;
        let file = self.sources.get(fix.file);
        let edits = fix
            .edits
            .iter()
            .map(|edit| {
                let (line, column) = file.line_col(edit.range.start);
                let (end_line, end_column) = file.line_col(edit.range.end);
                EditLocation {
                    line,
                    column,
                    end_line,
                    end_column,
                    content: edit.content.clone(),
                }
            })
            .collect();
        Some((file.path.clone(), edits))
    }

    /// A finding's fix as whole lines: the lines `start_line..=end_line` of its file (1-based)
    /// replaced by `text` (no final line break), the way a pull-request suggestion replaces them.
    pub fn fix_lines(&self, diagnostic: &Diagnostic) -> Option<LineReplacement> {
        let fix = diagnostic.fix.as_ref()?;
        let file = self.sources.get(fix.file);
        let start = fix.edits.first()?.range.start;
        let end = fix.edits.iter().map(|e| e.range.end).max()?;
        let (start_line, _) = file.line_col(start);
        let (end_line, _) = file.line_col(end);
        let segment_start = file.line_start(start_line)?;
        let segment_end = file.text[end..]
            .find('\n')
            .map_or(file.text.len(), |at| end + at);
        let fixed = crate::fix::apply::apply(&file.text, &[fix]);
        let fixed_end = (segment_end + fixed.len()).checked_sub(file.text.len())?;
        Some(LineReplacement {
            start_line,
            end_line,
            text: fixed
                .get(segment_start..fixed_end)?
                .trim_end_matches('\r')
                .to_string(),
        })
    }

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

/// Whole lines replaced: what a pull-request suggestion shows.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LineReplacement {
    pub start_line: usize,
    pub end_line: usize,
    pub text: String,
}

/// One edit of a fix, placed by line and column.
#[derive(Debug, Clone, serde::Serialize)]
pub struct EditLocation {
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    pub content: String,
}

impl Status {
    pub fn label(self) -> &'static str {
        match self {
            Status::Passed => "passed",
            Status::Failed => "FAILED",
            Status::Skipped => "skipped",
            Status::RanNothing => "ran nothing",
            Status::Irreversible => "irreversible",
        }
    }
}

/// `--statistics`: each rule that found something, with its count, most found first.
pub fn statistics(input: &ReportInput) -> String {
    let mut counts: Vec<(usize, Severity, &str)> = Vec::new();
    for diagnostic in input.diagnostics {
        match counts.iter_mut().find(|(_, severity, rule)| {
            *rule == diagnostic.rule && *severity == diagnostic.severity
        }) {
            Some(entry) => entry.0 += 1,
            None => counts.push((1, diagnostic.severity, diagnostic.rule)),
        }
    }
    counts.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)).then(a.2.cmp(b.2)));
    let width = counts
        .iter()
        .map(|(_, _, rule)| rule.len())
        .max()
        .unwrap_or(0);
    counts
        .iter()
        .map(|(count, severity, rule)| {
            let summary = input
                .rules
                .iter()
                .find(|meta| meta.id == *rule)
                .map(|meta| meta.summary)
                .unwrap_or_default();
            format!(
                "{count:>5}  {:<7}  {rule:<width$}  {summary}\n",
                severity.as_str()
            )
        })
        .collect()
}

/// The closing line of text reports: findings by severity, files and revisions read.
pub fn totals(input: &ReportInput) -> String {
    let s = input.summary;
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    format!(
        "{}, {}, {} in {} and {}\n",
        plural(s.errors, "error"),
        plural(s.warnings, "warning"),
        plural(s.notes, "note"),
        plural(s.files, "file"),
        plural(s.revisions, "revision"),
    )
}

/// How many revisions the round trip judged with each result.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RunCounts {
    pub passed: usize,
    pub failed: usize,
    pub ran_nothing: usize,
    pub irreversible: usize,
    pub skipped: usize,
}

impl RunCounts {
    pub fn of(runs: &[RevisionResult]) -> Option<RunCounts> {
        if runs.is_empty() {
            return None;
        }
        let count = |status| runs.iter().filter(|r| r.status == status).count();
        Some(RunCounts {
            passed: count(Status::Passed),
            failed: count(Status::Failed),
            ran_nothing: count(Status::RanNothing),
            irreversible: count(Status::Irreversible),
            skipped: count(Status::Skipped),
        })
    }

    /// "9 passed, 1 failed, 2 ran nothing": what ran nothing or has no way back is never
    /// folded into "passed"; kinds with none are left out (but for passed and failed).
    pub fn describe(self) -> String {
        let mut parts = vec![
            format!("{} passed", self.passed),
            format!("{} failed", self.failed),
        ];
        for (n, label) in [
            (self.ran_nothing, "ran nothing"),
            (self.irreversible, "irreversible"),
            (self.skipped, "skipped"),
        ] {
            if n > 0 {
                parts.push(format!("{n} {label}"));
            }
        }
        parts.join(", ")
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
        for traced in &run.trace {
            let mut effects: Vec<String> = traced
                .locks
                .iter()
                .map(|l| {
                    let new = if l.existed { "" } else { " (new)" };
                    format!("{} on {}{new}", l.mode, l.table)
                })
                .collect();
            effects.extend(traced.rewritten.iter().map(|t| format!("REWROTE {t}")));
            let statement: String = traced.statement.chars().take(80).collect();
            let effects = if effects.is_empty() {
                "no table locks held".to_string()
            } else {
                effects.join(", ")
            };
            out.push_str(&format!("      {statement}  →  {effects}\n"));
        }
    }
    out
}

/// A path relative to the repository root (the folder holding `.git`, else
/// `$GITHUB_WORKSPACE`), with `/` separators: what GitHub annotations and links need, wherever
/// in the repository the tool ran (the action's `working-directory`).
pub fn repository_path(path: &str) -> String {
    let absolute = std::path::Path::new(path)
        .canonicalize()
        .unwrap_or_else(|_| std::path::PathBuf::from(path));
    let root = absolute
        .ancestors()
        .find(|dir| dir.join(".git").exists())
        .map(std::path::Path::to_path_buf)
        .or_else(|| {
            std::env::var_os("GITHUB_WORKSPACE")
                .map(std::path::PathBuf::from)
                .and_then(|w| w.canonicalize().ok())
        });
    let relative = root
        .and_then(|root| absolute.strip_prefix(root).ok().map(|p| p.to_path_buf()))
        .unwrap_or_else(|| std::path::PathBuf::from(path));
    relative.to_string_lossy().replace('\\', "/")
}

/// [`repository_path`] percent-encoded for a URI: SARIF's `%SRCROOT%` and links to the lines.
pub fn repository_uri(path: &str) -> String {
    repository_path(path)
        .split('/')
        .map(|segment| {
            segment
                .bytes()
                .map(|b| match b {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                        (b as char).to_string()
                    }
                    _ => format!("%{b:02X}"),
                })
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("/")
}
