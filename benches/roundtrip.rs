//! The round trip against the alternatives, on generated 100- and 300-revision Alembic histories
//! and one local PostgreSQL cluster, in the same run:
//! - migration-gate roundtrip: upgrade → downgrade → upgrade and two schema comparisons per
//!   revision (total and per revision);
//! - Alembic's CLI doing the same three passes: `alembic upgrade head`, `alembic downgrade
//!   base`, `alembic upgrade head` (goal: ours at most 0.8x);
//! - the psql floor: that DDL as SQL (`alembic upgrade head --sql`, `downgrade head:base --sql`)
//!   through psql, upgrade and downgrade;
//! - pytest-alembic's `test_up_down_consistency` (upgrade and downgrade per revision, no schema
//!   comparison).
//!
//! - ours on the same histories where one revision in ten fails its downgrade, and where one in
//!   ten leaves drift that makes its second upgrade fail (goal: at most 1.2x the run without);
//! - a 1,000-revision history, whole and as the four `--shard K/4` jobs of a CI matrix.
//!
//! `bash scripts/bench-roundtrip.sh` sets up the Python side and runs it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use migration_gate::lint::LintOptions;
use migration_gate::roundtrip::postgres::{LocalCluster, Provider};
use migration_gate::roundtrip::{RoundtripOptions, Shard, run};

const SIZES: [usize; 2] = [100, 300];

const ENV_PY: &str = r#"import os
from alembic import context
from sqlalchemy import create_engine, pool

if context.is_offline_mode():
    # `alembic upgrade head --sql`: the DDL for the psql floor.
    context.configure(url="postgresql://", literal_binds=True, transaction_per_migration=True)
    with context.begin_transaction():
        context.run_migrations()
    raise SystemExit(0)

def run(connection):
    context.configure(connection=connection, transaction_per_migration=True)
    with context.begin_transaction():
        context.run_migrations()

# pytest-alembic hands over its engine; migration-gate and the CLI give a URL.
connectable = context.config.attributes.get("connection") or create_engine(
    os.environ["DATABASE_URL"], poolclass=pool.NullPool
)
if hasattr(connectable, "connect"):
    with connectable.connect() as connection:
        run(connection)
else:
    run(connectable)
"#;

const CONFTEST: &str = r#"import os
import pytest
from sqlalchemy import create_engine, pool

@pytest.fixture
def alembic_config():
    return {"script_location": os.path.dirname(os.path.dirname(__file__))}

@pytest.fixture
def alembic_engine():
    return create_engine(os.environ["BENCH_DATABASE_URL"], poolclass=pool.NullPool)
"#;

/// How a generated history's revisions fail, one in ten.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Defects {
    None,
    /// The downgrade names a column that does not exist: it fails, and its transaction leaves
    /// the revision applied.
    FailingDowngrade,
    /// The downgrade does nothing: the schema drifts and the second upgrade fails, so the
    /// database must be restored.
    DriftingDowngrade,
}

/// A reversible revision in the shapes autogenerate writes, or, one in ten, with `defects`.
fn revision(i: usize, defects: Defects) -> String {
    let table = format!("t{}", i / 5);
    let body = match i % 5 {
        0 => (
            format!(
                "    op.create_table('{table}',\n        sa.Column('id', sa.BigInteger(), primary_key=True),\n        sa.Column('name', sa.String(80), nullable=False),\n        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now()))"
            ),
            format!("    op.drop_table('{table}')"),
        ),
        1 => (
            format!("    op.add_column('{table}', sa.Column('note', sa.Text(), nullable=True))"),
            format!("    op.drop_column('{table}', 'note')"),
        ),
        2 => (
            format!("    op.create_index('ix_{table}_name', '{table}', ['name'])"),
            format!("    op.drop_index('ix_{table}_name', table_name='{table}')"),
        ),
        3 if i >= 5 => (
            format!(
                "    op.add_column('{table}', sa.Column('parent_id', sa.BigInteger()))\n    op.create_foreign_key('fk_{table}_parent', '{table}', 't{}', ['parent_id'], ['id'])",
                i / 5 - 1
            ),
            format!(
                "    op.drop_constraint('fk_{table}_parent', '{table}', type_='foreignkey')\n    op.drop_column('{table}', 'parent_id')"
            ),
        ),
        3 => (
            format!("    op.add_column('{table}', sa.Column('parent_id', sa.BigInteger()))"),
            format!("    op.drop_column('{table}', 'parent_id')"),
        ),
        _ => (
            format!(
                "    op.alter_column('{table}', 'name', type_=sa.String(160), existing_type=sa.String(80))"
            ),
            format!(
                "    op.alter_column('{table}', 'name', type_=sa.String(80), existing_type=sa.String(160))"
            ),
        ),
    };
    // A failing downgrade on any revision; the drift on a created table, whose second
    // upgrade then fails (the table is still there), which needs a restore.
    let defective = match defects {
        Defects::DriftingDowngrade => i % 10 == 5,
        _ => i % 10 == 9,
    };
    let body = match defects {
        Defects::FailingDowngrade if defective => (
            body.0,
            format!("    op.drop_column('{table}', 'no_such_column')"),
        ),
        Defects::DriftingDowngrade if defective => (body.0, "    pass".to_string()),
        _ => body,
    };
    let parent = if i == 0 {
        "None".to_string()
    } else {
        format!("'r{:04}'", i - 1)
    };
    format!(
        "from alembic import op\nimport sqlalchemy as sa\n\nrevision = 'r{i:04}'\ndown_revision = {parent}\nbranch_labels = None\ndepends_on = None\n\n\ndef upgrade():\n{}\n\n\ndef downgrade():\n{}\n",
        body.0, body.1
    )
}

