# The Alembic driver, part 5 of 8: what a step's statements did (the SQL sent, where it went, locks
# and rewrites).
# interpreter.rs joins protocol.py, guard.py, project.py, flask_app.py, observers.py, steps.py and
# main.py, in that order, into the one script the driver's interpreter runs.


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


# What Alembic's and SQLAlchemy's catalog reads name; no revision's own statement needs them.
CATALOG_READS = ("pg_catalog.", "information_schema.")


def transaction_status(conn):
    """The transaction status of a SQLAlchemy connection's DBAPI connection, as libpq's (0
    idle, 2 in a transaction block, 3 in a failed one), read without a round trip; None when
    the driver does not tell."""
    fairy = conn.connection
    dbapi = getattr(fairy, "dbapi_connection", None) or getattr(fairy, "connection", None)
    info = getattr(dbapi, "info", None)
    status = getattr(info, "transaction_status", None)
    if status is None and hasattr(dbapi, "get_transaction_status"):
        status = dbapi.get_transaction_status()
    # SQLAlchemy's asyncpg adapter, around asyncpg's own connection.
    inner = getattr(dbapi, "_connection", None)
    if status is None and hasattr(inner, "is_in_transaction"):
        status = 2 if inner.is_in_transaction() else 0
    return None if status is None else int(status)


class SqlRecorder:
    """The statements an upgrade sends, as the database receives them: the revision's own SQL,
    including what op.* calls and ORM code generate, whole, with BEGIN / COMMIT where
    PostgreSQL saw a transaction start and end (a VALIDATE after an autocommit block's COMMIT
    is not in the transaction that added the constraint). Alembic's bookkeeping and catalog
    reads are left out. What is kept is bounded by a budget in bytes for the whole run: past
    it the statements are counted, not kept, and the answer says the SQL is incomplete."""

    SKIPPED = ("alembic_version", "current_schema()") + CATALOG_READS

    def __init__(self):
        self.statements = None

    def start(self, budget):
        self.statements = []
        self.count = 0
        self.budget = budget
        self.used = 0
        self.incomplete = False
        # Whether a transaction block is open, as far as the statements kept tell.
        self.open = False
        self.transactions_known = True

    def stop(self):
        if self.statements is None:
            return {"sql": [], "statements": 0}
        statements, self.statements = self.statements, None
        answer = {"sql": statements, "statements": self.count, "sql_bytes": self.used}
        if self.incomplete:
            answer["sql_incomplete"] = True
        if not self.transactions_known:
            answer["transactions_unknown"] = True
        return answer

    def keep(self, text):
        if self.incomplete or (self.budget is not None and self.used + len(text) > self.budget):
            self.incomplete = True
            return
        self.used += len(text)
        self.statements.append(text)

    def after(self, conn, cursor, statement, parameters, context, executemany):
        if self.statements is None:
            return
        # Every statement passes here, Alembic's long catalog queries too: skip before
        # normalising.
        text = str(statement)
        lower = text.lower()
        if any(marker in lower for marker in self.SKIPPED) or lower.split(None, 1)[:1] == ["show"]:
            return
        self.count += 1
        words = " ".join(lower.split()).rstrip(";")
        if words in Destinations.ENDS_TRANSACTION or words in ("begin", "start transaction"):
            # The revision's own transaction control, kept as it was sent.
            self.keep(" ".join(text.split()))
            self.open = words in ("begin", "start transaction")
            return
        status = transaction_status(conn)
        if status is None:
            self.transactions_known = False
        elif status in (2, 3) and not self.open:
            self.keep("BEGIN")
            self.open = True
        elif status == 0 and self.open:
            # The block ended without a COMMIT SQLAlchemy saw (a `COMMIT` the revision sent).
            self.keep("COMMIT")
            self.open = False
        self.keep(" ".join(text.split()))

    def ended(self, word):
        def listener(conn):
            if self.statements is not None and self.open:
                self.keep(word)
                self.open = False
        return listener


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
        # Per code file: whether it is a revision file. Every commit walks the stack.
        self.in_versions = {}
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
            revision_file = self.in_versions.get(filename)
            if revision_file is None:
                revision_file = os.path.abspath(filename).startswith(self.versions)
                self.in_versions[filename] = revision_file
            if revision_file:
                self.ended_at = (filename, frame.f_lineno)
                return
            frame = frame.f_back


class LockTracer:
    """After each statement of an upgrade, reads from the same connection which locks it holds
    and which tables that existed before the revision got a new file (were rewritten)."""

    def __init__(self):
        self.active = False
        self.busy = False
        # The tables' files before the revision's first statement; None until it comes.
        self.before = None
        self.held = set()
        self.statements = []

    def start(self):
        self.before = None
        self.held = set()
        self.statements = []
        self.active = True

    def first(self, conn, cursor, statement, parameters, context, executemany):
        """Before the revision's first statement, on its connection and in its transaction:
        the tables' files it starts from. Read on a connection of its own, this cost as much
        as tracing every statement after."""
        if not self.active or self.before is not None or self.busy or self.bookkeeping(statement):
            return
        self.busy = True
        try:
            raw = conn.connection.cursor()
            raw.execute(FILENODES_SQL)
            self.before = {oid: (name, node) for oid, name, node in raw.fetchall()}
            raw.close()
        except Exception:  # noqa: BLE001 - the statement itself will tell what is wrong
            self.before = {}
        finally:
            self.busy = False

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
        return lower.lstrip().startswith("select") and any(marker in lower for marker in CATALOG_READS)

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
        if self.before is None:
            self.before = {}
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
