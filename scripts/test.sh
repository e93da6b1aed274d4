#!/usr/bin/env bash
# The whole test suite with its set-up: a local venv with the pinned Python test dependencies,
# then cargo's tests. Tests that need Python find it through MIGRATION_GATE_TEST_PYTHON.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.test-venv
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
if ! "$venv/bin/python" -c 'import alembic, sqlalchemy, psycopg' 2>/dev/null \
   || ! cmp -s scripts/test-requirements.txt "$venv/.requirements"; then
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r scripts/test-requirements.txt
  cp scripts/test-requirements.txt "$venv/.requirements"
fi
export MIGRATION_GATE_TEST_PYTHON="$PWD/$venv/bin/python"

# The Docker provider's tests need a PostgreSQL image; no registry may be reachable, so it is
# built from this machine's PostgreSQL packages.
if docker version >/dev/null 2>&1; then
  image=migration-gate-test/postgres:local-v2
  bash scripts/build-test-postgres-image.sh "$image"
  export MIGRATION_GATE_TEST_POSTGRES_IMAGE="$image"
fi

cargo test --lib --bins --tests "$@"
