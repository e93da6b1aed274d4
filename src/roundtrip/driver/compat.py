# The Alembic driver, part 7 of 8: deploy compatibility, what the models of the version running
# now send to the schema (the `probe` request).


def probe_models(connection, metadata, facts=None):
    """For every table the models map: a SELECT of every mapped column, an INSERT of a row of
    the columns the models know (parents first), the same INSERT again, an INSERT leaving out
    the columns the models declare nullable, an UPDATE and a DELETE by primary key, each in a
    savepoint rolled back at once. What they send is what SQLAlchemy sends for these models; the
    database answers as it would answer the running application.

    `facts` are what the schema the models ran on in production accepts (read from REF's
    schema at the first probe and handed back for the later ones): a value each CHECK asks for,
    and the columns its unique keys cover, which the old code's rows already keep unique. The
    rows are made to meet them, so that what fails later fails on what the revisions changed.

    Returns (results, facts): one result per table and action (ok, or the database's error and
    SQLSTATE, or why the action was not tried), and the facts used."""
    metadatas = metadata if isinstance(metadata, (list, tuple)) else [metadata]
    if not connection.in_transaction():
        connection.begin()
    if facts is None:
        facts = schema_facts(connection)
    results = []
    for one in metadatas:
        for table in one.sorted_tables:
            results.extend(TableProbe(connection, table, facts).run())
    return results, facts


def schema_facts(connection):
    """Per table (`schema.name`, public's unqualified): `checks`, a value per column its CHECK
    constraints ask for (`col = ANY (ARRAY['a', ...])`, `col = 1`, `col >= 10`); `unique`, the
    columns of its unique indexes."""
    import re
    from sqlalchemy import text
    facts = {}

    def entry(table):
        return facts.setdefault(table, {"checks": {}, "unique": []})

    rows = connection.execute(text(
        "SELECT CASE WHEN n.nspname = 'public' THEN c.relname ELSE n.nspname || '.' || c.relname END,"
        " pg_get_constraintdef(k.oid) FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid"
        " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE k.contype = 'c'"
        " AND n.nspname NOT IN ('pg_catalog', 'information_schema')")).fetchall()
    column = r'\(*"?(\w+)"?\)?(?:::[\w ]+(?:\[\])?)?'
    for table, definition in rows:
        checks = entry(table)["checks"]
        for name, value in re.findall(column + r"\s*=\s*ANY\s*\(+ARRAY\[\s*'((?:[^']|'')*)'", definition):
            checks.setdefault(name, value.replace("''", "'"))
        for name, value in re.findall(column + r"\s*=\s*'((?:[^']|'')*)'", definition):
            checks.setdefault(name, value.replace("''", "'"))
        for name, op, number in re.findall(column + r"\s*(=|>=|>)\s*\(?(-?\d+(?:\.\d+)?)", definition):
            value = float(number) if "." in number else int(number)
            checks.setdefault(name, value + 1 if op == ">" else value)
    rows = connection.execute(text(
        "SELECT CASE WHEN n.nspname = 'public' THEN c.relname ELSE n.nspname || '.' || c.relname END,"
        " a.attname FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid"
        " JOIN pg_namespace n ON n.oid = c.relnamespace"
        " JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = ANY (i.indkey)"
        " WHERE i.indisunique AND n.nspname NOT IN ('pg_catalog', 'information_schema')")).fetchall()
    for table, name in rows:
        unique = entry(table)["unique"]
        if name not in unique:
            unique.append(name)
    return facts


