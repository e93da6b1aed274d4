//! Every configuration key, with its command-line flag and its GitHub Action input: the source
//! of `docs/configuration.md` and of README's key table (`bash scripts/update-config-reference.sh`).
//! tests/config_reference.rs keeps this list, the config types, action.yml and the docs in step.

/// One key of `migration-gate.toml` / `[tool.migration-gate]`.
pub struct Key {
    /// The table it is in ("" for the top level).
    pub table: &'static str,
    pub name: &'static str,
    /// The TOML value it takes.
    pub value: &'static str,
    pub default: &'static str,
    /// The command-line flag doing the same, if any.
    pub flag: Option<&'static str>,
    /// The GitHub Action input doing the same, if any.
    pub input: Option<&'static str>,
    pub doc: &'static str,
}

const fn key(
    table: &'static str,
    name: &'static str,
    value: &'static str,
    default: &'static str,
    flag: Option<&'static str>,
    input: Option<&'static str>,
    doc: &'static str,
) -> Key {
    Key {
        table,
        name,
        value,
        default,
        flag,
        input,
        doc,
    }
}

pub const KEYS: &[Key] = &[
    key(
        "",
        "paths",
        "list of paths",
        "auto-discovery from the config's folder",
        Some("PATHS..."),
        Some("paths"),
        "Migration folders or files to read, relative to the config file.",
    ),
    key(
        "",
        "postgres-version",
        "integer",
        "15",
        Some("--postgres-version"),
        Some("postgres-version"),
        "PostgreSQL major version the migrations run on: version-aware rules and the Docker image. The default is the oldest version the PostgreSQL project still supports.",
    ),
    key(
        "",
        "dialect",
        "string, or a table of folder glob = database",
        "postgresql",
        None,
        None,
        "Which database a set is written for: folders named for another database (`versions/sqlite/`) are not judged as PostgreSQL; `[dialect] \"db/legacy\" = \"postgresql\"` overrides a misleading name.",
    ),
    key(
        "",
        "sets",
        "array of tables: path (folder glob), framework, transaction (only with framework = \"sql\")",
        "each folder's framework found from its layout",
        None,
        None,
        "The framework that runs a folder of `.sql` files when its layout is ambiguous: `[[sets]] path = \"db/migrations\" framework = \"atlas\"`. Frameworks: golang-migrate, dbmate, flyway, goose, sqlx, sql-migrate, supabase, atlas, sql (loose files run as written); Alembic, Diesel, Prisma, Drizzle, Sqitch and Liquibase are found by their own layout. A project's own runner is `framework = \"sql\"` with `transaction = \"per-migration\"` (it wraps each file in a transaction of its own) or `\"none\"` (it sends statement by statement): the transaction rules and the round trip then follow it. An unknown name is a config error.",
    ),
    key(
        "",
        "preset",
        "\"recommended\" or \"strict\"",
        "recommended",
        Some("--preset"),
        Some("preset"),
        "Which rules run when `select` names none: `strict` adds opinionated advice (types, identity columns).",
    ),
    key(
        "",
        "select",
        "list of rule ids, or [\"all\"]",
        "the preset's rules",
        Some("--select"),
        Some("select"),
        "Only these rules (replaces the preset).",
    ),
    key(
        "",
        "ignore",
        "list of rule ids",
        "none",
        Some("--ignore"),
        Some("ignore"),
        "Rules that never run.",
    ),
    key(
        "",
        "severity",
        "table of rule id = \"error\" | \"warning\" | \"note\"",
        "each rule's own",
        None,
        None,
        "Overrides a rule's severity: `[severity] drop-column = \"error\"`.",
    ),
    key(
        "",
        "exclude",
        "list of globs",
        "none",
        Some("--exclude"),
        Some("exclude"),
        "Files and folders left out (`--exclude` adds to them).",
    ),
    key(
        "",
        "fail-on",
        "\"error\" | \"warning\" | \"note\" | \"never\"",
        "error",
        Some("--fail-on"),
        Some("fail-on"),
        "Lowest severity that makes the exit code 1.",
    ),
    key(
        "",
        "lock-timeout-set-by",
        "string (\"role\", \"database\", \"application\")",
        "none",
        None,
        None,
        "Where lock_timeout is set when the migrations do not set it themselves: `missing-lock-timeout` then stays quiet. Any value says it is set elsewhere; name the place for the reader.",
    ),
    key(
        "roundtrip",
        "database-url-env",
        "environment variable name",
        "MIGRATION_GATE_DATABASE_URL",
        Some("--database-url"),
        Some("database-url"),
        "The variable holding the URL of a server the round trip may create its scratch database on.",
    ),
    key(
        "roundtrip",
        "postgres",
        "\"auto\" | \"local\" | \"docker\" | \"url\"",
        "auto",
        Some("--postgres"),
        Some("postgres"),
        "Where the throwaway PostgreSQL comes from: a server URL, a local temporary cluster, or Docker (auto: in that order).",
    ),
    key(
        "roundtrip",
        "postgres-image",
        "Docker image",
        "postgres:<postgres-version>-alpine",
        Some("--postgres-image"),
        Some("postgres-image"),
        "The image for the Docker provider.",
    ),
    key(
        "roundtrip",
        "python",
        "path",
        ".venv/bin/python or venv/bin/python near the project, else python3",
        Some("--python"),
        Some("python"),
        "The project's Python, with Alembic, SQLAlchemy and a PostgreSQL driver installed.",
    ),
    key(
        "roundtrip",
        "alembic-config",
        "path",
        "the alembic.ini naming the script folder",
        Some("--alembic-config"),
        Some("alembic-config"),
        "The alembic.ini Alembic runs with.",
    ),
    key(
        "roundtrip",
        "baseline",
        "path to a .sql file",
        "none",
        Some("--baseline"),
        Some("baseline"),
        "Schema SQL (`pg_dump --schema-only`) the history starts from, applied before the first revision.",
    ),
    key(
        "roundtrip",
        "command",
        "string",
        "none",
        None,
        None,
        "Reserved for custom runners; not supported yet (setting it is an error).",
    ),
    key(
        "roundtrip",
        "timeout-s",
        "seconds",
        "300",
        Some("--timeout"),
        Some("timeout"),
        "How long one step may take before it is stopped.",
    ),
    key(
        "roundtrip",
        "connect-timeout-s",
        "seconds",
        "10",
        Some("--connect-timeout"),
        Some("connect-timeout"),
        "How long a connection may take, handshake and authentication included.",
    ),
    key(
        "roundtrip",
        "url-option",
        "name or list of names",
        "none",
        None,
        None,
        "alembic.ini main options env.py reads its URL from, besides `sqlalchemy.url`: each is set to the scratch database.",
    ),
    key(
        "roundtrip",
        "url-env",
        "name or list of names",
        "none",
        None,
        None,
        "Environment variables env.py reads its URL from, besides DATABASE_URL and SQLALCHEMY_DATABASE_URI: each is set to the scratch database.",
    ),
    key(
        "roundtrip",
        "metadata",
        "\"module:attribute\"",
        "none",
        Some("--metadata"),
        Some("metadata"),
        "Under `standalone`, the models to compare the schema with (`app.models:Base.metadata`).",
    ),
    key(
        "roundtrip",
        "env",
        "table of NAME = value",
        "none",
        None,
        None,
        "Environment for env.py: values may name the scratch database's {host}, {port}, {user}, {password}, {database} and {url}; the others (PYTHONPATH) are set when the interpreter starts.",
    ),
    key(
        "roundtrip",
        "standalone",
        "boolean",
        "false",
        Some("--standalone"),
        Some("standalone"),
        "Run the revisions with migration-gate's own env.py instead of the project's.",
    ),
    key(
        "roundtrip",
        "flask-app",
        "import path, as `flask --app` takes it",
        "FLASK_APP, else wsgi.py or app.py",
        Some("--flask-app"),
        Some("flask-app"),
        "The Flask application a Flask-Migrate env.py runs in.",
    ),
    key(
        "roundtrip",
        "trace-locks",
        "boolean",
        "false",
        Some("--trace-locks"),
        Some("trace-locks"),
        "Record the locks each statement of an upgrade takes and the tables it rewrites.",
    ),
    key(
        "roundtrip",
        "seed-rows",
        "integer",
        "0",
        Some("--seed-rows"),
        Some("seed-rows"),
        "Before each upgrade, fill every empty table with this many generated rows.",
    ),
    key(
        "roundtrip",
        "upgrade-only",
        "boolean",
        "false (automatic for a history without downgrades)",
        Some("--upgrade-only"),
        Some("upgrade-only"),
        "Prove each upgrade and its schema, without downgrades.",
    ),
    key(
        "roundtrip",
        "deploy-order",
        "\"migrate-first\" or \"code-first\"",
        "\"migrate-first\"",
        Some("--deploy-order"),
        None,
        "With `--compat`: whose models meet which schema during a deploy (the old code the new schema, or the new code the old schema).",
    ),
    key(
        "roundtrip",
        "irreversible",
        "list of revision ids",
        "none",
        None,
        None,
        "Revisions accepted as irreversible: their failing downgrade is a note, not an error.",
    ),
    key(
        "gate",
        "check-drift",
        "boolean",
        "true",
        Some("--no-drift"),
        Some("gate-check-drift"),
        "Compare the live schema with the one the applied revisions build.",
    ),
];

