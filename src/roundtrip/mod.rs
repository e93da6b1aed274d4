//! `migration-gate roundtrip`: every revision goes upgrade → downgrade → upgrade on a throwaway
//! PostgreSQL, with the schema read from the catalogs and compared at each step.

mod captured;
mod catalog;
mod checkpoint;
mod compat;
pub use compat::DeployOrder;
mod conninfo;
pub mod diff;
mod driver_env;
mod interpreter;
mod judge;
mod local_cluster;
mod models;
pub mod postgres;
pub mod profile;
mod reporting;
mod runner;
mod seed;
mod session;
pub mod snapshot;
mod sql_steps;
mod version_table;
pub mod watchdog;
mod way_back;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::diagnostic::{Diagnostic, RevisionResult};
use crate::lint::{self, LintOptions};
use crate::model::{Migration, MigrationSet, Phase, Sources};

use judge::Judge;
use postgres::{ConnInfo, Provider, ProviderRequest};

/// Schema SQL the history starts from (a `pg_dump --schema-only`, or hand-written).
#[derive(Debug, Clone)]
pub struct Baseline {
    pub path: PathBuf,
    /// The file's SQL without psql's backslash commands (`\connect`, `\restrict`).
    pub sql: String,
}

impl Baseline {
    pub fn read(path: &Path) -> Result<Baseline, RoundtripError> {
        let text = crate::frontend::read_text(path)
            .map_err(|e| fail(format!("--baseline {}: {e}", path.display())))?;
        let sql = text
            .lines()
            .filter(|line| !line.trim_start().starts_with('\\'))
            .collect::<Vec<_>>()
            .join("\n");
        Ok(Baseline {
            path: path.to_path_buf(),
            sql,
        })
    }
}

/// A failure that ends the run (exit code 2): no server, no Python, an unreadable project.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct RoundtripError(pub String);

pub fn fail(message: impl Into<String>) -> RoundtripError {
    RoundtripError(message.into())
}

pub struct RoundtripOptions {
    /// Where the migrations are (paths, excludes, `--base`).
    pub lint: LintOptions,
    pub provider: Provider,
    pub database_url: Option<String>,
    pub image: String,
    pub python: Option<PathBuf>,
    pub alembic_config: Option<PathBuf>,
    /// Run Alembic with a generated env.py instead of the project's.
    pub standalone: bool,
    /// Schema applied to every fresh scratch database before any revision.
    pub baseline: Option<Baseline>,
    pub step_timeout: Duration,
    /// For every connection, handshake and authentication included.
    pub connect_timeout: Duration,
    pub env: Vec<(String, String)>,
    /// Judge only revisions from this one (inclusive) ...
    pub from: Option<String>,
    /// ... up to this one (inclusive).
    pub to: Option<String>,
    /// Of the revisions to judge, only this slice (a CI matrix spreads a long history).
    pub shard: Option<Shard>,
    /// Record each statement's locks and rewrites during the first upgrade.
    pub trace_locks: bool,
    /// Before each revision's upgrade, fill every empty table with this many generated rows.
    pub seed_rows: u32,
    /// Prove upgrades only: no downgrade is run.
    pub upgrade_only: bool,
    /// Revisions whose failing downgrade is accepted (`[roundtrip] irreversible`).
    pub irreversible: Vec<String>,
    /// A line on stderr per revision as it finishes.
    pub progress: bool,
    /// With `--base`: the models on the base run against the schema each new revision leaves.
    pub compat: bool,
    /// Which version's models meet which schema (`deploy_order`).
    pub deploy_order: DeployOrder,
}

impl RoundtripOptions {
    /// A `[roundtrip.env]` value names the scratch database's host: env.py assembles a URL
    /// from it, where a socket folder is no host name.
    pub fn needs_host_name(&self) -> bool {
        self.env.iter().any(|(_, value)| value.contains("{host}"))
    }
}

/// `--shard K/N`: the K-th of N contiguous slices of the revisions to judge, in apply order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl std::str::FromStr for Shard {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let wrong = || format!("`{text}` is not K/N with 1 <= K <= N (e.g. 2/4)");
        let (index, count) = text.split_once('/').ok_or_else(wrong)?;
        let index: usize = index.trim().parse().map_err(|_| wrong())?;
        let count: usize = count.trim().parse().map_err(|_| wrong())?;
        if index == 0 || count == 0 || index > count {
            return Err(wrong());
        }
        Ok(Shard { index, count })
    }
}

impl Shard {
    /// This shard's part of `items`: slices as even as can be, the later ones one longer, so
    /// the last shard (which compares the models at head) always has the head.
    pub fn slice<T>(self, items: &[T]) -> &[T] {
        let (size, longer) = (items.len() / self.count, items.len() % self.count);
        let shorter = self.count - longer;
        let before = self.index - 1;
        let start = before * size + before.saturating_sub(shorter);
        let length = size + usize::from(before >= shorter);
        &items[start..start + length]
    }