class TableProbe:
    def __init__(self, connection, table, facts):
        self.connection = connection
        self.table = table
        self.facts = facts
        self.results = []
        self.counter = 1000

    def name(self):
        table = self.table
        return f"{table.schema}.{table.name}" if table.schema and table.schema != "public" else table.name

    def run(self):
        import sqlalchemy as sa
        table = self.table
        outer = self.connection.begin_nested()
        try:
            self.attempt("select", [c.name for c in table.columns],
                         lambda: self.connection.execute(sa.select(*table.columns).limit(1)).fetchall())
            values, missing = self.row_values(table, depth=0)
            if values is None:
                self.results.append(self.result("insert", [], skipped=missing))
                return self.results
            key = self.insert("insert", values)
            if key is None:
                return self.results
            # The same values again, except in the columns the old schema keeps unique (the
            # running code's rows already differ there): only a new unique key refuses it.
            kept_unique = set(self.facts_of(table).get("unique", []))
            kept_unique.update(c.name for c in table.primary_key.columns)
            again = dict(values)
            for name in values:
                if name in kept_unique and name not in self.checked(table):
                    again[name] = self.fresh_value(table.c[name])
            self.insert("insert again", again)
            # The columns the model declares nullable left out, as the running code may leave
            # them: a column made NOT NULL since refuses the row.
            required = {}
            for name, value in values.items():
                column = table.c[name]
                if column.nullable and not column.primary_key:
                    continue
                fresh = name in kept_unique and name not in self.checked(table)
                required[name] = self.fresh_value(column) if fresh else value
            if set(required) != set(values):
                self.insert("insert without nullable columns", required)
            where = [column == key[column.name] for column in table.primary_key.columns
                     if key.get(column.name) is not None]
            if where and len(where) == len(table.primary_key.columns):
                changed = {k: v for k, v in values.items() if not table.c[k].primary_key}
                if changed:
                    self.attempt("update", sorted(changed),
                                 lambda: self.connection.execute(table.update().where(*where).values(changed)))
                self.attempt("delete", [],
                             lambda: self.connection.execute(table.delete().where(*where)))
        finally:
            outer.rollback()
        return self.results

    def insert(self, action, values):
        """Inserts `values`; the new row's primary key, or None when the insert failed."""
        table = self.table
        statement = table.insert().values(values)
        keys = list(table.primary_key.columns)
        if keys:
            statement = statement.returning(*keys)
        found = {}

        def run():
            result = self.connection.execute(statement)
            row = result.first() if keys else None
            if row is not None:
                found.update(row._mapping)

        if not self.attempt(action, sorted(values), run):
            return None
        return {column.name: found.get(column.name) for column in keys}

    def attempt(self, action, columns, run):
        import sqlalchemy as sa
        savepoint = self.connection.begin_nested()
        try:
            run()
        except sa.exc.DBAPIError as error:
            savepoint.rollback()
            self.results.append(self.result(action, columns, error=error))
            return False
        except sa.exc.StatementError as error:
            # The value could not be sent at all (a type the probe cannot make a value for).
            savepoint.rollback()
            self.results.append(self.result(action, columns, skipped=str(error.orig or error).splitlines()[0]))
            return False
        savepoint.rollback() if action in ("update", "delete") else savepoint.commit()
        self.results.append(self.result(action, columns))
        return True

    def result(self, action, columns, error=None, skipped=None):
        found = {"table": self.name(), "action": action, "columns": columns}
        if error is not None:
            original = getattr(error, "orig", None)
            found["error"] = str(original or error).strip().splitlines()[0]
            found["sqlstate"] = sqlstate(original)
        if skipped is not None:
            found["skipped"] = skipped
        return found

    def facts_of(self, table):
        name = f"{table.schema}.{table.name}" if table.schema and table.schema != "public" else table.name
        return self.facts.get(name, {})

    def checked(self, table):
        return self.facts_of(table).get("checks", {})

    def row_values(self, table, depth):
        """Values for a row of `table`: every column the model maps, except those the database
        fills (a serial or identity key, a server default, a computed column); a foreign key's
        value from a parent row inserted first. (None, why) when no row can be made."""
        import sqlalchemy as sa
        values = {}
        for column in table.columns:
            if column.computed is not None or column.server_default is not None:
                continue
            if getattr(column, "identity", None) is not None:
                continue
            autoincrement = getattr(table, "autoincrement_column", None)
            if autoincrement is None:
                autoincrement = getattr(table, "_autoincrement_column", None)
            if column.primary_key and column is autoincrement:
                continue
            if column.foreign_keys:
                parent = self.parent_value(column, depth)
                if parent is not None:
                    values[column.name] = parent
                    continue
                if column.nullable:
                    continue
                return None, f"no row of the table `{column.name}` refers to could be made"
            value = self.value_for(column)
            wanted = self.checked(table).get(column.name)
            if wanted is not None:
                value = typed_like(wanted, value)
            if value is MISSING:
                if column.nullable:
                    continue
                return None, f"no value of column `{column.name}`'s type ({column.type}) could be made"
            values[column.name] = value
        return values, None

    def parent_value(self, column, depth):
        """The referenced column's value in a parent row inserted for the purpose."""
        if depth > 4:
            return None
        foreign_key = next(iter(column.foreign_keys))
        try:
            referred = foreign_key.column
        except Exception:
            return None
        parent = referred.table
        if parent is column.table:
            return None
        values, _ = self.row_values(parent, depth + 1)
        if values is None:
            return None
        statement = parent.insert().values(values).returning(referred)
        savepoint = self.connection.begin_nested()
        try:
            value = self.connection.execute(statement).scalar()
        except Exception:
            savepoint.rollback()
            return None
        savepoint.commit()
        return value

    def fresh_value(self, column):
        """Another value for a column the old schema keeps unique: for a foreign key, the key
        of another parent row."""
        if column.foreign_keys:
            parent = self.parent_value(column, 0)
            if parent is not None:
                return parent
        return self.value_for(column)

    def value_for(self, column):
        self.counter += 1
        return value_of_type(column.type, self.counter)


MISSING = object()


