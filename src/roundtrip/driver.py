"""migration-gate's Alembic driver: one process per round trip, JSON lines on stdin/stdout.

Requests:  {"cmd": "upgrade", "target": "<revision>"} (that revision and any missing ancestor),
           {"cmd": "stamp", "targets": ["<revision>", ...]} (`alembic stamp`),
           {"cmd": "compare"} (env.py's target_metadata against the database, as
           `alembic check` compares them),
           {"cmd": "downgrade_one", "target": "<revision>"} (exactly that revision, whatever else
           is applied: branches and merges stay as they are), {"cmd": "current"}.
Answers:   {"ok": true, "current": [...]} or {"ok": false, "error": ..., "kind": ...,
           "sqlstate": ..., "statement": ..., "file": ..., "line": ...}.

The database URL reaches env.py in every common form, so most env.py files need no change:
the `sqlalchemy.url` main option, the DATABASE_URL / MIGRATION_GATE_DATABASE_URL /
SQLALCHEMY_DATABASE_URI environment variables, `-x url=...` and `-x dburl=...`
(context.get_x_argument(as_dictionary=True)), plus the main options and environment variables
the project names in `[roundtrip] url_option` / `url_env` (MIGRATION_GATE_URL_OPTIONS /
MIGRATION_GATE_URL_ENV, comma-separated).
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


STANDALONE_ENV = '''
from alembic import context

config = context.config
# `[roundtrip] metadata`, imported by the driver before the first step.
target_metadata = config.attributes.get("migration_gate_metadata")
# The multi-database template: each database's revisions run in its own schema of the scratch
# database, with its own version table, as `upgrade(engine_name)` expects.
names = [n.strip() for n in (config.get_main_option("databases") or "").split(",") if n.strip()]
for name in names or [None]:
    with config.attributes["connection"].connect() as connection:
        per_database = {}
        if name:
            connection.exec_driver_sql('SET search_path TO "%s"' % name.replace('"', '""'))
            connection.commit()
            per_database = {"upgrade_token": "%s_upgrades" % name, "downgrade_token": "%s_downgrades" % name}
        context.configure(connection=connection, target_metadata=target_metadata,
                          transaction_per_migration=True, **per_database)
        with context.begin_transaction():
            context.run_migrations(**({"engine_name": name} if name else {}))
        # A revision that commits its own connection (`op.get_bind().commit()`) ends Alembic's
        # transaction; what it runs afterwards, and the version table's update, are in a
        # transaction SQLAlchemy began on its own, which nobody else commits.
        if connection.in_transaction():
            connection.commit()
        if name:
            connection.exec_driver_sql("RESET search_path")
            connection.commit()
'''


def named_metadata(spec):
    """The object `[roundtrip] metadata` names: "module:attribute.path", the module imported
    from the current folder or the project's installed packages."""
    import importlib
    module, _, path = spec.partition(":")
    found = importlib.import_module(module)
    for part in filter(None, path.split(".")):
        found = getattr(found, part)
    return found


def driver_url(url):
    """The URL with the driver the project can use: psycopg 3 exists as a SQLAlchemy dialect only
    from SQLAlchemy 2.0; SQLAlchemy 1.3 / 1.4 projects run on psycopg2."""
    import importlib.util
    import sqlalchemy
    candidates = ["psycopg2"]
    if int(sqlalchemy.__version__.split(".")[0]) >= 2:
        candidates.insert(0, "psycopg")
    for module in candidates:
        if importlib.util.find_spec(module) is not None:
            return "postgresql+" + module + url[len("postgresql"):]
    raise ImportError(f"no PostgreSQL driver for SQLAlchemy {sqlalchemy.__version__}: "
                      + " or ".join(candidates) + " is not installed")


def in_schema(url, schema):
    """The URL with the session's search_path on `schema` (libpq's `options`)."""
    from sqlalchemy.engine import make_url
    options = "-csearch_path=" + schema.replace(" ", "\\ ")
    return make_url(url).update_query_dict({"options": options}).render_as_string(hide_password=False)


