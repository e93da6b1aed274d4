# The Alembic driver, part 3 of 8: the project's env.py, URL and models.
# interpreter.rs joins protocol.py, guard.py, project.py, flask_app.py, observers.py, steps.py and
# main.py, in that order, into the one script the driver's interpreter runs.


STANDALONE_ENV = '''
from alembic import context

config = context.config
# `[roundtrip] metadata`, imported by the driver before the first step.
target_metadata = config.attributes.get("migration_gate_metadata")
# The multi-database template: each database's revisions run in its own schema of the scratch
# database, with its own version table, as `upgrade(engine_name)` expects.
names = [n.strip() for n in (config.get_main_option("databases") or "").split(",") if n.strip()]


def commit_open(connection):
    if connection.in_transaction():
        connection.get_transaction().commit()


def run_all(connection):
    for name in names or [None]:
        per_database = {}
        if name:
            connection.exec_driver_sql('SET search_path TO "%s"' % name.replace('"', '""'))
            commit_open(connection)
            per_database = {"upgrade_token": "%s_upgrades" % name, "downgrade_token": "%s_downgrades" % name}
        context.configure(connection=connection, target_metadata=target_metadata,
                          transaction_per_migration=True, **per_database)
        with context.begin_transaction():
            context.run_migrations(**({"engine_name": name} if name else {}))
        # A revision that commits its own connection (`op.get_bind().commit()`) ends Alembic's
        # transaction; what it runs afterwards, and the version table's update, are in a
        # transaction SQLAlchemy began on its own, which nobody else commits.
        commit_open(connection)
        if name:
            connection.exec_driver_sql("RESET search_path")
            commit_open(connection)


connection = config.attributes.get("connection")
if connection is not None:
    run_all(connection)
else:
    # The project has asyncpg only: an async engine, as Alembic's async template runs it.
    import asyncio
    from sqlalchemy import pool
    from sqlalchemy.ext.asyncio import create_async_engine

    async def run_async():
        engine = create_async_engine(config.get_main_option("sqlalchemy.url"), poolclass=pool.NullPool)
        async with engine.connect() as async_connection:
            await async_connection.run_sync(run_all)
        await engine.dispose()

    asyncio.run(run_async())
'''


class SharedConnection:
    """The connection in `config.attributes["connection"]`: a Connection, as Alembic's cookbook
    and pytest-alembic hand it to env.py, not yet in a transaction, so that Alembic begins and
    commits each step itself. It lives across steps; after each env.py run, what env.py left
    open is committed, as the cookbook's `with engine.begin()` around a command does."""

    def __init__(self, engine, config):
        self.engine = engine
        self.config = config
        # env.py files written for an Engine there (`with connectable.connect() as connection`)
        # get the same connection back, left open.
        import contextlib

        class Shared(engine._connection_cls):
            def connect(self, *args, **kwargs):
                return contextlib.nullcontext(self)

        engine._connection_cls = Shared
        self.connection = None

    def ready(self):
        """An open connection in the attribute before env.py runs (env.py may have closed the
        last one with `with connection:`)."""
        if self.connection is None or self.connection.closed:
            self.connection = self.engine.connect()
        self.config.attributes["connection"] = self.connection

    def settle(self):
        connection = self.connection
        if connection is None or connection.closed:
            return
        try:
            if connection.in_transaction():
                connection.get_transaction().commit()
        except Exception:  # noqa: BLE001 - a failed step's transaction: the next step starts anew
            try:
                connection.get_transaction().rollback()
            except Exception:  # noqa: BLE001
                self.renew()

    def renew(self):
        """The scratch database's sessions were ended: a new connection for the next step."""
        if self.connection is not None:
            try:
                self.connection.invalidate()
                self.connection.close()
            except Exception:  # noqa: BLE001 - it is gone already
                pass
        self.connection = None
        self.engine.dispose()


