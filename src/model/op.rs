//! Schema operations, whichever language they were written in.

use super::{ColumnType, DefaultExpr, Span};

pub use super::constraint::ConstraintKind;
pub use super::implied::{constraint_named_by_default, implied_by_column};
pub use super::names::{bare_name, same_name};

#[derive(Debug, Clone)]
pub struct Op {
    pub kind: OpKind,
    pub span: Span,
    /// The statement runs inside a transaction block (Alembic's transactional DDL, an explicit
    /// BEGIN, or the framework wrapping the file).
    pub in_transaction: bool,
    /// How the name of the index or constraint the operation makes or drops was given: what
    /// SQLAlchemy does to it before PostgreSQL sees it.
    pub name_origin: NameOrigin,
    /// The statement's place in the text, for fixes (Python calls alone on their lines).
    pub edit: Option<super::edit_site::EditSite>,
}

/// Who wrote the name of an index or constraint, which decides what reaches PostgreSQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NameOrigin {
    /// Sent as written (SQL), or the operation names nothing.
    #[default]
    AsWritten,
    /// A plain string in an Alembic call, or `None` there: SQLAlchemy names an unnamed one by
    /// the naming convention, a naming convention whose template holds `%(constraint_name)s`
    /// turns a given name into its own (`"positive"` → `ck_orders_positive`), and past 63 bytes
    /// SQLAlchemy raises `IdentifierError` before PostgreSQL sees anything.
    AlembicString,
    /// `op.f()` / `conv()` in an Alembic call, or made by a naming convention: final, and past
    /// 63 bytes SQLAlchemy shortens it to 55 bytes and `_` and 4 hex digits of its MD5, the
    /// same way each time.
    Final,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub name: String,
    pub ty: ColumnType,
    pub nullable: bool,
    pub server_default: Option<DefaultExpr>,
    pub primary_key: bool,
    /// `GENERATED ... AS IDENTITY`, `serial` types, or SQLAlchemy's autoincrementing key.
    pub identity: bool,
    /// Numbered by a `serial` type or SQLAlchemy's autoincrementing key without `sa.Identity()`
    /// (SQLAlchemy emits SERIAL / BIGSERIAL for it), not by an identity.
    pub serial: bool,
    /// `GENERATED ALWAYS AS (...) STORED`.
    pub generated_stored: bool,
    /// The table a column-level `REFERENCES` / `sa.ForeignKey` names (`auth.users`; the
    /// frontends drop the referenced column, so the last dotted part is the table's).
    pub references: Option<String>,
    pub unique: bool,
    /// SQLAlchemy `index=True` on the column.
    pub indexed: bool,
    /// Column-level CHECK constraints: (name if given, expression).
    pub checks: Vec<(Option<String>, String)>,
}

/// A CREATE TABLE's key written either way, made to read both ways: the columns a table-level
/// `PRIMARY KEY (...)` names are marked `primary_key`, and a column-level `PRIMARY KEY` gets its
/// constraint.
pub fn complete_primary_key(
    columns: &mut [Column],
    constraints: &mut Vec<(Option<String>, ConstraintKind)>,
) {
    let key = constraints.iter().find_map(|(_, kind)| match kind {
        ConstraintKind::PrimaryKey { columns } => Some(columns.clone()),
        _ => None,
    });
    match key {
        Some(key) => {
            for column in columns.iter_mut().filter(|c| key.contains(&c.name)) {
                column.primary_key = true;
            }
        }
        None => {
            if let Some(column) = columns.iter().find(|c| c.primary_key) {
                constraints.push((
                    None,
                    ConstraintKind::PrimaryKey {
                        columns: vec![column.name.clone()],
                    },
                ));
            }
        }
    }
}

