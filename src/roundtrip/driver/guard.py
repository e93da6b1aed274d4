# The Alembic driver, part 2 of 8: the connection guard.
# interpreter.rs joins protocol.py, guard.py, project.py, flask_app.py, observers.py, steps.py and
# main.py, in that order, into the one script the driver's interpreter runs.
#
# env.py and revisions may connect on their own: an env.py that builds its URL from settings of
# its own, a data migration that opens a psycopg connection. On a CI runner whose environment
# points at staging, such a connection would migrate staging. The guard sits in every way a
# Python program reaches PostgreSQL (psycopg 3, psycopg2, asyncpg, and SQLAlchemy's dialects for
# anything else) and refuses, before the connection is even opened, every target that is not the
# scratch database migration-gate made.

import socket

LOOPBACK = {"localhost", "127.0.0.1", "::1"}


class ForeignDatabase(Exception):
    """A connection to another database than the scratch one, refused before it was opened."""


class ConnectionGuard:
    def __init__(self):
        self.scratch = None
        # What was refused in the current step, even where env.py caught the exception.
        self.refused = []

    def arm(self, environ):
        """The scratch database, from the libpq variables the launch line set."""
        self.scratch = (environ.get("PGHOST", ""), str(environ.get("PGPORT", "5432")),
                        environ.get("PGDATABASE", ""))

    def reset(self):
        self.refused = []

    def same_host(self, wanted, scratch):
        if wanted == scratch or (wanted in LOOPBACK and scratch in LOOPBACK):
            return True
        # A socket folder names no other host; names are compared by the addresses they have.
        if wanted.startswith("/") or scratch.startswith("/") or not wanted or not scratch:
            return False
        try:
            addresses = lambda host: {info[4][0] for info in socket.getaddrinfo(host, None)}
            return bool(addresses(wanted) & addresses(scratch))
        except OSError:
            return False

    def check(self, how, hosts, port, dbname, service=None):
        """Refuses unless every host tried is the scratch server and the database is the
        scratch database. `hosts` and `port` as the driver resolved them (None: libpq's
        variables, which name the scratch database)."""
        if self.scratch is None:
            return
        host, scratch_port, scratch_db = self.scratch
        hosts = [h for h in (hosts or [host]) if h is not None] or [host]
        ports = [str(p) for p in str(port if port not in (None, "") else scratch_port).split(",")]
        dbname = dbname if dbname not in (None, "") else scratch_db
        fine = (not service and dbname == scratch_db
                and all(self.same_host(h or host, host) for h in hosts)
                and all((p or scratch_port) == scratch_port for p in ports))
        if fine:
            return
        target = "service " + service if service else f"{','.join(h or host for h in hosts)}:{','.join(ports)}/{dbname}"
        self.refused.append(target)
        raise ForeignDatabase(
            f"{how} connects to {target}, not to the scratch database migration-gate made "
            f"({host}:{scratch_port}/{scratch_db}): refused before connecting")

    def check_libpq(self, how, params):
        """A libpq connection string's parameters (psycopg, psycopg2); what they leave out
        comes from PGHOST, PGPORT and PGDATABASE, which name the scratch database."""
        hosts = params.get("hostaddr") or params.get("host") or os.environ.get("PGHOSTADDR") or os.environ.get("PGHOST")
        self.check(how, hosts.split(",") if hosts else None,
                   params.get("port") or os.environ.get("PGPORT"),
                   params.get("dbname") or os.environ.get("PGDATABASE"),
                   params.get("service"))

    def install(self):
        for install in (self.guard_psycopg, self.guard_psycopg2, self.guard_asyncpg, self.guard_sqlalchemy):
            try:
                install()
            except ImportError:
                pass

    def guard_psycopg(self):
        import psycopg
        from psycopg.conninfo import conninfo_to_dict, make_conninfo
        own = {"autocommit", "prepare_threshold", "context", "row_factory", "cursor_factory"}
        guard = self
        for cls in (psycopg.Connection, psycopg.AsyncConnection):
            connect = cls.__dict__["connect"].__func__

            def guarded(cls, conninfo="", *args, _connect=connect, **kwargs):
                params = {k: v for k, v in kwargs.items() if k not in own and v is not None}
                guard.check_libpq("psycopg", conninfo_to_dict(make_conninfo(conninfo, **params)))
                return _connect(cls, conninfo, *args, **kwargs)

            cls.connect = classmethod(guarded)
        psycopg.connect = psycopg.Connection.connect

    def guard_psycopg2(self):
        import psycopg2
        import psycopg2.extensions
        connect = psycopg2.connect
        guard = self

        def guarded(dsn=None, connection_factory=None, cursor_factory=None, **kwargs):
            params = {k: v for k, v in kwargs.items() if k not in ("async", "async_") and v is not None}
            guard.check_libpq("psycopg2", psycopg2.extensions.parse_dsn(psycopg2.extensions.make_dsn(dsn, **params)))
            return connect(dsn, connection_factory=connection_factory, cursor_factory=cursor_factory, **kwargs)

        psycopg2.connect = guarded

    def guard_asyncpg(self):
        import asyncpg
        import asyncpg.connection
        connect = asyncpg.connection.connect
        guard = self

        async def guarded(dsn=None, *, host=None, port=None, database=None, **kwargs):
            guard.check_asyncpg(dsn, host, port, database)
            return await connect(dsn, host=host, port=port, database=database, **kwargs)

        asyncpg.connect = asyncpg.connection.connect = guarded

    def check_asyncpg(self, dsn, host, port, database):
        """asyncpg's own reading of its arguments: keywords over the DSN over PGHOST, PGPORT
        and PGDATABASE."""
        from urllib.parse import parse_qs, unquote, urlsplit
        hosts, ports = None, None
        if dsn:
            parts = urlsplit(dsn)
            query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            netloc = parts.netloc.rpartition("@")[2]
            if netloc:
                hosts, ports = [], []
                for address in netloc.split(","):
                    name, _, number = address.rpartition(":") if not address.endswith("]") else (address, "", "")
                    hosts.append(unquote(name or number).strip("[]"))
                    ports.append(number if name else "")
            if query.get("host"):
                hosts = query["host"].split(",")
            if query.get("port"):
                ports = query["port"].split(",")
            database = database or unquote(parts.path.lstrip("/")) or query.get("dbname") or query.get("database")
        if host:
            hosts = host if isinstance(host, (list, tuple)) else str(host).split(",")
        if port:
            ports = [str(p) for p in port] if isinstance(port, (list, tuple)) else str(port).split(",")
        ports = [p for p in ports or [] if p] or [os.environ.get("PGPORT")]
        self.check("asyncpg", hosts or (os.environ.get("PGHOST") or "").split(",") or None,
                   ",".join(p for p in ports if p) or None, database or os.environ.get("PGDATABASE"))

    def guard_sqlalchemy(self):
        """Every SQLAlchemy connection that does not go through a guarded driver: another
        PostgreSQL driver (pg8000, ...) is checked by its arguments; another database
        (SQLite, MySQL) is refused."""
        from sqlalchemy import event
        from sqlalchemy.engine import Engine
        guard = self

        def do_connect(dialect, record, cargs, cparams):
            if dialect.driver in ("psycopg", "psycopg_async", "psycopg2", "psycopg2cffi", "asyncpg"):
                return None
            if dialect.name != "postgresql":
                target = f"a {dialect.name} database"
                guard.refused.append(target)
                raise ForeignDatabase(
                    f"SQLAlchemy ({dialect.name}+{dialect.driver}) connects to {target}: the round "
                    "trip works only in the scratch PostgreSQL database; refused before connecting")
            host = cparams.get("unix_sock") or cparams.get("host")
            guard.check(f"SQLAlchemy ({dialect.driver})", str(host).split(",") if host else None,
                        cparams.get("port"), cparams.get("database") or cparams.get("dbname"))
            return None

        event.listen(Engine, "do_connect", do_connect)
