//! Lock tracing at scale: a history that creates 500 tables and then alters them in 4,500
//! statements (5,000 traced statements), round-tripped with `--trace-locks` on a local cluster.
//! Prints wall time and the peak memory of this process and of the Alembic driver.
//!
//! `MIGRATION_GATE_TEST_PYTHON=.test-venv/bin/python cargo bench --bench trace_scale`

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use migration_gate::lint::LintOptions;
use migration_gate::roundtrip::postgres::{LocalCluster, Provider};
use migration_gate::roundtrip::{RoundtripOptions, run};

const TABLES: usize = 500;
const ALTER_REVISIONS: usize = 45;
const ALTERS_PER_REVISION: usize = 100;

const ENV_PY: &str = r#"import os
from alembic import context
from sqlalchemy import create_engine, pool

with create_engine(os.environ["DATABASE_URL"], poolclass=pool.NullPool).connect() as connection:
    context.configure(connection=connection, transaction_per_migration=True)
    with context.begin_transaction():
        context.run_migrations()
"#;

fn generate(root: &Path) {
    std::fs::create_dir_all(root.join("versions")).unwrap();
    std::fs::write(root.join("env.py"), ENV_PY).unwrap();
    std::fs::write(
        root.join("versions/r000.py"),
        format!(
            "from alembic import op\nimport sqlalchemy as sa\n\nrevision = 'r000'\ndown_revision = None\n\n\ndef upgrade():\n    for i in range({TABLES}):\n        op.create_table(f't{{i}}', sa.Column('id', sa.BigInteger(), primary_key=True), sa.Column('name', sa.Text()))\n\n\ndef downgrade():\n    for i in range({TABLES}):\n        op.drop_table(f't{{i}}')\n"
        ),
    )
    .unwrap();
    for r in 1..=ALTER_REVISIONS {
        let first = (r - 1) * ALTERS_PER_REVISION % TABLES;
        std::fs::write(
            root.join(format!("versions/r{r:03}.py")),
            format!(
                "from alembic import op\nimport sqlalchemy as sa\n\nrevision = 'r{r:03}'\ndown_revision = 'r{:03}'\n\n\ndef upgrade():\n    for i in range({first}, {first} + {ALTERS_PER_REVISION}):\n        op.add_column(f't{{i}}', sa.Column('c{r}', sa.Integer()))\n\n\ndef downgrade():\n    for i in range({first}, {first} + {ALTERS_PER_REVISION}):\n        op.drop_column(f't{{i}}', 'c{r}')\n",
                r - 1
            ),
        )
        .unwrap();
    }
}

/// Peak resident memory in kB (VmHWM) of a process, from /proc.
fn peak_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// The Alembic driver's peak memory, watched while it runs (it is gone when the run ends).
fn watch_driver(stop: Arc<AtomicBool>, peak: Arc<AtomicU64>) -> std::thread::JoinHandle<()> {
    let me = std::process::id().to_string();
    std::thread::spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
                let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
                    continue;
                };
                let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                    continue;
                };
                let parent = stat
                    .rsplit(')')
                    .next()
                    .and_then(|rest| rest.split_whitespace().nth(1));
                let cmdline =
                    std::fs::read_to_string(format!("/proc/{pid}/cmdline")).unwrap_or_default();
                if parent == Some(me.as_str())
                    && cmdline.contains("migration-gate-driver")
                    && let Some(kb) = peak_kb(pid)
                {
                    peak.fetch_max(kb, Ordering::Relaxed);
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    })
}

fn main() {
    let Ok(python) = std::env::var("MIGRATION_GATE_TEST_PYTHON") else {
        println!("SKIPPED: set MIGRATION_GATE_TEST_PYTHON (scripts/test.sh makes the venv)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("project");
    generate(&project);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let cluster = LocalCluster::start().expect("a local cluster");
    let options = RoundtripOptions {
        lint: LintOptions {
            paths: vec![project.clone()],
            ..LintOptions::default()
        },
        provider: Provider::Url,
        database_url: Some(cluster.conninfo().url_with_password()),
        image: String::new(),
        python: Some(PathBuf::from(python)),
        alembic_config: None,
        standalone: false,
        baseline: None,
        step_timeout: Duration::from_secs(600),
        connect_timeout: migration_gate::roundtrip::postgres::DEFAULT_CONNECT_TIMEOUT,
        env: Vec::new(),
        from: None,
        to: None,
        shard: None,
        trace_locks: true,
        seed_rows: 0,
        upgrade_only: false,
        irreversible: Vec::new(),
        progress: false,
        compat: false,
        deploy_order: Default::default(),
    };
    let stop = Arc::new(AtomicBool::new(false));
    let driver_peak = Arc::new(AtomicU64::new(0));
    let watcher = watch_driver(stop.clone(), driver_peak.clone());
    let started = Instant::now();
    let outcome = runtime.block_on(run(&options)).expect("round trip runs");
    let elapsed = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    watcher.join().unwrap();
    let statements: usize = outcome.revisions.iter().map(|r| r.trace.len()).sum();
    let upgrade_ms: u64 = outcome
        .revisions
        .iter()
        .flat_map(|r| r.steps.iter().filter(|s| s.step == "upgrade"))
        .map(|s| s.millis)
        .sum();
    println!(
        "{TABLES} tables, {} revisions, {statements} traced statements, {} findings",
        outcome.revisions.len(),
        outcome.diagnostics.len()
    );
    println!(
        "round trip with --trace-locks: {:.1} s in all (traced upgrades {:.1} s)",
        elapsed.as_secs_f64(),
        upgrade_ms as f64 / 1000.0
    );
    println!(
        "peak memory: migration-gate {} MB, Alembic driver {} MB",
        peak_kb(std::process::id()).unwrap_or(0) / 1024,
        driver_peak.load(Ordering::Relaxed) / 1024
    );
    drop(cluster);
}
