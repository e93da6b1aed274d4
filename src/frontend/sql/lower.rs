//! Parsed sqlparser statements → model operations.

use sqlparser::ast::{
    AlterTableOperation, AlterTypeOperation, ColumnDef, ColumnOption, DataType, ObjectName,
    ObjectType, Set, Statement, TableConstraint, TableFactor, TableWithJoins,
    UserDefinedTypeRepresentation,
};

mod alter_table;
mod dml;
mod settings;

use alter_table::alter_table;
pub use alter_table::using_of;

use crate::model::op::{complete_primary_key, constraint_named_by_default, implied_by_column};
use crate::model::{
    Column, ColumnType, ConstraintKind, DefaultExpr, MaintenanceKind, OpKind, RelationKind,
    TableLock,
};

pub fn lower(statement: &Statement) -> Vec<OpKind> {
    // `WITH ... UPDATE / DELETE / INSERT`: the data statement after its common table
    // expressions.
    if let Statement::Query(query) = statement
        && let sqlparser::ast::SetExpr::Update(inner)
        | sqlparser::ast::SetExpr::Delete(inner)
        | sqlparser::ast::SetExpr::Insert(inner) = query.body.as_ref()
    {
        // The common tables that choose rows (a WHERE, a LIMIT, a join, a grouping): an UPDATE
        // joined to one touches the rows it chose, not every row with a partner.
        let common: Vec<String> = query
            .with
            .iter()
            .flat_map(|with| &with.cte_tables)
            .filter(|cte| chooses_rows(&cte.query))
            .map(|cte| cte.alias.name.value.clone())
            .collect();
        if let Some(kinds) = dml::lower_dml(inner, &common) {
            return kinds;
        }
        return lower(inner);
    }
    if let Some(kinds) = dml::lower_dml(statement, &[]) {
        return kinds;
    }
    match statement {
        // A temporary table lives for the session; nothing of the schema changes. Made `AS
        // SELECT`, it holds the rows it read (a backup kept while a table is rebuilt).
        Statement::CreateTable(create) if create.temporary => {
            let mut kinds = vec![OpKind::CreateRelation {
                name: name(&create.name),
                kind: RelationKind::TemporaryTable,
            }];
            if let Some(query) = &create.query {
                kinds.push(OpKind::RowsOnly {
                    copied_from: dml::tables_read(query),
                });
            }
            kinds
        }
        Statement::CreateView(view) if view.materialized => vec![OpKind::CreateRelation {
            name: name(&view.name),
            kind: RelationKind::MaterializedView,
        }],
        Statement::CreateTable(create) => {
            let mut columns: Vec<Column> = create.columns.iter().map(column).collect();
            let mut constraints: Vec<(Option<String>, ConstraintKind)> = create
                .constraints
                .iter()
                .filter_map(table_constraint)
                .collect();
            complete_primary_key(&mut columns, &mut constraints);
            let mut kinds = vec![OpKind::CreateTable {
                table: name(&create.name),
                columns,
                constraints,
                if_not_exists: create.if_not_exists,
                shaped_by: shaped_by(create),
            }];
            // `CREATE TABLE ... AS SELECT`: the new table holds the rows it read.
            if let Some(query) = &create.query {
                kinds.push(OpKind::RowsOnly {
                    copied_from: dml::tables_read(query),
                });
            }
            kinds
        }
        Statement::CreateIndex(index) => vec![OpKind::CreateIndex {
            // The index lives in its table's schema.
            name: index.name.as_ref().map(|index_name| {
                crate::model::names::in_schema_of(&name(&index.table_name), &name(index_name))
            }),
            table: name(&index.table_name),
            columns: index
                .columns
                .iter()
                .map(|c| c.column.expr.to_string())
                .collect(),
            unique: index.unique,
            concurrently: index.concurrently,
            if_not_exists: index.if_not_exists,
            predicate: index.predicate.as_ref().map(|p| p.to_string()),
        }],
        Statement::AlterTable(alter) => {
            let table = name(&alter.name);
            alter
                .operations
                .iter()
                .filter_map(|operation| Some((operation, alter_table(&table, operation)?)))
                .flat_map(|(operation, op)| {
                    // `ADD COLUMN x text UNIQUE`: the constraint is built on the existing table
                    // as part of the same statement.
                    let mut implied = Vec::new();
                    if let OpKind::AddColumn { table, column } = &op {
                        if column.primary_key {
                            let kind = ConstraintKind::PrimaryKey {
                                columns: vec![column.name.clone()],
                            };
                            implied.push(constraint_named_by_default(table, kind));
                        }
                        let all_null = column.server_default.is_none() && !column.identity;
                        implied.extend(implied_by_column(table, column).into_iter().map(
                            |mut kind| {
                                // One statement adds the column, NULL in every row, and its
                                // foreign key: there is nothing to check (verified: no scan).
                                if let OpKind::AddConstraint {
                                    kind: ConstraintKind::ForeignKey { .. },
                                    not_valid,
                                    ..
                                } = &mut kind
                                {
                                    *not_valid |= all_null;
                                }
                                kind
                            },
                        ));
                    }
                    // `DROP CONSTRAINT ... CASCADE` takes other tables' foreign keys with it.
                    if let AlterTableOperation::DropConstraint {
                        name: dropped,
                        drop_behavior: Some(sqlparser::ast::DropBehavior::Cascade),
                        ..
                    } = operation
                    {
                        implied.push(OpKind::CascadeDrop {
                            object: "constraint",
                            name: identifier(dropped),
                            table: Some(table.clone()),
                        });
                    }
                    std::iter::once(op).chain(implied)
                })
                .collect()
        }
        Statement::Drop {
            object_type,
            names,
            if_exists,
            cascade,
            ..
        } => names
            .iter()
            .flat_map(|n| {
                let n = name(n);
                let cascaded = match object_type {
                    ObjectType::Type => Some("type"),
                    ObjectType::Schema => Some("schema"),
                    ObjectType::Sequence => Some("sequence"),
                    _ => None,
                }
                .filter(|_| *cascade)
                .map(|object| OpKind::CascadeDrop {
                    object,
                    name: n.clone(),
                    table: None,
                });
                let dropped = match object_type {
                    ObjectType::Table => OpKind::DropTable {
                        table: n,
                        if_exists: *if_exists,
                    },
                    ObjectType::Index => OpKind::DropIndex {
                        name: Some(n),
                        table: None,
                        concurrently: false,
                        if_exists: *if_exists,
                    },
                    ObjectType::Type => OpKind::DropType { name: n },
                    ObjectType::Sequence => OpKind::DropSequence { name: n },
                    ObjectType::Database => OpKind::DropDatabase { name: n },
                    ObjectType::MaterializedView => OpKind::DropRelation {
                        name: n,
                        kind: RelationKind::MaterializedView,
                    },
                    _ => OpKind::Other,
                };
                std::iter::once(dropped).chain(cascaded)
            })
            .filter(|kind| *kind != OpKind::Other)
            .collect(),
        Statement::DropExtension(drop) if is_cascade(drop.cascade_or_restrict.as_ref()) => drop
            .names
            .iter()
            .map(|n| OpKind::CascadeDrop {
                object: "extension",
                name: n.value.clone(),
                table: None,
            })
            .collect(),
        Statement::DropDomain(drop)
            if matches!(
                drop.drop_behavior,
                Some(sqlparser::ast::DropBehavior::Cascade)
            ) =>
        {
            vec![OpKind::CascadeDrop {
                object: "domain",
                name: name(&drop.name),
                table: None,
            }]
        }
        Statement::CreateType {
            name: type_name,
            representation: Some(UserDefinedTypeRepresentation::Enum { labels }),
        } => {
            vec![OpKind::CreateEnum {
                name: name(type_name),
                values: labels.iter().map(|l| l.value.clone()).collect(),
            }]
        }
        Statement::CreateType {
            name: type_name, ..
        } => vec![OpKind::CreateType {
            name: name(type_name),
        }],
        Statement::AlterType(alter) => match &alter.operation {
            AlterTypeOperation::AddValue(add) => {
                vec![OpKind::AddEnumValue {
                    type_name: name(&alter.name),
                    value: add.value.value.clone(),
                }]
            }
            AlterTypeOperation::Rename(rename) => vec![OpKind::RenameType {
                from: name(&alter.name),
                to: identifier(&rename.new_name),
            }],
            AlterTypeOperation::RenameValue(rename) => vec![OpKind::RenameEnumValue {
                type_name: name(&alter.name),
                from: rename.from.value.clone(),
                to: rename.to.value.clone(),
            }],
        },
        Statement::CreateDomain(domain) => vec![OpKind::CreateDomain {
            name: name(&domain.name),
            constrained: !domain.constraints.is_empty(),
        }],
        Statement::AlterSchema(alter) => alter
            .operations
            .iter()
            .map(|operation| match operation {
                sqlparser::ast::AlterSchemaOperation::Rename { name: to } => OpKind::RenameSchema {
                    from: name(&alter.name),
                    to: name(to),
                },
                _ => OpKind::Other,
            })
            .collect(),
        Statement::CreateSequence {
            name: seq,
            sequence_options,
            ..
        } => {
            let owner = sequence_options.iter().find_map(|option| match option {
                sqlparser::ast::SequenceOptions::OwnedBy(Some(column)) => Some(name(column)),
                _ => None,
            });
            std::iter::once(OpKind::CreateSequence { name: name(seq) })
                .chain(owner.and_then(|column| {
                    Some(OpKind::SequenceOwnedBy {
                        sequence: name(seq),
                        table: column.rsplit_once('.')?.0.to_string(),
                    })
                }))
                .collect()
        }
        Statement::Truncate(truncate) => {
            vec![OpKind::Truncate {
                tables: truncate.table_names.iter().map(|t| name(&t.name)).collect(),
            }]
        }
        Statement::StartTransaction { .. } => vec![OpKind::BeginTransaction],
        Statement::Commit { .. } | Statement::Rollback { .. } => vec![OpKind::CommitTransaction],
        Statement::Set(Set::SingleAssignment {
            variable, values, ..
        }) if settings::is_setting(&variable.to_string(), "lock_timeout")
            && !values
                .iter()
                .any(|v| super::lock_timeout_disabled(&v.to_string())) =>
        {
            vec![OpKind::SetLockTimeout]
        }
        Statement::Query(query) if sets_lock_timeout_by_function(&query.to_string()) => {
            vec![OpKind::SetLockTimeout]
        }
        Statement::Set(Set::SetTimeZone { value, .. }) => vec![OpKind::SetTimeZone {
            utc: settings::is_utc(value),
        }],
        Statement::Set(Set::SingleAssignment {
            variable, values, ..
        }) if settings::is_setting(&variable.to_string(), "timezone") => {
            vec![OpKind::SetTimeZone {
                utc: values.len() == 1 && settings::is_utc(&values[0]),
            }]
        }
        Statement::Set(Set::SingleAssignment {
            variable, values, ..
        }) if settings::is_setting(&variable.to_string(), "search_path") => {
            vec![OpKind::SetSearchPath {
                schemas: settings::from_set_values(values),
            }]
        }
        Statement::Query(query)
            if let Some(schemas) = settings::from_set_config(&query.to_string()) =>
        {
            vec![OpKind::SetSearchPath { schemas }]
        }
        // `SELECT ... INTO t`: a new table, as CREATE TABLE t AS SELECT makes one.
        Statement::Query(query) if let Some((into, target)) = select_into(query) => {
            if into.temporary {
                vec![OpKind::CreateRelation {
                    name: name(&target),
                    kind: RelationKind::TemporaryTable,
                }]
            } else {
                vec![OpKind::CreateTable {
                    table: name(&target),
                    columns: Vec::new(),
                    constraints: Vec::new(),
                    if_not_exists: false,
                    shaped_by: Vec::new(),
                }]
            }
        }
        Statement::Vacuum(vacuum) if vacuum.full => vec![OpKind::Maintenance {
            kind: MaintenanceKind::VacuumFull,
            table: vacuum.table_name.as_ref().map(name),
        }],
        Statement::Lock(lock) => vec![OpKind::Maintenance {
            kind: MaintenanceKind::LockTable {
                lock: match &lock.lock_mode {
                    None => Some(TableLock::AccessExclusive),
                    Some(mode) => {
                        TableLock::of_lock_mode(&mode.to_string().to_ascii_uppercase()).flatten()
                    }
                },
            },
            table: lock.tables.first().map(|t| name(&t.name)),
        }],
        Statement::Insert(insert) => vec![OpKind::RowsOnly {
            copied_from: insert
                .source
                .as_deref()
                .map(dml::tables_read)
                .unwrap_or_default(),
        }],
        Statement::Query(_) | Statement::Copy { .. } | Statement::Set(_) => {
            vec![OpKind::RowsOnly {
                copied_from: Vec::new(),
            }]
        }
        _ => vec![OpKind::Other],
    }
}

