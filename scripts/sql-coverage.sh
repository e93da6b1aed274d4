#!/usr/bin/env bash
# How much SQL written by others the SQL frontend reads (#32): every statement PostgreSQL's own
# parser accepts, linted on its own, unparsed ones counted per statement family.
#   bash scripts/sql-coverage.sh [--show FAMILY] PATH...
# PATHs are .sql files or folders of them, kept outside this repository: PostgreSQL's regression
# suite as libpg_query carries it (test/sql/postgres_regress), squawk's parser corpus
# (crates/squawk_parser/tests/data).
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo run --quiet --release --example sql_coverage -- "$@"
