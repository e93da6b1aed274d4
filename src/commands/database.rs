//! The commands that need a PostgreSQL: `roundtrip` and `gate`.

use std::path::PathBuf;

use super::output::{emit, github_links};
use super::{
    AppError, EXIT_ERROR, EXIT_FINDINGS, exit_code, path_filters, release_gate, resolve_input,
};
use crate::cli::{GateArgs, RoundtripArgs};
use crate::config::{Config, FailOn};
use crate::lint::LintOptions;
use crate::report::{ReportInput, Summary};
use crate::rules;

pub(super) fn roundtrip(args: RoundtripArgs) -> Result<u8, AppError> {
    use crate::roundtrip::postgres::scrub;
    use crate::roundtrip::{RoundtripOptions, run};

    let (config, paths) = resolve_input(&args.input)?;
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
    let baseline = args
        .baseline
        .clone()
        .or(settings.baseline.as_ref().map(PathBuf::from))
        .map(|path| crate::roundtrip::Baseline::read(&path))
        .transpose()
        .map_err(|e| AppError::new(e.to_string()))?;
    let options = RoundtripOptions {
        database_url: database_url.clone(),
        baseline,
        from: args.from.clone(),
        to: args.to.clone(),
        shard: args.shard,
        trace_locks: args.trace_locks || settings.trace_locks.unwrap_or(false),
        seed_rows: args.seed_rows.or(settings.seed_rows).unwrap_or(0),
        upgrade_only: args.upgrade_only || settings.upgrade_only.unwrap_or(false),
        irreversible: settings.irreversible.clone().unwrap_or_default(),
        progress: !args.quiet,
        compat: args.compat,
        deploy_order: args
            .deploy_order
            .or(settings.deploy_order)
            .unwrap_or_default(),
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
        Err(interrupted) => return Ok(interrupted.report()),
        Ok(Err(error)) => {
            let mut message = error.to_string();
            if let Some(url) = &database_url {
                message = scrub(&message, url);
            }
            return Err(AppError::new(message));
        }
        Ok(Ok(outcome)) => outcome,
    };
    let metas = rules::all_metadata();
    let input = ReportInput {
        command: crate::report::Command::Roundtrip,
        incomplete: incomplete(outcome.input_errors),
        diagnostics: &outcome.diagnostics,
        sources: &outcome.sources,
        rules: &metas,
        summary: Summary::count(outcome.files, outcome.revisions.len(), &outcome.diagnostics)
            .with_runs(&outcome.revisions),
        runs: &outcome.revisions,
        checked: &[],
        links: github_links(),
        verdict: None,
        failure: None,
        statistics: args.input.statistics,
    };
    emit(&args.input.formats, &input)?;
    if args.sql_preview {
        for run in outcome.revisions.iter().filter(|r| !r.sql.is_empty()) {
            eprintln!("-- SQL of `{}`'s upgrade ({})", run.revision, run.path);
            for statement in &run.sql {
                eprintln!("{statement};");
            }
            eprintln!();
        }
    }
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
    Ok(exit_code(
        args.fail_on.or(config.fail_on),
        &outcome.diagnostics,
    ))
}

