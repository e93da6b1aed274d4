//! The rule registry. Each rule lives in its own file with its documentation and tests, reads
//! the model only, and writes diagnostics.

mod add_check_constraint_without_not_valid;
mod add_column_checked_domain;
mod add_column_not_null_with_default;
mod add_column_not_null_without_default;
mod add_column_volatile_default;
mod add_domain_constraint;
mod add_enum_value;
mod add_exclusion_constraint;
mod add_foreign_key_without_not_valid;
mod add_primary_key;
mod add_unique_constraint;
mod attach_partition_without_check;
mod autocommit_block_without_transaction_per_migration;
mod avoid_char_type;
mod batch_recreate_table;
mod blocking_maintenance;
mod change_column_type;
mod concurrent_index_in_transaction;
mod concurrent_index_not_retryable;
mod create_index_non_concurrently;
mod create_table_without_primary_key;
mod deploy_phase;
mod detach_partition_non_concurrently;
mod drop_cascade;
mod drop_column;
mod drop_database;
mod drop_index_non_concurrently;
mod drop_not_null;
mod drop_table;
mod duplicate_revision_id;
mod dynamic_sql;
mod foreign_key_without_index;
pub mod gate;
pub mod history;
mod identifier_too_long;
mod incomplete_downgrade;
mod input;
mod invalid_revision_id;
mod missing_downgrade;
mod missing_lock_timeout;
mod missing_parent_revision;
mod multiple_heads;
mod prefer_bigint_primary_key;
mod prefer_identity;
mod prefer_jsonb;
mod prefer_text;
mod prefer_timestamptz;
mod rename_column;
mod rename_enum_value;
mod rename_schema;
mod rename_table;
mod revision_cycle;
mod revision_not_on_head;
pub mod roundtrip;
mod set_not_null;
mod system_catalog_write;
mod table_rewrite;
#[cfg(test)]
pub mod testing;
mod transaction_control;
mod truncate_table;
mod unbatched_data_migration;
mod unnamed_constraint;
mod unparsed_sql;
mod validate_in_same_transaction;

pub use input::{SKIPPED_FOLDER, SKIPPED_LINK, SYNTAX_ERROR, UNREADABLE_FILE, UNUSED_SUPPRESSION};

/// Findings about the input itself (a file that cannot be read or parsed, a link not
/// followed), as opposed to findings of a rule on what the input says.
pub fn is_input_problem(rule: &str) -> bool {
    [
        SYNTAX_ERROR.id,
        UNREADABLE_FILE.id,
        SKIPPED_LINK.id,
        SKIPPED_FOLDER.id,
    ]
    .contains(&rule)
}

mod op_site;
mod table_locks;

pub use op_site::{OpSite, not_valid_help, outside_transaction_help};

use crate::config::Preset;
use crate::diagnostic::{Diagnostic, RuleMeta};
use crate::model::ConstraintKind;
use crate::model::graph::RevisionGraph;
use crate::model::{
    BaseHistory, ColumnType, FileId, Migration, MigrationSet, Op, OpKind, Phase, Sources, Span,
};
use history::TableHistory;

pub struct LintContext<'a> {
    pub set: &'a MigrationSet,
    pub sources: &'a Sources,
    pub postgres_version: u32,
    /// Files whose migrations are linted; graph rules still see the whole set.
    pub scope: Option<&'a [FileId]>,
    /// The history on the `--base` ref, when one was given.
    pub base: Option<&'a BaseHistory>,
    /// The set's revision graph, built once for every rule.
    pub graph: &'a RevisionGraph,
    /// The config says lock_timeout is set outside the migrations (`lock-timeout-set-by`).
    pub lock_timeout_set_elsewhere: bool,
    pub history: &'a history::History<'a>,
}

impl<'a> LintContext<'a> {
    pub fn in_scope(&self, migration: &Migration) -> bool {
        self.scope
            .is_none_or(|files| files.contains(&migration.file))
    }

    /// Migrations in scope.
    pub fn migrations(&self) -> impl Iterator<Item = &'a Migration> + '_ {
        self.set.migrations.iter().filter(|m| self.in_scope(m))
    }