def name_of(obj):
    table = getattr(obj, "table", None)
    name = getattr(obj, "name", None) or "(unnamed)"
    return f"{table.name}.{name}" if table is not None and hasattr(table, "name") else str(name)


def explain_difference(diff):
    """One autogenerate difference in words, model side first."""
    if isinstance(diff, list):
        return "; ".join(explain_difference(d) for d in diff)
    kind = diff[0]
    if kind in ("modify_type", "modify_nullable", "modify_default", "modify_comment"):
        _, schema, table, column, _, old, new = diff
        what = {"modify_type": "type", "modify_nullable": "nullable", "modify_default": "default",
                "modify_comment": "comment"}[kind]
        if kind == "modify_type" and str(old) == str(new):
            # Types that render alike (a non-native Enum and the VARCHAR it became) differ in
            # their Python form.
            old, new = repr(old), repr(new)
        return f"column {table}.{column}: {what} is {old} in the database, {new} in the models"
    where = {"add": "is in the models but no migration creates it",
             "remove": "is in the database but not in the models"}
    verb, _, what = kind.partition("_")
    obj = diff[-1]
    label = {"table": "table", "column": "column", "index": "index", "constraint": "constraint",
             "fk": "foreign key"}.get(what, what)
    if what == "column":
        subject = f"{diff[2]}.{obj.name}"
    elif what == "table":
        subject = obj.name
    else:
        subject = name_of(obj)
    return f"{label} {subject} {where.get(verb, verb)}"


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
    if chosen is not None:
        answer["file"] = chosen.filename
        answer["line"] = chosen.lineno
    answer["traceback"] = "".join(traceback.format_exception(type(error), error, error.__traceback__))[-4000:]
    return answer


LOCKS_SQL = """
SELECT c.relname, l.mode
FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
WHERE l.pid = pg_backend_pid() AND l.granted AND c.relkind IN ('r', 'p', 'm')
  AND c.relnamespace NOT IN (SELECT oid FROM pg_namespace WHERE nspname = 'information_schema' OR nspname LIKE 'pg\\_%')
"""

FILENODES_SQL = """
SELECT c.oid, c.relname, c.relfilenode FROM pg_class c
WHERE c.relkind IN ('r', 'm')
  AND c.relnamespace NOT IN (SELECT oid FROM pg_namespace WHERE nspname = 'information_schema' OR nspname LIKE 'pg\\_%')
"""

# Both in one round trip: a lock row has no oid, a file row no lock mode.
LOCKS_AND_FILENODES_SQL = f"""
SELECT relname, mode, NULL::oid, NULL::oid FROM ({LOCKS_SQL}) AS locks
UNION ALL
SELECT relname, NULL, oid, relfilenode FROM ({FILENODES_SQL}) AS files
"""


class SqlRecorder:
    """The statements an upgrade sends, as the database receives them: the revision's own SQL,
    including what op.* calls and ORM code generate. Alembic's bookkeeping and catalog reads are
    left out."""

    SKIPPED = ("alembic_version", "pg_catalog.", "information_schema.", "current_schema()")

    def __init__(self):
        self.statements = None

    def start(self):
        self.statements = []

    def stop(self):
        statements, self.statements = self.statements or [], None
        return statements

    def after(self, conn, cursor, statement, parameters, context, executemany):
        if self.statements is None or len(self.statements) >= 500:
            return
        # Every statement passes here, Alembic's long catalog queries too: skip before
        # normalising.
        lower = str(statement).lower()
        if any(marker in lower for marker in self.SKIPPED) or lower.split(None, 1)[:1] == ["show"]:
            return
        self.statements.append(" ".join(str(statement).split())[:2000])


