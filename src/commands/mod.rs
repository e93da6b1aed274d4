//! One call per command: arguments and config in, output and an exit code out.

pub mod comment;
mod database;
mod fixes;
mod history;
mod output;
pub mod release_gate;
mod review;
mod server;

use std::path::{Path, PathBuf};

use globset::{Glob, GlobSetBuilder};

use crate::cli::{CheckArgs, Cli, Command, GraphArgs, GraphFormat, InputArgs, ListFormat};
use crate::config::{self, Config, FailOn};
use crate::discover::PathFilters;
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

/// Runs one command. When it stops with an error, every Markdown report it was asked to write
/// says so, so that a job summary or pull-request comment never shows a stale or empty result.
pub fn run(cli: Cli) -> Result<u8, AppError> {
    let (label, input) = match &cli.command {
        Command::Check(args) => (report::Command::Check, Some(&args.input)),
        Command::Roundtrip(args) => (report::Command::Roundtrip, Some(&args.input)),
        Command::Gate(args) => (report::Command::Gate, Some(&args.input)),
        _ => (report::Command::Check, None),
    };
    let formats: Vec<crate::cli::Output> = input
        .map(|input: &InputArgs| input.formats.clone())
        .unwrap_or_default();
    // Reports that cannot all be written say nothing of the run: the error alone.
    if let Some(input) = input {
        output::check_outputs(&input.formats)?;
    }
    let result = dispatch(cli);
    if let Err(error) = &result {
        output::emit_failure(&formats, label, &error.0);
    }
    result
}