impl Column {
    pub fn new(name: impl Into<String>, ty: ColumnType) -> Self {
        Column {
            name: name.into(),
            ty,
            nullable: true,
            server_default: None,
            primary_key: false,
            identity: false,
            serial: false,
            generated_stored: false,
            references: None,
            unique: false,
            indexed: false,
            checks: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaintenanceKind {
    VacuumFull,
    Cluster,
    Reindex {
        concurrently: bool,
        scope: ReindexScope,
    },
    /// `LOCK TABLE ... [IN mode MODE]`: the mode taken (ACCESS EXCLUSIVE when none is named),
    /// `None` for the modes that stop no reads or writes (ACCESS SHARE, ROW SHARE, ROW
    /// EXCLUSIVE).
    LockTable {
        lock: Option<TableLock>,
    },
    /// `REFRESH MATERIALIZED VIEW` without CONCURRENTLY: rebuilt under ACCESS EXCLUSIVE.
    RefreshMaterializedView,
}

/// The table lock a statement takes, of those that matter to traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableLock {
    /// Reads and writes go on (statistics, storage parameters, CLUSTER ON).
    ShareUpdateExclusive,
    /// Writes stop (CREATE INDEX).
    Share,
    /// Writes stop (triggers, rules, foreign keys).
    ShareRowExclusive,
    /// Writes and row locks (`SELECT ... FOR UPDATE`) stop; plain reads go on (`LOCK TABLE ...
    /// IN EXCLUSIVE MODE`, `REFRESH MATERIALIZED VIEW CONCURRENTLY`).
    Exclusive,
    /// Reads and writes stop.
    AccessExclusive,
}

impl TableLock {
    /// The mode a `LOCK TABLE ... IN <words> MODE` names (words upper case, one blank apart);
    /// `Some(None)` for the modes that stop no traffic, `None` for no mode PostgreSQL knows.
    pub fn of_lock_mode(words: &str) -> Option<Option<TableLock>> {
        Some(match words {
            "ACCESS SHARE" | "ROW SHARE" | "ROW EXCLUSIVE" => None,
            "SHARE UPDATE EXCLUSIVE" => Some(TableLock::ShareUpdateExclusive),
            "SHARE" => Some(TableLock::Share),
            "SHARE ROW EXCLUSIVE" => Some(TableLock::ShareRowExclusive),
            "EXCLUSIVE" => Some(TableLock::Exclusive),
            "ACCESS EXCLUSIVE" => Some(TableLock::AccessExclusive),
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            TableLock::ShareUpdateExclusive => "SHARE UPDATE EXCLUSIVE",
            TableLock::Share => "SHARE",
            TableLock::ShareRowExclusive => "SHARE ROW EXCLUSIVE",
            TableLock::Exclusive => "EXCLUSIVE",
            TableLock::AccessExclusive => "ACCESS EXCLUSIVE",
        }
    }

    /// Whether a query that only reads waits behind it (only ACCESS EXCLUSIVE conflicts with
    /// ACCESS SHARE).
    pub fn blocks_reads(self) -> bool {
        self == TableLock::AccessExclusive
    }
}

/// What a REINDEX rebuilds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReindexScope {
    Index,
    Table,
    Schema,
    Database,
    System,
}

/// What a `CreateRelation` makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelationKind {
    TemporaryTable,
    MaterializedView,
}

/// A table change that takes effect only as part of a batch (`batch_alter_table`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchRecreate {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone, PartialEq)]
pub enum OpKind {
    CreateTable {
        table: String,
        columns: Vec<Column>,
        constraints: Vec<(Option<String>, ConstraintKind)>,
        if_not_exists: bool,
        /// Relations and types the table takes columns or keys from, beyond those listed:
        /// `LIKE source`, `PARTITION OF parent` (its key applies), `INHERITS`, `OF type`.
        shaped_by: Vec<String>,
    },
    DropTable {
        table: String,
        /// `IF EXISTS` (`if_exists=True`): the author allows for the table not being there.
        if_exists: bool,
    },
    /// A relation that is not an ordinary table of the schema: a temporary table (gone at the
    /// end of the session) or a materialized view. New, it holds nothing anyone else uses.
    CreateRelation {
        name: String,
        kind: RelationKind,
    },
    /// `DROP MATERIALIZED VIEW`: the view and its indexes go; no data is lost that its query
    /// cannot make again.
    DropRelation {
        name: String,
        kind: RelationKind,
    },
    RenameTable {
        from: String,
        to: String,
    },
    AddColumn {
        table: String,
        column: Column,
    },
    DropColumn {
        table: String,
        column: String,
    },
    RenameColumn {
        table: String,
        from: String,
        to: String,
    },
    /// A change of type; `using` is the conversion expression when given.
    AlterColumnType {
        table: String,
        column: String,
        from: Option<ColumnType>,
        to: ColumnType,
        using: Option<Using>,
    },
    SetNotNull {
        table: String,
        column: String,
    },
    DropNotNull {
        table: String,
        column: String,
    },
    SetDefault {
        table: String,
        column: String,
        default: Option<DefaultExpr>,
    },
    CreateIndex {
        name: Option<String>,
        table: String,
        columns: Vec<String>,
        unique: bool,
        concurrently: bool,
        if_not_exists: bool,
        /// A partial index's `WHERE` expression, as written.
        predicate: Option<String>,
    },
    DropIndex {
        name: Option<String>,
        /// When the statement says (Alembic's `table_name`); SQL's DROP INDEX does not.
        table: Option<String>,
        concurrently: bool,
        if_exists: bool,
    },
    AddConstraint {
        table: String,
        name: Option<String>,
        kind: ConstraintKind,
        /// The existing rows are not checked now: `NOT VALID`, or a foreign key added in the
        /// same statement as its column without a default, which is NULL in every row (SQL's
        /// `ADD COLUMN x bigint REFERENCES t`: PostgreSQL does not scan).
        not_valid: bool,
        /// `ADD CONSTRAINT ... USING INDEX idx`: adopts the index `idx`, built beforehand.
        using_index: Option<String>,
    },
    ValidateConstraint {
        table: String,
        name: String,
    },
    DropConstraint {
        table: String,
        name: Option<String>,
        /// What kind of constraint, when the migration says (Alembic's `type_=`).
        kind: Option<ConstraintKind>,
    },
    CreateEnum {
        name: String,
        values: Vec<String>,
    },
    /// `CREATE TYPE` of a type that is not an enum: composite (`AS (...)`), range, or base.
    CreateType {
        name: String,
    },
    AddEnumValue {
        type_name: String,
        value: String,
    },
    DropType {
        name: String,
    },
    /// `ALTER TYPE a RENAME TO b`.
    RenameType {
        from: String,
        to: String,
    },
    /// `ALTER TYPE ... RENAME VALUE 'a' TO 'b'`.
    RenameEnumValue {
        type_name: String,
        from: String,
        to: String,
    },
    /// `ALTER SCHEMA a RENAME TO b`.
    RenameSchema {
        from: String,
        to: String,
    },
    DropDatabase {
        name: String,
    },
    /// `DROP ... CASCADE` of a constraint, type, domain, sequence, schema or extension: besides the object,
    /// PostgreSQL drops whatever depends on it — other tables' foreign keys, columns of the type,
    /// every object in the schema — without listing them. Comes after the drop's own operation.
    CascadeDrop {
        /// `constraint`, `type`, `domain`, `sequence`, `schema`, `extension`.
        object: &'static str,
        name: String,
        /// The table of a dropped constraint.
        table: Option<String>,
    },
    /// INSERT, UPDATE or DELETE on a system catalog (`pg_class`, `pg_index`, ...).
    CatalogWrite {
        catalog: String,
        statement: &'static str,
    },
    /// `CREATE DOMAIN`; `constrained` when it declares a CHECK or NOT NULL.
    CreateDomain {
        name: String,
        constrained: bool,
    },
    /// An existing domain gets a constraint, or has one validated: `ALTER DOMAIN ... ADD
    /// CONSTRAINT` / `VALIDATE CONSTRAINT` / `SET NOT NULL`.
    ConstrainDomain {
        domain: String,
        /// The existing columns of the domain are checked now (ALTER DOMAIN ... ADD CONSTRAINT
        /// without NOT VALID, VALIDATE CONSTRAINT, SET NOT NULL), not only new values.
        checks_existing: bool,
    },
    CreateSequence {
        name: String,
    },
    /// `ALTER SEQUENCE a RENAME TO b`.
    RenameSequence {
        from: String,
        to: String,
    },
    /// `ALTER SEQUENCE s OWNED BY t.c` (or `CREATE SEQUENCE ... OWNED BY`): the sequence is
    /// dropped with its table or column.
    SequenceOwnedBy {
        sequence: String,
        table: String,
    },
    DropSequence {
        name: String,
    },
    Truncate {
        tables: Vec<String>,
    },
    /// UPDATE or DELETE; `filtered` is false when nothing limits the rows: no WHERE clause, or
    /// only the join conditions of an `UPDATE ... FROM`.
    DataChange {
        table: String,
        statement: &'static str,
        filtered: bool,
        /// The WHERE is only `column IS NULL`: every row matches when the column was added
        /// earlier in the same body without a default.
        null_test: Option<String>,
    },
    SetLockTimeout,
    /// `SET search_path` and its spellings: the schemas it names, `None` when not known before
    /// run time. Unqualified names resolve through it (see [`super::names`]).
    SetSearchPath {
        schemas: Option<Vec<String>>,
    },
    /// `SET TIME ZONE` and its spellings: whether the zone is UTC (an offset of zero all year),
    /// where PostgreSQL converts between timestamp and timestamptz without a rewrite.
    SetTimeZone {
        utc: bool,
    },
    /// A statement that locks a table without changing its columns or constraints' definitions:
    /// ALTER TABLE's storage, ownership, trigger and statistics forms, a constraint's timing;
    /// CREATE / ALTER / DROP TRIGGER, POLICY and RULE.
    LocksTable {
        table: String,
        /// The statement or form as written (`SET LOGGED`, `CREATE TRIGGER`), for messages.
        form: String,
        /// The lock it takes on the table.
        lock: TableLock,
        /// It rewrites the table and its indexes (SET LOGGED / UNLOGGED / TABLESPACE / ACCESS
        /// METHOD).
        rewrites: bool,
    },
    /// `ALTER TABLE parent ATTACH PARTITION child FOR VALUES ...`.
    AttachPartition {
        table: String,
        partition: String,
    },
    /// `ALTER TABLE parent DETACH PARTITION child`.
    DetachPartition {
        table: String,
        partition: String,
        /// `CONCURRENTLY` or `FINALIZE`: SHARE UPDATE EXCLUSIVE instead of ACCESS EXCLUSIVE.
        concurrently: bool,
    },
    Maintenance {
        kind: MaintenanceKind,
        table: Option<String>,
    },
    BatchTable {
        table: String,
        recreate: BatchRecreate,
    },
    BeginTransaction,
    CommitTransaction,
    /// A statement the SQL parser could not read and the keyword fallback did not recognise.
    Unparsed {
        reason: String,
        /// PostgreSQL's own parser rejects it too: it fails if it runs as written. Otherwise it
        /// is valid PostgreSQL this tool cannot look into (a DO block in another language,
        /// nesting past the parser's limit).
        rejected_by_postgres: bool,
    },
    /// SQL PostgreSQL rejects because it is written for another database: MySQL's `MODIFY`,
    /// `CHANGE`, `DROP PRIMARY KEY`, backquoted names. `construct` names what gives it away.
    OtherDialect {
        construct: String,
    },
    /// SQL built at run time: f-strings, concatenation, variables.
    DynamicSql,
    /// `metadata.create_all(bind)`: every table of the application's models not there yet,
    /// which the revision does not name.
    CreateModelTables,
    /// A schema operation (`op.create_index(...)`) whose table or names are computed at run time
    /// (a function argument, a loop over something not literal): `call` is the method.
    DynamicOp {
        call: String,
    },
    /// Reads or writes rows, or sets a session setting, without touching the schema (INSERT,
    /// SELECT, COPY, SET, `bulk_insert`, the rows of `CREATE TABLE ... AS`).
    RowsOnly {
        /// The tables an `INSERT ... SELECT` or `CREATE TABLE ... AS` reads its rows from: their
        /// data is kept elsewhere from then on.
        copied_from: Vec<String>,
    },
    /// Understood, and of no interest to any rule (COMMENT, GRANT, CREATE VIEW, ...).
    Other,
}

/// The `table` of an operation on one table, borrowed as `kind` is (shared or mutable): the one
/// list of those operations for `OpKind::table` and `OpKind::table_mut`.
macro_rules! one_table {
    ($kind:expr) => {
        match $kind {
            OpKind::CreateTable { table, .. }
            | OpKind::DropTable { table, .. }
            | OpKind::AddColumn { table, .. }
            | OpKind::DropColumn { table, .. }
            | OpKind::RenameColumn { table, .. }
            | OpKind::AlterColumnType { table, .. }
            | OpKind::SetNotNull { table, .. }
            | OpKind::DropNotNull { table, .. }
            | OpKind::SetDefault { table, .. }
            | OpKind::CreateIndex { table, .. }
            | OpKind::AddConstraint { table, .. }
            | OpKind::ValidateConstraint { table, .. }
            | OpKind::DropConstraint { table, .. }
            | OpKind::DataChange { table, .. }
            | OpKind::LocksTable { table, .. }
            | OpKind::DetachPartition { table, .. }
            | OpKind::AttachPartition { table, .. }
            | OpKind::BatchTable { table, .. } => Some(table),
            _ => None,
        }
    };
}

impl OpKind {
    /// The statement PostgreSQL refuses inside a transaction block, named as written in SQL.
    pub fn runs_only_outside_transaction(&self) -> Option<&'static str> {
        match self {
            OpKind::CreateIndex {
                concurrently: true, ..
            } => Some("CREATE INDEX CONCURRENTLY"),
            OpKind::DropIndex {
                concurrently: true, ..
            } => Some("DROP INDEX CONCURRENTLY"),
            OpKind::Maintenance {
                kind:
                    MaintenanceKind::Reindex {
                        concurrently: true, ..
                    },
                ..
            } => Some("REINDEX CONCURRENTLY"),
            OpKind::Maintenance {
                kind: MaintenanceKind::VacuumFull,
                ..
            } => Some("VACUUM"),
            _ => None,
        }
    }