class Destinations:
    """Where one step's statements went: the scratch database, or another one (env.py building
    its own URL), and where a revision ended Alembic's transaction itself (a `commit()` on
    `op.get_bind()`, `op.execute("COMMIT")`). When the version table did not move, this tells
    the two causes apart."""

    ENDS_TRANSACTION = ("commit", "end", "commit transaction", "end transaction", "rollback", "abort")

    def __init__(self, url, versions):
        from sqlalchemy.engine import make_url
        scratch = make_url(url)
        self.scratch = (scratch.database, scratch.port)
        self.versions = versions
        self.reset()

    def reset(self):
        self.elsewhere = set()
        self.on_scratch = 0
        self.ended_at = None

    def report(self):
        answer = {"elsewhere": sorted(self.elsewhere), "on_scratch": self.on_scratch}
        if self.ended_at:
            answer["ended_transaction"] = {"file": self.ended_at[0], "line": self.ended_at[1]}
        return answer

    def after(self, conn, cursor, statement, parameters, context, executemany):
        url = conn.engine.url
        if (url.database, url.port or self.scratch[1]) == self.scratch:
            self.on_scratch += 1
        else:
            self.elsewhere.add(f"{url.host or 'localhost'}:{url.port or 5432}/{url.database}")
        text = str(statement)
        # The longest of them is "commit transaction;" with some spacing.
        if len(text) < 40 and " ".join(text.lower().split()).rstrip(";") in self.ENDS_TRANSACTION:
            self.note_revision_frame()

    def commit(self, conn):
        self.note_revision_frame()

    def note_revision_frame(self):
        """The innermost frame in a revision file, if the call came from one."""
        if self.ended_at:
            return
        # Every commit passes here: walk the frames themselves, without traceback's source
        # lookups.
        frame = sys._getframe(1)
        while frame is not None:
            filename = frame.f_code.co_filename
            if os.path.abspath(filename).startswith(self.versions):
                self.ended_at = (filename, frame.f_lineno)
                return
            frame = frame.f_back


class LockTracer:
    """After each statement of an upgrade, reads from the same connection which locks it holds
    and which tables that existed before the revision got a new file (were rewritten)."""

    def __init__(self):
        self.active = False
        self.busy = False
        self.before = {}
        self.held = set()
        self.statements = []

    def start(self, engine):
        with engine.connect() as connection:
            cursor = connection.connection.cursor()
            cursor.execute(FILENODES_SQL)
            self.before = {oid: (name, node) for oid, name, node in cursor.fetchall()}
            cursor.close()
        self.held = set()
        self.statements = []
        self.active = True

    def stop(self):
        self.active = False
        return self.statements

    @staticmethod
    def bookkeeping(statement):
        """Alembic's own statements: its catalog reads and version table, which lock no table
        of the project's (the version table's locks are not reported). Whatever they did hold
        shows with the next statement traced."""
        lower = str(statement).lower()
        if "alembic_version" in lower:
            return True
        return lower.lstrip().startswith("select") and any(
            marker in lower for marker in ("pg_catalog.", "information_schema."))

    def after(self, conn, cursor, statement, parameters, context, executemany):
        if not self.active or self.busy or self.bookkeeping(statement):
            return
        self.busy = True
        try:
            raw = conn.connection.cursor()
            raw.execute(LOCKS_AND_FILENODES_SQL)
            rows = raw.fetchall()
            raw.close()
            # The version table's locks come from Alembic's statements, which are not traced.
            held = {(table, mode) for table, mode, oid, _ in rows
                    if oid is None and table != "alembic_version"}
            now = {oid: node for _, _, oid, node in rows if oid is not None}
        except Exception:  # noqa: BLE001 - an aborted transaction cannot be asked; the error surfaces anyway
            self.busy = False
            return
        new_locks = sorted(held - self.held)
        self.held = held
        rewritten = []
        for oid, (name, node) in list(self.before.items()):
            if oid in now and now[oid] != node:
                rewritten.append(name)
                self.before[oid] = (name, now[oid])
        existing = {name for name, _ in self.before.values()}
        self.statements.append({
            "statement": " ".join(str(statement).split())[:500],
            "locks": [{"table": t, "mode": m, "existed": t in existing} for t, m in new_locks],
            "rewritten": sorted(rewritten),
        })
        self.busy = False


