//! One call per command: arguments and config in, output and an exit code out.

pub mod comment;
mod history;
pub mod release_gate;

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use globset::{Glob, GlobSetBuilder};

use crate::cli::{
    CheckArgs, Cli, Command, GateArgs, GraphArgs, GraphFormat, ListFormat, Output, OutputFormat,
    RoundtripArgs,
};
use crate::config::{self, Config, FailOn};

use crate::lint::{self, LintOptions};
use crate::report::{self, ReportInput, Summary};
use crate::rules;

/// A failure that stops the run: exit code 2 with this message on stderr.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct AppError(pub String);

impl AppError {
    fn new(message: impl Into<String>) -> Self {
        AppError(message.into())
    }
}

pub const EXIT_FINDINGS: u8 = 1;
pub const EXIT_ERROR: u8 = 2;

pub fn run(cli: Cli) -> Result<u8, AppError> {
    match cli.command {
        Command::Check(args) => check(args),
        Command::Graph(args) => graph(args),
        Command::Comment {
            file,
            pull_request,
            repository,
        } => {
            let posted = comment::post(&comment::CommentRequest {
                body_file: file,
                pull_request,
                repository,
            })
            .map_err(|e| AppError::new(e.to_string()))?;
            match posted {
                comment::Posted::Created(url) => {
                    println!("created the report comment {url}")
                }
                comment::Posted::Updated(url) => {
                    println!("updated the report comment {url}")
                }
                comment::Posted::Skipped(why) => {
                    println!(
                        "::warning title=migration-gate::{}",
                        report::github::escape_data(&why)
                    )
                }
            }
            Ok(0)
        }
        Command::Roundtrip(args) => roundtrip(args),
        Command::Gate(args) => gate(args),
        Command::Watchdog {
            parent,
            action,
            target,
        } => Ok(crate::roundtrip::watchdog::watch(parent, &action, &target)),
        Command::Rules { format } => {
            print!("{}", list_rules(format));
            Ok(0)
        }
        Command::Explain { rule } => {
            let meta = rules::find(&rule).ok_or_else(|| {
                AppError::new(format!(
                    "unknown rule `{rule}`; `migration-gate rules` lists them"
                ))
            })?;
            print!("{}", meta.doc);
            Ok(0)
        }
    }
}

fn list_rules(format: ListFormat) -> String {
    let metas = rules::all_metadata();
    match format {
        ListFormat::Text => {
            let width = metas.iter().map(|m| m.id.len()).max().unwrap_or(0);
            metas
                .iter()
                .map(|m| {
                    format!(
                        "{:width$}  {:7}  {}\n",
                        m.id,
                        m.severity.as_str(),
                        m.summary
                    )
                })
                .collect()
        }
        ListFormat::Json => {
            let list: Vec<serde_json::Value> = metas
                .iter()
                .map(|m| serde_json::json!({"id": m.id, "severity": m.severity, "summary": m.summary, "source": m.origin}))
                .collect();
            format!(
                "{}\n",
                serde_json::to_string_pretty(&list).unwrap_or_default()
            )
        }
    }
}

fn resolve_config(
    config: Option<&PathBuf>,
    paths: &[PathBuf],
) -> Result<Option<(PathBuf, Config)>, AppError> {
    let found = match config {
        Some(path) => Some((
            path.clone(),
            config::load(path).map_err(|e| AppError::new(format!("config: {e}")))?,
        )),
        None => {
            let start = paths.first().cloned().unwrap_or_else(|| PathBuf::from("."));
            config::find(&start).map_err(|e| AppError::new(format!("config: {e}")))?
        }
    };
    Ok(found)
}

fn check_rule_ids(ids: &[String], origin: &str) -> Result<(), AppError> {
    for id in ids {
        if id != "all" && rules::find(id).is_none() {
            return Err(AppError::new(format!(
                "{origin}: unknown rule `{id}`; `migration-gate rules` lists them"
            )));
        }
    }
    Ok(())
}

/// The config in effect and the paths to read: those given, else the config's, else `.`.
fn resolve_inputs(
    config: Option<&PathBuf>,
    given: &[PathBuf],
) -> Result<(Config, Vec<PathBuf>), AppError> {
    let (config_dir, config) = match resolve_config(config, given)? {
        Some((path, config)) => (path.parent().map(Path::to_path_buf), config),
        None => (None, Config::default()),
    };
    let paths = if !given.is_empty() {
        given.to_vec()
    } else if let Some(paths) = &config.paths {
        let base = config_dir.unwrap_or_default();
        paths
            .iter()
            .map(|p| relative_to_cwd(&base.join(p)))
            .collect()
    } else {
        vec![PathBuf::from(".")]
    };
    Ok((config, paths))
}