    /// The migrations rolled back together with `migration` (itself included): its pop step
    /// group, or itself alone.
    pub fn undo_group(&self, migration: &'a Migration) -> Vec<&'a Migration> {
        match &migration.undo_group {
            Some(group) => self
                .set
                .migrations
                .iter()
                .filter(|m| m.undo_group.as_ref() == Some(group))
                .collect(),
            None => vec![migration],
        }
    }

    /// Every operation of one phase in scope, with its migration, its body and its index there.
    pub fn ops(&self, phase: Phase) -> impl Iterator<Item = OpSite<'a>> + '_ {
        self.set
            .migrations
            .iter()
            .enumerate()
            .filter(|(_, m)| self.in_scope(m))
            .flat_map(move |(migration_index, migration)| {
                let ops = &migration.body(phase).ops;
                ops.iter().enumerate().map(move |(index, op)| OpSite {
                    migration,
                    migration_index,
                    ops,
                    index,
                    op,
                    phase,
                })
            })
    }

    /// The operations on `table` that run before `site`, oldest first: those of the revisions
    /// applied before its migration (ancestors in an Alembic graph, earlier files in a SQL
    /// folder), this revision's upgrade when `site` is in the downgrade, then the body's
    /// earlier ones.
    pub fn history_before(&self, site: &OpSite<'a>, table: &str) -> TableHistory<'a> {
        let own_upgrade: &'a [Op] = match site.phase {
            Phase::Downgrade => &site.migration.upgrade.ops,
            Phase::Upgrade => &[],
        };
        let mut keys = vec![history::table_key(table)];
        // Each rename found adds the old name's operations; renames are few, so the walk is
        // taken again rather than merged.
        loop {
            let mut candidates = self.history.upgrades_before(site.migration_index, &keys);
            candidates.extend(
                own_upgrade
                    .iter()
                    .chain(&site.ops[..site.index])
                    .filter(|op| history::keys_of(op).iter().any(|key| keys.contains(key))),
            );
            let followed = TableHistory::follow(&candidates, table);
            let found = followed.keys();
            if found.iter().all(|key| keys.contains(key)) {
                return followed;
            }
            keys = found;
        }
    }

    /// The line (1-based) a span starts on, for messages that point at another statement.
    pub fn line_of(&self, span: &Span) -> usize {
        self.sources.get(span.file).line_col(span.start).0
    }

    /// The way out written for the set's framework: SQLAlchemy's spelling in an Alembic
    /// revision, SQL anywhere else.
    pub fn help_for(&self, alembic: impl Into<String>, sql: impl Into<String>) -> String {
        if self.set.framework == crate::model::Framework::Alembic {
            alembic.into()
        } else {
            sql.into()
        }
    }

    /// Every operation of both phases in scope.
    pub fn all_ops(&self) -> impl Iterator<Item = OpSite<'a>> + '_ {
        self.ops(Phase::Upgrade).chain(self.ops(Phase::Downgrade))
    }

    /// What the models on `--base` say of `table` (its `column`): a sentence to add to a
    /// finding about breaking the running version, or nothing when no model read says.
    pub fn running_models(&self, table: &str, column: Option<&str>) -> String {
        use crate::model::base_models::Mapped;
        let Some(base) = self.base else {
            return String::new();
        };
        let what = match column {
            Some(column) => format!("`{table}.{column}`"),
            None => format!("`{table}`"),
        };
        match base.models.maps(table, column) {
            Mapped::Yes(place) => format!(
                "; the models on `{}` still map {what} ({place}): the version running now uses it",
                base.reference
            ),
            Mapped::No(place) => format!(
                "; the models on `{}` no longer map {what} ({place}): the version running now does not use it",
                base.reference
            ),
            Mapped::Unknown => String::new(),
        }
    }

    /// A finding on one operation, in its phase.
    pub fn report_op(
        &self,
        meta: &RuleMeta,
        site: &OpSite,
        message: impl Into<String>,
    ) -> Diagnostic {
        let table = site.op.kind.table();
        self.report(meta, site.migration, site.op.span, message)
            .in_phase(site.phase)
            .about_table(table)
    }

    pub fn report(
        &self,
        meta: &RuleMeta,
        migration: &Migration,
        span: Span,
        message: impl Into<String>,
    ) -> Diagnostic {
        let mut diagnostic = Diagnostic::new(meta, span, message);
        diagnostic.revision = migration.revision_id().map(str::to_string);
        diagnostic
    }
}

impl<'a> LintContext<'a> {
    /// The table and columns of index `name` as the last CREATE INDEX (or unique or primary key
    /// constraint, whose index has its name) before `site` built it:
    /// the body's earlier operations, then (in a downgrade) its own upgrade, then earlier
    /// migrations. SQL's DROP INDEX names no table; this finds it.
    pub fn index_definition(
        &self,
        site: &OpSite<'a>,
        name: &str,
    ) -> Option<(&'a str, &'a [String])> {
        use crate::model::names::in_schema_of;
        // An index is in its table's schema, whatever name the statement that made it wrote.
        let same_name = |table: &str, n: &str, name: &str| {
            crate::model::op::same_name(&in_schema_of(table, n), name)
        };
        // A unique or primary key constraint builds an index of its own name.
        let keyed = |kind: &'a ConstraintKind| match kind {
            ConstraintKind::Unique { columns } | ConstraintKind::PrimaryKey { columns } => {
                Some(columns.as_slice())
            }
            _ => None,
        };
        let defines = |op: &'a Op| match &op.kind {
            OpKind::CreateIndex {
                name: Some(n),
                table,
                columns,
                ..
            } if same_name(table, n, name) => Some((table.as_str(), columns.as_slice())),
            // Unnamed, it has the name PostgreSQL gives it (`tokens_session_id_idx`).
            OpKind::CreateIndex {
                name: None,
                table,
                columns,
                ..
            } => crate::model::constraint::postgres_default_index_name(table, columns)
                .filter(|n| same_name(table, n, name))
                .map(|_| (table.as_str(), columns.as_slice())),
            OpKind::AddConstraint {
                name: Some(n),
                table,
                kind,
                ..
            } if same_name(table, n, name) => keyed(kind).map(|columns| (table.as_str(), columns)),
            OpKind::CreateTable {
                table,
                columns,
                constraints,
                ..
            } => constraints
                .iter()
                .find_map(|(n, kind)| {
                    // Unnamed, it has the name PostgreSQL gives it (`jobs_namespace_uuid_name_key`).
                    n.clone()
                        .or_else(|| kind.postgres_default_name(table))
                        .filter(|n| same_name(table, n, name))
                        .and(keyed(kind))
                        .map(|columns| (table.as_str(), columns))
                })
                .or_else(|| {
                    // A column declared unique (`unique=True`, `UNIQUE`): `<table>_<column>_key`.
                    let bare = crate::model::op::bare_name(table);
                    columns
                        .iter()
                        .find(|c| {
                            c.unique
                                && !c.primary_key
                                && same_name(table, &format!("{bare}_{}_key", c.name), name)
                        })
                        // `Column(..., index=True)`: SQLAlchemy's default `ix_<table>_<column>`.
                        .or_else(|| {
                            columns.iter().find(|c| {
                                c.indexed
                                    && same_name(table, &format!("ix_{bare}_{}", c.name), name)
                            })
                        })
                        .map(|c| (table.as_str(), std::slice::from_ref(&c.name)))
                }),
            _ => None,
        };
        self.before_newest_first(site).find_map(defines)
    }

    /// The `WHERE` of partial index `name`, as the last CREATE INDEX before `site` wrote it.
    pub fn index_predicate(&self, site: &OpSite<'a>, name: &str) -> Option<&'a str> {
        self.before_newest_first(site)
            .find_map(|op| match &op.kind {
                OpKind::CreateIndex {
                    name: Some(n),
                    predicate,
                    ..
                } if crate::model::op::same_name(n, name) => Some(predicate.as_deref()),
                _ => None,
            })?
    }

    /// The operations that ran before `site`, newest first: the body's earlier ones, then (in a
    /// downgrade) its own upgrade, then earlier migrations' upgrades.
    fn before_newest_first(&self, site: &OpSite<'a>) -> impl Iterator<Item = &'a Op> + 'a {
        let own_upgrade: &'a [Op] = match site.phase {
            Phase::Downgrade => &site.migration.upgrade.ops,
            Phase::Upgrade => &[],
        };
        let set: &'a MigrationSet = self.set;
        site.earlier()
            .iter()
            .rev()
            .chain(own_upgrade.iter().rev())
            .chain(
                set.migrations[..site.migration_index]
                    .iter()
                    .rev()
                    .flat_map(|m| m.upgrade.ops.iter().rev()),
            )
    }
}