def keep_env_py_compiled():
    """Alembic reads and compiles env.py again for every command, and a round trip runs three
    commands per revision: that was a fifth of a step. The compiled code is kept (per path,
    size and modification time); every command still runs it afresh in a new module, as
    Alembic does."""
    try:
        import importlib.util
        from alembic.util import pyfiles
    except ImportError:
        return
    load = getattr(pyfiles, "load_module_py", None)
    if load is None:
        return
    compiled = {}

    def load_module_py(module_id, path):
        if os.path.basename(path) != "env.py":
            return load(module_id, path)
        try:
            stat = os.stat(path)
            key = (path, stat.st_mtime_ns, stat.st_size)
            code = compiled.get(key)
            if code is None:
                with open(path, "rb") as source:
                    code = compile(source.read(), path, "exec")
                compiled[key] = code
        except OSError:
            return load(module_id, path)
        module = importlib.util.module_from_spec(importlib.util.spec_from_file_location(module_id, path))
        exec(code, module.__dict__)
        return module

    pyfiles.load_module_py = load_module_py


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--ini")
    parser.add_argument("--script-location", required=True)
    parser.add_argument("--standalone", action="store_true")
    # The folders holding the revision files, when not `<script location>/versions`.
    parser.add_argument("--versions", action="append", default=[])
    args = parser.parse_args()
    try:
        import alembic
        from alembic.config import Config
        from alembic.runtime.environment import EnvironmentContext
        from alembic.runtime.migration import MigrationContext, RevisionStep
        from alembic.script import ScriptDirectory
        from sqlalchemy import create_engine
    except ImportError as error:
        send({"ok": False, "kind": "ImportError", "error": f"{error} (python: {sys.executable})"})
        return 3

    # The URL holds the password: it comes through the environment, never the command line
    # (which every local user can read in `ps`).
    try:
        url = driver_url(os.environ.pop("MIGRATION_GATE_DRIVER_URL"))
    except ImportError as error:
        send({"ok": False, "kind": "ImportError", "error": f"{error} (python: {sys.executable})"})
        return 3
    names = lambda variable: [n.strip() for n in os.environ.get(variable, "").split(",") if n.strip()]
    for variable in ["DATABASE_URL", "MIGRATION_GATE_DATABASE_URL", "SQLALCHEMY_DATABASE_URI"] + names("MIGRATION_GATE_URL_ENV"):
        os.environ[variable] = url
    config = Config(args.ini) if args.ini else Config()
    script_location = os.path.abspath(args.script_location)
    version_folders = [os.path.abspath(v) for v in args.versions] or [os.path.join(script_location, "versions")]
    # Prefixes of the revision files' paths, for str.startswith.
    versions = tuple(folder + os.sep for folder in version_folders)
    if args.standalone:
        env_dir = tempfile.mkdtemp(prefix="migration-gate-env-")
        import atexit
        import shutil
        atexit.register(shutil.rmtree, env_dir, True)
        with open(os.path.join(env_dir, "env.py"), "w") as f:
            f.write(STANDALONE_ENV)
        config.set_main_option("script_location", env_dir)
        for option in ("path_separator", "version_path_separator"):
            config.set_main_option(option, "os")
        config.set_main_option("version_locations", os.pathsep.join(version_folders))
        spec = os.environ.get("MIGRATION_GATE_METADATA")
        if spec:
            try:
                config.attributes["migration_gate_metadata"] = named_metadata(spec)
            except Exception as error:  # noqa: BLE001 - whatever the models' import raises
                send({"ok": False, "kind": "ConfigError",
                      "error": f"[roundtrip] metadata = {spec!r} cannot be imported: {type(error).__name__}: {error}"})
                return 3
    else:
        config.set_main_option("script_location", script_location)
    for option in ["sqlalchemy.url"] + names("MIGRATION_GATE_URL_OPTIONS"):
        config.set_main_option(option, url.replace("%", "%%"))
    if not args.standalone:
        # The multi-database template reads each database's URL from its own section: each gets
        # the scratch database with its search_path on the schema migration-gate made for it.
        for database in [n.strip() for n in (config.get_main_option("databases") or "").split(",") if n.strip()]:
            config.set_section_option(database, "sqlalchemy.url", in_schema(url, database).replace("%", "%%"))
    config.cmd_opts = argparse.Namespace(x=[f"url={url}", f"dburl={url}"])
    # Shared with env.py files that honour `config.attributes["connection"]` (Alembic's cookbook
    # pattern, and what pytest-alembic requires): one pooled connection for the whole run
    # instead of a new engine and connection per step. When migration-gate ends the scratch
    # database's sessions (a rebuild, a timeout) its next request says "reconnect".
    engine = create_engine(url, pool_size=1, max_overflow=2)
    config.attributes["connection"] = engine
    # One ScriptDirectory for the whole run: Alembic's commands build a new one each time and
    # import every revision file again, which dominates a long history.
    script = None

    def run_env(steps, destination):
        with EnvironmentContext(config, script, fn=steps, destination_rev=destination):
            script.run_env()

    tracer = LockTracer()
    recorder = SqlRecorder()
    from sqlalchemy import event
    from sqlalchemy.engine import Engine
    event.listen(Engine, "after_cursor_execute", tracer.after)
    event.listen(Engine, "after_cursor_execute", recorder.after)
    destinations = Destinations(url, versions)
    event.listen(Engine, "after_cursor_execute", destinations.after)
    event.listen(Engine, "commit", destinations.commit)

    keep_env_py_compiled()
    send({"ok": True, "ready": True, "alembic": alembic.__version__, "python": sys.executable})

    for line in sys.stdin:
        try:
            request = json.loads(line)
            cmd = request["cmd"]
            if request.get("reconnect"):
                engine.dispose()
            destinations.reset()
            if script is None and cmd != "current":
                script = ScriptDirectory.from_config(config)
            if cmd == "upgrade":
                target = request["target"]
                if request.get("trace"):
                    tracer.start(engine)
                recorder.start()
                try:
                    run_env(lambda heads, context: script._upgrade_revs(target, heads), target)
                finally:
                    trace = tracer.stop()
                    sql = recorder.stop()
                answer = {"ok": True, "sql": sql, **destinations.report()}
                if request.get("trace"):
                    answer["trace"] = trace
                send(answer)
                continue
            elif cmd == "stamp":
                # `alembic stamp`: the version table says these revisions are applied.
                targets = tuple(request["targets"])
                run_env(lambda heads, context: script._stamp_revs(targets, heads), targets)
            elif cmd == "compare":
                found = {}

                def compare(heads, context):
                    # Once per database under the multi-database template.
                    metadata = context.opts.get("target_metadata")
                    if metadata is not None:
                        from alembic.autogenerate import compare_metadata
                        differences = found.setdefault("differences", [])
                        differences += [explain_difference(d) for d in compare_metadata(context, metadata)]
                    return []

                run_env(compare, None)
                send({"ok": True, "no_metadata": "differences" not in found, **found})
                continue
            elif cmd == "downgrade_one":
                revision = script.get_revision(request["target"])
                run_env(lambda heads, context: [RevisionStep(script.revision_map, revision, False)], None)
                send({"ok": True, **destinations.report()})
                continue
            elif cmd == "current":
                with engine.connect() as connection:
                    heads = MigrationContext.configure(connection).get_current_heads()
                send({"ok": True, "current": sorted(heads)})
                continue
            else:
                raise ValueError(f"unknown command {cmd}")
            send({"ok": True})
        except BaseException as error:  # noqa: B036 - a revision may raise anything, SystemExit included
            send(describe(error, versions, None if args.standalone else os.path.join(script_location, "env.py")))
    return 0


if __name__ == "__main__":
    code = main()
    # Nothing is left but tearing the interpreter down, which took longer than a step: exit
    # once what was registered to run at exit (a --standalone env folder's removal) has run.
    import atexit
    atexit._run_exitfuncs()
    protocol.flush()
    sys.stderr.flush()
    os._exit(code)
