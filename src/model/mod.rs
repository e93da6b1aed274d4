//! The vocabulary shared by every stage: frontends write it, rules and the graph read it.

pub mod base_models;
pub mod column_type;
pub mod constraint;
pub mod edit_site;
pub mod function_calls;
pub mod graph;
pub mod implied;
pub mod locks;
pub mod names;
pub mod naming;
pub mod op;
pub mod source;
pub mod table_state;

pub use column_type::{ColumnType, DefaultExpr, Volatility};
pub use op::{
    Column, ConstraintKind, MaintenanceKind, Op, OpKind, ReindexScope, RelationKind, TableLock,
};
pub use source::{FileId, SourceFile, Sources, Span, Suppression};

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    Upgrade,
    Downgrade,
}

/// How a migration framework runs the statements of one migration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Framework {
    Alembic,
    GolangMigrate,
    Dbmate,
    Flyway,
    /// Diesel: a folder per migration (`<version>_<name>/up.sql`, `down.sql`, `metadata.toml`).
    Diesel,
    /// Prisma Migrate: `<timestamp>_<name>/migration.sql` folders, forward only.
    Prisma,
    /// goose: `-- +goose Up` / `-- +goose Down` sections in one file per migration.
    Goose,
    /// sqlx: `<version>_<name>.sql`, or `.up.sql` / `.down.sql` pairs, in a crate using sqlx.
    Sqlx,
    /// rubenv/sql-migrate: `-- +migrate Up` / `-- +migrate Down` sections.
    SqlMigrate,
    /// Drizzle: `<tag>.sql` files listed in `meta/_journal.json`, forward only.
    Drizzle,
    /// The Supabase CLI: `supabase/migrations/<version>_<name>.sql`, forward only.
    Supabase,
    /// Atlas versioned migrations: a folder with `atlas.sum`, forward only.
    Atlas,
    /// Sqitch: `sqitch.plan` orders the changes; `deploy/` and `revert/` hold their scripts.
    Sqitch,
    /// Liquibase formatted SQL: `--changeset` sections, each a migration.
    Liquibase,
    PlainSql,
}