fn exclude_globs(config: &Config) -> Result<globset::GlobSet, AppError> {
    let mut exclude = GlobSetBuilder::new();
    for pattern in config.exclude.iter().flatten() {
        let glob =
            Glob::new(pattern).map_err(|e| AppError::new(format!("config: exclude: {e}")))?;
        exclude.add(glob);
    }
    exclude
        .build()
        .map_err(|e| AppError::new(format!("config: exclude: {e}")))
}

fn no_migrations(paths: &[PathBuf]) -> AppError {
    AppError::new(format!(
        "no migrations found under {}; pass the folder holding alembic.ini, env.py + versions/, or .sql migrations",
        paths
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    ))
}

fn graph(args: GraphArgs) -> Result<u8, AppError> {
    let (config, paths) = resolve_inputs(args.config.as_ref(), &args.paths)?;
    let options = LintOptions {
        paths,
        select: Some(Vec::new()),
        exclude: exclude_globs(&config)?,
        ..LintOptions::default()
    };
    let outcome = lint::lint(&options).map_err(|e| AppError::new(e.to_string()))?;
    if outcome.sources.is_empty() {
        return Err(no_migrations(&options.paths));
    }
    let histories: Vec<_> = outcome
        .sets
        .iter()
        .map(|set| history::build(set, &outcome.sources))
        .collect();
    print!(
        "{}",
        match args.format {
            GraphFormat::Text => history::render_text(&histories),
            GraphFormat::Mermaid => history::render_mermaid(&histories),
            GraphFormat::Json => history::render_json(&histories),
        }
    );
    for problem in &outcome.diagnostics {
        let location = problem
            .span
            .map(|s| outcome.sources.get(s.file).path.clone())
            .unwrap_or_default();
        eprintln!("error[{}]: {location}: {}", problem.rule, problem.message);
    }
    Ok(if outcome.input_errors > 0 {
        EXIT_ERROR
    } else {
        0
    })
}

fn check(args: CheckArgs) -> Result<u8, AppError> {
    let (config, paths) = resolve_inputs(args.input.config.as_ref(), &args.input.paths)?;
    let select = args.select.clone().or(config.select.clone());
    let ignore = args
        .ignore
        .clone()
        .or(config.ignore.clone())
        .unwrap_or_default();
    check_rule_ids(select.as_deref().unwrap_or_default(), "select")?;
    check_rule_ids(&ignore, "ignore")?;
    check_rule_ids(
        &config.severity.keys().cloned().collect::<Vec<_>>(),
        "config [severity]",
    )?;
    let postgres_version = args
        .postgres_version
        .or(config.postgres_version)
        .unwrap_or(14);
    if !(9..=30).contains(&postgres_version) {
        return Err(AppError::new(format!(
            "postgres_version {postgres_version} is not a PostgreSQL major version (9 to 18)"
        )));
    }
    let options = LintOptions {
        paths,
        postgres_version,
        select,
        ignore,
        severity: config.severity.clone(),
        exclude: exclude_globs(&config)?,
        base: args.base.clone(),
    };
    let outcome = lint::lint(&options).map_err(|e| AppError::new(e.to_string()))?;
    if outcome.sources.is_empty() {
        return Err(no_migrations(&options.paths));
    }
    let metas = rules::all_metadata();
    let input = ReportInput {
        diagnostics: &outcome.diagnostics,
        sources: &outcome.sources,
        rules: &metas,
        summary: Summary::count(
            outcome.sources.len(),
            outcome.revisions,
            &outcome.diagnostics,
        ),
        runs: &[],
        checked: &checked_revisions(&outcome),
        links: github_links(),
        verdict: None,
    };
    emit(&args.input.formats, &input)?;
    if outcome.input_errors > 0 {
        eprintln!(
            "error: {} file(s) could not be read or parsed (see the syntax-error / unreadable-file findings); the rest was checked",
            outcome.input_errors
        );
        return Ok(EXIT_ERROR);
    }
    let fail_on = args.fail_on.or(config.fail_on).unwrap_or(FailOn::Error);
    let failing = fail_on
        .threshold()
        .is_some_and(|t| outcome.diagnostics.iter().any(|d| d.severity >= t));
    Ok(if failing { EXIT_FINDINGS } else { 0 })
}