impl<'a> LintContext<'a> {
    /// Whether `table.column` accepts NULL just before `site`, as the history declares it:
    /// `None` when no operation before says (the column predates what was read).
    pub fn column_nullable_before(
        &self,
        site: &OpSite<'a>,
        table: &str,
        column: &str,
    ) -> Option<bool> {
        use crate::model::op::same_name;
        // Every column of the table by its name at that point: a rename carries the column's
        // nullability to its new name.
        let mut columns: Vec<(String, bool)> = Vec::new();
        let set = |columns: &mut Vec<(String, bool)>, name: &str, nullable: bool| match columns
            .iter_mut()
            .find(|(n, _)| same_name(n, name))
        {
            Some(entry) => entry.1 = nullable,
            None => columns.push((name.to_string(), nullable)),
        };
        for op in self.history_before(site, table) {
            match &op.kind {
                OpKind::CreateTable { columns: made, .. } => {
                    columns = made
                        .iter()
                        .map(|c| (c.name.clone(), c.nullable && !c.primary_key))
                        .collect();
                }
                OpKind::AddColumn { column: added, .. } => {
                    set(
                        &mut columns,
                        &added.name,
                        added.nullable && !added.primary_key,
                    );
                }
                OpKind::SetNotNull { column: c, .. } => set(&mut columns, c, false),
                OpKind::DropNotNull { column: c, .. } => set(&mut columns, c, true),
                OpKind::AddConstraint {
                    kind: ConstraintKind::PrimaryKey { columns: key },
                    ..
                } => {
                    for c in key {
                        set(&mut columns, c, false);
                    }
                }
                OpKind::DropColumn { column: c, .. } => columns.retain(|(n, _)| !same_name(n, c)),
                OpKind::RenameColumn { from, to, .. } => {
                    columns.retain(|(n, _)| !same_name(n, to));
                    if let Some(entry) = columns.iter_mut().find(|(n, _)| same_name(n, from)) {
                        entry.0 = to.clone();
                    }
                }
                OpKind::DropTable { .. } => columns.clear(),
                _ => {}
            }
        }
        columns
            .iter()
            .find(|(n, _)| same_name(n, column))
            .map(|(_, nullable)| *nullable)
    }
}