/// Whether a query returns only some rows of its table: anything but a plain `SELECT ... FROM t`.
fn chooses_rows(query: &sqlparser::ast::Query) -> bool {
    let sqlparser::ast::SetExpr::Select(select) = query.body.as_ref() else {
        return true;
    };
    let one_table = matches!(select.from.as_slice(), [only] if only.joins.is_empty()
        && matches!(only.relation, sqlparser::ast::TableFactor::Table { .. }));
    let grouped =
        !matches!(&select.group_by, sqlparser::ast::GroupByExpr::Expressions(e, _) if e.is_empty());
    !one_table
        || select.selection.is_some()
        || select.having.is_some()
        || select.distinct.is_some()
        || grouped
        || query.limit_clause.is_some()
        || query.fetch.is_some()
}

/// The `INTO` of a `SELECT ... INTO t`, which creates `t`, and `t`'s name.
fn select_into(
    query: &sqlparser::ast::Query,
) -> Option<(&sqlparser::ast::SelectInto, sqlparser::ast::ObjectName)> {
    use sqlparser::ast::{Expr, ObjectName, SetExpr};
    let SetExpr::Select(select) = query.body.as_ref() else {
        return None;
    };
    let into = select.into.as_ref()?;
    let target = match into.targets.as_slice() {
        [Expr::Identifier(ident)] => ObjectName::from(vec![ident.clone()]),
        [Expr::CompoundIdentifier(idents)] => ObjectName::from(idents.clone()),
        _ => return None,
    };
    Some((into, target))
}

