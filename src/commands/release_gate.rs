//! `migration-gate gate`: a release gate against a live database, read-only. Which revisions are
//! applied, which are pending, what the pending ones will do to tables of this size, and
//! whether the live schema is the one the history produces.

use std::collections::BTreeSet;

use crate::diagnostic::{Diagnostic, Severity, Verdict};
use crate::lint;
use crate::model::graph::RevisionGraph;
use crate::model::op::same_name;
use crate::model::{Framework, Migration, MigrationSet, Sources};
use crate::roundtrip::diff::{self, Comparison};
use crate::roundtrip::postgres::{self, ConnInfo, Provider, ProviderRequest, db_error};
use crate::roundtrip::{self, RoundtripError, RoundtripOptions, fail, snapshot};
use crate::rules::gate as findings;

pub struct GateOptions {
    /// Where the migrations are, and how the scratch schema for the drift check is built
    /// (`database_url` there is the live database and is never used for scratch work).
    pub roundtrip: RoundtripOptions,
    pub live_url: String,
    pub check_drift: bool,
    pub fail_on: Option<Severity>,
}

pub struct GateOutcome {
    pub sources: Sources,
    pub diagnostics: Vec<Diagnostic>,
    pub verdict: Verdict,
    pub files: usize,
    pub revisions: usize,
    pub input_errors: usize,
}

/// Rules whose risk grows with the table: they are weighed by its live size.
const SIZE_SENSITIVE: &[&str] = &[
    "create-index-non-concurrently",
    "drop-index-non-concurrently",
    "add-column-not-null-with-default",
    "add-column-volatile-default",
    "change-column-type",
    "set-not-null",
    "add-foreign-key-without-not-valid",
    "add-check-constraint-without-not-valid",
    "add-unique-constraint",
    "add-primary-key",
    "blocking-maintenance",
    "unbatched-data-migration",
    "batch-recreate-table",
];

/// Findings that fail on a table with rows and pass on an empty one: whether this database's
/// table has any decides.
const ROW_SENSITIVE: &[&str] = &["add-column-not-null-without-default"];

/// The table a finding names, with its live size when this database has it.
fn live_size_of<'a>(
    diagnostic: &Diagnostic,
    sizes: &'a [TableSize],
) -> Option<(String, &'a TableSize)> {
    let table = diagnostic.table.clone()?;
    let size = sizes.iter().find(|s| {
        same_name(&table, &s.name) || same_name(&table, &format!("{}.{}", s.schema, s.name))
    })?;
    Some((table, size))
}

/// A row-sensitive finding with the live table's row count: an error that will happen when the
/// table has rows, a note when it is empty here (it still fails on a database with rows).
fn weigh_rows(mut diagnostic: Diagnostic, sizes: &[TableSize]) -> Diagnostic {
    let Some((table, size)) = live_size_of(&diagnostic, sizes) else {
        return diagnostic;
    };
    if size.rows > 0.0 {
        diagnostic.severity = Severity::Error;
        diagnostic.message = format!(
            "{} — `{table}` has {} in this database: the deploy fails on this revision",
            diagnostic.message,
            pretty_rows(size.rows)
        );
    } else if size.rows == 0.0 && size.bytes <= EMPTY_BYTES {
        diagnostic.severity = Severity::Note;
        diagnostic.message = format!(
            "{} — `{table}` is empty in this database, so it applies here (it fails wherever the table has rows)",
            diagnostic.message
        );
    }
    diagnostic
}

/// A heap with no rows ever written, and its indexes: a few pages.
const EMPTY_BYTES: i64 = 64 * 1024;

/// At most this many rows and bytes, a blocking change is over before anyone notices.
const SMALL_ROWS: f64 = 10_000.0;
const SMALL_BYTES: i64 = 10 * 1024 * 1024;
/// From this size on, a blocking change is an outage whatever the configured severity.
const LARGE_ROWS: f64 = 10_000_000.0;
const LARGE_BYTES: i64 = 1024 * 1024 * 1024;

