//! `migration-gate.toml` or `[tool.migration-gate]` in `pyproject.toml`, found by walking up
//! from the checked path. Keys are kebab-case like the command line's flags (`fail-on`, as
//! ruff's are); the snake_case spelling is accepted too.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::diagnostic::Severity;

/// The PostgreSQL major version rules assume when none is named: the oldest one the PostgreSQL
/// project still supports (14 reached its end of life on 2026-11-12).
pub const DEFAULT_POSTGRES_VERSION: u32 = 15;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    /// The folder of the config file, which its paths and globs are relative to; not a key.
    #[serde(skip)]
    pub folder: Option<PathBuf>,
    pub paths: Option<Vec<PathBuf>>,
    #[serde(alias = "postgres_version")]
    pub postgres_version: Option<u32>,
    /// `"postgresql"` (the default), or a table of folder globs → the database their sets are
    /// written for: `[dialect] "migrations/mysql" = "mysql"`, `"db/legacy_sqlite" = "postgresql"`.
    pub dialect: Option<DialectSetting>,
    pub preset: Option<Preset>,
    pub select: Option<Vec<String>>,
    pub ignore: Option<Vec<String>>,
    #[serde(default)]
    pub severity: BTreeMap<String, Severity>,
    pub exclude: Option<Vec<String>>,
    #[serde(alias = "fail_on")]
    pub fail_on: Option<FailOn>,
    /// Where lock_timeout is set when the migrations do not set it themselves ("role",
    /// "database", "application"): missing-lock-timeout then stays quiet.
    #[serde(alias = "lock_timeout_set_by")]
    pub lock_timeout_set_by: Option<String>,
    pub roundtrip: Option<RoundtripConfig>,
    pub gate: Option<GateConfig>,
    /// `[[sets]]`: the framework that runs a folder's `.sql` files, when its layout is
    /// ambiguous (`path` is a folder glob, as in `exclude`).
    pub sets: Option<Vec<SetConfig>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SetConfig {
    pub path: String,
    pub framework: String,
    /// How a project's own runner (`framework = "sql"`) sends each migration:
    /// `per-migration` (in a transaction of its own) or `none` (statement by statement).
    pub transaction: Option<String>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct GateConfig {
    /// Compare the live schema with the one the applied revisions build (default true).
    #[serde(alias = "check_drift")]
    pub check_drift: Option<bool>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RoundtripConfig {
    #[serde(alias = "database_url_env")]
    pub database_url_env: Option<String>,
    pub postgres: Option<crate::roundtrip::postgres::Provider>,
    #[serde(alias = "postgres_image")]
    pub postgres_image: Option<String>,
    pub python: Option<String>,
    #[serde(alias = "alembic_config")]
    pub alembic_config: Option<String>,
    /// Schema SQL applied before the first revision (see `roundtrip --baseline`).
    pub baseline: Option<String>,
    pub command: Option<String>,
    #[serde(alias = "timeout_s")]
    pub timeout_s: Option<u64>,
    /// Seconds a connection may take, handshake and authentication included (default 10).
    #[serde(alias = "connect_timeout_s")]
    pub connect_timeout_s: Option<u64>,
    /// alembic.ini main options env.py reads its URL from, besides `sqlalchemy.url`.
    #[serde(alias = "url_option")]
    pub url_option: Option<Names>,
    /// Environment variables env.py reads its URL from, besides DATABASE_URL and
    /// SQLALCHEMY_DATABASE_URI.
    #[serde(alias = "url_env")]
    pub url_env: Option<Names>,
    /// Under `--standalone`, the models to compare the schema with: `module:attribute`
    /// (`app.models:Base.metadata`), imported without the application running.
    pub metadata: Option<String>,
    /// Run Alembic with a generated env.py (`--standalone`).
    pub standalone: Option<bool>,
    /// Record each statement's locks and rewrites (`--trace-locks`).
    #[serde(alias = "trace_locks")]
    pub trace_locks: Option<bool>,
    /// Fill every empty table with this many rows before each upgrade (`--seed-rows`).
    #[serde(alias = "seed_rows")]
    pub seed_rows: Option<u32>,
    /// Prove upgrades only (`--upgrade-only`): a forward-only history.
    #[serde(alias = "upgrade_only")]
    pub upgrade_only: Option<bool>,
    /// Revisions accepted as irreversible: their failing downgrade is a note, not an error.
    pub irreversible: Option<Vec<String>>,
    /// Which version's models `--compat` puts against which schema: migrate-first (the old code
    /// meets the new schema) or code-first (the new code meets the old schema).
    #[serde(alias = "deploy_order")]
    pub deploy_order: Option<crate::roundtrip::DeployOrder>,
    /// The Flask application a Flask-Migrate env.py runs in, as `flask --app` takes it
    /// (`myapp:create_app()`); default: FLASK_APP, else wsgi.py or app.py.
    #[serde(alias = "flask_app")]
    pub flask_app: Option<String>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
}

/// One name or a list of them.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Names {
    One(String),
    Many(Vec<String>),
}

impl Names {
    pub fn joined(&self) -> String {
        match self {
            Names::One(name) => name.clone(),
            Names::Many(names) => names.join(","),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum DialectSetting {
    Everywhere(String),
    ByFolder(BTreeMap<String, String>),
}

impl Config {
    /// `[dialect]` as (folder glob, written for PostgreSQL); a name no database goes by, or a
    /// whole project declared as another database's, is an error.
    pub fn dialect_by_folder(&self) -> Result<Vec<(String, bool)>, String> {
        let is_postgres = |value: &str| match crate::discover::names_postgres(value) {
            Some(postgres) => Ok(postgres),
            None => Err(format!(
                "config: dialect: `{value}` is not a database name migration-gate knows (postgresql, mysql, mariadb, sqlite, mssql, oracle, cockroachdb, ...)"
            )),
        };
        match &self.dialect {
            None => Ok(Vec::new()),
            Some(DialectSetting::Everywhere(value)) => {
                if is_postgres(value)? {
                    Ok(Vec::new())
                } else {
                    Err(format!(
                        "config: dialect = \"{value}\": migration-gate judges PostgreSQL migrations only; to leave another database's sets out, name their folders: [dialect] \"migrations/{value}\" = \"{value}\""
                    ))
                }
            }
            Some(DialectSetting::ByFolder(folders)) => folders
                .iter()
                .map(|(glob, value)| Ok((glob.clone(), is_postgres(value)?)))
                .collect(),
        }
    }
}

impl Config {
    /// `[[sets]]` as (folder glob, framework and its runner's transaction); a framework name
    /// that is not one of those a folder of `.sql` files can be named as is an error that lists
    /// them, and so is a transaction for a framework that decides its own.
    pub fn frameworks_by_folder(&self) -> Result<Vec<(String, crate::model::NamedRunner)>, String> {
        use crate::model::{Framework, NamedRunner};
        let nameable: Vec<&str> = Framework::NAMEABLE.iter().map(|f| f.label()).collect();
        self.sets
            .iter()
            .flatten()
            .map(|set| {
                let found = Framework::NAMEABLE
                    .iter()
                    .find(|f| f.label().eq_ignore_ascii_case(set.framework.trim()));
                match found {
                    Some(framework) => Ok((
                        set.path.clone(),
                        NamedRunner {
                            framework: *framework,
                            transaction: set_transaction(set, *framework)?,
                        },
                    )),
                    None => Err(format!(
                        "config: sets: framework = \"{}\" (for \"{}\") is not one migration-gate can read a folder of `.sql` files as; known: {}{}",
                        set.framework,
                        set.path,
                        nameable.join(", "),
                        if Framework::LAYOUT_FOUND
                            .iter()
                            .any(|f| f.label().eq_ignore_ascii_case(set.framework.trim()))
                        {
                            format!(" ({} is found by its own layout and needs no naming)", set.framework)
                        } else {
                            String::new()
                        }
                    )),
                }
            })
            .collect()
    }
}

/// Which rules run when `select` names none.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Preset {
    /// Rules whose findings are worth acting on in any project: the default.
    #[default]
    Recommended,
    /// Every rule, the opinionated advice too (types, indexes, idempotent statements).
    Strict,
}

impl Preset {
    pub fn as_str(self) -> &'static str {
        match self {
            Preset::Recommended => "recommended",
            Preset::Strict => "strict",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum FailOn {
    Error,
    Warning,
    Note,
    Never,
}

impl FailOn {
    pub fn threshold(self) -> Option<Severity> {
        match self {
            FailOn::Error => Some(Severity::Error),
            FailOn::Warning => Some(Severity::Warning),
            FailOn::Note => Some(Severity::Note),
            FailOn::Never => None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
    #[error("{path}: cannot read: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

#[derive(Deserialize)]
struct PyProject {
    tool: Option<PyProjectTool>,
}

#[derive(Deserialize)]
struct PyProjectTool {
    #[serde(rename = "migration-gate")]
    migration_gate: Option<toml::Value>,
}

/// The config that applies to `start`, and the file it came from.
pub fn find(start: &Path) -> Result<Option<(PathBuf, Config)>, ConfigError> {
    let absolute = std::fs::canonicalize(start).unwrap_or_else(|_| start.to_path_buf());
    let first = if absolute.is_file() {
        absolute.parent().map(Path::to_path_buf)
    } else {
        Some(absolute)
    };
    let mut dir = first;
    while let Some(current) = dir {
        let own = current.join("migration-gate.toml");
        // Present in any form (a folder, a dangling link) it is meant as the config: reading
        // it says what is wrong instead of silently using the defaults.
        if own.symlink_metadata().is_ok() {
            return load(&own).map(|c| Some((own, c)));
        }
        let pyproject = current.join("pyproject.toml");
        if pyproject.is_file() {
            let text = read(&pyproject)?;
            let parsed: PyProject = toml::from_str(&text).map_err(|e| invalid(&pyproject, &e))?;
            if let Some(section) = parsed.tool.and_then(|t| t.migration_gate) {
                let config = Config::deserialize(section).map_err(|e| ConfigError::Invalid {
                    path: pyproject.display().to_string(),
                    message: format!("[tool.migration-gate]: {}", e.message()),
                })?;
                return Ok(Some((pyproject, config)));
            }
        }
        if current.join(".git").exists() {
            break;
        }
        dir = current.parent().map(Path::to_path_buf);
    }
    Ok(None)
}

pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let text = read(path)?;
    toml::from_str(&text).map_err(|e| invalid(path, &e))
}

fn read(path: &Path) -> Result<String, ConfigError> {
    let problem = |message: &str| ConfigError::Invalid {
        path: path.display().to_string(),
        message: message.to_string(),
    };
    if path.is_dir() {
        return Err(problem("is a folder, not a config file"));
    }
    if !path.exists() && path.symlink_metadata().is_ok() {
        return Err(problem("is a symbolic link to a file that does not exist"));
    }
    if std::fs::metadata(path).is_ok_and(|m| m.len() > 1024 * 1024) {
        return Err(problem(
            "is over 1 MiB; a config file is a few lines of TOML",
        ));
    }
    std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
        path: path.display().to_string(),
        source,
    })
}

fn invalid(path: &Path, error: &toml::de::Error) -> ConfigError {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let line = error
        .span()
        .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
    let location = line.map(|l| format!(" (line {l})")).unwrap_or_default();
    ConfigError::Invalid {
        path: path.display().to_string(),
        message: format!("{}{location}", error.message()),
    }
}

/// A `[[sets]]` entry's `transaction`: only a project's own runner (`framework = "sql"`) needs
/// telling; every other framework's transactions are its own, read from its files.
fn set_transaction(
    set: &SetConfig,
    framework: crate::model::Framework,
) -> Result<Option<crate::model::ScriptTransaction>, String> {
    use crate::model::{Framework, ScriptTransaction};
    let Some(value) = &set.transaction else {
        return Ok(None);
    };
    if framework != Framework::PlainSql {
        return Err(format!(
            "config: sets: transaction = \"{value}\" (for \"{}\") is only for framework = \"sql\", a project's own runner; {} runs its migrations in transactions as its files say",
            set.path,
            framework.label()
        ));
    }
    match value.trim() {
        "per-migration" => Ok(Some(ScriptTransaction::Wrapped)),
        "none" => Ok(Some(ScriptTransaction::PerStatement)),
        other => Err(format!(
            "config: sets: transaction = \"{other}\" (for \"{}\") is not a transaction mode; known: per-migration (each migration in a transaction of its own), none (statement by statement)",
            set.path
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_are_named() {
        let error = toml::from_str::<Config>("postgres_verison = 12").unwrap_err();
        assert!(
            error.message().contains("postgres_verison"),
            "{}",
            error.message()
        );
    }

    #[test]
    fn bad_values_name_the_key() {
        let error = toml::from_str::<Config>("fail_on = \"sometimes\"").unwrap_err();
        assert!(error.message().contains("sometimes"), "{}", error.message());
    }
}