/// The revisions a check looked at (in scope), for reports that list each one.
fn checked_revisions(outcome: &lint::Outcome) -> Vec<report::CheckedRevision> {
    outcome
        .sets
        .iter()
        .flat_map(|set| &set.migrations)
        .filter(|m| {
            outcome
                .scope
                .as_ref()
                .is_none_or(|files| files.contains(&m.file))
        })
        .map(|m| {
            let path = outcome.sources.get(m.file).path.clone();
            report::CheckedRevision {
                id: m.revision_id().map_or_else(|| path.clone(), str::to_string),
                path,
            }
        })
        .collect()
}

fn relative_to_cwd(path: &Path) -> PathBuf {
    let cwd = std::env::current_dir().unwrap_or_default();
    path.strip_prefix(&cwd)
        .map(Path::to_path_buf)
        .unwrap_or_else(|_| path.to_path_buf())
}

/// GitHub's limit on a comment body, in characters; bytes are a safe bound.
const COMMENT_LIMIT: usize = 65_000;
/// GitHub's limit on one step summary.
const STEP_SUMMARY_LIMIT: usize = 1024 * 1024;

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
fn github_links() -> Option<String> {
    let server = std::env::var("GITHUB_SERVER_URL").ok()?;
    let repository = std::env::var("GITHUB_REPOSITORY").ok()?;
    let sha = std::env::var("MIGRATION_GATE_LINK_SHA")
        .or_else(|_| std::env::var("GITHUB_SHA"))
        .ok()?;
    Some(format!("{server}/{repository}/blob/{sha}/"))
}