/// A constraint added to a table that existed before the revision, validated as it is added
/// (no `NOT VALID`, no `USING INDEX`): what the constraint rules look for.
pub struct BlockingConstraint<'a> {
    pub site: OpSite<'a>,
    pub table: &'a str,
    pub kind: &'a ConstraintKind,
    /// The constraint's name, when the migration gives it or the naming convention makes it.
    pub name: Option<&'a str>,
    /// ` `name`` for messages, or nothing for an unnamed constraint.
    pub label: String,
}

impl<'a> LintContext<'a> {
    pub fn blocking_constraints(&self) -> impl Iterator<Item = BlockingConstraint<'a>> + '_ {
        self.all_ops().filter_map(|site| {
            let OpKind::AddConstraint {
                table,
                name,
                kind,
                not_valid,
                using_index,
            } = &site.op.kind
            else {
                return None;
            };
            if *not_valid || using_index.is_some() || site.table_is_new(table) {
                return None;
            }
            let label = name
                .as_deref()
                .map(|n| format!(" `{n}`"))
                .unwrap_or_default();
            Some(BlockingConstraint {
                site,
                table,
                kind,
                name: name.as_deref(),
                label,
            })
        })
    }
}

/// Columns an operation declares with their types: new tables, added columns, type changes.
pub fn declared_columns(kind: &OpKind) -> Vec<(&str, &str, &ColumnType)> {
    match kind {
        OpKind::CreateTable { table, columns, .. } => columns
            .iter()
            .map(|c| (table.as_str(), c.name.as_str(), &c.ty))
            .collect(),
        OpKind::AddColumn { table, column } => vec![(table, &column.name, &column.ty)],
        // A type the revision computes declares nothing.
        OpKind::AlterColumnType {
            table, column, to, ..
        } if !to.is_unknown() => vec![(table, column, to)],
        _ => Vec::new(),
    }
}

/// `index `name`` or `an index`, for messages.
pub fn describe_index(name: Option<&str>) -> String {
    name.map(|n| format!("index `{n}`"))
        .unwrap_or_else(|| "an index".into())
}

pub trait Rule: Sync {
    fn meta(&self) -> &'static RuleMeta;
    fn check(&self, cx: &LintContext, out: &mut Vec<Diagnostic>);
    /// The smallest preset the rule is in: opinionated advice runs only under `strict`.
    fn preset(&self) -> Preset {
        Preset::Recommended
    }
}

/// The smallest preset a lint rule is in; `None` for the findings that always run.
pub fn preset_of(rule: &str) -> Option<Preset> {
    registry()
        .iter()
        .find(|r| r.meta().id == rule)
        .map(|r| r.preset())
}