impl Framework {
    /// The frameworks the config's `[[sets]]` can name for a folder of `.sql` files: those
    /// told apart only by names and markers.
    pub const NAMEABLE: &'static [Framework] = &[
        Framework::GolangMigrate,
        Framework::Dbmate,
        Framework::Flyway,
        Framework::Goose,
        Framework::Sqlx,
        Framework::SqlMigrate,
        Framework::Supabase,
        Framework::Atlas,
        Framework::PlainSql,
    ];
    /// Found by a layout of their own (revision files, a folder per migration, a journal, a
    /// plan), which naming cannot replace.
    pub const LAYOUT_FOUND: &'static [Framework] = &[
        Framework::Alembic,
        Framework::Diesel,
        Framework::Prisma,
        Framework::Drizzle,
        Framework::Sqitch,
        Framework::Liquibase,
    ];

    /// How a statement PostgreSQL refuses inside a transaction block (CREATE INDEX
    /// CONCURRENTLY, ...) is run outside one, in this framework.
    pub fn outside_transaction_way(self) -> &'static str {
        match self {
            Framework::Alembic => "wrap it in `with op.get_context().autocommit_block():`",
            Framework::GolangMigrate | Framework::PlainSql => {
                "put it alone in a migration file of its own (a file of one statement runs outside any transaction block)"
            }
            Framework::Dbmate => "mark the section `-- migrate:up transaction:false`",
            Framework::Flyway => {
                "put it in a script of its own (Flyway runs a script made only of such statements outside a transaction), or set `executeInTransaction=false` in the script's `.conf`"
            }
            Framework::Diesel => {
                "put it alone in its migration's script, with `run_in_transaction = false` in the migration's metadata.toml"
            }
            Framework::Prisma => "put it alone in a migration.sql of its own",
            Framework::Goose => "mark the file `-- +goose NO TRANSACTION`",
            Framework::Sqlx => {
                "put it alone in a migration of its own that starts with `-- no-transaction`"
            }
            Framework::SqlMigrate => "mark the section `-- +migrate Up notransaction`",
            Framework::Drizzle => {
                "run it outside Drizzle's migrator (which applies every pending migration in one transaction), by hand or in a deploy step of its own"
            }
            Framework::Supabase => {
                "run it outside the Supabase CLI's migrations (which send each file as one implicit transaction), by hand or in a deploy step of its own"
            }
            Framework::Atlas => {
                "start the file with an `-- atlas:txmode none` header line followed by a blank line"
            }
            Framework::Sqitch => {
                "put it in a change of its own whose deploy script has no BEGIN / COMMIT (psql runs each statement on its own)"
            }
            Framework::Liquibase => {
                "put it in a changeset of its own marked `runInTransaction:false` (in XML, `runInTransaction=\"false\"`, with the index written in a `<sql>` element: `createIndex` has no CONCURRENTLY)"
            }
        }
    }

    /// A failed migration run outside a transaction is retried from the statement that failed,
    /// not from its start: Atlas records each statement of a `txmode none` file as it succeeds
    /// (ariga/atlas `sql/migrate/migrate.go`, `Executor.Execute`: `Applied` counts them).
    pub fn resumes_at_failed_statement(self) -> bool {
        matches!(self, Framework::Atlas)
    }

    /// The framework's transaction is the implicit one of a batch of statements sent together
    /// (the Supabase CLI's pipelined `ExecBatch`): a BEGIN inside turns it into an explicit
    /// transaction without a warning, and a COMMIT commits what came before on its own.
    pub fn wraps_as_one_batch(self) -> bool {
        matches!(self, Framework::Supabase)
    }

    /// Scripts run through `psql --file`: psql's meta-commands (`\set`) and variables
    /// (`:'name'`) are psql's to read, not the server's.
    pub fn runs_through_psql(self) -> bool {
        matches!(self, Framework::Sqitch)
    }

    /// What a set of this framework is recognised by, for `check --show-sets`.
    pub fn recognised_by(self) -> &'static str {
        match self {
            Framework::Alembic => "Python revision files (`revision` / `down_revision`)",
            Framework::GolangMigrate => "`<version>_<name>.up.sql` / `.down.sql` names",
            Framework::Dbmate => "`-- migrate:up` / `-- migrate:down` sections",
            Framework::Flyway => "`V<version>__<name>.sql` names",
            Framework::Diesel => "a folder per migration holding `up.sql` / `down.sql`",
            Framework::Prisma => "a folder per migration holding `migration.sql`",
            Framework::Goose => "`-- +goose Up` / `-- +goose Down` sections",
            Framework::Sqlx => {
                "`<version>_<name>.sql` or `.up.sql` / `.down.sql` in a crate that depends on sqlx"
            }
            Framework::SqlMigrate => "`-- +migrate Up` / `-- +migrate Down` sections",
            Framework::Drizzle => {
                "`<tag>.sql` files listed in drizzle-kit's `meta/_journal.json`, or its folders of `migration.sql` and `snapshot.json`"
            }
            Framework::Supabase => "`<version>_<name>.sql` files in `supabase/migrations`",
            Framework::Atlas => "`.sql` files beside Atlas's `atlas.sum`",
            Framework::Sqitch => {
                "`sqitch.plan` and the `deploy/` scripts it names, with their `revert/` scripts where any exist"
            }
            Framework::Liquibase => {
                "`--liquibase formatted sql` files and XML changelogs, each changeset a migration (in the order of the master changelog that includes them, else of their paths)"
            }
            Framework::PlainSql => "`.sql` files whose names start with a version",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Framework::Alembic => "alembic",
            Framework::GolangMigrate => "golang-migrate",
            Framework::Dbmate => "dbmate",
            Framework::Flyway => "flyway",
            Framework::Diesel => "diesel",
            Framework::Prisma => "prisma",
            Framework::Goose => "goose",
            Framework::Sqlx => "sqlx",
            Framework::SqlMigrate => "sql-migrate",
            Framework::Drizzle => "drizzle",
            Framework::Supabase => "supabase",
            Framework::Atlas => "atlas",
            Framework::Sqitch => "sqitch",
            Framework::Liquibase => "liquibase",
            Framework::PlainSql => "sql",
        }
    }
}

/// What a frontend found in an upgrade or downgrade body, before looking at its operations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyState {
    /// The body holds code; `ops` lists what was understood of it.
    Code,
    /// No such function / file / section at all.
    Missing,
    /// Present but does nothing: `pass`, a docstring, `...`, or an empty SQL section.
    Empty,
    /// The body starts by raising: the author declared the revision irreversible.
    Raises,
    /// The framework has no notion of this body (e.g. a Flyway set without undo scripts).
    NotApplicable,
}