    /// Changes data or session state only: a revision made of these alone is a data migration.
    pub fn is_data_only(&self) -> bool {
        matches!(
            self,
            OpKind::DataChange { .. }
                | OpKind::RowsOnly { .. }
                | OpKind::SetLockTimeout
                | OpKind::SetSearchPath { .. }
                | OpKind::SetTimeZone { .. }
                | OpKind::AddEnumValue { .. }
                | OpKind::BeginTransaction
                | OpKind::CommitTransaction
        )
    }

    /// The table the operation works on, when there is one (the first of a TRUNCATE's).
    /// The table an operation on one table's rows or columns works on, to rename it.
    pub fn table_mut(&mut self) -> Option<&mut String> {
        one_table!(self)
    }

    pub fn table(&self) -> Option<&str> {
        if let Some(table) = one_table!(self) {
            return Some(table);
        }
        match self {
            OpKind::RenameTable { from, .. } => Some(from),
            OpKind::CreateRelation { name, .. } | OpKind::DropRelation { name, .. } => Some(name),
            OpKind::Truncate { tables } => tables.first().map(String::as_str),
            OpKind::Maintenance { table, .. } => table.as_deref(),
            _ => None,
        }
    }
}

/// What `ALTER COLUMN ... TYPE ... USING expr` (Alembic's `postgresql_using=`) converts with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Using {
    /// The column itself, or the column cast to the new type: PostgreSQL builds the conversion
    /// it would without USING, so a change it makes without a rewrite stays without one; but
    /// the cast is explicit, so it also converts where no automatic cast exists (varchar →
    /// uuid), by rewriting the table.
    ColumnCast,
    /// Any other expression, as its SQL: every row is computed again.
    Expression(String),
}