/// Writes every requested format (text to stdout by default).
fn emit(formats: &[Output], input: &ReportInput) -> Result<(), AppError> {
    github_extras(formats, input)?;
    let outputs = if formats.is_empty() {
        vec![Output {
            format: OutputFormat::Text,
            file: None,
        }]
    } else {
        formats.to_vec()
    };
    for output in &outputs {
        let to_terminal = output.file.is_none() && std::io::stdout().is_terminal();
        let color = to_terminal && std::env::var_os("NO_COLOR").is_none();
        let rendered = match output.format {
            OutputFormat::Text => report::text::render(input, color),
            OutputFormat::Json => report::json::render(input),
            OutputFormat::Sarif => report::sarif::render(input),
            OutputFormat::Github => report::github::render(input),
            OutputFormat::Markdown => report::markdown::render(input, COMMENT_LIMIT),
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

const EXIT_INTERRUPTED: u8 = 130;

fn roundtrip(args: RoundtripArgs) -> Result<u8, AppError> {
    use crate::roundtrip::postgres::redact_url;
    use crate::roundtrip::{RoundtripOptions, run};

    let (config, paths) = resolve_inputs(args.input.config.as_ref(), &args.input.paths)?;
    let settings = config.roundtrip.clone().unwrap_or_default();
    if settings.command.is_some() {
        return Err(AppError::new(
            "config: [roundtrip] command: custom runner commands are not supported yet; remove the key (Alembic, golang-migrate, dbmate and Flyway sets are run by migration-gate itself)",
        ));
    }
    let database_url = args.database_url.clone().or_else(|| {
        settings
            .database_url_env
            .as_ref()
            .and_then(|name| std::env::var(name).ok())
    });
    let options = RoundtripOptions {
        database_url: database_url.clone(),
        from: args.from.clone(),
        to: args.to.clone(),
        trace_locks: args.trace_locks,
        seed_rows: args.seed_rows.unwrap_or(0),
        ..runner_options(
            &config,
            &args.runner,
            paths,
            args.base.clone(),
            args.timeout,
        )?
    };
    let result = until_interrupted(run(&options))?;
    let outcome = match result {
        None => {
            eprintln!("interrupted: the scratch database, cluster or container is being removed");
            return Ok(EXIT_INTERRUPTED);
        }
        Some(Err(error)) => {
            let mut message = error.to_string();
            if let Some(url) = &database_url {
                message = message.replace(url.as_str(), &redact_url(url));
            }
            return Err(AppError::new(message));
        }
        Some(Ok(outcome)) => outcome,
    };
    let metas = rules::all_metadata();
    let input = ReportInput {
        diagnostics: &outcome.diagnostics,
        sources: &outcome.sources,
        rules: &metas,
        summary: Summary::count(outcome.files, outcome.revisions.len(), &outcome.diagnostics),
        runs: &outcome.revisions,
        checked: &[],
        links: github_links(),
        verdict: None,
    };
    emit(&args.input.formats, &input)?;
    eprintln!(
        "round trip on {}: server ready in {} ms, {} revisions in {:.1} s",
        outcome.server,
        outcome.ready_in.as_millis(),
        outcome.revisions.len(),
        outcome.total.as_secs_f64()
    );
    if outcome.input_errors > 0 {
        return Ok(EXIT_ERROR);
    }
    let fail_on = args.fail_on.or(config.fail_on).unwrap_or(FailOn::Error);
    let failing = fail_on
        .threshold()
        .is_some_and(|t| outcome.diagnostics.iter().any(|d| d.severity >= t));
    Ok(if failing { EXIT_FINDINGS } else { 0 })
}

fn gate(args: GateArgs) -> Result<u8, AppError> {
    use crate::roundtrip::postgres::redact_url;

    let (config, paths) = resolve_inputs(args.input.config.as_ref(), &args.input.paths)?;
    let fail_on = args.fail_on.or(config.fail_on).unwrap_or(FailOn::Error);
    let mut roundtrip = runner_options(&config, &args.runner, paths, None, None)?;
    // The gate reports the pending revisions' findings as `check` would.
    roundtrip.lint.select = config.select.clone();
    roundtrip.lint.ignore = config.ignore.clone().unwrap_or_default();
    roundtrip.lint.severity = config.severity.clone();
    let options = release_gate::GateOptions {
        roundtrip,
        live_url: args.database_url.clone(),
        check_drift: !args.no_drift,
        fail_on: fail_on.threshold(),
    };
    let result = until_interrupted(release_gate::run(&options))?;
    let outcome = match result {
        None => return Ok(EXIT_INTERRUPTED),
        Some(Err(error)) => {
            let url = &args.database_url;
            return Err(AppError::new(
                error.to_string().replace(url.as_str(), &redact_url(url)),
            ));
        }
        Some(Ok(outcome)) => outcome,
    };
    let metas = rules::all_metadata();
    let input = ReportInput {
        diagnostics: &outcome.diagnostics,
        sources: &outcome.sources,
        rules: &metas,
        summary: Summary::count(outcome.files, outcome.revisions, &outcome.diagnostics),
        runs: &[],
        checked: &[],
        links: github_links(),
        verdict: Some(&outcome.verdict),
    };
    emit(&args.input.formats, &input)?;
    if outcome.input_errors > 0 {
        return Ok(EXIT_ERROR);
    }
    Ok(if outcome.verdict.ready {
        0
    } else {
        EXIT_FINDINGS
    })
}

/// Round-trip settings: the command line, then `[roundtrip]` in the config, then defaults.
fn runner_options(
    config: &Config,
    runner: &crate::cli::RunnerArgs,
    paths: Vec<PathBuf>,
    base: Option<String>,
    timeout: Option<u64>,
) -> Result<crate::roundtrip::RoundtripOptions, AppError> {
    let settings = config.roundtrip.clone().unwrap_or_default();
    let postgres_version = runner
        .postgres_version
        .or(config.postgres_version)
        .unwrap_or(14);
    Ok(crate::roundtrip::RoundtripOptions {
        lint: LintOptions {
            paths,
            exclude: exclude_globs(config)?,
            base,
            postgres_version,
            ..LintOptions::default()
        },
        provider: runner
            .postgres
            .or(settings.postgres)
            .unwrap_or(crate::roundtrip::postgres::Provider::Auto),
        database_url: None,
        image: runner
            .postgres_image
            .clone()
            .or(settings.postgres_image.clone())
            .unwrap_or_else(|| format!("postgres:{postgres_version}-alpine")),
        python: runner
            .python
            .clone()
            .or(settings.python.as_ref().map(PathBuf::from)),
        alembic_config: runner
            .alembic_config
            .clone()
            .or(settings.alembic_config.as_ref().map(PathBuf::from)),
        standalone: runner.standalone,
        step_timeout: std::time::Duration::from_secs(timeout.or(settings.timeout_s).unwrap_or(300)),
        env: settings.env.clone().into_iter().collect(),
        from: None,
        to: None,
        trace_locks: false,
        seed_rows: 0,
    })
}

/// Runs a database job on a small runtime; `None` when Ctrl-C ended it (the watchdogs clean
/// up what it started).
fn until_interrupted<T>(job: impl std::future::Future<Output = T>) -> Result<Option<T>, AppError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| AppError::new(format!("cannot start the async runtime: {e}")))?;
    let result = runtime.block_on(async {
        tokio::select! {
            result = job => Some(result),
            _ = tokio::signal::ctrl_c() => None,
        }
    });
    // Whatever is still running in the background (a container removal) gets a moment.
    runtime.shutdown_timeout(std::time::Duration::from_secs(10));
    Ok(result)
}