#[derive(Debug, Clone)]
pub struct Body {
    pub state: BodyState,
    /// Where the body is declared (the `def` line, the file or the section marker).
    pub span: Span,
    pub ops: Vec<Op>,
    /// For SQL migrations: the text to run and how the framework runs it.
    pub script: Option<Script>,
    /// The conditions under which a Python body returns before its end (`if not is_postgres:
    /// return`), at its top level: what stops a body that ran nothing.
    pub early_returns: Vec<Span>,
    /// Where statements can be added before everything the body runs, when its text allows.
    pub start: Option<edit_site::BodyStart>,
    /// A body that is only a placeholder (`pass`, `...`): the whole lines it takes, which a fix
    /// that writes the body replaces.
    pub placeholder: Option<std::ops::Range<usize>>,
    /// Where the Python function ends (after its last line): a function added after it goes
    /// here.
    pub function_end: Option<usize>,
}

impl Body {
    pub fn missing(span: Span) -> Self {
        Body {
            state: BodyState::Missing,
            span,
            ops: Vec::new(),
            script: None,
            early_returns: Vec::new(),
            start: None,
            placeholder: None,
            function_end: None,
        }
    }
}

/// The SQL text of one direction of a SQL migration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Script {
    pub span: Span,
    pub transaction: ScriptTransaction,
    /// What in the span is the SQL sent.
    pub source: ScriptSource,
}

/// Where a script's SQL is, in its span.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ScriptSource {
    /// The span's text as written.
    #[default]
    Written,
    /// Liquibase's `--rollback <sql>` lines (and `/* liquibase rollback ... */` blocks) of a
    /// changeset: the rest of the span is the changeset's own SQL.
    LiquibaseRollback,
    /// A Liquibase XML changeset (the span is its element): the SQL Liquibase makes of its
    /// changes, or of its rollback.
    LiquibaseChanges { rollback: bool },
}

/// How a SQL framework sends a script to PostgreSQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScriptTransaction {
    /// The whole text in one simple query: several statements form one implicit transaction
    /// (golang-migrate, plain SQL files).
    AsWritten,
    /// Inside BEGIN … COMMIT (dbmate, Flyway).
    Wrapped,
    /// Statement by statement, each committing on its own (dbmate `transaction:false`).
    PerStatement,
}

/// A folder's framework as the config's `[[sets]]` names it; for a project's own runner
/// (`framework = "sql"`), the transaction it runs each migration in, when the config says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NamedRunner {
    pub framework: Framework,
    pub transaction: Option<ScriptTransaction>,
}

/// A revision identifier as written, or the reason it could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RevisionId {
    Literal(String),
    /// `revision` is assigned something other than a string literal.
    NotLiteral,
    /// The file has no `revision = ...` at module level.
    Absent,
}

#[derive(Debug, Clone)]
pub struct Migration {
    pub framework: Framework,
    /// The file the migration is reported on (the revision file, or the up script).
    pub file: FileId,
    pub revision: RevisionId,
    pub revision_span: Span,
    /// Parent revisions (`down_revision`); several for a merge, none for a base.
    pub parents: Vec<String>,
    pub parents_span: Span,
    /// `down_revision` was assigned something that is not a literal.
    pub parents_unreadable: bool,
    pub depends_on: Vec<String>,
    pub branch_labels: Vec<String>,
    pub upgrade: Body,
    pub downgrade: Body,
    /// The revision uses `autocommit_block()` somewhere.
    pub uses_autocommit_block: Option<Span>,
    /// The revision tests which database it runs on (`if bind.dialect.name == "sqlite"`): it is
    /// written to run on others than PostgreSQL too.
    pub branches_on_dialect: bool,
    /// Migrations written as numbered steps of one change (pop/fizz: `<timestamp><step>`,
    /// `20210410175418000001` … `…000035`) share a group: their down scripts undo the group
    /// as a whole, not step by step.
    pub undo_group: Option<String>,
    /// Tables earlier migrations of the same deploy batch created (a Liquibase diff's generated
    /// changesets, written and applied together): new, empty and unused when this one runs.
    pub batch_tables: Vec<String>,
}

