#!/usr/bin/env bash
# Writes src/model/nonvolatile_functions.txt: the names of PostgreSQL's built-in functions none
# of whose overloads is VOLATILE, read from a server's catalog. A column default that calls only
# these is evaluated once when the column is added; any other function may be volatile.
# Usage: bash scripts/gen-nonvolatile-functions.sh 'postgresql://postgres@127.0.0.1:5432/postgres'
set -euo pipefail
cd "$(dirname "$0")/.."
{
  echo "# PostgreSQL $(psql -At "$1" -c 'SHOW server_version') built-in functions with no VOLATILE overload (scripts/gen-nonvolatile-functions.sh)"
  psql -At "$1" -c "
    SELECT name FROM (SELECT DISTINCT proname::text AS name FROM pg_proc
    WHERE pronamespace = 'pg_catalog'::regnamespace AND prokind = 'f'
      AND proname NOT IN (SELECT proname FROM pg_proc WHERE provolatile = 'v')
      AND proname !~ '^_'
      AND prorettype NOT IN ('internal'::regtype, 'trigger'::regtype, 'event_trigger'::regtype,
                             'cstring'::regtype, 'language_handler'::regtype, 'fdw_handler'::regtype,
                             'index_am_handler'::regtype, 'table_am_handler'::regtype,
                             'tsm_handler'::regtype)
    ) AS names ORDER BY name COLLATE \"C\""
} > src/model/nonvolatile_functions.txt
