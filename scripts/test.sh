#!/usr/bin/env bash
# The whole test suite with its set-up: a local venv with the pinned Python test dependencies,
# then cargo's tests. Tests that need Python find it through MIGRATION_GATE_TEST_PYTHON.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build-deps.sh

# A venv per requirements file, re-made only when the file changed.
make_venv() {
  local venv=$1 requirements=$2 probe=$3
  if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
  fi
  if ! "$venv/bin/python" -c "$probe" 2>/dev/null || ! cmp -s "$requirements" "$venv/.requirements"; then
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
    cp "$requirements" "$venv/.requirements"
  fi
}
make_venv .test-venv scripts/test-requirements.txt 'import alembic, sqlalchemy, psycopg'
export MIGRATION_GATE_TEST_PYTHON="$PWD/.test-venv/bin/python"
# Projects still on SQLAlchemy 1.4 run on psycopg2; the round trip is tested with one too.
make_venv .test-venv-sa14 scripts/test-requirements-sa14.txt 'import alembic, sqlalchemy, psycopg2'
export MIGRATION_GATE_TEST_PYTHON_SA14="$PWD/.test-venv-sa14/bin/python"
# A Flask-Migrate project made the way its users make one, from PyPI's Flask packages.
make_venv .test-venv-flask scripts/test-requirements-flask.txt 'import flask, flask_migrate, flask_sqlalchemy, psycopg'
export MIGRATION_GATE_TEST_PYTHON_FLASK="$PWD/.test-venv-flask/bin/python"
# Async projects may have asyncpg and no psycopg at all.
make_venv .test-venv-asyncpg scripts/test-requirements-asyncpg.txt 'import alembic, sqlalchemy, asyncpg, greenlet'
export MIGRATION_GATE_TEST_PYTHON_ASYNCPG="$PWD/.test-venv-asyncpg/bin/python"

# The Docker provider's tests need a PostgreSQL image; no registry may be reachable, so it is
# built from this machine's PostgreSQL packages.
if docker version >/dev/null 2>&1; then
  image=migration-gate-test/postgres:local-v2
  bash scripts/build-test-postgres-image.sh "$image"
  export MIGRATION_GATE_TEST_POSTGRES_IMAGE="$image"
fi

cargo test --lib --bins --tests "$@"
