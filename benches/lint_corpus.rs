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
}