struct TableSize {
    schema: String,
    name: String,
    rows: f64,
    bytes: i64,
}

fn pretty_bytes(bytes: i64) -> String {
    let units = ["bytes", "kB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < units.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} bytes")
    } else {
        format!("{value:.1} {}", units[unit])
    }
}

fn pretty_rows(rows: f64) -> String {
    if rows < 0.0 {
        return "an unknown number of rows (never analyzed)".into();
    }
    let digits = format!("{}", rows.round() as i64);
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("~{grouped} rows")
}

/// Connects read-only: every transaction is READ ONLY and every statement has a time limit, so
/// the gate cannot change the database it inspects even by mistake.
async fn connect_read_only(
    url: &str,
    connect_timeout: std::time::Duration,
) -> Result<tokio_postgres::Client, RoundtripError> {
    let mut conninfo = ConnInfo::parse_url(url)?;
    conninfo.connect_timeout = connect_timeout;
    let client = conninfo
        .connect_with_options(Some(
            "-c default_transaction_read_only=on -c statement_timeout=30000",
        ))
        .await
        .map_err(|e| fail(format!("cannot connect to {conninfo}: {e}")))?;
    Ok(client)
}

/// The versions a framework's bookkeeping table lists; none when the table does not exist.
async fn applied_versions(
    client: &tokio_postgres::Client,
    framework: Framework,
) -> Result<(Vec<String>, bool), RoundtripError> {
    let (sql, has_dirty) = match framework {
        Framework::Alembic => ("SELECT version_num::text FROM alembic_version", false),
        Framework::GolangMigrate => ("SELECT version::text, dirty FROM schema_migrations", true),
        Framework::Dbmate => ("SELECT version::text FROM schema_migrations", false),
        Framework::Flyway => (
            "SELECT version::text FROM flyway_schema_history WHERE success AND version IS NOT NULL",
            false,
        ),
        Framework::Diesel => (
            "SELECT version::text FROM __diesel_schema_migrations",
            false,
        ),
        Framework::Prisma => (
            "SELECT migration_name::text FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL",
            false,
        ),
        // goose writes a row per up and per down; a version is applied when its latest row says so.
        Framework::Goose => (
            "SELECT version_id::text FROM goose_db_version g WHERE is_applied AND NOT EXISTS (SELECT 1 FROM goose_db_version later WHERE later.version_id = g.version_id AND later.id > g.id)",
            false,
        ),
        // A failed migration stays recorded with success = false (sqlx's "dirty" state).
        Framework::Sqlx => (
            "SELECT version::text, NOT success FROM _sqlx_migrations",
            true,
        ),
        Framework::SqlMigrate => ("SELECT id::text FROM gorp_migrations", false),
        Framework::Drizzle => (
            "SELECT created_at::text FROM drizzle.__drizzle_migrations",
            false,
        ),
        Framework::Supabase => (
            "SELECT version::text FROM supabase_migrations.schema_migrations",
            false,
        ),
        Framework::Atlas => (
            "SELECT version::text, applied < total FROM atlas_schema_revisions.atlas_schema_revisions",
            true,
        ),
        // The registry's changes are named, not versioned: the last deployed change of each.
        Framework::Sqitch => ("SELECT change::text FROM sqitch.changes", false),
        Framework::Liquibase => (
            "SELECT regexp_replace(filename::text, '^.*/', '') || '::' || author::text || ':' || id::text FROM databasechangelog",
            false,
        ),
        Framework::PlainSql => return Ok((Vec::new(), false)),
    };
    match client.query(sql, &[]).await {
        Ok(rows) => {
            let dirty = has_dirty && rows.iter().any(|r| r.get::<_, bool>(1));
            Ok((rows.iter().map(|r| r.get::<_, String>(0)).collect(), dirty))
        }
        Err(error)
            if error
                .as_db_error()
                .is_some_and(|d| d.code().code() == "42P01") =>
        {
            Ok((Vec::new(), false))
        }
        Err(error) => Err(fail(format!(
            "reading the applied revisions: {}",
            db_error(&error)
        ))),
    }
}

