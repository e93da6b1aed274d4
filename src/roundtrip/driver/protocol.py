"""migration-gate's Alembic driver: one process per round trip, JSON lines on stdin/stdout.

Launch:    {"env": {"MIGRATION_GATE_DRIVER_URL": ..., "PGHOST": ..., ...}}, the first line: the
           process starts before the scratch database exists and learns of it here; it answers
           {"ok": true, "ready": true, "alembic": "<version>", ...}.
Requests:  {"cmd": "upgrade", "target": "<revision>"} (that revision and any missing ancestor),
           {"cmd": "stamp", "targets": ["<revision>", ...]} (`alembic stamp`),
           {"cmd": "compare"} (env.py's target_metadata against the database, as
           `alembic check` compares them),
           {"cmd": "downgrade_one", "target": "<revision>"} (exactly that revision, whatever else
           is applied: branches and merges stay as they are), {"cmd": "load"} (import the
           revision files, in a migration context, before the first step), {"cmd": "probe"}
           (what env.py's models send, each statement rolled back: deploy compatibility).
Answers:   {"ok": true, ...} or {"ok": false, "error": ..., "kind": ..., "origin": ...,
           "sqlstate": ..., "statement": ..., "file": ..., "line": ...}; both with "refused": the
           connections the guard refused (guard.py) during the request.

The database URL reaches env.py in every common form, so most env.py files need no change:
the `sqlalchemy.url` main option, the DATABASE_URL / MIGRATION_GATE_DATABASE_URL /
SQLALCHEMY_DATABASE_URI environment variables, `-x url=...` and `-x dburl=...`
(context.get_x_argument(as_dictionary=True)), plus the main options and environment variables
the project names in `[roundtrip] url_option` / `url_env` (MIGRATION_GATE_URL_OPTIONS /
MIGRATION_GATE_URL_ENV, comma-separated).

This is part 1 of 8 (the protocol and how failures are described); interpreter.rs joins
protocol.py, guard.py, project.py, flask_app.py, observers.py, steps.py, compat.py and main.py, in that order,
into the one script the driver's interpreter runs.
"""
import argparse
import json
import os
import sys
import tempfile
import traceback

# The protocol owns the real stdout; anything env.py or a revision prints goes to stderr.
protocol = os.fdopen(os.dup(1), "w", buffering=1)
os.dup2(2, 1)
sys.stdout = sys.stderr


def send(message):
    protocol.write(json.dumps(message) + "\n")
    protocol.flush()


def describe(error, versions, env_py=None):
    """The failure as the tool reports it: message, SQLSTATE, statement, and the line it points
    at: the innermost frame in a revision file, else in env.py (a failure before any revision
    ran), else the innermost frame at all."""
    answer = {"ok": False, "kind": type(error).__name__, "error": " ".join(str(error).split())}
    original = getattr(error, "orig", None)
    if original is not None:
        answer["error"] = " ".join(str(original).split())
        answer["sqlstate"] = getattr(original, "sqlstate", None) or getattr(original, "pgcode", None)
        diag = getattr(original, "diag", None)
        position = getattr(diag, "statement_position", None) if diag is not None else None
        if position:
            answer["position"] = int(position)
    statement = getattr(error, "statement", None)
    if statement:
        answer["statement"] = str(statement)
    frames = traceback.extract_tb(error.__traceback__)
    in_revisions = [f for f in frames if os.path.abspath(f.filename).startswith(versions)]
    in_env = [f for f in frames if env_py and os.path.abspath(f.filename) == env_py]
    chosen = (in_revisions or in_env or frames or [None])[-1]
    # Whose code raised: a revision's, env.py's (its own code or a library it calls, before or
    # around the revisions), or neither (Alembic, the driver, migration-gate's own env.py).
    answer["origin"] = "revision" if in_revisions else "env" if in_env else "setup"
    if chosen is not None:
        answer["file"] = chosen.filename
        answer["line"] = chosen.lineno
    answer["traceback"] = "".join(traceback.format_exception(type(error), error, error.__traceback__))[-4000:]
    return answer