fn dispatch(cli: Cli) -> Result<u8, AppError> {
    match cli.command {
        Command::Check(args) => check(args),
        Command::Graph(args) => graph(args),
        Command::Comment {
            files,
            pull_request,
            repository,
            suggestions,
            print,
        } => {
            let request = comment::CommentRequest {
                body_files: files,
                pull_request,
                repository,
                suggestions,
            };
            if print {
                print!(
                    "{}",
                    comment::body(&request).map_err(|e| AppError::new(e.to_string()))?
                );
                // Each review suggestion as it would be posted, under the file and lines it
                // goes on.
                for suggestion in comment::suggestions(&request)
                    .map_err(|e| AppError::new(e.to_string()))?
                    .unwrap_or_default()
                {
                    let lines = if suggestion.start_line < suggestion.line {
                        format!("{}–{}", suggestion.start_line, suggestion.line)
                    } else {
                        suggestion.line.to_string()
                    };
                    print!(
                        "\n---\n\nReview comment on `{}` line {lines}:\n\n{}\n",
                        suggestion.path, suggestion.body
                    );
                }
                return Ok(0);
            }
            let posted = comment::post(&request).map_err(|e| AppError::new(e.to_string()))?;
            match posted {
                comment::Posted::Created(url, reviewed) => {
                    println!("created the report comment {url}");
                    if let Some(reviewed) = reviewed {
                        println!("{reviewed}");
                    }
                }
                comment::Posted::Updated(url, reviewed) => {
                    println!("updated the report comment {url}");
                    if let Some(reviewed) = reviewed {
                        println!("{reviewed}");
                    }
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
        Command::Roundtrip(args) => database::roundtrip(args),
        Command::Gate(args) => database::gate(args),
        Command::Watchdog {
            parent,
            action,
            target,
        } => Ok(crate::roundtrip::watchdog::watch(parent, &action, &target)),
        Command::ConfigReference { part } => {
            match part.as_str() {
                "docs" => print!("{}", crate::config_reference::markdown()),
                "readme" => print!("{}", crate::config_reference::readme_table()),
                other => {
                    return Err(AppError::new(format!(
                        "unknown part `{other}` (docs or readme)"
                    )));
                }
            }
            Ok(0)
        }
        Command::Server => server::run(),
        Command::Rules { format } => {
            print!("{}", list_rules(format));
            Ok(0)
        }
        Command::Explain { rule } => {
            let meta = rules::find(&rule).ok_or_else(|| unknown_rule("explain", &rule))?;
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
        ListFormat::Markdown => rules_table(&metas),
        ListFormat::Json => {
            let list: Vec<serde_json::Value> = metas
                .iter()
                .map(|m| serde_json::json!({"id": m.id, "severity": m.severity, "summary": m.summary, "source": m.origin, "preset": rules::preset_of(m.id).map(|p| p.as_str())}))
                .collect();
            format!(
                "{}\n",
                serde_json::to_string_pretty(&list).unwrap_or_default()
            )
        }
    }
}

/// README's rule table: every rule with its severity, the preset that turns it on, and its
/// summary.
fn rules_table(metas: &[&crate::diagnostic::RuleMeta]) -> String {
    let mut table =
        String::from("| rule | severity | runs under | what it catches |\n|---|---|---|---|\n");
    for meta in metas {
        let runs = match rules::preset_of(meta.id) {
            Some(crate::config::Preset::Recommended) => "recommended, strict",
            Some(crate::config::Preset::Strict) => "strict",
            None => match meta.origin {
                crate::diagnostic::Origin::Roundtrip => "`roundtrip`",
                crate::diagnostic::Origin::Deploy => "`roundtrip --compat`",
                crate::diagnostic::Origin::Gate => "`gate`",
                _ => "always",
            },
        };
        table.push_str(&format!(
            "| `{}` | {} | {runs} | {} |\n",
            meta.id,
            meta.severity.as_str(),
            meta.summary.replace('|', "\\|")
        ));
    }
    table
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
    match ids
        .iter()
        .find(|id| *id != "all" && rules::find(id).is_none())
    {
        Some(id) => Err(unknown_rule(origin, id)),
        None => Ok(()),
    }
}

/// An unknown rule id, with the closest real ids (a typo, or a word of the id).
fn unknown_rule(origin: &str, id: &str) -> AppError {
    let wanted = id.to_ascii_lowercase().replace('_', "-");
    let mut scored: Vec<(f64, &str)> = rules::all_metadata()
        .iter()
        .map(|m| {
            let similarity = strsim::jaro_winkler(&wanted, m.id);
            let contains = m.id.contains(wanted.as_str()) && wanted.len() >= 4;
            (
                if contains {
                    similarity.max(0.9)
                } else {
                    similarity
                },
                m.id,
            )
        })
        .filter(|(score, _)| *score >= 0.8)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    let suggestions: Vec<String> = scored
        .iter()
        .take(3)
        .map(|(_, id)| format!("`{id}`"))
        .collect();
    let hint = if suggestions.is_empty() {
        String::new()
    } else {
        format!("; did you mean {}?", suggestions.join(" or "))
    };
    AppError::new(format!(
        "{origin}: unknown rule `{id}`{hint} (`migration-gate rules` lists them all)"
    ))
}

/// The config and the paths of a command that reads migrations, with `--exclude` added to
/// the config's `exclude`.
fn resolve_input(input: &InputArgs) -> Result<(Config, Vec<PathBuf>), AppError> {
    let (mut config, paths) = resolve_inputs(input.config.as_ref(), &input.paths)?;
    if !input.exclude.is_empty() {
        config
            .exclude
            .get_or_insert_with(Vec::new)
            .extend(input.exclude.iter().cloned());
    }
    Ok((config, paths))
}

/// The config in effect and the paths to read: those given, else the config's, else `.`.
fn resolve_inputs(
    config: Option<&PathBuf>,
    given: &[PathBuf],
) -> Result<(Config, Vec<PathBuf>), AppError> {
    let (config_dir, config) = match resolve_config(config, given)? {
        Some((path, config)) => {
            let folder = path.parent().map(Path::to_path_buf);
            let config = Config {
                folder: folder.clone(),
                ..config
            };
            (folder, config)
        }
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

/// `exclude` and `[dialect]` from the config, as discovery applies them.
fn path_filters(config: &Config) -> Result<PathFilters, AppError> {
    let globs = |key: &str, patterns: &mut dyn Iterator<Item = &String>| {
        let mut set = GlobSetBuilder::new();
        for pattern in patterns {
            set.add(Glob::new(pattern).map_err(|e| AppError::new(format!("config: {key}: {e}")))?);
        }
        set.build()
            .map_err(|e| AppError::new(format!("config: {key}: {e}")))
    };
    let dialects = config.dialect_by_folder().map_err(AppError::new)?;
    let frameworks = config
        .frameworks_by_folder()
        .map_err(AppError::new)?
        .into_iter()
        .map(|(pattern, framework)| {
            let glob = Glob::new(pattern.trim_end_matches('/'))
                .map_err(|e| AppError::new(format!("config: sets: {e}")))?;
            Ok((glob.compile_matcher(), framework))
        })
        .collect::<Result<Vec<_>, AppError>>()?;
    Ok(PathFilters {
        // Globs name paths from the config's folder, wherever the command runs from.
        config_folder: config
            .folder
            .as_deref()
            .map(|folder| match folder.as_os_str().is_empty() {
                true => Path::new("."),
                false => folder,
            })
            .and_then(|folder| std::path::absolute(folder).ok()),
        frameworks,
        exclude: globs("exclude", &mut config.exclude.iter().flatten())?,
        postgres: globs(
            "dialect",
            &mut dialects.iter().filter(|(_, pg)| *pg).map(|(g, _)| g),
        )?,
        other_database: globs(
            "dialect",
            &mut dialects.iter().filter(|(_, pg)| !*pg).map(|(g, _)| g),
        )?,
    })
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
        filters: path_filters(&config)?,
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
        // As `check` says it: a folder left out is a note, an unreadable file an error.
        eprintln!(
            "{}[{}]: {location}: {}",
            problem.severity.as_str(),
            problem.rule,
            problem.message
        );
    }
    Ok(if outcome.input_errors > 0 {
        EXIT_ERROR
    } else {
        0
    })
}

/// What the command line sets over the config for a lint.
#[derive(Default)]
struct LintFlags {
    select: Option<Vec<String>>,
    ignore: Option<Vec<String>>,
    preset: Option<crate::config::Preset>,
    postgres_version: Option<u32>,
    base: Option<String>,
}

/// The lint the config asks for, with the command line's flags over it; rule ids and the
/// PostgreSQL version checked.
fn lint_options(
    config: &Config,
    paths: Vec<PathBuf>,
    flags: LintFlags,
) -> Result<LintOptions, AppError> {
    let select = flags.select.or(config.select.clone());
    let ignore = flags.ignore.or(config.ignore.clone()).unwrap_or_default();
    check_rule_ids(select.as_deref().unwrap_or_default(), "select")?;
    check_rule_ids(&ignore, "ignore")?;
    check_rule_ids(
        &config.severity.keys().cloned().collect::<Vec<_>>(),
        "config [severity]",
    )?;
    let postgres_version = flags
        .postgres_version
        .or(config.postgres_version)
        .unwrap_or(config::DEFAULT_POSTGRES_VERSION);
    if !(9..=30).contains(&postgres_version) {
        return Err(AppError::new(format!(
            "postgres_version {postgres_version} is not a PostgreSQL major version (9 to 18)"
        )));
    }
    Ok(LintOptions {
        paths,
        postgres_version,
        preset: flags.preset.or(config.preset).unwrap_or_default(),
        select,
        ignore,
        severity: config.severity.clone(),
        filters: path_filters(config)?,
        base: flags.base,
        lock_timeout_set_by: config.lock_timeout_set_by.clone(),
        overrides: Default::default(),
    })
}

fn check(args: CheckArgs) -> Result<u8, AppError> {
    let (config, paths) = resolve_input(&args.input)?;
    let options = lint_options(
        &config,
        paths,
        LintFlags {
            select: args.select.clone(),
            ignore: args.ignore.clone(),
            preset: args.preset,
            postgres_version: args.postgres_version,
            base: args.base.clone(),
        },
    )?;
    if args.diff {
        let fixed = fixes::fix(&options, applicability(&args))?;
        for (path, before, after) in &fixed.files {
            print!("{}", crate::fix::diff::unified(path, before, after));
        }
        eprintln!("{}", fixes::summary(&fixed, false));
        return Ok(if fixed.files.is_empty() {
            0
        } else {
            EXIT_FINDINGS
        });
    }
    let outcome = if args.fix {
        let fixed = fixes::fix(&options, applicability(&args))?;
        for (path, _, after) in &fixed.files {
            std::fs::write(path, after)
                .map_err(|e| AppError::new(format!("cannot write the fixed {path}: {e}")))?;
        }
        eprintln!("{}", fixes::summary(&fixed, true));
        fixed.outcome
    } else {
        lint::lint(&options).map_err(|e| AppError::new(e.to_string()))?
    };
    if outcome.sources.is_empty() {
        // A pre-commit hook passes whatever changed: env.py alone is nothing to check.
        if options
            .paths
            .iter()
            .all(|p| p.is_file() && crate::discover::is_support_file(p))
        {
            eprintln!(
                "nothing to check: {} is not a revision file",
                options
                    .paths
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            return Ok(0);
        }
        // Everything found is another database's: say what and how to judge it, not "none".
        let elsewhere = crate::discover::other_database_folders(&options.paths, &options.filters);
        if !elsewhere.is_empty() {
            for (folder, files) in &elsewhere {
                eprintln!(
                    "note: {}: not judged",
                    other_database_folder(folder, *files)
                );
            }
            eprintln!(
                "nothing judged: every migration found is another database's; if one of these folders runs on PostgreSQL, say so in the config: [dialect] \"{}\" = \"postgresql\"",
                crate::frontend::display_path(&elsewhere[0].0)
            );
            return Ok(0);
        }
        return Err(no_migrations(&options.paths));
    }
    if args.show_sets {
        show_sets(&outcome, &options);
    }
    let metas = rules::all_metadata();
    let input = ReportInput {
        command: report::Command::Check,
        incomplete: database::incomplete(outcome.input_errors),
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
        links: output::github_links(),
        verdict: None,
        failure: None,
        statistics: args.input.statistics,
    };
    output::emit(&args.input.formats, &input)?;
    if outcome.input_errors > 0 {
        eprintln!(
            "error: {} file(s) could not be read or parsed (see the syntax-error / unreadable-file findings); the rest was checked",
            outcome.input_errors
        );
        return Ok(EXIT_ERROR);
    }
    Ok(exit_code(
        args.fail_on.or(config.fail_on),
        &outcome.diagnostics,
    ))
}

/// The fixes `--fix` / `--diff` may apply: the safe ones, or all with `--unsafe-fixes`.
fn applicability(args: &CheckArgs) -> crate::fix::Applicability {
    if args.unsafe_fixes {
        crate::fix::Applicability::Unsafe
    } else {
        crate::fix::Applicability::Safe
    }
}

/// `check --show-sets`: what was found and judged as a history, and what was left out (also
/// the folders named after another database, which discovery does not enter).
fn show_sets(outcome: &lint::Outcome, options: &LintOptions) {
    for set in &outcome.sets {
        let count = set.migrations.len();
        let env = set
            .env
            .file
            .map(|file| format!(", env.py {}", outcome.sources.get(file).path))
            .unwrap_or_default();
        let joined = if set.joined.is_empty() {
            String::new()
        } else {
            format!(
                "; with {}, whose revisions name this history's (one script directory to Alembic)",
                set.joined.join(", ")
            )
        };
        // Flask-Migrate is Alembic run inside the Flask application: said, so a Flask team
        // recognises its history.
        let framework = match set.framework {
            crate::model::Framework::Alembic if set.env.reads_flask_app => {
                "alembic (Flask-Migrate)"
            }
            other => other.label(),
        };
        eprintln!(
            "set {}: {framework}, {count} migration{} (recognised by {}{env}{joined})",
            set.root,
            if count == 1 { "" } else { "s" },
            set.framework.recognised_by(),
        );
    }
    for skipped in outcome
        .diagnostics
        .iter()
        .filter(|d| matches!(d.rule, "skipped-folder" | "skipped-link"))
    {
        eprintln!("left out: {}", skipped.message);
    }
    for (folder, files) in crate::discover::other_database_folders(&options.paths, &options.filters)
    {
        eprintln!("left out: {}", other_database_folder(&folder, files));
    }
}

/// A folder named after another database, and what it holds.
fn other_database_folder(folder: &Path, files: usize) -> String {
    format!(
        "{}: {files} migration file{} written for another database (by the folder's name)",
        crate::frontend::display_path(folder),
        if files == 1 { "" } else { "s" }
    )
}

/// 1 when a finding reaches `--fail-on` (default: error), else 0.
fn exit_code(fail_on: Option<FailOn>, diagnostics: &[crate::diagnostic::Diagnostic]) -> u8 {
    let failing = fail_on
        .unwrap_or(FailOn::Error)
        .threshold()
        .is_some_and(|t| diagnostics.iter().any(|d| d.severity >= t));
    if failing { EXIT_FINDINGS } else { 0 }
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