/// Action inputs that configure the Action itself rather than migration-gate.
pub const ACTION_ONLY: &[(&str, &str)] = &[
    (
        "version",
        "migration-gate version to install (a release tag, or latest); a ref without a release is built from source.",
    ),
    ("config", "The config file (`--config`)."),
    ("working-directory", "Folder to run in."),
    ("mode", "lint, roundtrip, all (both), or gate."),
    (
        "base-ref",
        "Git ref of the target branch: only what the pull request changes (`--base`).",
    ),
    (
        "shard",
        "One slice of a long history's round trip, K/N, for a matrix job (`--shard`).",
    ),
    (
        "gate-database-url",
        "The live database the release gate inspects, read-only (mode gate).",
    ),
    ("annotations", "Annotate the pull request's lines."),
    ("sarif-file", "Where to write the lint SARIF report."),
    (
        "roundtrip-sarif-file",
        "Where to write the round trip's SARIF report.",
    ),
    ("upload-sarif", "Upload the SARIF reports to code scanning."),
    (
        "pr-comment",
        "Post, or update, one comment with the report on the pull request.",
    ),
    (
        "pr-suggestions",
        "With pr-comment: each fixable lint finding also as a review suggestion on its lines.",
    ),
    ("github-token", "Token for the pull-request comment."),
];