impl Migration {
    pub fn revision_id(&self) -> Option<&str> {
        match &self.revision {
            RevisionId::Literal(id) => Some(id),
            _ => None,
        }
    }

    pub fn body(&self, phase: Phase) -> &Body {
        match phase {
            Phase::Upgrade => &self.upgrade,
            Phase::Downgrade => &self.downgrade,
        }
    }
}

/// What env.py tells about how Alembic runs the revisions.
#[derive(Debug, Clone, Default)]
pub struct AlembicEnv {
    pub file: Option<FileId>,
    pub transaction_per_migration: bool,
    /// env.py sets `lock_timeout` (a SET statement, connection options, or connect args).
    pub sets_lock_timeout: bool,
    /// The naming convention of env.py's `target_metadata`, when it can be read.
    pub naming_convention: Option<naming::NamingConvention>,
    /// env.py reads Flask's `current_app` (Flask-Migrate): it runs inside the application.
    pub reads_flask_app: bool,
    /// env.py makes an async engine (`create_async_engine`, `async_engine_from_config`): the
    /// URL it is handed must name an async driver.
    pub makes_async_engine: bool,
    /// env.py begins the transaction itself (`connection.begin()`), not through
    /// `context.begin_transaction()`: `autocommit_block()` fails there (Alembic asserts the
    /// transaction is its own).
    pub begins_own_transaction: bool,
}

/// Migrations that belong together: one Alembic script directory, or one SQL folder.
#[derive(Debug, Clone)]
pub struct MigrationSet {
    pub framework: Framework,
    /// The folder the set was found in, relative to the working directory, for messages.
    pub root: String,
    pub env: AlembicEnv,
    /// In the order the framework applies them (SQL sets); file order for Alembic.
    pub migrations: Vec<Migration>,
    /// Schemas the framework's configuration puts first on the search path (Flyway's
    /// `schemas`): unqualified names may be in them.
    pub configured_search_path: Vec<String>,
    /// Folders found as histories of their own and joined to this one: their revisions name
    /// this set's (Alembic's `version_locations`).
    pub joined: Vec<String>,
    /// Migrations of this history written in a form not read (Liquibase's change types),
    /// said as a count and a place: the round trip cannot replay the history without them.
    pub not_read: Option<String>,
}

/// An Alembic history as it is on the `--base` git ref: revision id → its parents.
#[derive(Debug, Clone, Default)]
pub struct BaseHistory {
    pub reference: String,
    pub revisions: std::collections::BTreeMap<String, Vec<String>>,
    /// What the application's models map on REF, when its Python source declares any.
    pub models: base_models::BaseModels,
}

impl BaseHistory {
    pub fn from_set(reference: &str, set: &MigrationSet) -> Self {
        BaseHistory {
            reference: reference.to_string(),
            revisions: set
                .migrations
                .iter()
                .filter_map(|m| Some((m.revision_id()?.to_string(), m.parents.clone())))
                .collect(),
            models: base_models::BaseModels::default(),
        }
    }

    /// Revisions on REF that some other revision on REF names as its parent.
    pub fn has_children(&self, id: &str) -> bool {
        self.revisions
            .values()
            .any(|parents| parents.iter().any(|p| p == id))
    }

    /// The heads on REF that descend from `id`.
    pub fn heads_descending_from(&self, id: &str) -> Vec<String> {
        let mut found = Vec::new();
        let mut stack = vec![id.to_string()];
        let mut seen = std::collections::BTreeSet::new();
        while let Some(current) = stack.pop() {
            if !seen.insert(current.clone()) {
                continue;
            }
            let children: Vec<&String> = self
                .revisions
                .iter()
                .filter(|(_, parents)| parents.contains(&current))
                .map(|(child, _)| child)
                .collect();
            if children.is_empty() && current != id {
                found.push(current.clone());
            }
            stack.extend(children.into_iter().cloned());
        }
        found.sort();
        found
    }
}

/// A file that could not be turned into a model, with why.
#[derive(Debug, Clone)]
pub struct InputProblem {
    pub kind: InputProblemKind,
    pub message: String,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputProblemKind {
    SyntaxError,
    Unreadable,
    /// A symbolic link that was not followed.
    SkippedLink,
    /// A folder of `.sql` files that is no migration history (nothing orders its files).
    SkippedFolder,
}