async fn table_sizes(client: &tokio_postgres::Client) -> Result<Vec<TableSize>, RoundtripError> {
    let rows = client
        .query(
            "SELECT n.nspname::text, c.relname::text, c.reltuples::float8, pg_total_relation_size(c.oid)
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')",
            &[],
        )
        .await
        .map_err(|e| fail(format!("reading table sizes: {}", db_error(&e))))?;
    Ok(rows
        .iter()
        .map(|r| TableSize {
            schema: r.get(0),
            name: r.get(1),
            rows: r.get(2),
            bytes: r.get(3),
        })
        .collect())
}

/// A pending finding weighed by the size of its table in this database.
fn weigh(mut diagnostic: Diagnostic, sizes: &[TableSize]) -> Diagnostic {
    if ROW_SENSITIVE.contains(&diagnostic.rule) {
        return weigh_rows(diagnostic, sizes);
    }
    if !SIZE_SENSITIVE.contains(&diagnostic.rule) {
        return diagnostic;
    }
    let Some((table, size)) = live_size_of(&diagnostic, sizes) else {
        return diagnostic;
    };
    let measured = format!(
        "`{table}` has {} ({}) in this database",
        pretty_rows(size.rows),
        pretty_bytes(size.bytes)
    );
    let small = size.bytes <= SMALL_BYTES && size.rows >= 0.0 && size.rows <= SMALL_ROWS;
    let large = size.bytes >= LARGE_BYTES || size.rows >= LARGE_ROWS;
    if small {
        diagnostic.severity = Severity::Note;
        diagnostic.message = format!("{} — {measured}: harmless at this size", diagnostic.message);
    } else if large {
        diagnostic.severity = Severity::Error;
        diagnostic.message = format!(
            "{} — {measured}: expect an outage while it runs",
            diagnostic.message
        );
    } else {
        diagnostic.message = format!("{} — {measured}", diagnostic.message);
    }
    diagnostic
}

