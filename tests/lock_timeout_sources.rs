//! `missing-lock-timeout` stays quiet when lock_timeout is set where teams set it: in the
//! revision, in env.py, in the Flask application's engine options that Flask-Migrate's env.py
//! runs on, or outside the code (`lock-timeout-set-by`). Only a setting that reaches the
//! migrations' connections counts.

use std::path::Path;
use std::process::Command;

/// Flask-Migrate's env.py in short: the engine is the application's.
const FLASK_ENV_PY: &str = r#"from alembic import context
from flask import current_app

config = context.config


def run_migrations_online():
    connectable = current_app.extensions["migrate"].db.engine
    with connectable.connect() as connection:
        context.configure(connection=connection,
                          target_metadata=current_app.extensions["migrate"].db.metadata)
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
"#;

const USERS: &str = r#"from alembic import op
import sqlalchemy as sa

revision = "a1"
down_revision = None


def upgrade():
    op.create_table("users", sa.Column("id", sa.BigInteger(), primary_key=True))


def downgrade():
    op.drop_table("users")
"#;

const NICKNAME: &str = r#"from alembic import op
import sqlalchemy as sa

revision = "a2"
down_revision = "a1"


def upgrade():
    op.add_column("users", sa.Column("nickname", sa.Text()))


def downgrade():
    op.drop_column("users", "nickname")
"#;

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// A Flask-Migrate project: the application's package beside `migrations/`.
fn flask_project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(&root.join("migrations/env.py"), FLASK_ENV_PY);
    write(&root.join("migrations/versions/a1_users.py"), USERS);
    write(&root.join("migrations/versions/a2_nickname.py"), NICKNAME);
    write(
        &root.join("app/__init__.py"),
        "from flask import Flask\nfrom flask_migrate import Migrate\nfrom flask_sqlalchemy import SQLAlchemy\n\ndb = SQLAlchemy()\n\n\ndef create_app():\n    app = Flask(__name__)\n    app.config.from_object('app.config.Config')\n    db.init_app(app)\n    Migrate(app, db)\n    return app\n",
    );
    dir
}

/// The `missing-lock-timeout` findings `check` reports on the project.
fn findings(root: &Path) -> usize {
    let output = Command::new(env!("CARGO_BIN_EXE_migration-gate"))
        .args([
            "check",
            "migrations",
            "--select",
            "missing-lock-timeout",
            "--format",
            "json",
        ])
        .current_dir(root)
        .env_remove("GITHUB_ACTIONS")
        .output()
        .unwrap();
    let document: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    document["diagnostics"].as_array().unwrap().len()
}

#[test]
fn the_flask_applications_engine_options_count() {
    let project = flask_project();
    let root = project.path();
    write(
        &root.join("app/config.py"),
        "class Config:\n    SQLALCHEMY_DATABASE_URI = 'postgresql://localhost/app'\n",
    );
    // Once per revision that locks an existing table (a1's downgrade drops it).
    assert_eq!(findings(root), 2);
    write(
        &root.join("app/config.py"),
        "import os\n\n\nclass Config:\n    SQLALCHEMY_DATABASE_URI = os.environ['DATABASE_URL']\n    SQLALCHEMY_ENGINE_OPTIONS = {\n        'connect_args': {'options': '-c lock_timeout=5s -c statement_timeout=60s'},\n    }\n",
    );
    assert_eq!(findings(root), 0);
}

#[test]
fn lock_timeout_set_elsewhere_in_the_application_is_not_the_migrations() {
    let project = flask_project();
    let root = project.path();
    // A view's own transaction, and the test suite's engine: neither runs the migrations.
    write(
        &root.join("app/views.py"),
        "from sqlalchemy import text\nfrom app import db\n\n\ndef report():\n    db.session.execute(text(\"SET LOCAL lock_timeout = '1s'\"))\n",
    );
    write(
        &root.join("tests/conftest.py"),
        "SQLALCHEMY_ENGINE_OPTIONS = {'connect_args': {'options': '-c lock_timeout=1s'}}\n",
    );
    assert_eq!(findings(root), 2);
}

#[test]
fn env_py_or_the_config_can_say_it_is_set() {
    let project = flask_project();
    let root = project.path();
    write(
        &root.join("migration-gate.toml"),
        "lock-timeout-set-by = \"the migrator role (ALTER ROLE migrator SET lock_timeout)\"\n",
    );
    assert_eq!(findings(root), 0);
    std::fs::remove_file(root.join("migration-gate.toml")).unwrap();
    assert_eq!(findings(root), 2);
    write(
        &root.join("migrations/env.py"),
        &FLASK_ENV_PY.replace(
            "    with connectable.connect() as connection:\n",
            "    with connectable.connect() as connection:\n        connection.exec_driver_sql(\"SET lock_timeout = '5s'\")\n",
        ),
    );
    assert_eq!(findings(root), 0);
}
