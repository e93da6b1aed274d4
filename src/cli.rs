//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::config::{FailOn, Preset};

#[derive(Debug, Parser)]
#[command(
    name = "migration-gate",
    version,
    about = "Stops risky database migrations before production."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Static lint: rules and the revision graph. No database, no Python.
    Check(CheckArgs),
    /// Upgrade → downgrade → upgrade per revision on a throwaway PostgreSQL, comparing schemas.
    Roundtrip(RoundtripArgs),
    /// Release gate against a live database, read-only: applied vs pending revisions, their
    /// risks at this database's table sizes, schema drift, and a verdict.
    Gate(GateArgs),
    /// The revision graph: heads, bases, branch points and merges.
    Graph(GraphArgs),
    /// Posts the Markdown report on the pull request, or updates the one posted before.
    Comment {
        /// A report (`check --format markdown=FILE`); repeat to post several (lint, then round
        /// trip) as one comment within GitHub's size limit.
        #[arg(long = "file", required = true)]
        files: Vec<PathBuf>,
        /// Pull request number (default: from $GITHUB_EVENT_PATH).
        #[arg(long = "pr")]
        pull_request: Option<u64>,
        /// OWNER/REPO (default: $GITHUB_REPOSITORY).
        #[arg(long = "repo")]
        repository: Option<String>,
        /// A lint report (`check --format json=FILE`): each fixable finding is also posted as a
        /// review comment with a suggestion on its lines (at most 20; updated, and removed
        /// when the finding is gone, on later runs).
        #[arg(long, value_name = "JSON")]
        suggestions: Option<PathBuf>,
        /// Print the comment's text instead of posting it.
        #[arg(long)]
        print: bool,
    },
    /// A language server on stdio (LSP): diagnostics for open revisions and SQL migrations,
    /// with the whole history in view, and each fix as a code action.
    Server,
    /// Every rule: id, default severity, summary.
    Rules {
        /// text (a table), json, or markdown (README's table).
        #[arg(long, default_value = "text")]
        format: ListFormat,
    },
    /// A rule's full documentation.
    Explain {
        /// The rule's id, as `migration-gate rules` lists it.
        rule: String,
    },
    /// Prints the configuration reference: `docs` (docs/configuration.md) or `readme` (README's
    /// key table); scripts/update-config-reference.sh writes them.
    #[command(name = "__config-reference", hide = true)]
    ConfigReference { part: String },
    /// Cleans up after a run that ended abruptly (started by the run itself).
    #[command(name = "__watchdog", hide = true)]
    Watchdog {
        parent: u32,
        action: String,
        target: String,
    },
}

/// What to read and how to report it: shared by every command that checks migrations.
#[derive(Debug, Args)]
pub struct InputArgs {
    /// Files or folders; default: the config's `paths`, else the current folder.
    pub paths: Vec<PathBuf>,
    /// Output format, repeatable: text (the default), concise (one line per finding), json,
    /// sarif, github, markdown, junit; `FORMAT=FILE` writes that format to a file.
    #[arg(long = "format", alias = "output-format", value_parser = parse_output)]
    pub formats: Vec<Output>,
    /// Count findings per rule instead of listing them (text and concise output).
    #[arg(long)]
    pub statistics: bool,
    /// Leave out files and folders matching these globs (repeatable, comma-separated), on top
    /// of the config's `exclude`.
    #[arg(long, value_delimiter = ',', value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Config file (default: migration-gate.toml, or pyproject.toml's [tool.migration-gate],
    /// found walking up from the first path).
    #[arg(long)]
    pub config: Option<PathBuf>,
}

