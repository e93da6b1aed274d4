# The Alembic driver, part 4 of 8: the Flask application a Flask-Migrate env.py needs.
# interpreter.rs joins protocol.py, guard.py, project.py, flask_app.py, observers.py, steps.py and
# main.py, in that order, into the one script the driver's interpreter runs.
#
# Flask-Migrate's env.py reads `current_app`: the engine, its URL and the models come from the
# running application. `flask db upgrade` finds the application with Flask's own rules (FLASK_APP
# or --app, else wsgi.py or app.py, an `app` object or a `create_app` / `make_app` factory) after
# loading .flaskenv and .env; the driver does the same through Flask's ScriptInfo, with every
# engine the application makes pointed at the scratch database, and keeps an application context
# pushed for the whole run.

import contextlib

SSL_OPTIONS = ("sslmode", "sslrootcert", "sslcert", "sslkey", "sslcrl", "sslpassword")


@contextlib.contextmanager
def engines_on(url):
    """Every SQLAlchemy engine made meanwhile goes to `url`, whatever URL it was given (the
    application's configured database): Flask-SQLAlchemy 3 makes its engines when the
    application is created. Options only another database or another server takes (SQLite's
    `check_same_thread`, a pool class for SQLite, TLS files) are left out."""
    import sqlalchemy
    import sqlalchemy.engine
    import sqlalchemy.engine.create as create_module
    from sqlalchemy.engine import make_url

    original = create_module.create_engine

    def create_engine(target, *args, **kwargs):
        try:
            postgres = make_url(target).get_backend_name() == "postgresql"
        except Exception:  # noqa: BLE001 - not a URL SQLAlchemy reads: it is replaced anyway
            postgres = False
        connect_args = dict(kwargs.pop("connect_args", None) or {})
        if postgres:
            for option in SSL_OPTIONS:
                connect_args.pop(option, None)
            if connect_args:
                kwargs["connect_args"] = connect_args
        else:
            kwargs.pop("poolclass", None)
        return original(url, *args, **kwargs)

    places = [(sqlalchemy, "create_engine"), (sqlalchemy.engine, "create_engine"),
              (create_module, "create_engine")]
    saved = [(module, name, getattr(module, name)) for module, name in places]
    for module, name in places:
        setattr(module, name, create_engine)
    try:
        yield
    finally:
        for module, name, value in saved:
            setattr(module, name, value)


def load_flask_application(url):
    """The application `flask db` would load, on the scratch database, with an application
    context pushed; raises what Flask raises when it cannot find or create it."""
    from flask.cli import ScriptInfo, load_dotenv
    load_dotenv()
    info = ScriptInfo(app_import_path=os.environ.get("FLASK_APP") or None, set_debug_flag=False)
    with engines_on(url):
        app = info.load_app()
        # Flask-SQLAlchemy 2 makes its engine on first use, from the configuration.
        app.config["SQLALCHEMY_DATABASE_URI"] = url
        app.app_context().push()
    return app


def flask_fallback_note(error):
    """Why the application could not be loaded, and what would make it load."""
    what = f"{type(error).__name__}: {' '.join(str(error).split())}"
    return (f"env.py needs the Flask application, which could not be loaded ({what}): the "
            "revisions ran with migration-gate's own env.py instead. To run them through the "
            "application, name it as `flask` would find it (FLASK_APP, or `flask-app` in "
            "[roundtrip]) and give it the settings it needs in [roundtrip.env]; or set "
            "`standalone = true` in [roundtrip] to say this is meant")
