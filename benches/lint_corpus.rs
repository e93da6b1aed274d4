//! Lints a generated corpus — 2,000 Alembic revision files in one history and 2,000 SQL files —
//! and prints wall time and files per second. `cargo bench --bench lint_corpus`.

use std::path::Path;
use std::time::{Duration, Instant};

use migration_gate::lint::{LintOptions, lint};

const REVISIONS: usize = 2000;
const SQL_FILES: usize = 2000;

fn revision(i: usize) -> String {
    let parent = if i == 0 {
        "None".to_string()
    } else {
        format!("'{:012x}'", i - 1)
    };
    let table = format!("table_{}", i % 97);
    let body = match i % 5 {
        0 => format!(
            "    op.create_table('{table}_{i}',\n    sa.Column('id', sa.Integer(), nullable=False),\n    sa.Column('name', sa.String(length=120), nullable=False),\n    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),\n    sa.PrimaryKeyConstraint('id')\n    )\n    op.create_index(op.f('ix_{table}_{i}_name'), '{table}_{i}', ['name'], unique=False)\n"
        ),
        1 => format!(
            "    with op.batch_alter_table('{table}', schema=None) as batch_op:\n        batch_op.add_column(sa.Column('col_{i}', sa.String(length=50), nullable=True))\n        batch_op.create_index(batch_op.f('ix_{table}_col_{i}'), ['col_{i}'], unique=False)\n"
        ),
        2 => format!(
            "    op.execute(\"\"\"\n        UPDATE {table} SET flag_{i} = false WHERE flag_{i} IS NULL;\n        CREATE INDEX CONCURRENTLY ix_{table}_flag_{i} ON {table} (flag_{i});\n    \"\"\")\n"
        ),
        3 => format!(
            "    op.alter_column('{table}', 'c_{i}', existing_type=sa.String(length=50), type_=sa.Text(), nullable=False)\n"
        ),
        _ => format!(
            "    op.add_column('{table}', sa.Column('n_{i}', sa.Integer(), server_default='0', nullable=False))\n"
        ),
    };
    format!(
        "\"\"\"revision {i}\n\nRevision ID: {i:012x}\nRevises: {parent}\n\"\"\"\nfrom alembic import op\nimport sqlalchemy as sa\n\n\nrevision = '{i:012x}'\ndown_revision = {parent}\nbranch_labels = None\ndepends_on = None\n\n\ndef upgrade():\n{body}\n\ndef downgrade():\n    op.drop_column('{table}', 'x_{i}')\n"
    )
}

fn sql(i: usize) -> String {
    format!(
        "-- migration {i}\nCREATE TABLE IF NOT EXISTS t_{i} (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());\nALTER TABLE accounts ADD COLUMN c_{i} integer;\nCREATE INDEX ix_accounts_c_{i} ON accounts (c_{i});\nCREATE FUNCTION f_{i}() RETURNS trigger AS $$ BEGIN NEW.updated_at = now(); RETURN NEW; END; $$ LANGUAGE plpgsql;\nUPDATE accounts SET c_{i} = 0 WHERE c_{i} IS NULL;\n"
    )
}

fn generate(root: &Path) {
    let versions = root.join("alembic/versions");
    std::fs::create_dir_all(&versions).unwrap();
    std::fs::write(
        root.join("alembic/env.py"),
        "from alembic import context\ncontext.configure(transaction_per_migration=True)\n",
    )
    .unwrap();
    for i in 0..REVISIONS {
        std::fs::write(
            versions.join(format!("{i:012x}_revision_{i}.py")),
            revision(i),
        )
        .unwrap();
    }
    let sql_dir = root.join("sql");
    std::fs::create_dir_all(&sql_dir).unwrap();
    for i in 0..SQL_FILES {
        std::fs::write(sql_dir.join(format!("{i:05}_migration.sql")), sql(i)).unwrap();
    }
}