/// Where migrations run: the throwaway PostgreSQL and the project's Python.
#[derive(Debug, Args)]
pub struct RunnerArgs {
    /// Where the throwaway PostgreSQL comes from (default: auto = url if given, else a local
    /// temporary cluster, else Docker).
    #[arg(long, value_enum)]
    pub postgres: Option<crate::roundtrip::postgres::Provider>,
    /// Docker image for --postgres docker (default: postgres:<postgres_version>-alpine).
    #[arg(long)]
    pub postgres_image: Option<String>,
    /// PostgreSQL major version the migrations run on (default 15, the oldest the PostgreSQL
    /// project still supports; picks the Docker image).
    #[arg(long)]
    pub postgres_version: Option<u32>,
    /// The project's Python (default: .venv/bin/python or venv/bin/python near the project,
    /// else python3).
    #[arg(long)]
    pub python: Option<PathBuf>,
    /// alembic.ini to use (default: next to env.py or one folder up).
    #[arg(long)]
    pub alembic_config: Option<PathBuf>,
    /// Run Alembic with a generated env.py, for projects whose env.py needs the whole app.
    #[arg(long)]
    pub standalone: bool,
    /// Under --standalone, the models to compare the schema with (`app.models:Base.metadata`).
    #[arg(long, value_name = "MODULE:ATTRIBUTE")]
    pub metadata: Option<String>,
    /// The Flask application a Flask-Migrate env.py runs in, as `flask --app` takes it
    /// (default: FLASK_APP, else wsgi.py or app.py).
    #[arg(long, value_name = "IMPORT")]
    pub flask_app: Option<String>,
    /// Seconds a connection may take, handshake and authentication included (default 10).
    #[arg(long, value_name = "SECONDS")]
    pub connect_timeout: Option<u64>,
}

#[derive(Debug, Args)]
pub struct GateArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// The database to inspect (read-only; never written to).
    #[arg(long, env = "MIGRATION_GATE_DATABASE_URL", hide_env_values = true)]
    pub database_url: String,
    /// How the scratch schema for the drift check is built (never on the inspected server).
    #[command(flatten)]
    pub runner: RunnerArgs,
    /// Skip the comparison of the live schema with the history's.
    #[arg(long)]
    pub no_drift: bool,
    /// Lowest severity of a pending revision's finding that makes the verdict "not ready".
    #[arg(long, value_enum)]
    pub fail_on: Option<FailOn>,
    /// No progress lines on stderr (one per revision applied for the drift check).
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct RoundtripArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// A server to create the scratch database on (never touches other databases).
    #[arg(long, env = "MIGRATION_GATE_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    #[command(flatten)]
    pub runner: RunnerArgs,
    /// Only revisions added or changed since the merge base with this git ref; earlier ones are
    /// applied in one go.
    #[arg(long, value_name = "GIT-REF")]
    pub base: Option<String>,
    /// Judge every revision (the default).
    #[arg(long, conflicts_with_all = ["base", "from", "to", "shard"])]
    pub all: bool,
    /// Deploy compatibility: after REF's revisions and after each new one, the models of REF
    /// (its env.py's target_metadata, from a checkout of REF) select, insert, update and delete
    /// in a rolled-back transaction; what breaks is `deploy-incompatible` (Alembic).
    #[arg(long, requires = "base")]
    pub compat: bool,
    /// With --compat: migrate-first (default: REF's models against the new schema) or
    /// code-first (this tree's models against REF's schema, until the revision they need).
    #[arg(long, value_enum, requires = "compat")]
    pub deploy_order: Option<crate::roundtrip::DeployOrder>,
    /// First revision to judge (earlier ones are only applied).
    #[arg(long)]
    pub from: Option<String>,
    /// Last revision to judge.
    #[arg(long)]
    pub to: Option<String>,
    /// Judge only the K-th of N equal slices of the revisions (apply order; earlier ones are
    /// only applied): spread a long history over a CI matrix.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<crate::roundtrip::Shard>,
    /// Schema SQL (`pg_dump --schema-only`, or hand-written) applied to the scratch database
    /// before the first revision; with --from or --base it is the schema that revision starts
    /// from, and the revisions before it are stamped, not applied.
    #[arg(long, value_name = "FILE.sql")]
    pub baseline: Option<PathBuf>,
    /// Seconds one step may take before it is stopped (default 300).
    #[arg(long)]
    pub timeout: Option<u64>,
    /// Record the locks each statement of an upgrade takes and the tables it rewrites.
    #[arg(long)]
    pub trace_locks: bool,
    /// Prove each upgrade and its schema, without downgrades: for forward-only histories
    /// (automatic when no revision has a downgrade).
    #[arg(long)]
    pub upgrade_only: bool,
    /// Print on stderr the SQL each Alembic revision's upgrade sent to the database (the JSON
    /// and Markdown reports always carry it).
    #[arg(long)]
    pub sql_preview: bool,
    /// Before each revision's upgrade, fill every empty table with N generated rows.
    #[arg(long, value_name = "N")]
    pub seed_rows: Option<u32>,
    /// Lowest severity that makes the exit code 1 (default: error).
    #[arg(long, value_enum)]
    pub fail_on: Option<FailOn>,
    /// No progress lines on stderr (by default one per revision as it finishes).
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// PostgreSQL major version the migrations run on (default 15, the oldest the PostgreSQL
    /// project still supports).
    #[arg(long)]
    pub postgres_version: Option<u32>,
    /// Which rules run when --select names none: recommended (the default) or strict (every
    /// rule, the opinionated advice too).
    #[arg(long, value_enum)]
    pub preset: Option<Preset>,
    /// Only these rules (comma-separated ids).
    #[arg(long, value_delimiter = ',')]
    pub select: Option<Vec<String>>,
    /// Skip these rules (comma-separated ids).
    #[arg(long, value_delimiter = ',')]
    pub ignore: Option<Vec<String>>,
    /// Lowest severity that makes the exit code 1.
    #[arg(long, value_enum)]
    pub fail_on: Option<FailOn>,
    /// Git ref of the target branch: lint only revisions added or changed since the merge base
    /// with it, and check that new revisions build on its head.
    #[arg(long, value_name = "GIT-REF")]
    pub base: Option<String>,
    /// Print (to stderr) each migration set found: its folder, framework, migration count and
    /// what it was recognised by; and each folder left out, with why.
    #[arg(long)]
    pub show_sets: bool,
    /// Apply the safe fixes (same schema, less locking) to the migration files, then report
    /// what is left.
    #[arg(long)]
    pub fix: bool,
    /// With --fix or --diff: the unsafe fixes too (they change what the migration does, e.g.
    /// make it fail on a lock timeout instead of waiting).
    #[arg(long)]
    pub unsafe_fixes: bool,
    /// Print the fixes as a unified diff instead of writing them (exit 1 when there is one).
    #[arg(long, conflicts_with = "fix")]
    pub diff: bool,
}