/// `SELECT set_config('lock_timeout', '5s', true)`.
fn sets_lock_timeout_by_function(query: &str) -> bool {
    let lower = query.to_ascii_lowercase();
    lower.contains("set_config") && lower.contains("'lock_timeout'")
}

fn table_constraint(constraint: &TableConstraint) -> Option<(Option<String>, ConstraintKind)> {
    let idents = |cols: &[sqlparser::ast::Ident]| cols.iter().map(identifier).collect::<Vec<_>>();
    let index_columns = |cols: &[sqlparser::ast::IndexColumn]| {
        cols.iter()
            .map(|c| c.column.expr.to_string())
            .collect::<Vec<_>>()
    };
    Some(match constraint {
        TableConstraint::PrimaryKey(pk) => (
            pk.name.as_ref().map(identifier),
            ConstraintKind::PrimaryKey {
                columns: index_columns(&pk.columns),
            },
        ),
        TableConstraint::Unique(unique) => (
            unique.name.as_ref().map(identifier),
            ConstraintKind::Unique {
                columns: index_columns(&unique.columns),
            },
        ),
        TableConstraint::ForeignKey(fk) => (
            fk.name.as_ref().map(identifier),
            ConstraintKind::ForeignKey {
                columns: idents(&fk.columns),
                referenced_table: name(&fk.foreign_table),
            },
        ),
        TableConstraint::Check(check) => (
            check.name.as_ref().map(identifier),
            ConstraintKind::Check {
                expression: check.expr.to_string(),
            },
        ),
        _ => return None,
    })
}