fn measure(path: &Path, files: usize, label: &str) {
    let options = LintOptions {
        paths: vec![path.to_path_buf()],
        ..LintOptions::default()
    };
    let outcome = lint(&options).unwrap();
    assert_eq!(
        outcome.sources.len(),
        files + usize::from(label == "alembic"),
        "corpus fully read"
    );
    let mut times: Vec<Duration> = (0..7)
        .map(|_| {
            let start = Instant::now();
            let outcome = lint(&options).unwrap();
            std::hint::black_box(outcome.diagnostics.len());
            start.elapsed()
        })
        .collect();
    times.sort();
    let median = times[times.len() / 2];
    println!(
        "{label:8} {files} files, {} findings: median {:.1} ms (min {:.1} ms) = {:.0} files/s",
        outcome.diagnostics.len(),
        median.as_secs_f64() * 1e3,
        times[0].as_secs_f64() * 1e3,
        files as f64 / median.as_secs_f64()
    );
}

/// Median wall time of a command run 7 times (after one warm-up), as users run it.
fn time_command(program: &Path, args: &[&std::ffi::OsStr]) -> Option<Duration> {
    let run = || {
        let start = Instant::now();
        let status = std::process::Command::new(program)
            .args(args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .ok()?;
        // Linters exit 1 when they find something; only a crash (a signal, 2+) is a failure.
        (status.code().is_some_and(|code| code <= 1)).then(|| start.elapsed())
    };
    run()?;
    let mut times: Vec<Duration> = (0..7).map(|_| run()).collect::<Option<_>>()?;
    times.sort();
    Some(times[times.len() / 2])
}

/// A peer linter: the path in `variable`, else its name on PATH.
fn peer(variable: &str, name: &str) -> Option<std::path::PathBuf> {
    if let Some(path) = std::env::var_os(variable) {
        return Some(path.into());
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// migration-gate's CLI beside squawk on the SQL files and `ruff check --select F` on the
/// revision files, in one run (ratios, not absolute times, compare across machines). The peers
/// come from `scripts/bench-requirements.txt`; a missing one is said, not skipped silently.
fn compare_with_peers(root: &Path) {
    let ours = Path::new(env!("CARGO_BIN_EXE_migration-gate"));
    let sql = root.join("sql");
    let versions = root.join("alembic/versions");
    let check = |path: &Path| {
        time_command(
            ours,
            &[
                "check".as_ref(),
                path.as_os_str(),
                "--format".as_ref(),
                "json".as_ref(),
            ],
        )
    };
    let ratio = |label: &str, ours: Option<Duration>, theirs: Option<Duration>, peer: &str| match (
        ours, theirs,
    ) {
        (Some(ours), Some(theirs)) => println!(
            "{label:8} migration-gate {:.0} ms, {peer} {:.0} ms: {:.2}x",
            ours.as_secs_f64() * 1e3,
            theirs.as_secs_f64() * 1e3,
            ours.as_secs_f64() / theirs.as_secs_f64()
        ),
        _ => println!("{label:8} {peer} comparison not run (a command failed)"),
    };
    match peer("MIGRATION_GATE_BENCH_SQUAWK", "squawk") {
        Some(squawk) => {
            let files: Vec<std::ffi::OsString> = std::fs::read_dir(&sql)
                .unwrap()
                .map(|e| e.unwrap().path().into_os_string())
                .collect();
            let args: Vec<&std::ffi::OsStr> = files.iter().map(|f| f.as_os_str()).collect();
            ratio("sql", check(&sql), time_command(&squawk, &args), "squawk");
        }
        None => println!(
            "sql      squawk not found (pip install -r scripts/bench-requirements.txt, or MIGRATION_GATE_BENCH_SQUAWK)"
        ),
    }
    match peer("MIGRATION_GATE_BENCH_RUFF", "ruff") {
        Some(ruff) => {
            let args: [&std::ffi::OsStr; 6] = [
                "check".as_ref(),
                "--no-cache".as_ref(),
                "--isolated".as_ref(),
                "--select".as_ref(),
                "F".as_ref(),
                versions.as_os_str(),
            ];
            ratio(
                "alembic",
                check(&root.join("alembic")),
                time_command(&ruff, &args),
                "ruff --select F",
            );
        }
        None => println!(
            "alembic  ruff not found (pip install -r scripts/bench-requirements.txt, or MIGRATION_GATE_BENCH_RUFF)"
        ),
    }
}

fn main() {
    rayon::ThreadPoolBuilder::new()
        .stack_size(64 * 1024 * 1024)
        .build_global()
        .ok();
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path());
    println!("threads: {}", rayon::current_num_threads());
    measure(&dir.path().join("alembic"), REVISIONS, "alembic");
    measure(&dir.path().join("sql"), SQL_FILES, "sql");
    compare_with_peers(dir.path());
}