#[derive(Debug, Args)]
pub struct GraphArgs {
    /// Files or folders; default: the config's `paths`, else the current folder.
    pub paths: Vec<PathBuf>,
    /// text (heads, bases, branch points, merges), mermaid (a diagram), or json.
    #[arg(long, value_enum, default_value = "text")]
    pub format: GraphFormat,
    /// Config file (default: migration-gate.toml, or pyproject.toml's [tool.migration-gate]).
    #[arg(long)]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ListFormat {
    Text,
    Json,
    /// The table README.md shows.
    Markdown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GraphFormat {
    Text,
    Mermaid,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    Text,
    Concise,
    Json,
    Sarif,
    Github,
    Markdown,
    Junit,
}

#[derive(Debug, Clone)]
pub struct Output {
    pub format: OutputFormat,
    pub file: Option<PathBuf>,
}

fn parse_output(value: &str) -> Result<Output, String> {
    let (name, file) = match value.split_once('=') {
        Some((name, file)) => (name, Some(PathBuf::from(file))),
        None => (value, None),
    };
    let format = match name {
        "text" => OutputFormat::Text,
        "concise" => OutputFormat::Concise,
        "json" => OutputFormat::Json,
        "sarif" => OutputFormat::Sarif,
        "github" => OutputFormat::Github,
        "markdown" => OutputFormat::Markdown,
        "junit" => OutputFormat::Junit,
        other => {
            return Err(format!(
                "unknown format `{other}` (expected text, concise, json, sarif, github, markdown or junit, optionally as FORMAT=FILE)"
            ));
        }
    };
    Ok(Output { format, file })
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// `--help` is the first documentation a user reads: every option of every command says
    /// what it does.
    #[test]
    fn every_option_of_every_command_has_help() {
        let cli = super::Cli::command();
        let mut missing = Vec::new();
        for command in cli.get_subcommands().filter(|c| !c.is_hide_set()) {
            for arg in command.get_arguments() {
                let builtin = matches!(arg.get_id().as_str(), "help" | "version");
                if !builtin && !arg.is_hide_set() && arg.get_help().is_none() {
                    missing.push(format!("{} {}", command.get_name(), arg.get_id()));
                }
            }
        }
        assert!(missing.is_empty(), "options without help: {missing:?}");
    }
}