fn qualified(key: &Key) -> String {
    if key.table.is_empty() {
        format!("`{}`", key.name)
    } else {
        format!("`[{}]` `{}`", key.table, key.name)
    }
}

fn cell(text: Option<&str>) -> String {
    text.map_or("—".to_string(), |t| format!("`{t}`"))
}

/// docs/configuration.md.
pub fn markdown() -> String {
    let mut out = String::from(
        "# Configuration\n\n<!-- generated by `bash scripts/update-config-reference.sh` from src/config_reference.rs; tests/config_reference.rs fails while they differ -->\n\n\
migration-gate reads `migration-gate.toml`, or `[tool.migration-gate]` in `pyproject.toml`, found by walking up from the checked path (`--config FILE` names one). \
Keys are kebab-case, as the command line's flags are; the snake_case spelling (`fail_on`) is accepted too. An unknown key is an error that names it.\n\n\
```toml\n# migration-gate.toml\npaths = [\"migrations\"]\nfail-on = \"warning\"\nexclude = [\"migrations/versions/legacy_*.py\"]\n\n[severity]\ndrop-column = \"error\"\n\n[roundtrip]\npython = \".venv/bin/python\"\nupgrade-only = false\n\n[roundtrip.env]\nSECRET_KEY = \"not-a-secret\"\n```\n\n",
    );
    for (table, title) in [
        ("", "Top level"),
        (
            "roundtrip",
            "`[roundtrip]`: the round trip and the release gate's scratch schema",
        ),
        ("gate", "`[gate]`: the release gate"),
    ] {
        out.push_str(&format!("## {title}\n\n"));
        for key in KEYS.iter().filter(|k| k.table == table) {
            out.push_str(&format!(
                "### {}\n\n{}\n\n- value: {}\n- default: {}\n- command line: {}\n- GitHub Action input: {}\n\n",
                qualified(key),
                key.doc,
                key.value,
                key.default,
                cell(key.flag),
                cell(key.input)
            ));
        }
    }
    out.push_str(
        "## GitHub Action inputs of the Action's own\n\n| input | what it does |\n| --- | --- |\n",
    );
    for (input, doc) in ACTION_ONLY {
        out.push_str(&format!("| `{input}` | {doc} |\n"));
    }
    out
}

/// README's table of keys.
pub fn readme_table() -> String {
    let mut out = String::from(
        "| key | command line | Action input | what it sets |\n| --- | --- | --- | --- |\n",
    );
    for key in KEYS {
        let first_sentence = key
            .doc
            .split(". ")
            .next()
            .unwrap_or(key.doc)
            .trim_end_matches('.');
        out.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            qualified(key),
            cell(key.flag),
            cell(key.input),
            first_sentence
        ));
    }
    out
}