/// A version as SQL frameworks store it: `001` and `1` are the same, so are `1.01` and `1.1`.
fn normalized_version(version: &str) -> String {
    version
        .split(['.', '_'])
        .map(|part| {
            let trimmed = part.trim_start_matches('0');
            if trimmed.is_empty() && !part.is_empty() {
                "0"
            } else {
                trimmed
            }
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// Applied revisions with all their ancestors, the pending ones oldest first, and applied ids
/// the repository does not have.
fn split_history<'a>(
    set: &'a MigrationSet,
    applied: &[String],
) -> (Vec<&'a Migration>, Vec<&'a Migration>, Vec<String>) {
    let key = |id: &str| match set.framework {
        Framework::Alembic => id.to_string(),
        _ => normalized_version(id),
    };
    let known: BTreeSet<String> = set
        .migrations
        .iter()
        .filter_map(Migration::revision_id)
        .map(key)
        .collect();
    let unknown: Vec<String> = applied
        .iter()
        .filter(|id| !known.contains(&key(id)))
        .cloned()
        .collect();
    let graph = RevisionGraph::build(set);
    let ordered = graph.apply_order(set);
    let applied_keys: BTreeSet<String> = applied.iter().map(|id| key(id)).collect();
    let done: BTreeSet<String> = match set.framework {
        Framework::Alembic => applied
            .iter()
            .filter(|id| known.contains(id.as_str()))
            .flat_map(|id| graph.ancestors(set, id, true))
            .collect(),
        // golang-migrate keeps one row, the current version: everything up to it is applied.
        Framework::GolangMigrate => {
            let current = ordered.iter().rposition(|m| {
                m.revision_id()
                    .is_some_and(|id| applied_keys.contains(&key(id)))
            });
            ordered
                .iter()
                .take(current.map_or(0, |i| i + 1))
                .filter_map(|m| m.revision_id().map(key))
                .collect()
        }
        _ => applied_keys,
    };
    let (applied_in_order, pending): (Vec<&Migration>, Vec<&Migration>) = ordered
        .into_iter()
        .partition(|m| m.revision_id().is_some_and(|id| done.contains(&key(id))));
    (applied_in_order, pending, unknown)
}

pub async fn run(options: &GateOptions) -> Result<GateOutcome, RoundtripError> {
    let outcome = lint::lint(&options.roundtrip.lint).map_err(|e| fail(e.to_string()))?;
    if outcome.sources.is_empty() {
        return Err(fail("no migrations found to gate"));
    }
    let live = connect_read_only(&options.live_url, options.roundtrip.connect_timeout).await?;
    let sizes = table_sizes(&live).await?;
    let mut diagnostics: Vec<Diagnostic> = Vec::new();
    let mut reasons = Vec::new();
    let mut all_applied = Vec::new();
    let mut all_pending = Vec::new();
    let mut scratch_server = None;
    for set in &outcome.sets {
        let (applied, dirty) = applied_versions(&live, set.framework).await?;
        let (applied_in_order, pending, unknown) = split_history(set, &applied);
        all_applied.extend(applied.iter().cloned());
        if dirty {
            reasons.push(format!(
                "{}: the last migration failed half-way (dirty)",
                set.root
            ));
            diagnostics.push(
                Diagnostic::unplaced(
                    &findings::UNKNOWN_REVISION,
                    format!(
                        "{}: schema_migrations is marked dirty: a migration failed half-way",
                        set.root
                    ),
                )
                .with_help("repair it by hand, then `migrate force <version>`"),
            );
        }
        for id in &unknown {
            reasons.push(format!(
                "the database is at `{id}`, which {} does not have",
                set.root
            ));
            let mut d = Diagnostic::unplaced(
                &findings::UNKNOWN_REVISION,
                format!("the database is at revision `{id}`, which no migration in {} declares: the deployed code diverged from this branch", set.root),
            )
            .with_help("find where it came from (`git log --all -S`), merge that branch, then deploy");
            d.revision = Some(id.clone());
            diagnostics.push(d);
        }
        let pending_ids: Vec<String> = pending
            .iter()
            .filter_map(|m| m.revision_id().map(str::to_string))
            .collect();
        if !pending.is_empty() {
            let mut d = Diagnostic::new(
                &findings::PENDING_REVISIONS,
                pending[0].revision_span,
                format!(
                    "{} pending in {}: {}",
                    if pending.len() == 1 {
                        "1 revision".to_string()
                    } else {
                        format!("{} revisions", pending.len())
                    },
                    set.root,
                    pending_ids.join(" → ")
                ),
            );
            d.revision = pending_ids.first().cloned();
            diagnostics.push(d);
        }
        all_pending.extend(pending_ids.iter().cloned());
        let pending_files: BTreeSet<_> = pending.iter().map(|m| m.file).collect();
        for diagnostic in &outcome.diagnostics {
            // A deploy runs the pending revisions' upgrades: what their downgrades would do is
            // not this release's risk.
            if diagnostic
                .span
                .is_some_and(|s| pending_files.contains(&s.file))
                && diagnostic.phase != Some(crate::model::Phase::Downgrade)
            {
                diagnostics.push(weigh(diagnostic.clone(), &sizes));
            }
        }
        if options.check_drift && unknown.is_empty() && !dirty {
            if scratch_server.is_none() {
                scratch_server = Some(
                    postgres::provide(&ProviderRequest {
                        provider: match options.roundtrip.provider {
                            Provider::Url | Provider::Auto => Provider::Auto,
                            other => other,
                        },
                        database_url: None,
                        image: &options.roundtrip.image,
                        connect_timeout: options.roundtrip.connect_timeout,
                        local_tcp: options.roundtrip.needs_host_name(),
                    })
                    .await?,
                );
            }
            let server = scratch_server.as_ref().expect("provided above");
            let targets: Vec<&Migration> = match set.framework {
                // Each applied head brings its ancestors along.
                Framework::Alembic => applied_in_order
                    .iter()
                    .filter(|m| {
                        m.revision_id()
                            .is_some_and(|id| applied.iter().any(|a| a == id))
                    })
                    .copied()
                    .collect(),
                _ => applied_in_order.clone(),
            };
            let expected = roundtrip::schema_at(
                &options.roundtrip,
                &outcome.sources,
                set,
                &targets,
                &server.admin,
            )
            .await?;
            let actual = snapshot::take(&live).await?;
            let differences = diff::differences(&expected, &actual, Comparison::Live);
            if !differences.is_empty() {
                reasons.push(format!("the live schema differs from what {} produces at its applied revision ({} difference(s))", set.root, differences.len()));
                let message = format!(
                    "the live schema is not the one the applied revisions produce: {}",
                    differences.join("; ")
                );
                // On the revision the database says it is at: the schema it should have.
                let mut drift = match targets.last() {
                    Some(at) => Diagnostic::new(&findings::SCHEMA_DRIFT, at.revision_span, message),
                    None => Diagnostic::unplaced(&findings::SCHEMA_DRIFT, message),
                };
                drift.revision = targets
                    .last()
                    .and_then(|m| m.revision_id())
                    .map(str::to_string);
                diagnostics.push(drift.with_help(
                    "turn the hand-made change into a revision (or undo it) before deploying",
                ));
            }
        }
    }
    if let Some(server) = scratch_server {
        server.shut_down().await;
    }
    let threshold = options.fail_on;
    let blocking: Vec<&Diagnostic> = diagnostics
        .iter()
        .filter(|d| d.origin != crate::diagnostic::Origin::Gate)
        .filter(|d| threshold.is_some_and(|t| d.severity >= t))
        .collect();
    if !blocking.is_empty() {
        reasons.push(format!(
            "{} finding(s) in the pending revisions at or above the gate's threshold",
            blocking.len()
        ));
    }
    Ok(GateOutcome {
        files: outcome.sources.len(),
        revisions: outcome.revisions,
        input_errors: outcome.input_errors,
        sources: outcome.sources,
        verdict: Verdict {
            ready: reasons.is_empty(),
            reasons,
            applied: all_applied,
            pending: all_pending,
        },
        diagnostics,
    })
}

#[cfg(test)]
mod tests {
    use crate::diagnostic::{Diagnostic, Severity};

    #[test]
    fn a_not_null_column_without_default_is_weighed_by_the_live_rows() {
        let finding = || {
            Diagnostic::unplaced(
                crate::rules::all_metadata()
                    .into_iter()
                    .find(|m| m.id == "add-column-not-null-without-default")
                    .unwrap(),
                "NOT NULL column `email` has no server default".to_string(),
            )
            .about_table(Some("users"))
        };
        let table = |rows: f64, bytes: i64| super::TableSize {
            schema: "public".into(),
            name: "users".into(),
            rows,
            bytes,
        };
        let full = super::weigh(finding(), &[table(1234.0, 200_000)]);
        assert_eq!(full.severity, Severity::Error);
        assert!(
            full.message
                .contains("`users` has ~1,234 rows in this database"),
            "{}",
            full.message
        );
        let empty = super::weigh(finding(), &[table(0.0, 8192)]);
        assert_eq!(empty.severity, Severity::Note);
        assert!(
            empty.message.contains("empty in this database"),
            "{}",
            empty.message
        );
    }

    #[test]
    fn versions_compare_as_sql_frameworks_store_them() {
        assert_eq!(super::normalized_version("001"), "1");
        assert_eq!(super::normalized_version("1"), "1");
        assert_eq!(super::normalized_version("1.01"), "1.1");
        assert_eq!(
            super::normalized_version("20240101000000"),
            "20240101000000"
        );
        assert_eq!(super::normalized_version("0"), "0");
    }
}