    pub fn is_last(self) -> bool {
        self.index == self.count
    }
}

pub struct RoundtripOutcome {
    pub sources: Sources,
    pub diagnostics: Vec<Diagnostic>,
    pub revisions: Vec<RevisionResult>,
    pub files: usize,
    pub input_errors: usize,
    pub server: String,
    pub ready_in: Duration,
    pub total: Duration,
}

pub async fn run(options: &RoundtripOptions) -> Result<RoundtripOutcome, RoundtripError> {
    let started = Instant::now();
    // The static check's findings are not the round trip's to report; they tell which findings
    // on the executed SQL would only repeat them.
    let loaded = lint::lint(&options.lint).map_err(|e| fail(e.to_string()))?;
    profile::add("static check", started);
    let (static_findings, input_problems): (Vec<Diagnostic>, Vec<Diagnostic>) = loaded
        .diagnostics
        .iter()
        .cloned()
        .partition(|d| !crate::rules::is_input_problem(d.rule));
    if loaded.sources.is_empty() {
        return Err(fail("no migrations found to round-trip"));
    }
    // Replayed without some of its migrations, a history fails for reasons of ours.
    if let Some(set) = loaded.sets.iter().find(|set| set.not_read.is_some()) {
        return Err(fail(format!(
            "cannot round-trip {}: {}, which migration-gate does not read yet, and the history cannot be replayed without them; `check` lints its formatted SQL",
            set.root,
            set.not_read.as_deref().unwrap_or_default()
        )));
    }
    for (flag, wanted) in [("--from", &options.from), ("--to", &options.to)] {
        if let Some(wanted) = wanted {
            check_revision_exists(flag, wanted, &loaded.sets)?;
        }
    }
    let mut diagnostics = input_problems;
    let input_errors = loaded.input_errors;
    let mut judges: Vec<Judge> = loaded
        .sets
        .iter()
        .map(|set| Judge {
            options,
            sources: &loaded.sources,
            set,
            scope: &loaded.scope,
            diagnostics: Vec::new(),
            results: Vec::new(),
        })
        .collect();
    // The first set's Alembic driver starts while the server does: both take about half a
    // second. A driver that cannot start says so at its launch, as one started then would.
    let mut interpreter = judges
        .first()
        .and_then(|judge| interpreter::Interpreter::start(&judge.alembic_options()?).ok());
    let server = postgres::provide(&ProviderRequest {
        provider: options.provider,
        database_url: options.database_url.as_deref(),
        image: &options.image,
        connect_timeout: options.connect_timeout,
        local_tcp: options.needs_host_name(),
    })
    .await?;
    let mut revisions = Vec::new();
    let mut outcome = Ok(());
    for judge in &mut judges {
        let result = judge.run_set(&server.admin, interpreter.take()).await;
        diagnostics.append(&mut judge.diagnostics);
        diagnostics.extend(captured::findings(
            judge.set,
            &loaded.sources,
            &judge.results,
            &options.lint,
            &static_findings,
        ));
        revisions.append(&mut judge.results);
        if let Err(error) = result {
            outcome = Err(error);
            break;
        }
    }
    let server_kind = format!("{} ({})", server.kind, server.admin);
    let ready_in = server.ready_in;
    server.shut_down().await;
    profile::add("whole run", started);
    profile::print();
    outcome?;
    Ok(RoundtripOutcome {
        files: loaded.sources.len(),
        sources: loaded.sources,
        diagnostics,
        revisions,
        input_errors,
        server: server_kind,
        ready_in,
        total: started.elapsed(),
    })
}

/// `--from` / `--to` must name a revision of the history: a typo would otherwise judge the
/// whole history (or none of it) and say nothing.
fn check_revision_exists(
    flag: &str,
    wanted: &str,
    sets: &[crate::model::MigrationSet],
) -> Result<(), RoundtripError> {
    let known: Vec<&str> = sets
        .iter()
        .flat_map(|set| set.migrations.iter().filter_map(|m| m.revision_id()))
        .collect();
    if known.contains(&wanted) {
        return Ok(());
    }
    let mut near: Vec<(usize, &str)> = known
        .iter()
        .map(|id| (strsim::levenshtein(id, wanted), *id))
        .filter(|(distance, id)| id.starts_with(wanted) || *distance <= 2)
        .collect();
    near.sort();
    let closest = near
        .into_iter()
        .take(3)
        .map(|(_, id)| id)
        .map(|id| format!("`{id}`"))
        .collect::<Vec<_>>();
    let hint = if closest.is_empty() {
        format!(
            "{} revisions are known; `migration-gate graph` lists them",
            known.len()
        )
    } else {
        format!("did you mean {}?", closest.join(", "))
    };
    Err(fail(format!(
        "{flag} {wanted}: no such revision in the history ({hint})"
    )))
}