def typed_like(wanted, made):
    """A value a CHECK asks for, in the type the column's own value has (a label for an enum
    column stays the label: SQLAlchemy's Enum takes its name)."""
    import decimal
    import enum
    if isinstance(made, enum.Enum):
        return next((m for m in type(made) if m.value == wanted or m.name == wanted), made)
    if isinstance(made, bool) or made is MISSING:
        return made
    if isinstance(made, int):
        try:
            return int(wanted)
        except (TypeError, ValueError):
            return made
    if isinstance(made, (float, decimal.Decimal)):
        try:
            return type(made)(str(wanted))
        except (TypeError, ValueError, decimal.InvalidOperation):
            return made
    if isinstance(made, str):
        return str(wanted)
    return made


def value_of_type(type_, n):
    """A value of `type_` the database accepts: a string as long as the type allows (a
    narrowed column then refuses it), the first label of an enum, numbers that fit every
    integer type."""
    import datetime
    import decimal
    import uuid
    import sqlalchemy as sa
    type_name = type(type_).__name__.upper()
    impl = getattr(type_, "impl", None)
    if impl is not None and not isinstance(type_, sa.Enum):
        inner = impl() if isinstance(impl, type) else impl
        return value_of_type(inner, n)
    if isinstance(type_, sa.Enum):
        if type_.enum_class is not None:
            return next(iter(type_.enum_class))
        return type_.enums[0] if type_.enums else MISSING
    if "UUID" in type_name:
        return uuid.UUID(int=n) if getattr(type_, "as_uuid", False) else str(uuid.UUID(int=n))
    if type_name in ("INET", "CIDR"):
        return "10.0.0.%d" % (n % 250 + 1)
    if type_name in ("MACADDR", "MACADDR8"):
        return "08:00:2b:01:02:%02x" % (n % 256)
    if isinstance(type_, sa.ARRAY):
        return []
    if isinstance(type_, sa.JSON) or "JSON" in type_name:
        return {}
    try:
        python = type_.python_type
    except (NotImplementedError, AttributeError):
        return MISSING
    if python is bool:
        return False
    if python is int:
        return n % 30000
    if python is float:
        return 1.0
    if python is decimal.Decimal:
        return decimal.Decimal(1)
    if python is str:
        length = getattr(type_, "length", None)
        text = str(n)
        return (text + "x" * length)[:length] if length else text
    if python is bytes:
        return b"x"
    if python is datetime.datetime:
        zone = datetime.timezone.utc if getattr(type_, "timezone", False) else None
        return datetime.datetime(2024, 1, 1, tzinfo=zone) + datetime.timedelta(seconds=n)
    if python is datetime.date:
        return datetime.date(2024, 1, 1)
    if python is datetime.time:
        return datetime.time(12, 0)
    if python is datetime.timedelta:
        return datetime.timedelta(seconds=n)
    if python is uuid.UUID:
        return uuid.UUID(int=n)
    if python in (dict, list):
        return python()
    return MISSING


def sqlstate(error):
    """The SQLSTATE of a driver's exception: psycopg 3, psycopg2 and asyncpg name it
    differently."""
    for attribute in ("sqlstate", "pgcode"):
        code = getattr(error, attribute, None)
        if isinstance(code, str):
            return code
    diag = getattr(error, "diag", None)
    code = getattr(diag, "sqlstate", None)
    if isinstance(code, str):
        return code
    cause = getattr(error, "__cause__", None)
    if cause is not None and cause is not error:
        code = getattr(cause, "sqlstate", None)
        if isinstance(code, str):
            return code
    return None


def use_checkout():
    """In the driver of REF's models (MIGRATION_GATE_CHECKOUT set): every import path inside the
    working tree (PYTHONPATH, an editable install's .pth entry, the folder run from) is taken to
    the same place in REF's checkout, and the checkout's top level (and its src/) comes before
    the installed packages, so that REF's env.py imports REF's models and not this tree's."""
    working = os.environ.get("MIGRATION_GATE_CHECKOUT_OF")
    checkout = os.environ.get("MIGRATION_GATE_CHECKOUT")
    if not working or not checkout:
        return None
    working, checkout = os.path.realpath(working), os.path.realpath(checkout)

    def moved(path):
        real = os.path.realpath(path or os.getcwd())
        if real == working or real.startswith(working + os.sep):
            return checkout + real[len(working):]
        return path

    sys.path[:] = [moved(p) for p in sys.path]
    installed = next((i for i, p in enumerate(sys.path) if "site-packages" in p or "dist-packages" in p), len(sys.path))
    for folder in (os.path.join(checkout, "src"), checkout):
        if os.path.isdir(folder) and folder not in sys.path:
            sys.path.insert(installed, folder)
    return moved


def imported_from(folder):
    """Modules imported from files under `folder` (the working tree, in REF's driver)."""
    if not folder:
        return []
    folder = os.path.realpath(folder) + os.sep
    found = []
    for module in list(sys.modules.values()):
        path = getattr(module, "__file__", None)
        if path and os.path.realpath(path).startswith(folder):
            found.append(os.path.realpath(path)[len(folder):])
    return sorted(found)[:5]
