# The Alembic driver, part 8 of 8: start-up and the request loop.
# interpreter.rs joins the parts, in order, into the one script the driver's interpreter runs.


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--ini")
    parser.add_argument("--script-location", required=True)
    parser.add_argument("--standalone", action="store_true")
    # env.py reads Flask's `current_app`: the application is loaded as `flask db` loads it.
    parser.add_argument("--flask-app", action="store_true")
    # env.py makes an async engine: the URL it gets names an async driver.
    parser.add_argument("--async-env", action="store_true")
    # The folder migration-gate was run in (the driver runs in the project's Alembic folder).
    parser.add_argument("--invoked-from", default=os.getcwd())
    # The folders holding the revision files, when not `<script location>/versions`.
    parser.add_argument("--versions", action="append", default=[])
    args = parser.parse_args()
    try:
        import alembic
        from alembic.config import Config
        from alembic.runtime.environment import EnvironmentContext
        from alembic.script import ScriptDirectory
        from sqlalchemy import create_engine
    except ImportError as error:
        send({"ok": False, "kind": "ImportError", "error": f"{error} (python: {sys.executable})"})
        return 3
    preload_postgres_dbapi()
    # Before env.py or any revision can connect anywhere.
    guard = ConnectionGuard()
    guard.install()

    # The interpreter was started before the scratch database existed (importing Alembic and
    # SQLAlchemy overlaps the server's start): the database's environment is the first line.
    launch = sys.stdin.readline()
    if not launch:
        return 0
    os.environ.update(json.loads(launch)["env"])
    guard.arm(os.environ)
    moved = use_checkout()
    if moved is not None:
        args.invoked_from = moved(args.invoked_from)

    # The URL holds the password: it comes through the environment, never the command line
    # (which every local user can read in `ps`).
    # `url` for the driver's own engine; `env_url`, handed to env.py, names an async driver
    # when env.py makes an async engine.
    try:
        plain = os.environ.pop("MIGRATION_GATE_DRIVER_URL")
        url = driver_url(plain)
        env_url = driver_url(plain, asynchronous=True) if args.async_env else url
    except ImportError as error:
        send({"ok": False, "kind": "ImportError", "error": f"{error} (python: {sys.executable})"})
        return 3
    names = lambda variable: [n.strip() for n in os.environ.get(variable, "").split(",") if n.strip()]
    for variable in ["DATABASE_URL", "MIGRATION_GATE_DATABASE_URL", "SQLALCHEMY_DATABASE_URI"] + names("MIGRATION_GATE_URL_ENV"):
        os.environ[variable] = env_url
    standalone, note = args.standalone, None
    if args.flask_app and not standalone:
        try:
            load_flask_application(url)
        except BaseException as error:  # noqa: B036 - an application factory may raise anything
            standalone, note = True, flask_fallback_note(error)
    config = Config(args.ini) if args.ini else Config()
    script_location = os.path.abspath(args.script_location)
    version_folders = [os.path.abspath(v) for v in args.versions] or [os.path.join(script_location, "versions")]
    # Prefixes of the revision files' paths, for str.startswith.
    versions = tuple(folder + os.sep for folder in version_folders)
    if standalone:
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
                config.attributes["migration_gate_metadata"] = named_metadata(spec, [args.invoked_from, os.getcwd()])
            except Exception as error:  # noqa: BLE001 - whatever the models' import raises
                send({"ok": False, "kind": "ConfigError",
                      "error": f"[roundtrip] metadata = {spec!r} cannot be imported: {type(error).__name__}: {error}"})
                return 3
    else:
        config.set_main_option("script_location", script_location)
    for option in ["sqlalchemy.url"] + names("MIGRATION_GATE_URL_OPTIONS"):
        config.set_main_option(option, env_url.replace("%", "%%"))
    if not standalone:
        # The multi-database template reads each database's URL from its own section: each gets
        # the scratch database with its search_path on the schema migration-gate made for it.
        for database in [n.strip() for n in (config.get_main_option("databases") or "").split(",") if n.strip()]:
            config.set_section_option(database, "sqlalchemy.url", in_schema(env_url, database).replace("%", "%%"))
    config.cmd_opts = argparse.Namespace(x=[f"url={env_url}", f"dburl={env_url}"])
    # Shared with env.py files that honour `config.attributes["connection"]` (Alembic's cookbook
    # pattern, and what pytest-alembic requires): one connection for the whole run instead of a
    # new engine and connection per step. When migration-gate ends the scratch database's
    # sessions (a rebuild, a timeout) its next request says "reconnect".
    # asyncpg has no synchronous connection to share: env.py makes its own async engine from
    # the URL, as Alembic's async template does.
    shared = None if url.startswith("postgresql+asyncpg") else SharedConnection(
        create_engine(url, pool_size=1, max_overflow=2), config)
    # One ScriptDirectory for the whole run: Alembic's commands build a new one each time and
    # import every revision file again, which dominates a long history.
    script = None

    def run_env(steps, destination):
        if shared is not None:
            shared.ready()
        try:
            with EnvironmentContext(config, script, fn=steps, destination_rev=destination):
                script.run_env()
        finally:
            if shared is not None:
                shared.settle()

    tracer = LockTracer()
    recorder = SqlRecorder()
    from sqlalchemy import event
    from sqlalchemy.engine import Engine
    engines = EnginesInUse()
    event.listen(Engine, "engine_connect", engines.connected)
    event.listen(Engine, "before_cursor_execute", tracer.first)
    event.listen(Engine, "after_cursor_execute", tracer.after)
    event.listen(Engine, "after_cursor_execute", recorder.after)
    event.listen(Engine, "commit", recorder.ended("COMMIT"))
    event.listen(Engine, "rollback", recorder.ended("ROLLBACK"))
    destinations = Destinations(url, versions)
    event.listen(Engine, "after_cursor_execute", destinations.after)
    event.listen(Engine, "commit", destinations.commit)

    keep_env_py_compiled()
    commit_each_step()
    send({"ok": True, "ready": True, "alembic": alembic.__version__, "python": sys.executable,
          "note": note})

    steps = StepRuns(script_of=lambda: script, tracer=tracer, recorder=recorder,
                     destinations=destinations, guard=guard)
    # A request a run of steps read and left unanswered.
    pending = None
    # Revision files send SQL when imported (the `load` request tells).
    import_sends_sql = False
    while True:
        line, pending = (pending if pending is not None else sys.stdin.readline()), None
        if not line:
            break
        try:
            request = json.loads(line)
            cmd = request["cmd"]
            if request.get("reconnect"):
                if shared is not None:
                    shared.renew()
                engines.dispose_all()
            if request.get("fresh_database") or (import_sends_sql and cmd != "load"):
                # A new database, or revision files that send SQL when imported: they are
                # imported again, as every `alembic` command imports them.
                script = None
            destinations.reset()
            guard.reset()
            if script is None:
                script = ScriptDirectory.from_config(config)
            if cmd == "load":
                # The revision files imported inside a migration context, as `alembic upgrade`
                # imports them before its first step: what a file does at import (a type made
                # with `op.get_bind()`) is part of the database every revision starts from,
                # not of the first revision's upgrade. Files that send SQL when imported are
                # imported again for every step from then on, each step a command of its own.
                sent = []
                run_env(import_revisions(script, destinations, sent), None)
                # Any statement at all, a catalog read included (`create(checkfirst=True)`).
                import_sends_sql = sum(sent) > 0
                if import_sends_sql:
                    steps.continuable = False
            elif cmd in ("upgrade", "downgrade_one"):
                pending = steps.run(request, run_env)
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
                send({"ok": True, "no_metadata": "differences" not in found, "refused": guard.refused, **found})
                continue
            elif cmd == "probe":
                probes = {}

                def probe(heads, context):
                    # The models of one version, against the schema as it is.
                    metadata = context.opts.get("target_metadata")
                    if metadata is not None:
                        found, facts = probe_models(context.connection, metadata, request.get("facts"))
                        probes.setdefault("probes", []).extend(found)
                        probes["facts"] = facts
                    return []

                run_env(probe, None)
                elsewhere = imported_from(os.environ.get("MIGRATION_GATE_CHECKOUT_OF"))
                send({"ok": True, "no_metadata": "probes" not in probes, "refused": guard.refused,
                      "imported_elsewhere": elsewhere, **probes})
                continue
            else:
                raise ValueError(f"unknown command {cmd}")
            send({"ok": True, "refused": guard.refused})
        except BaseException as error:  # noqa: B036 - a revision may raise anything, SystemExit included
            tracer.stop()
            recorder.stop()
            answer = describe(error, versions, None if standalone else os.path.join(script_location, "env.py"))
            send({**answer, "refused": guard.refused})
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
