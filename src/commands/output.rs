//! Writing reports: every requested format to its file or stdout, and the GitHub extras.

use std::io::{IsTerminal, Write};

use super::AppError;
use crate::cli::{Output, OutputFormat};
use crate::report::{self, ReportInput};

/// Two documents a program reads (JSON, SARIF, JUnit) cannot share stdout: the result would
/// parse as neither. Asked for before any work is done.
pub(super) fn check_outputs(formats: &[Output]) -> Result<(), AppError> {
    let machine: Vec<&str> = formats
        .iter()
        .filter(|o| o.file.is_none())
        .filter_map(|o| match o.format {
            OutputFormat::Json => Some("json"),
            OutputFormat::Sarif => Some("sarif"),
            OutputFormat::Junit => Some("junit"),
            _ => None,
        })
        .collect();
    if machine.len() > 1 {
        return Err(AppError(format!(
            "--format {} all write to stdout, and two documents there parse as neither; send all but one to files, e.g. --format {}=report.{}",
            machine.join(" --format "),
            machine[1],
            if machine[1] == "junit" {
                "xml"
            } else {
                machine[1]
            }
        )));
    }
    Ok(())
}
/// GitHub's limit on one step summary.
const STEP_SUMMARY_LIMIT: usize = 1024 * 1024;
/// A Markdown report fits a job summary with room to spare; `migration-gate comment` cuts it
/// further to a comment's size, between blocks.
const MARKDOWN_LIMIT: usize = STEP_SUMMARY_LIMIT / 2;

/// In GitHub Actions, text output also annotates the pull request and fills the job summary.
fn github_extras(formats: &[Output], input: &ReportInput) -> Result<(), AppError> {
    if std::env::var("GITHUB_ACTIONS").as_deref() != Ok("true") {
        return Ok(());
    }
    let text_to_stdout = formats.is_empty()
        || formats
            .iter()
            .any(|o| o.format == OutputFormat::Text && o.file.is_none());
    let annotations_asked = formats
        .iter()
        .any(|o| o.format == OutputFormat::Github && o.file.is_none());
    if !text_to_stdout {
        return Ok(());
    }
    if !annotations_asked {
        let mut stdout = std::io::stdout().lock();
        let _ = stdout.write_all(report::github::render(input).as_bytes());
    }
    if let Ok(summary) = std::env::var("GITHUB_STEP_SUMMARY")
        && !summary.is_empty()
    {
        let used = std::fs::metadata(&summary)
            .map(|m| m.len() as usize)
            .unwrap_or(0);
        let room = STEP_SUMMARY_LIMIT.saturating_sub(used);
        if room > 2048 {
            let markdown = report::markdown::render(input, room - 1024);
            let mut file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&summary)
                .map_err(|e| {
                    AppError::new(format!(
                        "cannot write $GITHUB_STEP_SUMMARY ({summary}): {e}"
                    ))
                })?;
            let _ = file.write_all(markdown.as_bytes());
        }
    }
    Ok(())
}

/// `https://github.com/OWNER/REPO/blob/SHA/` in GitHub Actions, for links to the lines.
pub(super) fn github_links() -> Option<String> {
    let server = std::env::var("GITHUB_SERVER_URL").ok()?;
    let repository = std::env::var("GITHUB_REPOSITORY").ok()?;
    let sha = std::env::var("MIGRATION_GATE_LINK_SHA")
        .or_else(|_| std::env::var("GITHUB_SHA"))
        .ok()?;
    Some(format!("{server}/{repository}/blob/{sha}/"))
}

/// Writes every requested format (text to stdout by default).
pub(super) fn emit(formats: &[Output], input: &ReportInput) -> Result<(), AppError> {
    github_extras(formats, input)?;
    // Text on stdout unless a format is sent there: with every report in a file
    // (`--format json=report.json`), the terminal still says what was found and why.
    let mut outputs = formats.to_vec();
    if outputs.iter().all(|o| o.file.is_some()) {
        outputs.push(Output {
            format: OutputFormat::Text,
            file: None,
        });
    }
    for output in &outputs {
        let to_terminal = output.file.is_none() && std::io::stdout().is_terminal();
        let color = to_terminal && std::env::var_os("NO_COLOR").is_none();
        let rendered = match output.format {
            OutputFormat::Text => report::text::render(input, color),
            OutputFormat::Concise => report::concise::render(input),
            OutputFormat::Json => report::json::render(input),
            OutputFormat::Sarif => report::sarif::render(input),
            OutputFormat::Github => report::github::render(input),
            OutputFormat::Markdown => report::markdown::render(input, MARKDOWN_LIMIT),
            OutputFormat::Junit => report::junit::render(input),
        };
        match &output.file {
            Some(path) => std::fs::write(path, rendered)
                .map_err(|e| AppError::new(format!("cannot write {}: {e}", path.display())))?,
            None => {
                let mut stdout = std::io::stdout().lock();
                let _ = stdout.write_all(rendered.as_bytes());
            }
        }
    }
    Ok(())
}

/// When the command stops with an error (exit 2), every report asked for still says why: a
/// file left missing or stale (a job summary, a SARIF upload, a JSON a later step reads) would
/// tell of a run that did not happen. Text goes to stderr, where the error is printed anyway.
pub(super) fn emit_failure(formats: &[Output], command: report::Command, message: &str) {
    let empty = crate::model::Sources::default();
    let input = ReportInput {
        command,
        incomplete: None,
        diagnostics: &[],
        sources: &empty,
        rules: &[],
        summary: report::Summary::default(),
        runs: &[],
        checked: &[],
        links: None,
        verdict: None,
        failure: Some(message),
        statistics: false,
    };
    for output in formats {
        let rendered = match output.format {
            OutputFormat::Text | OutputFormat::Concise => continue,
            OutputFormat::Json => report::json::render(&input),
            OutputFormat::Sarif => report::sarif::render(&input),
            OutputFormat::Junit => report::junit::render(&input),
            OutputFormat::Markdown => report::markdown::render_failure(command, message),
            OutputFormat::Github => format!(
                "::error title=migration-gate::{}\n",
                report::github::escape_data(message)
            ),
        };
        match &output.file {
            Some(path) => {
                let _ = std::fs::write(path, rendered);
            }
            None => {
                let _ = std::io::stdout().lock().write_all(rendered.as_bytes());
            }
        }
    }
}