fn column(def: &ColumnDef) -> Column {
    let mut column = Column::new(identifier(&def.name), column_type(&def.data_type));
    if column.ty.is_serial() {
        column.identity = true;
        column.serial = true;
        column.nullable = false;
        column.server_default = Some(DefaultExpr::from_sql("nextval(serial)"));
    }
    for option in &def.options {
        match &option.option {
            ColumnOption::NotNull => column.nullable = false,
            ColumnOption::Null => column.nullable = true,
            ColumnOption::Default(expr) => {
                column.server_default = Some(DefaultExpr::from_sql(&expr.to_string()))
            }
            ColumnOption::PrimaryKey(_) => {
                column.primary_key = true;
                column.nullable = false;
            }
            ColumnOption::Unique(_) => column.unique = true,
            ColumnOption::ForeignKey(fk) => column.references = Some(name(&fk.foreign_table)),
            ColumnOption::Check(check) => column.checks.push((
                option.name.as_ref().or(check.name.as_ref()).map(identifier),
                check.expr.to_string(),
            )),
            ColumnOption::Generated {
                generation_expr, ..
            } => {
                if generation_expr.is_some() {
                    column.generated_stored = true;
                } else {
                    column.identity = true;
                    column.nullable = false;
                }
            }
            _ => {}
        }
    }
    column
}

