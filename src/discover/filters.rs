//! Which folders discovery leaves out or reads as another database's: `exclude` and `[dialect]`
//! globs from the config, and folder names that say which database they are for.

use std::path::Path;

use globset::GlobSet;

/// Which paths discovery leaves out (`exclude`), and which folders are known to hold another
/// database's migrations or PostgreSQL's, whatever their names say (`[dialect]` in the config).
#[derive(Debug, Clone)]
pub struct PathFilters {
    pub exclude: GlobSet,
    pub postgres: GlobSet,
    pub other_database: GlobSet,
    /// `[[sets]]`: folders whose framework the config names, first match wins.
    pub frameworks: Vec<(globset::GlobMatcher, crate::model::NamedRunner)>,
    /// The config file's folder, absolute: its globs are matched against paths from there
    /// too, so a project checked from another folder is filtered as from its own.
    pub config_folder: Option<std::path::PathBuf>,
}

impl Default for PathFilters {
    fn default() -> Self {
        PathFilters {
            exclude: GlobSet::empty(),
            postgres: GlobSet::empty(),
            other_database: GlobSet::empty(),
            frameworks: Vec::new(),
            config_folder: None,
        }
    }
}

impl PathFilters {
    pub(super) fn excludes(&self, path: &Path) -> bool {
        self.matches(&self.exclude, path)
    }

    /// The config's `[dialect]` names `path` PostgreSQL's.
    pub(super) fn names_postgres_folder(&self, path: &Path) -> bool {
        self.matches(&self.postgres, path)
    }

    /// A folder written for another database: configured so, or named so (`mysql/`,
    /// `versions_sqlite/`) unless configured as PostgreSQL's.
    pub(super) fn is_other_database_dir(&self, path: &Path) -> bool {
        if !path.is_dir() || self.matches(&self.postgres, path) {
            return false;
        }
        self.matches(&self.other_database, path)
            || path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|name| names_postgres(name) == Some(false))
    }
}

impl PathFilters {
    /// The framework the config names for `folder`'s `.sql` files, if it names one.
    pub(super) fn named_framework(&self, folder: &Path) -> Option<crate::model::NamedRunner> {
        let spellings = self.spellings(folder);
        self.frameworks
            .iter()
            .find(|(glob, _)| spellings.iter().any(|path| glob.is_match(path)))
            .map(|(_, framework)| *framework)
    }

    fn matches(&self, globs: &GlobSet, path: &Path) -> bool {
        self.spellings(path).iter().any(|path| globs.is_match(path))
    }

    /// `path` as walked, without a leading `./`, and from the config's folder.
    fn spellings<'p>(&self, path: &'p Path) -> Vec<std::borrow::Cow<'p, Path>> {
        let mut spellings = vec![path.into(), path.strip_prefix("./").unwrap_or(path).into()];
        if let Some(folder) = &self.config_folder
            && let Ok(absolute) = std::path::absolute(path)
            && let Ok(relative) = absolute.strip_prefix(folder)
        {
            spellings.push(relative.to_path_buf().into());
        }
        spellings
    }
}

/// Names projects give PostgreSQL, and other databases, in folder and file names
/// (`versions/sqlite/`, `001_users.mysql.up.sql`), dialect tests and URLs. What is written for
/// another database is not judged as PostgreSQL.
const POSTGRES_NAMES: &[&str] = &[
    "postgresql",
    "postgres",
    "pg",
    "psql",
    "psycopg",
    "psycopg2",
    "asyncpg",
];
const OTHER_DATABASES: &[&str] = &[
    "mysql",
    "mariadb",
    "sqlite",
    "sqlite3",
    "cockroach",
    "cockroachdb",
    "crdb",
    "mssql",
    "sqlserver",
    "oracle",
    "clickhouse",
    "spanner",
    "tidb",
    "firebird",
    "sybase",
    "duckdb",
    "h2",
    "hsqldb",
    "derby",
    "db2",
    "informix",
    "snowflake",
    "redshift",
    "bigquery",
];

/// `Some(true)` for a name of PostgreSQL, `Some(false)` for another database's, `None` for a
/// name that names no database. A compound name (`migration_sqlite`, `mysql-persistence`,
/// `SQL_SERVER`) counts by its words; one naming both (`mysql_to_postgres`) names neither.
pub fn names_postgres(name: &str) -> Option<bool> {
    let name = name.to_ascii_lowercase();
    let joined: String = name
        .chars()
        .filter(|c| !matches!(c, '_' | '-' | ' '))
        .collect();
    let one_word = |word: &str| {
        if POSTGRES_NAMES.contains(&word) {
            Some(true)
        } else if OTHER_DATABASES.contains(&word) {
            Some(false)
        } else {
            None
        }
    };
    if let Some(answer) = one_word(&joined) {
        return Some(answer);
    }
    let mut answer = None;
    for word in name.split(|c: char| !c.is_ascii_alphanumeric()) {
        match (answer, one_word(word)) {
            (_, None) => {}
            (None, found) => answer = found,
            (Some(seen), Some(found)) if seen != found => return None,
            _ => {}
        }
    }
    answer.or_else(|| glued_name(&joined))
}

/// Names long and distinctive enough to be read glued to another word (`riversqlite`,
/// `sqlitestore`, `postgresstore`); short ones (`pg`, `h2`) are not, they hide in other words.
const GLUED_NAMES: &[(&str, bool)] = &[
    ("postgresql", true),
    ("postgres", true),
    ("sqlite3", false),
    ("sqlite", false),
    ("mysql", false),
    ("mariadb", false),
    ("mssql", false),
    ("sqlserver", false),
    ("clickhouse", false),
];

/// A database name the compound word starts or ends with.
fn glued_name(word: &str) -> Option<bool> {
    GLUED_NAMES
        .iter()
        .find(|(name, _)| word.starts_with(name) || word.ends_with(name))
        .map(|(_, postgres)| *postgres)
}

#[cfg(test)]
mod tests {
    use super::names_postgres;

    #[test]
    fn database_names_count_by_their_words() {
        for (name, expected) in [
            ("postgres", Some(true)),
            ("POSTGRESQL", Some(true)),
            ("migration_postgres_notify", Some(true)),
            ("SQL_SERVER", Some(false)),
            ("H2", Some(false)),
            ("mysql-persistence", Some(false)),
            ("migration_sqlite", Some(false)),
            ("mysql_to_postgres", None),
            ("riversqlite", Some(false)),
            ("sqlitestore", Some(false)),
            ("riverpgxv5", None),
            ("upgrade", None),
            ("migrations", None),
            ("versions", None),
        ] {
            assert_eq!(names_postgres(name), expected, "{name}");
        }
    }
}