pub(super) fn gate(args: GateArgs) -> Result<u8, AppError> {
    use crate::roundtrip::postgres::scrub;

    let (config, paths) = resolve_input(&args.input)?;
    let fail_on = args.fail_on.or(config.fail_on).unwrap_or(FailOn::Error);
    let mut roundtrip = runner_options(&config, &args.runner, paths, None, None)?;
    // The gate reports the pending revisions' findings as `check` would.
    roundtrip.lint.select = config.select.clone();
    roundtrip.lint.ignore = config.ignore.clone().unwrap_or_default();
    roundtrip.progress = !args.quiet;
    roundtrip.lint.severity = config.severity.clone();
    let options = release_gate::GateOptions {
        roundtrip,
        live_url: args.database_url.clone(),
        check_drift: !args.no_drift
            && config
                .gate
                .as_ref()
                .and_then(|g| g.check_drift)
                .unwrap_or(true),
        fail_on: fail_on.threshold(),
    };
    let result = until_interrupted(release_gate::run(&options))?;
    let outcome = match result {
        Err(interrupted) => return Ok(interrupted.report()),
        Ok(Err(error)) => {
            return Err(AppError::new(scrub(&error.to_string(), &args.database_url)));
        }
        Ok(Ok(outcome)) => outcome,
    };
    let metas = rules::all_metadata();
    let input = ReportInput {
        command: crate::report::Command::Gate,
        incomplete: incomplete(outcome.input_errors),
        diagnostics: &outcome.diagnostics,
        sources: &outcome.sources,
        rules: &metas,
        summary: Summary::count(outcome.files, outcome.revisions, &outcome.diagnostics),
        runs: &[],
        checked: &[],
        links: github_links(),
        verdict: Some(&outcome.verdict),
        failure: None,
        statistics: args.input.statistics,
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
        .unwrap_or(crate::config::DEFAULT_POSTGRES_VERSION);
    Ok(crate::roundtrip::RoundtripOptions {
        lint: LintOptions {
            paths,
            filters: path_filters(config)?,
            base,
            postgres_version,
            preset: config.preset.unwrap_or_default(),
            lock_timeout_set_by: config.lock_timeout_set_by.clone(),
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
        standalone: runner.standalone || settings.standalone.unwrap_or(false),
        baseline: None,
        compat: false,
        deploy_order: settings.deploy_order.unwrap_or_default(),
        step_timeout: std::time::Duration::from_secs(timeout.or(settings.timeout_s).unwrap_or(300)),
        connect_timeout: runner
            .connect_timeout
            .or(settings.connect_timeout_s)
            .map_or(crate::roundtrip::postgres::DEFAULT_CONNECT_TIMEOUT, |s| {
                std::time::Duration::from_secs(s.max(1))
            }),
        env: settings
            .env
            .clone()
            .into_iter()
            .chain(
                settings
                    .url_option
                    .as_ref()
                    .map(|n| ("MIGRATION_GATE_URL_OPTIONS".to_string(), n.joined())),
            )
            .chain(
                settings
                    .url_env
                    .as_ref()
                    .map(|n| ("MIGRATION_GATE_URL_ENV".to_string(), n.joined())),
            )
            .chain(
                runner
                    .metadata
                    .clone()
                    .or(settings.metadata.clone())
                    .map(|m| ("MIGRATION_GATE_METADATA".to_string(), m)),
            )
            .chain(
                runner
                    .flask_app
                    .clone()
                    .or(settings.flask_app.clone())
                    .map(|app| ("FLASK_APP".to_string(), app)),
            )
            .collect(),
        from: None,
        to: None,
        shard: None,
        trace_locks: false,
        seed_rows: 0,
        upgrade_only: false,
        irreversible: Vec::new(),
        progress: false,
    })
}

/// A run ended by a signal, and what it removed on the way out.
struct Interrupted {
    signal: &'static str,
    exit_code: u8,
    removed: Vec<String>,
}

impl Interrupted {
    /// Says what happened and returns the exit code (128 + the signal's number).
    fn report(self) -> u8 {
        eprintln!("interrupted by {}", self.signal);
        if self.removed.is_empty() {
            eprintln!("nothing was left to remove");
        }
        for what in &self.removed {
            eprintln!("  {what}");
        }
        self.exit_code
    }
}

/// Runs a database job on a small runtime. Ctrl-C, SIGTERM and SIGHUP end it: what it had
/// created is removed before returning (and by the watchdogs, should this process be killed
/// on the way).
fn until_interrupted<T>(
    job: impl std::future::Future<Output = T>,
) -> Result<Result<T, Interrupted>, AppError> {
    use tokio::signal::unix::{SignalKind, signal};
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| AppError::new(format!("cannot start the async runtime: {e}")))?;
    let result = runtime.block_on(async {
        let listen = |kind| {
            signal(kind).map_err(|e| AppError::new(format!("cannot listen for signals: {e}")))
        };
        let mut terminate = listen(SignalKind::terminate())?;
        let mut hangup = listen(SignalKind::hangup())?;
        let mut interrupt = listen(SignalKind::interrupt())?;
        let ended_by = tokio::select! {
            result = job => return Ok(Ok(result)),
            _ = interrupt.recv() => ("Ctrl-C (SIGINT)", 130),
            _ = terminate.recv() => ("SIGTERM", 143),
            _ = hangup.recv() => ("SIGHUP", 129),
        };
        let removed = crate::roundtrip::watchdog::clean_up_armed().await;
        Ok(Err(Interrupted {
            signal: ended_by.0,
            exit_code: ended_by.1,
            removed,
        }))
    });
    // Whatever is still running in the background gets a moment.
    runtime.shutdown_timeout(std::time::Duration::from_secs(10));
    result
}

pub(super) fn incomplete(input_errors: usize) -> Option<String> {
    match input_errors {
        0 => None,
        1 => Some("1 file could not be read or parsed".to_string()),
        n => Some(format!("{n} files could not be read or parsed")),
    }
}