/// The alembic.ini for the script directory `root`: the nearest one between it and the
/// repository's root whose `script_location` is `root` (the `alembic init app/alembic` layout
/// keeps it two folders up), else one beside `root` or in its parent.
fn find_alembic_ini(root: &Path) -> Option<PathBuf> {
    let canonical = |p: &Path| p.canonicalize().ok();
    let wanted = canonical(root);
    let mut nearest = None;
    for (depth, folder) in root.ancestors().take(8).enumerate() {
        let ini = folder.join("alembic.ini");
        if ini.is_file() {
            let points_here = crate::discover::alembic_ini::read(&ini)
                .and_then(|parsed| parsed.script_location)
                .and_then(|location| canonical(&location))
                .is_some_and(|location| Some(location) == wanted);
            if points_here {
                return Some(ini);
            }
            if depth <= 1 && nearest.is_none() {
                nearest = Some(ini);
            }
        }
        if folder.join(".git").exists() {
            break;
        }
    }
    nearest
}

/// The schema that applying `targets` in order (Alembic: each with its missing ancestors)
/// produces, built in a scratch database on `admin`'s server and dropped again: the release
/// gate compares a live database with it.
pub async fn schema_at(
    options: &RoundtripOptions,
    sources: &Sources,
    set: &MigrationSet,
    targets: &[&Migration],
    admin: &ConnInfo,
) -> Result<snapshot::Snapshot, RoundtripError> {
    let judge = Judge {
        options,
        sources,
        set,
        scope: &None,
        diagnostics: Vec::new(),
        results: Vec::new(),
    };
    let mut session = judge.open(admin, None).await?;
    let mut failure = None;
    for (index, target) in targets.iter().enumerate() {
        let started = Instant::now();
        let stepped = judge.step(&mut session, target, Phase::Upgrade).await;
        if options.progress {
            eprintln!(
                "[{}/{}] {} {} in the scratch database ({} ms)",
                index + 1,
                targets.len(),
                Judge::id(target),
                if stepped.is_ok() { "applied" } else { "FAILED" },
                started.elapsed().as_millis()
            );
        }
        if let Err(error) = stepped {
            if let Some(fatal) = reporting::fatal(&error) {
                Judge::close(session).await?;
                return Err(fatal);
            }
            failure = Some(format!(
                "`{}` does not apply: {}",
                Judge::id(target),
                Judge::describe(&error)
            ));
            break;
        }
    }
    let result = match failure {
        None => session.snapshot().await,
        Some(message) => Err(fail(format!(
            "the applied revisions cannot be rebuilt for comparison: {message}"
        ))),
    };
    Judge::close(session).await?;
    result
}

#[cfg(test)]
mod tests {
    #[test]
    fn shards_cover_every_revision_once_in_order() {
        use super::Shard;
        let revisions: Vec<usize> = (0..10).collect();
        let slices: Vec<Vec<usize>> = (1..=4)
            .map(|k| Shard { index: k, count: 4 }.slice(&revisions).to_vec())
            .collect();
        assert_eq!(
            slices,
            [vec![0, 1], vec![2, 3], vec![4, 5, 6], vec![7, 8, 9]]
        );
        // More shards than revisions: the first ones judge nothing; the last has the head.
        let three = [1, 2, 3];
        assert!(Shard { index: 1, count: 5 }.slice(&three).is_empty());
        assert_eq!(Shard { index: 5, count: 5 }.slice(&three), [3]);
        assert_eq!("2/4".parse::<Shard>(), Ok(Shard { index: 2, count: 4 }));
        for wrong in ["0/4", "5/4", "4", "a/b", "1/0"] {
            assert!(wrong.parse::<Shard>().is_err(), "{wrong}");
        }
    }

    use super::find_alembic_ini;

    #[test]
    fn the_ini_of_an_alembic_init_app_alembic_layout_is_found_two_folders_up() {
        let repo = tempfile::tempdir().unwrap();
        let root = repo.path();
        std::fs::create_dir_all(root.join(".git")).unwrap();
        std::fs::create_dir_all(root.join("app/alembic/versions")).unwrap();
        std::fs::write(
            root.join("alembic.ini"),
            "[alembic]\nscript_location = app/alembic\n",
        )
        .unwrap();
        // A stray ini in between that names another script directory is passed over.
        std::fs::write(
            root.join("app/alembic.ini"),
            "[alembic]\nscript_location = %(here)s/other\n",
        )
        .unwrap();
        assert_eq!(
            find_alembic_ini(&root.join("app/alembic")),
            Some(root.join("alembic.ini"))
        );
    }
}
