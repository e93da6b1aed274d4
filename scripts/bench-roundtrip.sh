#!/usr/bin/env bash
# Round-trip bench: migration-gate vs the same DDL alone vs pytest-alembic, one run, one cluster.
# MIGRATION_GATE_BENCH_ONLY=options measures only what --trace-locks and --seed-rows cost.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.test-venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
  -r scripts/test-requirements.txt -r scripts/bench-requirements.txt
export MIGRATION_GATE_TEST_PYTHON="$PWD/$venv/bin/python"
cargo bench --bench roundtrip