/// Whether `rule` runs under `preset` when no `select` names rules. The engine's, round trip's
/// and gate's findings are not lint rules and always run.
pub fn in_preset(rule: &str, preset: Preset) -> bool {
    match preset_of(rule) {
        Some(smallest) => preset == Preset::Strict || smallest == Preset::Recommended,
        None => true,
    }
}

/// Every lint rule, in the order `rules` lists them.
pub fn registry() -> &'static [&'static dyn Rule] {
    &[
        &multiple_heads::MultipleHeads,
        &invalid_revision_id::InvalidRevisionId,
        &missing_parent_revision::MissingParentRevision,
        &duplicate_revision_id::DuplicateRevisionId,
        &revision_cycle::RevisionCycle,
        &revision_not_on_head::RevisionNotOnHead,
        &missing_downgrade::MissingDowngrade,
        &incomplete_downgrade::IncompleteDowngrade,
        &unnamed_constraint::UnnamedConstraint,
        &autocommit_block_without_transaction_per_migration::AutocommitBlockWithoutTransactionPerMigration,
        &create_index_non_concurrently::CreateIndexNonConcurrently,
        &concurrent_index_in_transaction::ConcurrentIndexInTransaction,
        &transaction_control::TransactionControl,
        &concurrent_index_not_retryable::ConcurrentIndexNotRetryable,
        &add_column_not_null_with_default::AddColumnNotNullWithDefault,
        &add_column_not_null_without_default::AddColumnNotNullWithoutDefault,
        &add_column_volatile_default::AddColumnVolatileDefault,
        &add_column_checked_domain::AddColumnCheckedDomain,
        &drop_index_non_concurrently::DropIndexNonConcurrently,
        &detach_partition_non_concurrently::DetachPartitionNonConcurrently,
        &attach_partition_without_check::AttachPartitionWithoutCheck,
        &change_column_type::ChangeColumnType,
        &set_not_null::SetNotNull,
        &add_foreign_key_without_not_valid::AddForeignKeyWithoutNotValid,
        &foreign_key_without_index::ForeignKeyWithoutIndex,
        &add_check_constraint_without_not_valid::AddCheckConstraintWithoutNotValid,
        &add_domain_constraint::AddDomainConstraint,
        &validate_in_same_transaction::ValidateInSameTransaction,
        &add_unique_constraint::AddUniqueConstraint,
        &add_exclusion_constraint::AddExclusionConstraint,
        &add_primary_key::AddPrimaryKey,
        &rename_column::RenameColumn,
        &rename_table::RenameTable,
        &rename_schema::RenameSchema,
        &rename_enum_value::RenameEnumValue,
        &drop_not_null::DropNotNull,
        &identifier_too_long::IdentifierTooLong,
        &drop_column::DropColumn,
        &drop_table::DropTable,
        &drop_cascade::DropCascade,
        &drop_database::DropDatabase,
        &truncate_table::TruncateTable,
        &system_catalog_write::SystemCatalogWrite,
        &table_rewrite::TableRewrite,
        &missing_lock_timeout::MissingLockTimeout,
        &add_enum_value::AddEnumValue,
        &blocking_maintenance::BlockingMaintenance,
        &unbatched_data_migration::UnbatchedDataMigration,
        &create_table_without_primary_key::CreateTableWithoutPrimaryKey,
        &batch_recreate_table::BatchRecreateTable,
        &prefer_timestamptz::PreferTimestamptz,
        &prefer_jsonb::PreferJsonb,
        &prefer_bigint_primary_key::PreferBigintPrimaryKey,
        &prefer_identity::PreferIdentity,
        &prefer_text::PreferText,
        &avoid_char_type::AvoidCharType,
        &unparsed_sql::UnparsedSql,
        &dynamic_sql::DynamicSql,
        &deploy_phase::DeployPhase,
    ]
}

/// Rules the engine itself reports: unreadable input and unused suppressions.
pub fn engine_rules() -> [&'static RuleMeta; 5] {
    [
        &SYNTAX_ERROR,
        &UNREADABLE_FILE,
        &SKIPPED_LINK,
        &SKIPPED_FOLDER,
        &UNUSED_SUPPRESSION,
    ]
}

/// Metadata of every rule, lint and engine, for `rules`, `explain`, config checks and reporters.
pub fn all_metadata() -> Vec<&'static RuleMeta> {
    registry()
        .iter()
        .map(|r| r.meta())
        .chain(engine_rules())
        .chain(roundtrip::all())
        .chain(gate::all())
        .collect()
}

pub fn find(id: &str) -> Option<&'static RuleMeta> {
    all_metadata().into_iter().find(|m| m.id == id)
}