class EnginesInUse:
    """Every engine that has connected in this process: the driver's, env.py's, the Flask
    application's. When migration-gate ends the scratch database's sessions (a rebuild, a
    timeout), the connections their pools keep are dead; each pool is emptied so that the next
    step opens fresh ones, as a new `alembic` command would."""

    def __init__(self):
        import weakref
        self.engines = weakref.WeakSet()

    def connected(self, connection, *_branch):
        self.engines.add(connection.engine)

    def dispose_all(self):
        for engine in list(self.engines):
            try:
                engine.dispose()
            except Exception:  # noqa: BLE001 - a pool that cannot be emptied is dropped anyway
                pass


def import_revisions(script, destinations, sent):
    """A run of env.py that imports the revision files and takes no step, as `alembic upgrade`
    imports them once env.py has run its own imports (a file imported before env.py may find
    the application half imported). What the files did at import is committed: under the
    per-step transactions the driver asks for, nothing else would. `sent` learns how many
    statements the imports sent (env.py's own are not theirs)."""
    def imports(heads, context):
        before = destinations.on_scratch
        script.revision_map.heads
        sent.append(destinations.on_scratch - before)
        connection = context.connection
        if connection is not None and connection.in_transaction():
            connection.get_transaction().commit()
        return []
    return imports


def named_metadata(spec, folders):
    """The object `[roundtrip] metadata` names: "module:attribute.path", the module imported
    from the project's installed packages, the folder migration-gate was run in or the folder
    Alembic runs in."""
    import importlib
    for folder in folders:
        if folder not in sys.path:
            # Last: a module of the project's named like a standard one must not shadow it.
            sys.path.append(folder)
    module, _, path = spec.partition(":")
    found = importlib.import_module(module)
    for part in filter(None, path.split(".")):
        found = getattr(found, part)
    return found


def postgres_dbapi(asynchronous=False):
    """The PostgreSQL driver the project can use: psycopg 3 exists as a SQLAlchemy dialect only
    from SQLAlchemy 2.0; SQLAlchemy 1.3 / 1.4 projects run on psycopg2; async projects may have
    asyncpg alone. An async env.py (`create_async_engine`) needs an async driver: asyncpg, or
    psycopg 3, never psycopg2."""
    import importlib.util
    import sqlalchemy
    sqlalchemy_2 = int(sqlalchemy.__version__.split(".")[0]) >= 2
    if asynchronous:
        candidates = ["asyncpg", "psycopg"] if sqlalchemy_2 else ["asyncpg"]
    else:
        candidates = ["psycopg", "psycopg2", "asyncpg"] if sqlalchemy_2 else ["psycopg2", "asyncpg"]
    for module in candidates:
        if importlib.util.find_spec(module) is not None:
            return module
    raise ImportError(f"no PostgreSQL driver for SQLAlchemy {sqlalchemy.__version__}: "
                      + " or ".join(candidates) + " is not installed")


def driver_url(url, asynchronous=False):
    """The URL naming the driver the project can use (an async one for an async env.py)."""
    return "postgresql+" + postgres_dbapi(asynchronous) + url[len("postgresql"):]


def preload_postgres_dbapi():
    """Imports the driver and its SQLAlchemy dialect while the database is still starting;
    a failure is reported where the driver is chosen."""
    import importlib
    try:
        module = postgres_dbapi()
        importlib.import_module(module)
        importlib.import_module("sqlalchemy.dialects.postgresql." + module)
    except ImportError:
        pass


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
    if verb not in where:
        # A comparator of a plugin's (alembic-postgresql-enum's `drop_enum`, ...): its own
        # words, with the values it names.
        shown = [str(part) if not isinstance(part, (list, tuple)) else "(" + ", ".join(map(str, part)) + ")"
                 for part in diff[1:] if part is not None and not hasattr(part, "c")]
        return f"{kind.replace('_', ' ')}: {' '.join(shown)}".strip()
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