fn generate(root: &Path, revisions: usize) {
    generate_with(root, revisions, Defects::None);
}

fn generate_with(root: &Path, revisions: usize, defects: Defects) {
    std::fs::create_dir_all(root.join("versions")).unwrap();
    std::fs::write(root.join("env.py"), ENV_PY).unwrap();
    // pytest-alembic binds its built-in tests to tests/conftest.py.
    std::fs::create_dir_all(root.join("tests")).unwrap();
    std::fs::write(root.join("tests/conftest.py"), CONFTEST).unwrap();
    std::fs::write(
        root.join("alembic.ini"),
        "[alembic]\nscript_location = %(here)s\n",
    )
    .unwrap();
    for i in 0..revisions {
        std::fs::write(
            root.join(format!("versions/r{i:04}.py")),
            revision(i, defects),
        )
        .unwrap();
    }
}

fn timed(label: &str, mut command: Command) -> Option<Duration> {
    let started = Instant::now();
    let output = command.output().ok()?;
    let elapsed = started.elapsed();
    if !output.status.success() {
        println!(
            "{label}: failed\n{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        return None;
    }
    Some(elapsed)
}

fn create_database(url_of: &dyn Fn(&str) -> String, name: &str, runtime: &tokio::runtime::Runtime) {
    let admin = url_of("postgres");
    runtime.block_on(async {
        let (client, connection) = tokio_postgres::connect(&admin, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(connection);
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap();
    });
}

/// One size's times, in seconds.
#[derive(Default)]
struct Times {
    ours: f64,
    pytest_alembic: Option<f64>,
    alembic_cli: Option<f64>,
    psql_floor: Option<f64>,
    /// Ours where one revision in ten fails its downgrade, and where one in ten drifts.
    failing_downgrades: f64,
    drifting_downgrades: f64,
    /// Where our run's time went (the profile's parts), for the fastest of our runs.
    breakdown: Vec<(&'static str, f64)>,
}

/// Rounds per size, each running all four in turn: this 2-core VM's speed drifts by up to 2x
/// within minutes, so a single run says little and the table keeps each one's best.
const ROUNDS: usize = 3;

impl Times {
    fn best(self, other: Times) -> Times {
        let min = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let (ours, breakdown) = if other.ours < self.ours || self.ours == 0.0 {
            (other.ours, other.breakdown)
        } else {
            (self.ours, self.breakdown)
        };
        Times {
            ours,
            pytest_alembic: min(self.pytest_alembic, other.pytest_alembic),
            alembic_cli: min(self.alembic_cli, other.alembic_cli),
            psql_floor: min(self.psql_floor, other.psql_floor),
            failing_downgrades: positive_min(self.failing_downgrades, other.failing_downgrades),
            drifting_downgrades: positive_min(self.drifting_downgrades, other.drifting_downgrades),
            breakdown,
        }
    }
}

fn positive_min(a: f64, b: f64) -> f64 {
    match (a > 0.0, b > 0.0) {
        (true, true) => a.min(b),
        (true, false) => a,
        _ => b,
    }
}

fn ratio(ours: f64, other: Option<f64>) -> String {
    other.map_or("n/a".into(), |other| format!("{:.2}x", ours / other))
}

fn seconds(time: Option<f64>) -> String {
    time.map_or("n/a".into(), |t| format!("{t:.2} s"))
}

fn main() {
    let Ok(python) = std::env::var("MIGRATION_GATE_TEST_PYTHON") else {
        println!("SKIPPED: set MIGRATION_GATE_TEST_PYTHON (scripts/bench-roundtrip.sh does)");
        return;
    };
    let python = PathBuf::from(python);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let started = Instant::now();
    let cluster = LocalCluster::start().expect("a local cluster");
    println!(
        "local cluster: initdb + start in {:.2} s",
        started.elapsed().as_secs_f64()
    );
    let admin = cluster.conninfo();
    let url_of = |db: &str| admin.with_database(db).url_with_password();
    // `MIGRATION_GATE_BENCH_ONLY=options` measures only what the run options cost.
    if std::env::var("MIGRATION_GATE_BENCH_ONLY").as_deref() == Ok("options") {
        option_costs(&python, &url_of, &runtime);
        return;
    }
    let mut all = Vec::new();
    for revisions in SIZES {
        let dir = tempfile::tempdir().unwrap();
        let project = dir.path().join("project");
        generate(&project, revisions);
        let failing = dir.path().join("failing");
        generate_with(&failing, revisions, Defects::FailingDowngrade);
        let drifting = dir.path().join("drifting");
        generate_with(&drifting, revisions, Defects::DriftingDowngrade);
        let mut best = Times::default();
        for round in 1..=ROUNDS {
            println!("\n{revisions} revisions, round {round} of {ROUNDS}:");
            let mut times = measure(&project, revisions, round, &python, &url_of, &runtime);
            times.failing_downgrades =
                with_defects(&failing, revisions, &python, &url_of, &runtime);
            times.drifting_downgrades =
                with_defects(&drifting, revisions, &python, &url_of, &runtime);
            best = best.best(times);
        }
        all.push((revisions, best));
    }
    println!("\nbest of {ROUNDS} rounds each:");
    println!(
        "\n| revisions | ours | pytest-alembic | alembic CLI, 3 passes | psql floor | ours / pytest-alembic | ours / alembic CLI (goal <= 0.8x) | ours / psql floor |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- |");
    for (revisions, t) in &all {
        println!(
            "| {revisions} | {:.2} s | {} | {} | {} | {} | {} | {} |",
            t.ours,
            seconds(t.pytest_alembic),
            seconds(t.alembic_cli),
            seconds(t.psql_floor),
            ratio(t.ours, t.pytest_alembic),
            ratio(t.ours, t.alembic_cli),
            ratio(t.ours, t.psql_floor),
        );
    }
    println!(
        "\n| revisions | ours, no failures | one in ten fails its downgrade | one in ten drifts (restored) | (goal <= 1.2x) |"
    );
    println!("| --- | --- | --- | --- | --- |");
    for (revisions, t) in &all {
        println!(
            "| {revisions} | {:.2} s | {:.2} s ({}) | {:.2} s ({}) | |",
            t.ours,
            t.failing_downgrades,
            ratio(t.failing_downgrades, Some(t.ours)),
            t.drifting_downgrades,
            ratio(t.drifting_downgrades, Some(t.ours)),
        );
    }
    // Alembic's own steps against what migration-gate adds around them.
    for (revisions, t) in &all {
        let parts: Vec<String> = t
            .breakdown
            .iter()
            .filter(|(what, _)| *what != "whole run")
            .map(|(what, seconds)| format!("{what} {seconds:.2} s"))
            .collect();
        println!("ours at {revisions}, fastest run: {}", parts.join(", "));
    }
    if let [(small, a), (large, b)] = &all[..] {
        println!(
            "growth: {large} / {small} revisions = {:.2}x (linear would be {:.1}x)",
            b.ours / a.ours,
            *large as f64 / *small as f64
        );
    }
    option_costs(&python, &url_of, &runtime);
    shards(&python, &url_of, &runtime);
    drop(cluster);
}

/// What `--trace-locks` and `--seed-rows 1000` add to a 100-revision run (goals: at most +10%
/// and 1.5x).
fn option_costs(python: &Path, url_of: &dyn Fn(&str) -> String, runtime: &tokio::runtime::Runtime) {
    const REVISIONS: usize = 100;
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("project");
    generate(&project, REVISIONS);
    let time = |trace_locks: bool, seed_rows: u32| {
        let options = RoundtripOptions {
            trace_locks,
            seed_rows,
            ..options(&project, python, url_of)
        };
        let started = Instant::now();
        let outcome = runtime.block_on(run(&options)).expect("round trip runs");
        assert_eq!(outcome.revisions.len(), REVISIONS);
        started.elapsed().as_secs_f64()
    };
    // Interleaved, best of three each: a busy 2-core machine drifts more than the options cost.
    let (mut plain, mut traced, mut seeded) = (f64::MAX, f64::MAX, f64::MAX);
    for _ in 0..3 {
        plain = plain.min(time(false, 0));
        traced = traced.min(time(true, 0));
        seeded = seeded.min(time(false, 1000));
    }
    println!("\n{REVISIONS} revisions, options (best of 3, interleaved):");
    println!("  plain {plain:.2} s");
    println!(
        "  --trace-locks {traced:.2} s: {:.2}x (goal at most 1.10x)",
        traced / plain
    );
    println!(
        "  --seed-rows 1000 {seeded:.2} s: {:.2}x (goal at most 1.5x)",
        seeded / plain
    );
}

/// Ours only, on a long history: whole, then as the four jobs of a CI matrix would run it.
fn shards(python: &Path, url_of: &dyn Fn(&str) -> String, runtime: &tokio::runtime::Runtime) {
    const LONG: usize = 1000;
    const COUNT: usize = 4;
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("project");
    generate(&project, LONG);
    let run_once = |shard: Option<Shard>| {
        let options = RoundtripOptions {
            shard,
            ..options(&project, python, url_of)
        };
        let started = Instant::now();
        let outcome = runtime.block_on(run(&options)).expect("round trip runs");
        (started.elapsed().as_secs_f64(), outcome.revisions.len())
    };
    let (whole, judged) = run_once(None);
    println!("\n{LONG} revisions: whole run {whole:.2} s ({judged} judged)");
    let mut slowest: f64 = 0.0;
    for index in 1..=COUNT {
        let (time, judged) = run_once(Some(Shard {
            index,
            count: COUNT,
        }));
        slowest = slowest.max(time);
        println!("  --shard {index}/{COUNT}: {time:.2} s ({judged} judged)");
    }
    println!(
        "  a {COUNT}-job matrix takes {slowest:.2} s, {:.2}x the whole run",
        slowest / whole
    );
}

/// Ours on a history with defects: every revision judged, one in ten failed.
fn with_defects(
    project: &Path,
    revisions: usize,
    python: &Path,
    url_of: &dyn Fn(&str) -> String,
    runtime: &tokio::runtime::Runtime,
) -> f64 {
    let options = options(project, python, url_of);
    migration_gate::roundtrip::profile::take();
    let started = Instant::now();
    let outcome = runtime.block_on(run(&options)).expect("round trip runs");
    let elapsed = started.elapsed().as_secs_f64();
    let failed = outcome
        .revisions
        .iter()
        .filter(|r| r.status == migration_gate::diagnostic::Status::Failed)
        .count();
    assert_eq!(outcome.revisions.len(), revisions);
    assert_eq!(failed, revisions / 10, "{:#?}", outcome.diagnostics);
    let restores: u32 = migration_gate::roundtrip::profile::take()
        .iter()
        .filter(|(what, _, _)| what.starts_with("rebuild: a fresh"))
        .map(|(_, _, count)| *count)
        .sum();
    println!(
        "  {} with {failed} failures: {elapsed:.2} s, {restores} databases rebuilt",
        project.file_name().unwrap().to_string_lossy()
    );
    elapsed
}

fn options(project: &Path, python: &Path, url_of: &dyn Fn(&str) -> String) -> RoundtripOptions {
    RoundtripOptions {
        lint: LintOptions {
            paths: vec![project.to_path_buf()],
            ..LintOptions::default()
        },
        provider: Provider::Url,
        database_url: Some(url_of("postgres")),
        image: String::new(),
        python: Some(python.to_path_buf()),
        alembic_config: None,
        standalone: false,
        baseline: None,
        step_timeout: Duration::from_secs(300),
        connect_timeout: migration_gate::roundtrip::postgres::DEFAULT_CONNECT_TIMEOUT,
        env: Vec::new(),
        from: None,
        to: None,
        shard: None,
        trace_locks: false,
        seed_rows: 0,
        upgrade_only: false,
        irreversible: Vec::new(),
        progress: false,
        compat: false,
        deploy_order: Default::default(),
    }
}

fn measure(
    project: &Path,
    revisions: usize,
    round: usize,
    python: &Path,
    url_of: &dyn Fn(&str) -> String,
    runtime: &tokio::runtime::Runtime,
) -> Times {
    let sqlalchemy_url =
        |db: &str| url_of(db).replacen("postgresql://", "postgresql+psycopg://", 1);
    let mut times = Times::default();

    // migration-gate, through the library, on the running cluster.
    let options = options(project, python, url_of);
    migration_gate::roundtrip::profile::take();
    let started = Instant::now();
    let outcome = runtime.block_on(run(&options)).expect("round trip runs");
    let ours = started.elapsed();
    times.ours = ours.as_secs_f64();
    times.breakdown = migration_gate::roundtrip::profile::take()
        .into_iter()
        .map(|(what, total, _)| (what, total.as_secs_f64()))
        .collect();
    assert_eq!(
        outcome.revisions.len(),
        revisions,
        "each revision judged once"
    );
    let failed = outcome
        .revisions
        .iter()
        .filter(|r| r.status != migration_gate::diagnostic::Status::Passed)
        .count();
    assert_eq!(failed, 0, "{:#?}", outcome.diagnostics);
    let mut per_revision: Vec<u64> = outcome.revisions.iter().map(|r| r.millis).collect();
    per_revision.sort();
    println!(
        "  migration-gate roundtrip: {:.2} s ({:.1} ms per revision, median {} ms, max {} ms); 3 steps, 3 catalog snapshots and 2 comparisons each",
        ours.as_secs_f64(),
        ours.as_secs_f64() * 1e3 / revisions as f64,
        per_revision[per_revision.len() / 2],
        per_revision.last().unwrap()
    );

    // The same DDL alone, through Alembic's own CLI.
    let database = format!("ddl_alone_{revisions}_{round}");
    create_database(url_of, &database, runtime);
    let alembic = |args: &[&str]| {
        let mut command = Command::new(python);
        command
            .args(["-m", "alembic", "-c", "alembic.ini"])
            .args(args)
            .current_dir(project)
            .env("DATABASE_URL", sqlalchemy_url(&database));
        command
    };
    let up = timed("alembic upgrade head", alembic(&["upgrade", "head"]));
    let down = timed("alembic downgrade base", alembic(&["downgrade", "base"]));
    let again = timed("alembic upgrade head", alembic(&["upgrade", "head"]));
    if let (Some(up), Some(down), Some(again)) = (up, down, again) {
        times.alembic_cli = Some((up + down + again).as_secs_f64());
        println!(
            "  Alembic's CLI: upgrade head {:.2} s + downgrade base {:.2} s + upgrade head {:.2} s (three processes, no comparison)",
            up.as_secs_f64(),
            down.as_secs_f64(),
            again.as_secs_f64()
        );
    }

    // The floor: that DDL as SQL through psql, generated beforehand and not timed.
    let database = format!("psql_floor_{revisions}_{round}");
    create_database(url_of, &database, runtime);
    let script = |args: &[&str]| {
        alembic(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| o.stdout)
    };
    if let (Some(up_sql), Some(down_sql)) = (
        script(&["upgrade", "head", "--sql"]),
        script(&["downgrade", "head:base", "--sql"]),
    ) {
        std::fs::write(project.join("up.sql"), up_sql).unwrap();
        std::fs::write(project.join("down.sql"), down_sql).unwrap();
        let psql = |file: &str| {
            let mut command = Command::new("psql");
            command
                .args([
                    "-X",
                    "-q",
                    "-v",
                    "ON_ERROR_STOP=1",
                    "-f",
                    file,
                    &url_of(&database),
                ])
                .current_dir(project);
            command
        };
        let up = timed("psql up.sql", psql("up.sql"));
        let down = timed("psql down.sql", psql("down.sql"));
        if let (Some(up), Some(down)) = (up, down) {
            times.psql_floor = Some((up + down).as_secs_f64());
            println!(
                "  psql floor: upgrade {:.2} s + downgrade {:.2} s",
                up.as_secs_f64(),
                down.as_secs_f64()
            );
        }
    }

    // pytest-alembic's up/down consistency test.
    let database = format!("pytest_alembic_{revisions}_{round}");
    create_database(url_of, &database, runtime);
    let mut pytest = Command::new(python);
    pytest
        .args([
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--test-alembic",
            "-k",
            "test_up_down_consistency",
        ])
        .current_dir(project)
        .env("BENCH_DATABASE_URL", sqlalchemy_url(&database));
    match timed("pytest-alembic", pytest) {
        Some(elapsed) => {
            times.pytest_alembic = Some(elapsed.as_secs_f64());
            println!(
                "  pytest-alembic test_up_down_consistency: {:.2} s (upgrade + downgrade per revision, no schema comparison)",
                elapsed.as_secs_f64()
            )
        }
        None => println!("  pytest-alembic: not run (install it: scripts/bench-roundtrip.sh)"),
    }
    times
}