/// Reads a type from its SQL spelling: name, then modifiers in parentheses, then `[]`.
pub fn column_type(data_type: &DataType) -> ColumnType {
    column_type_from_text(&data_type.to_string())
}

/// A type as written in SQL (`varchar(20)`, `numeric ( 10 , 2 )`).
pub fn column_type_from_text(text: &str) -> ColumnType {
    let text = text.to_string();
    let (name, modifiers) = match (text.find('('), text.rfind(')')) {
        (Some(open), Some(close)) if close > open => {
            let modifiers = text[open + 1..close]
                .split(',')
                .filter_map(|m| m.trim().parse().ok())
                .collect();
            (
                format!("{} {}", &text[..open], &text[close + 1..]),
                modifiers,
            )
        }
        _ => (text.clone(), Vec::new()),
    };
    let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
    ColumnType::normalized(&name, modifiers)
}

/// An identifier as PostgreSQL reads it: quoted as written, unquoted folded to lower case.
fn identifier(ident: &sqlparser::ast::Ident) -> String {
    if ident.quote_style.is_some() {
        ident.value.clone()
    } else {
        ident.value.to_lowercase()
    }
}

/// What a CREATE TABLE takes columns or keys from beyond its own list.
fn shaped_by(create: &sqlparser::ast::CreateTable) -> Vec<String> {
    let like = create.like.as_ref().map(|like| match like {
        sqlparser::ast::CreateTableLikeKind::Parenthesized(like)
        | sqlparser::ast::CreateTableLikeKind::Plain(like) => name(&like.name),
    });
    like.into_iter()
        .chain(create.clone.as_ref().map(name))
        .chain(create.partition_of.as_ref().map(name))
        .chain(create.inherits.iter().flatten().map(name))
        .collect()
}

/// A relation's name as PostgreSQL resolves it: `"storage"."objects"` is `storage.objects`,
/// and `public.` (the default schema) is left off.
fn name(object: &ObjectName) -> String {
    let parts: Vec<String> = object
        .0
        .iter()
        .map(|part| match part.as_ident() {
            Some(ident) => identifier(ident),
            None => part.to_string(),
        })
        .collect();
    match parts.as_slice() {
        [schema, table] if schema == "public" => table.clone(),
        _ => parts.join("."),
    }
}

fn relation(table: &TableWithJoins) -> String {
    match &table.relation {
        TableFactor::Table { name: n, .. } => name(n),
        other => other.to_string(),
    }
}

/// `CASCADE` in a DROP EXTENSION.
fn is_cascade(action: Option<&sqlparser::ast::ReferentialAction>) -> bool {
    matches!(action, Some(sqlparser::ast::ReferentialAction::Cascade))
}
